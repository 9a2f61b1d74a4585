// The Fastify application: REST API under /api/v1 (with its OpenAPI document), the web console,
// authentication, and error replies in one shape: {"error": {"code", "message", ...}}.

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { pino, type DestinationStream, type Logger } from 'pino';
import { ConnectionError, type ConnectionService } from '../connections/service.js';
import type { Accounts } from '../users/accounts.js';
import type { AuditLog } from '../users/audit.js';
import { apiError, NotFoundError, registerAuth } from './auth.js';
import { registerAuditRoutes } from './routes/audit-routes.js';
import { registerAuthRoutes, type EntraSignInSetup } from './routes/auth-routes.js';
import { registerUserRoutes } from './routes/user-routes.js';
import { registerHardening } from './hardening.js';
import type { SecuritySettingsStore } from '../users/security-settings.js';
import { registerConnectionRoutes } from './routes/connection-routes.js';
import { registerSyncRoutes } from './routes/sync-routes.js';
import { registerExposureRoutes } from './routes/exposure-routes.js';
import { registerContentRoutes } from './routes/content-routes.js';
import { registerExceptionRoutes } from './routes/exception-routes.js';
import { registerRemediationRoutes, registerRiskSettingsRoutes } from './routes/remediation-routes.js';
import { registerSlaRoutes } from './routes/sla-routes.js';
import { registerOpsRoutes } from './routes/ops-routes.js';
import type { Metrics } from '../ops/metrics.js';
import type { ExceptionService } from '../remediation/exceptions.js';
import type { RiskSettingsStore } from '../remediation/risk-settings.js';
import type { ContentService } from '../content/imports.js';
import type { RunLog } from '../sync/runs.js';
import type { SyncRequests } from '../sync/service.js';
import { NotOnThisStoreError, type ExposureQueries } from '../exposure/queries.js';
import { BadParameterError } from '../exposure/paging.js';

/** Built console assets: dist/web next to dist/src. */
const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');

/** Request fields that could carry credentials never reach the log. */
export const LOG_REDACT = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]',
  '*.clientSecret', '*.password', '*.client_secret', '*.secretValue', '*.currentPassword', '*.newPassword', '*.totpCode', '*.token',
  '*.entraClientSecret',
];

export interface AppDeps {
  accounts: Accounts;
  audit: AuditLog;
  security: SecuritySettingsStore;
  connections: ConnectionService;
  runs: RunLog;
  sync: SyncRequests;
  content: ContentService;
  exceptions: ExceptionService;
  risk: RiskSettingsStore;
  exposure: ExposureQueries;
  metrics: Metrics;
  /** What keeps the store from serving (empty when ready): /ready answers 503 then. */
  readinessProblems: () => string[] | Promise<string[]>;
  logger: Logger;
  secureCookies: boolean;
  version: string;
  /** Host names the console answers to. */
  allowedHosts: Set<string>;
  /** Reverse proxies trusted to name the client in X-Forwarded-For (the throttle and the audit log use it). */
  trustProxy: string[];
  /** TLS key and certificate (PEM) to serve HTTPS. */
  https?: { key: string; cert: string };
  /** Whether users reach the console over HTTPS (directly, or through a TLS proxy): HSTS is sent. */
  servedOverHttps: boolean;
  entra?: EntraSignInSetup;
}

/** An X-Request-Id the console keeps (anything else gets a new id). */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Query parameters that carry a credential (Entra's authorization code, the sign-in's state). */
const SECRET_QUERY = /([?&](?:code|state|session_state|id_token)=)[^&#]*/gi;

/** The console's logger: JSON lines, credentials redacted. `stream` defaults to stdout. */
export function createLogger(level: string, stream?: DestinationStream): Logger {
  return pino({
    level,
    redact: { paths: LOG_REDACT, censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
        method: req.method, url: req.url.replace(SECRET_QUERY, '$1[redacted]'), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort,
      }),
    },
  }, stream);
}

/** What every HTTP server of SitePatch needs, the console's and a worker's. */
export type HttpDeps = Pick<AppDeps, 'accounts' | 'metrics' | 'logger' | 'allowedHosts' | 'trustProxy' | 'https' | 'servedOverHttps'>;

/**
 * A Fastify server without routes: request ids, the latency metric, hardening, and sign-in
 * (every route added to it is closed unless marked public), with errors in the API's shape.
 */
export async function createHttpServer(deps: HttpDeps, beforeRoutes?: (app: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    trustProxy: deps.trustProxy.length ? deps.trustProxy : false,
    bodyLimit: 1 << 20,
    ...(deps.https ? { https: deps.https } : {}),
    // Router errors (a malformed %-escape, an overlong path parameter) answer in the API's shape too.
    frameworkErrors: (error, _request, reply) => {
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      return apiError(reply, tooLong ? 414 : 400, tooLong ? 'uri_too_long' : 'invalid_request', tooLong ? 'A part of the address is too long.' : 'The address is not valid (a malformed %-escape?).');
    },
    clientErrorHandler: answerClientError,
    // A proxy's X-Request-Id is kept when it is a plain token, so one id follows a request through the logs.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
  }) as unknown as FastifyInstance;
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    // The matched route's pattern: a label per route, never per URL as sent.
    deps.metrics.requestAnswered(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });

  await registerHardening(app, { allowedHosts: deps.allowedHosts, https: deps.servedOverHttps });
  await app.register(fastifyCookie);
  await beforeRoutes?.(app);
  registerAuth(app, deps.accounts);
  app.setErrorHandler(answerError);
  return app;
}

/** The address a listening server answers at (a wildcard listen address as loopback). */
export function listenUrl(app: FastifyInstance, listenHost: string, https: boolean): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const host = listenHost.includes(':') ? (listenHost === '::' ? '[::1]' : `[${listenHost}]`) : listenHost === '0.0.0.0' ? '127.0.0.1' : listenHost;
  return `${https ? 'https' : 'http'}://${host}:${port}`;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // Swagger sees every route from here on.
  const app = await createHttpServer(deps, async (server) => {
    await server.register(fastifySwagger, {
      openapi: {
        info: { title: 'SitePatch API', version: deps.version, description: 'Vulnerability-driven patching for Microsoft Defender for Endpoint.' },
        components: {
          securitySchemes: {
            session: { type: 'apiKey', in: 'cookie', name: 'sitepatch_session', description: 'Browser session; state changes also need the x-csrf-token header.' },
            token: { type: 'http', scheme: 'bearer', description: 'API token (My account → API tokens, or `sitepatch token create`).' },
          },
        },
        security: [{ session: [] }, { token: [] }],
      },
    });
  });
  app.get('/api/v1/health', { config: { access: 'public' }, schema: { tags: ['health'], summary: 'Liveness' } }, () => ({ status: 'ok', version: deps.version }));
  registerOpsRoutes(app, { version: deps.version, metrics: deps.metrics, readinessProblems: deps.readinessProblems });
  app.get('/api/v1/openapi.json', { config: { access: 'analyst' }, schema: { tags: ['health'], summary: 'This API\'s OpenAPI document' } }, () => app.swagger());
  registerAuthRoutes(app, { accounts: deps.accounts, audit: deps.audit, secureCookies: deps.secureCookies, entra: deps.entra });
  registerUserRoutes(app, { accounts: deps.accounts, audit: deps.audit, security: deps.security });
  registerConnectionRoutes(app, deps.connections);
  registerAuditRoutes(app, deps.audit);
  registerSyncRoutes(app, { runs: deps.runs, sync: deps.sync, audit: deps.audit });
  registerExposureRoutes(app, deps.exposure);
  registerRemediationRoutes(app, { db: deps.exposure.db, remediations: deps.exposure.remediations });
  registerExceptionRoutes(app, deps.exceptions);
  registerRiskSettingsRoutes(app, { risk: deps.risk, audit: deps.audit, rescore: () => deps.sync.rescoreRemediations() });
  registerSlaRoutes(app, { db: deps.exposure.db, sla: deps.exposure.sla });
  registerContentRoutes(app, { content: deps.content, audit: deps.audit });

  const notFound = (request: FastifyRequest) => `No such endpoint: ${request.method} ${request.url.slice(0, 200)}`;
  const isApi = (request: FastifyRequest) => safeDecode(request.url.split('?')[0]).startsWith('/api/');
  if (existsSync(path.join(WEB_ROOT, 'index.html'))) {
    await app.register(fastifyStatic, { root: WEB_ROOT, serve: false });
    // The console's files are public (they hold no data); everything else stays closed.
    await app.register(async (files) => {
      files.addHook('onRoute', (route) => { route.config = { ...route.config, access: 'public', staticAsset: true }; });
      await files.register(fastifyStatic, { root: WEB_ROOT, wildcard: false, decorateReply: false });
    });
    // The console is a single-page app: unknown non-API paths serve its shell.
    app.setNotFoundHandler((request, reply) => (isApi(request) || request.method !== 'GET'
      ? apiError(reply, 404, 'not_found', notFound(request))
      : reply.sendFile('index.html')));
  } else {
    app.setNotFoundHandler((request, reply) => apiError(reply, 404, 'not_found', isApi(request)
      ? notFound(request)
      : 'The web console is not built: run `npm run build`.'));
  }
  return app;
}

/** Errors answer in the API's shape; unexpected ones go to the log, never their details to the caller. */
function answerError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof ConnectionError) return reply.code(error.status).send({ error: error.diagnosis });
  if (error instanceof NotFoundError) return apiError(reply, 404, 'not_found', error.message);
  if (error instanceof BadParameterError) return apiError(reply, 400, 'invalid_parameter', error.message, { fix: error.fix, field: error.parameter });
  if (error instanceof NotOnThisStoreError) return apiError(reply, 501, 'not_on_this_store', error.message);
  const err = error as Error & { validation?: unknown; statusCode?: number };
  if (err.validation) return apiError(reply, 400, 'invalid_request', err.message);
  if (err.statusCode === 429) return apiError(reply, 429, 'rate_limited', err.message);
  if (err.statusCode && err.statusCode < 500) return apiError(reply, err.statusCode, 'invalid_request', err.message);
  request.log.error({ err }, 'request failed');
  return apiError(reply, 500, 'internal_error', 'Something went wrong on the SitePatch server; the details are in its log.');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Requests Node's HTTP parser refuses (oversized headers, garbage) get the API's error shape. */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] = error.code === 'HPE_HEADER_OVERFLOW'
    ? [431, 'headers_too_large', 'The request headers (or the address) are too large.']
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request_timeout', 'The request took too long to arrive.'] : [400, 'invalid_request', 'The request is not valid HTTP.'];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}
