// Patch content: the import history, one import's progress, and "import now".

import type { FastifyInstance } from 'fastify';
import type { ContentService, ImportSource } from '../../content/imports.js';
import type { AuditLog } from '../../users/audit.js';
import { actorOf, NotFoundError, principalOf } from '../auth.js';

const nullableString = { type: ['string', 'null'] } as const;
const feedName = { type: 'string', enum: ['msrc', 'redhat', 'ubuntu', 'nvd', 'kev'] } as const;
const importSchema = {
  type: 'object',
  properties: {
    importId: { type: 'string' },
    source: { type: 'string', enum: ['msrc', 'redhat', 'ubuntu', 'nvd', 'kev', 'all'] },
    origin: { type: 'string', description: 'schedule, manual or file.' },
    actor: nullableString,
    status: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed'] },
    phase: { type: 'string' },
    progress: { type: 'object', required: ['done', 'total'], properties: { done: { type: 'integer' }, total: { type: ['integer', 'null'] } } },
    documents: { type: 'integer' }, records: { type: 'integer' },
    skipped: {
      type: 'object', description: 'What the feeds held that SitePatch did not understand: the count, and the first ones with where and why.',
      required: ['count', 'first'],
      properties: { count: { type: 'integer' }, first: { type: 'array', items: { type: 'object', required: ['where', 'reason'], properties: { where: { type: 'string' }, reason: { type: 'string' } } } } },
    },
    feeds: {
      type: 'array', description: 'Each feed the import covered, with its own outcome: an import of all feeds applies each one apart.',
      items: {
        type: 'object', required: ['feed', 'status', 'error', 'finishedAt', 'documents', 'records', 'skipped'],
        properties: {
          feed: feedName, status: { type: 'string', enum: ['succeeded', 'failed'] }, error: nullableString, finishedAt: { type: 'string' },
          documents: { type: 'integer' }, records: { type: 'integer' }, skipped: { type: 'integer' },
        },
      },
    },
    error: { ...nullableString, description: 'Why the import failed; the knowledge of the previous import is kept.' },
    createdAt: { type: 'string' }, startedAt: nullableString, finishedAt: nullableString,
  },
} as const;
const importItem = { ...importSchema, required: Object.keys(importSchema.properties) };

const feedState = {
  type: 'object', required: ['feed', 'url', 'lastImport', 'lastSuccess'],
  properties: {
    feed: feedName,
    url: { type: 'string', description: 'The feed\'s address (its setting).' },
    lastImport: {
      type: ['object', 'null'], required: ['importId', 'status', 'finishedAt', 'error'],
      properties: { importId: { type: 'string' }, status: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed'] }, finishedAt: nullableString, error: nullableString },
    },
    lastSuccess: {
      type: ['object', 'null'], description: 'The import the knowledge from this feed comes from.', required: ['importId', 'finishedAt', 'documents', 'records', 'skipped'],
      properties: { importId: { type: 'string' }, finishedAt: { type: 'string' }, documents: { type: 'integer' }, records: { type: 'integer' }, skipped: { type: 'integer' } },
    },
  },
} as const;

export function registerContentRoutes(app: FastifyInstance, deps: { content: ContentService; audit: AuditLog }): void {
  const { content, audit } = deps;

  app.get<{ Querystring: { limit?: number; cursor?: string } }>('/api/v1/content/imports', {
    config: { access: 'analyst' },
    schema: {
      tags: ['content'], summary: 'Patch content imports, newest first',
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 }, cursor: { type: 'string', maxLength: 100 } }, additionalProperties: false },
      response: { 200: { type: 'object', required: ['items', 'total', 'nextCursor'], properties: { items: { type: 'array', items: importItem }, total: { type: 'integer' }, nextCursor: nullableString } } },
    },
  }, (request) => content.list(request.query.limit ?? 50, request.query.cursor));

  app.get('/api/v1/content/feeds', {
    config: { access: 'analyst' },
    schema: {
      tags: ['content'], summary: 'The five feeds: each one\'s address, its last import and the last one that succeeded',
      response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: feedState } } } },
    },
  }, async () => ({ items: await content.feeds() }));

  app.get<{ Params: { id: string } }>('/api/v1/content/imports/:id', {
    config: { access: 'analyst' },
    schema: { tags: ['content'], summary: 'One import: its progress while it runs, its counts, what it skipped, its error', params: { type: 'object', properties: { id: { type: 'string', maxLength: 100 } } }, response: { 200: importItem } },
  }, async (request) => {
    const found = await content.get(request.params.id);
    if (!found) throw new NotFoundError(`There is no content import ${request.params.id}.`);
    return found;
  });

  app.post<{ Body: { source: ImportSource } }>('/api/v1/content/imports', {
    config: { access: 'operator' },
    schema: {
      tags: ['content'], summary: 'Import patch content now from one feed, or from all of them in turn; answers the import\'s id (imports run one at a time)',
      body: { type: 'object', required: ['source'], properties: { source: { type: 'string', enum: ['msrc', 'redhat', 'ubuntu', 'nvd', 'kev', 'all'] } }, additionalProperties: false },
      response: { 202: { type: 'object', properties: { importId: { type: 'string' } } } },
    },
  }, async (request, reply) => {
    const { importId } = await content.start(request.body.source, 'manual', principalOf(request).actor);
    await audit.record(actorOf(request), 'content.import', 'content', request.body.source, { importId });
    return reply.code(202).send({ importId });
  });
}
