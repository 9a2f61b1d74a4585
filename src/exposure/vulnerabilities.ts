// CVEs (and Defender's TVM- ids) with their exposure in the connections a principal may see: the
// list reads the per-tenant read model (cve_exposure) and the CVE catalog, summed over tenants;
// the CVE page adds what only its findings tell (fixed devices, recommended updates).

import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../store/schema.js';
import type { DataVersionCache } from './cache.js';
import { containsPattern, everyPage, keysetPage, listParameter, parseSort, type ListParameters, sortColumns, type SortKey } from './paging.js';
import { findingLayout, type FindingLayout } from './finding-sql.js';
import { inTenants, sliceConditions, type DeviceSlice, type TenantScope } from './scope.js';
import type { ExploitLevel, ListPage, VulnerabilityDetail, VulnerabilityItem } from './views.js';

export const SEVERITIES = ['Critical', 'High', 'Medium', 'Low'] as const;
export const EXPLOIT_LEVELS = ['none', 'public', 'verified', 'inKit'] as const satisfies readonly ExploitLevel[];

/** Seconds → ISO-8601. */
export const isoTime = (seconds: number | null | undefined) => (seconds == null ? null : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z'));
/** Days since the epoch → YYYY-MM-DD. */
export const isoDay = (day: number) => new Date(day * 86_400_000).toISOString().slice(0, 10);

/** 0 none, 1 public, 2 verified, 3 in a kit: the catalog's flags as one level. */
const exploitRank = sql`max(CASE WHEN v.exploit_in_kit = 1 THEN 3 WHEN v.exploit_verified = 1 THEN 2 WHEN v.public_exploit = 1 THEN 1 ELSE 0 END)`;
const severityRank = sql`max(CASE v.severity WHEN 'Critical' THEN 4 WHEN 'High' THEN 3 WHEN 'Medium' THEN 2 WHEN 'Low' THEN 1 ELSE 0 END)`;

const SORTS: Record<string, SortKey> = {
  exposedDevices: [sql`sum(e.exposed_devices)`],
  openFindings: [sql`sum(e.open_findings)`],
  severity: [severityRank],
  cvss: [sql`coalesce(max(v.cvss), -1)`],
  epss: [sql`coalesce(max(v.epss), -1)`],
  exploitLevel: [exploitRank],
  publishedOn: [sql`coalesce(min(v.published_on), '')`],
  firstSeen: [sql`coalesce(min(e.first_seen), 0)`],
  id: [sql`c.cve_id`],
};

export interface VulnerabilityFilter extends ListParameters, DeviceSlice {
  severity?: string;
  exploit?: string;
  status?: 'exposed' | 'all';
}

interface Row extends Record<string, unknown> {
  id: string;
  name: string | null;
  severity: string | null;
  cvss: number | null;
  epss: number | null;
  exploit_rank: number;
  published_on: string | null;
  first_seen: number | null;
  exposed_devices: number;
  open_findings: number;
}

const item = (r: Row): VulnerabilityItem => ({
  id: r.id, name: r.name, severity: r.severity, cvss: r.cvss, epss: r.epss, exploitLevel: EXPLOIT_LEVELS[r.exploit_rank] ?? 'none',
  publishedOn: r.published_on, firstSeen: isoTime(r.first_seen), exposedDevices: Number(r.exposed_devices), openFindings: Number(r.open_findings),
});

/**
 * Exposure per tenant and CVE: the read model, or for a slice of the devices (an RBAC group, an OS
 * platform) the same columns counted from the slice's open findings (slower: it reads them).
 */
function exposure(layout: FindingLayout, scope: TenantScope, slice: DeviceSlice): RawBuilder<unknown> {
  const conditions = sliceConditions(slice);
  if (!conditions.length) return sql`vuln.cve_exposure`;
  return sql`(SELECT d.tenant_ref, f.cve_ref, count(DISTINCT f.device_ref) AS exposed_devices, count(*) AS open_findings, min(f.first_seen) AS first_seen
    FROM vuln.device d JOIN vuln.finding f ON ${layout.deviceOf}
    WHERE ${inTenants('d.tenant_ref', scope)} AND ${sql.join(conditions, sql` AND `)} AND f.fixed_at IS NULL GROUP BY d.tenant_ref, f.cve_ref)`;
}

export function createVulnerabilityQueries(db: Kysely<Database>, cache: DataVersionCache) {
  const layout = findingLayout(db);
  /** One row per CVE over the scope's tenants, with the filters; selects the sort's columns. */
  function rows(scope: TenantScope, filter: Omit<VulnerabilityFilter, 'sort' | 'cursor' | 'limit'> & { cveRef?: number }, columns: RawBuilder<unknown>): RawBuilder<Row> {
    const where: RawBuilder<unknown>[] = [inTenants('e.tenant_ref', scope)];
    if (filter.cveRef !== undefined) where.push(sql`e.cve_ref = ${filter.cveRef}`);
    const severities = listParameter('severity', filter.severity, SEVERITIES);
    if (severities) where.push(sql`v.severity IN (${sql.join(severities)})`);
    if (filter.q?.trim()) {
      const pattern = containsPattern(filter.q.trim());
      where.push(sql`(lower(c.cve_id) LIKE ${pattern} ESCAPE '\\' OR lower(coalesce(v.name, '')) LIKE ${pattern} ESCAPE '\\')`);
    }
    const having: RawBuilder<unknown>[] = [];
    if ((filter.status ?? 'exposed') === 'exposed') having.push(sql`sum(e.exposed_devices) > 0`);
    const levels = listParameter('exploit', filter.exploit, EXPLOIT_LEVELS);
    if (levels) having.push(sql`${exploitRank} IN (${sql.join(levels.map((l) => EXPLOIT_LEVELS.indexOf(l)))})`);
    // The highest severity when tenants' catalogs disagree (by rank: as text, 'Medium' > 'High').
    return sql<Row>`SELECT c.cve_id AS id, max(v.name) AS name,
      CASE ${severityRank} WHEN 4 THEN 'Critical' WHEN 3 THEN 'High' WHEN 2 THEN 'Medium' WHEN 1 THEN 'Low' END AS severity, max(v.cvss) AS cvss, max(v.epss) AS epss,
      ${exploitRank} AS exploit_rank, min(v.published_on) AS published_on, min(e.first_seen) AS first_seen,
      sum(e.exposed_devices) AS exposed_devices, sum(e.open_findings) AS open_findings, ${columns}
      FROM ${exposure(layout, scope, filter)} e JOIN vuln.cve c ON c.ref = e.cve_ref
      LEFT JOIN vuln.vulnerability v ON v.tenant_ref = e.tenant_ref AND v.cve_id = c.cve_id
      WHERE ${sql.join(where, sql` AND `)} GROUP BY c.cve_id ${having.length ? sql`HAVING ${sql.join(having, sql` AND `)}` : sql``}`;
  }

  async function list(scope: TenantScope, filter: VulnerabilityFilter): Promise<ListPage<VulnerabilityItem>> {
    const sort = parseSort(filter.sort, SORTS, '-exposedDevices');
    const page = await keysetPage(db, rows(scope, filter, sortColumns(sort, sql`c.cve_id`)), sort, filter.cursor, filter.limit, cache);
    return { ...page, items: page.items.map(item) };
  }

  /** A CVE's page; its aggregates read all the CVE's findings, so it is kept until the next sync. */
  function detail(scope: TenantScope, id: string): Promise<VulnerabilityDetail | undefined> {
    const cveId = id.trim().toUpperCase();
    return cache.get(`cve|${scope.refs.join(',')}|${cveId}`, () => computeDetail(scope, cveId));
  }

  async function computeDetail(scope: TenantScope, cveId: string): Promise<VulnerabilityDetail | undefined> {
    const cve = await db.selectFrom('vuln.cve').select('ref').where('cve_id', '=', cveId).executeTakeFirst();
    if (!cve) return undefined;
    const summary = (await rows(scope, { status: 'all', cveRef: cve.ref }, sql`1 AS one`).execute(db)).rows[0];
    if (!summary) return undefined;
    const meta = await db.selectFrom('vuln.vulnerability').selectAll().where('cve_id', '=', cveId).where('tenant_ref', 'in', scope.refs)
      .orderBy('updated_on', 'desc').limit(1).executeTakeFirst();
    const perTenant = await db.selectFrom('vuln.cve_exposure').select(['tenant_ref', 'exposed_devices']).where('cve_ref', '=', cve.ref)
      .where('tenant_ref', 'in', scope.refs).execute();
    // A finding's (device, software, CVE) is unique, so a version's open findings for the CVE are its exposed devices.
    const software = await db.selectFrom('vuln.software_cve as sc').innerJoin('vuln.software as s', 's.ref', 'sc.software_ref')
      .select(['s.vendor', 's.name', 's.version', (eb) => eb.fn.sum<number>('sc.open_findings').as('devices')])
      .where('sc.cve_ref', '=', cve.ref).where('sc.tenant_ref', 'in', scope.refs).groupBy(['s.ref', 's.vendor', 's.name', 's.version'])
      .orderBy('devices', 'desc').orderBy('s.ref').execute();
    const { from, where } = layout.ofCve(scope, cve.ref);
    const updates = (await sql<{ update_id: string | null; update_title: string | null; update_url: string | null; devices: number }>`
      SELECT x.update_id, x.update_title, x.update_url, count(DISTINCT f.device_ref) AS devices FROM ${from} JOIN vuln.finding_detail x ON x.ref = f.detail_ref
      WHERE ${where} AND f.fixed_at IS NULL GROUP BY x.update_id, x.update_title, x.update_url ORDER BY devices DESC, coalesce(x.update_id, ''), coalesce(x.update_title, '')`.execute(db)).rows;
    const { everExposed } = (await sql<{ everExposed: number }>`SELECT count(DISTINCT f.device_ref) AS "everExposed" FROM ${from} WHERE ${where}`.execute(db)).rows[0];
    const fixedByDay = (await sql<{ day: number; findings: number }>`SELECT f.fixed_at / 86400 AS day, count(*) AS findings FROM ${from}
      WHERE ${where} AND f.fixed_at >= ${Math.floor(Date.now() / 1000) - 365 * 86_400} GROUP BY f.fixed_at / 86400 ORDER BY day`.execute(db)).rows;
    const list = (value: string | null | undefined): string[] => (value ? JSON.parse(value) : []);
    return {
      ...item(summary),
      description: meta?.description ?? null, cvssVector: meta?.cvss_vector ?? null, exploitTypes: list(meta?.exploit_types), tags: list(meta?.tags),
      updatedOn: meta?.updated_on ?? null, patchFirstAvailable: meta?.patch_first_available ?? null,
      fixedDevices: Number(everExposed) - Number(summary.exposed_devices),
      fixedByDay: fixedByDay.map((r) => ({ day: isoDay(Number(r.day)), findings: Number(r.findings) })),
      connections: perTenant.map((r) => ({ connectionId: scope.byRef.get(r.tenant_ref)!.connectionId, name: scope.byRef.get(r.tenant_ref)!.name, exposedDevices: r.exposed_devices })),
      software: software.filter((s) => Number(s.devices) > 0).map((s) => ({
        id: `${s.vendor}-_-${s.name}`, vendor: s.vendor, name: s.name, version: s.version, exposedDevices: Number(s.devices),
      })),
      recommendedUpdates: updates.map((u) => ({ id: u.update_id, title: u.update_title, url: u.update_url, devices: Number(u.devices) })),
    };
  }

  /** Every row the filter selects, in pages (for exports); throws at once on a bad parameter. */
  function pages(scope: TenantScope, filter: Omit<VulnerabilityFilter, 'cursor' | 'limit'>): AsyncGenerator<VulnerabilityItem[]> {
    const sort = parseSort(filter.sort, SORTS, '-exposedDevices');
    return everyPage(db, rows(scope, filter, sortColumns(sort, sql`c.cve_id`)), sort, item);
  }

  return { list, detail, pages };
}

export type VulnerabilityQueries = ReturnType<typeof createVulnerabilityQueries>;
