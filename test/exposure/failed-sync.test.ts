// A sync that fails halfway, after it has written rows in its transaction, leaves every answer of
// the exposure API byte for byte as it was (only the clock-driven dataAgeSeconds is masked); the
// next sync without the fault gives the new numbers, equal to the emulator's. On both stores: the
// embedded one and PostgreSQL.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  checkDevices, checkFacets, checkSoftware, checkSummary, checkTenants, checkTrend, checkVulnerabilities, compareAnswers, Mismatches,
  readAllAnswers, type ApiAnswers, type ViewUnderTest,
} from '../helpers/exposure-api.js';
import { ExposureTruth, sameDayStartTime } from '../helpers/exposure-truth.js';
import { TEST_STORES } from '../helpers/postgres.js';
import { startSyncFixture, sync, type SyncFixture } from '../helpers/sync.js';

for (const { store, label, skip } of TEST_STORES) describe(`A sync that fails halfway leaves every aggregate as it was, on the ${label}`, { skip }, () => {
  let fixture: SyncFixture;
  let truth: ExposureTruth;
  let answersBefore: ApiAnswers;
  let lastSync = '';

  before(async () => {
    // Four export files of about 2,300 rows; patchCadence 400 keeps the emulator's CVE ids unique.
    fixture = await startSyncFixture({
      devices: 200, devicesPerPart: 50, seed: 'exposure-failed-sync', timeScale: 0.002, rateLimits: false, patchCadence: 400, startTime: sameDayStartTime(), store,
    });
    truth = new ExposureTruth(fixture.raw, fixture.emulator, [{ connectionId: fixture.connectionId, name: 'Emulated tenant', tenant: fixture.emulator.tenants[0] }]);
    const run = await sync(fixture.api, fixture.connectionId, 'full');
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    lastSync = run.finishedAt;
    await truth.observe();
    answersBefore = await readAllAnswers(fixture.api, ['', `connectionId=${fixture.connectionId}`]);
    assert.ok(answersBefore.ids.cves.length > 100 && answersBefore.ids.devices.length > 100, 'the exposure API answered with data');
    fixture.emulator.advance(6);
  });
  afterEach(() => fixture.emulator.faults.clear());
  after(() => fixture?.close());

  async function expectUnchanged(): Promise<void> {
    const now = await readAllAnswers(fixture.api, ['', `connectionId=${fixture.connectionId}`], answersBefore.ids);
    const m = new Mismatches();
    for (const line of compareAnswers(answersBefore, now)) m.note(line);
    m.assertNone('answers after the failed sync');
  }

  it('a full sync that fails on a corrupt line of its last export file (after writing the other files)', async () => {
    fixture.emulator.faults.add({ kind: 'malformedLine', endpoint: 'exportFile', after: 3, line: 1500, times: 1 });
    const run = await sync(fixture.api, fixture.connectionId, 'full');
    assert.equal(run.status, 'failed');
    assert.equal(run.error.code, 'export_file_corrupt', JSON.stringify(run.error));
    assert.ok(run.counts.read > 1500, `rows were written in the run's transaction before it failed (${run.counts.read} read)`);
    await expectUnchanged();
  });

  it('a delta that fails after applying every change (the CVE catalog cannot be read)', async () => {
    fixture.emulator.faults.add({ kind: 'serverError', endpoint: 'vulnerabilities', status: 503 });
    const run = await sync(fixture.api, fixture.connectionId, 'delta');
    assert.equal(run.status, 'failed');
    assert.equal(run.kind, 'delta');
    assert.ok(run.counts.read > 0, `change rows were written in the run's transaction before it failed (${run.counts.read} read)`);
    await expectUnchanged();
  });

  it('the next sync without a fault gives the new numbers, equal to the emulator\'s', async () => {
    await truth.observe('delta');
    const run = await sync(fixture.api, fixture.connectionId, 'delta');
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    lastSync = run.finishedAt;
    const now = await readAllAnswers(fixture.api, ['', `connectionId=${fixture.connectionId}`], answersBefore.ids);
    const changed = compareAnswers(answersBefore, now);
    assert.ok(changed.some((line) => line.startsWith('[scope 0] /api/v1/exposure/summary:')), 'the summary changed');

    const m = new Mismatches();
    const v: ViewUnderTest = { label: 'admin', client: fixture.api, query: '', expected: truth.view([fixture.connectionId]) };
    const summary = await checkSummary(m, v);
    await checkTrend(m, v, summary);
    await checkVulnerabilities(m, v, { exactFirstSeen: false, details: 20 });
    await checkDevices(m, v, { details: 20 });
    await checkSoftware(m, v);
    await checkFacets(m, v);
    await checkTenants(m, v, new Map([[fixture.connectionId, { lastSuccessfulSync: lastSync, syncIntervalMinutes: 360 }]]), summary);
    m.assertNone('aggregates after the recovering sync');
  });
});
