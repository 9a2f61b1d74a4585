// Roles and connection scopes of users who sign in with Entra ID. The SitePatch app registration
// defines app roles (SitePatch.Admin, SitePatch.Operator, SitePatch.Analyst) that admins assign in
// Enterprise applications; Entra groups can grant a role and limit the user to some connections
// (a service provider's group per customer). The highest role granted wins.

import { ROLES, type ConnectionScope, type Role } from './principal.js';

export const APP_ROLES: Record<string, Role> = { 'SitePatch.Admin': 'admin', 'SitePatch.Operator': 'operator', 'SitePatch.Analyst': 'analyst' };

export interface EntraRoleMap {
  /** Entra group object id → the role its members get. */
  groupRoles: Record<string, Role>;
  /** Entra group object id → the connections its members may see. */
  groupConnections: Record<string, string[]>;
}

export function entraRole(identity: { roles: string[]; groups: string[] }, map: EntraRoleMap): Role | undefined {
  const granted = [...identity.roles.map((r) => APP_ROLES[r]), ...identity.groups.map((g) => map.groupRoles[g])].filter((r): r is Role => Boolean(r));
  return [...ROLES].reverse().find((role) => granted.includes(role));
}

/**
 * The connections of the user's scoped groups, applied at every sign-in; undefined when none of
 * their groups is scoped (then the scope an administrator set in SitePatch stays, all by default).
 */
export function entraScope(identity: { groups: string[] }, map: EntraRoleMap): ConnectionScope | undefined {
  const scoped = identity.groups.filter((g) => map.groupConnections[g]);
  return scoped.length ? [...new Set(scoped.flatMap((g) => map.groupConnections[g]))] : undefined;
}
