// The schedule of a PostgreSQL install: every worker ticks, and a session advisory lock lets one
// tick at a time queue the syncs that are due, so that a connection is queued once per interval
// however many workers run. A connection with a run queued or running is not queued again.

import { sql, type Kysely } from 'kysely';
import type { ConnectionService } from '../connections/service.js';
import type { Database } from '../store/schema.js';
import type { RunLog } from '../sync/runs.js';
import { dueConnections } from '../sync/service.js';
import type { SyncQueue } from './sync-queue.js';

/** The advisory lock key of the schedule (any constant the install uses for nothing else). */
const SCHEDULE_LOCK = 0x5173_6368;
/** A run still queued this long after it was made is sent to the queue again. */
const LOST_JOB_MS = 10 * 60_000;

export interface ScheduleDeps {
  db: Kysely<Database>;
  connections: ConnectionService;
  runs: RunLog;
  queue: Pick<SyncQueue, 'send'>;
}

/** Queues a sync of each connection due at `now`; answers the runs queued (none when another tick holds the lock). */
export async function queueDueSyncs({ db, connections, runs, queue }: ScheduleDeps, now = Date.now()): Promise<string[]> {
  return db.connection().execute(async (session) => {
    const { locked } = (await sql<{ locked: boolean }>`SELECT pg_try_advisory_lock(${SCHEDULE_LOCK}) AS locked`.execute(session)).rows[0];
    if (!locked) return [];
    try {
      const queued: string[] = [];
      for (const connection of await dueConnections(connections, runs, now)) {
        const active = await runs.active(connection.id);
        // A run queued long ago may have lost its job (its process died between the two writes):
        // sending it again is safe, since a worker skips a run that has already finished.
        if (active?.status === 'queued' && now - Date.parse(active.createdAt) > LOST_JOB_MS) await queue.send({ runId: active.runId, connectionId: connection.id, requested: active.requested });
        if (active) continue;
        const runId = await runs.create(connection.id, 'auto', 'schedule');
        await queue.send({ runId, connectionId: connection.id, requested: 'auto' });
        queued.push(runId);
      }
      return queued;
    } finally {
      await sql`SELECT pg_advisory_unlock(${SCHEDULE_LOCK})`.execute(session);
    }
  });
}
