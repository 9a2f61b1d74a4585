// The emulated Entra directory: customer tenants, their app registrations and client secrets, and
// in the main tenant the console's sign-in app with its test users. Everything is derived from the
// seed, so the same seed always yields the same ids, secrets and passwords.

import { guid, hash, seedFrom } from '../world/random.js';

export const DEFENDER_APP_ID = 'fc780465-2017-40d4-a0c5-307022471b92';
export const VULNERABILITY_READ_ALL = 'Vulnerability.Read.All';

export interface ClientSecret {
  /** The "Secret ID" shown in the portal: a GUID, and not what a client must send. */
  id: string;
  /** The secret "Value", shown once at creation. */
  value: string;
  /** ms since epoch; null when the secret never expires. */
  expiresAt: number | null;
}

export interface AppRegistration {
  clientId: string;
  objectId: string;
  displayName: string;
  secrets: ClientSecret[];
  /** Application permissions on WindowsDefenderATP with admin consent granted; empty = no consent. */
  roles: string[];
  enabled: boolean;
  /** Web platform redirect URIs (Authentication blade); empty for daemon apps. */
  redirectUris: string[];
  /** Roles the app defines for its users ("App roles" blade), unlike `roles`, which it holds itself. */
  appRoles: AppRole[];
  /** Enterprise application → Properties → "Assignment required?": only assigned users may sign in. */
  assignmentRequired: boolean;
}

export interface AppRole {
  id: string;
  value: string;
  displayName: string;
  description: string;
}

export interface DirectoryUser {
  objectId: string;
  userPrincipalName: string;
  displayName: string;
  password: string;
  /** Object ids of the security groups the user belongs to. */
  groups: string[];
  /** Enterprise applications → the app → Users and groups. */
  appRoleAssignments: { clientId: string; appRoleId: string }[];
}

export interface DirectoryTenant {
  id: string;
  domain: string;
  displayName: string;
  regionScope: string;
  /** Whether the WindowsDefenderATP service principal exists (Defender for Endpoint provisioned). */
  defenderProvisioned: boolean;
  apps: AppRegistration[];
  /** The console's sign-in app (also in `apps`); only in the main tenant. */
  signInApp?: AppRegistration;
  users: DirectoryUser[];
  /** Seed of this tenant's device data. */
  dataSeed: number;
}

/** The apps every provisioned tenant has, one per setup case the console must diagnose. */
export const APP_CASES = ['consented', 'noConsent', 'expiredSecret', 'disabled'] as const;
export type AppCase = (typeof APP_CASES)[number];

const SECRET_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~';
const DAY = 24 * 3600_000;

/** A secret value in Entra's shape: three characters, a digit, "Q~", then 34 more. */
function secretValue(seed: number, ...coords: number[]): string {
  const char = (n: number) => SECRET_ALPHABET[hash(seed, 7000 + coords[0], coords[1] ?? 0, n) % SECRET_ALPHABET.length];
  let value = '';
  for (let n = 0; n < 3; n++) value += char(n).replace(/[-_.~]/, 'x');
  value += String(hash(seed, 7100, coords[0], coords[1] ?? 0) % 10) + 'Q~';
  for (let n = 3; n < 37; n++) value += char(n);
  return value;
}

/** The console's redirect URIs. Entra ignores the port of loopback ones (RFC 8252 §7.3), so any console port matches. */
export const SIGN_IN_REDIRECT_URIS = ['http://localhost/api/v1/auth/entra/callback', 'http://127.0.0.1/api/v1/auth/entra/callback'];

const SIGN_IN_ROLES = [
  { value: 'SitePatch.Admin', displayName: 'SitePatch administrator', description: 'Manages settings, connections and users.' },
  { value: 'SitePatch.Operator', displayName: 'SitePatch operator', description: 'Plans and runs remediations.' },
  { value: 'SitePatch.Analyst', displayName: 'SitePatch analyst', description: 'Reads exposure and reports.' },
];

const GROUPS = ['SitePatch Admins', 'SitePatch Operators', 'SitePatch Analysts', 'All Staff'];

/** One test user per role, and one with no role assignment at all. */
const TEST_USERS = [
  { alias: 'alice', displayName: 'Alice Adams', role: 'SitePatch.Admin', groups: ['SitePatch Admins', 'All Staff'] },
  { alias: 'otto', displayName: 'Otto Olsen', role: 'SitePatch.Operator', groups: ['SitePatch Operators', 'All Staff'] },
  { alias: 'ana', displayName: 'Ana Alves', role: 'SitePatch.Analyst', groups: ['SitePatch Analysts', 'All Staff'] },
  { alias: 'nora', displayName: 'Nora Nash', role: undefined, groups: ['All Staff'] },
];

const PASSWORD_ALPHABET = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A password that meets Entra's complexity rules: 12 letters and digits, then "!". */
function password(seed: number, user: number): string {
  let value = '';
  for (let n = 0; n < 12; n++) value += PASSWORD_ALPHABET[hash(seed, 7200, user, n) % PASSWORD_ALPHABET.length];
  return value + '!';
}

/** The "SitePatch console" web app of the main tenant and its users. */
function signInDirectory(seed: number, domain: string, now: number): { app: AppRegistration; users: DirectoryUser[] } {
  const a = 100; // coordinates clear of the daemon apps' (0 to 3)
  const app: AppRegistration = {
    clientId: guid(seed, 1, 0, a),
    objectId: guid(seed, 2, 0, a),
    displayName: 'SitePatch console',
    secrets: [{ id: guid(seed, 3, 0, a), value: secretValue(seed, 0, a), expiresAt: now + 365 * DAY }],
    roles: [],
    enabled: true,
    redirectUris: [...SIGN_IN_REDIRECT_URIS],
    appRoles: SIGN_IN_ROLES.map((role, r) => ({ id: guid(seed, 11, r), ...role })),
    assignmentRequired: false,
  };
  const users = TEST_USERS.map((user, u): DirectoryUser => ({
    objectId: guid(seed, 12, u),
    userPrincipalName: `${user.alias}@${domain}`,
    displayName: user.displayName,
    password: password(seed, u),
    groups: user.groups.map((name) => guid(seed, 13, GROUPS.indexOf(name))),
    appRoleAssignments: app.appRoles.filter((role) => role.value === user.role).map((role) => ({ clientId: app.clientId, appRoleId: role.id })),
  }));
  return { app, users };
}

/** The values of the app roles the user is assigned in the app: the `roles` claim of their tokens. */
export function assignedRoles(user: DirectoryUser, app: AppRegistration): string[] {
  return app.appRoles.filter((role) => user.appRoleAssignments.some((a) => a.clientId === app.clientId && a.appRoleId === role.id)).map((role) => role.value);
}

const COMPANIES = ['Contoso', 'Fabrikam', 'Northwind Traders', 'Adventure Works', 'Tailspin Toys', 'Woodgrove Bank', 'Litware', 'Proseware'];

export class Directory {
  readonly tenants: DirectoryTenant[] = [];

  constructor(seedText: string, customerTenants: number, now = Date.now()) {
    const seed = seedFrom(seedText);
    for (let t = 0; t <= customerTenants; t++) {
      // The last tenant never provisioned Defender for Endpoint (AADSTS500011 for its scope).
      const provisioned = t < customerTenants;
      const company = COMPANIES[t % COMPANIES.length] + (t >= COMPANIES.length ? ` ${Math.floor(t / COMPANIES.length) + 1}` : '');
      const slug = company.toLowerCase().replace(/[^a-z0-9]/g, '');
      const apps: AppRegistration[] = (provisioned ? APP_CASES : (['consented'] as const)).map((kind, a) => ({
        clientId: guid(seed, 1, t, a),
        objectId: guid(seed, 2, t, a),
        displayName: `sitepatch-${kind.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
        secrets: [{
          id: guid(seed, 3, t, a),
          value: secretValue(seed, t, a),
          expiresAt: kind === 'expiredSecret' ? now - 2 * DAY : now + 365 * DAY,
        }],
        roles: kind === 'noConsent' ? [] : [VULNERABILITY_READ_ALL, 'Machine.Read.All', 'Software.Read.All'],
        enabled: kind !== 'disabled',
        redirectUris: [],
        appRoles: [],
        assignmentRequired: false,
      }));
      const domain = `${slug}${t === 0 ? '' : t}.onmicrosoft.com`;
      const signIn = t === 0 ? signInDirectory(seed, domain, now) : undefined;
      this.tenants.push({
        id: guid(seed, 0, t),
        domain,
        displayName: provisioned ? company : `${company} (no Defender)`,
        regionScope: t % 2 === 0 ? 'NA' : 'EU',
        defenderProvisioned: provisioned,
        apps: signIn ? [...apps, signIn.app] : apps,
        signInApp: signIn?.app,
        users: signIn?.users ?? [],
        dataSeed: seed + t,
      });
    }
  }

  /** Looks a tenant up by GUID or domain, case-insensitively. */
  find(identifier: string): DirectoryTenant | undefined {
    const wanted = identifier.toLowerCase();
    return this.tenants.find((t) => t.id === wanted || t.domain === wanted);
  }

  byId(id: string): DirectoryTenant | undefined {
    return this.tenants.find((t) => t.id === id.toLowerCase());
  }
}
