// The console's services on a PostgreSQL install (SITEPATCH_DATABASE_URL): any number of web
// processes share the store; "sync now" and the schedule go through the queue that `sitepatch
// worker` processes work (src/workers). `serve` runs a worker of its own beside the pages unless it
// is web-only (--no-worker). The secrets' master key must be the install's, shared by every process.
// The patch knowledge is imported by any web process, one at a time, and read from a replica in
// each one's data directory (store/postgres/content-replica.ts).

import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { checkConnection } from '../connections/check.js';
import { createSecretBox, sharedMasterKey } from '../connections/secret-box.js';
import { createConnectionService } from '../connections/service.js';
import type { Settings } from '../config/settings.js';
import { createContentService } from '../content/imports.js';
import { postgresExposure } from '../exposure/queries.js';
import { createDispatcher, extraCaPem } from '../net/dispatcher.js';
import { createMetrics } from '../ops/metrics.js';
import { auditExpiriesHourly, createExceptionService } from '../remediation/exceptions.js';
import { createRiskSettings } from '../remediation/risk-settings.js';
import { openContentReplica } from '../store/postgres/content-replica.js';
import { openPostgresStore } from '../store/postgres/store.js';
import { createRunLog } from '../sync/runs.js';
import { createAccounts } from '../users/accounts.js';
import { createAuditLog } from '../users/audit.js';
import { createSecuritySettings } from '../users/security-settings.js';
import { createQueuedSync } from '../workers/queued-sync.js';
import { openSyncQueue, throttledQueueStats } from '../workers/sync-queue.js';
import { startWorker } from '../workers/worker.js';
import type { ConsoleServices } from './runtime.js';

export async function openPostgresServices(settings: Settings, log: Logger, { worker, extraCaPems = [] }: { worker: boolean; extraCaPems?: string[] }): Promise<ConsoleServices & { store?: undefined }> {
  const url = settings.databaseUrl!;
  // The process's own files (the knowledge's replica) are its owner's only.
  mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  const secrets = createSecretBox(sharedMasterKey({ key: settings.masterKey, file: settings.masterKeyFile }));
  const store = await openPostgresStore(url);
  const closers: (() => Promise<void>)[] = [() => store.close()];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const security = createSecuritySettings(store.db);
    const audit = createAuditLog(store.db);
    const dispatcher = createDispatcher({ extraCaPem: extraCaPem(settings, extraCaPems), proxyUrl: settings.httpsProxy });
    closers.push(() => dispatcher.close());
    const queue = await openSyncQueue(url, { heartbeatSeconds: settings.workerHeartbeatSeconds, onError: (e) => log.error({ err: e }, 'sync queue error') });
    closers.push(() => queue.stop(0));
    const runs = createRunLog(store.db);
    const connections = createConnectionService({
      db: store.db, secrets, audit,
      check: (target) => checkConnection(target, { dispatcher, proxyUrl: settings.httpsProxy }),
      onRemoved: (id) => sync.purge(id),
    });
    const sync = createQueuedSync({ runs, connections, queue, purge: store.purge, log });
    const replica = await openContentReplica(store.pool, settings.dataDir);
    closers.push(async () => replica.close());
    const content = createContentService({
      store: { db: store.db, content: replica.writer }, exclusively: replica.exclusively, dispatcher, nvdApiKey: settings.nvdApiKey, timeScale: settings.syncTimeScale,
      urls: { msrcCvrfUrl: settings.msrcCvrfUrl, redHatVexUrl: settings.redHatVexUrl, ubuntuOsvUrl: settings.ubuntuOsvUrl, nvdUrl: settings.nvdUrl, kevUrl: settings.kevUrl },
    });
    closers.push(() => content.close());
    const risk = createRiskSettings(store.db);
    await risk.load();
    const metrics = createMetrics(throttledQueueStats(queue));
    if (worker) {
      const running = await startWorker(settings, log, extraCaPems, { ops: false });
      closers.push(() => running.stop());
    }
    const exceptions = createExceptionService({ db: store.db, audit });
    const expiry = auditExpiriesHourly(exceptions, log);
    closers.push(async () => clearInterval(expiry));
    return {
      db: store.db, exposure: postgresExposure(store, replica), readinessProblems: () => store.readinessProblems(),
      accounts: createAccounts({ db: store.db, secrets, security }), audit, security, connections, dispatcher, runs, sync, risk, metrics, content,
      exceptions,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
