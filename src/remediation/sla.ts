// The SLA figures (/api/v1/sla): per connection and RBAC group, per severity, the open findings
// counted, within their window, approaching their due date, overdue, and those left out because an
// active risk exception covers them; compliance is the share of counted open findings not overdue.
// The figures are summed from the sync's read models (sla_open: open findings per group, severity,
// first-seen day and KEV due day; src/remediation/sla-tally.ts) against today's date and the
// configured windows. Exceptions are few: the findings they cover are read from indexed tables
// (a CVE's findings, a software version's CVEs, one finding; an RBAC group is its read-model rows)
// once per sync or change of the active exceptions, then kept. Also the mean time to remediate per
// severity (first seen to fix) and the daily trend of compliance, overdue and fixes.

import { sql, type Kysely } from 'kysely';
import type { DataVersionCache } from '../exposure/cache.js';
import { BadParameterError, listParameter } from '../exposure/paging.js';
import type { TenantScope } from '../exposure/scope.js';
import {
  dayOfDate, dayOfText, dayText, dueDay, SLA_STATES, timeState, windowsByIndex, type ExceptionMatch, type SlaContext, type SlaWindows,
} from '../exposure/sla-state.js';
import type { Database } from '../store/schema.js';

const SEVERITY_NAMES = ['critical', 'high', 'medium', 'low'] as const;
type SeverityName = (typeof SEVERITY_NAMES)[number];
const NO_GROUP = -1;

export interface SlaCounts {
  /** Open findings the figures count (excepted ones left out). */
  counted: number;
  within: number;
  approaching: number;
  overdue: number;
  /** Open findings an active exception covers: not counted. */
  excepted: number;
  /** Percent of counted open findings not overdue (one decimal); null with none counted. */
  compliance: number | null;
}

export interface SlaFigures extends SlaCounts {
  bySeverity: Record<SeverityName, SlaCounts>;
}

export interface SlaGroupFigures extends SlaFigures {
  rbacGroupId: number | null;
  name: string | null;
}

export interface SlaConnectionFigures extends SlaFigures {
  connectionId: string;
  name: string;
  rbacGroups: SlaGroupFigures[];
}

export interface MeanTime {
  fixed: number;
  /** Mean days from first seen (opened_at when unknown) to fix; null without fixes. */
  days: number | null;
}

export interface SlaTrendPoint {
  day: string;
  openFindings: number;
  approaching: number;
  overdue: number;
  compliance: number | null;
  fixed: number;
  meanDaysToRemediate: number | null;
}

export interface SlaSummary {
  /** The day the states are computed for (UTC). */
  asOf: string;
  windows: SlaWindows;
  totals: SlaFigures;
  connections: SlaConnectionFigures[];
  /** Over the trend's days. */
  meanTimeToRemediate: Record<SeverityName | 'all', MeanTime>;
  trend: SlaTrendPoint[];
}

/** Counts per severity index (0 none … 4 Low) × within, approaching, overdue, excepted. */
class Sums {
  readonly n = new Float64Array(20);
  add(severity: number, state: number, by: number): void {
    this.n[severity * 4 + state] += by;
  }
  counts(severities: number[]): SlaCounts {
    const [within, approaching, overdue, excepted] = [0, 1, 2, 3].map((state) => severities.reduce((sum, s) => sum + this.n[s * 4 + state], 0));
    const counted = within + approaching + overdue;
    return { counted, within, approaching, overdue, excepted, compliance: compliance(counted, overdue) };
  }
  figures(): SlaFigures {
    const bySeverity = Object.fromEntries(SEVERITY_NAMES.map((name, i) => [name, this.counts([i + 1])])) as Record<SeverityName, SlaCounts>;
    return { ...this.counts([0, 1, 2, 3, 4]), bySeverity };
  }
}

const STATE_INDEX = { within: 0, approaching: 1, overdue: 2 } as const;
const compliance = (counted: number, overdue: number) => (counted === 0 ? null : Math.round((1000 * (counted - overdue)) / counted) / 10);
const meanDays = (fixed: number, seconds: number) => (fixed > 0 ? Math.round((10 * seconds) / fixed / 86_400) / 10 : null);

export function createSlaQueries({ db, cache, windows, now = () => new Date() }: { db: Kysely<Database>; cache: DataVersionCache; windows: SlaWindows; now?: () => Date }) {
  const severityIndex = sql<number>`CASE x.severity WHEN 'Critical' THEN 1 WHEN 'High' THEN 2 WHEN 'Medium' THEN 3 WHEN 'Low' THEN 4 ELSE 0 END`;

  /** The active exceptions of the scope's connections, resolved to their tenants. */
  async function activeExceptions(scope: TenantScope, today: number): Promise<ExceptionMatch[]> {
    const tenantOf = new Map(scope.tenants.map((t) => [t.connectionId, t.ref]));
    if (tenantOf.size === 0) return [];
    const rows = await db.selectFrom('risk_exception').selectAll().where('connection_id', 'in', [...tenantOf.keys()])
      .where('expires_on', '>=', dayText(today)).orderBy('id').execute();
    return rows.map((r) => ({
      tenantRef: tenantOf.get(r.connection_id)!, kind: r.scope_kind, deviceId: r.device_id, cveId: r.cve_id,
      softwareVendor: r.software_vendor, softwareName: r.software_name, softwareVersion: r.software_version, rbacGroupId: r.rbac_group_id,
    }));
  }

  /** The open findings the exceptions cover, per read-model key (tenant|group|severity|start|kev), and the excepted groups (tenant|group). */
  function excepted(exceptions: ExceptionMatch[]): Promise<{ keys: Map<string, number>; groups: Set<string> }> {
    return cache.get(`sla-excepted|${JSON.stringify(exceptions)}`, async () => {
      const groups = new Set(exceptions.filter((e) => e.kind === 'rbac_group').map((e) => `${e.tenantRef}|${e.rbacGroupId}`));
      const seen = new Set<number>();
      const keys = new Map<string, number>();
      const columns = sql`f.id, d.tenant_ref, d.sla_group, ${severityIndex} AS severity, coalesce(f.first_seen, f.opened_at) / 86400 AS start_day,
        coalesce(k.kev_due_day, 0) AS kev_due_day`;
      const joins = sql`JOIN vuln.device d ON d.ref = f.device_ref JOIN vuln.finding_detail x ON x.ref = f.detail_ref
        LEFT JOIN vuln.sla_kev k ON k.tenant_ref = d.tenant_ref AND k.cve_ref = f.cve_ref`;
      for (const e of exceptions) {
        let query;
        switch (e.kind) {
          case 'rbac_group': continue;
          case 'finding':
            query = sql`SELECT ${columns} FROM vuln.finding f ${joins} WHERE d.tenant_ref = ${e.tenantRef} AND d.device_id = ${e.deviceId}
              AND f.cve_ref = (SELECT ref FROM vuln.cve WHERE cve_id = ${e.cveId})
              AND f.software_ref = (SELECT ref FROM vuln.software WHERE vendor = ${e.softwareVendor} AND name = ${e.softwareName} AND version = ${e.softwareVersion})
              AND f.fixed_at IS NULL`;
            break;
          case 'cve':
            query = sql`SELECT ${columns} FROM vuln.cve_finding cf JOIN vuln.finding f ON f.id = cf.finding_id ${joins}
              WHERE cf.tenant_ref = ${e.tenantRef} AND cf.cve_ref = (SELECT ref FROM vuln.cve WHERE cve_id = ${e.cveId}) AND f.fixed_at IS NULL`;
            break;
          case 'software':
            // A version's open findings, by its CVEs (software_cve) and their findings (cve_finding).
            query = sql`SELECT ${columns} FROM vuln.software s JOIN vuln.software_cve sc ON sc.tenant_ref = ${e.tenantRef} AND sc.software_ref = s.ref
              JOIN vuln.cve_finding cf ON cf.tenant_ref = sc.tenant_ref AND cf.cve_ref = sc.cve_ref
              JOIN vuln.finding f ON f.id = cf.finding_id AND f.software_ref = s.ref ${joins}
              WHERE s.vendor = ${e.softwareVendor} AND s.name = ${e.softwareName} ${e.softwareVersion === null ? sql`` : sql`AND s.version = ${e.softwareVersion}`}
              AND sc.open_findings > 0 AND f.fixed_at IS NULL`;
            break;
        }
        const { rows } = await query.execute(db);
        for (const r of rows as { id: number; tenant_ref: number; sla_group: number; severity: number; start_day: number; kev_due_day: number }[]) {
          if (seen.has(r.id) || groups.has(`${r.tenant_ref}|${r.sla_group}`)) continue;
          seen.add(r.id);
          const key = `${r.tenant_ref}|${r.sla_group}|${r.severity}|${r.start_day}|${r.kev_due_day}`;
          keys.set(key, (keys.get(key) ?? 0) + 1);
        }
      }
      return { keys, groups };
    });
  }

  async function trend(scope: TenantScope, first: number, last: number): Promise<{ points: SlaTrendPoint[]; mean: Record<SeverityName | 'all', MeanTime> }> {
    const from = dayText(first);
    const to = dayText(last);
    const days = await db.selectFrom('vuln.sla_day').selectAll().where('tenant_ref', 'in', scope.refs).where('day', '<=', to)
      .where((eb) => eb.or([eb('day', '>=', from), eb('day', '=', eb.selectFrom('vuln.sla_day as q').select((q) => q.fn.max('q.day').as('d'))
        .whereRef('q.tenant_ref', '=', 'vuln.sla_day.tenant_ref').where('q.day', '<', from))]))
      .orderBy('day').execute();
    const fixes = await db.selectFrom('vuln.sla_fixed_day').select(['day', 'severity', (eb) => eb.fn.sum<number>('fixed').as('fixed'), (eb) => eb.fn.sum<number>('seconds').as('seconds')])
      .where('tenant_ref', 'in', scope.refs).where('day', '>=', from).where('day', '<=', to).groupBy(['day', 'severity']).execute();
    const fixedByDay = new Map<string, [number, number]>();
    const bySeverity = new Map<number, [number, number]>();
    for (const f of fixes) {
      const day = fixedByDay.get(f.day) ?? [0, 0];
      day[0] += Number(f.fixed);
      day[1] += Number(f.seconds);
      fixedByDay.set(f.day, day);
      const severity = bySeverity.get(f.severity) ?? [0, 0];
      severity[0] += Number(f.fixed);
      severity[1] += Number(f.seconds);
      bySeverity.set(f.severity, severity);
    }
    // Each tenant's latest point carries over the days without a sync.
    const state = new Map<number, { open_findings: number; approaching: number; overdue: number }>();
    const points: SlaTrendPoint[] = [];
    let next = 0;
    for (let d = first; d <= last; d++) {
      const day = dayText(d);
      while (next < days.length && days[next].day <= day) state.set(days[next].tenant_ref, days[next++]);
      let open = 0;
      let approaching = 0;
      let overdue = 0;
      for (const s of state.values()) {
        open += s.open_findings;
        approaching += s.approaching;
        overdue += s.overdue;
      }
      const [fixed, seconds] = fixedByDay.get(day) ?? [0, 0];
      points.push({ day, openFindings: open, approaching, overdue, compliance: compliance(open, overdue), fixed, meanDaysToRemediate: meanDays(fixed, seconds) });
    }
    const meanOf = (severities: number[]): MeanTime => {
      const [fixed, seconds] = severities.reduce(([n, s], i) => [n + (bySeverity.get(i)?.[0] ?? 0), s + (bySeverity.get(i)?.[1] ?? 0)], [0, 0]);
      return { fixed, days: meanDays(fixed, seconds) };
    };
    const mean = { all: meanOf([0, 1, 2, 3, 4]), ...Object.fromEntries(SEVERITY_NAMES.map((name, i) => [name, meanOf([i + 1])])) } as Record<SeverityName | 'all', MeanTime>;
    return { points, mean };
  }

  async function figures(scope: TenantScope, today: number, days: number, exceptions: ExceptionMatch[]): Promise<SlaSummary> {
    const [open, groupNames, covered] = await Promise.all([
      db.selectFrom('vuln.sla_open').selectAll().where('tenant_ref', 'in', scope.refs).execute(),
      db.selectFrom('vuln.sla_group').selectAll().where('tenant_ref', 'in', scope.refs).execute(),
      excepted(exceptions),
    ]);
    const byWindow = windowsByIndex(windows);
    const totals = new Sums();
    const tenants = new Map<number, { sums: Sums; groups: Map<number, Sums> }>(scope.tenants.map((t) => [t.ref, { sums: new Sums(), groups: new Map() }]));
    for (const r of open) {
      const tenant = tenants.get(r.tenant_ref);
      if (!tenant) continue;
      let group = tenant.groups.get(r.rbac_group_id);
      if (!group) tenant.groups.set(r.rbac_group_id, group = new Sums());
      const out = covered.groups.has(`${r.tenant_ref}|${r.rbac_group_id}`) ? r.open_findings
        : covered.keys.get(`${r.tenant_ref}|${r.rbac_group_id}|${r.severity}|${r.start_day}|${r.kev_due_day}`) ?? 0;
      const state = STATE_INDEX[timeState(today, r.start_day, dueDay(r.start_day, byWindow[r.severity], r.kev_due_day))];
      for (const sums of [totals, tenant.sums, group]) {
        sums.add(r.severity, 3, out);
        sums.add(r.severity, state, r.open_findings - out);
      }
    }
    const names = new Map(groupNames.map((g) => [`${g.tenant_ref}|${g.rbac_group_id}`, g.name]));
    // The window ends today, or on the latest point when a snapshot's clock runs ahead of this server's.
    const { latest } = await db.selectFrom('vuln.sla_day').where('tenant_ref', 'in', scope.refs).select((eb) => eb.fn.max('day').as('latest')).executeTakeFirstOrThrow();
    const last = latest ? Math.max(today, dayOfText(latest)) : today;
    const { points, mean } = await trend(scope, last - days + 1, last);
    return {
      asOf: dayText(today), windows, totals: totals.figures(),
      connections: scope.tenants.map((t) => {
        const { sums, groups } = tenants.get(t.ref)!;
        return {
          connectionId: t.connectionId, name: t.name, ...sums.figures(),
          rbacGroups: [...groups].map(([id, g]) => ({ rbacGroupId: id === NO_GROUP ? null : id, name: names.get(`${t.ref}|${id}`) ?? null, ...g.figures() }))
            .sort((a, b) => (a.compliance ?? 101) - (b.compliance ?? 101) || (a.name ?? '').localeCompare(b.name ?? '')),
        };
      }),
      meanTimeToRemediate: mean,
      trend: points,
    };
  }
  return {
    /** The figures per connection and RBAC group, the totals, the mean time to remediate and the trend over `days`. */
    async summary(scope: TenantScope, days: number): Promise<SlaSummary> {
      if (!Number.isInteger(days) || days < 1 || days > 365) throw new BadParameterError('days', `days must be a whole number from 1 to 365, not ${days}.`, 'Use days=30, 90 or 365.');
      const today = dayOfDate(now());
      const exceptions = await activeExceptions(scope, today);
      // The same until the next commit, another day, or another set of active exceptions.
      return cache.get(`sla-summary|${scope.tenants.map((t) => `${t.ref}:${t.name}`).join(',')}|${today}|${days}|${JSON.stringify(exceptions)}`,
        () => figures(scope, today, days, exceptions));
    },

    /** What the findings list needs to flag and filter by SLA state; `states` as the query gives them. */
    async findingContext(scope: TenantScope, states?: string): Promise<SlaContext> {
      const today = dayOfDate(now());
      return { today, windows, exceptions: await activeExceptions(scope, today), states: listParameter('slaState', states, SLA_STATES) };
    },
  };


}

export type SlaQueries = ReturnType<typeof createSlaQueries>;
