import assert from 'node:assert/strict';
import dns from 'node:dns';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createDispatcher } from '../../src/net/dispatcher.js';
import { confidentialClient, DEFENDER_SCOPE } from '../../src/entra/msal.js';
import { decodeJwt, emulatorClient, type EmulatorClient } from '../helpers/emulator-client.js';

/** Records every TCP connection and DNS lookup the process starts while `run` runs. */
async function recordNetwork<T>(run: () => Promise<T>): Promise<{ result: T; connections: string[]; lookups: string[] }> {
  const connections: string[] = [];
  const lookups: string[] = [];
  const originalConnect = net.Socket.prototype.connect;
  const originalLookup = dns.lookup;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const options = (typeof args[0] === 'object' ? args[0] : { port: args[0], host: args[1] }) as { host?: string; port?: number };
    connections.push(`${options.host ?? 'localhost'}:${options.port}`);
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof originalConnect;
  (dns as { lookup: unknown }).lookup = (hostname: string, ...rest: unknown[]) => {
    lookups.push(hostname);
    return (originalLookup as (...a: unknown[]) => void)(hostname, ...rest);
  };
  try {
    return { result: await run(), connections, lookups };
  } finally {
    net.Socket.prototype.connect = originalConnect;
    (dns as { lookup: unknown }).lookup = originalLookup;
  }
}

describe('MSAL against the emulator', () => {
  let client: EmulatorClient;
  before(async () => { client = await emulatorClient(); });
  after(() => client.close());

  it('acquires a Defender token with @azure/msal-node and connects nowhere but the emulator', async () => {
    const { emulator } = client;
    const dispatcher = createDispatcher({ extraCaPem: emulator.caPem });
    const app = confidentialClient({ loginUrl: emulator.loginUrl, tenantId: emulator.tenantId, clientId: emulator.apps.consented.clientId, clientSecret: emulator.apps.consented.secretValue }, dispatcher);
    const before = (await client.get('/_emulator/state')).json().requests.token ?? 0;
    const { result, connections, lookups } = await recordNetwork(() => app.acquireTokenByClientCredential({ scopes: [DEFENDER_SCOPE] }));
    assert.ok(result?.accessToken);
    assert.equal(decodeJwt(result.accessToken).payload.tid, emulator.tenantId);
    assert.ok(decodeJwt(result.accessToken).payload.roles.includes('Vulnerability.Read.All'));
    const port = new URL(emulator.loginUrl).port;
    assert.ok(connections.length > 0, 'the token request was observed');
    assert.deepEqual([...new Set(connections)], [`127.0.0.1:${port}`]);
    assert.deepEqual(lookups, []);
    assert.equal((await client.get('/_emulator/state')).json().requests.token, before + 1, 'exactly one token request, no discovery');
    await dispatcher.close();
  });

  it('surfaces the AADSTS code of a Secret ID pasted as the secret', async () => {
    const { emulator } = client;
    const dispatcher = createDispatcher({ extraCaPem: emulator.caPem });
    const app = confidentialClient({ loginUrl: emulator.loginUrl, tenantId: emulator.tenantId, clientId: emulator.apps.consented.clientId, clientSecret: emulator.apps.consented.secretId }, dispatcher);
    await assert.rejects(app.acquireTokenByClientCredential({ scopes: [DEFENDER_SCOPE] }), (e: { errorNo?: string; errorCode?: string }) => {
      assert.equal(String(e.errorNo), '7000215');
      assert.equal(e.errorCode, 'invalid_client');
      return true;
    });
    await dispatcher.close();
  });
});
