// A worker's HTTP server: /health, /ready and /metrics, as the console serves them (the same
// sign-in: /metrics needs an API token of an administrator of all connections), and nothing else.

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Settings } from '../config/settings.js';
import type { Metrics } from '../ops/metrics.js';
import { apiError } from '../server/auth.js';
import { createHttpServer, listenUrl } from '../server/app.js';
import { allowedHostNames } from '../server/hardening.js';
import { registerOpsRoutes } from '../server/routes/ops-routes.js';
import type { Accounts } from '../users/accounts.js';

export interface OpsServerDeps {
  settings: Settings;
  accounts: Accounts;
  metrics: Metrics;
  readinessProblems: () => Promise<string[]>;
  logger: Logger;
  version: string;
}

/** Listens on the settings' host and worker port; answers the server and its address. */
export async function startOpsServer({ settings, accounts, metrics, readinessProblems, logger, version }: OpsServerDeps): Promise<{ app: FastifyInstance; url: string }> {
  const app = await createHttpServer({
    accounts, metrics, logger, allowedHosts: allowedHostNames(settings.host, settings), trustProxy: settings.trustProxy, servedOverHttps: false,
  });
  registerOpsRoutes(app, { version, metrics, readinessProblems });
  app.setNotFoundHandler((request, reply) => apiError(reply, 404, 'not_found', `No such endpoint on a worker: ${request.method} ${request.url.slice(0, 200)} (it serves /health, /ready and /metrics).`));
  await app.listen({ host: settings.host, port: settings.workerPort });
  return { app, url: listenUrl(app, settings.host, false) };
}
