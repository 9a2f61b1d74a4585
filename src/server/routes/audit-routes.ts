// /api/v1/audit-events: the audit log, newest first.

import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../users/audit.js';

export function registerAuditRoutes(app: FastifyInstance, audit: AuditLog): void {
  app.get<{ Querystring: { limit?: number; cursor?: string } }>('/api/v1/audit-events', {
    schema: {
      tags: ['audit'],
      summary: 'Audit log: who changed what, and when',
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 }, cursor: { type: 'string', pattern: '^[0-9]+$' } } },
    },
  }, (request) => audit.list(request.query.limit ?? 100, request.query.cursor ? Number(request.query.cursor) : undefined));
}
