// Reading the exposure copy: findings with filters and a sort, keyset-paged, with an exact total.

import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../store/schema.js';
import { containsPattern, everyPage, keysetPage, listParameter, parseSort, sortColumns, type SortKey } from './paging.js';
import { inTenants, type TenantScope } from './scope.js';
import { parseSoftwareId } from './software.js';
import { EXPLOIT_LEVELS, isoTime, SEVERITIES } from './vulnerabilities.js';
import type { ListPage } from './views.js';

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
}

const SORTS: Record<string, SortKey> = {
  id: [sql`f.id`],
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
  id: number; first_seen: number | null; opened_at: number; fixed_at: number | null; reopened: number; tenant_ref: number; device_id: string;
  device_name: string | null; rbac_group_name: string | null; os_platform: string | null; last_seen: string | null; vendor: string; name: string;
  version: string; cve_id: string; severity: string | null; cvss: number | null; exploitability: string | null; update_title: string | null;
  update_id: string | null; update_url: string | null; update_available: number | null;
}

export function createFindingQueries(db: Kysely<Database>) {
  function rows(scope: TenantScope, filter: FindingFilter, columns: RawBuilder<unknown>): RawBuilder<Row> {
    const where: RawBuilder<unknown>[] = [inTenants('d.tenant_ref', scope)];
    if (filter.status) where.push(filter.status === 'open' ? sql`f.fixed_at IS NULL` : sql`f.fixed_at IS NOT NULL`);
    if (filter.deviceId?.trim()) where.push(sql`d.device_id = ${filter.deviceId.trim().toLowerCase()}`);
    if (filter.cveId?.trim()) {
      where.push(sql`f.id IN (SELECT cf.finding_id FROM vuln.cve_finding cf WHERE ${inTenants('cf.tenant_ref', scope)}
        AND cf.cve_ref = (SELECT ref FROM vuln.cve WHERE cve_id = ${filter.cveId.trim().toUpperCase()}))`);
    }
    const severities = listParameter('severity', filter.severity, SEVERITIES);
    if (severities) where.push(sql`x.severity IN (${sql.join(severities)})`);
    const levels = listParameter('exploit', filter.exploit, EXPLOIT_LEVELS);
    if (levels) where.push(sql`x.exploitability IN (${sql.join(levels.map((l) => EXPLOITABILITY[l]))})`);
    if (filter.rbacGroup?.trim()) where.push(sql`d.rbac_group_name = ${filter.rbacGroup.trim()}`);
    if (filter.osPlatform?.trim()) where.push(sql`lower(d.os_platform) = ${filter.osPlatform.trim().toLowerCase()}`);
    if (filter.softwareId?.trim()) {
      const { vendor, name } = parseSoftwareId(filter.softwareId.trim());
      where.push(sql`s.vendor = ${vendor} AND s.name = ${name}`);
      if (filter.softwareVersion?.trim()) where.push(sql`s.version = ${filter.softwareVersion.trim()}`);
    }
    if (filter.q?.trim()) {
      const pattern = containsPattern(filter.q.trim());
      where.push(sql`(lower(c.cve_id) LIKE ${pattern} ESCAPE '\\' OR lower(coalesce(d.name, '')) LIKE ${pattern} ESCAPE '\\'
        OR d.device_id LIKE ${pattern} ESCAPE '\\' OR lower(s.name) LIKE ${pattern} ESCAPE '\\')`);
    }
    return sql<Row>`SELECT f.id, f.first_seen, f.opened_at, f.fixed_at, f.reopened, d.tenant_ref, d.device_id, d.name AS device_name,
      d.rbac_group_name, d.os_platform, d.last_seen, s.vendor, s.name, s.version, c.cve_id, x.severity, x.cvss, x.exploitability,
      x.update_title, x.update_id, x.update_url, x.update_available, ${columns}
      FROM vuln.finding f JOIN vuln.device d ON d.ref = f.device_ref JOIN vuln.software s ON s.ref = f.software_ref
      JOIN vuln.cve c ON c.ref = f.cve_ref JOIN vuln.finding_detail x ON x.ref = f.detail_ref
      WHERE ${sql.join(where, sql` AND `)}`;
  }

  const view = (scope: TenantScope, r: Row): FindingView => ({
    id: r.id, connectionId: scope.byRef.get(r.tenant_ref)!.connectionId, deviceId: r.device_id, deviceName: r.device_name,
    rbacGroupName: r.rbac_group_name, osPlatform: r.os_platform, software: { vendor: r.vendor, name: r.name, version: r.version },
    cveId: r.cve_id, severity: r.severity, cvss: r.cvss, exploitability: r.exploitability,
    recommendedUpdate: { title: r.update_title, id: r.update_id, url: r.update_url, available: r.update_available === null ? null : r.update_available === 1 },
    firstSeen: isoTime(r.first_seen), lastSeen: r.last_seen, status: r.fixed_at === null ? 'open' : 'fixed', openedAt: isoTime(r.opened_at)!,
    fixedAt: isoTime(r.fixed_at), reopened: r.reopened,
  });

  async function list(scope: TenantScope, filter: FindingFilter & { cursor?: string; limit: number }): Promise<ListPage<FindingView>> {
    const sort = parseSort(filter.sort, SORTS, 'id');
    const page = await keysetPage(db, rows(scope, filter, sortColumns(sort, sql`f.id`)), sort, filter.cursor, filter.limit);
    return { ...page, items: page.items.map((r) => view(scope, r)) };
  }

  return {
    list,

    /** Every finding the filter selects, in pages (for exports); throws at once on a bad parameter. */
    pages(scope: TenantScope, filter: FindingFilter): AsyncGenerator<FindingView[]> {
      const sort = parseSort(filter.sort, SORTS, 'id');
      return everyPage(db, rows(scope, filter, sortColumns(sort, sql`f.id`)), sort, (r) => view(scope, r));
    },
  };
}

export type FindingQueries = ReturnType<typeof createFindingQueries>;
