import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';

describe('Defender Access Settings API', () => {
  let emulator: RunningEmulator;
  let otherEmulator: RunningEmulator;
  let console_: TestConsole;
  let api: ApiClient;
  let stateDir: string;
  const secrets: string[] = [];

  before(async () => {
    // Two emulators under one CA: a different "cloud" the console trusts but whose API rejects the first one's tokens.
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-two-clouds-'));
    emulator = await startEmulator({ devices: 10, seed: 'console-test', stateDir });
    otherEmulator = await startEmulator({ devices: 10, seed: 'other-cloud', stateDir });
    console_ = await startTestConsole({ extraCaFile: emulator.caFile });
    api = new ApiClient(console_.running.url);
    assert.equal((await api.login()).status, 200);
    for (const app of Object.values(emulator.apps)) secrets.push(app.secretValue);
  });
  after(async () => {
    await console_.close();
    await emulator.close();
    await otherEmulator.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const fields = (app = emulator.apps.consented, overrides: Record<string, unknown> = {}) => ({
    name: 'Contoso', cloud: 'custom', loginUrl: emulator.loginUrl, apiUrl: emulator.apiUrl,
    tenantId: emulator.tenantId, clientId: app.clientId, clientSecret: app.secretValue, ...overrides,
  });

  async function expectDiagnosis(body: Record<string, unknown>, code: string, step?: string) {
    const response = await api.call('POST', '/api/v1/connections', body);
    assert.equal(response.status, 422, response.text);
    assert.equal(response.body.error.code, code, response.text);
    assert.ok(response.body.error.message.length > 10);
    assert.ok(response.body.error.fix.length > 10);
    if (step) assert.equal(response.body.error.step, step);
    return response.body.error;
  }

  it('checks input before any network call, at each field', async () => {
    const tokenRequests = () => emulator.state().requests.token ?? 0;
    const before = tokenRequests();
    const error = await expectDiagnosis(fields(undefined, { tenantId: 'not a tenant', clientId: '12345' }), 'invalid_input');
    assert.ok(error.fields.tenantId && error.fields.clientId);
    const secretId = await expectDiagnosis(fields(undefined, { clientSecret: emulator.apps.consented.secretId }), 'secret_id_not_value', 'client-secret');
    assert.match(secretId.message, /Secret ID/);
    assert.match(secretId.fix, /Value/);
    assert.equal(secretId.field, 'clientSecret');
    assert.equal(tokenRequests(), before, 'no token request was made');
  });

  it('trims spaces and quotes from pasted values', async () => {
    const response = await api.call('POST', '/api/v1/connections?skipCheck=true', fields(undefined, {
      tenantId: `  "${emulator.tenantId.toUpperCase()}" `, clientId: ` '${emulator.apps.consented.clientId}'\u200B`, name: 'Trim test',
    }));
    assert.equal(response.status, 201, response.text);
    assert.equal(response.body.tenantId, emulator.tenantId);
    assert.equal(response.body.clientId, emulator.apps.consented.clientId);
    assert.equal((await api.call('DELETE', `/api/v1/connections/${response.body.id}`)).status, 204);
  });

  it('diagnoses each broken Entra setup, and stores nothing', async () => {
    const auditBefore = (await api.call('GET', '/api/v1/audit-events')).body.total;
    await expectDiagnosis(fields(undefined, { tenantId: '11111111-2222-4333-8444-555555555555' }), 'tenant_not_found', 'tenant-id');
    await expectDiagnosis(fields(undefined, { clientId: '0bad0bad-0000-4000-8000-000000000000' }), 'app_not_found', 'application-id');
    const wrongSecret = await expectDiagnosis(fields(undefined, { clientSecret: 'abc8Q~this-is-not-the-secret-value-at-all00' }), 'invalid_secret', 'client-secret');
    assert.match(wrongSecret.fix, /Secret ID/);
    const expired = await expectDiagnosis(fields(emulator.apps.expiredSecret), 'secret_expired', 'client-secret');
    assert.match(expired.fix, /Certificates & secrets/);
    const other = emulator.tenants.find((t) => !t.defenderProvisioned)!;
    await expectDiagnosis(fields(other.apps.consented, { tenantId: other.tenantId }), 'defender_not_provisioned', 'defender');
    const consent = await expectDiagnosis(fields(emulator.apps.noConsent), 'consent_missing', 'admin-consent');
    assert.match(consent.fix, /Grant admin consent/);
    await expectDiagnosis(fields(emulator.apps.disabled), 'app_disabled', 'application-id');

    const list = await api.call('GET', '/api/v1/connections');
    assert.deepEqual(list.body, { items: [], total: 0, nextCursor: null });
    assert.equal((await api.call('GET', '/api/v1/audit-events')).body.total, auditBefore, 'no change was recorded');
  });

  it('diagnoses 401 and 403 from the Defender API', async () => {
    // A token from one cloud does not open another cloud's API: here, another emulator's.
    await expectDiagnosis(fields(undefined, { apiUrl: otherEmulator.apiUrl }), 'api_unauthorized', 'cloud');
    emulator.faults.add({ kind: 'forbidden', endpoint: 'vulnerabilities', times: 1 });
    const forbidden = await expectDiagnosis(fields(), 'api_forbidden', 'admin-consent');
    assert.match(forbidden.message, /Vulnerability\.Read\.All/);
  });

  it('diagnoses unreachable hosts, untrusted TLS and a failing proxy', async () => {
    await expectDiagnosis(fields(undefined, { loginUrl: 'https://127.0.0.1:1' }), 'network_error', 'network');

    const untrusting = await startTestConsole();
    try {
      const client = new ApiClient(untrusting.running.url);
      await client.login();
      const response = await client.call('POST', '/api/v1/connections', fields());
      assert.equal(response.body.error.code, 'tls_error');
      assert.match(response.body.error.fix, /SITEPATCH_EXTRA_CA_FILE/);
    } finally {
      await untrusting.close();
    }

    const proxy: Server = createServer((_req, res) => res.writeHead(407, { 'proxy-authenticate': 'Basic' }).end());
    proxy.on('connect', (_req, socket) => socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n'));
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxied = await startTestConsole({ extraCaFile: emulator.caFile, httpsProxy: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    try {
      const client = new ApiClient(proxied.running.url);
      await client.login();
      const response = await client.call('POST', '/api/v1/connections', fields());
      assert.equal(response.body.error.code, 'proxy_error', response.text);
      assert.match(response.body.error.fix, /HTTPS_PROXY/);
    } finally {
      await proxied.close();
      proxy.close();
    }
  });

  it('saves the consented app after the live check; edits, tests, replaces the secret and removes', async () => {
    const created = await api.call('POST', '/api/v1/connections', fields());
    assert.equal(created.status, 201, created.text);
    const connection = created.body;
    assert.equal(connection.status, 'connected');
    assert.deepEqual(Object.keys(connection.secret).sort(), ['expiresOn', 'hint', 'set', 'setAt']);
    assert.equal(connection.secret.hint, emulator.apps.consented.secretValue.slice(0, 3));
    assert.equal((await api.call('POST', '/api/v1/connections', fields())).status, 409, 'the same tenant and app twice');

    const renamed = await api.call('PATCH', `/api/v1/connections/${connection.id}`, { name: 'Contoso EU' });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.name, 'Contoso EU');
    assert.equal(renamed.body.tenantId, emulator.tenantId);

    // A bad replacement secret is refused and the stored one stays.
    const refused = await api.call('PATCH', `/api/v1/connections/${connection.id}`, { clientSecret: emulator.apps.noConsent.secretValue });
    assert.equal(refused.status, 422);
    assert.equal((await api.call('POST', `/api/v1/connections/${connection.id}/test`)).status, 200);

    const soon = new Date(Date.now() + 10 * 24 * 3600_000).toISOString().slice(0, 10);
    const replaced = await api.call('PATCH', `/api/v1/connections/${connection.id}`, { clientSecret: emulator.apps.consented.secretValue, secretExpiresOn: soon });
    assert.equal(replaced.status, 200, replaced.text);
    assert.equal(replaced.body.warnings[0].code, 'secret_expiring');
    assert.match(replaced.body.warnings[0].message, /in 10 days/);

    const audit = (await api.call('GET', '/api/v1/audit-events')).body.items as { action: string; actor: string; details: any }[];
    const update = audit.find((e) => e.action === 'connection.update' && e.details.changes.clientSecret);
    assert.equal(update?.details.changes.clientSecret, 'replaced');
    assert.equal(update?.actor, 'admin');
    assert.deepEqual(audit.find((e) => e.action === 'connection.update' && e.details.changes.name)?.details.changes.name, { from: 'Contoso', to: 'Contoso EU' });

    assert.equal((await api.call('DELETE', `/api/v1/connections/${connection.id}`)).status, 204);
    assert.equal((await api.call('GET', `/api/v1/connections/${connection.id}`)).status, 404);
  });

  it('"Save without checking" stores a connection that fails the check, and its test shows the expired-secret banner', async () => {
    const saved = await api.call('POST', '/api/v1/connections?skipCheck=true', fields(emulator.apps.expiredSecret, { name: 'Unchecked' }));
    assert.equal(saved.status, 201, saved.text);
    assert.equal(saved.body.status, 'unchecked');
    const tested = await api.call('POST', `/api/v1/connections/${saved.body.id}/test`);
    assert.equal(tested.status, 422);
    assert.equal(tested.body.error.code, 'secret_expired');
    const after = (await api.call('GET', `/api/v1/connections/${saved.body.id}`)).body;
    assert.equal(after.status, 'failed');
    assert.equal(after.warnings[0].code, 'secret_expired');
    await api.call('DELETE', `/api/v1/connections/${saved.body.id}`);
  });

  it('never lets a secret out: not in the database file, the log or any API response', async () => {
    const created = await api.call('POST', '/api/v1/connections', fields(undefined, { name: 'Secret scan' }));
    assert.equal(created.status, 201);
    await api.call('GET', '/api/v1/connections');
    await api.call('GET', `/api/v1/connections/${created.body.id}`);
    await api.call('GET', '/api/v1/audit-events');
    await api.call('GET', '/api/v1/openapi.json');
    await console_.running.services.store!.sqlite.pragma('wal_checkpoint(FULL)');
    const files = readdirSync(console_.dataDir).filter((f) => f.includes('.db')).map((f) => readFileSync(path.join(console_.dataDir, f)));
    assert.ok(files.length > 0);
    const log = console_.log();
    assert.ok(log.includes('/api/v1/connections'), 'the log was captured');
    for (const secret of secrets) {
      for (const file of files) assert.equal(file.includes(Buffer.from(secret)), false, 'secret in the database file');
      assert.equal(log.includes(secret), false, 'secret in the log');
      for (const text of api.transcript) assert.equal(text.includes(secret), false, 'secret in an API response');
    }
  });

  it('protects session requests against CSRF; API tokens need no CSRF header', async () => {
    const noHeader = await api.call('POST', '/api/v1/connections', fields(), { 'x-csrf-token': 'wrong' });
    assert.equal(noHeader.status, 403);
    assert.equal(noHeader.body.error.code, 'csrf_failed');
    const { token } = await console_.running.services.accounts.createToken({ username: 'admin' }, { name: 'ci' });
    const automation = new ApiClient(console_.running.url, token);
    assert.equal((await automation.call('GET', '/api/v1/connections')).status, 200);
    assert.equal((await new ApiClient(console_.running.url, 'sp_wrong').call('GET', '/api/v1/connections')).status, 401);
  });

  it('throttles failed sign-ins', async () => {
    const client = new ApiClient(console_.running.url);
    for (let attempt = 0; attempt < 5; attempt++) assert.equal((await client.login('admin', 'wrong password!')).status, 401);
    const throttled = await client.login('admin', 'wrong password!');
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers['retry-after']) > 0);
  });
});
