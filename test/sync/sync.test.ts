import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../emulator/server.js';
import type { ApiClient, TestConsole } from '../helpers/console.js';
import type { EmulatorClient } from '../helpers/emulator-client.js';
import { allFindings, openTotal, startSyncFixture, sync, type SyncFixture } from '../helpers/sync.js';

const key = (f: { deviceId: string; software: { vendor: string; name: string; version: string }; cveId: string }) =>
  `${f.deviceId}|${f.software.vendor}|${f.software.name}|${f.software.version}|${f.cveId}`;

describe('Vulnerability sync against the emulator', () => {
  let emulator: RunningEmulator;
  let raw: EmulatorClient;
  let console_: TestConsole;
  let api: ApiClient;
  let connectionId: string;

  let fixture: SyncFixture;

  before(async () => {
    // Parts of about 1,500 rows: each is read in several batches, and the two parser threads' batches interleave.
    fixture = await startSyncFixture({ devices: 120, devicesPerPart: 30, seed: 'sync-test', timeScale: 0.002 });
    ({ emulator, raw, console: console_, api, connectionId } = fixture);
  });
  afterEach(() => emulator.faults.clear());
  after(() => fixture.close());

  const emulatorFindings = () => emulator.state().tenants[0].findings;

  it('a full sync copies exactly the emulator\'s snapshot', async () => {
    const run = await sync(api, connectionId, 'auto');
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    assert.equal(run.kind, 'full');
    assert.equal(run.parts.total, 4);
    assert.equal(run.parts.done, 4);
    assert.equal(run.counts.added, emulatorFindings());
    assert.equal(await openTotal(api, connectionId), emulatorFindings());

    const token = await raw.token();
    const truth = (await raw.pages('/api/machines/SoftwareVulnerabilitiesByMachine', token)).rows;
    const stored = await allFindings(api, connectionId);
    assert.deepEqual(new Set(stored.map(key)), new Set(truth.map((r) => `${r.deviceId}|${r.softwareVendor}|${r.softwareName}|${r.softwareVersion}|${r.cveId}`)));
    const sample = truth.find((r) => r.recommendedSecurityUpdateId && r.vulnerabilitySeverityLevel)!;
    const copy = stored.find((f) => key(f) === `${sample.deviceId}|${sample.softwareVendor}|${sample.softwareName}|${sample.softwareVersion}|${sample.cveId}`);
    assert.equal(copy.severity, sample.vulnerabilitySeverityLevel);
    assert.equal(copy.cvss, sample.cvssScore);
    assert.equal(copy.recommendedUpdate.id, sample.recommendedSecurityUpdateId);
    assert.equal(copy.deviceName, sample.deviceName);
    assert.equal(copy.rbacGroupName, sample.rbacGroupName);
    assert.equal(copy.lastSeen, `${sample.lastSeenTimestamp.slice(0, 10)}T${sample.lastSeenTimestamp.slice(11, 19)}Z`);

    const again = await sync(api, connectionId, 'full');
    assert.deepEqual(again.counts, { read: emulatorFindings(), added: 0, fixed: 0, updated: 0, reopened: 0 }, 'an unchanged snapshot changes nothing');
  });

  it('advance → delta gives the same state as a full sync of the new snapshot', async () => {
    emulator.advance(6);
    emulator.advance(6);
    const delta = await sync(api, connectionId, 'auto');
    assert.equal(delta.status, 'succeeded', JSON.stringify(delta.error));
    assert.equal(delta.kind, 'delta');
    assert.ok(delta.counts.added > 0 && delta.counts.fixed > 0, JSON.stringify(delta.counts));
    assert.equal(await openTotal(api, connectionId), emulatorFindings());
    const full = await sync(api, connectionId, 'full');
    assert.deepEqual({ ...full.counts, read: 0 }, { read: 0, added: 0, fixed: 0, updated: 0, reopened: 0 }, 'the full sync finds nothing the delta missed');
    const fixed = await allFindings(api, connectionId, 'fixed');
    assert.ok(fixed.length >= delta.counts.fixed && fixed.every((f) => f.fixedAt), 'fixed findings keep their history');
  });

  it('a device that moves RBAC group stays open, in its new group, without a fix or a reopening', async () => {
    // A token per read: advancing moves the emulator's clock, and a token outlives only an hour of it.
    const groups = async () => new Map((await raw.pages('/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=200000', await raw.token())).rows.map((r) => [r.deviceId as string, r.rbacGroupName as string]));
    await sync(api, connectionId, 'auto');
    let before = await groups();
    let moved: string | undefined;
    for (let step = 0; step < 600 && !moved; step++) {
      emulator.advance(6);
      const now = await groups();
      moved = [...now].find(([device, group]) => before.has(device) && before.get(device) !== group)?.[0];
      if (!moved) {
        before = now;
        // Keep the checkpoint within Defender's 14 days.
        if (step % 20 === 19) await sync(api, connectionId, 'auto');
      }
    }
    assert.ok(moved, 'a device moved');
    const run = await sync(api, connectionId, 'delta');
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    assert.equal(run.counts.reopened, 0);
    const open = (await allFindings(api, connectionId)).filter((f) => f.deviceId === moved);
    assert.ok(open.length > 0);
    assert.ok(open.every((f) => f.rbacGroupName === open[0].rbacGroupName));
    const truthGroup = (await groups()).get(moved!);
    assert.equal(open[0].rbacGroupName, truthGroup);
    assert.equal(await openTotal(api, connectionId), emulatorFindings());
  });

  describe('resilience', () => {
    async function expectSuccessWith(fault: Record<string, unknown>, kind: 'full' | 'delta' = 'full') {
      emulator.faults.add(fault as never);
      const run = await sync(api, connectionId, kind);
      assert.equal(run.status, 'succeeded', `${fault.kind}: ${JSON.stringify(run.error)}`);
      assert.equal(await openTotal(api, connectionId), emulatorFindings());
      return run;
    }

    async function expectFailureWith(fault: Record<string, unknown>, code: string, message: RegExp, kind: 'full' | 'delta' = 'full') {
      emulator.advance(6);
      const before = await allFindings(api, connectionId);
      emulator.faults.add(fault as never);
      const run = await sync(api, connectionId, kind);
      assert.equal(run.status, 'failed');
      assert.equal(run.error.code, code);
      assert.match(run.error.message, message);
      assert.ok(run.error.fix.length > 10);
      const after = await allFindings(api, connectionId);
      assert.deepEqual(after.map(key), before.map(key), 'the old data is kept');
      emulator.faults.clear();
    }

    it('waits out a 429 storm, honouring Retry-After', async () => {
      const requests = emulator.state().requests.softwareVulnerabilitiesExport ?? 0;
      await expectSuccessWith({ kind: 'throttle', endpoint: 'softwareVulnerabilitiesExport', times: 3, retryAfter: 1 });
      assert.equal(emulator.state().requests.softwareVulnerabilitiesExport, requests + 4);
    });

    it('backs off on 503 and on 500 from the blob host', async () => {
      await expectSuccessWith({ kind: 'serverError', endpoint: 'vulnerabilities', status: 503, times: 2 });
      await expectSuccessWith({ kind: 'serverError', endpoint: 'exportFile', status: 500, times: 2 });
    });

    it('resumes a part whose download is reset mid-body', async () => {
      emulator.advance(6);
      await expectSuccessWith({ kind: 'resetMidBody', endpoint: 'exportFile', times: 3 });
    });

    it('re-requests the export when the download links have expired', async () => {
      const requests = emulator.state().requests.softwareVulnerabilitiesExport ?? 0;
      await expectSuccessWith({ kind: 'expiredSas', times: 1 });
      assert.equal(emulator.state().requests.softwareVulnerabilitiesExport, requests + 2);
    });

    it('retries an empty blob', async () => {
      await expectSuccessWith({ kind: 'emptyBlob', times: 2 });
    });

    it('keeps working with tokens that live for one second', async () => {
      const tokens = emulator.state().requests.token ?? 0;
      emulator.advance(6);
      await expectSuccessWith({ kind: 'shortTokens', lifetimeSeconds: 1 }, 'delta');
      assert.ok((emulator.state().requests.token ?? 0) >= tokens + 2, 'a fresh token for each call');
    });

    it('fails on a truncated gzip, naming the file, and keeps the old data', async () => {
      // Twice: a parser thread the run before discarded may still fetch one part as it stops.
      await expectFailureWith({ kind: 'truncatedGzip', times: 2 }, 'export_file_corrupt', /part-0000\d-.+\.json\.gz is not a complete gzip file/);
    });

    it('fails on a malformed line, naming the file and line, and keeps the old data', async () => {
      await expectFailureWith({ kind: 'malformedLine', line: 3, times: 2 }, 'export_file_corrupt', /line 3 of part-0000\d-.+\.json\.gz is not valid JSON/);
    });

    it('stops on a repeating next link instead of looping', async () => {
      const patched = await api.call('PATCH', `/api/v1/connections/${connectionId}?skipCheck=true`, { exportMethod: 'json' });
      assert.equal(patched.status, 200, patched.text);
      try {
        await expectFailureWith({ kind: 'repeatingNextLink', endpoint: 'softwareVulnerabilitiesByMachine' }, 'repeating_next_link', /same next-page link twice/);
        const json = await sync(api, connectionId, 'full');
        assert.equal(json.status, 'succeeded', JSON.stringify(json.error));
        assert.equal(await openTotal(api, connectionId), emulatorFindings(), 'the JSON export gives the same copy');
      } finally {
        await api.call('PATCH', `/api/v1/connections/${connectionId}?skipCheck=true`, { exportMethod: 'files' });
      }
    });

    it('stops on a repeating next link in the changes since the last sync', async () => {
      await expectFailureWith({ kind: 'repeatingNextLink', endpoint: 'softwareVulnerabilityChangesByMachine' }, 'repeating_next_link', /same next-page link twice/, 'delta');
      const run = await sync(api, connectionId, 'delta');
      assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
      assert.equal(run.kind, 'delta');
      assert.equal(await openTotal(api, connectionId), emulatorFindings());
    });
  });
});
