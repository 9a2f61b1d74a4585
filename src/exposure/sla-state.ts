// A finding's SLA state: its due date is first seen (opened_at when Defender gave none) plus the
// window of its severity, or CISA's KEV due date when that is sooner; it is overdue after its due
// date, approaching once 80% of its window has passed, and excepted while an active risk exception
// covers it. The arithmetic lives here, below the remediation room, because the findings list shows
// and filters by it; src/remediation/sla-*.ts count the figures with the same functions.

import { sql, type RawBuilder } from 'kysely';

export interface SlaWindows {
  critical: number;
  high: number;
  medium: number;
  low: number;
}

export const DEFAULT_SLA_WINDOWS: SlaWindows = { critical: 7, high: 30, medium: 90, low: 180 };

export const SLA_STATES = ['within', 'approaching', 'overdue', 'excepted'] as const;
export type SlaState = (typeof SLA_STATES)[number];

const DAY_SECONDS = 86_400;

/** Days since 1970-01-01 (UTC). */
export const dayNumber = (unixSeconds: number) => Math.floor(unixSeconds / DAY_SECONDS);
export const dayOfDate = (date: Date) => Math.floor(date.getTime() / (DAY_SECONDS * 1000));
export const dayText = (day: number) => new Date(day * DAY_SECONDS * 1000).toISOString().slice(0, 10);
export const dayOfText = (text: string) => Math.floor(Date.parse(`${text.slice(0, 10)}T00:00:00Z`) / (DAY_SECONDS * 1000));

/** Window in days by severity index (exposure-tally.ts: 0 none, 1 Critical … 4 Low); findings of no severity get Low's. */
export const windowsByIndex = (w: SlaWindows): number[] => [w.low, w.critical, w.high, w.medium, w.low];

/** The window of a Defender severity (none: Low's). */
export function windowOf(w: SlaWindows, severity: string | null): number {
  switch (severity) {
    case 'Critical': return w.critical;
    case 'High': return w.high;
    case 'Medium': return w.medium;
    default: return w.low;
  }
}

/** The due day: start + window, or the KEV due day (0: none) when sooner. */
export function dueDay(startDay: number, window: number, kevDueDay: number): number {
  const due = startDay + window;
  return kevDueDay > 0 && kevDueDay < due ? kevDueDay : due;
}

/** Within, approaching (at least 80% of the window elapsed) or overdue (after the due day), on `today`. */
export function timeState(today: number, startDay: number, due: number): Exclude<SlaState, 'excepted'> {
  if (today > due) return 'overdue';
  // Integers: elapsed / window >= 0.8 without rounding.
  return 5 * (today - startDay) >= 4 * (due - startDay) ? 'approaching' : 'within';
}

/** An active exception's scope, resolved to its tenant. */
export interface ExceptionMatch {
  tenantRef: number;
  kind: 'finding' | 'cve' | 'software' | 'rbac_group';
  deviceId: string | null;
  cveId: string | null;
  softwareVendor: string | null;
  softwareName: string | null;
  softwareVersion: string | null;
  rbacGroupId: number | null;
}

/** What a findings request needs to flag and filter by SLA state (plain data: an export worker receives it). */
export interface SlaContext {
  today: number;
  windows: SlaWindows;
  exceptions: ExceptionMatch[];
  /** Only findings in these states (open ones). */
  states?: SlaState[];
}

export interface FindingFacts {
  tenantRef: number;
  deviceId: string;
  rbacGroupId: number | null;
  vendor: string;
  name: string;
  version: string;
  cveId: string;
}

export function excepts(e: ExceptionMatch, f: FindingFacts): boolean {
  if (e.tenantRef !== f.tenantRef) return false;
  switch (e.kind) {
    case 'finding': return e.deviceId === f.deviceId && e.cveId === f.cveId && e.softwareVendor === f.vendor && e.softwareName === f.name && e.softwareVersion === f.version;
    case 'cve': return e.cveId === f.cveId;
    case 'software': return e.softwareVendor === f.vendor && e.softwareName === f.name && (e.softwareVersion === null || e.softwareVersion === f.version);
    case 'rbac_group': return e.rbacGroupId === f.rbacGroupId;
  }
}

/** SQL over `finding f`, `device d`, `software s`, `cve c`, `finding_detail x` (as the findings list joins them): an active exception covers the finding. */
function exceptedSql(exceptions: ExceptionMatch[]): RawBuilder<boolean> {
  if (exceptions.length === 0) return sql<boolean>`0`;
  return sql<boolean>`(${sql.join(exceptions.map((e) => {
    const scope = e.kind === 'finding' ? sql`d.device_id = ${e.deviceId} AND c.cve_id = ${e.cveId} AND s.vendor = ${e.softwareVendor} AND s.name = ${e.softwareName} AND s.version = ${e.softwareVersion}`
      : e.kind === 'cve' ? sql`c.cve_id = ${e.cveId}`
        : e.kind === 'software' ? sql`s.vendor = ${e.softwareVendor} AND s.name = ${e.softwareName}${e.softwareVersion === null ? sql`` : sql` AND s.version = ${e.softwareVersion}`}`
          : sql`d.rbac_group_id = ${e.rbacGroupId}`;
    return sql`(d.tenant_ref = ${e.tenantRef} AND ${scope})`;
  }), sql` OR `)})`;
}

/** The KEV due day of a finding's CVE (0: none), as the SLA tally counted it. */
export const KEV_DUE_DAY_SQL = sql<number>`coalesce((SELECT k.kev_due_day FROM vuln.sla_kev k WHERE k.tenant_ref = d.tenant_ref AND k.cve_ref = f.cve_ref), 0)`;

/** SQL: the finding is open and in one of the context's states. */
export function slaStateCondition(context: SlaContext, states: SlaState[]): RawBuilder<boolean> {
  const w = context.windows;
  // Literals, not parameters: a bound number may be a REAL, and the day must be an integer division.
  const start = sql`(coalesce(f.first_seen, f.opened_at) / ${sql.lit(DAY_SECONDS)})`;
  const window = sql`CASE x.severity WHEN 'Critical' THEN ${w.critical} WHEN 'High' THEN ${w.high} WHEN 'Medium' THEN ${w.medium} ELSE ${w.low} END`;
  const kevDue = sql`coalesce(nullif(${KEV_DUE_DAY_SQL}, 0), ${1 << 30})`;
  // The earlier of the two (a CASE: SQLite's min() of two values is PostgreSQL's least()).
  const due = sql`(CASE WHEN ${start} + ${window} < ${kevDue} THEN ${start} + ${window} ELSE ${kevDue} END)`;
  const today = context.today;
  const byTime: Record<Exclude<SlaState, 'excepted'>, RawBuilder<unknown>> = {
    overdue: sql`${today} > ${due}`,
    approaching: sql`${today} <= ${due} AND 5 * (${today} - ${start}) >= 4 * (${due} - ${start})`,
    within: sql`${today} <= ${due} AND 5 * (${today} - ${start}) < 4 * (${due} - ${start})`,
  };
  const excepted = exceptedSql(context.exceptions);
  const parts = states.map((state) => (state === 'excepted' ? excepted : sql`(NOT ${excepted} AND ${byTime[state]})`));
  return sql<boolean>`(f.fixed_at IS NULL AND (${sql.join(parts, sql` OR `)}))`;
}

/** A finding's state and due date (YYYY-MM-DD); null for a fixed finding. */
export function findingSla(context: SlaContext, facts: FindingFacts & { severity: string | null; start: number; kevDueDay: number; open: boolean }):
  { slaState: SlaState | null; dueOn: string | null } {
  if (!facts.open) return { slaState: null, dueOn: null };
  const start = dayNumber(facts.start);
  const due = dueDay(start, windowOf(context.windows, facts.severity), facts.kevDueDay);
  const excepted = context.exceptions.some((e) => excepts(e, facts));
  return { slaState: excepted ? 'excepted' : timeState(context.today, start, due), dueOn: dayText(due) };
}

/**
 * A remediation's state, from its due date (its open findings' earliest) and the window of its
 * highest open severity: approaching in the last fifth of that window, overdue after it.
 */
export function remediationSlaState(today: number, dueOn: string | null, window: number): Exclude<SlaState, 'excepted'> | null {
  if (dueOn === null) return null;
  const due = dayOfText(dueOn);
  return timeState(today, due - window, due);
}
