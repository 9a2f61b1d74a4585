import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deltaRow, deltaRowJson } from '../../emulator/tenant/records.js';
import { Snapshots } from '../../emulator/tenant/snapshots.js';
import { Tenant } from '../../emulator/tenant/tenant.js';
import { emulatorClient, type EmulatorClient } from '../helpers/emulator-client.js';

const HOUR = 3600_000;

describe('emulator clock: a tenant with a past, following the wall clock', () => {
  let client: EmulatorClient;
  let token: string;
  const start = Math.floor(Date.now() / (6 * HOUR)) * 6 * HOUR - 3 * 24 * HOUR;

  before(async () => {
    client = await emulatorClient({ devices: 20, seed: 'wall-clock', startTime: start, quotas: { softwareVulnerabilitiesExport: { perMinute: 1, perHour: 2 } } });
    token = await client.token();
  });
  after(() => client.close());

  it('starts at its first snapshot, however far back, and publishes snapshots only when told', async () => {
    const exported = (await client.get('/api/machines/SoftwareVulnerabilitiesExport', token)).json();
    assert.equal(Date.parse(exported.generatedTime), start);
    assert.equal(client.emulator.advance(24).snapshot, 4);
    assert.equal(Date.parse(client.emulator.state().snapshotTime), start + 24 * HOUR);
  });

  it('a quota spent on the way forward can be reset', async () => {
    assert.equal((await client.get('/api/machines/SoftwareVulnerabilitiesExport', token)).status, 429, 'one a minute');
    client.emulator.resetRateLimits();
    assert.equal((await client.get('/api/machines/SoftwareVulnerabilitiesExport', token)).status, 200);
  });

  it('once following the wall clock, publishes at once the snapshots it is behind, and the changes between them', async () => {
    client.emulator.followWallClock();
    const state = client.emulator.state();
    assert.equal(state.snapshot, 12);
    assert.ok(Date.now() - Date.parse(state.snapshotTime) < 6 * HOUR);
    const since = new Date(start + 24 * HOUR).toISOString();
    const changes = (await client.get(`/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=${since}`, token)).json();
    const batches = new Set((changes.value as { eventTimestamp: string }[]).map((c) => c.eventTimestamp));
    assert.ok(batches.size >= 4, `changes of ${batches.size} snapshots`);
    // advance() still moves time on, ahead of the wall clock.
    assert.equal(client.emulator.advance(6).snapshot, 13);
  });
});

describe('emulator change rows', () => {
  it('are serialised in one pass exactly as JSON.stringify writes the row', () => {
    const tenant = new Tenant({ seed: 7, devices: 80, startTime: Date.UTC(2026, 0, 1), patchCadence: 20 });
    const snapshots = new Snapshots(tenant);
    let rows = 0;
    for (let k = 1; k <= 12; k++) {
      for (const e of snapshots.batchEvents(k)) {
        const time = tenant.snapshotTime(e.batch);
        assert.equal(deltaRowJson(tenant, e.finding, e.snapshot, e.status, time), JSON.stringify(deltaRow(tenant, e.finding, e.snapshot, e.status, time)));
        rows++;
      }
    }
    assert.ok(rows > 500, `${rows} rows`);
  });
});
