// The emulated Entra directory: customer tenants, their app registrations and client secrets.
// Everything is derived from the seed, so the same seed always yields the same ids and secrets.

import { guid, hash, seedFrom } from '../tenant/random.js';

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
}

export interface DirectoryTenant {
  id: string;
  domain: string;
  displayName: string;
  regionScope: string;
  /** Whether the WindowsDefenderATP service principal exists (Defender for Endpoint provisioned). */
  defenderProvisioned: boolean;
  apps: AppRegistration[];
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
      }));
      this.tenants.push({
        id: guid(seed, 0, t),
        domain: `${slug}${t === 0 ? '' : t}.onmicrosoft.com`,
        displayName: provisioned ? company : `${company} (no Defender)`,
        regionScope: t % 2 === 0 ? 'NA' : 'EU',
        defenderProvisioned: provisioned,
        apps,
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
