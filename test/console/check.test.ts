import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { checkConnection } from '../../src/connections/check.js';
import { diagnoseTransport } from '../../src/connections/diagnosis.js';
import { createDispatcher } from '../../src/net/dispatcher.js';

describe('Connection check against the emulator', () => {
  let emulator: RunningEmulator;
  before(async () => { emulator = await startEmulator({ devices: 5, seed: 'check-test' }); });
  after(() => emulator.close());

  const target = (overrides: Record<string, string> = {}) => ({
    cloud: 'custom' as const, loginUrl: emulator.loginUrl, apiUrl: emulator.apiUrl, tenantId: emulator.tenantId,
    clientId: emulator.apps.consented.clientId, clientSecret: emulator.apps.consented.secretValue, ...overrides,
  });

  it('passes for the consented app and reports its roles', async () => {
    const dispatcher = createDispatcher({ extraCaPem: emulator.caPem });
    const result = await checkConnection(target(), { dispatcher });
    assert.ok(result.ok && result.roles.includes('Vulnerability.Read.All'));
    await dispatcher.close();
  });

  it('reads AADSTS900023 (a tenant that is no DNS name) as a wrong tenant', async () => {
    const dispatcher = createDispatcher({ extraCaPem: emulator.caPem });
    const result = await checkConnection(target({ tenantId: 'undefined' }), { dispatcher });
    assert.ok(!result.ok);
    assert.equal(result.diagnosis.code, 'tenant_not_found');
    assert.match(result.diagnosis.fix, /cloud/);
    await dispatcher.close();
  });

  it('reads the Secret ID sent to Entra as an invalid secret that names the Secret ID', async () => {
    const dispatcher = createDispatcher({ extraCaPem: emulator.caPem });
    const result = await checkConnection(target({ clientSecret: emulator.apps.consented.secretId }), { dispatcher });
    assert.ok(!result.ok);
    assert.equal(result.diagnosis.code, 'invalid_secret');
    assert.match(result.diagnosis.fix, /not its Secret ID/);
    await dispatcher.close();
  });
});

describe('Transport diagnoses', () => {
  it('names DNS, refused connections, TLS and proxy failures', () => {
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND login.microsoftonline.com'), { code: 'ENOTFOUND' });
    assert.match(diagnoseTransport(dns, 'login.microsoftonline.com', undefined).message, /does not resolve \(DNS\)/);
    const wrapped = Object.assign(new Error('fetch failed'), { cause: dns });
    assert.equal(diagnoseTransport(wrapped, 'login.microsoftonline.com', undefined).code, 'network_error');
    const tls = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    assert.equal(diagnoseTransport(tls, 'login.microsoftonline.com', 'http://proxy:3128').code, 'tls_error');
    const proxy = new Error('Proxy response (407) !== 200 when HTTP Tunneling');
    assert.equal(diagnoseTransport(proxy, 'login.microsoftonline.com', 'http://proxy.corp:3128').code, 'proxy_error');
  });
});
