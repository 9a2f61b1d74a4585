// Data from outside is read as the text it is: export files, JSON pages, change pages and error
// bodies that start with a UTF-8 byte-order mark (the emulator's bomPrefix fault).

import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, afterEach, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../emulator/server.js';
import type { ApiClient, TestConsole } from '../helpers/console.js';
import type { EmulatorClient } from '../helpers/emulator-client.js';
import { openTotal, startSyncFixture, sync, type SyncFixture } from '../helpers/sync.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

describe('Outside data that starts with a byte-order mark', () => {
  let emulator: RunningEmulator;
  let raw: EmulatorClient;
  let console_: TestConsole;
  let api: ApiClient;
  let connectionId: string;

  let fixture: SyncFixture;

  before(async () => {
    fixture = await startSyncFixture({ devices: 60, devicesPerPart: 30, seed: 'bom-test', timeScale: 0.002 });
    ({ emulator, raw, console: console_, api, connectionId } = fixture);
  });
  afterEach(() => emulator.faults.clear());
  after(() => fixture.close());

  const emulatorFindings = () => emulator.state().tenants[0].findings;

  it('the emulator puts the mark in front of export files and JSON bodies', async () => {
    const token = await raw.token();
    emulator.faults.add({ kind: 'bomPrefix' });
    const page = await raw.get('/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=5', token);
    assert.deepEqual(page.body.subarray(0, 3), BOM);
    const listing = await raw.get('/api/machines/SoftwareVulnerabilitiesExport', token);
    assert.deepEqual(listing.body.subarray(0, 3), BOM);
    const { exportFiles } = JSON.parse(listing.body.subarray(3).toString('utf8'));
    const file = gunzipSync((await raw.get(exportFiles[0])).body);
    assert.deepEqual(file.subarray(0, 3), BOM);
    assert.ok(JSON.parse(file.subarray(3).toString('utf8').split('\n')[0]).DeviceId);
  });

  it('reads export files that start with one', async () => {
    emulator.faults.add({ kind: 'bomPrefix', endpoint: 'exportFile' });
    const run = await sync(api, connectionId, 'full');
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    assert.equal(run.counts.read, emulatorFindings());
    assert.equal(await openTotal(api, connectionId), emulatorFindings());
  });

  it('reads the JSON export and CVE catalog pages that start with one', async () => {
    const patched = await api.call('PATCH', `/api/v1/connections/${connectionId}?skipCheck=true`, { exportMethod: 'json' });
    assert.equal(patched.status, 200, patched.text);
    try {
      emulator.advance(6);
      emulator.faults.add({ kind: 'bomPrefix', endpoint: 'softwareVulnerabilitiesByMachine' });
      emulator.faults.add({ kind: 'bomPrefix', endpoint: 'vulnerabilities' });
      const run = await sync(api, connectionId, 'full');
      assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
      assert.equal(await openTotal(api, connectionId), emulatorFindings());
    } finally {
      await api.call('PATCH', `/api/v1/connections/${connectionId}?skipCheck=true`, { exportMethod: 'files' });
    }
  });

  it('reads change pages that start with one', async () => {
    assert.equal((await sync(api, connectionId, 'full')).status, 'succeeded', 'a checkpoint to read the changes from');
    emulator.advance(6);
    emulator.faults.add({ kind: 'bomPrefix', endpoint: 'softwareVulnerabilityChangesByMachine' });
    const run = await sync(api, connectionId, 'delta');
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    assert.equal(run.kind, 'delta');
    assert.ok(run.counts.added + run.counts.fixed > 0, JSON.stringify(run.counts));
    assert.equal(await openTotal(api, connectionId), emulatorFindings());
  });

  it('reads Defender\'s message from an error body that starts with one', async () => {
    emulator.faults.add({ kind: 'forbidden', endpoint: 'vulnerabilities', times: 1 });
    emulator.faults.add({ kind: 'bomPrefix', endpoint: 'vulnerabilities', times: 1 });
    const tested = await api.call('POST', `/api/v1/connections/${connectionId}/test`);
    assert.equal(tested.status, 422, tested.text);
    assert.equal(tested.body.error.code, 'api_forbidden');
    assert.match(tested.body.error.message, /refused access \(403 Forbidden\): The application does not have any of the required application permissions/);
  });
});
