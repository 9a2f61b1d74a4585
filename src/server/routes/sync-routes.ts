// Sync now, and run status and history.

import type { FastifyInstance } from 'fastify';
import type { RunLog, SyncKind } from '../../sync/runs.js';
import type { SyncRequests } from '../../sync/service.js';
import type { AuditLog } from '../../users/audit.js';
import { inScope } from '../../users/principal.js';
import { actorOf, NotFoundError, principalOf, visibleConnections } from '../auth.js';

const runSchema = {
  type: 'object',
  properties: {
    runId: { type: 'string' }, connectionId: { type: 'string' }, kind: { type: 'string' }, requested: { type: 'string' }, trigger: { type: 'string' },
    status: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed'] }, phase: { type: 'string' },
    startedAt: { type: ['string', 'null'] }, finishedAt: { type: ['string', 'null'] },
    parts: { type: 'object', properties: { done: { type: 'integer' }, total: { type: 'integer' } } },
    counts: { type: 'object', properties: { read: { type: 'integer' }, added: { type: 'integer' }, fixed: { type: 'integer' }, updated: { type: 'integer' }, reopened: { type: 'integer' } } },
    rate: { type: 'integer', description: 'Rows read per second.' },
    error: { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' }, fix: { type: ['string', 'null'] } } },
    createdAt: { type: 'string' },
  },
} as const;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const;
const pageQuery = { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, cursor: { type: 'string' } } as const;

export function registerSyncRoutes(app: FastifyInstance, deps: { runs: RunLog; sync: SyncRequests; audit: AuditLog }): void {
  const { runs, sync, audit } = deps;

  app.post<{ Params: { id: string }; Body: { kind?: SyncKind } | undefined }>('/api/v1/connections/:id/sync', {
    config: { access: 'operator', connectionParam: 'id' },
    schema: {
      tags: ['sync'], summary: 'Sync now. "auto" picks a delta when the checkpoint allows, else a full snapshot. A sync already queued or running is returned instead of a second one.',
      params: idParams,
      body: { type: ['object', 'null'], properties: { kind: { type: 'string', enum: ['full', 'delta', 'auto'], default: 'auto' } }, additionalProperties: false },
      response: { 202: { type: 'object', properties: { runId: { type: 'string' } } } },
    },
  }, async (request, reply) => {
    const kind = request.body?.kind ?? 'auto';
    const runId = await sync.request(request.params.id, kind, `requested by ${principalOf(request).actor}`);
    await audit.record(actorOf(request), 'sync.request', 'connection', request.params.id, { kind, runId });
    return reply.code(202).send({ runId });
  });

  app.get<{ Params: { runId: string } }>('/api/v1/sync-runs/:runId', {
    config: { access: 'analyst' },
    schema: { tags: ['sync'], summary: 'One sync run: status, phase, counts, and the diagnosis of a failure', params: { type: 'object', properties: { runId: { type: 'string' } } }, response: { 200: runSchema } },
  }, async (request) => {
    const run = await runs.get(request.params.runId);
    if (!run || !inScope(visibleConnections(request), run.connectionId)) throw new NotFoundError(`There is no sync run ${request.params.runId}.`);
    return run;
  });

  app.get<{ Params: { id: string }; Querystring: { limit?: number; cursor?: string } }>('/api/v1/connections/:id/sync-runs', {
    config: { access: 'analyst', connectionParam: 'id' },
    schema: { tags: ['sync'], summary: 'Run history of a connection, newest first', params: idParams, querystring: { type: 'object', properties: pageQuery } },
  }, (request) => runs.list(request.params.id, request.query.limit ?? 100, request.query.cursor));

}
