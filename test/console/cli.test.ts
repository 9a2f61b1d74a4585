import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { ApiClient } from '../helpers/console.js';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/sitepatch.js');

/** Runs the CLI with `input` on stdin; resolves with its exit code and output. */
async function run(args: string[], input: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdin.end(input);
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stdout, stderr };
}

describe('sitepatch doctor, users add, token create, serve', () => {
  let emulator: RunningEmulator;
  let dataDir: string;
  before(async () => {
    emulator = await startEmulator({ devices: 5, seed: 'cli-console' });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-cli-'));
  });
  after(async () => {
    await emulator.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const doctorArgs = (clientId: string) => ['doctor', '--cloud', 'custom', '--login-url', emulator.loginUrl, '--api-url', emulator.apiUrl,
    '--tenant-id', emulator.tenantId, '--client-id', clientId, '--extra-ca-file', emulator.caFile];

  it('doctor passes for the consented app, reading the secret from stdin', async () => {
    const result = await run(doctorArgs(emulator.apps.consented.clientId), `${emulator.apps.consented.secretValue}\n`);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /the connection works/);
    assert.equal((result.stdout + result.stderr).includes(emulator.apps.consented.secretValue), false);
  });

  it('doctor exits non-zero with the diagnosis and the fix', async () => {
    const result = await run(doctorArgs(emulator.apps.noConsent.clientId), emulator.apps.noConsent.secretValue);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /Fix: .*Grant admin consent/);
    const secretId = await run(doctorArgs(emulator.apps.consented.clientId), emulator.apps.consented.secretId);
    assert.equal(secretId.code, 1);
    assert.match(secretId.stdout, /Secret ID/);
  });

  it('users add and token create give an account and a working API token', async () => {
    const added = await run(['users', 'add', 'ops', '--data-dir', dataDir], 'a-long-enough-password\n');
    assert.equal(added.code, 0, added.stderr);
    const short = await run(['users', 'add', 'ops2', '--data-dir', dataDir], 'short\n');
    assert.notEqual(short.code, 0);
    assert.match(short.stderr, /at least 8 characters/);
    const token = await run(['token', 'create', '--user', 'ops', '--name', 'ci', '--data-dir', dataDir], '');
    assert.equal(token.code, 0, token.stderr);
    assert.match(token.stdout.trim(), /^sp_/);

    const serve = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let banner = '';
      for await (const chunk of serve.stderr) {
        banner += chunk;
        if (/SitePatch console: (http\S+)/.test(banner)) break;
      }
      const url = /SitePatch console: (http\S+)/.exec(banner)![1];
      const client = new ApiClient(url, token.stdout.trim());
      assert.equal((await client.call('GET', '/api/v1/connections')).status, 200);
      const login = await new ApiClient(url).login('ops', 'a-long-enough-password');
      assert.equal(login.status, 200);
    } finally {
      serve.kill('SIGTERM');
      await once(serve, 'exit');
    }
  });
});
