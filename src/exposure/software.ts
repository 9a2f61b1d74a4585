// Software versions with their exposure (software_exposure, summed over tenants), and a product's
// page: its versions and which are exposed. A product is Defender's software id, `vendor-_-name`.

import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../store/schema.js';
import type { DataVersionCache } from './cache.js';
import { bySeverity } from './devices.js';
import { BadParameterError, containsPattern, everyPage, keysetPage, listParameter, parseSort, type ListParameters, sortColumns, type SortKey } from './paging.js';
import { findingLayout, type FindingLayout } from './finding-sql.js';
import { inTenants, sliceConditions, type DeviceSlice, type TenantScope } from './scope.js';
import { SEVERITIES } from './vulnerabilities.js';
import type { ListPage, SoftwareDetail, SoftwareItem } from './views.js';

const SORTS: Record<string, SortKey> = {
  exposedDevices: [sql`g.exposed_devices`],
  openFindings: [sql`g.open_findings`],
  cves: [sql`g.cves`],
  vendor: [sql`g.vendor`, sql`g.name`, sql`g.version`],
  name: [sql`g.name`, sql`g.version`],
};

const SEVERITY_SUMS = { Critical: sql`sum(e.open_critical)`, High: sql`sum(e.open_high)`, Medium: sql`sum(e.open_medium)`, Low: sql`sum(e.open_low)` } as const;

export interface SoftwareFilter extends ListParameters, DeviceSlice {
  severity?: string;
  status?: 'exposed' | 'all';
}

interface Row extends Record<string, unknown> {
  vendor: string;
  name: string;
  version: string;
  exposed_devices: number;
  open_findings: number;
  cves: number;
  open_critical: number;
  open_high: number;
  open_medium: number;
  open_low: number;
}

const item = (r: Row): SoftwareItem => ({
  id: `${r.vendor}-_-${r.name}`, vendor: r.vendor, name: r.name, version: r.version, exposedDevices: Number(r.exposed_devices),
  openFindings: Number(r.open_findings), cves: Number(r.cves), bySeverity: bySeverity(r),
});

/** `vendor-_-name` → its parts. */
export function parseSoftwareId(id: string): { vendor: string; name: string } {
  const at = id.indexOf('-_-');
  if (at <= 0 || at + 3 >= id.length) {
    throw new BadParameterError('id', `"${id}" is not a software id.`, 'Software ids are Defender\'s, vendor-_-name (for example microsoft-_-edge).');
  }
  return { vendor: id.slice(0, at), name: id.slice(at + 3) };
}

/** software_exposure's columns for a slice of the devices, counted from its open findings over all its tenants at once. */
function sliceExposure(layout: FindingLayout, scope: TenantScope, slice: RawBuilder<boolean>[]): RawBuilder<unknown> {
  const level = (severity: string) => sql`sum(CASE WHEN x.severity = ${severity} THEN 1 ELSE 0 END)`;
  return sql`(SELECT min(d.tenant_ref) AS tenant_ref, f.software_ref, count(DISTINCT f.device_ref) AS exposed_devices, count(*) AS open_findings,
    count(DISTINCT f.cve_ref) AS cves, ${level('Critical')} AS open_critical, ${level('High')} AS open_high, ${level('Medium')} AS open_medium,
    ${level('Low')} AS open_low
    FROM vuln.device d JOIN vuln.finding f ON ${layout.deviceOf} JOIN vuln.finding_detail x ON x.ref = f.detail_ref
    WHERE ${inTenants('d.tenant_ref', scope)} AND ${sql.join(slice, sql` AND `)} AND f.fixed_at IS NULL GROUP BY f.software_ref)`;
}

export function createSoftwareQueries(db: Kysely<Database>, cache: DataVersionCache) {
  const layout = findingLayout(db);
  function rows(scope: TenantScope, filter: Omit<SoftwareFilter, 'sort' | 'cursor' | 'limit'> & { product?: { vendor: string; name: string } },
    columns: RawBuilder<unknown>): RawBuilder<Row> {
    const where: RawBuilder<unknown>[] = [inTenants('e.tenant_ref', scope)];
    if (filter.product) where.push(sql`s.vendor = ${filter.product.vendor} AND s.name = ${filter.product.name}`);
    if (filter.q?.trim()) {
      const pattern = containsPattern(filter.q.trim());
      where.push(sql`(lower(s.vendor) LIKE ${pattern} ESCAPE '\\' OR lower(s.name) LIKE ${pattern} ESCAPE '\\' OR lower(s.version) LIKE ${pattern} ESCAPE '\\')`);
    }
    const having: RawBuilder<unknown>[] = [];
    if ((filter.status ?? 'exposed') === 'exposed') having.push(sql`sum(e.exposed_devices) > 0`);
    const severities = listParameter('severity', filter.severity, SEVERITIES);
    if (severities) having.push(sql`(${sql.join(severities.map((s) => sql`${SEVERITY_SUMS[s]} > 0`), sql` OR `)})`);
    // A version's CVEs in one tenant are kept (and a slice counts them over all its tenants at once);
    // over several tenants, the same CVE must count once.
    const slice = sliceConditions(filter);
    const cves = scope.refs.length === 1 || slice.length ? sql`max(e.cves)`
      : sql`(SELECT count(DISTINCT sc.cve_ref) FROM vuln.software_cve sc WHERE sc.software_ref = s.ref AND ${inTenants('sc.tenant_ref', scope)})`;
    const grouped = sql<Row>`SELECT s.ref, s.vendor, s.name, s.version, sum(e.exposed_devices) AS exposed_devices, sum(e.open_findings) AS open_findings,
      ${cves} AS cves, sum(e.open_critical) AS open_critical, sum(e.open_high) AS open_high, sum(e.open_medium) AS open_medium, sum(e.open_low) AS open_low
      FROM ${slice.length ? sliceExposure(layout, scope, slice) : sql`vuln.software_exposure`} e JOIN vuln.software s ON s.ref = e.software_ref
      WHERE ${sql.join(where, sql` AND `)} GROUP BY s.ref, s.vendor, s.name, s.version
      ${having.length ? sql`HAVING ${sql.join(having, sql` AND `)}` : sql``}`;
    // The sort's columns may name the computed CVE count, so they are chosen over the grouped rows.
    return sql<Row>`SELECT g.*, ${columns} FROM (${grouped}) AS g`;
  }

  async function list(scope: TenantScope, filter: SoftwareFilter): Promise<ListPage<SoftwareItem>> {
    const sort = parseSort(filter.sort, SORTS, '-exposedDevices');
    const page = await keysetPage(db, rows(scope, filter, sortColumns(sort, sql`g.ref`)), sort, filter.cursor, filter.limit, cache);
    return { ...page, items: page.items.map(item) };
  }

  async function detail(scope: TenantScope, id: string): Promise<SoftwareDetail | undefined> {
    const product = parseSoftwareId(id.trim());
    const versions = (await rows(scope, { status: 'all', product }, sql`1 AS one`).execute(db)).rows.map(item)
      .sort((a, b) => b.exposedDevices - a.exposedDevices || a.version.localeCompare(b.version, 'en', { numeric: true }));
    if (versions.length === 0) return undefined;
    return {
      id: `${product.vendor}-_-${product.name}`, vendor: product.vendor, name: product.name,
      openFindings: versions.reduce((n, v) => n + v.openFindings, 0), versions: versions.map((v) => ({ ...v, exposed: v.exposedDevices > 0 })),
    };
  }

  /** Every row the filter selects, in pages (for exports); throws at once on a bad parameter. */
  function pages(scope: TenantScope, filter: Omit<SoftwareFilter, 'cursor' | 'limit'>): AsyncGenerator<SoftwareItem[]> {
    const sort = parseSort(filter.sort, SORTS, '-exposedDevices');
    return everyPage(db, rows(scope, filter, sortColumns(sort, sql`g.ref`)), sort, item);
  }

  return { list, detail, pages };
}

export type SoftwareQueries = ReturnType<typeof createSoftwareQueries>;
