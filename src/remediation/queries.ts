// Reading the remediation read models (src/remediation/tally.ts): the ranked remediations, one
// remediation with its content and "why this score", its devices, and the coverage gaps. Scoped to
// the tenants the principal may see, keyset-paged with exact totals, like the exposure lists.

import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DataVersionCache } from '../exposure/cache.js';
import { containsPattern, everyPage, keysetPage, listParameter, parseSort, sortColumns, type SortKey } from '../exposure/paging.js';
import { inTenants, type TenantScope } from '../exposure/scope.js';
import { isoTime, SEVERITIES } from '../exposure/vulnerabilities.js';
import { dayOfDate, remediationSlaState, windowOf, type SlaState, type SlaWindows } from '../exposure/sla-state.js';
import type { ListPage } from '../exposure/views.js';
import type { Database, RemediationKind } from '../store/schema.js';
import type { RiskBreakdown } from './risk.js';

export const REMEDIATION_KINDS: readonly RemediationKind[] = ['windows_update', 'microsoft_update', 'linux_advisory', 'product_update'];

export interface RemediationFilter {
  kind?: string;
  severity?: string;
  status?: string;
  q?: string;
  sort?: string;
}

export interface RemediationItem {
  id: string;
  connectionId: string;
  title: string;
  kind: RemediationKind;
  riskScore: number;
  openFindings: number;
  fixedFindings: number;
  devices: number;
  cves: number;
  bySeverity: { critical: number; high: number; medium: number; low: number };
  dueOn: string | null;
  status: 'open' | 'in_progress' | 'complete';
  /** By its due date: within, approaching (the last fifth of its highest open severity's window) or overdue; null with nothing open. */
  slaState: Exclude<SlaState, 'excepted'> | null;
  /** When Defender reported its last finding fixed ("confirmed by Defender at"). */
  completedAt: string | null;
}

export interface RemediationDetail extends RemediationItem {
  update: { id: string; title: string | null } | null;
  product: string | null;
  /** The versions that close its open findings, per product (by each product's version scheme). */
  versions: { product: string; minimumVersion: string }[];
  progress: { fixedFindings: number; openFindings: number; percent: number };
  confirmation: string | null;
  whyThisScore: RiskBreakdown & { topCves: { cveId: string; severity: string | null; cvss: number | null; epss: number | null; exploitability: string | null; kev: boolean; openFindings: number }[] };
  cveIds: string[];
}

export interface RemediationDevice {
  deviceId: string;
  deviceName: string | null;
  osPlatform: string | null;
  osVersion: string | null;
  rbacGroupName: string | null;
  lastSeen: string | null;
  openFindings: number;
}

export interface CoverageGap {
  id: string;
  connectionId: string;
  product: string;
  title: string;
  reason: string;
  whatToDo: string;
  openFindings: number;
  devices: number;
  cves: number;
  bySeverity: { critical: number; high: number; medium: number; low: number };
}

const STATUSES = ['open', 'in_progress', 'complete'] as const;
const STATUS_SQL = sql<string>`CASE WHEN r.open_findings = 0 THEN 'complete' WHEN r.fixed_findings > 0 THEN 'in_progress' ELSE 'open' END`;

const SORTS: Record<string, SortKey> = {
  riskScore: [sql`r.risk_score`],
  openFindings: [sql`r.open_findings`],
  devices: [sql`r.devices`],
  cves: [sql`r.cves`],
  dueOn: [sql`coalesce(r.due_on, '9999')`],
  title: [sql`r.title`],
};
const GAP_SORTS: Record<string, SortKey> = { openFindings: [sql`r.open_findings`], devices: [sql`r.devices`], product: [sql`coalesce(r.product, '')`] };

/** What the admin can do about findings no update covers, by why. */
const GAP_ADVICE: Record<string, string> = {
  no_fix_released: 'The vendor has not released a fix yet: mitigate (the vendor\'s workaround, restrict access), uninstall where it is not needed, or accept the risk with an exception until a fix ships.',
  will_not_fix: 'The vendor will not fix it in this release: upgrade to a release that is fixed, uninstall, or accept the risk with an exception.',
  not_analysed: 'NVD has not analysed the CVE yet, so the fixed version is not known: check the vendor\'s advisory, update to the latest version, or wait for the next content import.',
  not_covered: 'No imported feed covers this product: check the vendor\'s advisories and update or uninstall it, or accept the risk with an exception.',
};

interface Row extends Record<string, unknown> {
  ref: number; tenant_ref: number; kind: RemediationKind; title: string; product: string | null; reason: string | null; update_id: string | null;
  update_title: string | null; content: string; open_findings: number; fixed_findings: number; devices: number; cves: number;
  open_critical: number; open_high: number; open_medium: number; open_low: number; risk_score: number; risk: string; due_on: string | null;
  completed_at: number | null; status: RemediationItem['status'];
}

const bySeverity = (r: Row) => ({ critical: r.open_critical, high: r.open_high, medium: r.open_medium, low: r.open_low });

export function createRemediationQueries(db: Kysely<Database>, cache: DataVersionCache, windows: SlaWindows, now = () => new Date()) {
  const highest = (r: Row) => (r.open_critical > 0 ? 'Critical' : r.open_high > 0 ? 'High' : r.open_medium > 0 ? 'Medium' : 'Low');
  const item = (scope: TenantScope, r: Row): RemediationItem => ({
    id: String(r.ref), connectionId: scope.byRef.get(r.tenant_ref)!.connectionId, title: r.title, kind: r.kind, riskScore: r.risk_score,
    openFindings: r.open_findings, fixedFindings: r.fixed_findings, devices: r.devices, cves: r.cves, bySeverity: bySeverity(r), dueOn: r.due_on,
    status: r.status, slaState: r.open_findings > 0 ? remediationSlaState(dayOfDate(now()), r.due_on, windowOf(windows, highest(r))) : null,
    completedAt: isoTime(r.completed_at),
  });

  /** Remediations that close findings (a remediation whose findings all moved elsewhere, unfixed, is no longer one). */
  function rows(scope: TenantScope, filter: RemediationFilter, sort: ReturnType<typeof parseSort>, gaps: boolean): RawBuilder<Row> {
    const where: RawBuilder<unknown>[] = [inTenants('r.tenant_ref', scope), sql`(r.open_findings > 0 OR r.completed_at IS NOT NULL)`];
    if (gaps) {
      where.push(sql`r.kind = 'coverage_gap' AND r.open_findings > 0`);
    } else {
      const kinds = listParameter('kind', filter.kind, REMEDIATION_KINDS);
      where.push(kinds ? sql`r.kind IN (${sql.join(kinds)})` : sql`r.kind != 'coverage_gap'`);
      const statuses = listParameter('status', filter.status, STATUSES);
      if (statuses) where.push(sql`${STATUS_SQL} IN (${sql.join(statuses)})`);
    }
    const severities = listParameter('severity', filter.severity, SEVERITIES);
    if (severities) {
      const column = { Critical: 'r.open_critical', High: 'r.open_high', Medium: 'r.open_medium', Low: 'r.open_low' } as const;
      where.push(sql`(${sql.join(severities.map((s) => sql`${sql.ref(column[s as keyof typeof column])} > 0`), sql` OR `)})`);
    }
    if (filter.q?.trim()) {
      const pattern = containsPattern(filter.q.trim());
      // Its title, update, product, or one of its CVEs.
      where.push(sql`(lower(r.title) LIKE ${pattern} ESCAPE '\\' OR lower(coalesce(r.update_id, '')) LIKE ${pattern} ESCAPE '\\'
        OR lower(coalesce(r.product, '')) LIKE ${pattern} ESCAPE '\\' OR EXISTS (SELECT 1 FROM vuln.remediation_key k JOIN vuln.cve c ON c.ref = k.cve_ref
        WHERE k.remediation_ref = r.ref AND k.open_findings > 0 AND lower(c.cve_id) LIKE ${pattern} ESCAPE '\\'))`);
    }
    return sql<Row>`SELECT r.*, ${STATUS_SQL} AS status, ${sortColumns(sort, sql`r.ref`)} FROM vuln.remediation r WHERE ${sql.join(where, sql` AND `)}`;
  }

  const gap = (scope: TenantScope, r: Row): CoverageGap => ({
    id: String(r.ref), connectionId: scope.byRef.get(r.tenant_ref)!.connectionId, product: r.product ?? '', title: r.title, reason: r.reason ?? 'not_covered',
    whatToDo: GAP_ADVICE[r.reason ?? 'not_covered'] ?? GAP_ADVICE.not_covered, openFindings: r.open_findings, devices: r.devices, cves: r.cves, bySeverity: bySeverity(r),
  });

  async function find(scope: TenantScope, id: string): Promise<Row | undefined> {
    if (!/^\d{1,15}$/.test(id)) return undefined;
    const found = await sql<Row>`SELECT r.*, ${STATUS_SQL} AS status FROM vuln.remediation r
      WHERE r.ref = ${Number(id)} AND ${inTenants('r.tenant_ref', scope)} AND r.kind != 'coverage_gap' AND (r.open_findings > 0 OR r.completed_at IS NOT NULL)`.execute(db);
    return found.rows[0];
  }

  const deviceRows = (ref: number) => sql<Record<string, unknown> & { device_id: string; name: string | null; os_platform: string | null; os_version: string | null;
    rbac_group_name: string | null; last_seen: string | null; open_findings: number; sort_tie: number }>`SELECT d.device_id, d.name, d.os_platform, d.os_version,
    d.rbac_group_name, d.last_seen, rd.open_findings, rd.device_ref AS sort_tie FROM vuln.remediation_device rd JOIN vuln.device d ON d.ref = rd.device_ref
    WHERE rd.remediation_ref = ${ref} AND rd.open_findings > 0`;
  const deviceOf = (r: { device_id: string; name: string | null; os_platform: string | null; os_version: string | null; rbac_group_name: string | null; last_seen: string | null; open_findings: number }): RemediationDevice => ({
    deviceId: r.device_id, deviceName: r.name, osPlatform: r.os_platform, osVersion: r.os_version, rbacGroupName: r.rbac_group_name, lastSeen: r.last_seen, openFindings: r.open_findings,
  });
  const deviceSort = parseSort(undefined, { device: [] }, 'device');

  return {
    async list(scope: TenantScope, filter: RemediationFilter & { cursor?: string; limit: number }): Promise<ListPage<RemediationItem>> {
      const sort = parseSort(filter.sort, SORTS, '-riskScore');
      const page = await keysetPage(db, rows(scope, filter, sort, false), sort, filter.cursor, filter.limit, cache);
      return { ...page, items: page.items.map((r) => item(scope, r)) };
    },

    /** Every remediation of the filter, in its order (CSV); throws at once on a bad parameter. */
    pages(scope: TenantScope, filter: RemediationFilter): AsyncGenerator<RemediationItem[]> {
      const sort = parseSort(filter.sort, SORTS, '-riskScore');
      return everyPage(db, rows(scope, filter, sort, false), sort, (r) => item(scope, r));
    },

    async detail(scope: TenantScope, id: string): Promise<RemediationDetail | undefined> {
      const r = await find(scope, id);
      if (!r) return undefined;
      const cves = (await sql<{ cve_id: string; severity: string | null; cvss: number | null; epss: number | null; exploitability: string | null; kev: number; open: number }>`
        SELECT c.cve_id, max(x.severity) AS severity, max(x.cvss) AS cvss, max(v.epss) AS epss, max(x.exploitability) AS exploitability, max(k.kev) AS kev,
        sum(k.open_findings) AS open FROM vuln.remediation_key k JOIN vuln.cve c ON c.ref = k.cve_ref JOIN vuln.finding_detail x ON x.ref = k.detail_ref
        LEFT JOIN vuln.vulnerability v ON v.tenant_ref = k.tenant_ref AND v.cve_id = c.cve_id
        WHERE k.remediation_ref = ${r.ref} AND k.open_findings > 0 GROUP BY c.cve_id
        ORDER BY max(k.kev) DESC, coalesce(max(x.cvss), 0) DESC, coalesce(max(v.epss), 0) DESC, c.cve_id`.execute(db)).rows;
      const base = item(scope, r);
      const percent = r.fixed_findings + r.open_findings === 0 ? 0 : Math.round((100 * r.fixed_findings) / (r.fixed_findings + r.open_findings));
      return {
        ...base,
        update: r.update_id ? { id: r.update_id, title: r.update_title } : null,
        product: r.product,
        versions: JSON.parse(r.content) as RemediationDetail['versions'],
        progress: { fixedFindings: r.fixed_findings, openFindings: r.open_findings, percent },
        confirmation: base.completedAt ? `Confirmed by Defender at ${base.completedAt}` : null,
        whyThisScore: {
          ...(JSON.parse(r.risk) as RiskBreakdown),
          topCves: cves.slice(0, 10).map((c) => ({ cveId: c.cve_id, severity: c.severity, cvss: c.cvss, epss: c.epss, exploitability: c.exploitability, kev: c.kev === 1, openFindings: c.open })),
        },
        cveIds: cves.map((c) => c.cve_id).sort(),
      };
    },

    /** The devices with open findings in a remediation; undefined when the principal cannot see it. */
    async devices(scope: TenantScope, id: string, page: { cursor?: string; limit: number }): Promise<ListPage<RemediationDevice> | undefined> {
      const r = await find(scope, id);
      if (!r) return undefined;
      const found = await keysetPage(db, deviceRows(r.ref), deviceSort, page.cursor, page.limit, cache);
      return { ...found, items: found.items.map(deviceOf) };
    },

    async devicePages(scope: TenantScope, id: string): Promise<AsyncGenerator<RemediationDevice[]> | undefined> {
      const r = await find(scope, id);
      return r && everyPage(db, deviceRows(r.ref), deviceSort, deviceOf);
    },

    async gaps(scope: TenantScope, filter: RemediationFilter & { cursor?: string; limit: number }): Promise<ListPage<CoverageGap> & { totalFindings: number }> {
      const sort = parseSort(filter.sort, GAP_SORTS, '-openFindings');
      const query = rows(scope, filter, sort, true);
      const page = await keysetPage(db, query, sort, filter.cursor, filter.limit, cache);
      const totalFindings = await cache.get(`gapFindings|${scope.refs.join(',')}|${JSON.stringify(filter)}`, async () => {
        const compiled = sql<{ n: number }>`SELECT coalesce(sum(open_findings), 0) AS n FROM (${query}) AS g`;
        return Number((await compiled.execute(db)).rows[0].n);
      });
      return { ...page, items: page.items.map((r) => gap(scope, r)), totalFindings };
    },

    gapPages(scope: TenantScope, filter: RemediationFilter): AsyncGenerator<CoverageGap[]> {
      const sort = parseSort(filter.sort, GAP_SORTS, '-openFindings');
      return everyPage(db, rows(scope, filter, sort, true), sort, (r) => gap(scope, r));
    },
  };
}

export type RemediationQueries = ReturnType<typeof createRemediationQueries>;
