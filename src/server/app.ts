// The Fastify application: REST API under /api/v1 (with its OpenAPI document), the web console,
// authentication, and error replies in one shape: {"error": {"code", "message", ...}}.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type DestinationStream, type Logger } from 'pino';
import { ConnectionError, type ConnectionService } from '../connections/service.js';
import type { Accounts } from '../users/accounts.js';
import type { AuditLog } from '../users/audit.js';
import { apiError, NotFoundError, registerAuth } from './auth.js';
import { registerAuditRoutes } from './routes/audit-routes.js';
import { registerAuthRoutes } from './routes/auth-routes.js';
import { registerConnectionRoutes } from './routes/connection-routes.js';
import { registerSyncRoutes } from './routes/sync-routes.js';
import type { RunLog } from '../sync/runs.js';
import type { SyncService } from '../sync/service.js';
import type { FindingQueries } from '../exposure/findings.js';

/** Built console assets: dist/web next to dist/src. */
const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');

/** Request fields that could carry credentials never reach the log. */
export const LOG_REDACT = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]',
  '*.clientSecret', '*.password', '*.client_secret', '*.secretValue',
];

export interface AppDeps {
  accounts: Accounts;
  audit: AuditLog;
  connections: ConnectionService;
  runs: RunLog;
  sync: SyncService;
  findings: FindingQueries;
  logger: Logger;
  secureCookies: boolean;
  version: string;
}

/** The console's logger: JSON lines, credentials redacted. `stream` defaults to stdout. */
export function createLogger(level: string, stream?: DestinationStream): Logger {
  return pino({ level, redact: { paths: LOG_REDACT, censor: '[redacted]' } }, stream);
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    trustProxy: false,
    bodyLimit: 1 << 20,
  });

  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'SitePatch API', version: deps.version, description: 'Vulnerability-driven patching for Microsoft Defender for Endpoint.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'sitepatch_session', description: 'Browser session; state changes also need the x-csrf-token header.' },
          token: { type: 'http', scheme: 'bearer', description: 'API token from `sitepatch token create`.' },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
  });
  registerAuth(app, deps.accounts);

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof ConnectionError) return reply.code(error.status).send({ error: error.diagnosis });
    if (error instanceof NotFoundError) return apiError(reply, 404, 'not_found', error.message);
    const err = error as Error & { validation?: unknown; statusCode?: number };
    if (err.validation) return apiError(reply, 400, 'invalid_request', err.message);
    if (err.statusCode && err.statusCode < 500) return apiError(reply, err.statusCode, 'invalid_request', err.message);
    request.log.error({ err }, 'request failed');
    return apiError(reply, 500, 'internal_error', 'Something went wrong on the SitePatch server; the details are in its log.');
  });

  app.get('/api/v1/health', { config: { public: true }, schema: { tags: ['health'], summary: 'Liveness' } }, () => ({ status: 'ok', version: deps.version }));
  app.get('/api/v1/openapi.json', { schema: { tags: ['health'], summary: 'This API\'s OpenAPI document' } }, () => app.swagger());
  registerAuthRoutes(app, { accounts: deps.accounts, audit: deps.audit, secureCookies: deps.secureCookies });
  registerConnectionRoutes(app, deps.connections);
  registerAuditRoutes(app, deps.audit);
  registerSyncRoutes(app, { runs: deps.runs, sync: deps.sync, findings: deps.findings });

  if (existsSync(path.join(WEB_ROOT, 'index.html'))) {
    await app.register(fastifyStatic, { root: WEB_ROOT, wildcard: false });
    // The console is a single-page app: unknown non-API paths serve its shell.
    app.setNotFoundHandler((request, reply) => (request.url.startsWith('/api/')
      ? apiError(reply, 404, 'not_found', `No such endpoint: ${request.method} ${request.url}`)
      : reply.sendFile('index.html')));
  } else {
    app.setNotFoundHandler((request, reply) => apiError(reply, 404, 'not_found', request.url.startsWith('/api/')
      ? `No such endpoint: ${request.method} ${request.url}`
      : 'The web console is not built: run `npm run build`.'));
  }
  return app;
}
