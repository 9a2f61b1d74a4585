import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEMO_HISTORY_TRIGGER, planDemoPast } from '../../src/demo/past.js';
import { ADMIN_PASSWORD, ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const day = (iso: string) => iso.slice(0, 10);

describe('the demo tenant\'s past: which snapshots a start syncs', () => {
  const epoch = Date.UTC(2026, 0, 1);
  const now = epoch + 90 * DAY + 2 * HOUR;

  it('first start: one snapshot a day over the last 90 days, up to the current one', () => {
    const plan = planDemoPast(epoch, undefined, now);
    assert.equal(plan.firstStart, true);
    assert.equal(plan.position, 0);
    assert.equal(plan.snapshots.length, 91);
    assert.deepEqual(plan.snapshots.slice(0, 3), [0, 4, 8]);
    assert.equal(plan.snapshots.at(-1), 360);
  });

  it('later starts go on from the last synced snapshot, and sync nothing when it is current', () => {
    assert.deepEqual(planDemoPast(epoch, epoch + 360 * 6 * HOUR, now).snapshots, []);
    const tenHoursLater = planDemoPast(epoch, epoch + 360 * 6 * HOUR, now + 10 * HOUR);
    assert.deepEqual([tenHoursLater.position, tenHoursLater.snapshots], [360, [362]]);
    // An interrupted first start: days 0..40 were synced.
    const resumed = planDemoPast(epoch, epoch + 40 * DAY, now);
    assert.equal(resumed.firstStart, false);
    assert.deepEqual([resumed.position, resumed.snapshots[0], resumed.snapshots.length, resumed.snapshots.at(-1)], [160, 164, 50, 360]);
    // A data directory whose tenant timeline is older than 90 days starts its past 90 days back.
    assert.equal(planDemoPast(epoch - 30 * DAY, undefined, now).position, 120);
  });
});

describe('sitepatch serve --demo: the first start syncs the tenant\'s last 90 days', () => {
  let dataDir: string;
  let console1: TestConsole;
  let api: ApiClient;
  let connectionId: string;
  const started = Date.now();

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-demo-past-'));
    console1 = await startTestConsole({ demo: true, demoDevices: 60 }, dataDir);
    api = new ApiClient(console1.running.url);
    assert.equal((await api.login()).status, 200);
    connectionId = (await api.call('GET', '/api/v1/connections')).body.items.find((c: { name: string }) => c.name === 'Demo tenant (emulator)').id;
  });
  after(async () => {
    await console1?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function succeededRuns(): Promise<{ trigger: string; kind: string; counts: { fixed: number } }[]> {
    const runs = (await api.call('GET', `/api/v1/connections/${connectionId}/sync-runs?limit=500`)).body.items as { status: string; trigger: string; kind: string; counts: { fixed: number } }[];
    return runs.filter((r) => r.status === 'succeeded');
  }

  async function allFindings(query: string): Promise<{ openedAt: string; fixedAt: string | null }[]> {
    const items: { openedAt: string; fixedAt: string | null }[] = [];
    for (let cursor: string | null = ''; cursor !== null;) {
      const page = await api.call('GET', `/api/v1/findings?connectionId=${connectionId}&${query}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200, page.text);
      items.push(...page.body.items);
      cursor = page.body.nextCursor;
    }
    return items;
  }

  it('synced a snapshot a day, oldest first, ending at the current one', async () => {
    const past = console1.running.demoPast!;
    assert.equal(past.failed, undefined);
    assert.equal(past.firstStart, true);
    assert.equal(past.synced, 91);
    assert.ok(Math.abs(Date.parse(past.from!) - (started - 90 * DAY)) < 7 * HOUR, past.from);
    assert.ok(Math.abs(Date.parse(past.to!) - started) < 7 * HOUR, past.to);
    const runs = await succeededRuns();
    assert.ok(runs.filter((r) => r.trigger === DEMO_HISTORY_TRIGGER).length >= 90, `${runs.length} runs`);
    assert.ok(runs.filter((r) => r.counts.fixed > 0).length >= 80, 'findings are fixed on most days');
    // The emulated tenant is at "now", so later scheduled syncs read fresh snapshots.
    const state = console1.running.demo!.state();
    assert.ok(Date.now() - Date.parse(state.snapshotTime) < 6 * HOUR + 60_000, state.snapshotTime);
  });

  it('dated findings by the snapshots: opened and fixed on many different days of the last 90', async () => {
    const fixed = await allFindings('status=fixed');
    const fixedDays = new Set(fixed.map((f) => day(f.fixedAt!)));
    assert.ok(fixed.length > 500, `${fixed.length} fixed findings`);
    assert.ok(fixedDays.size >= 80, `fixed on ${fixedDays.size} days`);
    const fixedTimes = fixed.map((f) => Date.parse(f.fixedAt!));
    assert.ok(Math.min(...fixedTimes) < started - 85 * DAY, 'the oldest fix is about 90 days old');
    assert.ok(Math.max(...fixedTimes) <= Date.now());
    const open = await allFindings('status=open');
    const openedDays = new Set([...open, ...fixed].map((f) => day(f.openedAt)));
    assert.ok(openedDays.size >= 80, `opened on ${openedDays.size} days`);
    assert.ok(open.some((f) => Date.parse(f.openedAt) < started - 85 * DAY), 'some findings have been open for 90 days');
  });

  it('the exposure trend over 90 days has a point a day, and its values change', async (t) => {
    const trend = await api.call('GET', '/api/v1/exposure/trend?days=90');
    if (trend.status === 404) {
      t.skip('GET /api/v1/exposure/trend is not served yet');
      return;
    }
    assert.equal(trend.status, 200, trend.text);
    const points = (Array.isArray(trend.body) ? trend.body : trend.body.points ?? trend.body.items) as { day: string; openFindings: number; fixed: number }[];
    assert.ok(points.length >= 85, `${points.length} points`);
    assert.ok(new Set(points.map((p) => p.openFindings)).size >= 10, 'open findings move over the 90 days');
    assert.ok(points.filter((p) => p.fixed > 0).length >= 80, 'findings are fixed on most days');
  });

  it('a restart does not sync the past again, and the tenant\'s timeline goes on', async () => {
    const runsBefore = (await succeededRuns()).length;
    const clock = readFileSync(path.join(dataDir, 'demo-emulator', 'clock.json'), 'utf8');
    await console1.close();
    console1 = await startTestConsole({ demo: true, demoDevices: 60 }, dataDir);
    const past = console1.running.demoPast!;
    assert.equal(past.firstStart, false);
    // Nothing, or the snapshot Defender published since (when the restart crossed a 6-hour boundary).
    assert.ok(past.total <= 1, `${past.total} snapshots`);
    api = new ApiClient(console1.running.url);
    assert.equal((await api.login()).status, 200);
    assert.ok((await succeededRuns()).length <= runsBefore + 1);
    assert.equal(readFileSync(path.join(dataDir, 'demo-emulator', 'clock.json'), 'utf8'), clock);
    const state = console1.running.demo!.state();
    assert.ok(Date.now() - Date.parse(state.snapshotTime) < 6 * HOUR + 60_000, state.snapshotTime);
  });
});

describe('sitepatch serve --demo on a terminal', () => {
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/sitepatch.js');
  let dataDir: string;
  before(() => { dataDir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-demo-cli-')); });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  async function serve(): Promise<string> {
    const child = spawn(process.execPath, [bin, 'serve', '--demo', '--demo-devices', '10', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
      env: { ...process.env, SITEPATCH_ADMIN_PASSWORD: ADMIN_PASSWORD, SITEPATCH_SCHEDULER: 'false' }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let output = '';
    for await (const chunk of child.stderr!) {
      output += chunk;
      if (/SitePatch console: http\S+/.test(output)) break;
    }
    child.kill('SIGTERM');
    await once(child, 'exit');
    return output;
  }

  it('prints the progress through the past on the first start, and nothing of it on the next', async () => {
    const first = await serve();
    assert.match(first, /Demo: first start, so the console syncs the emulated tenant's last 90 days/);
    assert.match(first, /… 90\/91 snapshots synced/);
    assert.match(first, /Demo: 91 snapshots synced from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d in [\d.]+ s \(\d[\d,]* findings opened, \d[\d,]* fixed/);
    const second = await serve();
    assert.doesNotMatch(second, /first start|snapshots synced from/);
  });
});
