// The patch knowledge of a PostgreSQL install: two web processes share one database; the first
// imports the emulator's vendor feeds, and the second, which never imported, gives every open
// finding the same fix as an embedded console that synced the same tenant and imported the same
// feeds. The import's record is the install's, and an import from the second process (after the
// first's) leaves the answers as they were.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';
import { createTestDatabase, postgresSkip, type TestDatabase } from '../helpers/postgres.js';
import { allFindings, connectEmulator, sync } from '../helpers/sync.js';

describe('Patch knowledge on PostgreSQL, shared by the web processes', { skip: postgresSkip }, () => {
  let emulator: RunningEmulator;
  let database: TestDatabase;
  const consoles: TestConsole[] = [];
  let embedded: ApiClient;
  let first: ApiClient;
  let second: ApiClient;
  let embeddedConnection: string;
  let sharedConnection: string;

  async function importAll(api: ApiClient) {
    const started = await api.call('POST', '/api/v1/content/imports', { source: 'all' });
    assert.equal(started.status, 202, started.text);
    for (;;) {
      const status = await api.call('GET', `/api/v1/content/imports/${started.body.importId}`);
      if (status.body.status === 'succeeded' || status.body.status === 'failed') return status.body;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Each open finding's fix, by its device, software version and CVE. */
  async function fixes(api: ApiClient, connectionId: string): Promise<Map<string, string>> {
    return new Map((await allFindings(api, connectionId)).map((f) => [
      `${f.deviceId}|${f.software.vendor}|${f.software.name}|${f.software.version}|${f.cveId}`, JSON.stringify(f.fix),
    ]));
  }

  before(async () => {
    emulator = await startEmulator({ devices: 40, devicesPerPart: 20, seed: 'postgres-content', timeScale: 0.002, rateLimits: false, patchCadence: 8 });
    database = await createTestDatabase();
    const settings = { ...emulator.feeds, extraCaFile: emulator.caFile, syncTimeScale: 0.002 };
    const shared = { databaseUrl: database.url, masterKey: randomBytes(32).toString('base64') };
    consoles.push(await startTestConsole(settings), await startTestConsole({ ...settings, ...shared }), await startTestConsole({ ...settings, ...shared }));
    [embedded, first, second] = consoles.map((c) => new ApiClient(c.running.url));
    for (const api of [embedded, first, second]) assert.equal((await api.login()).status, 200);
    embeddedConnection = await connectEmulator(embedded, emulator, { name: 'Tenant A' });
    sharedConnection = await connectEmulator(first, emulator, { name: 'Tenant A' });
    for (const [api, id] of [[embedded, embeddedConnection], [first, sharedConnection]] as const) assert.equal((await sync(api, id, 'full')).status, 'succeeded');
  });
  after(async () => {
    for (const c of consoles) await c.close();
    await emulator?.close();
    await database?.drop();
  });

  it('a process that never imported answers every finding\'s fix as the embedded store does', async () => {
    for (const api of [embedded, first]) {
      const done = await importAll(api);
      assert.equal(done.status, 'succeeded', done.error);
    }
    const expected = await fixes(embedded, embeddedConnection);
    const actual = await fixes(second, sharedConnection);
    assert.equal(actual.size, expected.size);
    const differences = [...expected].filter(([key, fix]) => actual.get(key) !== fix).map(([key, fix]) => `${key}: ${fix} ≠ ${actual.get(key)}`);
    assert.deepEqual(differences.slice(0, 10), [], `${differences.length} findings differ`);
    const known = [...actual.values()].filter((fix) => JSON.parse(fix).status !== 'no_known_fix' && JSON.parse(fix).update?.kind !== 'defender');
    assert.ok(known.length > 0, 'the feeds fix some findings');
    const feeds = (await second.call('GET', '/api/v1/content/feeds')).body;
    assert.ok(feeds.items.every((f: any) => f.lastSuccess), 'the first process\'s import is the install\'s');
  });

  it('an import from the other process, after the first one\'s, changes no answer', async () => {
    const before_ = await fixes(first, sharedConnection);
    const done = await importAll(second);
    assert.equal(done.status, 'succeeded', done.error);
    assert.deepEqual(await fixes(first, sharedConnection), before_);
  });
});
