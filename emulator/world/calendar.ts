// Calendar arithmetic for the patch world: UTC months, Patch Tuesdays and Oracle's quarterly
// Critical Patch Updates. Times are milliseconds since the epoch, always UTC.

export const HOUR_MS = 3600_000;
export const DAY_MS = 24 * HOUR_MS;
/** Defender builds a snapshot every 6 hours; the world's releases line up with that grid. */
export const SNAPSHOT_MS = 6 * HOUR_MS;

export const MONTH_NAMES = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];

/** Months since January 1970 (UTC). */
export function monthIndex(ms: number): number {
  const d = new Date(ms);
  return (d.getUTCFullYear() - 1970) * 12 + d.getUTCMonth();
}

export function monthStart(month: number): number {
  return Date.UTC(1970 + Math.floor(month / 12), mod(month, 12), 1);
}

export function yearOfMonth(month: number): number {
  return 1970 + Math.floor(month / 12);
}

/** MSRC's document id for a month: `2024-Mar`. */
export function cvrfMonthId(month: number): string {
  return `${yearOfMonth(month)}-${MONTH_NAMES[mod(month, 12)].slice(0, 3)}`;
}

/** The month of an MSRC document id, or undefined. */
export function monthOfCvrfId(id: string): number | undefined {
  const m = /^(\d{4})-([A-Za-z]{3})$/.exec(id);
  if (!m) return undefined;
  const month = MONTH_NAMES.findIndex((name) => name.slice(0, 3).toLowerCase() === m[2].toLowerCase());
  return month < 0 ? undefined : (Number(m[1]) - 1970) * 12 + month;
}

/** Day of the month of the nth Tuesday (1-based) of a month. */
function nthTuesday(month: number, n: number): number {
  const weekday = new Date(monthStart(month)).getUTCDay();
  return 1 + mod(2 - weekday, 7) + 7 * (n - 1);
}

/** Patch Tuesday (the second Tuesday of the month), 17:00 UTC: 10:00 in Redmond. */
export function patchTuesday(month: number): number {
  return monthStart(month) + (nthTuesday(month, 2) - 1) * DAY_MS + 17 * HOUR_MS;
}

/** Oracle's Critical Patch Update: the third Tuesday of January, April, July and October, 20:00 UTC. */
export function oracleCpu(quarter: number): number {
  const month = quarter * 3;
  return monthStart(month) + (nthTuesday(month, 3) - 1) * DAY_MS + 20 * HOUR_MS;
}

export function quarterIndex(ms: number): number {
  return Math.floor(monthIndex(ms) / 3);
}

/** ISO-8601 to the second: `2024-03-12T17:00:00Z`. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function mod(n: number, m: number): number {
  return ((n % m) + m) % m;
}
