import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type SQLite from 'better-sqlite3';
import { SqliteDatabase } from '../../src/store/sqlite-driver.js';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { ApiClient, spawnConsole } from '../helpers/console.js';
import { connectEmulator, openTotal, sync, waitForRun } from '../helpers/sync.js';

describe('A sync killed with its process', () => {
  let emulator: RunningEmulator;
  let dataDir: string;
  before(async () => {
    emulator = await startEmulator({ devices: 40, devicesPerPart: 10, seed: 'kill-test', rateLimits: false });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-kill-'));
  });
  after(async () => {
    await emulator.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('leaves the old data intact, is marked interrupted on restart, and is retried', async () => {
    const env = { SITEPATCH_EXTRA_CA_FILE: emulator.caFile, SITEPATCH_SYNC_TIME_SCALE: '0.01' };
    let server = await spawnConsole(dataDir, env);
    let api = new ApiClient(server.url);
    await api.login();
    const connectionId = await connectEmulator(api, emulator);
    assert.equal((await sync(api, connectionId, 'full')).status, 'succeeded');
    const before = await openTotal(api, connectionId);
    assert.equal(before, emulator.state().tenants[0].findings);

    emulator.advance(6);
    emulator.faults.add({ kind: 'slowBody', endpoint: 'exportFile', bytesPerSecond: 20_000 });
    const { runId } = (await api.call('POST', `/api/v1/connections/${connectionId}/sync`, { kind: 'full' })).body;
    for (let run; ; await sleep(50)) {
      run = (await api.call('GET', `/api/v1/sync-runs/${runId}`)).body;
      if (run.status === 'running' && run.counts.read > 0) break;
      assert.notEqual(run.status, 'succeeded', 'the slowed sync should still be running');
    }
    server.child.kill('SIGKILL');
    await once(server.child, 'exit');

    const findings = new SqliteDatabase(path.join(dataDir, 'findings.db'), { readonly: true });
    const count = findings.prepare(`SELECT count(*) AS n FROM finding f JOIN device d ON d.ref = f.device_ref JOIN tenant t ON t.ref = d.tenant_ref WHERE t.connection_id = ? AND f.fixed_at IS NULL`).get(connectionId) as { n: number };
    findings.close();
    assert.equal(count.n, before, 'nothing of the killed sync was applied');

    emulator.faults.clear();
    server = await spawnConsole(dataDir, env);
    api = new ApiClient(server.url);
    await api.login();
    try {
      const history = (await api.call('GET', `/api/v1/connections/${connectionId}/sync-runs`)).body.items;
      const killed = history.find((r: { runId: string }) => r.runId === runId);
      assert.equal(killed.status, 'failed');
      assert.equal(killed.error.code, 'sync_interrupted');
      const retry = history.find((r: { trigger: string }) => r.trigger === 'retry after interruption');
      assert.ok(retry, 'the interrupted sync is retried');
      const done = await waitForRun(api, retry.runId);
      assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
      assert.equal(await openTotal(api, connectionId), emulator.state().tenants[0].findings);
    } finally {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
    }
  });
});
