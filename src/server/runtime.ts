// Starts the whole console from settings: store and migrations, accounts, connections, outbound
// network (extra CA, proxy), the HTTP server, and in demo mode an emulated tenant alongside.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Dispatcher } from 'undici';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { checkConnection } from '../connections/check.js';
import { createSecretBox, loadMasterKey } from '../connections/secret-box.js';
import { createConnectionService, type ConnectionService } from '../connections/service.js';
import type { Settings } from '../config/settings.js';
import { createDispatcher, extraCaPem } from '../net/dispatcher.js';
import { openStore, type Store } from '../store/database.js';
import { createAccounts, type Accounts } from '../users/accounts.js';
import { createAuditLog, type AuditLog } from '../users/audit.js';
import { createRunLog, type RunLog } from '../sync/runs.js';
import { ParserThreads } from '../sync/parser-threads.js';
import { createSyncService, type SyncService, type SyncServiceDeps } from '../sync/service.js';
import { buildApp, createLogger } from './app.js';
import { createFindingQueries } from '../exposure/findings.js';

export const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Services {
  store: Store;
  runs: RunLog;
  sync: SyncService;
  accounts: Accounts;
  audit: AuditLog;
  connections: ConnectionService;
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

/** The domain services without the HTTP server (also used by the CLI's offline commands). */
export async function openServices(settings: Settings, extraCaPems: string[] = [], log: SyncServiceDeps['log'] = silentLog): Promise<Services> {
  const store = await openStore(settings.dataDir);
  const secrets = createSecretBox(loadMasterKey(settings.dataDir, settings.masterKey));
  const accounts = createAccounts(store.db);
  const audit = createAuditLog(store.db);
  const extraCa = extraCaPem(settings, extraCaPems);
  const dispatcher = createDispatcher({ extraCaPem: extraCa, proxyUrl: settings.httpsProxy });
  const connections = createConnectionService({
    db: store.db, secrets, audit,
    check: (target) => checkConnection(target, { dispatcher, proxyUrl: settings.httpsProxy }),
  });
  const runs = createRunLog(store.db);
  const parserThreads = new ParserThreads();
  const sync = createSyncService({
    runs, connections, log,
    engine: {
      findings: store.findings, afterCommit: () => void store.checkpointFindings(), runs, parserThreads, dispatcher, extraCaPem: extraCa, proxyUrl: settings.httpsProxy,
      timeScale: settings.syncTimeScale, maxAttempts: 6,
    },
  });
  return {
    store, accounts, audit, connections, dispatcher, runs, sync,
    async close() {
      await sync.stop();
      await parserThreads.close();
      await dispatcher.close();
      await store.close();
    },
  };
}

export interface RunningConsole {
  url: string;
  app: FastifyInstance;
  services: Services;
  /** The emulated tenant of demo mode. */
  demo?: RunningEmulator;
  close(): Promise<void>;
}

const silentLog = { info() {}, warn() {}, error() {} };

const DEMO_CONNECTION = 'Demo tenant (emulator)';

/** Points the demo connection at this run's emulator (its port changes every start). */
async function connectDemo(connections: ConnectionService, demo: RunningEmulator): Promise<void> {
  const fields = {
    name: DEMO_CONNECTION, cloud: 'custom', tenantId: demo.tenantId, clientId: demo.apps.consented.clientId,
    clientSecret: demo.apps.consented.secretValue, loginUrl: demo.loginUrl, apiUrl: demo.apiUrl,
  };
  const existing = (await connections.list()).items.find((c) => c.tenantId === demo.tenantId && c.clientId === demo.apps.consented.clientId);
  if (existing) await connections.update(existing.id, fields, 'system (demo)');
  else await connections.create(fields, 'system (demo)');
}

export async function startConsole(settings: Settings, options: { logStream?: DestinationStream } = {}): Promise<RunningConsole> {
  const demo = settings.demo
    ? await startEmulator({ devices: settings.demoDevices, seed: 'demo', stateDir: path.join(settings.dataDir, 'demo-emulator') })
    : undefined;
  const logger = createLogger(settings.logLevel, options.logStream);
  const services = await openServices(settings, demo ? [demo.caPem] : [], logger);
  const { accounts, audit, connections, runs, sync } = services;
  if (settings.adminPassword && (await accounts.count()) === 0) await accounts.createUser('admin', settings.adminPassword);
  if (demo) await connectDemo(connections, demo);

  const app = await buildApp({
    accounts, connections, audit, runs, sync, findings: createFindingQueries(services.store.db),
    logger, secureCookies: settings.secureCookies, version: VERSION,
  });
  await app.listen({ host: settings.host, port: settings.port });
  await sync.start(settings.scheduler);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host === '0.0.0.0' ? '127.0.0.1' : settings.host;
  return {
    url: `http://${host}:${port}`,
    app, services, demo,
    async close() {
      await app.close();
      await services.close();
      await demo?.close();
    },
  };
}
