// `sitepatch migrate-store --to postgres://…`: an embedded install that has synced (a full sync,
// an advance and a delta), with users, a token and an exception, is copied into PostgreSQL. The
// console on the copy answers every exposure read exactly as the embedded one did, its accounts,
// token and connection secret work, and the source files are byte for byte what they were. A
// target that already holds an install is refused, and a copy whose counts do not match (a source
// with a finding whose device is gone) fails and leaves the target empty.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { SqliteDatabase } from '../../src/store/sqlite-driver.js';
import { runCli } from '../helpers/cli.js';
import { ADMIN_PASSWORD, ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';
import { compareAnswers, readAllAnswers, type ApiAnswers } from '../helpers/exposure-api.js';
import { createTestDatabase, postgresSkip, type TestDatabase } from '../helpers/postgres.js';
import { connectEmulator, sync } from '../helpers/sync.js';

const SCOPES = (connectionId: string) => ['', `connectionId=${connectionId}`];


const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

async function countInstall(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query('SELECT (SELECT count(*) FROM "user") + (SELECT count(*) FROM connection) + (SELECT count(*) FROM vuln.finding) AS n')).rows[0].n);
  } finally {
    await client.end();
  }
}

describe('migrate-store: an embedded install copied into PostgreSQL', { skip: postgresSkip }, () => {
  let emulator: RunningEmulator;
  let source: TestConsole;
  let copy: TestConsole | undefined;
  let database: TestDatabase;
  let dataDir: string;
  let connectionId: string;
  let token: string;
  let before_: ApiAnswers;
  const digests = new Map<string, string>();

  before(async () => {
    emulator = await startEmulator({ devices: 60, devicesPerPart: 20, seed: 'migrate-store', timeScale: 0.002, rateLimits: false, patchCadence: 8 });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-migrate-'));
    source = await startTestConsole({ extraCaFile: emulator.caFile, syncTimeScale: 0.002 }, dataDir);
    const admin = new ApiClient(source.running.url);
    assert.equal((await admin.login()).status, 200);
    connectionId = await connectEmulator(admin, emulator, { name: 'Tenant A' });
    assert.equal((await sync(admin, connectionId, 'full')).status, 'succeeded');
    emulator.advance(6);
    assert.equal((await sync(admin, connectionId, 'delta')).status, 'succeeded');
    const created = await admin.call('POST', '/api/v1/tokens', { name: 'migrated', expiresInDays: 30 });
    assert.equal(created.status, 201, created.text);
    token = created.body.token;
    before_ = await readAllAnswers(new ApiClient(source.running.url, token), SCOPES(connectionId));
    await source.close();
    for (const file of ['sitepatch.db', 'findings.db']) digests.set(file, digest(path.join(dataDir, file)));
    database = await createTestDatabase();
  });
  after(async () => {
    await copy?.close();
    await emulator?.close();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('copies with progress and verified counts, and leaves the source files as they were', async () => {
    const result = await runCli(['migrate-store', '--data-dir', dataDir, '--to', database.url]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /finding… \(/, 'a line per table when not on a terminal');
    assert.match(result.stderr, /Copied and verified in/);
    assert.match(result.stderr, /^ {2}finding +[\d,]+$/m);
    assert.match(result.stderr, /SITEPATCH_MASTER_KEY_FILE=.*master\.key/);
    assert.doesNotMatch(result.stderr, new RegExp(new URL(database.url).password), 'the database password is not printed');
    for (const [file, was] of digests) assert.equal(digest(path.join(dataDir, file)), was, `${file} is unchanged`);
  });

  it('serves the same answers from the copy, with the copied accounts, token and connection secret', async () => {
    copy = await startTestConsole({ databaseUrl: database.url, masterKeyFile: path.join(dataDir, 'master.key'), extraCaFile: emulator.caFile, syncTimeScale: 0.002 });
    const admin = new ApiClient(copy.running.url);
    assert.equal((await admin.login('admin', ADMIN_PASSWORD)).status, 200, 'the administrator signs in with the password set on the embedded install');
    const after_ = await readAllAnswers(new ApiClient(copy.running.url, token), SCOPES(connectionId), before_.ids);
    assert.deepEqual(compareAnswers(before_, after_), [], 'every exposure read answers as it did');
    // The secret opens with the install's key: the copy's worker syncs the tenant.
    emulator.advance(6);
    const run = await sync(admin, connectionId, 'delta');
    assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
  });

  it('refuses a target that already holds an install', async () => {
    const again = await runCli(['migrate-store', '--data-dir', dataDir, '--to', database.url]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already holds an install/);
  });

  it('fails on a count that does not match and leaves the target empty', async () => {
    const broken = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-migrate-broken-'));
    const target = await createTestDatabase();
    try {
      cpSync(dataDir, broken, { recursive: true });
      const findings = new SqliteDatabase(path.join(broken, 'findings.db'));
      const device = findings.prepare('SELECT device_ref FROM finding LIMIT 1').pluck().get();
      findings.prepare('DELETE FROM installation WHERE device_ref = ?').run(device);
      findings.prepare('DELETE FROM device WHERE ref = ?').run(device);
      findings.close();
      const result = await runCli(['migrate-store', '--data-dir', broken, '--to', target.url]);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /finding: the embedded store holds [\d,]+ rows, but [\d,]+ arrived; nothing was copied/);
      assert.equal(await countInstall(target.url), 0, 'no user, connection or finding of the failed copy stays');
    } finally {
      rmSync(broken, { recursive: true, force: true });
      await target.drop();
    }
  });
});
