// Three `sitepatch worker` processes against one PostgreSQL and 20 emulated tenants: each schedule
// tick syncs every tenant exactly once, whichever worker takes it; a worker killed with SIGKILL in
// the middle of a sync loses nothing, since another worker runs that sync again from the start;
// and every tenant's copy holds exactly the emulator's findings, none lost and none twice.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { createSecretBox } from '../../src/connections/secret-box.js';
import { createConnectionService } from '../../src/connections/service.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/store.js';
import { createRunLog } from '../../src/sync/runs.js';
import { createAuditLog } from '../../src/users/audit.js';
import { queueDueSyncs } from '../../src/workers/scheduler.js';
import { openSyncQueue, type SyncQueue } from '../../src/workers/sync-queue.js';
import { runCli, SITEPATCH_BIN } from '../helpers/cli.js';
import { ApiClient } from '../helpers/console.js';
import { getJson } from '../helpers/exposure-api.js';
import { createTestDatabase, postgresSkip, type TestDatabase } from '../helpers/postgres.js';
import { waitForRun } from '../helpers/sync.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/feeds/', import.meta.url));
const TENANTS = 20;
const HEARTBEAT_SECONDS = 10;

interface Worker {
  child: ChildProcess;
  /** The worker's log lines so far. */
  lines: { msg: string; runId?: string; pid?: number; opsUrl?: string }[];
}

describe('Sync workers on PostgreSQL', { skip: postgresSkip }, () => {
  let database: TestDatabase;
  let store: PostgresStore;
  let queue: SyncQueue;
  let emulator: RunningEmulator;
  let dataDir: string;
  const workers: Worker[] = [];
  const masterKey = randomBytes(32).toString('base64');
  const connectionOf = new Map<string, string>();

  before(async () => {
    database = await createTestDatabase();
    store = await openPostgresStore(database.url);
    queue = await openSyncQueue(database.url, { heartbeatSeconds: HEARTBEAT_SECONDS, onError: () => undefined });
    emulator = await startEmulator({ tenants: TENANTS, devices: 8, devicesPerPart: 3, seed: 'workers', patchCadence: 4, timeScale: 0.01 });
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-workers-'));
    const caFile = path.join(dataDir, 'emulator-ca.pem');
    writeFileSync(caFile, emulator.caPem);

    const connections = createConnectionService({
      db: store.db, secrets: createSecretBox(Buffer.from(masterKey, 'base64')), audit: createAuditLog(store.db),
      check: async () => { throw new Error('saved without the live check'); },
    });
    const customers = emulator.tenants.filter((t) => t.defenderProvisioned);
    assert.equal(customers.length, TENANTS);
    for (const tenant of customers) {
      const app = tenant.apps.consented!;
      const created = await connections.create({
        name: tenant.displayName, cloud: 'custom', tenantId: tenant.tenantId, clientId: app.clientId, clientSecret: app.secretValue,
        loginUrl: emulator.loginUrl, apiUrl: emulator.apiUrl,
      }, { name: 'test', address: '127.0.0.1' }, { skipCheck: true });
      connectionOf.set(tenant.tenantId, created.id);
    }

    for (let i = 0; i < 3; i++) {
      // The test ticks the schedule itself, so that it knows when a tick happens.
      const child = spawn(process.execPath, [SITEPATCH_BIN, 'worker', '--data-dir', path.join(dataDir, `worker-${i}`)], {
        env: {
          ...process.env, SITEPATCH_DATABASE_URL: database.url, SITEPATCH_MASTER_KEY: masterKey, SITEPATCH_EXTRA_CA_FILE: caFile,
          SITEPATCH_SCHEDULER: 'false', SITEPATCH_WORKER_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS), SITEPATCH_SYNC_TIME_SCALE: '0.01',
          SITEPATCH_LOG_LEVEL: 'info', SITEPATCH_WORKER_PORT: '0',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const worker: Worker = { child, lines: [] };
      let pending = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        const text = pending + chunk.toString('utf8');
        const complete = text.split('\n');
        pending = complete.pop()!;
        for (const line of complete) if (line.trim()) worker.lines.push(JSON.parse(line));
      });
      workers.push(worker);
    }
    await Promise.all(workers.map((w) => until(() => w.lines.some((l) => l.msg === 'worker started'), 30_000, 'the workers start')));
  });

  after(async () => {
    await Promise.all(workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).map(async (w) => {
      const exited = new Promise((resolve) => w.child.once('exit', resolve));
      w.child.kill('SIGTERM');
      await exited;
    }));
    await queue?.stop(1);
    await emulator?.close();
    await store?.close();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) {
        const statuses = (await runsOf()).map((r) => `${r.status}${r.error_message ? ` (${r.error_message})` : ''}`).join(', ');
        const logs = workers.map((w, i) => `worker ${i}: ${w.lines.slice(-3).map((l) => JSON.stringify(l)).join(' ')}`).join('\n');
        throw new Error(`timed out waiting until ${what}; runs: ${statuses}\n${logs}`);
      }
      await sleep(200);
    }
  }

  const runsOf = async () => (await sql<{ id: string; connection_id: string; status: string; error_message: string | null }>`SELECT id, connection_id, status, error_message FROM sync_run ORDER BY created_at`.execute(store.db)).rows;

  /** One tick of the schedule at `now`, from three processes at once (as three workers would). */
  async function tick(now: number): Promise<string[]> {
    const deps = { db: store.db, connections: createConnectionService({ db: store.db, secrets: createSecretBox(Buffer.from(masterKey, 'base64')), audit: createAuditLog(store.db), check: async () => { throw new Error('unused'); } }), runs: createRunLog(store.db), queue };
    return (await Promise.all([0, 1, 2].map(() => queueDueSyncs(deps, now)))).flat();
  }

  /** Each tenant's open findings in the copy equal the emulator's, per tenant. */
  async function assertCopiesExact(): Promise<void> {
    const stored = new Map((await sql<{ connection_id: string; open: number; total: number }>`SELECT t.connection_id, count(*) FILTER (WHERE f.fixed_at IS NULL)::integer AS open,
      count(*)::integer AS total FROM vuln.finding f JOIN vuln.tenant t ON t.ref = f.tenant_ref GROUP BY t.connection_id`.execute(store.db)).rows.map((r) => [r.connection_id, r]));
    const duplicates = (await sql<{ n: number }>`SELECT count(*)::integer AS n FROM (SELECT 1 FROM vuln.finding GROUP BY tenant_ref, device_ref, software_ref, cve_ref HAVING count(*) > 1) d`.execute(store.db)).rows[0].n;
    assert.equal(duplicates, 0, 'no finding is stored twice');
    for (const tenant of emulator.state().tenants) {
      const connectionId = connectionOf.get(tenant.tenantId);
      if (!connectionId) continue;
      assert.equal(stored.get(connectionId)?.open, tenant.findings, `open findings of ${tenant.tenantId}`);
    }
  }

  /** Runs the CLI with `env` (and `stdin`) on a data directory of its own. */
  const cli = (args: string[], env: Record<string, string>, stdin = '') => runCli([...args, '--data-dir', path.join(dataDir, 'cli')], env, stdin);

  const finishedBy = (runId: string) => workers.filter((w) => w.lines.some((l) => l.msg === 'sync finished' && l.runId === runId));

  it('syncs every tenant exactly once per tick, spread over the workers', async () => {
    const queued = await tick(Date.now());
    assert.equal(queued.length, TENANTS, 'one sync per tenant, however many processes tick');
    await until(async () => (await runsOf()).every((r) => r.status === 'succeeded'), 120_000, 'the first syncs succeed');
    const runs = await runsOf();
    assert.equal(runs.length, TENANTS);
    assert.deepEqual(new Set(runs.map((r) => r.connection_id)), new Set(connectionOf.values()));
    for (const run of runs) assert.equal(finishedBy(run.id).length, 1, `run ${run.id} ran on one worker`);
    assert.ok(workers.filter((w) => w.lines.some((l) => l.msg === 'sync finished')).length >= 2, 'more than one worker took syncs');
    await assertCopiesExact();
    assert.deepEqual(await tick(Date.now()), [], 'nothing is due again within the interval');
  });

  it('serves liveness, readiness and the sync metrics, the metrics to an administrator of all connections only', async () => {
    // As an administrator of a PostgreSQL install makes Prometheus's token: with the CLI.
    const env = { SITEPATCH_DATABASE_URL: database.url, SITEPATCH_MASTER_KEY: masterKey };
    assert.equal((await cli(['users', 'add', 'prometheus', '--role', 'admin'], env, 'a long and unusual test passphrase\n')).code, 0);
    const token = (await cli(['token', 'create', '--user', 'prometheus', '--name', 'scrape'], env)).stdout.trim();
    const scopedToken = (await cli(['token', 'create', '--user', 'prometheus', '--name', 'one tenant', '--connections', [...connectionOf.values()][0]], env)).stdout.trim();
    assert.match(token, /^sp_/);
    const keyless = await cli(['token', 'list'], { SITEPATCH_DATABASE_URL: database.url });
    assert.notEqual(keyless.code, 0);
    assert.match(keyless.stderr, /set SITEPATCH_MASTER_KEY or SITEPATCH_MASTER_KEY_FILE/, 'no key of its own for a shared store');
    const urls = workers.map((w) => w.lines.find((l) => l.msg === 'worker started')!.opsUrl!);
    let syncsCounted = 0;
    for (const url of urls) {
      assert.equal((await fetch(`${url}/health`)).status, 200);
      assert.deepEqual(await (await fetch(`${url}/ready`)).json(), { status: 'ready', version: (await (await fetch(`${url}/health`)).json()).version });
      assert.equal((await fetch(`${url}/metrics`)).status, 401, 'no metrics without a token');
      assert.equal((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${scopedToken}` } })).status, 403, 'nor to a token of some connections');
      const notFound = await fetch(`${url}/api/v1/findings`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(notFound.status, 404, 'a worker serves no data');
      assert.equal((await notFound.json()).error.code, 'not_found');
      const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(metrics.status, 200);
      const text = await metrics.text();
      syncsCounted += Number(/^sitepatch_sync_duration_seconds_count\{kind="full",outcome="ok"\} (\d+)$/m.exec(text)?.[1] ?? 0);
      assert.match(text, /^sitepatch_queue_depth\{kind="sync"\} 0$/m, 'the first syncs all ran');
      assert.match(text, /^sitepatch_queue_oldest_job_age_seconds 0$/m);
      assert.match(text, /^sitepatch_sync_rows_total\{kind="full",change="added"\} \d+$/m);
    }
    assert.equal(syncsCounted, TENANTS, 'the workers together count each tenant\'s first sync once');
  });

  it('runs a sync again on another worker when its worker is killed in the middle of it, losing nothing', async () => {
    emulator.advance(6);
    // One delta's page trickles in, so that its worker is surely in the middle of a sync when killed.
    emulator.faults.add({ kind: 'slowBody', endpoint: 'softwareVulnerabilityChangesByMachine', times: 1, bytesPerSecond: 200 });
    // The connections sync every 6 hours (the default): the next tick is past that.
    const queued = await tick(Date.now() + 6 * 3600_000 + 60_000);
    assert.equal(queued.length, TENANTS);
    await until(async () => (await runsOf()).filter((r) => r.status === 'succeeded').length === 2 * TENANTS - 1, 120_000, 'all syncs but the slow one succeed');
    const slow = (await runsOf()).find((r) => r.status === 'running');
    assert.ok(slow, 'the slow sync is running');
    const victim = workers.find((w) => w.lines.some((l) => l.msg === 'sync started' && l.runId === slow.id))!;
    victim.child.kill('SIGKILL');
    await new Promise((resolve) => victim.child.once('exit', resolve));

    await until(async () => (await runsOf()).every((r) => r.status === 'succeeded'), 120_000, 'the killed worker\'s sync succeeds on another worker');
    const finishers = finishedBy(slow.id);
    assert.equal(finishers.length, 1);
    assert.notEqual(finishers[0], victim);
    const runs = await runsOf();
    assert.equal(runs.length, 2 * TENANTS, 'the killed sync was run again, not queued again');
    for (const connectionId of connectionOf.values()) assert.equal(runs.filter((r) => r.connection_id === connectionId).length, 2);
    await assertCopiesExact();
  });

  it('runs `sitepatch sync` and `sitepatch content import` against the install: the workers sync, the knowledge is the install\'s', async () => {
    const env = { SITEPATCH_DATABASE_URL: database.url, SITEPATCH_MASTER_KEY: masterKey };
    const [connectionId] = connectionOf.values();
    const synced = await cli(['sync', '--connection', connectionId, '--kind', 'delta'], env);
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stderr, /✓ delta sync of '.+' done/);
    const runId = (await runsOf()).filter((r) => r.connection_id === connectionId).at(-1)!.id;
    assert.equal(finishedBy(runId).length, 1, 'a worker ran it');
    const imported = await cli(['content', 'import', path.join(FIXTURES, 'kev', 'known_exploited_vulnerabilities.json')], env);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stderr, /✓ .*: kev, [\d,]+ records/);
    const { rows: [kev] } = await sql<{ n: number }>`SELECT count(*)::integer AS n FROM content.kev`.execute(store.db);
    assert.ok(kev.n > 0, 'the catalog is in the install\'s knowledge');
  });

  it('serves the console from a web-only process (serve --no-worker): the workers\' copy, and "sync now" runs on a worker', async () => {
    const env = { SITEPATCH_DATABASE_URL: database.url, SITEPATCH_MASTER_KEY: masterKey, SITEPATCH_SCHEDULER: 'false', SITEPATCH_LOG_LEVEL: 'warn' };
    const web = spawn(process.execPath, [SITEPATCH_BIN, 'serve', '--no-worker', '--port', '0', '--data-dir', path.join(dataDir, 'web')], {
      env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      let stderr = '';
      web.stderr!.on('data', (chunk: Buffer) => { stderr += chunk; });
      await until(() => /SitePatch console: (\S+)/.test(stderr) || web.exitCode !== null, 30_000, 'the web process starts');
      const url = /SitePatch console: (\S+)/.exec(stderr)?.[1];
      assert.ok(url, stderr);
      const api = new ApiClient(url);
      assert.equal((await api.login('prometheus', 'a long and unusual test passphrase')).status, 200);
      const summary = await getJson(api, '/api/v1/exposure/summary');
      assert.equal(summary.openFindings, emulator.state().tenants.filter((t) => connectionOf.has(t.tenantId)).reduce((n, t) => n + t.findings, 0));
      assert.equal(summary.connections.length, TENANTS);

      const connectionId = [...connectionOf.values()][0];
      const requested = await api.call('POST', `/api/v1/connections/${connectionId}/sync`, { kind: 'delta' });
      assert.equal(requested.status, 202, requested.text);
      const run = await waitForRun(api, requested.body.runId);
      assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
      assert.equal(finishedBy(requested.body.runId).length, 1, 'a worker ran it');
      const remediations = await api.call('GET', '/api/v1/remediations');
      assert.equal(remediations.status, 501);
      assert.equal(remediations.body.error.code, 'not_on_this_store');
    } finally {
      if (web.exitCode === null && web.signalCode === null) {
        const exited = new Promise((resolve) => web.once('exit', resolve));
        web.kill('SIGTERM');
        await exited;
      }
    }
  });
});
