// /api/v1/connections: list, create (after the live check), read, edit, test, remove.

import type { FastifyInstance } from 'fastify';
import { CLOUDS } from '../../entra/clouds.js';
import type { RawConnectionFields } from '../../connections/input.js';
import type { ConnectionService } from '../../connections/service.js';
import { actorOf, visibleConnections } from '../auth.js';

const nullableString = { type: ['string', 'null'], maxLength: 2048 } as const;

const fieldsSchema = {
  type: 'object',
  properties: {
    name: nullableString,
    cloud: { ...nullableString, description: `One of ${CLOUDS.join(', ')}.` },
    tenantId: { ...nullableString, description: 'Directory (tenant) ID: a GUID or a domain.' },
    clientId: { ...nullableString, description: 'Application (client) ID.' },
    clientSecret: { ...nullableString, description: 'The client secret Value (never the Secret ID). Write-only.' },
    loginUrl: { ...nullableString, description: 'Sign-in base URL; cloud "custom" only.' },
    apiUrl: { ...nullableString, description: 'Defender API base URL; cloud "custom" only.' },
    secretExpiresOn: { ...nullableString, description: 'YYYY-MM-DD, from the Expires column in Entra.' },
    syncIntervalMinutes: { type: ['integer', 'null'], description: 'Minutes between scheduled syncs (15 to 10080; default 360).' },
    exportMethod: { ...nullableString, description: '"files" (export via files, default) or "json" (paged JSON export).' },
  },
  additionalProperties: false,
} as const;

const connectionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, cloud: { type: 'string' }, tenantId: { type: 'string' }, clientId: { type: 'string' },
    loginUrl: { type: ['string', 'null'] }, apiUrl: { type: ['string', 'null'] },
    secret: { type: 'object', properties: { set: { type: 'boolean' }, setAt: { type: 'string' }, hint: { type: 'string' }, expiresOn: { type: ['string', 'null'] } } },
    status: { type: 'string', enum: ['connected', 'failed', 'unchecked'] },
    syncIntervalMinutes: { type: 'integer' }, exportMethod: { type: 'string' },
    lastCheckedAt: { type: ['string', 'null'] },
    lastCheck: { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
    warnings: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } },
    createdAt: { type: 'string' }, updatedAt: { type: 'string' },
  },
} as const;

const saveQuery = {
  type: 'object',
  properties: { skipCheck: { type: 'boolean', description: '"Save without checking": store without the live check.' } },
} as const;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const;

const failedCheck = {
  description: 'The input check or the live check failed; nothing was stored.',
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, fix: { type: 'string' }, step: { type: 'string' }, field: { type: 'string' }, fields: { type: 'object', additionalProperties: { type: 'string' } } } } },
} as const;

export function registerConnectionRoutes(app: FastifyInstance, connections: ConnectionService): void {
  const tags = ['connections'];
  app.get('/api/v1/connections', {
    config: { access: 'analyst' },
    schema: { tags, summary: 'List connections', response: { 200: { type: 'object', properties: { items: { type: 'array', items: connectionSchema }, total: { type: 'integer' }, nextCursor: { type: ['string', 'null'] } } } } },
  }, (request) => connections.list(visibleConnections(request)));

  app.post<{ Body: RawConnectionFields; Querystring: { skipCheck?: boolean } }>('/api/v1/connections', {
    config: { access: 'admin' },
    schema: { tags, summary: 'Check, then add a connection', body: fieldsSchema, querystring: saveQuery, response: { 201: connectionSchema, 422: failedCheck } },
  }, async (request, reply) => reply.code(201).send(await connections.create(request.body, actorOf(request), { skipCheck: request.query.skipCheck })));

  app.get<{ Params: { id: string } }>('/api/v1/connections/:id', {
    config: { access: 'analyst', connectionParam: 'id' },
    schema: { tags, summary: 'One connection', params: idParams, response: { 200: connectionSchema } },
  }, (request) => connections.get(request.params.id));

  app.patch<{ Params: { id: string }; Body: RawConnectionFields; Querystring: { skipCheck?: boolean } }>('/api/v1/connections/:id', {
    config: { access: 'admin', connectionParam: 'id' },
    schema: { tags, summary: 'Edit a connection (fields left out keep their value; send clientSecret alone to replace the secret)', params: idParams, body: fieldsSchema, querystring: saveQuery, response: { 200: connectionSchema, 422: failedCheck } },
  }, (request) => connections.update(request.params.id, request.body, actorOf(request), { skipCheck: request.query.skipCheck }));

  app.post<{ Params: { id: string } }>('/api/v1/connections/:id/test', {
    config: { access: 'operator', connectionParam: 'id' },
    schema: { tags, summary: 'Run the live check on a stored connection', params: idParams, response: { 200: connectionSchema, 422: failedCheck } },
  }, (request) => connections.test(request.params.id, actorOf(request)));

  app.delete<{ Params: { id: string } }>('/api/v1/connections/:id', {
    config: { access: 'admin', connectionParam: 'id' },
    schema: { tags, summary: 'Remove a connection', params: idParams },
  }, async (request, reply) => {
    await connections.remove(request.params.id, actorOf(request));
    return reply.code(204).send();
  });
}
