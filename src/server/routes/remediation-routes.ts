// The remediation API: the ranked remediations, one remediation (content, CVEs, progress, why this
// score), its devices (also as the CSV an Intune or ConfigMgr admin imports as a device group),
// and the coverage gaps. Everything is read from the connections the principal may see.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { visibleTenants } from '../../exposure/scope.js';
import type { RemediationDevice, RemediationItem, RemediationQueries } from '../../remediation/queries.js';
import type { Database } from '../../store/schema.js';
import { EXPLOIT_LEVELS, RISK_FORMULA } from '../../remediation/risk.js';
import type { RiskSettingsStore } from '../../remediation/risk-settings.js';
import type { AuditLog } from '../../users/audit.js';
import { SettingsInputError } from '../../users/security-settings.js';
import { actorOf, apiError, NotFoundError, visibleConnections } from '../auth.js';
import { sendCsv } from '../csv.js';
import {
  array, bySeverity, connectionId, idParams, integer, knownParameters, listOf, listQuery, nullableNumber, nullableString, object, SEVERITY_HELP, string,
  type ListRequest,
} from './exposure-routes.js';

const KINDS = ['windows_update', 'microsoft_update', 'linux_advisory', 'product_update'];
const remediationItemProperties = {
  id: string, connectionId: string, title: string, kind: { type: 'string', enum: KINDS }, riskScore: { type: 'number' }, openFindings: integer,
  fixedFindings: integer, devices: integer, cves: integer, bySeverity, dueOn: { ...nullableString, description: 'YYYY-MM-DD: the earliest SLA due date of its open findings (by default Critical 7, High 30, Medium 90, Low 180 days from first seen; CISA\'s KEV due date when sooner).' },
  status: { type: 'string', enum: ['open', 'in_progress', 'complete'] },
  slaState: { type: ['string', 'null'], enum: ['within', 'approaching', 'overdue', null], description: 'By dueOn: overdue after it, approaching in the last fifth of its highest open severity\'s window; null with no open findings.' },
  completedAt: { ...nullableString, description: 'When Defender reported its last open finding fixed.' },
};
const deviceItem = object({
  deviceId: string, deviceName: nullableString, osPlatform: nullableString, osVersion: nullableString, rbacGroupName: nullableString, lastSeen: nullableString, openFindings: integer,
});
const pageQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
    cursor: { type: 'string', maxLength: 2000 },
    format: { type: 'string', enum: ['json', 'csv'], default: 'json', description: 'csv: every device, for a device group import (paging ignored).' },
  },
  additionalProperties: false,
} as const;

export interface RemediationRouteDeps {
  db: Kysely<Database>;
  remediations: RemediationQueries;
}

export function registerRemediationRoutes(app: FastifyInstance, { db, remediations }: RemediationRouteDeps): void {
  const scopeOf = (request: FastifyRequest, id?: string) => visibleTenants(db, visibleConnections(request), id);
  const common = { config: { access: 'analyst' as const }, preValidation: knownParameters };

  app.get<{ Querystring: ListRequest }>('/api/v1/remediations', {
    ...common,
    schema: {
      tags: ['remediation'], summary: 'Remediations (the updates that close open findings), ranked by riskScore, highest first; total is exact',
      querystring: listQuery('riskScore (default, descending), openFindings, devices, cves, dueOn, title', {
        kind: { type: 'string', description: `${KINDS.join(', ')}; several comma-separated.` },
        severity: { type: 'string', description: `Remediations with open findings of this severity: ${SEVERITY_HELP}` },
        status: { type: 'string', description: 'open, in_progress or complete; several comma-separated.' },
      }),
      response: { 200: listOf(object(remediationItemProperties)) },
    },
  }, async (request, reply) => {
    const { format, connectionId: id, ...filter } = request.query;
    const scope = await scopeOf(request, id);
    if (format === 'csv') return sendCsv(reply, 'sitepatch-remediations', REMEDIATION_COLUMNS, mapPages(remediations.pages(scope, filter), csvRemediation));
    return remediations.list(scope, filter);
  });

  app.get<{ Params: { id: string }; Querystring: { connectionId?: string } }>('/api/v1/remediations/:id', {
    ...common,
    schema: {
      tags: ['remediation'], summary: 'A remediation: its update or versions, the CVEs it closes, its progress and why it scores what it does',
      params: idParams, querystring: { type: 'object', properties: { connectionId }, additionalProperties: false },
      response: {
        200: object({
          ...remediationItemProperties,
          update: { ...object({ id: string, title: nullableString }), type: ['object', 'null'], description: 'The KB (its number) or advisory to deploy.' },
          product: nullableString,
          versions: array(object({ product: string, minimumVersion: string })),
          progress: object({ fixedFindings: integer, openFindings: integer, percent: integer }),
          confirmation: nullableString,
          whyThisScore: object({
            cvss: { type: 'number' }, exploitLevel: { type: 'string', enum: ['none', 'public', 'verified', 'inKit', 'kev'] }, epss: { type: 'number' }, devices: integer,
            exploitWeight: { type: 'number' }, epssFactor: { type: 'number' }, reach: { type: 'number' },
            criticality: { type: 'number', description: 'The highest criticality of its devices\' RBAC groups (1 unless set in the risk settings).' }, score: { type: 'number' }, formula: string,
            topCves: array(object({ cveId: string, severity: nullableString, cvss: nullableNumber, epss: nullableNumber, exploitability: nullableString, kev: { type: 'boolean' }, openFindings: integer })),
          }),
          cveIds: array(string),
        }),
      },
    },
  }, async (request) => {
    const found = await remediations.detail(await scopeOf(request, request.query.connectionId), request.params.id);
    if (!found) throw new NotFoundError(`There is no remediation ${request.params.id} in the connections you can see.`);
    return found;
  });

  app.get<{ Params: { id: string }; Querystring: { limit: number; cursor?: string; format: 'json' | 'csv' } }>('/api/v1/remediations/:id/devices', {
    ...common,
    schema: {
      tags: ['remediation'], summary: 'The devices a remediation still has to reach (open findings in it); format=csv for a device group import',
      params: idParams, querystring: pageQuery, response: { 200: listOf(deviceItem) },
    },
  }, async (request, reply) => {
    const scope = await scopeOf(request);
    const { format, ...page } = request.query;
    if (format === 'csv') {
      const pages = await remediations.devicePages(scope, request.params.id);
      if (!pages) throw new NotFoundError(`There is no remediation ${request.params.id} in the connections you can see.`);
      return sendCsv(reply, `sitepatch-remediation-${request.params.id}-devices`, DEVICE_COLUMNS, pages);
    }
    const found = await remediations.devices(scope, request.params.id, page);
    if (!found) throw new NotFoundError(`There is no remediation ${request.params.id} in the connections you can see.`);
    return found;
  });

  app.get<{ Querystring: ListRequest }>('/api/v1/coverage-gaps', {
    ...common,
    schema: {
      tags: ['remediation'], summary: 'Open findings no known update covers, by product and reason, with what to do; totalFindings counts them all',
      querystring: listQuery('openFindings (default, descending), devices, product', { severity: { type: 'string', description: SEVERITY_HELP } }),
      response: {
        200: object({
          items: array(object({
            id: string, connectionId: string, product: string, title: string, reason: { type: 'string', enum: ['no_fix_released', 'will_not_fix', 'not_analysed', 'not_covered'] },
            whatToDo: string, openFindings: integer, devices: integer, cves: integer, bySeverity,
          })),
          total: integer, nextCursor: nullableString, totalFindings: integer,
        }),
      },
    },
  }, async (request, reply) => {
    const { format, connectionId: id, ...filter } = request.query;
    const scope = await scopeOf(request, id);
    if (format === 'csv') {
      return sendCsv(reply, 'sitepatch-coverage-gaps', ['connectionId', 'product', 'reason', 'openFindings', 'devices', 'cves', 'whatToDo'], remediations.gapPages(scope, filter));
    }
    return remediations.gaps(scope, filter);
  });
}

async function* mapPages<T, R>(pages: AsyncIterable<T[]>, map: (item: T) => R): AsyncGenerator<R[]> {
  for await (const page of pages) yield page.map(map);
}

const csvRemediation = ({ bySeverity: counts, ...r }: RemediationItem) => ({ ...r, ...counts });
const REMEDIATION_COLUMNS = ['connectionId', 'id', 'title', 'kind', 'riskScore', 'status', 'dueOn', 'slaState', 'openFindings', 'fixedFindings', 'devices', 'cves',
  'critical', 'high', 'medium', 'low', 'completedAt'] as (keyof ReturnType<typeof csvRemediation>)[];
/** The columns a device group import reads (Intune, ConfigMgr): the device name first. */
const DEVICE_COLUMNS: (keyof RemediationDevice)[] = ['deviceName', 'deviceId', 'osPlatform', 'osVersion', 'rbacGroupName', 'lastSeen', 'openFindings'];

export interface RiskSettingsRouteDeps {
  risk: RiskSettingsStore;
  audit: AuditLog;
  /** Scores every remediation again with the new settings (on the sync queue). */
  rescore: () => void;
}

const riskSettingsSchema = {
  type: 'object',
  properties: {
    exploitWeights: {
      type: 'object', additionalProperties: false, description: `Weight per exploit level (${EXPLOIT_LEVELS.join(', ')}), 0.1 to 10, never lower for a higher level.`,
      properties: Object.fromEntries(EXPLOIT_LEVELS.map((level) => [level, { type: 'number' }])),
    },
    groupCriticality: {
      type: 'array', maxItems: 1000, description: 'Criticality (0.1 to 10; 1 is normal) of RBAC groups: a remediation\'s score is multiplied by the highest of its devices\' groups.',
      items: { type: 'object', required: ['connectionId', 'rbacGroupId', 'criticality'], additionalProperties: false, properties: { connectionId: string, rbacGroupId: integer, criticality: { type: 'number' } } },
    },
  },
  additionalProperties: false,
} as const;

export function registerRiskSettingsRoutes(app: FastifyInstance, { risk, audit, rescore }: RiskSettingsRouteDeps): void {
  const response = { 200: { ...riskSettingsSchema, required: ['exploitWeights', 'groupCriticality'], properties: { ...riskSettingsSchema.properties, formula: string } } };
  app.get('/api/v1/settings/risk', {
    config: { access: 'analyst' },
    schema: { tags: ['settings'], summary: 'The risk score\'s weights and RBAC group criticalities', response },
  }, () => ({ ...risk.current(), formula: RISK_FORMULA }));

  app.patch<{ Body: Parameters<RiskSettingsStore['update']>[0] }>('/api/v1/settings/risk', {
    config: { access: 'admin' },
    schema: { tags: ['settings'], summary: 'Change the risk score\'s weights or RBAC group criticalities (every remediation is scored again)', body: riskSettingsSchema, response },
  }, async (request, reply) => {
    try {
      const { settings, changes } = await risk.update(request.body);
      if (Object.keys(changes).length) {
        await audit.record(actorOf(request), 'settings.update', 'settings', 'risk', { changes });
        rescore();
      }
      return { ...settings, formula: RISK_FORMULA };
    } catch (e) {
      if (e instanceof SettingsInputError) return apiError(reply, 422, 'invalid_input', e.message, { field: e.field });
      throw e;
    }
  });
}
