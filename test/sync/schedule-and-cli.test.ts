import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { ApiClient, startTestConsole } from '../helpers/console.js';
import { connectEmulator, openTotal, waitForRun } from '../helpers/sync.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/sitepatch.js');

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stderr };
}

describe('Scheduled syncs and `sitepatch sync`', () => {
  let emulator: RunningEmulator;
  let dataDir: string;
  let connectionId: string;
  before(async () => {
    emulator = await startEmulator({ devices: 20, devicesPerPart: 5, seed: 'schedule-test', rateLimits: false });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-schedule-'));
  });
  after(async () => {
    await emulator.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('syncs a connection whose interval has passed as soon as the scheduler starts', async () => {
    const setup = await startTestConsole({ extraCaFile: emulator.caFile }, dataDir);
    const api = new ApiClient(setup.running.url);
    await api.login();
    connectionId = await connectEmulator(api, emulator, { syncIntervalMinutes: 15 });
    await setup.close();

    const scheduled = await startTestConsole({ extraCaFile: emulator.caFile, scheduler: true }, dataDir);
    try {
      const client = new ApiClient(scheduled.running.url);
      await client.login();
      let history: { runId: string; trigger: string }[] = [];
      for (let tries = 0; tries < 100 && history.length === 0; tries++) {
        history = (await client.call('GET', `/api/v1/connections/${connectionId}/sync-runs`)).body.items;
        if (history.length === 0) await sleep(50);
      }
      assert.equal(history.length, 1);
      assert.equal(history[0].trigger, 'schedule');
      const run = await waitForRun(client, history[0].runId);
      assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
      assert.equal(await openTotal(client, connectionId), emulator.state().tenants[0].findings);
      // A second request while nothing is due adds no run; "sync now" while one runs returns that run.
      const first = (await client.call('POST', `/api/v1/connections/${connectionId}/sync`, { kind: 'full' })).body.runId;
      const second = (await client.call('POST', `/api/v1/connections/${connectionId}/sync`, { kind: 'full' })).body.runId;
      assert.equal(second, first, 'never two syncs of one connection at once');
      await waitForRun(client, first);
    } finally {
      await scheduled.close();
    }
  });

  it('`sitepatch sync` reports the outcome, and exits non-zero with the diagnosis when the sync fails', async () => {
    const env = { SITEPATCH_EXTRA_CA_FILE: emulator.caFile, SITEPATCH_DATA_DIR: dataDir };
    const ok = await cli(['sync', '--connection', 'Emulated tenant', '--kind', 'full'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /✓ full sync of 'Emulated tenant' done: [\d,]+ rows read/);

    emulator.advance(6);
    emulator.faults.add({ kind: 'truncatedGzip', times: 1 });
    const failed = await cli(['sync', '--connection', connectionId, '--kind', 'full'], env);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /✗ An export file is damaged: part-\d+-.+\.json\.gz is not a complete gzip file/);
    assert.match(failed.stderr, /Fix: Sync again/);

    const unknown = await cli(['sync', '--connection', 'nobody'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /There is no connection 'nobody'\. Connections: Emulated tenant/);
  });
});
