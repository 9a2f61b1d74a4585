// The control plane (accounts, sessions, tokens, connections, audit, sync runs) gives the same
// answers on the embedded SQLite store and on PostgreSQL: one scenario runs on both, and what it
// observed is compared, with generated ids and times replaced by their order of appearance.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { createConnectionService } from '../../src/connections/service.js';
import { createSecretBox } from '../../src/connections/secret-box.js';
import { openStore, type Store } from '../../src/store/database.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/store.js';
import type { Database } from '../../src/store/schema.js';
import { createRunLog } from '../../src/sync/runs.js';
import { createAccounts } from '../../src/users/accounts.js';
import { createAuditLog } from '../../src/users/audit.js';
import { createSecuritySettings } from '../../src/users/security-settings.js';
import { createTestDatabase, postgresSkip, type TestDatabase } from '../helpers/postgres.js';

const PASSWORD = 'harbour-lantern-mosaic-drift';
const SECRET = 'abc8Q~control-plane-secret-value-0001';

/** Runs the same steps on a store and returns what each step answered. */
async function scenario(db: Kysely<Database>): Promise<unknown[]> {
  const secrets = createSecretBox(Buffer.alloc(32, 7));
  const security = createSecuritySettings(db);
  const accounts = createAccounts({ db, secrets, security });
  const audit = createAuditLog(db);
  const connections = createConnectionService({ db, secrets, audit, check: async () => { throw new Error('no live check in this test'); } });
  const runs = createRunLog(db);
  const actor = { name: 'tester', address: '127.0.0.1' };
  const origin = { address: '127.0.0.1', userAgent: 'test' };
  const seen: unknown[] = [];
  const step = async (name: string, work: () => Promise<unknown>) => {
    try {
      seen.push([name, await work()]);
    } catch (e) {
      seen.push([name, 'failed', (e as Error).message]);
    }
  };

  await step('first admin', () => accounts.createFirstAdmin('admin', PASSWORD));
  await step('first admin again', () => accounts.createFirstAdmin('admin2', PASSWORD));
  const a = await connections.create({ name: 'Tenant A', cloud: 'commercial', tenantId: '11111111-1111-4111-8111-111111111111', clientId: '22222222-2222-4222-8222-222222222222', clientSecret: SECRET }, actor, { skipCheck: true });
  const b = await connections.create({ name: 'Tenant B', cloud: 'gcc-high', tenantId: '33333333-3333-4333-8333-333333333333', clientId: '44444444-4444-4444-8444-444444444444', clientSecret: SECRET }, actor, { skipCheck: true });
  await step('duplicate connection', () => connections.create({ name: 'Again', cloud: 'commercial', tenantId: '11111111-1111-4111-8111-111111111111', clientId: '22222222-2222-4222-8222-222222222222', clientSecret: SECRET }, actor, { skipCheck: true }));
  await step('connections', () => connections.list());
  await step('connections of A', () => connections.list([a.id]));
  await step('credentials', async () => (await connections.credentials(b.id)).clientSecret === SECRET);
  await step('analyst', () => accounts.createUser({ username: 'ana', password: PASSWORD, role: 'analyst', connectionIds: [a.id] }));
  await step('operator', () => accounts.createUser({ username: 'otto', password: PASSWORD, role: 'operator', connectionIds: null }));
  await step('users', () => accounts.listUsers());
  await step('count', () => accounts.count());
  const signedIn = await accounts.login('admin', PASSWORD, origin);
  await step('session principal', () => accounts.fromSession(signedIn.sessionId));
  await step('wrong password', () => accounts.login('ana', 'not-the-password-at-all', origin));
  const token = await accounts.createToken({ username: 'ana' }, { name: 'automation', expiresInDays: 30 });
  await step('token principal', () => accounts.fromToken(token.token));
  await step('tokens', () => accounts.listTokens({ userId: 0, role: 'admin' }));
  await step('revoke', () => accounts.revokeToken({ userId: 0, role: 'admin' }, token.view.id));
  await step('revoked token', () => accounts.fromToken(token.token));
  await step('update user', async () => (await accounts.updateUser((await accounts.listUsers()).items[1].id, { role: 'operator', connectionIds: [a.id, b.id] })).changes);
  await step('sessions', async () => accounts.listSessions((await accounts.fromSession(signedIn.sessionId))!));
  const run = await runs.create(a.id, 'auto', 'schedule');
  await runs.start(run, 'full');
  await runs.progress(run, { phase: 'loading', partsTotal: 4, partsDone: 2 });
  await step('active run', () => runs.active(a.id));
  await runs.finish(run, { counts: { read: 10, added: 10, updated: 0, reopened: 0, fixed: 0 } });
  await step('last succeeded', () => runs.lastSucceeded(a.id));
  await step('runs of A', () => runs.list(a.id, 10));
  await step('remove connection', () => connections.remove(b.id, actor));
  await step('audit', () => audit.list(100));
  return seen;
}

/** The answers with times and rates left out, and generated ids and tokens replaced by their order of first appearance. */
function normalised(answers: unknown[]): unknown {
  const seen = new Map<string, string>();
  const generated = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9_-]{32,})$/;
  return JSON.parse(JSON.stringify(answers), (key, value: unknown) => {
    if (key === 'rate' || (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(value))) return '<timing>';
    // Lists of ids come sorted by id, and the ids are random: compare them as sets.
    if (Array.isArray(value) && value.length && value.every((v) => typeof v === 'string' && v.startsWith('#'))) return [...value].sort();
    if (typeof value !== 'string' || !generated.test(value)) return value;
    if (!seen.has(value)) seen.set(value, `#${seen.size}`);
    return seen.get(value);
  });
}

describe('The control plane on SQLite and on PostgreSQL', { skip: postgresSkip }, () => {
  let dataDir: string;
  let sqlite: Store;
  let database: TestDatabase;
  let postgres: PostgresStore;

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-control-'));
    sqlite = await openStore(dataDir);
    database = await createTestDatabase();
    postgres = await openPostgresStore(database.url);
  });
  after(async () => {
    await sqlite?.close();
    await postgres?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('migrates a new PostgreSQL database to this version, and again changes nothing', async () => {
    assert.deepEqual(await postgres.readinessProblems(), []);
    const again = await openPostgresStore(database.url);
    assert.deepEqual(await again.readinessProblems(), []);
    await again.close();
  });

  it('answers the same scenario the same way on both stores', async () => {
    const onSqlite = await scenario(sqlite.db);
    const onPostgres = await scenario(postgres.db);
    // Only the steps meant to fail failed.
    const failed = (answers: unknown[]) => answers.filter((a) => (a as unknown[])[1] === 'failed').map((a) => (a as unknown[])[0]);
    assert.deepEqual(failed(onSqlite), ['duplicate connection', 'wrong password']);
    assert.deepEqual(normalised(onPostgres), normalised(onSqlite));
  });
});
