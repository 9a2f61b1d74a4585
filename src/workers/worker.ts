// `sitepatch worker`: a process that runs the sync jobs of a PostgreSQL install (sync-queue.ts),
// several at once, and ticks the schedule (scheduler.ts). It serves no pages; any number of them
// run beside the web processes, on any machine that reaches the database and Defender, with the
// install's master key (SITEPATCH_MASTER_KEY or _FILE) to open the connections' secrets.

import { checkConnection } from '../connections/check.js';
import { createSecretBox, loadMasterKey } from '../connections/secret-box.js';
import { createConnectionService } from '../connections/service.js';
import type { Settings } from '../config/settings.js';
import { createDispatcher, extraCaPem } from '../net/dispatcher.js';
import { openPostgresStore } from '../store/postgres/store.js';
import { executeRun, type EngineContext } from '../sync/engine.js';
import { ParserThreads } from '../sync/parser-threads.js';
import { noCounts } from '../sync/run-writer.js';
import { createRunLog } from '../sync/runs.js';
import { SCHEDULER_TICK_MS } from '../sync/service.js';
import { createAuditLog } from '../users/audit.js';
import { queueDueSyncs } from './scheduler.js';
import { openSyncQueue, type SyncJob } from './sync-queue.js';

export interface WorkerLog {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
  error(o: object, msg: string): void;
}

/** How long a stopping worker lets its running syncs finish before handing them back to the queue. */
const STOP_GRACE_SECONDS = 20;

export async function startWorker(settings: Settings, log: WorkerLog, extraCaPems: string[] = []) {
  if (!settings.databaseUrl) throw new Error('A worker runs the jobs of a PostgreSQL install: set SITEPATCH_DATABASE_URL=postgres://…');
  // A key made on this machine would open none of the secrets the other processes sealed.
  if (!settings.masterKey && !settings.masterKeyFile) {
    throw new Error('A worker opens the connections\' secrets with the install\'s master key: set SITEPATCH_MASTER_KEY or SITEPATCH_MASTER_KEY_FILE to the key the other SitePatch processes use.');
  }
  const secrets = createSecretBox(loadMasterKey(settings.dataDir, { key: settings.masterKey, file: settings.masterKeyFile }));
  // Each running sync holds a connection for its transaction and uses a few more for its run log.
  const store = await openPostgresStore(settings.databaseUrl, settings.workerSyncs * 3 + 2);
  const extraCa = extraCaPem(settings, extraCaPems);
  const dispatcher = createDispatcher({ extraCaPem: extraCa, proxyUrl: settings.httpsProxy });
  const connections = createConnectionService({
    db: store.db, secrets, audit: createAuditLog(store.db),
    check: (target) => checkConnection(target, { dispatcher, proxyUrl: settings.httpsProxy }),
  });
  const runs = createRunLog(store.db);
  // Parser threads serve one sync at a time: each of the worker's sync slots has its own.
  const idleEngines: EngineContext[] = Array.from({ length: settings.workerSyncs }, () => ({
    openWriter: store.openWriter, runs, parserThreads: new ParserThreads(), dispatcher, extraCaPem: extraCa, proxyUrl: settings.httpsProxy,
    timeScale: settings.syncTimeScale, maxAttempts: 6,
  }));
  const engines = [...idleEngines];
  const queue = await openSyncQueue(settings.databaseUrl, {
    heartbeatSeconds: settings.workerHeartbeatSeconds,
    onError: (e) => log.error({ err: e }, 'sync queue error'),
  });
  const stopping = new AbortController();

  async function runJob(job: SyncJob, signal: AbortSignal): Promise<void> {
    const run = await runs.get(job.runId);
    // Delivered again after it finished (its worker died between finishing and telling the queue).
    if (!run || run.status === 'succeeded' || run.status === 'failed') return;
    log.info({ runId: job.runId, connectionId: job.connectionId, pid: process.pid }, 'sync started');
    const credentials = await connections.credentials(job.connectionId).catch(async (e: Error) => {
      await runs.finish(job.runId, {
        counts: noCounts(),
        failure: { code: 'api_error', step: 'network', message: `The sync could not run: ${e.message}`, fix: 'Check the connection in Defender Access Settings, then sync again.' },
      });
      return undefined;
    });
    if (!credentials) return;
    const interrupted = AbortSignal.any([signal, stopping.signal]);
    // The queue runs at most workerSyncs jobs at once, so a slot is free.
    const engine = idleEngines.pop()!;
    let result;
    try {
      result = await executeRun(engine, { ...job, credentials, signal: interrupted });
    } finally {
      idleEngines.push(engine);
    }
    // Stopped, or the queue gave the job to another worker: nothing was applied; the queue retries it.
    if (interrupted.aborted) throw new Error('The sync was interrupted before it finished; the queue runs it again.');
    await runs.finish(job.runId, result.ok ? { counts: result.counts } : { counts: result.counts, failure: result.diagnosis });
    log[result.ok ? 'info' : 'warn']({ runId: job.runId, connectionId: job.connectionId, counts: result.counts, error: result.ok ? undefined : result.diagnosis.code, pid: process.pid }, 'sync finished');
  }

  await queue.work(settings.workerSyncs, runJob);
  const tick = () => void queueDueSyncs({ db: store.db, connections, runs, queue }).then(
    (queued) => queued.length && log.info({ queued: queued.length }, 'scheduled syncs queued'),
    (e: Error) => log.error({ err: e }, 'sync scheduler failed'));
  const timer = settings.scheduler ? setInterval(tick, SCHEDULER_TICK_MS) : undefined;
  if (settings.scheduler) tick();
  log.info({ syncs: settings.workerSyncs, pid: process.pid }, 'worker started');

  return {
    /** Stops taking jobs; running syncs get a grace period, then go back to the queue. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      const grace = setTimeout(() => stopping.abort(), STOP_GRACE_SECONDS * 1000);
      await queue.stop(STOP_GRACE_SECONDS + 5);
      clearTimeout(grace);
      for (const engine of engines) await engine.parserThreads.close();
      await dispatcher.close();
      await store.close();
    },
  };
}
