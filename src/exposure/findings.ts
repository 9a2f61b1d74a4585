// Reading the exposure copy: findings with filters and a sort, keyset-paged, with an exact total.

import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { FindingFix, FixQuery, Knowledge } from '../content/knowledge.js';
import type { Database } from '../store/schema.js';
import type { DataVersionCache } from './cache.js';
import { FindingCsvLines, type FindingExportRow } from './exports.js';
import { containsPattern, everyArrayPage, keysetPage, listParameter, parseSort, sortColumns, type ArrayRows, type Sort, type SortKey } from './paging.js';
import { findingLayout } from './finding-sql.js';
import { inTenants, type TenantScope } from './scope.js';
import { findingSla, KEV_DUE_DAY_SQL, slaStateCondition, type SlaContext, type SlaState } from './sla-state.js';
import { parseSoftwareId } from './software.js';
import { EXPLOIT_LEVELS, isoTime, SEVERITIES } from './vulnerabilities.js';
import type { ListPage } from './views.js';

/** Finding ids from the first up to (not including) the second. */
export type IdRange = [number, number];

export interface FindingFilter {
  status?: 'open' | 'fixed';
  deviceId?: string;
  cveId?: string;
  severity?: string;
  exploit?: string;
  rbacGroup?: string;
  osPlatform?: string;
  softwareId?: string;
  softwareVersion?: string;
  q?: string;
  sort?: string;
  /** Today, the windows and the active exceptions; with `states`, only open findings in those SLA states. */
  sla?: SlaContext;
}

export interface FindingView {
  id: number;
  connectionId: string;
  deviceId: string;
  deviceName: string | null;
  rbacGroupName: string | null;
  osPlatform: string | null;
  software: { vendor: string; name: string; version: string };
  cveId: string;
  severity: string | null;
  cvss: number | null;
  exploitability: string | null;
  recommendedUpdate: { title: string | null; id: string | null; url: string | null; available: boolean | null };
  firstSeen: string | null;
  lastSeen: string | null;
  status: 'open' | 'fixed';
  openedAt: string;
  fixedAt: string | null;
  reopened: number;
  /** Open findings: within, approaching, overdue or excepted; null once fixed. */
  slaState: SlaState | null;
  /** YYYY-MM-DD: first seen plus its severity's window, or CISA's KEV due date when sooner; null once fixed. */
  dueOn: string | null;
  fix: FindingFix;
}

const SORTS: Record<string, SortKey> = {
  // The tie-breaker is the id: sorting by it alone keeps paging a range scan of the finding table.
  id: [],
  firstSeen: [sql`coalesce(f.first_seen, 0)`],
  openedAt: [sql`f.opened_at`],
  fixedAt: [sql`coalesce(f.fixed_at, 0)`],
  severity: [sql`CASE x.severity WHEN 'Critical' THEN 4 WHEN 'High' THEN 3 WHEN 'Medium' THEN 2 WHEN 'Low' THEN 1 ELSE 0 END`],
  cvss: [sql`coalesce(x.cvss, -1)`],
  cveId: [sql`c.cve_id`],
  deviceName: [sql`coalesce(d.name, '')`],
};

/** Defender's exploitability levels, by the level names the other lists use. */
const EXPLOITABILITY = { none: 'NoExploit', public: 'ExploitIsPublic', verified: 'ExploitIsVerified', inKit: 'ExploitIsInKit' } as const;

interface Row extends Record<string, unknown> {
  id: number; first_seen: number | null; opened_at: number; fixed_at: number | null; reopened: number; tenant_ref: number; device_id: string; os_version: string | null;
  device_name: string | null; rbac_group_name: string | null; os_platform: string | null; last_seen: string | null; vendor: string; name: string;
  version: string; cve_id: string; severity: string | null; cvss: number | null; exploitability: string | null; update_title: string | null;
  update_id: string | null; update_url: string | null; update_available: number | null; rbac_group_id: number | null; kev_due_day: number;
}

export const FINDING_CSV_COLUMNS = ['connectionId', 'deviceId', 'deviceName', 'rbacGroup', 'osPlatform', 'softwareVendor', 'softwareName',
  'softwareVersion', 'cveId', 'severity', 'cvss', 'exploitability', 'recommendedUpdate', 'status', 'firstSeen', 'lastSeen', 'openedAt', 'fixedAt', 'reopened'];

const VIEW_COLUMNS = sql`f.id, f.first_seen, f.opened_at, f.fixed_at, f.reopened, d.tenant_ref, d.device_id, d.os_version, d.name AS device_name,
  d.rbac_group_name, d.os_platform, d.last_seen, s.vendor, s.name, s.version, c.cve_id, x.severity, x.cvss, x.exploitability,
  x.update_title, x.update_id, x.update_url, x.update_available, d.rbac_group_id, ${KEV_DUE_DAY_SQL} AS kev_due_day`;

/** What an export reads per finding: integers only; the text of devices, software, CVEs and details is looked up once each. */
const EXPORT_COLUMNS = sql`f.first_seen, f.opened_at, f.fixed_at, f.reopened, f.device_ref, f.software_ref, f.cve_ref, f.detail_ref`;
const EXPORT_NAMES = sql`r.first_seen, r.opened_at, r.fixed_at, r.reopened, r.device_ref, r.software_ref, r.cve_ref, r.detail_ref`;
/** Ids per page of an export's range: at most as many rows. */
const PAGE_IDS = 5000;

/** `knowledge` answers each listed finding's fix (`knowledgeCurrent` brings it up to date first); exports carry no fix and need none. */
export function createFindingQueries(db: Kysely<Database>, cache: DataVersionCache, arrays: ArrayRows, knowledge?: Knowledge, knowledgeCurrent?: () => Promise<void>) {
  const layout = findingLayout(db);
  /**
   * The filtered findings with the sort's columns (a CVE's as finding-sql.ts reads them). Every
   * finding has its software, CVE and detail: the joins are LEFT only so that SQLite leaves out
   * those a query does not use (a count, an export).
   */
  function rows(scope: TenantScope, filter: FindingFilter, sort: Sort, select: RawBuilder<unknown> = VIEW_COLUMNS, ids?: IdRange): RawBuilder<Row> {
    const cveId = filter.cveId?.trim().toUpperCase();
    const ofCve = cveId ? layout.ofCve(scope, sql`(SELECT ref FROM vuln.cve WHERE cve_id = ${cveId})`) : undefined;
    // Without a device or a CVE to start from, read findings in id order and filter them by tenant.
    // When the scope is every tenant there is nothing to filter: the device is then read only if used.
    const where: RawBuilder<unknown>[] = [];
    if (ofCve) where.push(ofCve.where);
    else if (!scope.all) where.push(filter.deviceId?.trim() ? inTenants('d.tenant_ref', scope) : layout.inScope(scope));
    const id = ofCve?.id ?? sql`f.id`;
    if (ids) where.push(sql`${id} >= ${ids[0]} AND ${id} < ${ids[1]}`);
    if (filter.status) where.push(filter.status === 'open' ? sql`f.fixed_at IS NULL` : sql`f.fixed_at IS NOT NULL`);
    if (filter.deviceId?.trim()) where.push(sql`d.device_id = ${filter.deviceId.trim().toLowerCase()}`);
    const severities = listParameter('severity', filter.severity, SEVERITIES);
    // By detail ref: the few details of a severity are found once, not each finding's joined.
    if (severities) where.push(sql`f.detail_ref IN (SELECT ref FROM vuln.finding_detail WHERE severity IN (${sql.join(severities)}))`);
    const levels = listParameter('exploit', filter.exploit, EXPLOIT_LEVELS);
    if (levels) where.push(sql`f.detail_ref IN (SELECT ref FROM vuln.finding_detail WHERE exploitability IN (${sql.join(levels.map((l) => EXPLOITABILITY[l]))}))`);
    if (filter.rbacGroup?.trim()) where.push(sql`d.rbac_group_name = ${filter.rbacGroup.trim()}`);
    if (filter.osPlatform?.trim()) where.push(sql`lower(d.os_platform) = ${filter.osPlatform.trim().toLowerCase()}`);
    if (filter.softwareId?.trim()) {
      const { vendor, name } = parseSoftwareId(filter.softwareId.trim());
      where.push(sql`s.vendor = ${vendor} AND s.name = ${name}`);
      if (filter.softwareVersion?.trim()) where.push(sql`s.version = ${filter.softwareVersion.trim()}`);
    }
    if (filter.sla?.states) where.push(slaStateCondition(filter.sla, filter.sla.states));
    if (filter.q?.trim()) {
      const pattern = containsPattern(filter.q.trim());
      where.push(sql`(lower(c.cve_id) LIKE ${pattern} ESCAPE '\\' OR lower(coalesce(d.name, '')) LIKE ${pattern} ESCAPE '\\'
        OR d.device_id LIKE ${pattern} ESCAPE '\\' OR lower(s.name) LIKE ${pattern} ESCAPE '\\')`);
    }
    return sql<Row>`SELECT ${select}, ${sortColumns(sort, id)}
      FROM ${ofCve?.from ?? sql`vuln.finding f`}
      ${scope.all && !filter.deviceId?.trim() ? sql`LEFT JOIN` : sql`JOIN`} vuln.device d ON ${layout.deviceOf}
      LEFT JOIN vuln.software s ON s.ref = f.software_ref LEFT JOIN vuln.cve c ON c.ref = f.cve_ref LEFT JOIN vuln.finding_detail x ON x.ref = f.detail_ref
      ${where.length ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``}`;
  }

  const view = (scope: TenantScope, sla: SlaContext, r: Row, fix: FindingFix): FindingView => ({
    id: r.id, connectionId: scope.byRef.get(r.tenant_ref)!.connectionId, deviceId: r.device_id, deviceName: r.device_name,
    rbacGroupName: r.rbac_group_name, osPlatform: r.os_platform, software: { vendor: r.vendor, name: r.name, version: r.version },
    cveId: r.cve_id, severity: r.severity, cvss: r.cvss, exploitability: r.exploitability,
    recommendedUpdate: { title: r.update_title, id: r.update_id, url: r.update_url, available: r.update_available === null ? null : r.update_available === 1 },
    firstSeen: isoTime(r.first_seen), lastSeen: r.last_seen, status: r.fixed_at === null ? 'open' : 'fixed', openedAt: isoTime(r.opened_at)!,
    fixedAt: isoTime(r.fixed_at), reopened: r.reopened,
    ...findingSla(sla, {
      tenantRef: r.tenant_ref, deviceId: r.device_id, rbacGroupId: r.rbac_group_id, vendor: r.vendor, name: r.name, version: r.version, cveId: r.cve_id,
      severity: r.severity, start: r.first_seen ?? r.opened_at, kevDueDay: r.kev_due_day, open: r.fixed_at === null,
    }),
    fix,
  });

  async function list(scope: TenantScope, filter: FindingFilter & { cursor?: string; limit: number; sla: SlaContext }): Promise<ListPage<FindingView>> {
    const sort = parseSort(filter.sort, SORTS, 'id');
    const page = await keysetPage(db, rows(scope, filter, sort), sort, filter.cursor, filter.limit, cache);
    const queries = page.items.map((r): FixQuery => ({
      vendor: r.vendor, name: r.name, version: r.version, cveId: r.cve_id, osVersion: r.os_version, recommendedUpdateId: r.update_id, recommendedUpdateTitle: r.update_title,
    }));
    await knowledgeCurrent?.();
    const fixes = knowledge!.fixesFor(queries);
    return { ...page, items: page.items.map((r, i) => view(scope, filter.sla, r, fixes[i])) };
  }

  return {
    list,

    /** Throws a BadParameterError for a filter or sort that `list` and `csvPages` would refuse. */
    check(scope: TenantScope, filter: FindingFilter): void {
      rows(scope, filter, parseSort(filter.sort, SORTS, 'id'));
    },

    /**
     * Every finding the filter selects (of the ids in `ids`, when given: a filter in id order only) as CSV lines
     * (FINDING_CSV_COLUMNS), in pages; throws at once on a bad parameter. A million-row export reads
     * integers per finding and formats each device, software version, CVE and detail once
     * (exports.ts; `lines` keeps them across calls), which keeps it fast and flat in memory.
     * A range of ids is read PAGE_IDS ids at a time, with no sort columns to page on: each value a
     * row carries costs its JavaScript copy.
     */
    csvPages(scope: TenantScope, filter: FindingFilter, ids?: IdRange, lines = new FindingCsvLines(db, arrays, scope)): AsyncGenerator<string[]> {
      const sort = parseSort(filter.sort, SORTS, 'id');
      const range = (first: number) => sql`SELECT ${EXPORT_NAMES} FROM (${rows(scope, filter, sort, EXPORT_COLUMNS, [first, Math.min(first + PAGE_IDS, ids![1])])}) AS r ORDER BY r.sort_tie`;
      const pages = ids
        ? (async function* () {
          for (let first = ids[0]; first < ids[1]; first += PAGE_IDS) yield await arrays(range(first).compile(db));
        })()
        : everyArrayPage(db, arrays, rows(scope, filter, sort, EXPORT_COLUMNS), sort);
      return (async function* () {
        for await (const page of pages) if (page.length) yield await lines.format(page as FindingExportRow[]);
      })();
    },

    /** Whether the filter's order is that of the finding ids (so that ranges of ids can be exported apart and joined). */
    inIdOrder(filter: FindingFilter): boolean {
      const sort = parseSort(filter.sort, SORTS, 'id');
      return sort.expressions.length === 0 && !sort.descending;
    },
  };
}

export type FindingQueries = ReturnType<typeof createFindingQueries>;
