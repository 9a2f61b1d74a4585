// Operations: liveness (/health), readiness (/ready) for load balancers and orchestrators, and
// Prometheus metrics (/metrics). Liveness and readiness hold no data and are public; the metrics
// count every tenant's syncs together, so they need an administrator of all connections (an API
// token: Prometheus sends it with `authorization: { credentials_file: ... }`).

import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../ops/metrics.js';
import { apiError } from '../auth.js';

export function registerOpsRoutes(app: FastifyInstance, deps: { version: string; metrics: Metrics; readinessProblems: () => string[] | Promise<string[]> }): void {
  app.get('/health', { config: { access: 'public' }, schema: { tags: ['health'], summary: 'Liveness: the process answers' } },
    () => ({ status: 'ok', version: deps.version }));

  app.get('/ready', {
    config: { access: 'public' },
    schema: { tags: ['health'], summary: 'Readiness: the store answers and its migrations are this version\'s (503 otherwise)' },
  }, async (request, reply) => {
    const problems = await deps.readinessProblems();
    if (problems.length === 0) return { status: 'ready', version: deps.version };
    // The details name files and migrations: they go to the log, not to an anonymous caller.
    request.log.warn({ problems }, 'not ready');
    return apiError(reply, 503, 'not_ready', 'SitePatch cannot serve yet: its store is not ready. The server log says why.');
  });

  app.get('/metrics', {
    config: { access: 'admin', allConnections: true },
    schema: { tags: ['health'], summary: 'Prometheus metrics (text exposition format)' },
  }, async (_request, reply) => {
    return reply.type(deps.metrics.registry.contentType).header('cache-control', 'no-store').send(await deps.metrics.registry.metrics());
  });
}
