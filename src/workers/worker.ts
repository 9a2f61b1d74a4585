// `sitepatch worker`: a process that runs the sync jobs of a PostgreSQL install (sync-queue.ts),
// several at once, and ticks the schedule (scheduler.ts). It serves no pages, only /health, /ready
// and /metrics (ops-server.ts); any number of them run beside the web processes, on any machine
// that reaches the database and Defender, with the install's master key (SITEPATCH_MASTER_KEY or
// _FILE) to open the connections' secrets.

import { checkConnection } from '../connections/check.js';
import { createSecretBox, sharedMasterKey } from '../connections/secret-box.js';
import { createConnectionService } from '../connections/service.js';
import type { Settings } from '../config/settings.js';
import { VERSION } from '../config/version.js';
import type { Logger } from 'pino';
import { createMetrics } from '../ops/metrics.js';
import { createDispatcher, extraCaPem } from '../net/dispatcher.js';
import { openPostgresStore } from '../store/postgres/store.js';
import { executeRun, type EngineContext } from '../sync/engine.js';
import { ParserThreads } from '../sync/parser-threads.js';
import { noCounts } from '../sync/run-writer.js';
import { createRunLog } from '../sync/runs.js';
import { SCHEDULER_TICK_MS } from '../sync/service.js';
import { createAccounts } from '../users/accounts.js';
import { createAuditLog } from '../users/audit.js';
import { createSecuritySettings } from '../users/security-settings.js';
import { startOpsServer } from './ops-server.js';
import { queueDueSyncs } from './scheduler.js';
import { openSyncQueue, throttledQueueStats, type SyncJob } from './sync-queue.js';

/** How long a stopping worker lets its running syncs finish before handing them back to the queue. */
const STOP_GRACE_SECONDS = 20;

/** `ops: false`: no /health, /ready and /metrics of its own (a worker inside a web process, which serves them). */
export async function startWorker(settings: Settings, log: Logger, extraCaPems: string[] = [], { ops: serveOps = true } = {}) {
  if (!settings.databaseUrl) throw new Error('A worker runs the jobs of a PostgreSQL install: set SITEPATCH_DATABASE_URL=postgres://…');
  const secrets = createSecretBox(sharedMasterKey({ key: settings.masterKey, file: settings.masterKeyFile }));
  // Each running sync holds a connection for its transaction and uses a few more for its run log.
  const store = await openPostgresStore(settings.databaseUrl, settings.workerSyncs * 3 + 2);
  const extraCa = extraCaPem(settings, extraCaPems);
  const dispatcher = createDispatcher({ extraCaPem: extraCa, proxyUrl: settings.httpsProxy });
  const connections = createConnectionService({
    db: store.db, secrets, audit: createAuditLog(store.db),
    check: (target) => checkConnection(target, { dispatcher, proxyUrl: settings.httpsProxy }),
  });
  const runs = createRunLog(store.db);
  const queue = await openSyncQueue(settings.databaseUrl, {
    heartbeatSeconds: settings.workerHeartbeatSeconds,
    onError: (e) => log.error({ err: e }, 'sync queue error'),
  });
  const metrics = createMetrics(throttledQueueStats(queue));
  // Parser threads serve one sync at a time: each of the worker's sync slots has its own.
  const idleEngines: EngineContext[] = Array.from({ length: settings.workerSyncs }, () => ({
    openWriter: store.openWriter, runs, parserThreads: new ParserThreads(), dispatcher, extraCaPem: extraCa, proxyUrl: settings.httpsProxy,
    timeScale: settings.syncTimeScale, maxAttempts: 6, onThrottled: () => metrics.defenderThrottled(),
  }));
  const engines = [...idleEngines];
  const stopping = new AbortController();
  async function release(): Promise<void> {
    for (const engine of engines) await engine.parserThreads.close();
    await dispatcher.close();
    await store.close();
  }

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
    const started = performance.now();
    let result;
    try {
      result = await executeRun(engine, { ...job, credentials, signal: interrupted });
    } finally {
      idleEngines.push(engine);
    }
    // Stopped, or the queue gave the job to another worker: nothing was applied; the queue retries it.
    if (interrupted.aborted) throw new Error('The sync was interrupted before it finished; the queue runs it again.');
    metrics.syncFinished(job.requested, result, (performance.now() - started) / 1000);
    await runs.finish(job.runId, result.ok ? { counts: result.counts } : { counts: result.counts, failure: result.diagnosis });
    log[result.ok ? 'info' : 'warn']({ runId: job.runId, connectionId: job.connectionId, counts: result.counts, error: result.ok ? undefined : result.diagnosis.code, pid: process.pid }, 'sync finished');
  }

  // Before the first job: a worker whose port is taken stops here, having taken nothing.
  let stopRequested = false;
  const accounts = createAccounts({ db: store.db, secrets, security: createSecuritySettings(store.db) });
  const ops = !serveOps ? undefined : await startOpsServer({
    settings, accounts, metrics, logger: log, version: VERSION,
    readinessProblems: async () => (stopRequested ? ['the worker is stopping'] : store.readinessProblems()),
  }).catch(async (e: Error) => {
    await queue.stop(0);
    await release();
    throw new Error(`The worker cannot serve /health, /ready and /metrics on ${settings.host}:${settings.workerPort} (${e.message}): set SITEPATCH_WORKER_PORT or --port to a free port.`);
  });
  await queue.work(settings.workerSyncs, runJob);
  const tick = () => void queueDueSyncs({ db: store.db, connections, runs, queue }).then(
    (queued) => queued.length && log.info({ queued: queued.length }, 'scheduled syncs queued'),
    (e: Error) => log.error({ err: e }, 'sync scheduler failed'));
  const timer = settings.scheduler ? setInterval(tick, SCHEDULER_TICK_MS) : undefined;
  if (settings.scheduler) tick();
  log.info({ syncs: settings.workerSyncs, pid: process.pid, opsUrl: ops?.url }, 'worker started');

  return {
    /** Where /health, /ready and /metrics answer. */
    opsUrl: ops?.url,
    /** Stops taking jobs; running syncs get a grace period, then go back to the queue. */
    async stop(): Promise<void> {
      stopRequested = true;
      if (timer) clearInterval(timer);
      const grace = setTimeout(() => stopping.abort(), STOP_GRACE_SECONDS * 1000);
      await queue.stop(STOP_GRACE_SECONDS + 5);
      clearTimeout(grace);
      await ops?.app.close();
      await release();
    },
  };
}
