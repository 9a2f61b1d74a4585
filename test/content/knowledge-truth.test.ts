// The acceptance test of the patch knowledge: for every open finding of a 2,000-device emulated
// tenant, the fix SitePatch answers (GET /api/v1/findings, after importing the emulator's vendor
// feeds) equals the emulator's own ground truth (/_emulator/tenants/{id}/patch-truth, computed from
// its model): the fixing update, the newest deployable one, the first fixed version, the reason
// when no fix is known, Ubuntu Pro and KEV. After a full sync, and again after the tenant has moved
// past a Patch Tuesday (new cumulative updates, a new MSRC month) and the feeds were imported again.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';
import { EmulatorClient } from '../helpers/emulator-client.js';
import { allFindings, connectEmulator, importContent, sync } from '../helpers/sync.js';

const DAY_HOURS = 24;

/** The fields both sides state, in one shape (titles are informative only). */
function comparable(fix: any) {
  return {
    status: fix.status, update: fix.update && `${fix.update.kind}:${fix.update.id}`, deployable: fix.deployable?.id ?? null,
    fixedVersion: fix.fixedVersion, reason: fix.reason, kev: fix.kev, requiresUbuntuPro: fix.requiresUbuntuPro,
  };
}

/** Hours from `time` until 12:00 UTC the day after the next second Tuesday of a month. */
function hoursPastNextPatchTuesday(time: Date): number {
  for (let month = 0; month < 3; month++) {
    const first = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth() + month, 1));
    const secondTuesday = 1 + ((2 - first.getUTCDay() + 7) % 7) + 7;
    const after = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), secondTuesday + 1, 12);
    if (after > time.getTime()) return Math.ceil((after - time.getTime()) / 3600_000);
  }
  throw new Error('no Patch Tuesday within three months');
}

describe('Patch knowledge: every open finding\'s fix equals the emulator\'s ground truth', () => {
  let emulator: RunningEmulator;
  let raw: EmulatorClient;
  let console_: TestConsole;
  let admin: ApiClient;
  let connectionId: string;

  before(async () => {
    emulator = await startEmulator({ devices: 2000, seed: 'knowledge-truth', timeScale: 0.002, rateLimits: false, devicesPerPart: 1000 });
    raw = new EmulatorClient(emulator);
    console_ = await startTestConsole({ extraCaFile: emulator.caFile, syncTimeScale: 0.002, ...emulator.feeds });
    admin = new ApiClient(console_.running.url);
    assert.equal((await admin.login()).status, 200);
    connectionId = await connectEmulator(admin, emulator);
  });
  after(async () => {
    await console_?.close();
    await raw?.close();
  });

  async function compareWithTruth(): Promise<void> {
    const truth = (await raw.get(`/_emulator/tenants/${emulator.tenantId}/patch-truth`)).json() as { value: any[] };
    const key = (deviceId: string, vendor: string, name: string, version: string, cveId: string) => [deviceId, vendor, name, version, cveId].join('|');
    const expected = new Map(truth.value.map((t) => [key(t.deviceId, t.softwareVendor, t.softwareName, t.softwareVersion, t.cveId), comparable(t.fix)]));
    const answers = await allFindings(admin, connectionId, 'open');
    assert.equal(answers.length, expected.size, 'SitePatch holds the emulator\'s open findings');
    const mismatches = new Map<string, { count: number; first: string }>();
    const byStatus = new Map<string, number>();
    for (const finding of answers) {
      const k = key(finding.deviceId, finding.software.vendor, finding.software.name, finding.software.version, finding.cveId);
      const want = expected.get(k);
      const got = comparable(finding.fix);
      const answer = `${got.status}${got.reason ? `:${got.reason}` : ''}`;
      byStatus.set(answer, (byStatus.get(answer) ?? 0) + 1);
      if (!want) {
        mismatches.set('not in the truth', { count: (mismatches.get('not in the truth')?.count ?? 0) + 1, first: k });
        continue;
      }
      for (const field of Object.keys(want) as (keyof typeof want)[]) {
        if (JSON.stringify(got[field]) === JSON.stringify(want[field])) continue;
        const kind = `${finding.software.vendor}/${finding.software.name} ${field}`;
        const seen = mismatches.get(kind);
        mismatches.set(kind, { count: (seen?.count ?? 0) + 1, first: seen?.first ?? `${k}: SitePatch ${JSON.stringify(got[field])}, truth ${JSON.stringify(want[field])}` });
      }
    }
    // Every kind of answer occurs, so that the comparison covers them all.
    for (const status of ['update', 'version', 'no_known_fix']) assert.ok([...byStatus.keys()].some((s) => s.startsWith(status)), `no finding answered ${status}: ${JSON.stringify([...byStatus])}`);
    const report = [...mismatches].map(([kind, m]) => `${kind}: ${m.count} (first: ${m.first})`);
    assert.deepEqual(report, [], `${report.length} kinds of mismatch over ${answers.length} findings`);
  }

  it('after a full sync and an import of every feed', async () => {
    assert.equal((await sync(admin, connectionId, 'full')).status, 'succeeded');
    await importContent(admin);
    await compareWithTruth();
  });

  it('after the tenant moved past a Patch Tuesday, a sync and a new import', async () => {
    const state = (await raw.get('/_emulator/state')).json() as { snapshotTime: string };
    const hours = hoursPastNextPatchTuesday(new Date(state.snapshotTime));
    assert.ok(hours <= 32 * DAY_HOURS);
    assert.equal((await raw.postJson('/_emulator/advance', { hours })).status, 200);
    assert.equal((await sync(admin, connectionId, 'auto')).status, 'succeeded');
    await importContent(admin);
    await compareWithTruth();
  });
});
