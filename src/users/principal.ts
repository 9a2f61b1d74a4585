// Who is calling and what they may see: a role (what they may do) and a connection scope (which
// tenants' data they may read). The server checks both in one place (server/auth.ts).

import type { Role } from '../store/schema.js';

export type { Role };

/** Ascending rights: each role may do what the ones before it may. */
export const ROLES = ['analyst', 'operator', 'admin'] as const satisfies readonly Role[];

export const ROLE_LABELS: Record<Role, string> = {
  admin: 'administrator (everything)',
  operator: 'operator (sync and remediation work; no connection secrets, no users)',
  analyst: 'analyst (read-only)',
};

export const atLeast = (role: Role, required: Role) => ROLES.indexOf(role) >= ROLES.indexOf(required);
export const lowerRole = (a: Role, b: Role): Role => (atLeast(a, b) ? b : a);

/** The connections a principal may see: null means all of them. */
export type ConnectionScope = string[] | null;

/** The scope both `a` and `b` allow. */
export function intersectScopes(a: ConnectionScope, b: ConnectionScope): ConnectionScope {
  if (a === null) return b;
  if (b === null) return a;
  return a.filter((id) => b.includes(id));
}

export const inScope = (scope: ConnectionScope, connectionId: string) => scope === null || scope.includes(connectionId);

export interface Principal {
  userId: number;
  username: string;
  displayName: string | null;
  role: Role;
  source: 'local' | 'entra';
  connectionIds: ConnectionScope;
  /** "session" (cookie; state changes need the CSRF header) or "token" (Authorization header). */
  via: 'session' | 'token';
  /** The session's public id. */
  sessionId?: string;
  csrfToken?: string;
  tokenId?: number;
  /** An administrator requires MFA and this user has none yet: only enrolment is open. */
  mustEnrolMfa: boolean;
  /** Who to name in the audit log. */
  actor: string;
}
