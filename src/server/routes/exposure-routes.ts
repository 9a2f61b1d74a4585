// The exposure API: overview, trend and facets, and the lists behind the console's pages
// (vulnerabilities, devices, software, findings, tenants), each also as CSV. Everything is read
// from the connections the principal may see.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DeviceQueries } from '../../exposure/devices.js';
import { FINDING_CSV_COLUMNS } from '../../exposure/findings.js';
import type { ExposureQueries } from '../../exposure/queries.js';
import type { OverviewQueries } from '../../exposure/overview.js';
import type { SlaQueries } from '../../remediation/sla.js';
import { visibleTenants } from '../../exposure/scope.js';
import type { SoftwareQueries } from '../../exposure/software.js';
import type { VulnerabilityQueries } from '../../exposure/vulnerabilities.js';
import type { DeviceItem, SoftwareItem, TenantItem, VulnerabilityItem } from '../../exposure/views.js';
import type { Database } from '../../store/schema.js';
import type { Kysely } from 'kysely';
import { apiError, NotFoundError, visibleConnections } from '../auth.js';
import { sendCsv, sendCsvBody } from '../csv.js';

// JSON schemas of the answers (they also make the OpenAPI document and the console's API types).
export const string = { type: 'string' } as const;
export const nullableString = { type: ['string', 'null'] } as const;
export const integer = { type: 'integer' } as const;
const nullableInteger = { type: ['integer', 'null'] } as const;
export const nullableNumber = { type: ['number', 'null'] } as const;
const boolean = { type: 'boolean' } as const;
export const object = (properties: Record<string, unknown>, description?: string) =>
  ({ type: 'object', required: Object.keys(properties), properties, additionalProperties: false, ...(description ? { description } : {}) });
export const array = (items: unknown) => ({ type: 'array', items });
export const listOf = (item: unknown) => object({ items: array(item), total: integer, nextCursor: nullableString });

export const bySeverity = object({ critical: integer, high: integer, medium: integer, low: integer }, 'Open findings by severity.');
const freshness = object({
  connectionId: string, name: string, lastSuccessfulSync: nullableString, dataTime: nullableString, dataAgeSeconds: nullableInteger,
  nextSyncAt: nullableString, syncIntervalMinutes: integer, stale: boolean,
});
const cveSummary = object({ id: string, name: nullableString, severity: nullableString, cvss: nullableNumber, exposedDevices: integer, openFindings: integer });
const softwareSummary = object({ id: string, vendor: string, name: string, version: string, exposedDevices: integer, openFindings: integer, cves: integer });
const deviceSummaryProperties = { id: string, connectionId: string, name: nullableString, osPlatform: nullableString, openFindings: integer, bySeverity };
const vulnerabilityItemProperties = {
  id: string, name: nullableString, severity: nullableString, cvss: nullableNumber, epss: nullableNumber,
  exploitLevel: { type: 'string', enum: ['none', 'public', 'verified', 'inKit'] }, publishedOn: nullableString, firstSeen: nullableString,
  exposedDevices: integer, openFindings: integer,
};
const deviceItemProperties = {
  ...deviceSummaryProperties, osVersion: nullableString, osArchitecture: nullableString, rbacGroupId: nullableInteger, rbacGroupName: nullableString, lastSeen: nullableString,
};
const softwareRef = { id: string, vendor: string, name: string, version: string };
const deviceFindingProperties = {
  cveId: string, severity: nullableString, cvss: nullableNumber, exploitability: nullableString,
  recommendedUpdate: object({ id: nullableString, title: nullableString, url: nullableString }), firstSeen: nullableString, openedAt: string,
  fixedAt: nullableString, reopened: integer,
};
const softwareItemProperties = { ...softwareSummary.properties, bySeverity };
const tenantItem = object({
  ...freshness.properties, cloud: string, status: string, devices: integer, exposedDevices: integer, openFindings: integer, bySeverity,
});
const findingItem = object({
  id: integer, connectionId: string, deviceId: string, deviceName: nullableString, rbacGroupName: nullableString, osPlatform: nullableString,
  software: object({ vendor: string, name: string, version: string }), cveId: string, severity: nullableString, cvss: nullableNumber,
  exploitability: nullableString,
  recommendedUpdate: object({ title: nullableString, id: nullableString, url: nullableString, available: { type: ['boolean', 'null'] } }),
  firstSeen: nullableString, lastSeen: nullableString, status: { type: 'string', enum: ['open', 'fixed'] }, openedAt: string, fixedAt: nullableString, reopened: integer,
  slaState: {
    type: ['string', 'null'], enum: ['within', 'approaching', 'overdue', 'excepted', null],
    description: 'Open findings: overdue after dueOn, approaching once 80% of the window has passed, excepted while an active exception covers it; null once fixed.',
  },
  dueOn: { ...nullableString, description: 'YYYY-MM-DD: first seen (or opened at) plus the window of its severity (settings), or CISA\'s KEV due date when sooner; null once fixed.' },
  fix: {
    ...object({
      status: { type: 'string', enum: ['update', 'version', 'no_known_fix'] },
      update: {
        ...object({ kind: { type: 'string', enum: ['kb', 'rhsa', 'usn', 'defender'] }, id: string, title: nullableString }), type: ['object', 'null'],
        description: 'The update that fixes it; a KB is its number alone (as Defender\'s RecommendedSecurityUpdateId), an advisory its id (RHSA-2025:0595, USN-7241-1).',
      },
      deployable: { ...object({ id: string, title: nullableString }), type: ['object', 'null'] },
      fixedVersion: nullableString,
      reason: { ...nullableString, description: 'Why no fix is known: no_fix_released, will_not_fix, not_analysed (NVD has not analysed the CVE yet), not_covered (no feed covers the product).' },
      kev: { ...object({ dateAdded: string, dueDate: nullableString }), type: ['object', 'null'] },
      requiresUbuntuPro: { type: 'boolean', description: 'The fix ships only in Ubuntu Pro (ESM).' },
    }),
    description: 'What fixes the finding, from the imported patch content (see /api/v1/content/imports).',
  },
});

// Query parameters.
export const SEVERITY_HELP = 'Critical, High, Medium or Low; several comma-separated.';
const EXPLOIT_HELP = 'none, public, verified or inKit (the highest exploit known); several comma-separated.';
export const connectionId = { type: 'string', description: 'Only this connection (default: every connection you may see).' } as const;
export const listQuery = (sorts: string, filters: Record<string, unknown>) => ({
  type: 'object',
  properties: {
    connectionId,
    ...filters,
    q: { type: 'string', maxLength: 200, description: 'Free text over names and ids.' },
    sort: { type: 'string', description: `One of ${sorts}; prefix "-" for descending, "+" for ascending.` },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
    cursor: { type: 'string', maxLength: 2000, description: 'The nextCursor of the previous page.' },
    format: { type: 'string', enum: ['json', 'csv'], default: 'json', description: 'csv: the whole filtered list as a CSV download (paging ignored).' },
  },
  additionalProperties: false,
});
/** Counting only some devices (read from their findings: slower than the read models on large tenants). */
const DEVICE_SLICE = {
  rbacGroup: { type: 'string', maxLength: 300, description: 'Count only the devices of this RBAC group (device group).' },
  osPlatform: { type: 'string', maxLength: 100, description: 'Count only the devices of this OS platform.' },
};
export const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 300 } } } as const;
const connectionQuery = { type: 'object', properties: { connectionId }, additionalProperties: false } as const;

/** Unknown query parameters are refused (a misspelt filter would otherwise be ignored in silence). */
export async function knownParameters(request: FastifyRequest, reply: FastifyReply) {
  const allowed = (request.routeOptions.schema?.querystring as { properties?: object } | undefined)?.properties ?? {};
  const unknown = Object.keys(request.query as object).filter((key) => !(key in allowed));
  if (unknown.length) {
    return apiError(reply, 400, 'invalid_parameter', `Unknown query parameter ${unknown.map((k) => `"${k}"`).join(', ')}.`,
      { fix: `This endpoint takes: ${Object.keys(allowed).join(', ') || 'no parameters'}.`, field: unknown[0] });
  }
}

export interface ListRequest {
  connectionId?: string;
  q?: string;
  sort?: string;
  limit: number;
  cursor?: string;
  format: 'json' | 'csv';
  [filter: string]: unknown;
}

export interface ExposureRouteDeps {
  db: Kysely<Database>;
  overview: OverviewQueries;
  vulnerabilities: VulnerabilityQueries;
  devices: DeviceQueries;
  software: SoftwareQueries;
  findings: ExposureQueries['findings'];
  sla: SlaQueries;
}

export function registerExposureRoutes(app: FastifyInstance, deps: ExposureRouteDeps): void {
  const { db, overview, vulnerabilities, devices, software, findings, sla } = deps;
  const scopeOf = (request: FastifyRequest, connectionId?: string) => visibleTenants(db, visibleConnections(request), connectionId);
  const common = { config: { access: 'analyst' as const }, preValidation: knownParameters };

  app.get<{ Querystring: { connectionId?: string } }>('/api/v1/exposure/summary', {
    ...common,
    schema: {
      tags: ['exposure'], summary: 'The overview: open findings by severity, exposed devices and CVEs, exploitable CVEs, the last 7 days, the top tens, and each connection\'s freshness',
      querystring: connectionQuery,
      response: {
        200: object({
          devices: integer, exposedDevices: integer, openFindings: integer, bySeverity, exposedCves: integer,
          exploitableCves: object({ any: integer, public: integer, verified: integer, inKit: integer }), last7Days: object({ opened: integer, fixed: integer }),
          topCves: array(cveSummary), topSoftware: array(softwareSummary), topDevices: array(object(deviceSummaryProperties)), connections: array(freshness),
        }),
      },
    },
  }, async (request) => overview.summary(await scopeOf(request, request.query.connectionId), visibleConnections(request), request.query.connectionId));

  app.get<{ Querystring: { connectionId?: string; days: number } }>('/api/v1/exposure/trend', {
    ...common,
    schema: {
      tags: ['exposure'], summary: 'One point per day (UTC), oldest first: open findings by severity and exposed devices after the day\'s last sync (carried over days without one), findings opened and fixed that day',
      querystring: { type: 'object', properties: { connectionId, days: { type: 'integer', minimum: 1, maximum: 365, default: 30 } }, additionalProperties: false },
      response: {
        200: object({
          days: integer,
          points: array(object({ day: string, openFindings: integer, bySeverity, exposedDevices: integer, opened: integer, fixed: integer })),
        }),
      },
    },
  }, async (request) => overview.trend(await scopeOf(request, request.query.connectionId), request.query.days));

  app.get<{ Querystring: { connectionId?: string } }>('/api/v1/exposure/facets', {
    ...common,
    schema: {
      tags: ['exposure'], summary: 'RBAC groups and OS platforms with their devices and exposure (the values the lists filter by)',
      querystring: connectionQuery,
      response: {
        200: object({
          rbacGroups: array(object({ id: nullableInteger, name: string, connectionId: string, devices: integer, exposedDevices: integer, openFindings: integer, bySeverity })),
          osPlatforms: array(object({ name: string, devices: integer, exposedDevices: integer })),
        }),
      },
    },
  }, async (request) => overview.facets(await scopeOf(request, request.query.connectionId)));

  app.get<{ Querystring: ListRequest }>('/api/v1/vulnerabilities', {
    ...common,
    schema: {
      tags: ['exposure'], summary: 'CVEs (and TVM- ids) with their exposed devices (distinct devices with an open finding) and open findings',
      querystring: listQuery('exposedDevices (default, descending), openFindings, severity, cvss, epss, exploitLevel, publishedOn, firstSeen, id', {
        severity: { type: 'string', description: SEVERITY_HELP }, exploit: { type: 'string', description: EXPLOIT_HELP },
        status: { type: 'string', enum: ['exposed', 'all'], default: 'exposed', description: 'all: also CVEs whose findings are all fixed.' },
        ...DEVICE_SLICE,
      }),
      response: { 200: listOf(object(vulnerabilityItemProperties)) },
    },
  }, async (request, reply) => {
    const { format, connectionId: id, ...filter } = request.query;
    const scope = await scopeOf(request, id);
    if (format === 'csv') return sendCsv(reply, 'sitepatch-vulnerabilities', VULNERABILITY_COLUMNS, vulnerabilities.pages(scope, filter));
    return vulnerabilities.list(scope, filter);
  });

  app.get<{ Params: { id: string }; Querystring: { connectionId?: string } }>('/api/v1/vulnerabilities/:id', {
    ...common,
    schema: {
      tags: ['exposure'], summary: 'A CVE or TVM- id: its metadata, exposure per connection and software version, the updates Defender recommends, and its fixes',
      params: idParams, querystring: connectionQuery,
      response: {
        200: object({
          ...vulnerabilityItemProperties, description: nullableString, cvssVector: nullableString, exploitTypes: array(string), tags: array(string),
          updatedOn: nullableString, patchFirstAvailable: nullableString, fixedDevices: integer,
          fixedByDay: array(object({ day: string, findings: integer })),
          connections: array(object({ connectionId: string, name: string, exposedDevices: integer })),
          software: array(object({ ...softwareRef, exposedDevices: integer })),
          recommendedUpdates: array(object({ id: nullableString, title: nullableString, url: nullableString, devices: integer })),
        }),
      },
    },
  }, async (request) => {
    const found = await vulnerabilities.detail(await scopeOf(request, request.query.connectionId), request.params.id);
    if (!found) throw new NotFoundError(`No connection you can see has findings for ${request.params.id}.`);
    return found;
  });

  app.get<{ Querystring: ListRequest }>('/api/v1/devices', {
    ...common,
    schema: {
      tags: ['exposure'], summary: 'Devices with their open findings by severity',
      querystring: listQuery('exposure (default: open critical, then high, then all open findings, descending), openFindings, name, lastSeen, osPlatform', {
        severity: { type: 'string', description: `Devices with open findings of this severity: ${SEVERITY_HELP}` },
        rbacGroup: { type: 'string', maxLength: 300, description: 'RBAC group (device group) name.' },
        osPlatform: { type: 'string', maxLength: 100 },
        cveId: { type: 'string', maxLength: 100, description: 'Devices with an open finding for this CVE.' },
        status: { type: 'string', enum: ['all', 'exposed'], default: 'all', description: 'exposed: only devices with open findings.' },
      }),
      response: { 200: listOf(object(deviceItemProperties)) },
    },
  }, async (request, reply) => {
    const { format, connectionId: id, ...filter } = request.query;
    const scope = await scopeOf(request, id);
    if (format === 'csv') return sendCsv(reply, 'sitepatch-devices', DEVICE_COLUMNS, mapPages(devices.pages(scope, filter), csvDevice));
    return devices.list(scope, filter);
  });

  app.get<{ Params: { id: string }; Querystring: { connectionId?: string } }>('/api/v1/devices/:id', {
    ...common,
    schema: {
      tags: ['exposure'], summary: 'A device: its open findings grouped by software, each with the recommended update, and its fixed findings (newest first, at most 1,000)',
      params: idParams, querystring: connectionQuery,
      response: {
        200: object({
          ...deviceItemProperties,
          software: array(object({ ...softwareRef, findings: array(object(deviceFindingProperties)) })),
          fixed: array(object({ ...deviceFindingProperties, software: object(softwareRef) })),
        }),
      },
    },
  }, async (request) => {
    const found = await devices.detail(await scopeOf(request, request.query.connectionId), request.params.id);
    if (!found) throw new NotFoundError(`There is no device ${request.params.id} in the connections you can see.`);
    return found;
  });

  app.get<{ Querystring: ListRequest }>('/api/v1/software', {
    ...common,
    schema: {
      tags: ['exposure'], summary: 'Software versions (vendor, product, version) with their exposed devices, open findings and CVEs',
      querystring: listQuery('exposedDevices (default, descending), openFindings, cves, vendor, name', {
        severity: { type: 'string', description: `Versions with open findings of this severity: ${SEVERITY_HELP}` },
        status: { type: 'string', enum: ['exposed', 'all'], default: 'exposed', description: 'all: also versions whose findings are all fixed.' },
        ...DEVICE_SLICE,
      }),
      response: { 200: listOf(object(softwareItemProperties)) },
    },
  }, async (request, reply) => {
    const { format, connectionId: id, ...filter } = request.query;
    const scope = await scopeOf(request, id);
    if (format === 'csv') return sendCsv(reply, 'sitepatch-software', SOFTWARE_COLUMNS, mapPages(software.pages(scope, filter), csvSoftware));
    return software.list(scope, filter);
  });

  app.get<{ Params: { id: string }; Querystring: { connectionId?: string } }>('/api/v1/software/:id', {
    ...common,
    schema: {
      tags: ['exposure'], summary: 'A product (Defender\'s software id, vendor-_-name): its versions, which are exposed, and their open findings',
      params: idParams, querystring: connectionQuery,
      response: { 200: object({ id: string, vendor: string, name: string, openFindings: integer, versions: array(object({ ...softwareItemProperties, exposed: boolean })) }) },
    },
  }, async (request) => {
    const found = await software.detail(await scopeOf(request, request.query.connectionId), request.params.id);
    if (!found) throw new NotFoundError(`No connection you can see has findings in ${request.params.id}.`);
    return found;
  });

  app.get<{ Querystring: ListRequest }>('/api/v1/findings', {
    ...common,
    schema: {
      tags: ['exposure'], summary: 'Findings (device × software × CVE), open and fixed; total is exact',
      querystring: listQuery('id (default), firstSeen, openedAt, fixedAt, severity, cvss, cveId, deviceName', {
        status: { type: 'string', enum: ['open', 'fixed'] }, deviceId: { type: 'string', maxLength: 100 }, cveId: { type: 'string', maxLength: 100 },
        severity: { type: 'string', description: SEVERITY_HELP }, exploit: { type: 'string', description: EXPLOIT_HELP },
        rbacGroup: { type: 'string', maxLength: 300 }, osPlatform: { type: 'string', maxLength: 100 },
        softwareId: { type: 'string', maxLength: 300, description: 'Defender\'s software id, vendor-_-name.' },
        softwareVersion: { type: 'string', maxLength: 200, description: 'With softwareId: only this version.' },
        slaState: { type: 'string', maxLength: 100, description: 'Open findings in this SLA state: within, approaching, overdue or excepted; several comma-separated.' },
      }),
      response: { 200: listOf(findingItem) },
    },
  }, async (request, reply) => {
    const { format, connectionId: id, slaState, ...filter } = request.query;
    const scope = await scopeOf(request, id);
    const context = await sla.findingContext(scope, slaState as string | undefined);
    if (format === 'csv') return sendCsvBody(reply, 'sitepatch-findings', FINDING_CSV_COLUMNS, findings.csvChunks(scope, { ...filter, sla: context }));
    return findings.list(scope, { ...filter, sla: context });
  });

  app.get<{ Querystring: ListRequest }>('/api/v1/tenants', {
    ...common,
    schema: {
      tags: ['exposure'], summary: 'One row per connection: open findings by severity, exposed devices and freshness (for service providers)',
      querystring: listQuery('name (default), openFindings, exposedDevices, lastSuccessfulSync', {}),
      response: { 200: listOf(tenantItem) },
    },
  }, async (request, reply) => {
    const { format, connectionId: id, ...filter } = request.query;
    const visible = visibleConnections(request);
    const scope = id ? [id].filter((c) => visible === null || visible.includes(c)) : visible;
    if (format === 'csv') {
      // The first page is read before the download starts, so a bad parameter still answers 400.
      const first = await overview.tenants(scope, { ...filter, limit: 1000 });
      const all = async function* () {
        for (let page = first; ; page = await overview.tenants(scope, { ...filter, limit: 1000, cursor: page.nextCursor! })) {
          yield page.items.map(csvTenant);
          if (!page.nextCursor) return;
        }
      };
      return sendCsv(reply, 'sitepatch-tenants', TENANT_COLUMNS, all());
    }
    return overview.tenants(scope, filter);
  });
}

async function* mapPages<T, R>(pages: AsyncIterable<T[]>, map: (item: T) => R): AsyncGenerator<R[]> {
  for await (const page of pages) yield page.map(map);
}

// CSV rows: flat, one column per field.
const VULNERABILITY_COLUMNS = ['id', 'name', 'severity', 'cvss', 'epss', 'exploitLevel', 'publishedOn', 'firstSeen', 'exposedDevices', 'openFindings'] as (keyof VulnerabilityItem)[];

const csvDevice = ({ bySeverity, ...d }: DeviceItem) => ({ ...d, ...bySeverity });
const DEVICE_COLUMNS = ['connectionId', 'id', 'name', 'osPlatform', 'osVersion', 'osArchitecture', 'rbacGroupId', 'rbacGroupName', 'lastSeen',
  'openFindings', 'critical', 'high', 'medium', 'low'] as (keyof ReturnType<typeof csvDevice>)[];

const csvSoftware = ({ bySeverity, ...s }: SoftwareItem) => ({ ...s, ...bySeverity });
const SOFTWARE_COLUMNS = ['id', 'vendor', 'name', 'version', 'exposedDevices', 'openFindings', 'cves', 'critical', 'high', 'medium', 'low'] as (keyof ReturnType<typeof csvSoftware>)[];

const csvTenant = ({ bySeverity, ...t }: TenantItem) => ({ ...t, ...bySeverity });
const TENANT_COLUMNS = ['connectionId', 'name', 'cloud', 'status', 'devices', 'exposedDevices', 'openFindings', 'critical', 'high', 'medium', 'low',
  'lastSuccessfulSync', 'dataTime', 'dataAgeSeconds', 'nextSyncAt', 'stale'] as (keyof ReturnType<typeof csvTenant>)[];
