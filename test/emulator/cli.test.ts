import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import readline from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { readFileSync } from 'node:fs';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/sitepatch.js');

describe('sitepatch emulator (CLI)', () => {
  it('prints the connection details as its first stdout line and serves until killed', async () => {
    const child = spawn(process.execPath, [bin, 'emulator', '--port', '0', '--devices', '10', '--seed', 'cli-test'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const [line] = await once(readline.createInterface({ input: child.stdout! }), 'line');
      const info = JSON.parse(line as string);
      assert.match(info.loginUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.match(info.apiUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.match(info.tenantId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      for (const kind of ['consented', 'noConsent', 'expiredSecret']) {
        assert.match(info.apps[kind].clientId, /^[0-9a-f-]{36}$/);
        assert.match(info.apps[kind].secretId, /^[0-9a-f-]{36}$/);
        assert.match(info.apps[kind].secretValue, /^.{3}\dQ~.{34}$/);
      }
      const dispatcher = new Agent({ connect: { ca: readFileSync(info.caFile, 'utf8') } });
      const response = await request(`${info.apiUrl}/_emulator/state`, { dispatcher });
      const state = await response.body.json() as { tenants: { devices: number; findings: number }[] };
      assert.equal(state.tenants[0].devices, 10);
      assert.ok(state.tenants[0].findings > 0);
      await dispatcher.close();
      assert.equal(child.exitCode, null, 'still running');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('is deterministic from --seed', async () => {
    const first = async (seed: string) => {
      const child = spawn(process.execPath, [bin, 'emulator', '--devices', '10', '--seed', seed], { stdio: ['ignore', 'pipe', 'inherit'] });
      const [line] = await once(readline.createInterface({ input: child.stdout! }), 'line');
      child.kill('SIGTERM');
      await once(child, 'exit');
      const { loginUrl: _l, apiUrl: _a, blobUrl: _b, caFile: _c, feeds: _f, ...rest } = JSON.parse(line as string);
      return rest;
    };
    assert.deepEqual(await first('alpha'), await first('alpha'));
    assert.notDeepEqual(await first('alpha'), await first('beta'));
  });

  it('documents every switch in --help', () => {
    const help = spawnSync(process.execPath, [bin, 'emulator', '--help'], { encoding: 'utf8' }).stdout;
    const flags = ['--port', '--host', '--devices', '--seed', '--tenants', '--start-time', '--patch-cadence', '--devices-per-part', '--time-scale',
      '--no-rate-limits', '--rate-limit', '--token-lifetime', '--sas-policy', '--vulnerabilities-max-top', '--unknown-tenant-error',
      '--description-separator', '--accept-xdr-audience', '--state-dir', '--fault'];
    for (const flag of flags) assert.ok(help.includes(flag), flag);
    for (const kind of ['throttle', 'serverError', 'forbidden', 'resetMidBody', 'slowBody', 'truncatedGzip', 'malformedLine', 'emptyBlob', 'expiredSas', 'shortTokens', 'repeatingNextLink', 'foreignNextLink']) {
      assert.ok(help.includes(kind), kind);
    }
    assert.match(help, /\/_emulator\/advance/);
  });

  it('rejects a bad flag with a clear message and a non-zero exit', () => {
    const run = spawnSync(process.execPath, [bin, 'emulator', '--devices', 'many'], { encoding: 'utf8' });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /--devices.*expected an integer/);
  });
});
