import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { emulatorClient, type EmulatorClient } from '../helpers/emulator-client.js';

describe('Emulator fault switches', () => {
  let client: EmulatorClient;
  let token: string;
  let files: string[];

  before(async () => {
    client = await emulatorClient({ devices: 30, devicesPerPart: 10, rateLimits: false });
    token = await client.token();
    files = (await client.get('/api/machines/SoftwareVulnerabilitiesExport', token)).json().exportFiles;
  });
  afterEach(() => client.send('DELETE', '/_emulator/faults'));
  after(() => client.close());

  const fault = (spec: Record<string, unknown>) => client.postJson('/_emulator/faults', spec);

  it('throttle: a burst of 429s with Retry-After, then normal service', async () => {
    await fault({ kind: 'throttle', endpoint: 'softwareVulnerabilitiesByMachine', times: 2, retryAfter: 7 });
    for (let n = 0; n < 2; n++) {
      const response = await client.get('/api/machines/SoftwareVulnerabilitiesByMachine?$top=1', token);
      assert.equal(response.status, 429);
      assert.equal(response.headers['retry-after'], '7');
      assert.equal(response.json().error.code, 'TooManyRequests');
    }
    assert.equal((await client.get('/api/machines/SoftwareVulnerabilitiesByMachine?$top=1', token)).status, 200);
  });

  it('serverError: 500 and 503, only on the chosen endpoint and after the chosen request', async () => {
    await fault({ kind: 'serverError', endpoint: 'vulnerabilities', status: 503, after: 1, times: 1 });
    await fault({ kind: 'serverError', endpoint: 'exportFile', status: 500, times: 1 });
    assert.equal((await client.get('/api/vulnerabilities?$top=1', token)).status, 200);
    assert.equal((await client.get('/api/vulnerabilities?$top=1', token)).status, 503);
    assert.equal((await client.get('/api/vulnerabilities?$top=1', token)).status, 200);
    assert.equal((await client.get(files[0])).status, 500);
    assert.equal((await client.get(files[0])).status, 200);
  });

  it('forbidden: 403 with the permissions message, as when consent is revoked', async () => {
    await fault({ kind: 'forbidden', endpoint: 'softwareVulnerabilitiesExport', times: 1 });
    const response = await client.get('/api/machines/SoftwareVulnerabilitiesExport', token);
    assert.equal(response.status, 403);
    assert.match(response.json().error.message, /required application permissions \(Vulnerability\.Read\.All\)/);
  });

  it('resetMidBody: the connection drops after part of the body', async () => {
    const full = await client.get(files[0]);
    await fault({ kind: 'resetMidBody', endpoint: 'exportFile', afterBytes: 1000, times: 1 });
    const response = await request(client.url(files[0]), { dispatcher: client.dispatcher });
    assert.equal(response.statusCode, 200);
    assert.equal(Number(response.headers['content-length']), full.body.length, 'announces the whole body');
    await assert.rejects(response.body.arrayBuffer());
  });

  it('truncatedGzip: the part ends early and gunzip fails', async () => {
    await fault({ kind: 'truncatedGzip', times: 1 });
    const blob = await client.get(files[0]);
    assert.equal(blob.status, 200);
    assert.throws(() => gunzipSync(blob.body), /unexpected end of file/);
  });

  it('malformedLine: one JSON line is broken', async () => {
    await fault({ kind: 'malformedLine', line: 3, times: 1 });
    const lines = gunzipSync((await client.get(files[0])).body).toString().split('\n').filter(Boolean);
    assert.doesNotThrow(() => JSON.parse(lines[1]));
    assert.throws(() => JSON.parse(lines[2]));
    assert.doesNotThrow(() => JSON.parse(lines[3]));
  });

  it('emptyBlob: 200 with an empty body', async () => {
    await fault({ kind: 'emptyBlob', times: 1 });
    const blob = await client.get(files[0]);
    assert.equal(blob.status, 200);
    assert.equal(blob.body.length, 0);
  });

  it('shortTokens: a token valid for a few seconds', async () => {
    await fault({ kind: 'shortTokens', times: 1 });
    const response = await client.tokenRequest({ clientId: client.emulator.apps.consented.clientId, secret: client.emulator.apps.consented.secretValue });
    assert.ok(response.json().expires_in <= 5);
  });

  it('repeatingNextLink: the next link is the page just served', async () => {
    await fault({ kind: 'repeatingNextLink', endpoint: 'softwareVulnerabilitiesByMachine' });
    const url = `${client.emulator.apiUrl}/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=10`;
    const first = (await client.get(url, token)).json();
    assert.equal(first['@odata.nextLink'], url);
    await assert.rejects(client.pages(url, token), /next link repeated/);
  });

  it('foreignNextLink: next links on another host name that still reaches the service', async () => {
    await fault({ kind: 'foreignNextLink' });
    const first = (await client.get('/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=10', token)).json();
    const next = new URL(first['@odata.nextLink']);
    assert.equal(next.hostname, 'localhost');
    assert.equal((await client.get(next.href, token)).status, 200);
  });

  it('slowBody: the body trickles in many small pieces', async () => {
    await fault({ kind: 'slowBody', endpoint: 'exportFile', bytesPerSecond: 20_000, times: 1 });
    const response = await request(client.url(files[0]), { dispatcher: client.dispatcher, headers: { range: 'bytes=0-5999' } });
    let chunks = 0;
    let bytes = 0;
    for await (const chunk of response.body) {
      chunks++;
      bytes += (chunk as Buffer).length;
    }
    assert.equal(bytes, 6000);
    assert.ok(chunks >= 3, `arrived in ${chunks} pieces`);
  });

  it('rejects an unknown fault kind or endpoint with a clear message', async () => {
    const response = await fault({ kind: 'meteor' });
    assert.equal(response.status, 400);
    assert.match(response.json().message, /Unknown fault kind 'meteor'\. Known kinds: throttle/);
    assert.equal((await fault({ kind: 'throttle', endpoint: 'nowhere' })).status, 400);
    assert.deepEqual((await client.get('/_emulator/faults')).json().faults, []);
  });
});
