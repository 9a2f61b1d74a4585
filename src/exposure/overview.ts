// The overview (totals, exploitable CVEs, the last 7 days, the top tens, each connection's
// freshness), the trend of the daily history points, the RBAC group and OS facets, and the tenants
// list for service providers. Everything but freshness changes only when a sync commits, so it is
// cached until the next commit.

import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { DataVersionCache } from './cache.js';
import { bySeverity, type DeviceQueries } from './devices.js';
import { BadParameterError, containsPattern, keysetPage, parseSort, sortColumns, type SortKey } from './paging.js';
import { freshness, inTenants, type TenantScope } from './scope.js';
import type { SoftwareQueries } from './software.js';
import type { VulnerabilityQueries } from './vulnerabilities.js';
import type { BySeverity, ExposureSummary, Freshness, ListPage, TenantItem, TrendPoint } from './views.js';

const DAY_MS = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export interface Facets {
  rbacGroups: { id: number | null; name: string; connectionId: string; devices: number; exposedDevices: number; openFindings: number; bySeverity: BySeverity }[];
  osPlatforms: { name: string; devices: number; exposedDevices: number }[];
}

const TENANT_SORTS: Record<string, SortKey> = {
  name: [sql`lower(c.name)`],
  openFindings: [sql`coalesce(e.open_findings, 0)`],
  exposedDevices: [sql`coalesce(e.exposed_devices, 0)`],
  // Ascending: never synced, then the oldest sync first (the connections to look at).
  lastSuccessfulSync: [sql`coalesce((SELECT max(r.finished_at) FROM sync_run r WHERE r.connection_id = c.id AND r.status = 'succeeded'), '')`],
};

export interface OverviewDeps {
  db: Kysely<Database>;
  cache: DataVersionCache;
  scheduler: boolean;
  vulnerabilities: VulnerabilityQueries;
  devices: DeviceQueries;
  software: SoftwareQueries;
}

export function createOverviewQueries({ db, cache, scheduler, vulnerabilities, devices, software }: OverviewDeps) {
  const cached = <T>(key: string, compute: () => Promise<T>) => cache.get(key, compute);
  const scopeKey = (scope: TenantScope) => scope.refs.join(',');

  async function totals(scope: TenantScope) {
    const t = await db.selectFrom('vuln.tenant_exposure').where('tenant_ref', 'in', scope.refs)
      .select((eb) => [eb.fn.sum<number>('devices').as('devices'), eb.fn.sum<number>('exposed_devices').as('exposed_devices'),
        eb.fn.sum<number>('open_findings').as('open_findings'), eb.fn.sum<number>('open_critical').as('open_critical'),
        eb.fn.sum<number>('open_high').as('open_high'), eb.fn.sum<number>('open_medium').as('open_medium'), eb.fn.sum<number>('open_low').as('open_low')])
      .executeTakeFirstOrThrow();
    const cves = (await sql<{ exposed: number; any: number; public: number; verified: number; in_kit: number }>`SELECT count(*) AS exposed,
      coalesce(sum(CASE WHEN p = 1 OR ver = 1 OR kit = 1 THEN 1 ELSE 0 END), 0) AS any,
      coalesce(sum(CASE WHEN p = 1 THEN 1 ELSE 0 END), 0) AS public, coalesce(sum(CASE WHEN ver = 1 THEN 1 ELSE 0 END), 0) AS verified,
      coalesce(sum(CASE WHEN kit = 1 THEN 1 ELSE 0 END), 0) AS in_kit FROM (
        SELECT e.cve_ref, max(v.public_exploit) AS p, max(v.exploit_verified) AS ver, max(v.exploit_in_kit) AS kit
        FROM vuln.cve_exposure e JOIN vuln.cve c ON c.ref = e.cve_ref LEFT JOIN vuln.vulnerability v ON v.tenant_ref = e.tenant_ref AND v.cve_id = c.cve_id
        WHERE ${inTenants('e.tenant_ref', scope)} AND e.exposed_devices > 0 GROUP BY e.cve_ref) AS x`.execute(db)).rows[0];
    const week = await db.selectFrom('vuln.exposure_day').where('tenant_ref', 'in', scope.refs).where('day', '>', dayOf(Date.now() - 7 * DAY_MS))
      .select((eb) => [eb.fn.sum<number>('opened').as('opened'), eb.fn.sum<number>('fixed').as('fixed')]).executeTakeFirstOrThrow();
    const [topCves, topSoftware, topDevices] = await Promise.all([
      vulnerabilities.list(scope, { limit: 10 }), software.list(scope, { limit: 10 }), devices.list(scope, { limit: 10, status: 'exposed' }),
    ]);
    return {
      devices: Number(t.devices ?? 0), exposedDevices: Number(t.exposed_devices ?? 0), openFindings: Number(t.open_findings ?? 0),
      bySeverity: bySeverity({ open_critical: t.open_critical ?? 0, open_high: t.open_high ?? 0, open_medium: t.open_medium ?? 0, open_low: t.open_low ?? 0 }),
      exposedCves: Number(cves.exposed), exploitableCves: { any: Number(cves.any), public: Number(cves.public), verified: Number(cves.verified), inKit: Number(cves.in_kit) },
      last7Days: { opened: Number(week.opened ?? 0), fixed: Number(week.fixed ?? 0) },
      topCves: topCves.items.map(({ id, name, severity, cvss, exposedDevices, openFindings }) => ({ id, name, severity, cvss, exposedDevices, openFindings })),
      topSoftware: topSoftware.items.map(({ bySeverity: _, ...s }) => s),
      topDevices: topDevices.items.map(({ id, connectionId, name, osPlatform, openFindings, bySeverity: counts }) => ({ id, connectionId, name, osPlatform, openFindings, bySeverity: counts })),
    };
  }

  async function summary(scope: TenantScope, connectionScope: string[] | null, connectionId?: string): Promise<ExposureSummary> {
    const [counts, connections] = await Promise.all([
      // Per day too: "the last 7 days" moves with the calendar, not only with syncs.
      cached(`summary|${scopeKey(scope)}|${dayOf(Date.now())}`, () => totals(scope)),
      freshness(db, connectionScope, scheduler, connectionId),
    ]);
    return { ...counts, connections };
  }

  /** One point per day over the last `days` days (today included); a tenant's last point carries over days without a sync. */
  function trend(scope: TenantScope, days: number): Promise<{ days: number; points: TrendPoint[] }> {
    if (!Number.isInteger(days) || days < 1 || days > 365) throw new BadParameterError('days', `days must be a whole number from 1 to 365, not ${days}.`, 'Use days=30, 90 or 365.');
    const today = dayOf(Date.now());
    return cached(`trend|${scopeKey(scope)}|${days}|${today}`, async () => {
      // The window ends today, or on the latest point when a snapshot's clock runs ahead of this server's.
      const { latest } = await db.selectFrom('vuln.exposure_day').where('tenant_ref', 'in', scope.refs)
        .select((eb) => eb.fn.max('day').as('latest')).executeTakeFirstOrThrow();
      const last = latest && latest > today ? latest : today;
      const first = dayOf(Date.parse(last) - (days - 1) * DAY_MS);
      const rows = await db.selectFrom('vuln.exposure_day').selectAll().where('tenant_ref', 'in', scope.refs).where('day', '>=', first).orderBy('day').execute();
      // Each tenant's state when the window opens: its last point before it.
      const before = await db.selectFrom('vuln.exposure_day as p').selectAll().where('p.tenant_ref', 'in', scope.refs)
        .where('p.day', '=', (eb) => eb.selectFrom('vuln.exposure_day as q').select((q) => q.fn.max('q.day').as('d'))
          .whereRef('q.tenant_ref', '=', 'p.tenant_ref').where('q.day', '<', first))
        .execute();
      const state = new Map(before.map((r) => [r.tenant_ref, r]));
      const points: TrendPoint[] = [];
      let next = 0;
      for (let i = 0; i < days; i++) {
        const day = dayOf(Date.parse(first) + i * DAY_MS);
        let opened = 0;
        let fixed = 0;
        for (; next < rows.length && rows[next].day === day; next++) {
          state.set(rows[next].tenant_ref, rows[next]);
          opened += rows[next].opened;
          fixed += rows[next].fixed;
        }
        const point: TrendPoint = { day, openFindings: 0, bySeverity: { critical: 0, high: 0, medium: 0, low: 0 }, exposedDevices: 0, opened, fixed };
        for (const s of state.values()) {
          point.openFindings += s.open_findings;
          point.exposedDevices += s.exposed_devices;
          point.bySeverity.critical += s.open_critical;
          point.bySeverity.high += s.open_high;
          point.bySeverity.medium += s.open_medium;
          point.bySeverity.low += s.open_low;
        }
        points.push(point);
      }
      return { days, points };
    });
  }

  function facets(scope: TenantScope): Promise<Facets> {
    return cached(`facets|${scopeKey(scope)}`, async () => {
      const groups = await sql<{ tenant_ref: number; id: number | null; name: string; devices: number; exposed: number; open_findings: number; open_critical: number;
        open_high: number; open_medium: number; open_low: number }>`SELECT d.tenant_ref, d.rbac_group_id AS id, coalesce(d.rbac_group_name, '') AS name, count(*) AS devices,
        sum(CASE WHEN d.open_findings > 0 THEN 1 ELSE 0 END) AS exposed, sum(d.open_findings) AS open_findings, sum(d.open_critical) AS open_critical,
        sum(d.open_high) AS open_high, sum(d.open_medium) AS open_medium, sum(d.open_low) AS open_low
        FROM vuln.device d WHERE ${inTenants('d.tenant_ref', scope)} GROUP BY d.tenant_ref, d.rbac_group_id, coalesce(d.rbac_group_name, '') ORDER BY 3, 1, 2`.execute(db);
      const platforms = await sql<{ name: string; devices: number; exposed: number }>`SELECT coalesce(d.os_platform, '') AS name, count(*) AS devices,
        sum(CASE WHEN d.open_findings > 0 THEN 1 ELSE 0 END) AS exposed FROM vuln.device d WHERE ${inTenants('d.tenant_ref', scope)}
        GROUP BY coalesce(d.os_platform, '') ORDER BY 1`.execute(db);
      return {
        rbacGroups: groups.rows.map((g) => ({
          id: g.id === null ? null : Number(g.id), name: g.name, connectionId: scope.byRef.get(g.tenant_ref)!.connectionId, devices: Number(g.devices), exposedDevices: Number(g.exposed),
          openFindings: Number(g.open_findings), bySeverity: bySeverity(g),
        })),
        osPlatforms: platforms.rows.map((p) => ({ name: p.name, devices: Number(p.devices), exposedDevices: Number(p.exposed) })),
      };
    });
  }

  /** One row per connection the principal may see, synced or not. */
  async function tenants(connectionScope: string[] | null, filter: { q?: string; sort?: string; cursor?: string; limit: number }): Promise<ListPage<TenantItem>> {
    const sort = parseSort(filter.sort, TENANT_SORTS, 'name');
    const where = connectionScope === null ? [] : [sql<boolean>`c.id IN (${sql.join(connectionScope.length ? connectionScope : [''])})`];
    if (filter.q?.trim()) where.push(sql<boolean>`lower(c.name) LIKE ${containsPattern(filter.q.trim())} ESCAPE '\\'`);
    const page = await keysetPage(db, sql<{ connection_id: string; cloud: string; status: string } & Record<string, number | null>>`SELECT c.id AS connection_id,
      c.cloud, c.status, e.devices, e.exposed_devices, e.open_findings, e.open_critical, e.open_high, e.open_medium, e.open_low, ${sortColumns(sort, sql`c.id`)}
      FROM connection c LEFT JOIN vuln.tenant t ON t.connection_id = c.id LEFT JOIN vuln.tenant_exposure e ON e.tenant_ref = t.ref
      ${where.length ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``}`, sort, filter.cursor, filter.limit, cache);
    const fresh = new Map((await freshness(db, connectionScope, scheduler)).map((f): [string, Freshness] => [f.connectionId, f]));
    return {
      ...page,
      items: page.items.map((r) => ({
        ...fresh.get(r.connection_id)!, cloud: r.cloud, status: r.status,
        devices: Number(r.devices ?? 0), exposedDevices: Number(r.exposed_devices ?? 0), openFindings: Number(r.open_findings ?? 0),
        bySeverity: bySeverity({ open_critical: r.open_critical ?? 0, open_high: r.open_high ?? 0, open_medium: r.open_medium ?? 0, open_low: r.open_low ?? 0 }),
      })),
    };
  }

  return { summary, trend, facets, tenants };
}

export type OverviewQueries = ReturnType<typeof createOverviewQueries>;
