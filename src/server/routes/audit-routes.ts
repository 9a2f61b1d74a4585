// /api/v1/audit-events: the audit log, newest first, and its CSV export (administrators only:
// it covers every tenant and every account).

import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../users/audit.js';
import { actorOf } from '../auth.js';
import { sendCsv } from '../csv.js';

export function registerAuditRoutes(app: FastifyInstance, audit: AuditLog): void {
  app.get<{ Querystring: { limit?: number; cursor?: string } }>('/api/v1/audit-events', {
    config: { access: 'admin' },
    schema: {
      tags: ['audit'],
      summary: 'Audit log: who did what, from where, and when',
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 }, cursor: { type: 'string', pattern: '^[0-9]+$' } } },
    },
  }, (request) => audit.list(request.query.limit ?? 100, request.query.cursor ? Number(request.query.cursor) : undefined));

  app.get('/api/v1/audit-events.csv', {
    config: { access: 'admin' },
    schema: { tags: ['audit'], summary: 'The whole audit log as CSV, oldest first' },
  }, async (request, reply) => {
    await audit.record(actorOf(request), 'audit.export', 'audit', null);
    return sendCsv(reply, 'sitepatch-audit', ['id', 'at', 'actor', 'address', 'action', 'targetType', 'targetId', 'details'], audit.pages());
  });
}
