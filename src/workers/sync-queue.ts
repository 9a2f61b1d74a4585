// The sync jobs of a PostgreSQL install, on pg-boss: any number of `sitepatch worker` processes
// take them. The queue holds one job active per connection (pg-boss's singleton policy keyed by
// the connection), so a connection never has two syncs at once and Defender's per-tenant, per-app
// quotas are spent by one process at a time. A worker's heartbeat keeps its job; when a worker
// dies, its job is retried by another once the heartbeat has lapsed.

import { PgBoss } from 'pg-boss';
import type { QueueStats } from '../ops/metrics.js';
import type { SyncKind } from '../sync/runs.js';

const SYNC_QUEUE = 'sitepatch-sync';
/** The longest a sync may run before the queue gives it to another worker. */
const SYNC_EXPIRE_SECONDS = 6 * 3600;
/** Tries of a job whose worker died (or stopped before finishing): the first and three more. */
const RETRIES = 3;

export interface SyncJob {
  runId: string;
  connectionId: string;
  requested: SyncKind;
}

export interface SyncQueueOptions {
  heartbeatSeconds: number;
  onError: (e: Error) => void;
}

export async function openSyncQueue(url: string, { heartbeatSeconds, onError }: SyncQueueOptions) {
  // The supervisor fails jobs whose heartbeat lapsed: look several times per heartbeat.
  const boss = new PgBoss({ connectionString: url, schema: 'pgboss', superviseIntervalSeconds: Math.max(1, Math.floor(heartbeatSeconds / 5)) });
  boss.on('error', onError);
  await boss.start();
  if (!(await boss.getQueue(SYNC_QUEUE))) {
    // Workers starting together may race to create it: the queue then exists all the same.
    await boss.createQueue(SYNC_QUEUE, { policy: 'singleton', retryLimit: RETRIES, retryDelay: 1, heartbeatSeconds, expireInSeconds: SYNC_EXPIRE_SECONDS })
      .catch(async (e: Error) => { if (!(await boss.getQueue(SYNC_QUEUE))) throw e; });
  }
  return {
    async send(job: SyncJob): Promise<void> {
      await boss.send(SYNC_QUEUE, job, { singletonKey: job.connectionId });
    },

    /** Works jobs `concurrency` at a time; a handler that throws hands its job back for a retry. */
    async work(concurrency: number, handler: (job: SyncJob, signal: AbortSignal) => Promise<void>): Promise<void> {
      await boss.work<SyncJob>(SYNC_QUEUE, { localConcurrency: concurrency, batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
        await handler(job.data, job.signal);
      });
    },

    /** The whole queue's syncs (every worker's): waiting, the oldest waiting's age, and the longest running's. */
    async stats(): Promise<QueueStats> {
      const { rows } = await boss.getDb().executeSql(`SELECT count(*) FILTER (WHERE state IN ('created', 'retry'))::integer AS queued,
          coalesce(extract(epoch FROM now() - min(created_on) FILTER (WHERE state IN ('created', 'retry'))), 0)::float8 AS oldest,
          coalesce(extract(epoch FROM now() - min(started_on) FILTER (WHERE state = 'active')), 0)::float8 AS running
        FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry', 'active')`, [SYNC_QUEUE]);
      const [{ queued, oldest, running }] = rows as { queued: number; oldest: number; running: number }[];
      return { queued: { sync: queued }, oldestQueuedSeconds: oldest, runningSeconds: running };
    },

    /** Stops taking jobs; running ones get `graceSeconds` to finish, then are handed back. */
    stop: (graceSeconds: number) => boss.stop({ graceful: true, timeout: graceSeconds * 1000 }),
  };
}

export type SyncQueue = Awaited<ReturnType<typeof openSyncQueue>>;

/** The queue's stats for the metrics: scrapes within a second of each other share one look at the queue. */
export function throttledQueueStats(queue: Pick<SyncQueue, 'stats'>): () => Promise<QueueStats> {
  let last: { at: number; stats: Promise<QueueStats> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > 1000) last = { at: Date.now(), stats: queue.stats() };
    return last.stats;
  };
}
