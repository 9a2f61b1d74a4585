// Bad parameters of the exposure API answer 400 with the error shape, never 500; odd but harmless
// ones (unknown ids and connections, long or hostile free text) never answer 500 either. On both
// stores: the embedded one and PostgreSQL.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from '../helpers/console.js';
import { errorShape, getJson, Mismatches, withQuery } from '../helpers/exposure-api.js';
import { TEST_STORES } from '../helpers/postgres.js';
import { startSyncFixture, sync, type SyncFixture } from '../helpers/sync.js';

const LISTS = ['/api/v1/vulnerabilities', '/api/v1/devices', '/api/v1/software', '/api/v1/findings', '/api/v1/tenants'];
const ENDPOINTS = [...LISTS, '/api/v1/exposure/summary', '/api/v1/exposure/trend', '/api/v1/exposure/facets'];

for (const { store, label, skip } of TEST_STORES) describe(`Exposure API parameters on the ${label}`, { skip }, () => {
  let fixture: SyncFixture;
  let api: ApiClient;
  let cveId: string;
  let deviceId: string;

  before(async () => {
    fixture = await startSyncFixture({ devices: 30, seed: 'exposure-parameters', timeScale: 0.002, rateLimits: false, store });
    api = fixture.api;
    const run = await sync(api, fixture.connectionId, 'full');
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
    const finding = (await getJson(api, '/api/v1/findings?status=open&limit=1')).items[0];
    cveId = finding.cveId;
    deviceId = finding.deviceId;
  });
  after(() => fixture?.close());

  /** Probes that must answer 400 with the error shape. */
  function badRequests(): string[] {
    const paging = ['limit=0', 'limit=1001', 'limit=-1', 'limit=abc', 'limit=1.5', 'cursor=%21%21not-a-cursor%21%21', 'cursor=eyJ4IjoxfQ', 'format=xml', 'format=csv&limit=0'];
    return [
      ...LISTS.flatMap((path) => [...paging, 'sort=bogus', 'sort=--name', 'sort=exposedDevices,cvss', 'unknownParameter=1'].map((q) => withQuery(path, q))),
      ...['/api/v1/exposure/summary', '/api/v1/exposure/trend', '/api/v1/exposure/facets'].map((path) => withQuery(path, 'unknownParameter=1')),
      withQuery('/api/v1/devices', 'softwareId=google-_-chrome'),
      ...['severity=Extreme', 'severity=Critical,Bogus', 'severity=critical;drop', 'exploit=maybe', 'exploit=public,nope', 'status=bogus', 'status=fixed', 'sort=name']
        .map((q) => withQuery('/api/v1/vulnerabilities', q)),
      ...['severity=Bogus', 'status=bogus', 'sort=cvss'].map((q) => withQuery('/api/v1/devices', q)),
      ...['severity=Bogus', 'status=bogus', 'sort=lastSeen'].map((q) => withQuery('/api/v1/software', q)),
      ...['severity=Bogus', 'status=bogus', 'cursor=abc'].map((q) => withQuery('/api/v1/findings', q)),
      ...['sort=cvss'].map((q) => withQuery('/api/v1/tenants', q)),
      ...['days=0', 'days=366', 'days=-5', 'days=abc', 'days=1.5'].map((q) => withQuery('/api/v1/exposure/trend', q)),
      // A CSV export validates its parameters before it starts streaming.
      ...['/api/v1/vulnerabilities', '/api/v1/devices', '/api/v1/software', '/api/v1/findings'].map((path) => withQuery(path, 'severity=Bogus&format=csv')),
      ...LISTS.map((path) => withQuery(path, 'sort=bogus&format=csv')),
      withQuery('/api/v1/vulnerabilities', 'exploit=maybe&format=csv'), withQuery('/api/v1/devices', 'status=bogus&format=csv'),
    ];
  }

  it('answers 400 with {"error":{"code","message"}} to every bad parameter, never 500', async () => {
    const m = new Mismatches();
    let probes = 0;
    for (const path of badRequests()) {
      const response = await api.call('GET', path);
      probes++;
      if (response.status !== 400) m.add(`GET ${path} status`, 400, `${response.status} ${response.text.slice(0, 160)}`);
      else {
        const shape = errorShape(response);
        if (shape) m.note(`GET ${path}: ${shape}`);
        if (/^text\/csv/.test(String(response.headers['content-type']))) m.note(`GET ${path}: a CSV body on a 400`);
      }
    }
    assert.ok(probes > 80, `${probes} probes`);
    m.assertNone('bad parameters');
  });

  it('refuses a cursor made under another sort or for another list (400), instead of paging wrongly', async () => {
    const m = new Mismatches();
    const vulns = await getJson(api, '/api/v1/vulnerabilities?sort=cvss&limit=3');
    const devices = await getJson(api, '/api/v1/devices?limit=3');
    assert.ok(vulns.nextCursor && devices.nextCursor, 'the lists have more than one page');
    const probes = [
      `/api/v1/vulnerabilities?sort=-exposedDevices&limit=3&cursor=${encodeURIComponent(vulns.nextCursor)}`,
      `/api/v1/vulnerabilities?sort=-cvss&limit=3&cursor=${encodeURIComponent(vulns.nextCursor)}`,
      `/api/v1/vulnerabilities?limit=3&cursor=${encodeURIComponent(devices.nextCursor)}`,
      `/api/v1/software?limit=3&cursor=${encodeURIComponent(devices.nextCursor)}`,
      `/api/v1/devices?sort=name&limit=3&cursor=${encodeURIComponent(devices.nextCursor)}`,
    ];
    for (const path of probes) {
      const response = await api.call('GET', path);
      if (response.status !== 400) m.add(`GET ${path} status`, 400, `${response.status} ${response.text.slice(0, 160)}`);
      else if (errorShape(response)) m.note(`GET ${path}: ${errorShape(response)}`);
    }
    // The same cursor with its own sort still works.
    const next = await api.call('GET', `/api/v1/vulnerabilities?sort=cvss&limit=3&cursor=${encodeURIComponent(vulns.nextCursor)}`);
    m.equal('GET /api/v1/vulnerabilities?sort=cvss&limit=3&cursor=(its own) status', next.status, 200);
    m.assertNone('cursors of another sort or list');
  });

  it('answers unknown ids with 404 and harmless oddities without a 500', async () => {
    const m = new Mismatches();
    const notFound = [
      '/api/v1/vulnerabilities/CVE-1999-0000000', '/api/v1/vulnerabilities/TVM-0000-00000', `/api/v1/vulnerabilities/${'C'.repeat(3000)}`,
      '/api/v1/devices/0000000000000000000000000000000000000000', `/api/v1/devices/${deviceId}?connectionId=${randomUUID()}`,
      '/api/v1/software/nobody-_-nothing',
    ];
    for (const path of notFound) {
      const response = await api.call('GET', path);
      if (![400, 404, 414].includes(response.status)) m.add(`GET ${path.slice(0, 120)} status`, '404 (or 400, 414)', `${response.status} ${response.text.slice(0, 160)}`);
      else if (errorShape(response)) m.note(`GET ${path.slice(0, 120)}: ${errorShape(response)}`);
    }
    const odd = [
      'q=' + 'x'.repeat(5000), 'q=%00', 'q=%27%3B%20DROP%20TABLE%20finding%3B--', 'q=%25', 'q=_', 'q=%5C', 'q=%E2%80%AE%F0%9F%92%A5', 'q=',
      `connectionId=${randomUUID()}`, 'connectionId=not-a-uuid', 'connectionId=', 'limit=5&limit=6', 'sort=-cvss&sort=cvss', 'severity=', 'severity=Critical,,High',
      `cveId=${encodeURIComponent("x' OR 1=1 --")}`, 'rbacGroup=' + 'g'.repeat(2000), 'osPlatform=%00', 'softwareVersion=1.0', 'softwareId=a-_-b-_-c', 'cursor=',
      'days=365', 'days=',
      // Cursors made by hand, with values their columns cannot compare with.
      ...[['exposedDevices', true, ['x', 1e300]], ['exposure', true, [1e300, 'y', -1e300, 'z']], ['id', false, ['not-an-id']]]
        .map((position) => `cursor=${Buffer.from(JSON.stringify(position)).toString('base64url')}`),
    ];
    let probes = 0;
    for (const endpoint of ENDPOINTS) {
      for (const q of odd) {
        const path = withQuery(endpoint, q);
        const response = await api.call('GET', path);
        probes++;
        if (response.status >= 500 || ![200, 400, 404].includes(response.status)) m.add(`GET ${path.slice(0, 140)} status`, '200, 400 or 404', `${response.status} ${response.text.slice(0, 160)}`);
        else if (response.status !== 200 && errorShape(response)) m.note(`GET ${path.slice(0, 140)}: ${errorShape(response)}`);
      }
    }
    assert.ok(probes > 150, `${probes} probes`);
    // LIKE wildcards in free text are plain characters: no CVE id or device name contains them.
    for (const q of ['%25', '_', '%5C']) {
      for (const endpoint of ['/api/v1/vulnerabilities', '/api/v1/devices']) {
        const page = await getJson(api, `${endpoint}?q=${q}&limit=1`);
        m.equal(`GET ${endpoint}?q=${decodeURIComponent(q)} total (no name or id holds it)`, page.total, 0);
      }
    }
    // A hostile search for a real id still finds it.
    m.equal(`GET /api/v1/vulnerabilities?q=${cveId.toLowerCase()} finds the CVE`, (await getJson(api, `/api/v1/vulnerabilities?q=${cveId.toLowerCase()}&limit=5`)).items.some((i: any) => i.id === cveId), true);
    m.assertNone('unknown ids and oddities');
  });

  it('answers an anonymous caller 401 on every exposure route', async () => {
    const anonymous = new ApiClient(fixture.console.running.url);
    const m = new Mismatches();
    for (const path of [...ENDPOINTS, `/api/v1/vulnerabilities/${cveId}`, `/api/v1/devices/${deviceId}`, '/api/v1/software/google-_-chrome', '/api/v1/vulnerabilities?format=csv']) {
      const response = await anonymous.call('GET', path);
      m.equal(`anonymous GET ${path}`, [response.status, response.body?.error?.code], [401, 'unauthenticated']);
    }
    m.assertNone('anonymous');
  });
});
