// Devices with their open findings by severity (kept on the device row by the sync), and a
// device's page: its open findings grouped by software, and its fixed history.

import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import type { Database, DeviceTable } from '../store/schema.js';
import type { DataVersionCache } from './cache.js';
import { BadParameterError, containsPattern, everyPage, keysetPage, listParameter, parseSort, type ListParameters, sortColumns, type SortKey } from './paging.js';
import { findingLayout } from './finding-sql.js';
import { inTenants, type TenantScope } from './scope.js';
import { isoTime, SEVERITIES } from './vulnerabilities.js';
import type { DeviceDetail, DeviceFinding, DeviceItem, ListPage } from './views.js';

const SORTS: Record<string, SortKey> = {
  // Defender lists the most exposed devices first: critical findings, then high, then all.
  exposure: [sql`d.open_critical`, sql`d.open_high`, sql`d.open_findings`],
  openFindings: [sql`d.open_findings`],
  name: [sql`coalesce(d.name, '')`],
  lastSeen: [sql`coalesce(d.last_seen, '')`],
  osPlatform: [sql`coalesce(d.os_platform, '')`],
};

const SEVERITY_COLUMNS = { Critical: 'd.open_critical', High: 'd.open_high', Medium: 'd.open_medium', Low: 'd.open_low' } as const;

export interface DeviceFilter extends ListParameters {
  severity?: string;
  rbacGroup?: string;
  osPlatform?: string;
  cveId?: string;
  status?: 'exposed' | 'all';
}

/** A device row as the lists select it (DEVICE_COLUMNS). */
type Row = Omit<Selectable<DeviceTable>, 'ref'> & Record<string, unknown>;

const DEVICE_COLUMNS = sql`d.device_id, d.tenant_ref, d.name, d.os_platform, d.os_version, d.os_architecture, d.rbac_group_id, d.rbac_group_name,
  d.last_seen, d.open_findings, d.open_critical, d.open_high, d.open_medium, d.open_low`;

export const bySeverity = (r: { open_critical: number; open_high: number; open_medium: number; open_low: number }) => ({
  critical: Number(r.open_critical), high: Number(r.open_high), medium: Number(r.open_medium), low: Number(r.open_low),
});

const item = (scope: TenantScope, r: Row): DeviceItem => ({
  id: r.device_id, connectionId: scope.byRef.get(r.tenant_ref)!.connectionId, name: r.name, osPlatform: r.os_platform, osVersion: r.os_version,
  osArchitecture: r.os_architecture, rbacGroupId: r.rbac_group_id, rbacGroupName: r.rbac_group_name, lastSeen: r.last_seen,
  openFindings: Number(r.open_findings), bySeverity: bySeverity(r),
});

export function createDeviceQueries(db: Kysely<Database>, cache: DataVersionCache) {
  const layout = findingLayout(db);
  function rows(scope: TenantScope, filter: Omit<DeviceFilter, 'sort' | 'cursor' | 'limit'>, columns: RawBuilder<unknown>): RawBuilder<Row> {
    const where: RawBuilder<unknown>[] = [inTenants('d.tenant_ref', scope)];
    const severities = listParameter('severity', filter.severity, SEVERITIES);
    if (severities) where.push(sql`(${sql.join(severities.map((s) => sql`${sql.ref(SEVERITY_COLUMNS[s])} > 0`), sql` OR `)})`);
    if (filter.rbacGroup?.trim()) where.push(sql`d.rbac_group_name = ${filter.rbacGroup.trim()}`);
    if (filter.osPlatform?.trim()) where.push(sql`lower(d.os_platform) = ${filter.osPlatform.trim().toLowerCase()}`);
    if ((filter.status ?? 'all') === 'exposed') where.push(sql`d.open_findings > 0`);
    if (filter.q?.trim()) {
      const pattern = containsPattern(filter.q.trim());
      where.push(sql`(lower(coalesce(d.name, '')) LIKE ${pattern} ESCAPE '\\' OR d.device_id LIKE ${pattern} ESCAPE '\\')`);
    }
    if (filter.cveId?.trim()) {
      const cve = layout.ofCve(scope, sql`(SELECT ref FROM vuln.cve WHERE cve_id = ${filter.cveId.trim().toUpperCase()})`);
      where.push(sql`d.ref IN (SELECT f.device_ref FROM ${cve.from} WHERE ${cve.where} AND f.fixed_at IS NULL)`);
    }
    return sql<Row>`SELECT ${DEVICE_COLUMNS}, ${columns} FROM vuln.device d WHERE ${sql.join(where, sql` AND `)}`;
  }

  async function list(scope: TenantScope, filter: DeviceFilter): Promise<ListPage<DeviceItem>> {
    const sort = parseSort(filter.sort, SORTS, '-exposure');
    const page = await keysetPage(db, rows(scope, filter, sortColumns(sort, sql`d.ref`)), sort, filter.cursor, filter.limit, cache);
    return { ...page, items: page.items.map((r) => item(scope, r)) };
  }

  async function detail(scope: TenantScope, id: string): Promise<DeviceDetail | undefined> {
    const matches = (await sql<Row & { ref: number }>`SELECT d.ref, ${DEVICE_COLUMNS} FROM vuln.device d
      WHERE d.device_id = ${id.trim().toLowerCase()} AND ${inTenants('d.tenant_ref', scope)}`.execute(db)).rows;
    if (matches.length === 0) return undefined;
    if (matches.length > 1) {
      throw new BadParameterError('connectionId', `Device ${id} is in ${matches.length} of your connections.`, 'Add connectionId to say which one.');
    }
    const device = matches[0];
    const findings = await db.selectFrom('vuln.finding as f').innerJoin('vuln.software as s', 's.ref', 'f.software_ref')
      .innerJoin('vuln.cve as c', 'c.ref', 'f.cve_ref').innerJoin('vuln.finding_detail as x', 'x.ref', 'f.detail_ref')
      .select(['s.ref as software_ref', 's.vendor', 's.name', 's.version', 'c.cve_id', 'x.severity', 'x.cvss', 'x.exploitability', 'x.update_id',
        'x.update_title', 'x.update_url', 'f.first_seen', 'f.opened_at', 'f.fixed_at', 'f.reopened'])
      .where(layout.ofDevice(device)).orderBy('s.vendor').orderBy('s.name').orderBy('s.version').orderBy('c.cve_id').execute();
    const finding = (f: (typeof findings)[number]): DeviceFinding => ({
      cveId: f.cve_id, severity: f.severity, cvss: f.cvss, exploitability: f.exploitability,
      recommendedUpdate: { id: f.update_id, title: f.update_title, url: f.update_url },
      firstSeen: isoTime(f.first_seen), openedAt: isoTime(f.opened_at)!, fixedAt: isoTime(f.fixed_at), reopened: f.reopened,
    });
    const softwareOf = (f: (typeof findings)[number]) => ({ id: `${f.vendor}-_-${f.name}`, vendor: f.vendor, name: f.name, version: f.version });
    const software = new Map<number, DeviceDetail['software'][number]>();
    for (const f of findings) {
      if (f.fixed_at !== null) continue;
      let group = software.get(f.software_ref);
      if (!group) software.set(f.software_ref, group = { ...softwareOf(f), findings: [] });
      group.findings.push(finding(f));
    }
    const fixed = findings.filter((f) => f.fixed_at !== null).sort((a, b) => b.fixed_at! - a.fixed_at!).slice(0, 1000)
      .map((f) => ({ ...finding(f), software: softwareOf(f) }));
    return { ...item(scope, device), software: [...software.values()], fixed };
  }

  /** Every row the filter selects, in pages (for exports); throws at once on a bad parameter. */
  function pages(scope: TenantScope, filter: Omit<DeviceFilter, 'cursor' | 'limit'>): AsyncGenerator<DeviceItem[]> {
    const sort = parseSort(filter.sort, SORTS, '-exposure');
    return everyPage(db, rows(scope, filter, sortColumns(sort, sql`d.ref`)), sort, (r) => item(scope, r));
  }

  return { list, detail, pages };
}

export type DeviceQueries = ReturnType<typeof createDeviceQueries>;
