// The audit log: who changed what, when. Details never carry a secret, only that it changed.

import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string | null;
  details: Record<string, unknown>;
}

export function createAuditLog(db: Kysely<Database>) {
  return {
    async record(actor: string, action: string, targetType: string, targetId: string | null, details: Record<string, unknown> = {}): Promise<void> {
      await db.insertInto('audit_event').values({
        at: new Date().toISOString(), actor, action, target_type: targetType, target_id: targetId, details: JSON.stringify(details),
      }).execute();
    },

    /** Newest first; `cursor` is the id of the last entry of the previous page. */
    async list(limit: number, cursor?: number): Promise<{ items: AuditEntry[]; total: number; nextCursor: string | null }> {
      let query = db.selectFrom('audit_event').selectAll().orderBy('id', 'desc').limit(limit + 1);
      if (cursor !== undefined) query = query.where('id', '<', cursor);
      const rows = await query.execute();
      const { n } = await db.selectFrom('audit_event').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const page = rows.slice(0, limit);
      return {
        items: page.map((r) => ({ id: r.id, at: r.at, actor: r.actor, action: r.action, targetType: r.target_type, targetId: r.target_id, details: JSON.parse(r.details) })),
        total: Number(n),
        nextCursor: rows.length > limit ? String(page[page.length - 1].id) : null,
      };
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
