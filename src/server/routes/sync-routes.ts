// Sync now, run status and history, and the findings the syncs keep.

import type { FastifyInstance } from 'fastify';
import type { FindingQueries, FindingView } from '../../exposure/findings.js';
import { sendCsv } from '../csv.js';
import type { RunLog, SyncKind } from '../../sync/runs.js';
import type { SyncService } from '../../sync/service.js';
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

export function registerSyncRoutes(app: FastifyInstance, deps: { runs: RunLog; sync: SyncService; findings: FindingQueries; audit: AuditLog }): void {
  const { runs, sync, findings, audit } = deps;

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

  app.get<{ Querystring: FindingQuery }>('/api/v1/findings', {
    config: { access: 'analyst' },
    schema: {
      tags: ['findings'], summary: 'Findings (device × software × CVE); total is exact. `format=csv` downloads the whole filtered list (paging ignored).',
      querystring: {
        type: 'object',
        properties: {
          connectionId: { type: 'string' }, status: { type: 'string', enum: ['open', 'fixed'] }, deviceId: { type: 'string' }, cveId: { type: 'string' },
          ...pageQuery, cursor: { type: 'string', pattern: '^[0-9]+$' }, format: { type: 'string', enum: ['json', 'csv'], default: 'json' },
        },
        additionalProperties: false,
      },
    },
  }, (request, reply) => {
    const { limit, cursor, format, ...filter } = request.query;
    const scoped = { ...filter, scope: visibleConnections(request) };
    if (format === 'csv') {
      const rows = async function* () {
        for await (const page of findings.pages(scoped)) yield page.map(csvRow);
      };
      return sendCsv(reply, 'sitepatch-findings', FINDING_COLUMNS, rows());
    }
    return findings.list({ ...scoped, limit: limit ?? 100, cursor: cursor ? Number(cursor) : undefined });
  });
}

interface FindingQuery {
  connectionId?: string;
  status?: 'open' | 'fixed';
  deviceId?: string;
  cveId?: string;
  limit?: number;
  cursor?: string;
  format?: 'json' | 'csv';
}

/** A finding as one flat CSV row. */
function csvRow(f: FindingView) {
  return {
    connectionId: f.connectionId, deviceId: f.deviceId, deviceName: f.deviceName, rbacGroup: f.rbacGroupName,
    softwareVendor: f.software.vendor, softwareName: f.software.name, softwareVersion: f.software.version, cveId: f.cveId,
    severity: f.severity, cvss: f.cvss, exploitability: f.exploitability, recommendedUpdate: f.recommendedUpdate.id ?? f.recommendedUpdate.title,
    status: f.status, firstSeen: f.firstSeen, lastSeen: f.lastSeen, openedAt: f.openedAt, fixedAt: f.fixedAt, reopened: f.reopened,
  };
}

const FINDING_COLUMNS = ['connectionId', 'deviceId', 'deviceName', 'rbacGroup', 'softwareVendor', 'softwareName', 'softwareVersion', 'cveId', 'severity', 'cvss',
  'exploitability', 'recommendedUpdate', 'status', 'firstSeen', 'lastSeen', 'openedAt', 'fixedAt', 'reopened'] as (keyof ReturnType<typeof csvRow>)[];
