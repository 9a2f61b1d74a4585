// The Defender for Endpoint vulnerability API: bearer validation, per-caller quotas, OData lists
// with $skip paging, the JSON export with $skiptoken cursors, the file export and the delta API.

import { randomUUID, type KeyObject } from 'node:crypto';
import { Readable } from 'node:stream';
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { ExportFiles } from '../blob/export-files.js';
import type { Endpoint, Faults } from '../faults.js';
import { json, type EmulatorRequest, type Reply, type Route } from '../http.js';
import { VULNERABILITY_READ_ALL } from '../identity/directory.js';
import { exportRow, machineVulnerabilityRow, vulnerabilityEntity, vulnerabilityFilterFields } from '../tenant/records.js';
import { DELTA_WINDOW_SNAPSHOTS, type Cve } from '../tenant/tenant.js';
import type { DeltaCursor, TenantData } from '../tenant/snapshots.js';
import { ODataError, parseFilter, type Predicate } from './odata.js';
import type { RateLimiter } from './rate-limit.js';

const CONTEXT = 'https://api.securitycenter.microsoft.com/api/$metadata#';
const EXPORT_PAGE_DEFAULT = 50_000;
const EXPORT_PAGE_MAX = 200_000;
const MACHINES_VULNERABILITIES_MAX = 10_000;

export interface DefenderApiOptions {
  publicKey: KeyObject;
  acceptedAudiences: string[];
  tenants: (tenantId: string) => TenantData | undefined;
  /** The current snapshot index. */
  current: () => number;
  faults: Faults;
  rateLimiter: RateLimiter;
  exportFiles: ExportFiles;
  /** The export blob host's origin: another host than the API's, as in Azure. */
  blobOrigin: () => string;
  /** `sasValidHours`: default and maximum (current docs: 1 and 6; older docs: 3 and 24). */
  sasDefaultHours: number;
  sasMaxHours: number;
  /** `$top` maximum of /api/vulnerabilities (current docs: 8,000; 2021 docs: 10,000). */
  vulnerabilitiesMaxTop: number;
  now: () => number;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function defenderError(status: number, code: string, message: string, headers: Record<string, string> = {}): Reply {
  return json(status, { error: { code, message, target: randomUUID() } }, headers);
}

interface Caller {
  data: TenantData;
  appId: string;
}

/** A JSON collection streamed row by row; `tail` is read after the last row (for the next link). */
function collection(context: string, rows: Iterable<unknown>, tail: () => string | undefined): Reply {
  function* chunks(): Generator<string> {
    let chunk = `{"@odata.context":${JSON.stringify(CONTEXT + context)},"value":[`;
    let first = true;
    for (const row of rows) {
      chunk += (first ? '' : ',') + JSON.stringify(row);
      first = false;
      if (chunk.length > 1 << 16) {
        yield chunk;
        chunk = '';
      }
    }
    const next = tail();
    yield chunk + ']' + (next ? `,"@odata.nextLink":${JSON.stringify(next)}` : '') + '}';
  }
  return { status: 200, headers: { 'content-type': 'application/json; odata.metadata=minimal; charset=utf-8' }, body: Readable.from(chunks()) };
}

const COMMA = Buffer.from(',');

/**
 * A JSON collection of rows already serialised (runs of comma-separated rows), sent as they are
 * stored: no copy of a page is made.
 */
function serialisedCollection(context: string, rows: Buffer[], next: string | undefined): Reply {
  const parts: Buffer[] = [Buffer.from(`{"@odata.context":${JSON.stringify(CONTEXT + context)},"value":[`)];
  rows.forEach((run, i) => {
    if (i) parts.push(COMMA);
    parts.push(run);
  });
  parts.push(Buffer.from(']' + (next ? `,"@odata.nextLink":${JSON.stringify(next)}` : '') + '}'));
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  return {
    status: 200, headers: { 'content-type': 'application/json; odata.metadata=minimal; charset=utf-8', 'content-length': String(length) },
    body: Readable.from(parts),
  };
}

/** Takes `count` items and reports whether more followed. */
function* take<T>(source: Iterator<T>, count: number, onEnd: (more: boolean, last: T | undefined) => void): Generator<T> {
  let last: T | undefined;
  for (let n = 0; n < count; n++) {
    const item = source.next();
    if (item.done) {
      onEnd(false, last);
      return;
    }
    last = item.value;
    yield item.value;
  }
  onEnd(!source.next().done, last);
}

function intParam(req: EmulatorRequest, name: string, fallback: number | undefined, max: number, min = 0): number | undefined {
  const text = req.query.get(name.toLowerCase());
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new ApiError(400, 'InvalidInput', `Invalid value '${text}' for ${name}: expected an integer of at least ${min}.`);
  if (value > max) throw new ApiError(400, 'InvalidInput', `${name} must be at most ${max}; got ${value}.`);
  return value;
}

function filterParam(req: EmulatorRequest, fields: readonly string[]): Predicate | undefined {
  const text = req.query.get('$filter');
  if (!text) return undefined;
  try {
    return parseFilter(text, fields);
  } catch (e) {
    if (e instanceof ODataError) throw new ApiError(400, 'ODataError', e.message);
    throw e;
  }
}

function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64');
}

function decodeToken<T>(text: string, check: (value: T) => boolean): T {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as T;
    if (check(value)) return value;
  } catch {
    // fall through to the error below
  }
  throw new ApiError(400, 'InvalidInput', 'The $skiptoken is invalid. Follow @odata.nextLink exactly as returned.');
}

const VULNERABILITY_FIELDS = ['id', 'name', 'description', 'cvssV3', 'publishedOn', 'severity', 'updatedOn'];
const MACHINE_VULNERABILITY_FIELDS = ['id', 'cveId', 'machineId', 'fixingKbId', 'productName', 'productVersion', 'severity', 'productVendor'];

export function createDefenderApi(options: DefenderApiOptions): Route[] {
  const { faults } = options;

  async function authorize(req: EmulatorRequest): Promise<Caller> {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!match) throw new ApiError(401, 'Unauthorized', 'Authorization header is missing or is not a Bearer token.', { 'www-authenticate': 'Bearer' });
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1], options.publicKey, { algorithms: ['RS256'], currentDate: new Date(options.now()) }));
    } catch (e) {
      const why = e instanceof joseErrors.JWTExpired ? 'The access token has expired.' :
        e instanceof joseErrors.JWSSignatureVerificationFailed ? 'The access token signature is invalid.' : 'The access token is invalid.';
      throw new ApiError(401, 'Unauthorized', `${why} Acquire a new token and retry.`, { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    const aud = String(payload.aud ?? '').replace(/\/+$/, '').toLowerCase();
    if (!options.acceptedAudiences.some((a) => a.toLowerCase() === aud)) {
      throw new ApiError(401, 'Unauthorized', `The access token audience '${payload.aud}' is not valid for this API. Request a token for https://api.securitycenter.microsoft.com/.default.`);
    }
    const data = options.tenants(String(payload.tid ?? ''));
    if (!data) throw new ApiError(401, 'Unauthorized', 'The access token was issued for an unknown tenant.');
    const roles = Array.isArray(payload.roles) ? payload.roles : [];
    if (!roles.includes(VULNERABILITY_READ_ALL)) {
      throw new ApiError(403, 'Forbidden', `The application does not have any of the required application permissions (${VULNERABILITY_READ_ALL}) to access the resource.`);
    }
    return { data, appId: String(payload.appid ?? '') };
  }

  /** Wraps a handler with authorization and the caller's quota. */
  function api(endpoint: Endpoint, paths: string[], handler: (req: EmulatorRequest, caller: Caller) => Reply | Promise<Reply>): Route[] {
    const handle = async (req: EmulatorRequest): Promise<Reply> => {
      try {
        const caller = await authorize(req);
        const wait = options.rateLimiter.take(endpoint, `${caller.appId}|${caller.data.tenantId}`);
        if (wait > 0) {
          throw new ApiError(429, 'TooManyRequests', `API calls quota exceeded! Maximum admitted calls for ${endpoint} exceeded. Try again in ${wait} seconds.`, { 'retry-after': String(wait) });
        }
        return await handler(req, caller);
      } catch (e) {
        if (e instanceof ApiError) return defenderError(e.status, e.code, e.message, e.headers);
        throw e;
      }
    };
    return paths.flatMap((p) => [`/api${p}`, `/api/v1.0${p}`]).map((path) => ({ method: 'GET' as const, path, endpoint, handle }));
  }

  /**
   * The next link for this request with some query parameters replaced, when there is a next page.
   * The repeatingNextLink fault answers with the page just served, even on the last page.
   */
  function nextLink(req: EmulatorRequest, endpoint: Endpoint, more: boolean, params: () => Record<string, string>): string | undefined {
    if (faults.take('repeatingNextLink', endpoint)) return req.url.href;
    if (!more) return undefined;
    const url = new URL(req.url.href);
    if (faults.take('foreignNextLink', endpoint)) url.hostname = url.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
    for (const [key, value] of Object.entries(params())) {
      for (const existing of [...url.searchParams.keys()]) if (existing.toLowerCase() === key.toLowerCase()) url.searchParams.delete(existing);
      url.searchParams.set(key, value);
    }
    return url.href.replace(/%24/g, '$');
  }

  /** An OData list paged with $skip (nextLink) or $top (no nextLink). */
  function skipList(req: EmulatorRequest, endpoint: Endpoint, context: string, rows: Iterator<unknown>, pageMax: number, skipped: number): Reply {
    const top = intParam(req, '$top', undefined, pageMax);
    let more = false;
    const page = take(rows, top ?? pageMax, (m) => { more = m; });
    return collection(context, page, () => nextLink(req, endpoint, more && top === undefined, () => ({ $skip: String(skipped + pageMax) })));
  }

  /** Rows as records, filtered, after `skip`; `filterFields` (when given) has every field a filter may name. */
  function* skipFiltered<T, F extends Record<string, unknown>>(rows: Iterable<T>, skip: number, filter: Predicate | undefined,
    toRecord: (row: T, fields?: F) => Record<string, unknown>, filterFields?: (row: T) => F): Generator<Record<string, unknown>> {
    let skipped = 0;
    for (const row of rows) {
      let record: Record<string, unknown>;
      if (filter && filterFields) {
        const fields = filterFields(row);
        if (!filter(fields)) continue;
        record = toRecord(row, fields);
      } else {
        record = toRecord(row);
        if (filter && !filter(record)) continue;
      }
      if (skipped < skip) {
        skipped++;
        continue;
      }
      yield record;
    }
  }

  function vulnerabilities(req: EmulatorRequest, { data }: Caller): Reply {
    const k = options.current();
    const filter = filterParam(req, VULNERABILITY_FIELDS);
    const skip = intParam(req, '$skip', 0, Number.MAX_SAFE_INTEGER)!;
    const exposure = data.snapshots.exposure(k);
    const rows = skipFiltered(data.tenant.catalog(k), skip, filter,
      (cve, fields?: ReturnType<typeof vulnerabilityFilterFields>) => vulnerabilityEntity(data.tenant, cve, k, exposure.get(cve.id) ?? 0, fields),
      (cve) => vulnerabilityFilterFields(data.tenant, cve, k));
    return skipList(req, 'vulnerabilities', 'Vulnerabilities', rows, options.vulnerabilitiesMaxTop, skip);
  }

  function findCve(data: TenantData, id: string | undefined, k: number): Cve {
    const cve = id ? data.tenant.findCve(id, k) : undefined;
    if (!cve) throw new ApiError(404, 'ResourceNotFound', `Vulnerability ${id} was not found`);
    return cve;
  }

  function vulnerability(req: EmulatorRequest, { data }: Caller): Reply {
    const k = options.current();
    const cve = findCve(data, req.params.id, k);
    const entity = vulnerabilityEntity(data.tenant, cve, k, data.snapshots.exposure(k).get(cve.id) ?? 0);
    return json(200, { '@odata.context': `${CONTEXT}Vulnerabilities/$entity`, ...entity });
  }

  function machineReferences(req: EmulatorRequest, { data }: Caller): Reply {
    const k = options.current();
    const cve = findCve(data, req.params.id, k);
    const { tenant } = data;
    const exposedTo = (i: number, device: ReturnType<typeof tenant.device>, c: Cve) => device.components.some((index) => {
      const component = tenant.world.components[index];
      return component.family === c.family && c.fixes[tenant.lineOf(device, component, k).familyLine] > tenant.release(i, component, k);
    });
    function* refs(): Generator<unknown> {
      for (let i = 0; i < tenant.deviceCount; i++) {
        const device = tenant.device(i);
        if (!tenant.present(device, k) || !exposedTo(i, device, cve)) continue;
        const at = tenant.deviceAt(i, k);
        yield { id: at.id, computerDnsName: at.name, osPlatform: at.os.osPlatform, rbacGroupName: at.rbacGroupName };
      }
    }
    return collection('MachineReferences', refs(), () => undefined);
  }

  function machinesVulnerabilities(req: EmulatorRequest, { data }: Caller): Reply {
    const k = options.current();
    const filter = filterParam(req, MACHINE_VULNERABILITY_FIELDS);
    const skip = intParam(req, '$skip', 0, Number.MAX_SAFE_INTEGER)!;
    const { snapshots, tenant } = data;
    // Unfiltered pages jump straight to their offset; filtered ones must scan.
    const rows = filter
      ? skipFiltered(snapshots.rows(k, { device: 0, line: 0 }), skip, filter, (f) => machineVulnerabilityRow(tenant, f, k))
      : skipFiltered(snapshots.rows(k, snapshots.cursorAt(k, skip)), 0, undefined, (f) => machineVulnerabilityRow(tenant, f, k));
    return skipList(req, 'machinesVulnerabilities', 'Collection(microsoft.windowsDefenderATP.api.PublicAssetVulnerabilityDto)', rows, MACHINES_VULNERABILITIES_MAX, skip);
  }

  function machineVulnerabilities(req: EmulatorRequest, { data }: Caller): Reply {
    const k = options.current();
    const index = data.tenant.deviceIndexOf(req.params.id ?? '');
    if (index === undefined) throw new ApiError(404, 'ResourceNotFound', `Machine ${req.params.id} was not found`);
    const exposure = data.snapshots.exposure(k);
    const seen = new Set<string>();
    const rows: unknown[] = [];
    for (const f of data.tenant.deviceFindings(index, k)) {
      if (seen.has(f.cve.id)) continue;
      seen.add(f.cve.id);
      rows.push({ ...vulnerabilityEntity(data.tenant, f.cve, k, exposure.get(f.cve.id) ?? 0), status: 'RemediationRequired' });
    }
    return json(200, { '@odata.context': `${CONTEXT}Collection(Analytics.Contracts.PublicAPI.PublicVulnerabilityDto)`, '@odata.count': rows.length, value: rows });
  }

  interface ExportCursor {
    ExportDefinition: { TimePath: string };
    ExportFileIndex: number;
    LineStoppedAt: number;
  }

  function timePathOf(time: number): string {
    const iso = new Date(time).toISOString();
    return `${iso.slice(0, 10)}/${iso.slice(11, 13)}${iso.slice(14, 16)}/`;
  }

  function softwareVulnerabilitiesByMachine(req: EmulatorRequest, { data }: Caller): Reply {
    const { tenant, snapshots } = data;
    const pageSize = intParam(req, 'pageSize', EXPORT_PAGE_DEFAULT, EXPORT_PAGE_MAX, 1)!;
    const top = intParam(req, '$top', undefined, Number.MAX_SAFE_INTEGER);
    const token = req.query.get('$skiptoken');
    let k = options.current();
    let offset = 0;
    if (token) {
      const cursor = decodeToken<ExportCursor>(token, (c) => typeof c?.ExportDefinition?.TimePath === 'string' && Number.isInteger(c.ExportFileIndex) && Number.isInteger(c.LineStoppedAt));
      const m = /^(\d{4}-\d{2}-\d{2})\/(\d{2})(\d{2})\/$/.exec(cursor.ExportDefinition.TimePath);
      if (!m || cursor.ExportFileIndex >= snapshots.parts) throw new ApiError(400, 'InvalidInput', 'The $skiptoken is invalid. Follow @odata.nextLink exactly as returned.');
      k = tenant.snapshotAt(Date.parse(`${m[1]}T${m[2]}:${m[3]}:00Z`));
      offset = snapshots.prefix(k)[snapshots.partRange(cursor.ExportFileIndex)[0]] + cursor.LineStoppedAt;
    }
    const count = top ?? pageSize;
    const total = snapshots.total(k);
    const rows = (function* () {
      for (const f of take(snapshots.rows(k, snapshots.cursorAt(k, offset)), count, () => undefined)) yield exportRow(tenant, f, k);
    })();
    const end = offset + count;
    return collection('Collection(microsoft.windowsDefenderATP.api.AssetVulnerability)', rows, () => nextLink(req, 'softwareVulnerabilitiesByMachine', top === undefined && end < total, () => {
      const device = snapshots.cursorAt(k, end).device;
      let part = 0;
      while (part + 1 < snapshots.parts && snapshots.partRange(part + 1)[0] <= device) part++;
      const partStart = snapshots.prefix(k)[snapshots.partRange(part)[0]];
      const cursor: ExportCursor = { ExportDefinition: { TimePath: timePathOf(tenant.snapshotTime(k)) }, ExportFileIndex: part, LineStoppedAt: end - partStart };
      return { pagesize: String(pageSize), $skiptoken: encodeToken(cursor) };
    }));
  }

  function softwareVulnerabilitiesExport(req: EmulatorRequest, { data }: Caller): Reply {
    const hours = intParam(req, 'sasValidHours', options.sasDefaultHours, options.sasMaxHours)!;
    if (hours < 1) throw new ApiError(400, 'InvalidInput', `sasValidHours must be between 1 and ${options.sasMaxHours}.`);
    const k = options.current();
    const expired = faults.take('expiredSas', 'softwareVulnerabilitiesExport') !== undefined;
    // Defender sometimes answers with no files at all (Elastic's integration treats it as "nothing to do").
    const none = faults.take('noExportFiles', 'softwareVulnerabilitiesExport') !== undefined;
    return json(200, {
      '@odata.context': `${CONTEXT}microsoft.windowsDefenderATP.api.ExportFilesResponse`,
      exportFiles: none ? [] : options.exportFiles.links(options.blobOrigin(), data, k, hours, expired),
      generatedTime: new Date(data.tenant.snapshotTime(k)).toISOString().replace('.000Z', 'Z'),
    });
  }

  interface ChangesCursor extends DeltaCursor {
    to: number;
  }

  function softwareVulnerabilityChangesByMachine(req: EmulatorRequest, { data }: Caller): Reply {
    const { tenant, snapshots } = data;
    const sinceText = req.query.get('sincetime');
    if (!sinceText) throw new ApiError(400, 'MissingRequiredParameter', 'The sinceTime parameter is required, e.g. sinceTime=2021-05-19T18:35:49.924Z.');
    const since = Date.parse(sinceText);
    if (Number.isNaN(since)) throw new ApiError(400, 'InvalidInput', `sinceTime '${sinceText}' is not a valid ISO-8601 date and time.`);
    const current = options.current();
    const oldest = tenant.snapshotTime(current - DELTA_WINDOW_SNAPSHOTS);
    if (since < oldest) {
      throw new ApiError(400, 'InvalidInput', `sinceTime must be at most 14 days before the latest snapshot (${new Date(tenant.snapshotTime(current)).toISOString()}); run a full export instead.`);
    }
    const pageSize = intParam(req, 'pageSize', EXPORT_PAGE_DEFAULT, EXPORT_PAGE_MAX, 1)!;
    const top = intParam(req, '$top', undefined, Number.MAX_SAFE_INTEGER);
    const token = req.query.get('$skiptoken');
    const cursor: ChangesCursor = token
      ? decodeToken<ChangesCursor>(token, (c) => [c?.batch, c?.index, c?.to].every(Number.isInteger))
      // The batch after the 6-hour period that contains sinceTime: the client already has that one.
      : { batch: tenant.snapshotAt(since) + 1, index: 0, to: current };
    const page = snapshots.changePage(cursor.to, cursor, top ?? pageSize);
    const next = nextLink(req, 'softwareVulnerabilityChangesByMachine', page.next !== undefined && top === undefined,
      () => ({ sinceTime: sinceText, pageSize: String(pageSize), $skiptoken: encodeToken({ ...page.next, to: cursor.to }) }));
    return serialisedCollection('Collection(microsoft.windowsDefenderATP.api.DeltaAssetVulnerability)', page.rows, next);
  }

  return [
    ...api('vulnerabilities', ['/vulnerabilities'], vulnerabilities),
    ...api('machinesVulnerabilities', ['/vulnerabilities/machinesVulnerabilities'], machinesVulnerabilities),
    ...api('vulnerability', ['/vulnerabilities/:id'], vulnerability),
    ...api('machineReferences', ['/vulnerabilities/:id/machineReferences'], machineReferences),
    ...api('softwareVulnerabilitiesByMachine', ['/machines/SoftwareVulnerabilitiesByMachine'], softwareVulnerabilitiesByMachine),
    ...api('softwareVulnerabilitiesExport', ['/machines/SoftwareVulnerabilitiesExport'], softwareVulnerabilitiesExport),
    ...api('softwareVulnerabilityChangesByMachine', ['/machines/SoftwareVulnerabilityChangesByMachine'], softwareVulnerabilityChangesByMachine),
    ...api('machineVulnerabilities', ['/machines/:id/vulnerabilities'], machineVulnerabilities),
  ];
}
