import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

  it('doctor warns when the master key sits beside the data, and not when it comes from a file elsewhere', async () => {
    const beside = await run(['doctor', '--data-dir', dataDir], '');
    assert.equal(beside.code, 0, beside.stderr);
    assert.match(beside.stdout, /sits beside the data it protects/);

    const secretsDir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-key-'));
    const keyFile = path.join(secretsDir, 'master.key');
    writeFileSync(keyFile, `\uFEFF${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const apart = await run(['doctor', '--data-dir', dataDir], '', { SITEPATCH_MASTER_KEY_FILE: keyFile });
    assert.match(apart.stdout, /kept apart from the data/);
    const missing = await run(['doctor', '--data-dir', dataDir], '', { SITEPATCH_MASTER_KEY_FILE: path.join(secretsDir, 'absent.key') });
    assert.match(missing.stdout, /kept apart/, 'doctor only looks at where the key lives');

    // A console using the mounted key never writes one into its data directory.
    const keyedData = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-keyed-'));
    const added = await run(['users', 'add', 'keyed', '--data-dir', keyedData], 'violet-anchor-quietly-folds\n', { SITEPATCH_MASTER_KEY_FILE: keyFile });
    assert.equal(added.code, 0, added.stderr);
    assert.equal(existsSync(path.join(keyedData, 'master.key')), false);
    const absent = await run(['users', 'list', '--data-dir', keyedData], '', { SITEPATCH_MASTER_KEY_FILE: path.join(secretsDir, 'absent.key') });
    assert.notEqual(absent.code, 0);
    assert.match(absent.stderr, /master key file .*absent\.key.*does not exist/);
    rmSync(secretsDir, { recursive: true, force: true });
    rmSync(keyedData, { recursive: true, force: true });
  });

  it('doctor exits non-zero with the diagnosis and the fix', async () => {
    const result = await run(doctorArgs(emulator.apps.noConsent.clientId), emulator.apps.noConsent.secretValue);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /Fix: .*Grant admin consent/);
    const secretId = await run(doctorArgs(emulator.apps.consented.clientId), emulator.apps.consented.secretId);
    assert.equal(secretId.code, 1);
    assert.match(secretId.stdout, /Secret ID/);
  });

  it('users add, token create, list and revoke give an account and a working, revocable API token', async () => {
    const added = await run(['users', 'add', 'ops', '--role', 'operator', '--data-dir', dataDir], 'violet-anchor-quietly-folds\n');
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /\(operator\)/);
    const short = await run(['users', 'add', 'ops2', '--data-dir', dataDir], 'short\n');
    assert.notEqual(short.code, 0);
    assert.match(short.stderr, /at least 12 characters/);
    const common = await run(['users', 'add', 'ops3', '--data-dir', dataDir], 'password1234\n');
    assert.notEqual(common.code, 0);
    assert.match(common.stderr, /too easy to guess/);
    const token = await run(['token', 'create', '--user', 'ops', '--name', 'ci', '--expires-in-days', '7', '--data-dir', dataDir], '');
    assert.equal(token.code, 0, token.stderr);
    assert.match(token.stdout.trim(), /^sp_/);
    assert.match(token.stderr, /role operator, all connections, expires/);
    const doomed = await run(['token', 'create', '--user', 'ops', '--name', 'doomed', '--data-dir', dataDir], '');
    const list = await run(['token', 'list', '--data-dir', dataDir], '');
    assert.match(list.stdout, /\tci\tops\toperator\tall connections\texpires \S+\tlast used never/);
    assert.equal(list.stdout.includes(token.stdout.trim()), false, 'token values are never listed');
    const doomedId = /^(\d+)\tdoomed/m.exec(list.stdout)![1];
    assert.equal((await run(['token', 'revoke', doomedId, '--data-dir', dataDir], '')).code, 0);
    const weaker = await run(['token', 'create', '--user', 'ops', '--role', 'admin', '--data-dir', dataDir], '');
    assert.notEqual(weaker.code, 0, 'a token cannot have more rights than its owner');

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
      assert.equal((await new ApiClient(url, doomed.stdout.trim()).call('GET', '/api/v1/connections')).status, 401, 'revoked');
      const login = await new ApiClient(url).login('ops', 'violet-anchor-quietly-folds');
      assert.equal(login.status, 200);
      assert.equal(login.body.user.role, 'operator');
    } finally {
      serve.kill('SIGTERM');
      await once(serve, 'exit');
    }
  });
});
