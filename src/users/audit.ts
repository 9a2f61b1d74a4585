// The audit log: who did what, from where, when. Details never carry a secret, only that it changed.

import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  address: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  details: Record<string, unknown>;
}

/** Who acted: a name (a user, "user (token …)", "cli", "system") and the address the request came from. */
export type Actor = string | { name: string; address: string | null };

export function createAuditLog(db: Kysely<Database>) {
  const entry = (r: { id: number; at: string; actor: string; address: string | null; action: string; target_type: string; target_id: string | null; details: string }): AuditEntry => ({
    id: r.id, at: r.at, actor: r.actor, address: r.address, action: r.action, targetType: r.target_type, targetId: r.target_id, details: JSON.parse(r.details),
  });

  return {
    async record(actor: Actor, action: string, targetType: string, targetId: string | null, details: Record<string, unknown> = {}): Promise<void> {
      const { name, address } = typeof actor === 'string' ? { name: actor, address: null } : actor;
      await db.insertInto('audit_event').values({
        at: new Date().toISOString(), actor: name, address, action, target_type: targetType, target_id: targetId, details: JSON.stringify(details),
      }).execute();
    },

    /** Newest first; `cursor` is the id of the last entry of the previous page. */
    async list(limit: number, cursor?: number): Promise<{ items: AuditEntry[]; total: number; nextCursor: string | null }> {
      let query = db.selectFrom('audit_event').selectAll().orderBy('id', 'desc').limit(limit + 1);
      if (cursor !== undefined) query = query.where('id', '<', cursor);
      const rows = await query.execute();
      const { n } = await db.selectFrom('audit_event').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const page = rows.slice(0, limit);
      return { items: page.map(entry), total: Number(n), nextCursor: rows.length > limit ? String(page[page.length - 1].id) : null };
    },

    /** The whole log, oldest first, in pages (for exports: memory stays flat). */
    async *pages(size = 1000): AsyncGenerator<AuditEntry[]> {
      for (let after = 0; ;) {
        const rows = await db.selectFrom('audit_event').selectAll().where('id', '>', after).orderBy('id').limit(size).execute();
        if (rows.length) yield rows.map(entry);
        if (rows.length < size) return;
        after = rows[rows.length - 1].id;
      }
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
