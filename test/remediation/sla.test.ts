// SLA figures against the emulator: per connection and RBAC group, each open finding of the
// emulator's export is within, approaching or past its due date (first seen plus its severity's
// window, or the KEV due date the emulator's patch truth gives when sooner) on the emulator's
// clock, counted here from the export rows, not by SitePatch. Exceptions leave their findings out
// while active and a finding's due date and state show on the findings list; after an advance and a
// delta (devices moving RBAC group, findings fixed and new) the figures follow, and a full snapshot's
// fixes give the mean time to remediate. A scoped analyst sees only its connection.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { DataVersionCache } from '../../src/exposure/cache.js';
import { visibleTenants } from '../../src/exposure/scope.js';
import { DEFAULT_SLA_WINDOWS } from '../../src/exposure/sla-state.js';
import { createSlaQueries } from '../../src/remediation/sla.js';
import { ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';
import { EmulatorClient } from '../helpers/emulator-client.js';
import { connectEmulator, sync } from '../helpers/sync.js';

type Row = Record<string, any>;
const DAY_MS = 86_400_000;
const WINDOW_DAYS: Record<string, number> = { Critical: 7, High: 30, Medium: 90, Low: 180 };
const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
const PASSWORD = 'harbour-lantern-mosaic-drift';

/** `yyyy-MM-dd HH:mm:ss` (UTC) → the day number since 1970-01-01. */
const exportDay = (text: string) => Math.floor(Date.parse(`${text.slice(0, 10)}T${text.slice(11, 19)}Z`) / DAY_MS);
const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);
const findingKey = (r: Row) =>
  `${r.DeviceId}|${r.SoftwareVendor}|${r.SoftwareName}|${r.SoftwareVersion}|${r.CveId}`;

interface Counts { counted: number; within: number; approaching: number; overdue: number; excepted: number }
interface Figures extends Counts { bySeverity: Record<(typeof SEVERITIES)[number], Counts> }
const noCounts = (): Counts => ({ counted: 0, within: 0, approaching: 0, overdue: 0, excepted: 0 });
const noFigures = (): Figures => ({ ...noCounts(), bySeverity: { critical: noCounts(), high: noCounts(), medium: noCounts(), low: noCounts() } });
const countsOf = (f: Counts): Counts => ({ counted: f.counted, within: f.within, approaching: f.approaching, overdue: f.overdue, excepted: f.excepted });
const figuresOf = (f: Figures) => ({ ...countsOf(f), bySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, countsOf(f.bySeverity[s])])) });


/** The test's own reading of the SLA: the state of an export row on `today`. */
function stateOf(row: Row, kevDue: Map<string, string>, today: number, generatedTime: string): 'within' | 'approaching' | 'overdue' {
  const start = row.FirstSeenTimestamp ? exportDay(row.FirstSeenTimestamp) : Math.floor(Date.parse(generatedTime) / DAY_MS);
  let due = start + (WINDOW_DAYS[row.VulnerabilitySeverityLevel] ?? 180);
  const kev = kevDue.get(findingKey(row));
  if (kev) due = Math.min(due, Math.floor(Date.parse(`${kev}T00:00:00Z`) / DAY_MS));
  if (today > due) return 'overdue';
  return today - start >= 0.8 * (due - start) ? 'approaching' : 'within';
}

/** Expected figures of the connection and per RBAC group id (null: none). */
function expected(rows: Row[], kevDue: Map<string, string>, today: number, generatedTime: string, excepted: (row: Row) => boolean = () => false) {
  const total = noFigures();
  const groups = new Map<number | null, Figures>();
  for (const row of rows) {
    const group = groups.get(row.RbacGroupId ?? null) ?? noFigures();
    groups.set(row.RbacGroupId ?? null, group);
    const state = excepted(row) ? 'excepted' : stateOf(row, kevDue, today, generatedTime);
    const severity = (row.VulnerabilitySeverityLevel as string).toLowerCase() as (typeof SEVERITIES)[number];
    for (const f of [total, group]) {
      for (const c of SEVERITIES.includes(severity) ? [f, f.bySeverity[severity]] : [f]) {
        c[state]++;
        if (state !== 'excepted') c.counted++;
      }
    }
  }
  return { total, groups };
}

describe('SLA compliance: figures per connection and RBAC group, exceptions, trend and mean time to remediate', () => {
  let emulator: RunningEmulator;
  let raw: EmulatorClient;
  let console_: TestConsole;
  let admin: ApiClient;
  let connectionId: string;
  let rows: Row[];
  let generatedTime: string;
  let kevDue: Map<string, string>;

  async function importContent(): Promise<void> {
    const started = await admin.call('POST', '/api/v1/content/imports', { source: 'all' });
    assert.equal(started.status, 202, started.text);
    for (;;) {
      const status = (await admin.call('GET', `/api/v1/content/imports/${started.body.importId}`)).body;
      if (status.status === 'failed') assert.fail(`the import failed: ${status.error}`);
      if (status.status === 'succeeded') return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The emulator's open findings now, and the KEV due date of each from its patch truth. */
  async function readTruth(): Promise<void> {
    ({ rows, generatedTime } = await raw.exportFileRows(await raw.token()));
    const truth = ((await raw.get(`/_emulator/tenants/${emulator.tenantId}/patch-truth`)).json() as { value: any[] }).value;
    kevDue = new Map(truth.filter((t) => t.fix?.kev?.dueDate).map((t) => [
      `${t.deviceId}|${t.softwareVendor}|${t.softwareName}|${t.softwareVersion}|${t.cveId}`, t.fix.kev.dueDate as string]));
  }

  /** The connection's figures and its groups' as the API (or the service with another clock) answers. */
  function compare(answer: any, want: ReturnType<typeof expected>): void {
    const connection = answer.connections.find((c: any) => c.connectionId === connectionId);
    assert.ok(connection, 'the connection has figures');
    assert.deepEqual(figuresOf(connection), figuresOf(want.total));
    const compliance = want.total.counted ? Math.round((1000 * (want.total.counted - want.total.overdue)) / want.total.counted) / 10 : null;
    assert.equal(connection.compliance, compliance);
    const groups = new Map(connection.rbacGroups.map((g: any) => [g.rbacGroupId, g]));
    for (const [id, figures] of want.groups) {
      const group: any = groups.get(id);
      assert.ok(group, `group ${id} has figures`);
      assert.deepEqual(figuresOf(group), figuresOf(figures), `group ${id} (${group.name})`);
    }
    for (const [id, group] of groups as Map<number, any>) if (!want.groups.has(id)) assert.equal(group.counted + group.excepted, 0, `group ${id} has no open findings`);
  }

  const today = () => Math.floor(Date.now() / DAY_MS);

  before(async () => {
    emulator = await startEmulator({ devices: 150, seed: 'sla', timeScale: 0.002, rateLimits: false, devicesPerPart: 100 });
    raw = new EmulatorClient(emulator);
    console_ = await startTestConsole({ extraCaFile: emulator.caFile, syncTimeScale: 0.002, ...emulator.feeds });
    admin = new ApiClient(console_.running.url);
    assert.equal((await admin.login()).status, 200);
    connectionId = await connectEmulator(admin, emulator);
    // Synced before the content is known: the KEV due dates come with the import, and the next sync moves those findings.
    assert.equal((await sync(admin, connectionId, 'full')).status, 'succeeded');
    await importContent();
    assert.equal((await sync(admin, connectionId, 'delta')).status, 'succeeded');
    await readTruth();
  });
  after(async () => {
    await console_?.close();
    await raw?.close();
  });

  it('counts every open finding of the emulator within, approaching or overdue, per connection and RBAC group and severity', async () => {
    const answer = await admin.call('GET', `/api/v1/sla?connectionId=${connectionId}`);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.asOf, isoDay(today()));
    assert.deepEqual(answer.body.windows, DEFAULT_SLA_WINDOWS);
    const want = expected(rows, kevDue, today(), generatedTime);
    assert.ok(want.total.overdue > 0 && want.total.approaching > 0 && want.total.within > 0, 'the emulator has findings in every state');
    assert.ok(kevDue.size > 0 && rows.some((r) => kevDue.has(findingKey(r)) && stateOf(r, kevDue, today(), generatedTime) !== stateOf(r, new Map(), today(), generatedTime)),
      'some KEV due dates change a state');
    compare(answer.body, want);
    assert.deepEqual(figuresOf(answer.body.totals), figuresOf(want.total));
    // Each sync leaves a trend point.
    assert.ok(answer.body.trend.length === 30 && answer.body.trend.some((p: any) => p.openFindings === rows.length));
  });

  it('flags each finding with its state and due date, and lists the overdue ones the SLA page links to', async () => {
    const want = expected(rows, kevDue, today(), generatedTime);
    const overdue = await admin.call('GET', `/api/v1/findings?connectionId=${connectionId}&status=open&slaState=overdue&limit=1000`);
    assert.equal(overdue.status, 200, overdue.text);
    assert.equal(overdue.body.total, want.total.overdue);
    const byKey = new Map(rows.map((r) => [findingKey(r), r]));
    for (const item of overdue.body.items) {
      assert.equal(item.slaState, 'overdue');
      const row = byKey.get(`${item.deviceId}|${item.software.vendor}|${item.software.name}|${item.software.version}|${item.cveId}`)!;
      assert.equal(stateOf(row, kevDue, today(), generatedTime), 'overdue');
      assert.ok(item.dueOn < isoDay(today()));
    }
    const group = rows[0].RbacGroupName;
    const critical = await admin.call('GET', `/api/v1/findings?connectionId=${connectionId}&status=open&slaState=overdue,approaching&severity=Critical&rbacGroup=${encodeURIComponent(group)}&limit=1`);
    const groupWant = want.groups.get(rows[0].RbacGroupId)!.bySeverity.critical;
    assert.equal(critical.body.total, groupWant.overdue + groupWant.approaching);
    for (const bad of [`/api/v1/findings?slaState=late`, '/api/v1/sla?days=0', '/api/v1/sla?days=400', '/api/v1/sla?days=many', '/api/v1/sla?bogus=1']) {
      const answer = await admin.call('GET', bad);
      assert.equal(answer.status, 400, `${bad}: ${answer.text}`);
      assert.ok(answer.body.error.code);
    }
  });

  it('leaves out the findings an active exception covers, and counts them again once it expires', async () => {
    const byCve = new Map<string, number>();
    for (const r of rows) byCve.set(r.CveId, (byCve.get(r.CveId) ?? 0) + 1);
    const cveId = [...byCve].sort((a, b) => b[1] - a[1])[0][0];
    const chrome = rows.filter((r) => r.SoftwareName === 'chrome');
    const version = [...new Set(chrome.map((r) => r.SoftwareVersion))].sort()[0];
    const smallest = [...new Set(rows.map((r) => r.RbacGroupId))].sort((a, b) => rows.filter((r) => r.RbacGroupId === a).length - rows.filter((r) => r.RbacGroupId === b).length)[0];
    const create = async (scope: Record<string, unknown>) => {
      const created = await admin.call('POST', '/api/v1/exceptions', {
        connectionId, scope, justification: 'alternate_mitigation', owner: 'secops@contoso.example', expiresOn: isoDay(today() + 30),
      });
      assert.equal(created.status, 201, created.text);
      return created.body.id as string;
    };
    const cveException = await create({ kind: 'cve', cveId });
    await create({ kind: 'software', softwareVendor: 'google', softwareName: 'chrome', softwareVersion: version });
    await create({ kind: 'rbac_group', rbacGroupId: smallest });
    const covered = (r: Row) => r.CveId === cveId || (r.SoftwareName === 'chrome' && r.SoftwareVendor === 'google' && r.SoftwareVersion === version) || r.RbacGroupId === smallest;
    const withAll = expected(rows, kevDue, today(), generatedTime, covered);
    assert.ok(withAll.total.excepted > byCve.get(cveId)!, 'the exceptions overlap and cover more than the CVE');
    compare((await admin.call('GET', `/api/v1/sla?connectionId=${connectionId}`)).body, withAll);
    const excepted = await admin.call('GET', `/api/v1/findings?connectionId=${connectionId}&slaState=excepted&limit=1`);
    assert.equal(excepted.body.total, withAll.total.excepted);

    // The CVE's exception passes its last day.
    await console_.running.services.db.updateTable('risk_exception').set({ expires_on: isoDay(today() - 1) }).where('id', '=', cveException).execute();
    const without = (r: Row) => (r.SoftwareName === 'chrome' && r.SoftwareVendor === 'google' && r.SoftwareVersion === version) || r.RbacGroupId === smallest;
    compare((await admin.call('GET', `/api/v1/sla?connectionId=${connectionId}`)).body, expected(rows, kevDue, today(), generatedTime, without));
  });

  it('after an advance and a delta the figures follow the emulator at its clock; a full snapshot\'s fixes give the mean time to remediate', async () => {
    const store = console_.running.services.store!;
    const before = rows;
    const version = (await store.db.selectFrom('risk_exception').select('software_version').where('scope_kind', '=', 'software').executeTakeFirstOrThrow()).software_version!;
    const smallest = (await store.db.selectFrom('risk_exception').select('rbac_group_id').where('scope_kind', '=', 'rbac_group').executeTakeFirstOrThrow()).rbac_group_id!;
    assert.equal((await raw.postJson('/_emulator/advance', { hours: 24 * 10 })).status, 200);
    assert.equal((await sync(admin, connectionId, 'delta')).status, 'succeeded');
    await readTruth();
    const moved = new Set(before.filter((b) => rows.some((r) => r.DeviceId === b.DeviceId && r.RbacGroupId !== b.RbacGroupId)).map((b) => b.DeviceId));
    assert.ok(moved.size > 0, 'devices moved RBAC group');
    // The exceptions (their clock is the wall clock's: they are still active) cover the version's findings that remain, and the group's.
    const covered = (r: Row) => (r.SoftwareName === 'chrome' && r.SoftwareVendor === 'google' && r.SoftwareVersion === version) || r.RbacGroupId === smallest;
    let clock = new Date(emulator.state().clock);
    const sla = createSlaQueries({
      db: store.db, cache: new DataVersionCache(() => store.sqlite.pragma('vuln.data_version', { simple: true }) as number), windows: DEFAULT_SLA_WINDOWS, now: () => clock,
    });
    const scope = await visibleTenants(store.db, null, connectionId);
    const day = Math.floor(clock.getTime() / DAY_MS);
    compare(await sla.summary(scope, 30), expected(rows, kevDue, day, generatedTime, covered));
    assert.ok(before.some((b) => covered(b) && !rows.some((r) => findingKey(r) === findingKey(b))), 'some excepted findings were fixed or updated away');

    // A day later, a full snapshot: the findings it no longer lists were fixed at its time.
    const previous = rows;
    assert.equal((await raw.postJson('/_emulator/advance', { hours: 24 })).status, 200);
    assert.equal((await sync(admin, connectionId, 'full')).status, 'succeeded');
    await readTruth();
    const now = new Set(rows.map(findingKey));
    const fixed = previous.filter((r) => !now.has(findingKey(r)));
    assert.ok(fixed.length > 0);
    clock = new Date(emulator.state().clock);
    const answer = await sla.summary(scope, 30);
    const point = answer.trend.find((p) => p.day === generatedTime.slice(0, 10))!;
    assert.equal(point.fixed, fixed.length);
    const meanDays = fixed.reduce((sum, r) => sum + (Date.parse(generatedTime) - Date.parse(`${r.FirstSeenTimestamp.replace(' ', 'T')}Z`)) / DAY_MS, 0) / fixed.length;
    assert.equal(point.meanDaysToRemediate, Math.round(meanDays * 10) / 10);
    // The snapshot's day point: the figures as the sync saw them that day, exceptions not left out.
    const atSync = expected(rows, kevDue, Math.floor(Date.parse(generatedTime) / DAY_MS), generatedTime).total;
    assert.equal(point.openFindings, rows.length);
    assert.equal(point.overdue, atSync.overdue);
    assert.equal(point.approaching, atSync.approaching);
    assert.ok(answer.meanTimeToRemediate.all.fixed >= fixed.length);
    compare(answer, expected(rows, kevDue, Math.floor(clock.getTime() / DAY_MS), generatedTime, covered));
  });

  it('shows a scoped analyst only its connection', async () => {
    const other = (await admin.call('POST', '/api/v1/connections?skipCheck=true', {
      name: 'Other tenant', tenantId: '6f1c6a52-0c1e-4a7e-9a3e-2d8f4f0b7c11', clientId: '7d1c6a52-0c1e-4a7e-9a3e-2d8f4f0b7c12', clientSecret: 'abc8Q~other-secret-value-for-the-test',
    })).body.id as string;
    assert.equal((await admin.call('POST', '/api/v1/users', { username: 'ana', password: PASSWORD, role: 'analyst', connectionIds: [other] })).status, 201);
    const ana = new ApiClient(console_.running.url);
    assert.equal((await ana.login('ana', PASSWORD)).status, 200);
    for (const path of ['/api/v1/sla', `/api/v1/sla?connectionId=${connectionId}`]) {
      const answer = await ana.call('GET', path);
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.body.connections, []);
      assert.equal(answer.body.totals.counted + answer.body.totals.excepted, 0);
    }
    const overdue = await ana.call('GET', `/api/v1/findings?connectionId=${connectionId}&slaState=overdue`);
    assert.equal(overdue.body.total, 0);
  });
});
