// Slows down password guessing without letting anyone lock an account out. Attempts are counted
// in the database (they survive a restart and the count is shared by every request) per address,
// per account, and per account and address. Each key allows a few free failures, then every
// further attempt must wait twice as long as the one before, up to a cap. An account's own cap is
// short, and a browser that has signed in to the account before (its device cookie) is counted on
// its own, so failures from elsewhere cannot keep the real user out.

import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

interface Rule {
  free: number;
  baseMs: number;
  capMs: number;
}

const MINUTE = 60_000;
/** A key's failures are forgotten this long after its last one. */
const FORGET_MS = 15 * MINUTE;
const RULES: Record<string, Rule> = {
  address: { free: 10, baseMs: 1000, capMs: 15 * MINUTE },
  account: { free: 5, baseMs: 1000, capMs: MINUTE },
  pair: { free: 5, baseMs: 2000, capMs: 15 * MINUTE },
  device: { free: 5, baseMs: 1000, capMs: MINUTE },
};

export type ThrottleKind = keyof typeof RULES;
export interface ThrottleKey {
  kind: ThrottleKind;
  id: string;
}

const keyText = (key: ThrottleKey) => `${key.kind}:${key.id}`;
const delayAfter = (failures: number, rule: Rule) => (failures < rule.free ? 0 : Math.min(rule.capMs, rule.baseMs * 2 ** (failures - rule.free)));

export function createLoginThrottle(db: Kysely<Database>, now = () => Date.now()) {
  let prunedAt = 0;

  return {
    /**
     * Counts an attempt against every key, as a failure until `succeeded` takes it back; answers
     * the seconds to wait instead when a key is still slowed down (then nothing is counted).
     * Check and count are one transaction, so concurrent attempts cannot all pass.
     */
    async attempt(keys: ThrottleKey[]): Promise<{ retryAfterSeconds: number } | undefined> {
      const at = now();
      return db.transaction().execute(async (trx) => {
        if (at - prunedAt > MINUTE) {
          prunedAt = at;
          await trx.deleteFrom('login_throttle').where('last_at', '<', at - FORGET_MS).where('next_at', '<', at).execute();
        }
        const rows = await trx.selectFrom('login_throttle').selectAll().where('key', 'in', keys.map(keyText)).execute();
        const current = new Map(rows.filter((r) => r.last_at >= at - FORGET_MS || r.next_at > at).map((r) => [r.key, r]));
        let waitMs = 0;
        for (const key of keys) {
          const row = current.get(keyText(key));
          if (row && row.failures >= RULES[key.kind].free && row.next_at > at) waitMs = Math.max(waitMs, row.next_at - at);
        }
        if (waitMs > 0) return { retryAfterSeconds: Math.ceil(waitMs / 1000) };
        for (const key of keys) {
          const failures = (current.get(keyText(key))?.failures ?? 0) + 1;
          const next_at = at + delayAfter(failures, RULES[key.kind]);
          await trx.insertInto('login_throttle').values({ key: keyText(key), failures, next_at, last_at: at })
            .onConflict((oc) => oc.column('key').doUpdateSet({ failures, next_at, last_at: at })).execute();
        }
        return undefined;
      });
    },

    /** The attempt was right: the account's keys start afresh; the address only gets its one attempt back. */
    async succeeded(keys: ThrottleKey[]): Promise<void> {
      const forget = keys.filter((k) => k.kind !== 'address').map(keyText);
      if (forget.length) await db.deleteFrom('login_throttle').where('key', 'in', forget).execute();
      const address = keys.filter((k) => k.kind === 'address').map(keyText);
      if (address.length) {
        await db.updateTable('login_throttle').set((eb) => ({ failures: eb('failures', '-', 1) })).where('key', 'in', address).where('failures', '>', 0).execute();
      }
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
