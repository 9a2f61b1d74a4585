// Assembles the emulator: one HTTPS listener serving the Entra token service, the Defender API,
// the export blob host and the /_emulator control endpoints, with fault switches on every route.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import Router from 'find-my-way';
import { blobNotFound, ExportFiles } from './blob/export-files.js';
import { createDefenderApi, defenderError } from './defender/api.js';
import { DEFAULT_QUOTAS, RateLimiter, type Quota } from './defender/rate-limit.js';
import { FaultInputError, Faults, FEED_ENDPOINTS, type Endpoint, type FaultSpec } from './faults.js';
import { createKevRoutes } from './feeds/kev.js';
import { createMsrcRoutes } from './feeds/msrc.js';
import { createNvdRoutes } from './feeds/nvd.js';
import { createRedHatRoutes } from './feeds/redhat.js';
import { createUbuntuRoutes } from './feeds/ubuntu.js';
import { json, lowerCaseQuery, sendReply, type EmulatorRequest, type Reply, type Route } from './http.js';
import { AuthorizationCodes } from './identity/authorization-codes.js';
import { APP_CASES, assignedRoles, Directory, VULNERABILITY_READ_ALL, type AppCase, type DirectoryTenant } from './identity/directory.js';
import { createSignInService } from './identity/sign-in.js';
import { createSigningKey, createTokenService, DEFENDER_RESOURCES } from './identity/token-service.js';
import { Snapshots, type TenantData } from './tenant/snapshots.js';
import { truthRows } from './tenant/patch-truth.js';
import { DELTA_WINDOW_SNAPSHOTS, SNAPSHOT_HOURS, SNAPSHOT_MS, Tenant } from './tenant/tenant.js';
import { seedFrom } from './world/random.js';
import { World } from './world/world.js';
import { prepareTls } from './tls.js';

export interface EmulatorOptions {
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** TCP port of the export blob host (another origin than the API's); 0 picks a free one. */
  blobPort?: number;
  host?: string;
  /** Devices per customer tenant (10 to 100,000). */
  devices?: number;
  seed?: string | number;
  /** Customer tenants with Defender provisioned (one more, without Defender, is always added). */
  tenants?: number;
  /** Time of the first snapshot; defaults to the last 6-hour boundary. */
  startTime?: string | number | Date;
  /** Average snapshots between two updates of a product on a device (default 100). */
  patchCadence?: number;
  /** Devices per export file part (default 2,000, about 100,000 findings). */
  devicesPerPart?: number;
  /** Multiplies rate-limit windows: 0.01 makes a one-minute window last 0.6 s. */
  timeScale?: number;
  rateLimits?: boolean;
  quotas?: Partial<Record<Endpoint, Quota>>;
  tokenLifetimeSeconds?: number;
  /** `sasValidHours` policy: current docs (default 1 h, max 6 h) or older docs (3 h, 24 h). */
  sasPolicy?: 'current' | 'legacy';
  vulnerabilitiesMaxTop?: number;
  unknownTenantError?: 'invalid_tenant' | 'invalid_request';
  descriptionSeparator?: 'crlf' | 'space';
  /** Also accept tokens for https://api.security.microsoft.com (Defender XDR's app). */
  acceptXdrAudience?: boolean;
  /** Holds the CA and the export file cache; a temporary directory by default. */
  stateDir?: string;
  faults?: FaultSpec[];
  /** How long an authorization code from the sign-in page can be redeemed (Entra: 600 s). */
  authCodeLifetimeSeconds?: number;
}

export interface AppCredentials {
  clientId: string;
  secretId: string;
  secretValue: string;
  displayName: string;
}

/** The console's "SitePatch console" web app registration, for sign-in with Entra ID. */
export interface SignInAppInfo {
  clientId: string;
  secretValue: string;
  displayName: string;
  redirectUris: string[];
  appRoles: { id: string; value: string; displayName: string }[];
}

/** A test user of the main tenant; `roles` are their app role values in the sign-in app. */
export interface TestUserInfo {
  username: string;
  password: string;
  displayName: string;
  objectId: string;
  roles: string[];
  groups: string[];
}

export interface TenantInfo {
  tenantId: string;
  domain: string;
  displayName: string;
  defenderProvisioned: boolean;
  apps: Partial<Record<AppCase, AppCredentials>>;
}

/** The vendor feeds the emulator serves, as the bases SitePatch's settings name. */
export interface FeedUrls {
  msrcCvrfUrl: string;
  redHatVexUrl: string;
  ubuntuOsvUrl: string;
  nvdUrl: string;
  kevUrl: string;
}

export interface EmulatorInfo {
  loginUrl: string;
  apiUrl: string;
  /** The export blob host: the download links of SoftwareVulnerabilitiesExport point here. */
  blobUrl: string;
  feeds: FeedUrls;
  caFile: string;
  tenantId: string;
  tenantDomain: string;
  apps: Record<AppCase, AppCredentials>;
  unprovisionedTenantId: string;
  tenants: TenantInfo[];
  signInApp: SignInAppInfo;
  users: TestUserInfo[];
  devices: number;
  seed: string;
}

export interface EmulatorState {
  snapshot: number;
  snapshotTime: string;
  /** The emulator's clock (tokens, SAS links): the wall clock, or a minute past the latest snapshot when that is later. */
  clock: string;
  tenants: { tenantId: string; devices: number; findings: number; exportParts: number }[];
  requests: Record<string, number>;
  /** Export file downloads refused because they carried an Authorization header. */
  exportFileAuthorizationRefused: number;
}

export interface RunningEmulator extends EmulatorInfo {
  caPem: string;
  /** Moves every tenant forward; hours must be a multiple of 6. */
  advance(hours?: number): EmulatorState;
  /**
   * From now on, publishes a snapshot whenever the wall clock passes a 6-hour boundary, as Defender
   * does on its own (and at once, when the current snapshot is behind the wall clock). advance()
   * still moves time further on demand.
   */
  followWallClock(): void;
  /** Forgets every caller's recent calls (POST /_emulator/rate-limits/reset). */
  resetRateLimits(): void;
  state(): EmulatorState;
  faults: Faults;
  close(): Promise<void>;
}

function alignedStart(value: EmulatorOptions['startTime']): number {
  const time = value === undefined ? Date.now() : new Date(value).getTime();
  if (Number.isNaN(time)) throw new Error(`Invalid start time '${String(value)}': use an ISO-8601 date such as 2026-01-01T00:00:00Z.`);
  return Math.floor(time / SNAPSHOT_MS) * SNAPSHOT_MS;
}

function appInfo(tenant: DirectoryTenant, kind: AppCase): AppCredentials | undefined {
  const index = APP_CASES.indexOf(kind);
  const app = tenant.defenderProvisioned ? tenant.apps[index] : kind === 'consented' ? tenant.apps[0] : undefined;
  if (!app) return undefined;
  return { clientId: app.clientId, secretId: app.secrets[0].id, secretValue: app.secrets[0].value, displayName: app.displayName };
}

class ControlError extends Error {}

async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ControlError('Request body too large.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A fault's reply in the dialect of the service it hits. */
function faultReply(endpoint: Endpoint | undefined, status: number, retryAfter?: number): Reply {
  const headers: Record<string, string> = retryAfter ? { 'retry-after': String(retryAfter) } : {};
  if (endpoint === 'exportFile') {
    return { status: status === 429 ? 503 : status, headers: { ...headers, 'content-type': 'application/xml' }, body: '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>The server is busy.</Message></Error>' };
  }
  if (endpoint && FEED_ENDPOINTS.includes(endpoint)) {
    // NVD answers a caller over its rate limit with 403 and nothing else; the other feeds are static hosts.
    if (endpoint === 'nvdCves' && status === 429) return { status: 403, headers: {}, body: '' };
    return { status, headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' }, body: status === 429 ? 'Too Many Requests' : status === 403 ? 'Forbidden' : 'Service Unavailable' };
  }
  if (endpoint === 'token' || endpoint === 'discovery') {
    return json(status, status === 429
      ? { error: 'temporarily_unavailable', error_description: 'AADSTS90055: TenantThrottlingError - There are too many incoming requests.', error_codes: [90055] }
      : { error: 'server_error', error_description: 'AADSTS50000: There was an error issuing a token or an issue with our sign-in service.', error_codes: [50000] }, headers);
  }
  if (status === 429) return defenderError(429, 'TooManyRequests', 'API calls quota exceeded! Try again later.', headers);
  if (status === 403) return defenderError(403, 'Forbidden', `The application does not have any of the required application permissions (${VULNERABILITY_READ_ALL}) to access the resource.`);
  return defenderError(status, status === 503 ? 'ServiceUnavailable' : 'InternalServerError', status === 503 ? 'The service is temporarily unavailable.' : 'An internal error occurred.');
}

const BYTE_ORDER_MARK = Buffer.from('\uFEFF');

/** The reply with a UTF-8 byte-order mark in front of its body (the bomPrefix fault). */
function withByteOrderMark(reply: Reply): Reply {
  const { body = '', headers = {} } = reply;
  const length = headers['content-length'];
  return {
    ...reply,
    headers: length ? { ...headers, 'content-length': String(Number(length) + BYTE_ORDER_MARK.length) } : headers,
    body: typeof body === 'string' || Buffer.isBuffer(body)
      ? Buffer.concat([BYTE_ORDER_MARK, Buffer.from(body)])
      : Readable.from((async function* () { yield BYTE_ORDER_MARK; yield* body; })()),
  };
}

/** The reply with its body cut in half, and a Content-Length that says so (the truncatedBody fault). */
async function truncated(reply: Reply): Promise<Reply> {
  const { body = '', headers = {} } = reply;
  const chunks: Buffer[] = [];
  if (typeof body === 'string' || Buffer.isBuffer(body)) chunks.push(Buffer.from(body));
  else for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
  const whole = Buffer.concat(chunks);
  const half = whole.subarray(0, Math.floor(whole.length / 2));
  return { ...reply, headers: { ...headers, 'content-length': String(half.length) }, body: half };
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const devices = options.devices ?? 500;
  if (!Number.isInteger(devices) || devices < 1 || devices > 1_000_000) throw new Error(`devices must be an integer from 1 to 1,000,000; got ${devices}.`);
  const seedText = String(options.seed ?? 'sitepatch');
  const ownStateDir = !options.stateDir;
  const stateDir = options.stateDir ?? mkdtempSync(path.join(os.tmpdir(), 'sitepatch-emulator-'));
  mkdirSync(stateDir, { recursive: true });
  const tls = prepareTls(stateDir);
  // The emulator's clock: the wall clock, or later when advance() has published snapshots ahead of it,
  // so that tokens, SAS links and every timestamp agree with the snapshots (none lies in the future).
  // Quotas and followWallClock() keep to the wall clock: they are about time that really passes.
  let clockAhead = 0;
  const now = () => Date.now() + clockAhead;
  const startTime = alignedStart(options.startTime);
  const directory = new Directory(seedText, options.tenants ?? 1);
  const signInApp = directory.tenants[0].signInApp!;
  const faults = new Faults();
  for (const fault of options.faults ?? []) faults.add(fault);

  // One patch world for every tenant (a CVE has the same facts everywhere), and the feeds describe it.
  const world = new World({ seed: seedFrom(seedText), startTime, patchCadence: options.patchCadence });
  const data = new Map<string, TenantData>();
  for (const t of directory.tenants.filter((d) => d.defenderProvisioned)) {
    const tenant = new Tenant({ seed: t.dataSeed, devices, startTime, patchCadence: options.patchCadence, world });
    data.set(t.id, { tenantId: t.id, tenant, snapshots: new Snapshots(tenant, options.devicesPerPart) });
  }
  let current = 0;
  const requests: Record<string, number> = {};

  const signingKey = createSigningKey();
  const exportDir = path.join(stateDir, 'exports');
  const exportFiles = new ExportFiles({ cacheDir: exportDir, signingKey: randomBytes(32), faults, tenants: (id) => data.get(id.toLowerCase()), now });
  const rateLimiter = new RateLimiter(options.rateLimits === false ? {} : { ...DEFAULT_QUOTAS, ...options.quotas }, options.timeScale ?? 1, Date.now);
  const legacySas = options.sasPolicy === 'legacy';
  // The feeds describe the world as of the latest published snapshot.
  const feeds = { world, time: () => world.startTime + current * SNAPSHOT_MS };
  const nvd = createNvdRoutes(feeds, { timeScale: options.timeScale ?? 1, rateLimits: options.rateLimits !== false, now: Date.now });

  function state(): EmulatorState {
    const any = [...data.values()][0];
    return {
      snapshot: current,
      snapshotTime: new Date(any.tenant.snapshotTime(current)).toISOString(),
      clock: new Date(now()).toISOString(),
      tenants: [...data.values()].map((d) => ({ tenantId: d.tenantId, devices: d.tenant.deviceCount, findings: d.snapshots.total(current), exportParts: d.snapshots.parts })),
      requests: { ...requests },
      exportFileAuthorizationRefused: exportFiles.authorizationRefused,
    };
  }

  function advance(hours = SNAPSHOT_HOURS): EmulatorState {
    if (!Number.isInteger(hours) || hours <= 0 || hours % SNAPSHOT_HOURS !== 0) {
      throw new ControlError(`hours must be a positive multiple of ${SNAPSHOT_HOURS} (Defender builds a snapshot every 6 hours); got ${hours}.`);
    }
    current += hours / SNAPSHOT_HOURS;
    // Defender publishes a snapshot shortly after its time: the clock is at least a minute past it.
    clockAhead = Math.max(clockAhead, world.startTime + current * SNAPSHOT_MS + 60_000 - Date.now());
    // Build the new snapshot's change batch and CVE exposure now, as Defender does when it
    // publishes a snapshot, so that reading them is as quick as from the real service.
    for (const d of data.values()) {
      d.snapshots.batchRows(current);
      d.snapshots.exposure(current);
    }
    // Keep the previous snapshot's files for downloads in flight; drop older ones.
    for (const d of data.values()) {
      const dir = path.join(exportDir, d.tenantId);
      if (!existsSync(dir)) continue;
      for (const k of readdirSync(dir)) if (Number(k) < current - 1) rmSync(path.join(dir, k), { recursive: true, force: true });
    }
    return state();
  }

  let clockTimer: NodeJS.Timeout | undefined;
  function followWallClock(): void {
    if (clockTimer) return;
    const { tenant } = [...data.values()][0];
    const tick = () => {
      const behind = tenant.snapshotAt(Date.now()) - current;
      if (behind > 0) advance(behind * SNAPSHOT_HOURS);
      // The next boundary of the wall clock after the current snapshot (capped: timers hold ~24 days).
      const next = tenant.snapshotTime(Math.max(current, tenant.snapshotAt(Date.now())) + 1);
      clockTimer = setTimeout(tick, Math.min(SNAPSHOT_MS, Math.max(1000, next - Date.now())));
      clockTimer.unref();
    };
    tick();
  }

  const control: Route[] = [
    { method: 'GET', path: '/_emulator/state', handle: () => json(200, state()) },
    {
      method: 'POST', path: '/_emulator/advance', handle: (req) => {
        const body = req.body.length ? JSON.parse(req.body.toString('utf8')) as { hours?: number } : {};
        return json(200, advance(body.hours ?? SNAPSHOT_HOURS));
      },
    },
    {
      // What SitePatch must answer about each finding's fix (tenant/patch-truth.ts has the contract):
      // ?deviceId= one device, ?cveId= one CVE, ?snapshot= an earlier snapshot; else every finding now.
      method: 'GET', path: '/_emulator/tenants/:tenant/patch-truth', handle: (req) => {
        const d = data.get((req.params.tenant ?? '').toLowerCase());
        if (!d) return json(404, { error: 'not_found', error_description: `No tenant ${req.params.tenant} with Defender data.` });
        const asked = req.url.searchParams.get('snapshot');
        const k = asked === null ? current : Number(asked);
        if (!Number.isInteger(k) || k > current || k < current - DELTA_WINDOW_SNAPSHOTS) throw new ControlError(`snapshot must be an integer from ${current - DELTA_WINDOW_SNAPSHOTS} to ${current}.`);
        const rows = truthRows(d.tenant, k, { deviceId: req.url.searchParams.get('deviceId') ?? undefined, cveId: req.url.searchParams.get('cveId') ?? undefined });
        function* body(): Generator<string> {
          yield `{"snapshot":${k},"snapshotTime":"${new Date(d!.tenant.snapshotTime(k)).toISOString()}","value":[`;
          let first = true;
          for (const row of rows) {
            yield (first ? '' : ',') + JSON.stringify(row);
            first = false;
          }
          yield ']}';
        }
        return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: Readable.from(body()) };
      },
    },
    { method: 'GET', path: '/_emulator/faults', handle: () => json(200, { faults: faults.list() }) },
    {
      method: 'POST', path: '/_emulator/faults', handle: (req) => {
        const body = JSON.parse(req.body.toString('utf8') || '{}') as { faults?: FaultSpec[]; replace?: boolean } & Partial<FaultSpec>;
        const specs = body.faults ?? (body.kind ? [body as FaultSpec] : []);
        if (body.replace) faults.clear();
        const ids = specs.map((spec) => faults.add(spec));
        return json(200, { added: ids, faults: faults.list() });
      },
    },
    { method: 'DELETE', path: '/_emulator/faults', handle: () => { faults.clear(); return json(200, { faults: [] }); } },
    { method: 'POST', path: '/_emulator/rate-limits/reset', handle: () => { rateLimiter.reset(); nvd.resetRateLimits(); return json(200, { reset: true }); } },
    {
      // Enterprise application → Properties → "Assignment required?" of the sign-in app.
      method: 'POST', path: '/_emulator/sign-in-app', handle: (req) => {
        const body = JSON.parse(req.body.toString('utf8') || '{}') as { assignmentRequired?: unknown };
        if (typeof body.assignmentRequired !== 'boolean') throw new ControlError('Send {"assignmentRequired": true} or {"assignmentRequired": false}.');
        signInApp.assignmentRequired = body.assignmentRequired;
        return json(200, { assignmentRequired: signInApp.assignmentRequired });
      },
    },
  ];

  const codes = new AuthorizationCodes((options.authCodeLifetimeSeconds ?? 600) * 1000, now);
  const unknownTenantError = options.unknownTenantError ?? 'invalid_tenant';
  const descriptionSeparator = options.descriptionSeparator === 'space' ? ' ' : '\r\n';
  const routes: Route[] = [
    ...createTokenService({
      directory, codes, faults, now, unknownTenantError, descriptionSeparator,
      tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    }, signingKey),
    ...createSignInService({ directory, codes, now, unknownTenantError, descriptionSeparator }),
    ...createDefenderApi({
      publicKey: signingKey.publicKey,
      acceptedAudiences: [...DEFENDER_RESOURCES, ...(options.acceptXdrAudience ? ['https://api.security.microsoft.com'] : [])],
      tenants: (id) => data.get(id.toLowerCase()),
      current: () => current,
      faults, rateLimiter, exportFiles, now,
      blobOrigin: () => blobOrigin,
      sasDefaultHours: legacySas ? 3 : 1,
      sasMaxHours: legacySas ? 24 : 6,
      vulnerabilitiesMaxTop: options.vulnerabilitiesMaxTop ?? 8000,
    }),
    ...createMsrcRoutes(feeds),
    ...createRedHatRoutes(feeds),
    ...createUbuntuRoutes(feeds),
    ...nvd.routes,
    ...createKevRoutes(feeds),
    ...control,
  ];

  const router = Router({
    caseSensitive: false,
    ignoreTrailingSlash: true,
    defaultRoute: (req, res) => {
      const notFound = req.url?.startsWith('/api')
        ? defenderError(404, 'ResourceNotFound', `Resource ${req.url.split('?')[0]} wasn't found`)
        : json(404, { error: 'not_found', error_description: `No such endpoint: ${req.method} ${req.url}` });
      void sendReply(res as ServerResponse, notFound, {});
    },
  });

  for (const route of routes) {
    router.on(route.method, route.path, (req, res, params) => {
      void dispatch(route, req as IncomingMessage, res as ServerResponse, params as Record<string, string | undefined>);
    });
  }

  async function dispatch(route: Route, req: IncomingMessage, res: ServerResponse, params: Record<string, string | undefined>): Promise<void> {
    const endpoint = route.endpoint;
    if (endpoint) requests[endpoint] = (requests[endpoint] ?? 0) + 1;
    try {
      const url = new URL(req.url ?? '/', `https://${req.headers.host ?? '127.0.0.1'}`);
      const request: EmulatorRequest = { method: req.method ?? 'GET', url, params, headers: req.headers, body: await readBody(req), query: lowerCaseQuery(url) };
      let reply: Reply | undefined;
      if (endpoint) {
        const throttle = faults.take('throttle', endpoint);
        const failure = throttle ? undefined : faults.take('serverError', endpoint);
        const forbidden = throttle || failure ? undefined : faults.take('forbidden', endpoint);
        if (throttle) reply = faultReply(endpoint, 429, throttle.retryAfter ?? 2);
        else if (failure) reply = faultReply(endpoint, failure.status ?? 500);
        else if (forbidden) reply = faultReply(endpoint, 403);
      }
      reply ??= await route.handle(request);
      // Export files carry the mark inside their gzip stream (blob/export-files.ts).
      if (endpoint && endpoint !== 'exportFile' && faults.take('bomPrefix', endpoint)) reply = withByteOrderMark(reply);
      if (endpoint && endpoint !== 'exportFile' && reply.status < 400 && faults.take('truncatedBody', endpoint)) reply = await truncated(reply);
      const bodyFaults = endpoint && reply.status < 400
        ? { reset: faults.take('resetMidBody', endpoint), slow: faults.take('slowBody', endpoint) }
        : {};
      await sendReply(res, reply, bodyFaults);
    } catch (e) {
      const clientError = e instanceof ControlError || e instanceof FaultInputError || e instanceof SyntaxError;
      // A client that hangs up mid-response is normal (resets, aborted downloads): nothing to report.
      const hungUp = ['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE'].includes((e as { code?: string }).code ?? '');
      if (!clientError && !hungUp) console.error('[emulator]', e);
      if (!res.headersSent) {
        await sendReply(res, clientError
          ? json(400, { error: 'invalid_request', message: (e as Error).message })
          : defenderError(500, 'InternalServerError', 'An internal error occurred.'), {});
      } else {
        res.destroy();
      }
    }
  }

  // The export blob host listens on its own port: another origin than the API's, as in Azure.
  const blobRouter = Router({ defaultRoute: (_req, res) => { void sendReply(res as ServerResponse, blobNotFound(), {}); } });
  const blobRoute = exportFiles.route();
  blobRouter.on(blobRoute.method, blobRoute.path, (req, res, params) => {
    void dispatch(blobRoute, req as IncomingMessage, res as ServerResponse, params as Record<string, string | undefined>);
  });

  const host = options.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, port: number): Promise<{ server: Server; origin: string }> {
    const listener: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, handler);
    listener.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, host, () => resolve());
    });
    return { server: listener, origin: `https://${urlHost}:${(listener.address() as AddressInfo).port}` };
  }
  const { server, origin } = await listen((req, res) => router.lookup(req, res), options.port ?? 0);
  const blob = await listen((req, res) => blobRouter.lookup(req, res), options.blobPort ?? 0);
  const blobOrigin = blob.origin;

  const primary = directory.tenants[0];
  const unprovisioned = directory.tenants[directory.tenants.length - 1];
  const tenantInfo = (t: DirectoryTenant): TenantInfo => ({
    tenantId: t.id,
    domain: t.domain,
    displayName: t.displayName,
    defenderProvisioned: t.defenderProvisioned,
    apps: Object.fromEntries(APP_CASES.flatMap((kind) => {
      const app = appInfo(t, kind);
      return app ? [[kind, app]] : [];
    })),
  });

  return {
    loginUrl: origin,
    apiUrl: origin,
    blobUrl: blobOrigin,
    feeds: {
      msrcCvrfUrl: `${origin}/cvrf/v3.0`,
      redHatVexUrl: `${origin}/data/csaf/v2/vex`,
      ubuntuOsvUrl: `${origin}/osv/Ubuntu`,
      nvdUrl: `${origin}/rest/json/cves/2.0`,
      kevUrl: `${origin}/sites/default/files/feeds/known_exploited_vulnerabilities.json`,
    },
    caFile: tls.caFile,
    caPem: tls.caPem,
    tenantId: primary.id,
    tenantDomain: primary.domain,
    apps: Object.fromEntries(APP_CASES.map((kind) => [kind, appInfo(primary, kind)!])) as Record<AppCase, AppCredentials>,
    unprovisionedTenantId: unprovisioned.id,
    tenants: directory.tenants.map(tenantInfo),
    signInApp: {
      clientId: signInApp.clientId,
      secretValue: signInApp.secrets[0].value,
      displayName: signInApp.displayName,
      redirectUris: signInApp.redirectUris,
      appRoles: signInApp.appRoles.map(({ id, value, displayName }) => ({ id, value, displayName })),
    },
    users: primary.users.map((u) => ({
      username: u.userPrincipalName, password: u.password, displayName: u.displayName, objectId: u.objectId,
      roles: assignedRoles(u, signInApp), groups: u.groups,
    })),
    devices,
    seed: seedText,
    faults,
    advance,
    followWallClock,
    resetRateLimits: () => rateLimiter.reset(),
    state,
    async close() {
      if (clockTimer) clearTimeout(clockTimer);
      for (const listener of [server, blob.server]) {
        listener.closeAllConnections();
        await new Promise<void>((resolve) => listener.close(() => resolve()));
      }
      if (ownStateDir) rmSync(stateDir, { recursive: true, force: true });
      else rmSync(exportDir, { recursive: true, force: true });
    },
  };
}

