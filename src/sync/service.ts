// Sync scheduling: "sync now" requests and each connection's interval feed one queue, worked one
// run at a time (runs write the same findings.db). A connection never has two runs at once. Runs a
// stopped process left behind are marked interrupted and retried on start.

import type { ConnectionService } from '../connections/service.js';
import type { Metrics, QueueStats } from '../ops/metrics.js';
import type { EngineContext, RunResult } from './engine.js';
import { executeRun } from './engine.js';
import { noCounts } from './run-writer.js';
import type { RunLog, SyncKind } from './runs.js';

/** Store work the queue runs between syncs, so that it never lands inside a sync's transaction. */
export interface Maintenance {
  /** Maps every finding to its remediation again (the patch knowledge changed). */
  remap(): void;
  /** Scores every remediation again (the risk settings changed). */
  rescore(): void;
  /** Counts once the remediations of findings synced before remediations existed. */
  backfill(): void;
  /** Removes a removed connection's findings; answers how many. */
  purge(connectionId: string): number;
}

export interface SyncServiceDeps {
  engine: EngineContext;
  maintenance: Maintenance;
  runs: RunLog;
  connections: ConnectionService;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void; error(o: object, msg: string): void };
  /** Counts each finished run. */
  metrics?: Pick<Metrics, 'syncFinished'>;
}

export const SCHEDULER_TICK_MS = 30_000;

/** The connections whose sync interval has passed at `now` since their last successful sync began. */
export async function dueConnections(connections: ConnectionService, runs: RunLog, now: number) {
  const due = [];
  for (const connection of (await connections.list()).items) {
    const last = await runs.lastSucceeded(connection.id);
    if (!last || now - Date.parse(last.createdAt) >= connection.syncIntervalMinutes * 60_000) due.push(connection);
  }
  return due;
}

export function createSyncService({ engine, maintenance, runs, connections, log, metrics }: SyncServiceDeps) {
  type Work = { kind: 'sync'; runId: string; connectionId: string; requested: SyncKind; now?: number } | { kind: 'purge'; connectionId: string }
    | { kind: 'remap' } | { kind: 'rescore' } | { kind: 'backfill' };
  type Job = Work & { queuedAt: number };
  const queue: Job[] = [];
  /** When the job being worked started (0: none). */
  let runningSince = 0;
  const enqueue = (work: Work) => {
    queue.push({ ...work, queuedAt: Date.now() });
    kick();
  };
  const controller = new AbortController();
  let working: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const listeners = new Set<(runId: string, result: RunResult) => void>();

  async function work(): Promise<void> {
    for (let next = queue.shift(); next && !controller.signal.aborted; next = queue.shift()) {
      runningSince = Date.now();
      if (next.kind === 'remap' || next.kind === 'rescore' || next.kind === 'backfill') {
        try {
          maintenance[next.kind]();
        } catch (e) {
          const what = { remap: 'mapping the findings to remediations again', rescore: 'scoring the remediations again', backfill: 'counting the remediations of earlier syncs' };
          log.error({ err: e }, `${what[next.kind]} failed`);
        }
        continue;
      }
      if (next.kind === 'purge') {
        try {
          const findings = maintenance.purge(next.connectionId);
          log.info({ connectionId: next.connectionId, findings }, 'removed connection\'s findings purged');
        } catch (e) {
          log.error({ err: e, connectionId: next.connectionId }, 'purging a removed connection\'s findings failed');
        }
        continue;
      }
      try {
        const credentials = await connections.credentials(next.connectionId);
        const result = await executeRun(engine, { ...next, credentials, signal: controller.signal });
        // Stopped by a shutdown: leave the run "running", so the next start marks it interrupted and retries it.
        if (controller.signal.aborted) break;
        metrics?.syncFinished(next.requested, result, (Date.now() - runningSince) / 1000);
        await runs.finish(next.runId, result.ok ? { counts: result.counts } : { counts: result.counts, failure: result.diagnosis });
        log[result.ok ? 'info' : 'warn']({ runId: next.runId, connectionId: next.connectionId, counts: result.counts, error: result.ok ? undefined : result.diagnosis.code }, 'sync finished');
        for (const listener of listeners) listener(next.runId, result);
      } catch (e) {
        log.error({ err: e, runId: next.runId }, 'sync crashed');
        await runs.finish(next.runId, {
          counts: noCounts(),
          failure: { code: 'api_error', step: 'network', message: `The sync could not run: ${(e as Error).message}`, fix: 'Check the connection in Defender Access Settings, then sync again.' },
        }).catch(() => undefined);
      }
    }
  }

  /** Works the queue unless it is already being worked; jobs queued as it finishes start a new round. */
  function kick(): void {
    if (working || controller.signal.aborted) return;
    working = work().finally(() => {
      working = undefined;
      runningSince = 0;
      if (queue.length) kick();
    });
  }

  async function request(connectionId: string, requested: SyncKind, trigger: string, options: { now?: number } = {}): Promise<string> {
    await connections.get(connectionId);
    const active = await runs.active(connectionId);
    if (active) return active.runId;
    const runId = await runs.create(connectionId, requested, trigger);
    enqueue({ kind: 'sync', runId, connectionId, requested, now: options.now });
    return runId;
  }

  /** Requests an automatic sync for every connection whose interval has passed. */
  async function tick(): Promise<void> {
    for (const connection of await dueConnections(connections, runs, Date.now())) await request(connection.id, 'auto', 'schedule');
  }

  return {
    request,

    /** Queues the purge of a removed connection's findings (after any run already queued). */
    async purge(connectionId: string): Promise<void> {
      enqueue({ kind: 'purge', connectionId });
    },

    /**
     * Maps every finding to its remediation again (the patch knowledge changed), on the queue so
     * that it never lands inside a running sync's transaction.
     */
    remapRemediations(): void {
      if (queue.some((job) => job.kind === 'remap')) return;
      enqueue({ kind: 'remap' });
    },

    /** Scores every remediation again (the risk settings changed), on the queue like remapRemediations. */
    rescoreRemediations(): void {
      if (queue.some((job) => job.kind === 'rescore')) return;
      enqueue({ kind: 'rescore' });
    },

    /** Marks runs of a stopped process interrupted, retries them, and (optionally) starts the schedule. */
    async start(schedule: boolean): Promise<void> {
      // Findings synced before remediations existed are counted once.
      enqueue({ kind: 'backfill' });
      for (const run of await runs.markInterrupted()) {
        log.warn({ runId: run.id, connectionId: run.connection_id }, 'sync was interrupted by a stop; retrying');
        await request(run.connection_id, run.requested, 'retry after interruption').catch(() => undefined);
      }
      if (schedule) {
        const safeTick = () => void tick().catch((e) => log.error({ err: e }, 'sync scheduler failed'));
        safeTick();
        timer = setInterval(safeTick, SCHEDULER_TICK_MS);
      }
    },

    /** What the queue holds now, for the metrics. */
    queueStats(): QueueStats {
      const now = Date.now();
      const queued: Record<string, number> = {};
      for (const job of queue) queued[job.kind] = (queued[job.kind] ?? 0) + 1;
      return {
        queued,
        oldestQueuedSeconds: queue.length ? (now - Math.min(...queue.map((job) => job.queuedAt))) / 1000 : 0,
        runningSeconds: runningSince ? (now - runningSince) / 1000 : 0,
      };
    },

    onFinished(listener: (runId: string, result: RunResult) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      controller.abort(new Error('SitePatch is shutting down.'));
      await working;
    },
  };
}

export type SyncService = ReturnType<typeof createSyncService>;

/** What the console's routes ask of the syncs, on either store (a PostgreSQL install's web processes queue them: workers/queued-sync.ts). */
export type SyncRequests = Pick<SyncService, 'request' | 'purge' | 'rescoreRemediations'>;
