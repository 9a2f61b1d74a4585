// Console-wide security settings an administrator can change: whether local accounts must use
// two-step verification, and how long sessions last (idle and absolute).

import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

export interface SecuritySettings {
  requireMfaForLocalAccounts: boolean;
  idleTimeoutMinutes: number;
  absoluteTimeoutHours: number;
}

/** ASVS level 2: sign in again after 30 idle minutes, and at least every 12 hours. */
export const SECURITY_DEFAULTS: SecuritySettings = { requireMfaForLocalAccounts: false, idleTimeoutMinutes: 30, absoluteTimeoutHours: 12 };

export const SECURITY_LIMITS = {
  idleTimeoutMinutes: { min: 5, max: 1440, say: (min: number, max: number) => `The idle timeout is a whole number of minutes from ${min} to ${max}.` },
  absoluteTimeoutHours: { min: 1, max: 168, say: (min: number, max: number) => `The absolute timeout is a whole number of hours from ${min} to ${max}.` },
} as const;

const KEY = 'security';

export class SettingsInputError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

export function createSecuritySettings(db: Kysely<Database>) {
  let cached: SecuritySettings | undefined;

  async function get(): Promise<SecuritySettings> {
    if (cached) return cached;
    const row = await db.selectFrom('setting').select('value').where('key', '=', KEY).executeTakeFirst();
    cached = { ...SECURITY_DEFAULTS, ...(row ? JSON.parse(row.value) as Partial<SecuritySettings> : {}) };
    return cached;
  }

  return {
    get,

    /** Validates and stores a change; answers the settings after it and what changed. */
    async update(change: Partial<SecuritySettings>): Promise<{ settings: SecuritySettings; changes: Record<string, { from: unknown; to: unknown }> }> {
      const before = await get();
      for (const [field, { min, max, say }] of Object.entries(SECURITY_LIMITS)) {
        const value = change[field as keyof typeof SECURITY_LIMITS];
        if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) throw new SettingsInputError(field, say(min, max));
      }
      const after = { ...before, ...Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) } as SecuritySettings;
      await db.insertInto('setting').values({ key: KEY, value: JSON.stringify(after) })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(after) })).execute();
      cached = after;
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      for (const key of Object.keys(after) as (keyof SecuritySettings)[]) if (before[key] !== after[key]) changes[key] = { from: before[key], to: after[key] };
      return { settings: after, changes };
    },
  };
}

export type SecuritySettingsStore = ReturnType<typeof createSecuritySettings>;
