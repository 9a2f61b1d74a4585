// /api/v1/exceptions: risk exceptions (accepted risks with a justification, an owner and an
// expiry) on the connections the principal may see. Operators create, change and remove them.

import type { FastifyInstance } from 'fastify';
import { EXCEPTION_KINDS, JUSTIFICATIONS, MAX_EXCEPTION_DAYS, type ExceptionFilter, type ExceptionInput, type ExceptionService } from '../../remediation/exceptions.js';
import { actorOf, NotFoundError, visibleConnections } from '../auth.js';
import { idParams, integer, listOf, nullableString, object, string } from './exposure-routes.js';

const scopeProperties = {
  kind: { type: 'string', enum: EXCEPTION_KINDS, description: 'finding (deviceId, cveId, softwareVendor, softwareName, softwareVersion), cve (cveId), software (softwareVendor, softwareName, and softwareVersion for one version only) or rbac_group (rbacGroupId).' },
  deviceId: { type: 'string', maxLength: 300 }, cveId: { type: 'string', maxLength: 300 },
  softwareVendor: { type: 'string', maxLength: 300 }, softwareName: { type: 'string', maxLength: 300 }, softwareVersion: { type: 'string', maxLength: 300 },
  rbacGroupId: { type: 'integer', description: 'Defender\'s RbacGroupId.' },
};
const justification = { type: 'string', enum: JUSTIFICATIONS, description: 'Why the risk is accepted.' };
const editable = {
  justification,
  comment: { type: ['string', 'null'], maxLength: 2000, description: 'Details: the control, the mitigation, the plan.' },
  owner: { type: 'string', maxLength: 200, description: 'Who answers for the accepted risk.' },
  expiresOn: { type: 'string', maxLength: 10, description: `YYYY-MM-DD (UTC): the last day it applies; at most ${MAX_EXCEPTION_DAYS} days ahead.` },
};
const exceptionItem = object({
  id: string, connectionId: string, scope: { type: 'object', required: ['kind'], properties: scopeProperties, additionalProperties: false },
  justification, comment: nullableString, owner: string, expiresOn: string,
  status: { type: 'string', enum: ['active', 'expired'] },
  openFindings: { ...integer, description: 'Open findings it covers now (0 once expired, or when its scope no longer matches any).' },
  createdBy: string, createdAt: string, updatedAt: string,
});

export function registerExceptionRoutes(app: FastifyInstance, exceptions: ExceptionService): void {
  const tags = ['remediation'];
  const notFound = (id: string) => new NotFoundError(`There is no exception ${id}.`);

  app.get<{ Querystring: ExceptionFilter }>('/api/v1/exceptions', {
    config: { access: 'analyst' },
    schema: {
      tags, summary: 'Risk exceptions, soonest expiry first',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          connectionId: { type: 'string', maxLength: 100 },
          status: { type: 'string', enum: ['active', 'expired', 'all'], default: 'active' },
          kind: { type: 'string', enum: EXCEPTION_KINDS },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
          cursor: { type: 'string', maxLength: 200 },
        },
      },
      response: { 200: listOf(exceptionItem) },
    },
  }, async (request) => {
    await exceptions.expireDue();
    return exceptions.list(visibleConnections(request), request.query);
  });

  app.post<{ Body: ExceptionInput }>('/api/v1/exceptions', {
    config: { access: 'operator' },
    schema: {
      tags, summary: 'Accept a risk until a date',
      body: {
        type: 'object', required: ['connectionId', 'scope', 'justification', 'owner', 'expiresOn'], additionalProperties: false,
        properties: { connectionId: { type: 'string', maxLength: 100 }, scope: { type: 'object', properties: scopeProperties, additionalProperties: false }, ...editable },
      },
      response: { 201: exceptionItem },
    },
  }, async (request, reply) => {
    const created = await exceptions.create(request.body, actorOf(request), visibleConnections(request));
    if (!created) throw new NotFoundError(`There is no connection ${request.body.connectionId}.`);
    return reply.code(201).send(created);
  });

  app.get<{ Params: { id: string } }>('/api/v1/exceptions/:id', {
    config: { access: 'analyst' },
    schema: { tags, summary: 'One risk exception', params: idParams, response: { 200: exceptionItem } },
  }, async (request) => {
    await exceptions.expireDue();
    return (await exceptions.get(request.params.id, visibleConnections(request))) ?? Promise.reject(notFound(request.params.id));
  });

  app.patch<{ Params: { id: string }; Body: ExceptionInput }>('/api/v1/exceptions/:id', {
    config: { access: 'operator' },
    schema: {
      tags, summary: 'Change an exception\'s justification, comment, owner or expiry (its scope stays)', params: idParams,
      body: { type: 'object', additionalProperties: false, properties: { connectionId: { type: 'string' }, scope: { type: 'object' }, ...editable } },
      response: { 200: exceptionItem },
    },
  }, async (request) => (await exceptions.update(request.params.id, request.body, actorOf(request), visibleConnections(request))) ?? Promise.reject(notFound(request.params.id)));

  app.delete<{ Params: { id: string } }>('/api/v1/exceptions/:id', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Remove an exception (its findings count again at once)', params: idParams },
  }, async (request, reply) => {
    if (!(await exceptions.remove(request.params.id, actorOf(request), visibleConnections(request)))) throw notFound(request.params.id);
    return reply.code(204).send();
  });
}
