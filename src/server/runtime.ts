// Starts the whole console from settings: store and migrations, accounts, connections, outbound
// network (extra CA, proxy), the HTTP server, and in demo mode an emulated tenant alongside.

import { createMetrics, type Metrics } from '../ops/metrics.js';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Dispatcher } from 'undici';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { checkConnection } from '../connections/check.js';
import { createSecretBox, loadMasterKey } from '../connections/secret-box.js';
import { createConnectionService, type ConnectionService } from '../connections/service.js';
import { slaWindows, type Settings } from '../config/settings.js';
import { VERSION } from '../config/version.js';
import { createDispatcher, extraCaPem } from '../net/dispatcher.js';
import { createContentService, type ContentService } from '../content/imports.js';
import { createKnowledge } from '../content/knowledge.js';
import { auditExpiriesHourly, createExceptionService, type ExceptionService } from '../remediation/exceptions.js';
import { createRiskSettings, type RiskSettingsStore } from '../remediation/risk-settings.js';
import { SlaTally } from '../remediation/sla-tally.js';
import { RemediationTally } from '../remediation/tally.js';
import { openStore, type Store } from '../store/database.js';
import { createAccounts, type Accounts } from '../users/accounts.js';
import { createSecuritySettings, type SecuritySettingsStore } from '../users/security-settings.js';
import { createSignInRequests } from '../users/sign-in-requests.js';
import { createEntraSignIn, type EntraSignIn } from '../entra/sign-in.js';
import { allowedHostNames } from './hardening.js';
import type { EntraSignInSetup } from './routes/auth-routes.js';
import { createAuditLog, type AuditLog } from '../users/audit.js';
import { createRunLog, type RunLog } from '../sync/runs.js';
import { FindingWriter } from '../sync/finding-writer.js';
import { ParserThreads } from '../sync/parser-threads.js';
import { purgeTenant } from '../sync/purge.js';
import { createSyncService, type SyncRequests, type SyncService, type SyncServiceDeps } from '../sync/service.js';
import { buildApp, createLogger, listenUrl } from './app.js';
import { createExposureQueries, embeddedExposure, type ExposureSource } from '../exposure/queries.js';
import { openPostgresServices } from './postgres-services.js';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { demoEpoch, lastSyncedTime, planDemoPast, positionDemo, replayDemoPast, type DemoPastProgress, type DemoPastResult } from '../demo/past.js';

/** The domain services the console serves, on either store. */
export interface ConsoleServices {
  /** The control plane's tables and the exposure copy. */
  db: Kysely<Database>;
  exposure: ExposureSource;
  runs: RunLog;
  sync: SyncRequests;
  accounts: Accounts;
  audit: AuditLog;
  security: SecuritySettingsStore;
  connections: ConnectionService;
  dispatcher: Dispatcher;
  content: ContentService;
  exceptions: ExceptionService;
  risk: RiskSettingsStore;
  metrics: Metrics;
  /** What keeps the store from serving (empty: ready). */
  readinessProblems(): string[] | Promise<string[]>;
  close(): Promise<void>;
}

/** The embedded store's services: its syncs run in this process, on its queue. */
export interface Services extends ConsoleServices {
  store: Store;
  sync: SyncService;
}

/** The domain services without the HTTP server (also used by the CLI's offline commands). */
export async function openServices(settings: Settings, extraCaPems: string[] = [], log: SyncServiceDeps['log'] = silentLog): Promise<Services> {
  if (settings.databaseUrl) {
    throw new Error('SITEPATCH_DATABASE_URL is set: this command works on the embedded store (a PostgreSQL install\'s console is `sitepatch serve`, its syncs `sitepatch worker`). Unset it to use the embedded store.');
  }
  // The key first: without it nothing can start, and no store is left open behind the error.
  mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  const secrets = createSecretBox(loadMasterKey(settings.dataDir, { key: settings.masterKey, file: settings.masterKeyFile }));
  const store = await openStore(settings.dataDir);
  const security = createSecuritySettings(store.db);
  const accounts = createAccounts({ db: store.db, secrets, security });
  const audit = createAuditLog(store.db);
  const extraCa = extraCaPem(settings, extraCaPems);
  const dispatcher = createDispatcher({ extraCaPem: extraCa, proxyUrl: settings.httpsProxy });
  const connections = createConnectionService({
    db: store.db, secrets, audit,
    check: (target) => checkConnection(target, { dispatcher, proxyUrl: settings.httpsProxy }),
    onRemoved: (id) => sync.purge(id),
  });
  const runs = createRunLog(store.db);
  const risk = createRiskSettings(store.db);
  await risk.load();
  const parserThreads = new ParserThreads();
  const metrics = createMetrics(() => sync.queueStats());
  const remediations = new RemediationTally(store.findings, createKnowledge(store.sqlite), risk.current, slaWindows(settings));
  const sla = new SlaTally(store.findings, slaWindows(settings));
  const sync = createSyncService({
    runs, connections, log, metrics,
    engine: {
      openWriter: async (connectionId, runId) => new FindingWriter(store.findings, connectionId, runId, remediations, sla),
      afterCommit: () => void store.checkpointFindings(), runs, parserThreads, dispatcher, extraCaPem: extraCa, proxyUrl: settings.httpsProxy,
      timeScale: settings.syncTimeScale, maxAttempts: 6, onThrottled: () => metrics.defenderThrottled(),
    },
    maintenance: {
      remap: () => remediations.remap(), rescore: () => remediations.rescore(), backfill: () => remediations.backfill(),
      purge: (connectionId) => purgeTenant(store.findings, connectionId),
    },
  });
  const content = createContentService({
    store, dispatcher, nvdApiKey: settings.nvdApiKey, timeScale: settings.syncTimeScale,
    urls: { msrcCvrfUrl: settings.msrcCvrfUrl, redHatVexUrl: settings.redHatVexUrl, ubuntuOsvUrl: settings.ubuntuOsvUrl, nvdUrl: settings.nvdUrl, kevUrl: settings.kevUrl },
    onImported: () => sync.remapRemediations(),
  });
  const exceptions = createExceptionService({ db: store.db, audit });
  const expiry = auditExpiriesHourly(exceptions, log);
  return {
    db: store.db, exposure: embeddedExposure(store), readinessProblems: () => store.readinessProblems(),
    store, accounts, audit, security, connections, dispatcher, runs, sync, content, exceptions, risk, metrics,
    async close() {
      clearInterval(expiry);
      await content.close();
      await sync.stop();
      await parserThreads.close();
      await dispatcher.close();
      await store.close();
    },
  };
}

/** A running console's services: the embedded store's, or a PostgreSQL install's (no `store`). */
export type RunningServices = Services | (ConsoleServices & { store?: undefined });

export interface RunningConsole {
  url: string;
  app: FastifyInstance;
  services: RunningServices;
  /** The emulated tenant of demo mode. */
  demo?: RunningEmulator;
  /** Demo mode: the days of the tenant's past this start synced (90 on the first start). */
  demoPast?: DemoPastResult;
  close(): Promise<void>;
}

const silentLog = { info() {}, warn() {}, error() {} };

const DEMO_CONNECTION = 'Demo tenant (emulator)';

/** Points the demo connection at this run's emulator (its port changes every start); returns its id. */
async function connectDemo(connections: ConnectionService, demo: RunningEmulator): Promise<string> {
  const fields = {
    name: DEMO_CONNECTION, cloud: 'custom', tenantId: demo.tenantId, clientId: demo.apps.consented.clientId,
    clientSecret: demo.apps.consented.secretValue, loginUrl: demo.loginUrl, apiUrl: demo.apiUrl,
  };
  const existing = (await connections.list()).items.find((c) => c.tenantId === demo.tenantId && c.clientId === demo.apps.consented.clientId);
  if (existing) return (await connections.update(existing.id, fields, 'system (demo)')).id;
  return (await connections.create(fields, 'system (demo)')).id;
}

/** Sign-in with Entra ID, when configured (in demo mode: the emulator's "SitePatch console" app). */
function entraSetup(settings: Settings, services: ConsoleServices, demo: RunningEmulator | undefined): EntraSignInSetup | undefined {
  const config = settings.entraTenantId
    ? { loginUrl: settings.entraLoginUrl ?? 'https://login.microsoftonline.com', tenantId: settings.entraTenantId, clientId: settings.entraClientId!, clientSecret: settings.entraClientSecret! }
    : demo && { loginUrl: demo.loginUrl, tenantId: demo.tenantId, clientId: demo.signInApp.clientId, clientSecret: demo.signInApp.secretValue };
  if (!config) return undefined;
  const publicUrl = settings.publicUrl?.replace(/\/+$/, '');
  // One client per address the console is reached under (its redirect URI goes back there).
  const clients = new Map<string, EntraSignIn>();
  return {
    consoleUrl: (requestOrigin) => publicUrl ?? requestOrigin,
    client(requestOrigin) {
      const base = publicUrl ?? requestOrigin;
      let client = clients.get(base);
      if (!client) clients.set(base, client = createEntraSignIn({ ...config, redirectUri: `${base}/api/v1/auth/entra/callback` }, services.dispatcher));
      return client;
    },
    requests: createSignInRequests(services.db),
    roles: { groupRoles: settings.entraGroupRoles, groupConnections: settings.entraGroupConnections },
  };
}

export interface StartOptions {
  logStream?: DestinationStream;
  /** Demo mode: progress of the sync through the tenant's past (src/demo/past.ts). */
  onDemoProgress?: (progress: DemoPastProgress) => void;
  /** A PostgreSQL install: also run the sync jobs in this process (default), or serve the pages only. */
  worker?: boolean;
}

export async function startConsole(settings: Settings, options: StartOptions = {}): Promise<RunningConsole> {
  if (settings.demo && settings.databaseUrl) {
    throw new Error('The demo runs on the embedded store: unset SITEPATCH_DATABASE_URL for `serve --demo`, or connect a tenant to the PostgreSQL install.');
  }
  // Before the demo emulator puts its state in it: the data directory is its owner's only.
  mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  // The demo tenant's timeline starts 90 days before the first start and continues across restarts.
  const demoStateDir = path.join(settings.dataDir, 'demo-emulator');
  const demoStart = settings.demo ? demoEpoch(demoStateDir) : 0;
  const demo = settings.demo
    ? await startEmulator({ devices: settings.demoDevices, seed: 'demo', stateDir: demoStateDir, startTime: demoStart })
    : undefined;
  const logger = createLogger(settings.logLevel, options.logStream);
  // The demo's patch content comes from the emulator's vendor feeds.
  const services: RunningServices = settings.databaseUrl
    ? await openPostgresServices(settings, logger, { worker: options.worker ?? true })
    : await openServices(demo ? { ...settings, ...demo.feeds } : settings, demo ? [demo.caPem] : [], logger);
  const { accounts, audit, connections, runs, sync, security } = services;
  if (settings.adminPassword) {
    await accounts.createFirstAdmin('admin', settings.adminPassword).catch((e: Error) => {
      throw new Error(`SITEPATCH_ADMIN_PASSWORD cannot be the administrator's password: ${e.message}`);
    });
  }
  const demoConnectionId = demo && await connectDemo(connections, demo);
  // Publish the snapshot the console's copy stands at before any sync (scheduled, retried) can run.
  const demoPlan = demo && planDemoPast(demoStart, await lastSyncedTime(services.db, demoConnectionId!));
  if (demo) positionDemo(demo, demoPlan!);

  const https = settings.tlsCertFile ? { cert: readFileSync(settings.tlsCertFile, 'utf8'), key: readFileSync(settings.tlsKeyFile!, 'utf8') } : undefined;
  const app = await buildApp({
    accounts, connections, audit, security, runs, sync, content: services.content, exceptions: services.exceptions, risk: services.risk, exposure: createExposureQueries(services.exposure, settings.scheduler, slaWindows(settings)),
    metrics: services.metrics, readinessProblems: services.readinessProblems,
    logger, secureCookies: settings.secureCookies, version: VERSION, https,
    allowedHosts: allowedHostNames(settings.host, settings), trustProxy: settings.trustProxy, servedOverHttps: Boolean(https) || settings.publicUrl?.startsWith('https:') === true,
    entra: entraSetup(settings, services, demo),
  });
  await app.listen({ host: settings.host, port: settings.port });
  // On PostgreSQL the workers keep the sync schedule.
  if (services.store) await services.sync.start(settings.scheduler);
  if (settings.scheduler) await services.content.schedule(settings.contentImportHours);
  let demoPast: DemoPastResult | undefined;
  // (The demo runs on the embedded store only.)
  if (demo && services.store) {
    demoPast = await replayDemoPast({ demo, sync: services.sync, runs, connectionId: demoConnectionId!, onProgress: options.onDemoProgress }, demoPlan!);
    const log = demoPast.failed ? logger.warn.bind(logger) : logger.info.bind(logger);
    log({ ...demoPast, failed: demoPast.failed?.error }, demoPast.firstStart ? 'demo tenant: its past synced day by day' : 'demo tenant: caught up');
  }
  return {
    url: listenUrl(app, settings.host, Boolean(https)),
    app, services, demo, demoPast,
    async close() {
      await app.close();
      await services.close();
      await demo?.close();
    },
  };
}
