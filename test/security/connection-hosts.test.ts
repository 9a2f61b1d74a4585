// Where a connection's credentials may go: the stored client secret only to the sign-in and API
// hosts it was checked against, the Defender access token only to the connection's API hosts, and
// neither to the export blob host.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../emulator/server.js';
import { prepareTls } from '../../emulator/tls.js';
import { apiHostsOf } from '../../src/defender/api-hosts.js';
import { CLOUD_PRESETS } from '../../src/entra/clouds.js';
import type { ApiClient, TestConsole } from '../helpers/console.js';
import type { EmulatorClient } from '../helpers/emulator-client.js';
import { openTotal, startSyncFixture, sync, type SyncFixture } from '../helpers/sync.js';

/** An HTTPS server on 127.0.0.1, under the emulator's CA, that answers every request with an empty page and counts them. */
async function countingServer(stateDir: string): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  const tls = prepareTls(stateDir);
  let requests = 0;
  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"value":[]}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe('A connection\'s API hosts', () => {
  const allows = (apiUrl: string, url: string) => apiHostsOf(apiUrl).includes(url);

  it('are the documented Defender API hosts of a preset cloud', () => {
    const { commercial, gcc, dod } = CLOUD_PRESETS;
    for (const host of ['api.security.microsoft.com', 'eu.api.security.microsoft.com', 'swa.api.security.microsoft.com', 'api.securitycenter.microsoft.com',
      'api-us.securitycenter.microsoft.com', 'api.securitycenter.windows.com', 'api-eu.securitycenter.windows.com']) {
      assert.ok(allows(commercial.apiUrl, `https://${host}/api/machines/SoftwareVulnerabilitiesByMachine?$skiptoken=x`), host);
    }
    for (const url of ['https://evil.example/api', 'https://api.security.microsoft.com.evil.example/api', 'https://eviapi.security.microsoft.com/api',
      'http://api.securitycenter.microsoft.com/api', 'https://api.securitycenter.microsoft.com:8443/api', 'https://api-gcc.securitycenter.microsoft.us/api',
      'https://wpatdadi-eus-stg.cloudapp.net/api', 'not a url']) {
      assert.equal(allows(commercial.apiUrl, url), false, url);
    }
    assert.ok(allows(gcc.apiUrl, 'https://api-gcc.security.microsoft.us/api'));
    assert.equal(allows(gcc.apiUrl, 'https://api-gov.securitycenter.microsoft.us/api'), false);
    assert.ok(allows(dod.apiUrl, 'https://api-gov.security.microsoft.us/api'));
    assert.equal(allows(dod.apiUrl, 'https://api.securitycenter.microsoft.com/api'), false);
  });

  it('are exactly the API URL\'s host and port for a custom cloud', () => {
    assert.ok(allows('https://defender.contoso.example:8443/prefix', 'https://DEFENDER.contoso.example:8443/api/x'));
    for (const url of ['https://defender.contoso.example/api', 'https://defender.contoso.example:9443/api', 'http://defender.contoso.example:8443/api',
      'https://api.securitycenter.microsoft.com/api', 'https://eu.defender.contoso.example:8443/api']) {
      assert.equal(allows('https://defender.contoso.example:8443/prefix', url), false, url);
    }
  });
});

describe('Connection credentials stay with their hosts', () => {
  let fixture: SyncFixture;
  let stateDir: string;
  let emulator: RunningEmulator;
  let raw: EmulatorClient;
  let other: Awaited<ReturnType<typeof countingServer>>;
  let console_: TestConsole;
  let api: ApiClient;
  let connectionId: string;

  before(async () => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-hosts-'));
    // More than one page (20,000 rows) of JSON export, and enough patching for a delta of more than
    // one page (2,500 changes).
    fixture = await startSyncFixture({ devices: 450, devicesPerPart: 150, patchCadence: 20, seed: 'hosts-test', timeScale: 0.002, stateDir });
    ({ emulator, raw, console: console_, api, connectionId } = fixture);
    other = await countingServer(stateDir);
  });
  afterEach(() => emulator.faults.clear());
  after(async () => {
    await fixture.close();
    await other.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  describe('the Defender access token', () => {
    async function expectForeignNextLink(endpoint: 'softwareVulnerabilitiesByMachine' | 'softwareVulnerabilityChangesByMachine', kind: 'full' | 'delta') {
      const requests = () => emulator.state().requests[endpoint] ?? 0;
      const before = requests();
      emulator.faults.add({ kind: 'foreignNextLink', endpoint });
      const run = await sync(api, connectionId, kind);
      assert.equal(run.status, 'failed', JSON.stringify(run));
      assert.equal(run.error.code, 'foreign_next_link', JSON.stringify(run.error));
      assert.match(run.error.message, /^Defender sent a next-page link to localhost:\d+, which is not this connection's API host/);
      assert.ok(run.error.fix.length > 10);
      assert.equal(requests(), before + 1, 'only the first page was requested: the foreign link was never followed');
      emulator.faults.clear();
    }

    it('never carries the token along to a download link on the blob host', async () => {
      const run = await sync(api, connectionId, 'full');
      assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
      assert.equal(run.parts.total, 3);
      assert.equal(await openTotal(api, connectionId), emulator.state().tenants[0].findings);
      assert.equal(emulator.state().exportFileAuthorizationRefused, 0, 'no download carried an Authorization header');

      // The blob host refuses such a request as Azure Storage does, and counts it.
      const token = await raw.token();
      const { exportFiles } = (await raw.get('/api/machines/SoftwareVulnerabilitiesExport', token)).json();
      const leaked = await raw.get(exportFiles[0], token);
      assert.equal(leaked.status, 403);
      assert.match(leaked.text, /<Code>AuthenticationFailed<\/Code>/);
      assert.equal(emulator.state().exportFileAuthorizationRefused, 1);
    });

    it('does not follow a next link of the JSON export off the API host', async () => {
      const patched = await api.call('PATCH', `/api/v1/connections/${connectionId}?skipCheck=true`, { exportMethod: 'json' });
      assert.equal(patched.status, 200, patched.text);
      try {
        await expectForeignNextLink('softwareVulnerabilitiesByMachine', 'full');
        const run = await sync(api, connectionId, 'full');
        assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
      } finally {
        await api.call('PATCH', `/api/v1/connections/${connectionId}?skipCheck=true`, { exportMethod: 'files' });
      }
    });

    it('does not follow a next link of the changes since the last sync off the API host', async () => {
      // A day of change batches: they come in bursts (Patch Tuesday, browser releases), so one
      // 6-hour batch alone may fit in a page.
      emulator.advance(24);
      await expectForeignNextLink('softwareVulnerabilityChangesByMachine', 'delta');
      const requests = emulator.state().requests.softwareVulnerabilityChangesByMachine ?? 0;
      const run = await sync(api, connectionId, 'delta');
      assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
      assert.equal(run.kind, 'delta');
      assert.ok((emulator.state().requests.softwareVulnerabilityChangesByMachine ?? 0) >= requests + 2, 'the delta has several pages');
      assert.equal(await openTotal(api, connectionId), emulator.state().tenants[0].findings);
    });
  });

  describe('the stored client secret', () => {
    async function expectSecretRequired(change: Record<string, unknown>, query = '') {
      const response = await api.call('PATCH', `/api/v1/connections/${connectionId}${query}`, change);
      assert.equal(response.status, 422, response.text);
      const { error } = response.body;
      assert.equal(error.code, 'secret_required', response.text);
      assert.equal(error.field, 'clientSecret');
      assert.ok(error.message.length > 10 && error.fix.length > 10, response.text);
    }

    it('is not sent to a new API or sign-in host: changing one asks for the secret again, also without checking', async () => {
      const tokenRequests = emulator.state().requests.token ?? 0;
      for (const query of ['', '?skipCheck=true']) {
        await expectSecretRequired({ apiUrl: other.url }, query);
        await expectSecretRequired({ loginUrl: other.url }, query);
        await expectSecretRequired({ cloud: 'commercial' }, query);
      }
      assert.equal(other.requests(), 0, 'nothing reached the new host');
      assert.equal(emulator.state().requests.token ?? 0, tokenRequests, 'nothing was sent to sign in either');
      const stored = (await api.call('GET', `/api/v1/connections/${connectionId}`)).body;
      assert.deepEqual([stored.cloud, stored.loginUrl, stored.apiUrl], ['custom', emulator.loginUrl, emulator.apiUrl], 'nothing changed');
    });

    it('is only checked against a new host when it comes with the change', async () => {
      const secret = emulator.apps.consented.secretValue;
      const moved = await api.call('PATCH', `/api/v1/connections/${connectionId}`, { apiUrl: other.url, clientSecret: secret });
      assert.equal(moved.status, 200, moved.text);
      assert.equal(moved.body.apiUrl, other.url);
      assert.equal(other.requests(), 1, 'the live check called the new API host');
      const back = await api.call('PATCH', `/api/v1/connections/${connectionId}?skipCheck=true`, { apiUrl: emulator.apiUrl, loginUrl: emulator.loginUrl, clientSecret: secret });
      assert.equal(back.status, 200, back.text);
      assert.equal(other.requests(), 1);
      // Unchanged endpoints, sent along as the console's form sends them, need no secret.
      const renamed = await api.call('PATCH', `/api/v1/connections/${connectionId}`, { name: 'Emulated tenant', cloud: 'custom', apiUrl: `${emulator.apiUrl}/`, loginUrl: emulator.loginUrl });
      assert.equal(renamed.status, 200, renamed.text);
    });
  });
});
