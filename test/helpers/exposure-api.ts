// Reads SitePatch's exposure API (/api/v1/exposure/*, /vulnerabilities, /devices, /software,
// /findings, /tenants) and compares every answer with the emulator's ground truth
// (exposure-truth.ts). Each check collects every difference it finds, then fails once with all of
// them: which endpoint, which row, which field, expected (and where the expectation comes from)
// versus actual.

import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import type { ApiClient, ApiResponse } from './console.js';
import type { BySeverity, CveTruth, DeviceTruth, ExpectedView } from './exposure-truth.js';

const DAY = 24 * 3600_000;

/** Differences found by a check; fail() reports all of them at once. */
export class Mismatches {
  readonly items: string[] = [];

  add(what: string, expected: unknown, actual: unknown): void {
    this.items.push(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }

  /** Records a difference unless the values are deeply equal; returns whether they were. */
  equal(what: string, actual: unknown, expected: unknown): boolean {
    if (isDeepStrictEqual(actual, expected)) return true;
    this.add(what, expected, actual);
    return false;
  }

  note(text: string): void {
    this.items.push(text);
  }

  assertNone(title: string, max = 40): void {
    if (!this.items.length) return;
    const shown = this.items.slice(0, max).map((line) => `  - ${line}`).join('\n');
    assert.fail(`${title}: ${this.items.length} difference(s)\n${shown}${this.items.length > max ? `\n  … and ${this.items.length - max} more` : ''}`);
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** A caller, the query that narrows the connections it looks at, and what it must see. */
export interface ViewUnderTest {
  label: string;
  client: ApiClient;
  /** '' (all visible connections) or 'connectionId=…'. */
  query: string;
  expected: ExpectedView;
}

/** Joins query strings, skipping empty parts. */
export function withQuery(path: string, ...parts: (string | undefined)[]): string {
  const query = parts.filter((p) => p).join('&');
  return query ? `${path}${path.includes('?') ? '&' : '?'}${query}` : path;
}

/** GET that must answer 200 with JSON. */
export async function getJson(client: ApiClient, path: string): Promise<any> {
  const response = await client.call('GET', path);
  if (response.status !== 200 || response.body === undefined) throw new Error(`GET ${path} answered ${response.status}: ${response.text.slice(0, 500)}`);
  return response.body;
}

export interface ListResult<T = any> {
  items: T[];
  total: number;
  pages: number;
}

/**
 * Every item of a list, following nextCursor; fails when paging is not exact: a page larger than
 * the limit, a short page before the end, a total that changes between pages or differs from
 * the number of items, an item twice, or a cursor on the last page.
 */
export async function listAll(client: ApiClient, path: string, keyOf: (item: any) => string, limit = 1000): Promise<ListResult> {
  const items: any[] = [];
  const seen = new Map<string, number>();
  let total: number | undefined;
  let cursor: string | null = null;
  let pages = 0;
  do {
    const url: string = withQuery(path, `limit=${limit}`, cursor ? `cursor=${encodeURIComponent(cursor)}` : '');
    const page = await getJson(client, url);
    pages++;
    assert.ok(Array.isArray(page.items) && typeof page.total === 'number' && 'nextCursor' in page, `GET ${url}: not a {items, total, nextCursor} page: ${JSON.stringify(page).slice(0, 300)}`);
    if (total === undefined) total = page.total;
    assert.equal(page.total, total, `GET ${url}: total changed between pages (${total} → ${page.total})`);
    assert.ok(page.items.length <= limit, `GET ${url}: ${page.items.length} items on a page of ${limit}`);
    if (page.nextCursor !== null) assert.equal(page.items.length, limit, `GET ${url}: a short page (${page.items.length} of ${limit}) that has a next cursor`);
    for (const item of page.items) {
      const key = keyOf(item);
      assert.ok(!seen.has(key), `GET ${path}: ${key} came on page ${seen.get(key)} and again on page ${pages}`);
      seen.set(key, pages);
      items.push(item);
    }
    assert.ok(page.nextCursor === null || typeof page.nextCursor === 'string', `GET ${url}: nextCursor ${JSON.stringify(page.nextCursor)}`);
    assert.ok(pages < 10_000, `GET ${path}: paging does not end`);
    cursor = page.nextCursor;
  } while (cursor);
  assert.equal(items.length, total, `GET ${path}: total ${total}, but the pages held ${items.length} items`);
  return { items, total: total!, pages };
}

/** RFC 4180 rows (quoted fields may hold commas, quotes and line breaks); a leading BOM is dropped. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const body = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && body[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/** The CSV export of a list must have a header and exactly `total` rows. */
export async function checkCsvCount(m: Mismatches, client: ApiClient, path: string, total: number): Promise<void> {
  const response = await client.call('GET', withQuery(path, 'format=csv'));
  if (response.status !== 200) return m.add(`GET ${withQuery(path, 'format=csv')} status`, 200, `${response.status} ${response.text.slice(0, 200)}`);
  m.equal(`GET ${withQuery(path, 'format=csv')} content-type`, /^text\/csv/.test(String(response.headers['content-type'])), true);
  const rows = parseCsv(response.text);
  m.equal(`GET ${withQuery(path, 'format=csv')} data rows (the list's total)`, rows.length - 1, total);
}

/**
 * The findings CSV holds the list's findings in the list's order, row for row (connection, device,
 * software, CVE, status): an export that is formatted in parts must join them back in order.
 */
export async function checkFindingsCsvOrder(m: Mismatches, client: ApiClient, path: string): Promise<void> {
  const list = await listAll(client, path, (f) => String(f.id));
  const response = await client.call('GET', withQuery(path, 'format=csv'));
  if (response.status !== 200) return m.add(`GET ${withQuery(path, 'format=csv')} status`, 200, response.status);
  const [header, ...rows] = parseCsv(response.text);
  const at = (name: string) => header.indexOf(name);
  const key = (connectionId: string, deviceId: string, vendor: string, name: string, version: string, cveId: string, status: string) =>
    [connectionId, deviceId, vendor, name, version, cveId, status].join('|');
  const fromCsv = rows.map((r) => key(r[at('connectionId')], r[at('deviceId')], r[at('softwareVendor')], r[at('softwareName')], r[at('softwareVersion')], r[at('cveId')], r[at('status')]));
  const fromList = list.items.map((f) => key(f.connectionId, f.deviceId, f.software.vendor, f.software.name, f.software.version, f.cveId, f.status));
  m.equal(`GET ${withQuery(path, 'format=csv')} rows`, fromCsv.length, fromList.length);
  const first = fromList.findIndex((k, i) => fromCsv[i] !== k);
  if (first !== -1) m.add(`GET ${withQuery(path, 'format=csv')} row ${first + 1} (the list's order)`, fromList[first], fromCsv[first]);
}

// ---- keys and small comparisons ----------------------------------------------------------------

export const cveKey = (item: { id: string }) => item.id;
export const deviceKey = (item: { connectionId: string; id: string }) => `${item.connectionId}|${item.id}`;
export const softwareKey = (item: { id: string; version: string }) => `${item.id}|${item.version}`;
export const tenantKey = (item: { connectionId: string }) => item.connectionId;
export const findingKey = (item: { id: number | string }) => String(item.id);

const sameInstant = (a: string | null | undefined, b: string | null | undefined) =>
  (a ?? null) === (b ?? null) || (!!a && !!b && Math.floor(Date.parse(a) / 1000) === Math.floor(Date.parse(b) / 1000));

function compareSeverity(m: Mismatches, what: string, actual: BySeverity | undefined, expected: BySeverity): void {
  m.equal(`${what} bySeverity (finding rows' vulnerabilitySeverityLevel)`, actual && { critical: actual.critical, high: actual.high, medium: actual.medium, low: actual.low }, expected);
}

function compareSets(m: Mismatches, what: string, actual: Iterable<string>, expected: Iterable<string>): void {
  const a = new Set(actual);
  const e = new Set(expected);
  const missing = [...e].filter((x) => !a.has(x));
  const extra = [...a].filter((x) => !e.has(x));
  if (missing.length || extra.length) {
    m.note(`${what}: expected ${e.size} rows, got ${a.size}; missing ${missing.length} (${missing.slice(0, 5).join(', ')}), unexpected ${extra.length} (${extra.slice(0, 5).join(', ')})`);
  }
}

/** The n largest values, as a sorted list. */
const topValues = (values: number[], n = 10) => [...values].sort((a, b) => b - a).slice(0, n);

// ---- summary and trend -------------------------------------------------------------------------

export async function checkSummary(m: Mismatches, v: ViewUnderTest): Promise<any> {
  const path = withQuery('/api/v1/exposure/summary', v.query);
  const summary = await getJson(v.client, path);
  const expected = v.expected.summary();
  const at = `${v.label}: GET ${path}`;
  m.equal(`${at} devices (devices the snapshots reported)`, summary.devices, expected.devices);
  m.equal(`${at} exposedDevices (devices with an open finding)`, summary.exposedDevices, expected.exposedDevices);
  m.equal(`${at} openFindings (rows of SoftwareVulnerabilitiesByMachine)`, summary.openFindings, expected.openFindings);
  compareSeverity(m, at, summary.bySeverity, expected.bySeverity);
  m.equal(`${at} exposedCves (CVEs with machineReferences)`, summary.exposedCves, expected.exposedCves);
  if (expected.exploitableCves) {
    m.equal(`${at} exploitableCves (exposed CVEs whose /api/vulnerabilities entity has publicExploit / exploitVerified / exploitInKit)`, summary.exploitableCves, expected.exploitableCves);
  } else if (summary.exploitableCves) {
    // The same CVE id carries other exploit facts in the other tenant (see the report): bounds only.
    const perConnection = v.expected.connectionIds.length;
    for (const level of ['public', 'verified', 'inKit'] as const) {
      if (!(summary.exploitableCves[level] >= 0 && summary.exploitableCves[level] <= expected.exposedCves)) m.add(`${at} exploitableCves.${level} within [0, exposedCves] over ${perConnection} connections`, `≤ ${expected.exposedCves}`, summary.exploitableCves[level]);
    }
  }
  const cves = v.expected.exposedCves();
  m.equal(`${at} topCves exposedDevices (the 10 largest machineReferences counts)`, (summary.topCves ?? []).map((c: any) => c.exposedDevices), topValues(cves.map((c) => c.exposedDevices)));
  for (const c of summary.topCves ?? []) {
    const truth = v.expected.cves.get(c.id);
    m.equal(`${at} topCves ${c.id} exposedDevices`, c.exposedDevices, truth?.exposedDevices);
    m.equal(`${at} topCves ${c.id} openFindings`, c.openFindings, truth?.openFindings);
  }
  const software = [...v.expected.software.values()];
  m.equal(`${at} topSoftware exposedDevices (the 10 largest)`, (summary.topSoftware ?? []).map((s: any) => s.exposedDevices), topValues(software.map((s) => s.exposedDevices)));
  for (const s of summary.topSoftware ?? []) {
    const truth = v.expected.software.get(softwareKey(s));
    m.equal(`${at} topSoftware ${softwareKey(s)}`, s && { exposedDevices: s.exposedDevices, openFindings: s.openFindings, cves: s.cves }, truth && { exposedDevices: truth.exposedDevices, openFindings: truth.openFindings, cves: truth.cves });
  }
  const devices = [...v.expected.devices.values()];
  const exposure = (d: { bySeverity: BySeverity; openFindings: number }) => [d.bySeverity.critical, d.bySeverity.high, d.openFindings];
  const expectedTop = devices.map(exposure).sort(compareTuplesDesc).slice(0, 10);
  m.equal(`${at} topDevices [critical, high, open] (the 10 most exposed)`, (summary.topDevices ?? []).map(exposure), expectedTop);
  for (const d of summary.topDevices ?? []) {
    const truth = v.expected.devices.get(deviceKey(d));
    m.equal(`${at} topDevices ${deviceKey(d)} openFindings (its finding rows)`, d.openFindings, truth?.openFindings);
  }
  compareSets(m, `${at} connections[]`, (summary.connections ?? []).map((c: any) => c.connectionId), v.expected.connectionIds);
  return summary;
}

function compareTuplesDesc(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return b[i] - a[i];
  return 0;
}

/** The UTC day of a time, YYYY-MM-DD. */
export const utcDay = (time: number) => new Date(time).toISOString().slice(0, 10);

export async function checkTrend(m: Mismatches, v: ViewUnderTest, summary: any, options: { firstDay?: string } = {}): Promise<any> {
  for (const days of [undefined, 1, 7, 90]) {
    const path = withQuery('/api/v1/exposure/trend', days ? `days=${days}` : '', v.query);
    const trend = await getJson(v.client, path);
    const at = `${v.label}: GET ${path}`;
    const n = days ?? 30;
    m.equal(`${at} days`, trend.days, n);
    const points: any[] = trend.points ?? [];
    m.equal(`${at} number of points (one per day)`, points.length, n);
    const today = Date.parse(`${utcDay(Date.now())}T00:00:00Z`);
    m.equal(`${at} days of the points (oldest first, ending today)`, points.map((p) => p.day), Array.from({ length: n }, (_, i) => utcDay(today - (n - 1 - i) * DAY)));
    const last = points[points.length - 1];
    m.equal(`${at} today's point = the summary`, last && { openFindings: last.openFindings, bySeverity: last.bySeverity, exposedDevices: last.exposedDevices },
      { openFindings: summary.openFindings, bySeverity: summary.bySeverity, exposedDevices: summary.exposedDevices });
    if (options.firstDay) {
      const before = points.filter((p) => p.day < options.firstDay!);
      const nonZero = before.filter((p) => p.openFindings || p.exposedDevices || p.opened || p.fixed);
      m.equal(`${at} points before the first sync (${options.firstDay}) are empty`, nonZero.map((p) => p.day), []);
    }
  }
  return getJson(v.client, withQuery('/api/v1/exposure/trend', 'days=30', v.query));
}

// ---- vulnerabilities ---------------------------------------------------------------------------

function compareCveItem(m: Mismatches, at: string, item: any, truth: CveTruth | undefined, exactFirstSeen: boolean): void {
  if (!truth) return m.add(`${at} ${item.id}`, 'no such exposed CVE in the emulator', item);
  m.equal(`${at} ${item.id} exposedDevices (machineReferences)`, item.exposedDevices, truth.exposedDevices);
  m.equal(`${at} ${item.id} openFindings (snapshot rows)`, item.openFindings, truth.openFindings);
  if (truth.entity) {
    const e = truth.entity;
    m.equal(`${at} ${item.id} severity (/api/vulnerabilities)`, item.severity, e.severity);
    m.equal(`${at} ${item.id} cvss (cvssV3)`, item.cvss, e.cvssV3);
    m.equal(`${at} ${item.id} epss`, item.epss, e.epss);
    m.equal(`${at} ${item.id} exploitLevel`, item.exploitLevel, truth.exploitLevel);
    if (!sameInstant(item.publishedOn, e.publishedOn)) m.add(`${at} ${item.id} publishedOn`, e.publishedOn, item.publishedOn);
  }
  if (exactFirstSeen) {
    if (!sameInstant(item.firstSeen, truth.firstSeen)) m.add(`${at} ${item.id} firstSeen (earliest firstSeenTimestamp of its rows)`, truth.firstSeen, item.firstSeen);
  } else if (!item.firstSeen || !truth.firstSeen || Date.parse(item.firstSeen) > Date.parse(truth.firstSeen) + 999) {
    m.add(`${at} ${item.id} firstSeen (at most the earliest firstSeenTimestamp of its open rows)`, `≤ ${truth.firstSeen}`, item.firstSeen);
  }
}

export async function checkVulnerabilities(m: Mismatches, v: ViewUnderTest, options: { exactFirstSeen: boolean; details?: number }): Promise<ListResult> {
  const path = withQuery('/api/v1/vulnerabilities', v.query);
  const at = `${v.label}: GET ${path}`;
  const list = await listAll(v.client, path, cveKey);
  const exposed = v.expected.exposedCves();
  compareSets(m, `${at} ids (CVEs with an open finding)`, list.items.map(cveKey), exposed.map((c) => c.id));
  m.equal(`${at} total`, list.total, exposed.length);
  for (const item of list.items) compareCveItem(m, at, item, v.expected.cves.get(item.id), options.exactFirstSeen);
  await checkCsvCount(m, v.client, path, list.total);

  // status=all: every CVE the copy has had an open finding for (not the whole catalog of /api/vulnerabilities).
  const all = await listAll(v.client, withQuery('/api/v1/vulnerabilities', 'status=all', v.query), cveKey);
  compareSets(m, `${at}&status=all ids (CVEs with an open finding in any synced snapshot)`, all.items.map(cveKey), v.expected.everExposedCves);

  // The CVE page, for the most exposed CVEs and an even sample of the rest.
  const sorted = [...list.items].sort((a, b) => b.exposedDevices - a.exposedDevices || (a.id < b.id ? -1 : 1));
  const count = options.details ?? 40;
  const sample = [...sorted.slice(0, 10), ...sorted.filter((_, i) => i % Math.max(1, Math.floor(sorted.length / count)) === 0)];
  for (const id of new Set(sample.map((c) => c.id as string))) await checkVulnerabilityDetail(m, v, id, options.exactFirstSeen);
  return list;
}

export async function checkVulnerabilityDetail(m: Mismatches, v: ViewUnderTest, id: string, exactFirstSeen: boolean): Promise<void> {
  const path = withQuery(`/api/v1/vulnerabilities/${encodeURIComponent(id)}`, v.query);
  const at = `${v.label}: GET ${path}`;
  const response = await v.client.call('GET', path);
  if (response.status !== 200) return m.add(`${at} status`, 200, `${response.status} ${response.text.slice(0, 200)}`);
  const d = response.body;
  const truth = v.expected.cves.get(id)!;
  compareCveItem(m, at, d, truth, exactFirstSeen);
  if (truth.entity) {
    m.equal(`${at} description`, d.description ?? '', truth.entity.description ?? '');
    m.equal(`${at} cvssVector`, d.cvssVector || null, truth.entity.cvssVector || null);
    m.equal(`${at} exploitTypes`, d.exploitTypes, truth.entity.exploitTypes);
    m.equal(`${at} tags`, d.tags, truth.entity.tags);
    if (!sameInstant(d.patchFirstAvailable, truth.entity.patchFirstAvailable)) m.add(`${at} patchFirstAvailable`, truth.entity.patchFirstAvailable, d.patchFirstAvailable);
  }
  m.equal(`${at} fixedDevices (devices it was open on in an earlier snapshot, none open now)`, d.fixedDevices, truth.fixedDevices);
  const fixedSum = (d.fixedByDay ?? []).reduce((sum: number, p: any) => sum + p.findings, 0);
  m.equal(`${at} sum of fixedByDay`, fixedSum, truth.fixedFindings);
  // Entries with no exposed device left (a connection or version it was fixed in) may be listed or not.
  m.equal(`${at} connections[] exposedDevices (machineReferences per tenant)`,
    Object.fromEntries((d.connections ?? []).filter((c: any) => c.exposedDevices !== 0).map((c: any) => [c.connectionId, c.exposedDevices])), Object.fromEntries(truth.connections));
  m.equal(`${at} software[] exposedDevices per version`,
    Object.fromEntries((d.software ?? []).filter((s: any) => s.exposedDevices !== 0).map((s: any) => [softwareKey(s), s.exposedDevices])), Object.fromEntries(truth.software));
  // One update id may come under two titles (the emulator's tenants date the same KB differently): summed per id.
  const updates = new Map<string, number>();
  for (const u of d.recommendedUpdates ?? []) if (u.id !== null && u.devices !== 0) updates.set(u.id, (updates.get(u.id) ?? 0) + u.devices);
  m.equal(`${at} recommendedUpdates[] devices per update id (distinct devices of the rows' recommendedSecurityUpdateId)`, Object.fromEntries(updates), Object.fromEntries(truth.updates));
}

// ---- devices -----------------------------------------------------------------------------------

function compareDeviceItem(m: Mismatches, at: string, item: any, truth: DeviceTruth | undefined): void {
  const key = deviceKey(item);
  if (!truth) return m.add(`${at} ${key}`, 'no such device in any observed snapshot', item);
  m.equal(`${at} ${key} openFindings (its finding rows)`, item.openFindings, truth.openFindings);
  compareSeverity(m, `${at} ${key}`, item.bySeverity, truth.bySeverity);
  m.equal(`${at} ${key} name, os, group`,
    { name: item.name, osPlatform: item.osPlatform, osVersion: item.osVersion, osArchitecture: item.osArchitecture, rbacGroupId: item.rbacGroupId, rbacGroupName: item.rbacGroupName },
    { name: truth.name, osPlatform: truth.osPlatform, osVersion: truth.osVersion, osArchitecture: truth.osArchitecture, rbacGroupId: truth.rbacGroupId, rbacGroupName: truth.rbacGroupName });
  if (!sameInstant(item.lastSeen, truth.lastSeen)) m.add(`${at} ${key} lastSeen (latest lastSeenTimestamp)`, truth.lastSeen, item.lastSeen);
}

export async function checkDevices(m: Mismatches, v: ViewUnderTest, options: { details?: number } = {}): Promise<ListResult> {
  const path = withQuery('/api/v1/devices', v.query);
  const at = `${v.label}: GET ${path}`;
  const list = await listAll(v.client, path, deviceKey);
  compareSets(m, `${at} devices (every device a snapshot reported)`, list.items.map(deviceKey), v.expected.devices.keys());
  for (const item of list.items) compareDeviceItem(m, at, item, v.expected.devices.get(deviceKey(item)));
  await checkCsvCount(m, v.client, path, list.total);
  const exposed = await getJson(v.client, withQuery('/api/v1/devices', 'status=exposed', 'limit=1', v.query));
  m.equal(`${at}&status=exposed total`, exposed.total, [...v.expected.devices.values()].filter((d) => d.findings.length).length);

  const keys = [...v.expected.devices.keys()].sort();
  const count = options.details ?? keys.length;
  const step = Math.max(1, Math.floor(keys.length / count));
  for (const key of keys.filter((_, i) => i % step === 0)) await checkDeviceDetail(m, v, v.expected.devices.get(key)!);
  return list;
}

export async function checkDeviceDetail(m: Mismatches, v: ViewUnderTest, truth: DeviceTruth): Promise<void> {
  const path = `/api/v1/devices/${truth.id}?connectionId=${truth.connectionId}`;
  const at = `${v.label}: GET ${path}`;
  const response = await v.client.call('GET', path);
  if (response.status !== 200) return m.add(`${at} status`, 200, `${response.status} ${response.text.slice(0, 200)}`);
  const d = response.body;
  compareDeviceItem(m, at, d, truth);
  const open: string[] = [];
  for (const group of d.software ?? []) {
    for (const f of group.findings ?? []) {
      open.push(`${group.id}|${group.version}|${f.cveId}`);
      const row = truth.findings.find((r) => r.softwareId === group.id && r.version === group.version && r.cveId === f.cveId);
      if (row) {
        m.equal(`${at} ${f.cveId} severity`, f.severity, row.severity);
        m.equal(`${at} ${f.cveId} recommendedUpdate.id`, f.recommendedUpdate?.id ?? null, row.updateId);
        m.equal(`${at} ${f.cveId} group vendor/name`, [group.vendor, group.name], [row.vendor, row.name]);
      }
    }
  }
  compareSets(m, `${at} open findings (software|version|cve)`, open, truth.findings.map((f) => `${f.softwareId}|${f.version}|${f.cveId}`));
  m.equal(`${at} open findings count = /api/machines/{id}/vulnerabilities`, open.length, truth.openFindings);
  if (truth.fixed.length <= 1000) {
    compareSets(m, `${at} fixed[] (findings of earlier snapshots not open now)`, (d.fixed ?? []).map((f: any) => `${f.software?.id}|${f.software?.version}|${f.cveId}`),
      truth.fixed.map((f) => `${f.softwareId}|${f.version}|${f.cveId}`));
  }
}

// ---- software ----------------------------------------------------------------------------------

export async function checkSoftware(m: Mismatches, v: ViewUnderTest): Promise<ListResult> {
  const path = withQuery('/api/v1/software', v.query);
  const at = `${v.label}: GET ${path}`;
  const list = await listAll(v.client, path, softwareKey);
  compareSets(m, `${at} versions (with an open finding)`, list.items.map(softwareKey), v.expected.software.keys());
  for (const item of list.items) {
    const truth = v.expected.software.get(softwareKey(item));
    if (!truth) continue;
    m.equal(`${at} ${softwareKey(item)} vendor/name/version`, [item.vendor, item.name, item.version], [truth.vendor, truth.name, truth.version]);
    m.equal(`${at} ${softwareKey(item)} exposedDevices, openFindings, cves`, { exposedDevices: item.exposedDevices, openFindings: item.openFindings, cves: item.cves },
      { exposedDevices: truth.exposedDevices, openFindings: truth.openFindings, cves: truth.cves });
    compareSeverity(m, `${at} ${softwareKey(item)}`, item.bySeverity, truth.bySeverity);
  }
  await checkCsvCount(m, v.client, path, list.total);
  const all = await listAll(v.client, withQuery('/api/v1/software', 'status=all', v.query), softwareKey);
  compareSets(m, `${at}&status=all versions (every version a snapshot had a finding in)`, all.items.map(softwareKey), v.expected.knownVersions);

  // The software page of every product.
  const products = new Map<string, { exposed: Set<string>; openFindings: number; versions: string[] }>();
  for (const f of v.expected.findings) {
    const p = products.get(f.softwareId) ?? { exposed: new Set<string>(), openFindings: 0, versions: [] };
    p.exposed.add(`${f.connectionId}|${f.deviceId}`);
    p.openFindings++;
    products.set(f.softwareId, p);
  }
  for (const [id, p] of products) {
    const detailPath = withQuery(`/api/v1/software/${encodeURIComponent(id)}`, v.query);
    const response = await v.client.call('GET', detailPath);
    const dat = `${v.label}: GET ${detailPath}`;
    if (response.status !== 200) {
      m.add(`${dat} status`, 200, `${response.status} ${response.text.slice(0, 200)}`);
      continue;
    }
    const d = response.body;
    // SoftwareDetail in src/exposure/views.ts no longer carries the product's exposedDevices; checked when present.
    if ('exposedDevices' in d) m.equal(`${dat} exposedDevices (distinct devices over its versions)`, d.exposedDevices, p.exposed.size);
    m.equal(`${dat} openFindings`, d.openFindings, p.openFindings);
    const exposedVersions = [...v.expected.software.values()].filter((s) => s.id === id);
    const listed = new Map<string, any>((d.versions ?? []).map((x: any) => [x.version, x]));
    for (const s of exposedVersions) {
      const x = listed.get(s.version);
      m.equal(`${dat} version ${s.version}`, x && { exposed: x.exposed, exposedDevices: x.exposedDevices, openFindings: x.openFindings, cves: x.cves },
        { exposed: true, exposedDevices: s.exposedDevices, openFindings: s.openFindings, cves: s.cves });
    }
    for (const x of listed.values()) {
      if (exposedVersions.some((s) => s.version === x.version)) continue;
      m.equal(`${dat} version ${x.version} (no open finding now)`, { exposed: x.exposed, exposedDevices: x.exposedDevices, known: v.expected.knownVersions.has(`${id}|${x.version}`) },
        { exposed: false, exposedDevices: 0, known: true });
    }
  }
  return list;
}

// ---- facets and tenants ------------------------------------------------------------------------

export async function checkFacets(m: Mismatches, v: ViewUnderTest): Promise<void> {
  const path = withQuery('/api/v1/exposure/facets', v.query);
  const at = `${v.label}: GET ${path}`;
  const facets = await getJson(v.client, path);
  const groups = new Map<string, any>((facets.rbacGroups ?? []).map((g: any) => [`${g.connectionId}|${g.name}`, g]));
  for (const [key, truth] of v.expected.rbacGroups) {
    const g = groups.get(key);
    m.equal(`${at} rbacGroups ${key}`, g && { devices: g.devices, exposedDevices: g.exposedDevices, openFindings: g.openFindings, bySeverity: g.bySeverity },
      { devices: truth.devices, exposedDevices: truth.exposedDevices, openFindings: truth.openFindings, bySeverity: truth.bySeverity });
  }
  for (const [key, g] of groups) {
    if (!v.expected.rbacGroups.has(key) && (g.devices || g.openFindings)) m.add(`${at} rbacGroups ${key} (no device in it now)`, 'absent or empty', g);
  }
  const platforms = new Map<string, any>((facets.osPlatforms ?? []).map((p: any) => [p.name, p]));
  for (const [name, truth] of v.expected.osPlatforms) {
    const p = platforms.get(name);
    m.equal(`${at} osPlatforms ${name}`, p && { devices: p.devices, exposedDevices: p.exposedDevices }, { devices: truth.devices, exposedDevices: truth.exposedDevices });
  }
  for (const [name, p] of platforms) if (!v.expected.osPlatforms.has(name) && p.devices) m.add(`${at} osPlatforms ${name}`, 'absent', p);
}

export interface FreshnessTruth {
  /** finishedAt of the last successful run. */
  lastSuccessfulSync: string;
  syncIntervalMinutes: number;
}

function compareFreshness(m: Mismatches, at: string, f: any, name: string, snapshotTime: string, truth: FreshnessTruth): void {
  m.equal(`${at} ${f.connectionId} name`, f.name, name);
  if (!sameInstant(f.lastSuccessfulSync, truth.lastSuccessfulSync)) m.add(`${at} ${f.connectionId} lastSuccessfulSync (the run's finishedAt)`, truth.lastSuccessfulSync, f.lastSuccessfulSync);
  if (!sameInstant(f.dataTime, snapshotTime)) m.add(`${at} ${f.connectionId} dataTime (the emulator's snapshotTime)`, snapshotTime, f.dataTime);
  // The copy is as current as the last sync that succeeded: that run asked Defender for everything up to then.
  const age = (Date.now() - Date.parse(truth.lastSuccessfulSync)) / 1000;
  if (typeof f.dataAgeSeconds !== 'number' || Math.abs(f.dataAgeSeconds - age) > 120) {
    m.add(`${at} ${f.connectionId} dataAgeSeconds (now − lastSuccessfulSync)`, Math.round(age), f.dataAgeSeconds);
  }
  m.equal(`${at} ${f.connectionId} syncIntervalMinutes`, f.syncIntervalMinutes, truth.syncIntervalMinutes);
  m.equal(`${at} ${f.connectionId} stale (last successful sync older than two intervals)`, f.stale, age > 2 * truth.syncIntervalMinutes * 60);
}

export async function checkTenants(m: Mismatches, v: ViewUnderTest, freshness: Map<string, FreshnessTruth>, summary?: any): Promise<void> {
  const path = withQuery('/api/v1/tenants', v.query);
  const at = `${v.label}: GET ${path}`;
  const list = await listAll(v.client, path, tenantKey);
  compareSets(m, `${at} rows`, list.items.map(tenantKey), v.expected.tenants.keys());
  for (const row of list.items) {
    const truth = v.expected.tenants.get(row.connectionId);
    if (!truth) continue;
    m.equal(`${at} ${row.connectionId} devices, exposedDevices, openFindings`, { devices: row.devices, exposedDevices: row.exposedDevices, openFindings: row.openFindings },
      { devices: truth.devices, exposedDevices: truth.exposedDevices, openFindings: truth.openFindings });
    compareSeverity(m, `${at} ${row.connectionId}`, row.bySeverity, truth.bySeverity);
    m.equal(`${at} ${row.connectionId} cloud`, row.cloud, 'custom');
    compareFreshness(m, at, row, truth.name, truth.snapshotTime, freshness.get(row.connectionId)!);
  }
  for (const f of summary?.connections ?? []) {
    const truth = v.expected.tenants.get(f.connectionId);
    if (truth) compareFreshness(m, `${v.label}: GET /api/v1/exposure/summary connections[]`, f, truth.name, truth.snapshotTime, freshness.get(f.connectionId)!);
  }
}

// ---- filters -----------------------------------------------------------------------------------

/** A filtered list must hold exactly the expected rows. */
async function expectRows(m: Mismatches, v: ViewUnderTest, path: string, keyOf: (item: any) => string, expected: Iterable<string>, only?: Set<string>): Promise<ListResult | undefined> {
  const full = withQuery(path, v.query);
  try {
    const list = await listAll(v.client, full, keyOf);
    const actual = list.items.map(keyOf).filter((k) => !only || only.has(k));
    compareSets(m, `${v.label}: GET ${full}${only ? ` (among the ${only.size} CVEs whose facts the tenants agree on)` : ''}`, actual, expected);
    return list;
  } catch (e) {
    m.note(`${v.label}: GET ${full}: ${(e as Error).message}`);
    return undefined;
  }
}

const includes = (text: string | null | undefined, q: string) => (text ?? '').toLowerCase().includes(q.toLowerCase());

export async function checkFilters(m: Mismatches, v: ViewUnderTest): Promise<void> {
  const x = v.expected;
  const exposed = x.exposedCves();
  const devices = [...x.devices.values()];
  // Where the view's tenants give one CVE id different facts (an emulator quirk), only the CVEs
  // they agree on are checked.
  const agreed = exposed.filter((c) => c.entity);
  const only = agreed.length === exposed.length ? undefined : new Set(agreed.map((c) => c.id));
  for (const severity of ['Critical', 'High,Low']) {
    const wanted = severity.split(',');
    await expectRows(m, v, `/api/v1/vulnerabilities?severity=${severity}`, cveKey, agreed.filter((c) => wanted.includes(c.entity.severity)).map((c) => c.id), only);
  }
  const rank = { none: 0, public: 1, verified: 2, inKit: 3 } as const;
  for (const level of ['none', 'public', 'verified', 'inKit'] as const) {
    // exploit=X selects the CVEs whose exploitLevel is X; say so when it selects "at least X" instead.
    const exact = new Mismatches();
    await expectRows(exact, v, `/api/v1/vulnerabilities?exploit=${level}`, cveKey, agreed.filter((c) => c.exploitLevel === level).map((c) => c.id), only);
    if (!exact.items.length) continue;
    const atLeast = new Mismatches();
    await expectRows(atLeast, v, `/api/v1/vulnerabilities?exploit=${level}`, cveKey, agreed.filter((c) => rank[c.exploitLevel!] >= rank[level]).map((c) => c.id), only);
    m.items.push(...exact.items.map((line) => atLeast.items.length ? line : `${line} [it selects the CVEs with at least a ${level} exploit instead]`));
  }
  await expectRows(m, v, '/api/v1/vulnerabilities?severity=Critical&exploit=public', cveKey, agreed.filter((c) => c.entity.severity === 'Critical' && c.exploitLevel === 'public').map((c) => c.id), only);
  const sampleCve = [...exposed].sort((a, b) => (a.id < b.id ? -1 : 1))[Math.floor(exposed.length / 2)];
  for (const q of ['tvm-', sampleCve.id.slice(0, -1).toLowerCase(), sampleCve.id]) {
    await expectRows(m, v, `/api/v1/vulnerabilities?q=${encodeURIComponent(q)}`, cveKey, exposed.filter((c) => includes(c.id, q)).map((c) => c.id));
  }
  // LIKE wildcards are literal characters, not patterns.
  for (const q of ['%', '_', 'CVE-2%-']) await expectRows(m, v, `/api/v1/vulnerabilities?q=${encodeURIComponent(q)}`, cveKey, exposed.filter((c) => includes(c.id, q)).map((c) => c.id));

  // Devices.
  const keyOfDevice = (d: DeviceTruth) => `${d.connectionId}|${d.id}`;
  for (const severity of ['Critical', 'Low']) {
    await expectRows(m, v, `/api/v1/devices?severity=${severity}`, deviceKey, devices.filter((d) => d.findings.some((f) => f.severity === severity)).map(keyOfDevice));
  }
  const groupCounts = new Map<string, number>();
  for (const d of devices) groupCounts.set(d.rbacGroupName, (groupCounts.get(d.rbacGroupName) ?? 0) + 1);
  const group = [...groupCounts].sort((a, b) => b[1] - a[1])[1]?.[0] ?? devices[0].rbacGroupName;
  await expectRows(m, v, `/api/v1/devices?rbacGroup=${encodeURIComponent(group)}`, deviceKey, devices.filter((d) => d.rbacGroupName === group).map(keyOfDevice));
  await expectRows(m, v, `/api/v1/devices?rbacGroup=${encodeURIComponent(group)}&severity=Critical`, deviceKey,
    devices.filter((d) => d.rbacGroupName === group && d.findings.some((f) => f.severity === 'Critical')).map(keyOfDevice));
  for (const os of ['Linux', 'Windows11']) await expectRows(m, v, `/api/v1/devices?osPlatform=${os}`, deviceKey, devices.filter((d) => d.osPlatform === os).map(keyOfDevice));
  for (const cve of [[...exposed].sort((a, b) => b.exposedDevices - a.exposedDevices)[0], sampleCve]) {
    await expectRows(m, v, `/api/v1/devices?cveId=${encodeURIComponent(cve.id)}`, deviceKey, cve.devices);
  }
  await expectRows(m, v, '/api/v1/devices?status=exposed', deviceKey, devices.filter((d) => d.findings.length).map(keyOfDevice));
  const someDevice = devices[Math.floor(devices.length / 3)];
  for (const q of ['SRV-', someDevice.id.slice(11, 23), someDevice.name]) {
    await expectRows(m, v, `/api/v1/devices?q=${encodeURIComponent(q)}`, deviceKey, devices.filter((d) => includes(d.name, q) || includes(d.id, q)).map(keyOfDevice));
  }

  // Software versions.
  const versions = [...x.software.values()];
  await expectRows(m, v, '/api/v1/software?severity=Critical', softwareKey, versions.filter((s) => s.bySeverity.critical > 0).map(softwareKey));
  await expectRows(m, v, '/api/v1/software?q=SSL', softwareKey, versions.filter((s) => includes(s.vendor, 'ssl') || includes(s.name, 'ssl') || includes(s.version, 'ssl')).map(softwareKey));

  // Findings (open unless asked).
  const open = x.findings;
  const fk = (f: any) => `${f.connectionId}|${f.deviceId}|${f.software.vendor}|${f.software.name}|${f.software.version}|${f.cveId}`;
  const keys = (rows: typeof open) => rows.map((f) => f.key);
  await expectRows(m, v, '/api/v1/findings?status=open&severity=High', fk, keys(open.filter((f) => f.severity === 'High')));
  await expectRows(m, v, `/api/v1/findings?status=open&rbacGroup=${encodeURIComponent(group)}`, fk, keys(open.filter((f) => f.rbacGroupName === group)));
  await expectRows(m, v, '/api/v1/findings?status=open&osPlatform=Linux', fk, keys(open.filter((f) => f.osPlatform === 'Linux')));
  await expectRows(m, v, '/api/v1/findings?status=open&softwareId=microsoft-_-windows_11', fk, keys(open.filter((f) => f.softwareId === 'microsoft-_-windows_11')));
  const chrome = [...x.software.values()].filter((s) => s.id === 'google-_-chrome').sort((a, b) => b.exposedDevices - a.exposedDevices)[0];
  if (chrome) {
    await expectRows(m, v, `/api/v1/findings?status=open&softwareId=google-_-chrome&softwareVersion=${encodeURIComponent(chrome.version)}`, fk,
      keys(open.filter((f) => f.softwareId === 'google-_-chrome' && f.version === chrome.version)));
  }
  await expectRows(m, v, `/api/v1/findings?status=open&q=${encodeURIComponent(sampleCve.id)}`, fk, keys(open.filter((f) => includes(f.cveId, sampleCve.id) || includes(f.deviceName, sampleCve.id) || includes(f.deviceId, sampleCve.id))));
  await expectRows(m, v, `/api/v1/findings?status=open&cveId=${encodeURIComponent(sampleCve.id)}&severity=${sampleCve.entity?.severity ?? 'High'}`, fk,
    keys(open.filter((f) => f.cveId === sampleCve.id && f.severity === (sampleCve.entity?.severity ?? 'High'))));
  await expectRows(m, v, '/api/v1/findings?status=fixed', fk, x.fixedFindings.map((f) => f.key));

  // Tenants.
  for (const t of x.tenants.values()) {
    const q = t.name.slice(2);
    await expectRows(m, v, `/api/v1/tenants?q=${encodeURIComponent(q)}`, tenantKey, [...x.tenants.values()].filter((r) => includes(r.name, q)).map((r) => r.connectionId));
  }
}

// ---- sorting -----------------------------------------------------------------------------------

type SortValue = number | string | number[] | null;

function compareValues(a: SortValue, b: SortValue): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return 0;
  }
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

const time = (iso: string | null | undefined) => (iso ? Date.parse(iso) : null);
/** Severities order by rank; a finding or CVE without one has none. */
const severityRank = (severity: string | null | undefined) => (severity ? ['Low', 'Medium', 'High', 'Critical'].indexOf(severity) + 1 || null : null);

/** The sort keys of each list and the value each key orders by. */
export const SORTS: Record<string, { key: (item: any) => string; defaultSort: string; columns: Record<string, (item: any) => SortValue> }> = {
  '/api/v1/vulnerabilities': {
    key: cveKey, defaultSort: '-exposedDevices',
    columns: {
      exposedDevices: (i) => i.exposedDevices, openFindings: (i) => i.openFindings, cvss: (i) => i.cvss, epss: (i) => i.epss,
      publishedOn: (i) => (i.publishedOn ? Date.parse(i.publishedOn) : null), firstSeen: (i) => (i.firstSeen ? Date.parse(i.firstSeen) : null), id: (i) => i.id,
      severity: (i) => severityRank(i.severity), exploitLevel: (i) => ['none', 'public', 'verified', 'inKit'].indexOf(i.exploitLevel),
    },
  },
  '/api/v1/findings?status=open': {
    key: findingKey, defaultSort: 'id',
    columns: {
      id: (i) => Number(i.id), firstSeen: (i) => time(i.firstSeen), openedAt: (i) => time(i.openedAt), fixedAt: (i) => time(i.fixedAt),
      severity: (i) => severityRank(i.severity), cvss: (i) => i.cvss, cveId: (i) => i.cveId, deviceName: (i) => i.deviceName,
    },
  },
  '/api/v1/devices': {
    key: deviceKey, defaultSort: '-exposure',
    columns: {
      exposure: (i) => [i.bySeverity.critical, i.bySeverity.high, i.openFindings], name: (i) => i.name, openFindings: (i) => i.openFindings,
      lastSeen: (i) => (i.lastSeen ? Date.parse(i.lastSeen) : null), osPlatform: (i) => i.osPlatform,
    },
  },
  '/api/v1/software': {
    key: softwareKey, defaultSort: '-exposedDevices',
    columns: { exposedDevices: (i) => i.exposedDevices, openFindings: (i) => i.openFindings, cves: (i) => i.cves, vendor: (i) => i.vendor, name: (i) => i.name },
  },
  '/api/v1/tenants': {
    key: tenantKey, defaultSort: 'name',
    columns: { name: (i) => i.name, openFindings: (i) => i.openFindings, exposedDevices: (i) => i.exposedDevices, lastSuccessfulSync: (i) => i.lastSuccessfulSync ?? '' },
  },
};

/** Non-null values are ordered; nulls (if any) sit together at one end. */
function checkOrder(m: Mismatches, at: string, values: SortValue[], descending: boolean): void {
  const nulls = values.map((x) => x === null || x === undefined);
  const firstNull = nulls.indexOf(true);
  if (firstNull >= 0) {
    const together = nulls.every((n, i) => n === (i >= firstNull && i <= nulls.lastIndexOf(true)));
    const atEnd = firstNull === 0 || nulls.lastIndexOf(true) === values.length - 1;
    if (!together || !atEnd) m.add(`${at} nulls`, 'all at one end', `at ${nulls.flatMap((n, i) => (n ? [i] : [])).slice(0, 10).join(',')}`);
  }
  const present = values.filter((x) => x !== null && x !== undefined);
  for (let i = 1; i < present.length; i++) {
    const c = compareValues(present[i - 1], present[i]);
    if (descending ? c < 0 : c > 0) {
      m.add(`${at} order at row ${i}`, `${show(present[i - 1])} ${descending ? '≥' : '≤'} next`, present[i]);
      return;
    }
  }
}

/** Every sort key, both ways, paged with a small limit: every row exactly once, in order. */
export async function checkSorting(m: Mismatches, v: ViewUnderTest, limits: Record<string, number> = {}, skip: string[] = []): Promise<void> {
  for (const [path, spec] of Object.entries(SORTS)) {
    if (skip.includes(path)) continue;
    const limit = limits[path] ?? (path.startsWith('/api/v1/findings') ? 997 : 37);
    const reference = await listAll(v.client, withQuery(path, v.query), spec.key);
    checkOrder(m, `${v.label}: GET ${withQuery(path, v.query)} (default sort ${spec.defaultSort})`, reference.items.map(spec.columns[spec.defaultSort.replace(/^-/, '')]), spec.defaultSort.startsWith('-'));
    for (const [column, value] of Object.entries(spec.columns)) {
      // The contract: "a column key; prefix - for descending" (so a bare key ascends); +key ascends too.
      for (const sort of [column, `-${column}`, `+${column}`]) {
        const full = withQuery(path, `sort=${encodeURIComponent(sort)}`, v.query);
        try {
          const list = await listAll(v.client, full, spec.key, limit);
          compareSets(m, `${v.label}: GET ${full} (paged by ${limit}) rows`, list.items.map(spec.key), reference.items.map(spec.key));
          checkOrder(m, `${v.label}: GET ${full}`, list.items.map(value), sort.startsWith('-'));
        } catch (e) {
          m.note(`${v.label}: GET ${full}: ${(e as Error).message}`);
        }
      }
    }
  }
}

// ---- whole-API snapshots (for "nothing changed") -----------------------------------------------

/** Time-dependent fields that move by themselves between two reads (JSON fields, CSV columns): masked before comparing. */
function maskClock(text: string): string {
  if (!text.startsWith('{') && /^\uFEFF?[^\n]*\bdataAgeSeconds\b/.test(text)) {
    const rows = parseCsv(text);
    const column = rows[0].indexOf('dataAgeSeconds');
    return rows.map((row, i) => row.map((cell, c) => (i > 0 && c === column ? '(masked)' : cell)).join(',')).join('\n');
  }
  return text.replace(/"dataAgeSeconds":-?[\d.e+]+/g, '"dataAgeSeconds":"(masked)"');
}

/** Every answer of the exposure API a caller can get, as text, by request. */
export interface ApiAnswers {
  answers: Map<string, string>;
  /** The ids whose detail pages were read (reuse them to read the same pages again). */
  ids: { cves: string[]; devices: { id: string; connectionId: string }[]; software: string[] };
}

async function text(client: ApiClient, path: string): Promise<string> {
  const response: ApiResponse = await client.call('GET', path);
  return `${response.status} ${maskClock(response.text)}`;
}

async function allPagesText(client: ApiClient, path: string, limit = 200): Promise<{ text: string; items: any[] }> {
  let out = '';
  const items: any[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const response: ApiResponse = await client.call('GET', withQuery(path, `limit=${limit}`, cursor ? `cursor=${encodeURIComponent(cursor)}` : ''));
    out += `${response.status} ${maskClock(response.text)}\n`;
    if (response.status !== 200) break;
    items.push(...response.body.items);
    cursor = response.body.nextCursor;
  } while (cursor && ++pages < 1000);
  return { text: out, items };
}

/**
 * Reads every exposure endpoint (every page, CSV exports, detail pages) under each scope (a query
 * such as '' or 'connectionId=…'). Answers are keyed by scope index and path, so that one caller's
 * answers under one scope can be compared with another caller's under another.
 */
export async function readAllAnswers(client: ApiClient, scopes: string[], ids?: ApiAnswers['ids']): Promise<ApiAnswers> {
  const answers = new Map<string, string>();
  const found: ApiAnswers['ids'] = { cves: [], devices: [], software: [] };
  for (const [n, scope] of scopes.entries()) {
    const read = async (key: string, path: string) => answers.set(`[scope ${n}] ${key}`, await text(client, withQuery(path, scope)));
    for (const path of ['/api/v1/exposure/summary', '/api/v1/exposure/trend?days=30', '/api/v1/exposure/trend?days=365', '/api/v1/exposure/facets']) await read(path, path);
    const lists = [
      '/api/v1/vulnerabilities', '/api/v1/vulnerabilities?sort=cvss', '/api/v1/vulnerabilities?status=all', '/api/v1/vulnerabilities?severity=Critical',
      '/api/v1/devices', '/api/v1/devices?sort=name', '/api/v1/software', '/api/v1/software?status=all',
      '/api/v1/findings?status=open', '/api/v1/findings?status=fixed', '/api/v1/tenants',
    ];
    for (const path of lists) {
      const { text: pages, items } = await allPagesText(client, withQuery(path, scope), path.startsWith('/api/v1/findings') ? 1000 : 200);
      answers.set(`[scope ${n}] ${path}`, pages);
      if (n === 0 && path === '/api/v1/vulnerabilities') found.cves = items.filter((_, i) => i < 60 || i % Math.max(1, Math.ceil(items.length / 60)) === 0).map((i) => i.id);
      if (n === 0 && path === '/api/v1/devices') found.devices = items.map((i) => ({ id: i.id, connectionId: i.connectionId }));
      if (n === 0 && path === '/api/v1/software') found.software = [...new Set(items.map((i) => i.id as string))];
    }
    for (const path of ['/api/v1/vulnerabilities', '/api/v1/devices', '/api/v1/software', '/api/v1/findings?status=open', '/api/v1/tenants']) {
      await read(`${path} (csv)`, withQuery(path, 'format=csv'));
    }
    // Detail pages under the first scope only.
    if (n > 0) continue;
    const use = ids ?? found;
    for (const id of use.cves) await read(`/api/v1/vulnerabilities/${id}`, `/api/v1/vulnerabilities/${encodeURIComponent(id)}`);
    const only = /connectionId=([^&]+)/.exec(scope)?.[1];
    for (const d of use.devices.filter((x) => !only || x.connectionId === only)) {
      answers.set(`[scope ${n}] /api/v1/devices/${d.id}`, await text(client, `/api/v1/devices/${d.id}?connectionId=${d.connectionId}`));
    }
    for (const id of use.software) await read(`/api/v1/software/${id}`, `/api/v1/software/${encodeURIComponent(id)}`);
  }
  return { answers, ids: ids ?? found };
}

/** Every answer is byte-identical (clock fields masked); the report shows where each one first differs. */
export function compareAnswers(before: ApiAnswers, after: ApiAnswers): string[] {
  const out: string[] = [];
  for (const [path, was] of before.answers) {
    const now = after.answers.get(path);
    if (now === was) continue;
    if (now === undefined) {
      out.push(`${path}: not read again`);
      continue;
    }
    let at = 0;
    while (at < was.length && was[at] === now[at]) at++;
    out.push(`${path}: differs at byte ${at}: before …${was.slice(Math.max(0, at - 60), at + 80)}… after …${now.slice(Math.max(0, at - 60), at + 80)}…`);
  }
  return out;
}

/** The status and error code of every bad-parameter probe. */
export function errorShape(response: ApiResponse): string | undefined {
  const e = response.body?.error;
  if (!e || typeof e.code !== 'string' || typeof e.message !== 'string' || !e.code || !e.message) return `not the error shape {"error":{"code","message"}}: ${response.text.slice(0, 200)}`;
  if (e.fix !== undefined && e.fix !== null && typeof e.fix !== 'string') return `error.fix is ${typeof e.fix}`;
  return undefined;
}

