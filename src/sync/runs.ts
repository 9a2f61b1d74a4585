// The sync run history: one row per run, with its phase, counters and outcome, updated live.

import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Diagnosis } from '../connections/diagnosis.js';
import type { Database, SyncRunTable } from '../store/schema.js';
import type { WriteCounts } from './run-writer.js';

export type SyncKind = SyncRunTable['requested'];

export interface SyncRunView {
  runId: string;
  connectionId: string;
  kind: SyncRunTable['kind'];
  requested: SyncKind;
  trigger: string;
  status: SyncRunTable['status'];
  phase: string;
  startedAt: string | null;
  finishedAt: string | null;
  parts: { done: number; total: number };
  counts: { read: number; added: number; fixed: number; updated: number; reopened: number };
  /** Rows read per second so far (or overall, once finished). */
  rate: number;
  error: { code: string; message: string; fix: string | null } | null;
  createdAt: string;
}

function view(r: Selectable<SyncRunTable>): SyncRunView {
  const end = r.finished_at ? Date.parse(r.finished_at) : Date.now();
  const seconds = r.started_at ? Math.max(0.001, (end - Date.parse(r.started_at)) / 1000) : 0;
  return {
    runId: r.id, connectionId: r.connection_id, kind: r.kind, requested: r.requested, trigger: r.trigger, status: r.status, phase: r.phase,
    startedAt: r.started_at, finishedAt: r.finished_at, parts: { done: r.parts_done, total: r.parts_total },
    counts: { read: r.rows_read, added: r.rows_added, fixed: r.rows_fixed, updated: r.rows_updated, reopened: r.rows_reopened },
    rate: seconds ? Math.round(r.rows_read / seconds) : 0,
    error: r.error_code ? { code: r.error_code, message: r.error_message ?? '', fix: r.error_fix } : null,
    createdAt: r.created_at,
  };
}

export function createRunLog(db: Kysely<Database>) {
  const now = () => new Date().toISOString();
  return {
    async create(connectionId: string, requested: SyncKind, trigger: string): Promise<string> {
      const id = randomUUID();
      await db.insertInto('sync_run').values({
        id, connection_id: connectionId, kind: requested === 'auto' ? 'full' : requested, requested, trigger, status: 'queued', phase: 'queued',
        started_at: null, finished_at: null, heartbeat_at: null, parts_total: 0, parts_done: 0, rows_read: 0, rows_added: 0, rows_fixed: 0,
        rows_updated: 0, rows_reopened: 0, error_code: null, error_message: null, error_fix: null, created_at: now(),
      }).execute();
      return id;
    },

    async start(id: string, kind: SyncRunTable['kind']): Promise<void> {
      await db.updateTable('sync_run').set({ status: 'running', kind, phase: 'starting', started_at: now(), heartbeat_at: now() }).where('id', '=', id).execute();
    },

    async progress(id: string, update: { phase?: string; kind?: SyncRunTable['kind']; partsTotal?: number; partsDone?: number; counts?: WriteCounts }): Promise<void> {
      await db.updateTable('sync_run').set({
        heartbeat_at: now(),
        ...(update.kind !== undefined ? { kind: update.kind } : {}),
        ...(update.phase !== undefined ? { phase: update.phase } : {}),
        ...(update.partsTotal !== undefined ? { parts_total: update.partsTotal } : {}),
        ...(update.partsDone !== undefined ? { parts_done: update.partsDone } : {}),
        ...(update.counts ? {
          rows_read: update.counts.read, rows_added: update.counts.added, rows_fixed: update.counts.fixed,
          rows_updated: update.counts.updated, rows_reopened: update.counts.reopened,
        } : {}),
      }).where('id', '=', id).execute();
    },

    async finish(id: string, outcome: { counts: WriteCounts; failure?: Diagnosis }): Promise<void> {
      const { counts, failure } = outcome;
      await db.updateTable('sync_run').set({
        status: failure ? 'failed' : 'succeeded', phase: failure ? 'failed' : 'done', finished_at: now(),
        rows_read: counts.read, rows_added: failure ? 0 : counts.added, rows_fixed: failure ? 0 : counts.fixed,
        rows_updated: failure ? 0 : counts.updated, rows_reopened: failure ? 0 : counts.reopened,
        error_code: failure?.code ?? null, error_message: failure?.message ?? null, error_fix: failure?.fix ?? null,
      }).where('id', '=', id).execute();
    },

    /** Runs a previous process left queued or running: marked failed; returns them for a retry. */
    async markInterrupted(): Promise<Selectable<SyncRunTable>[]> {
      const stale = await db.selectFrom('sync_run').selectAll().where('status', 'in', ['queued', 'running']).execute();
      for (const run of stale) {
        await db.updateTable('sync_run').set({
          status: 'failed', phase: 'interrupted', finished_at: now(), rows_added: 0, rows_fixed: 0, rows_updated: 0, rows_reopened: 0,
          error_code: 'sync_interrupted',
          error_message: run.status === 'running' ? 'The SitePatch process stopped during this sync; nothing of it was applied.' : 'The SitePatch process stopped before this sync began.',
          error_fix: 'SitePatch retries it automatically after a restart.',
        }).where('id', '=', run.id).execute();
      }
      return stale;
    },

    async get(id: string): Promise<SyncRunView | undefined> {
      const row = await db.selectFrom('sync_run').selectAll().where('id', '=', id).executeTakeFirst();
      return row && view(row);
    },

    async active(connectionId: string): Promise<SyncRunView | undefined> {
      const row = await db.selectFrom('sync_run').selectAll().where('connection_id', '=', connectionId).where('status', 'in', ['queued', 'running']).executeTakeFirst();
      return row && view(row);
    },

    async lastSucceeded(connectionId: string): Promise<SyncRunView | undefined> {
      const row = await db.selectFrom('sync_run').selectAll().where('connection_id', '=', connectionId).where('status', '=', 'succeeded')
        .orderBy('created_at', 'desc').limit(1).executeTakeFirst();
      return row && view(row);
    },

    /** Newest first; the cursor is the created_at of the last item of the previous page. */
    async list(connectionId: string, limit: number, cursor?: string): Promise<{ items: SyncRunView[]; total: number; nextCursor: string | null }> {
      let query = db.selectFrom('sync_run').selectAll().where('connection_id', '=', connectionId).orderBy('created_at', 'desc').limit(limit + 1);
      if (cursor) query = query.where('created_at', '<', cursor);
      const rows = await query.execute();
      const { n } = await db.selectFrom('sync_run').select((eb) => eb.fn.countAll<number>().as('n')).where('connection_id', '=', connectionId).executeTakeFirstOrThrow();
      const page = rows.slice(0, limit);
      return { items: page.map(view), total: Number(n), nextCursor: rows.length > limit ? page[page.length - 1].created_at : null };
    },
  };
}

export type RunLog = ReturnType<typeof createRunLog>;
