// A full snapshot into the PostgreSQL store: the emulator's export files, read by the parser
// threads, staged through COPY and applied set-based. The copy equals the emulator's own listing;
// loading the same snapshot again rewrites no row; an advance's snapshot opens and closes exactly
// what changed; an abandoned load leaves nothing.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { readExportFiles } from '../../src/defender/export-files.js';
import { PACKED, type PackedBatch } from '../../src/defender/packed-records.js';
import { FIELD_SEPARATOR } from '../../src/defender/records.js';
import { ensureTenantPartitions, migratePostgresFindings } from '../../src/store/postgres/findings-schema.js';
import { PackedTexts, PostgresSnapshotLoad } from '../../src/store/postgres/snapshot-load.js';
import { ParserThreads } from '../../src/sync/parser-threads.js';
import { EmulatorClient } from '../helpers/emulator-client.js';
import { createTestDatabase, postgresSkip, type TestDatabase } from '../helpers/postgres.js';

const keyOf = (r: { deviceId: string; softwareVendor: string; softwareName: string; softwareVersion: string; cveId: string }) =>
  `${r.deviceId.toLowerCase()}|${r.softwareVendor}|${r.softwareName}|${r.softwareVersion}|${r.cveId}`;

describe('Full snapshots into the PostgreSQL store', { skip: postgresSkip }, () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let db: Kysely<any>;
  let emulator: RunningEmulator;
  let raw: EmulatorClient;
  let threads: ParserThreads;
  let tenant: number;

  before(async () => {
    database = await createTestDatabase();
    pool = new pg.Pool({ connectionString: database.url });
    db = new Kysely({ dialect: new PostgresDialect({ pool }) });
    await migratePostgresFindings(db);
    tenant = (await sql<{ ref: number }>`INSERT INTO vuln.tenant (connection_id) VALUES ('tenant-a') RETURNING ref`.execute(db)).rows[0].ref;
    await ensureTenantPartitions(db, tenant);
    emulator = await startEmulator({ devices: 40, devicesPerPart: 12, seed: 'postgres-snapshot', patchCadence: 4 });
    raw = new EmulatorClient(emulator);
    threads = new ParserThreads();
  });
  after(async () => {
    await threads?.close();
    await raw?.dispatcher.close();
    await emulator?.close();
    await db?.destroy();
    await database?.drop();
  });

  /** Streams the emulator's current export into a load; `stopAfter` batches, then gives the load back unfinished. */
  async function stage(stopAfter = Infinity): Promise<{ load: PostgresSnapshotLoad; generatedTime: string; runId: string }> {
    const token = await raw.token();
    const { exportFiles, generatedTime } = (await raw.get('/api/machines/SoftwareVulnerabilitiesExport', token)).json();
    const load = await PostgresSnapshotLoad.begin(pool, tenant);
    const streams: PackedTexts[] = [];
    let batches = 0;
    await readExportFiles({
      urls: exportFiles, refreshUrls: async () => exportFiles, extraCaPem: emulator.caPem, maxAttempts: 3, timeScale: 0.01, threads,
      onBatch: (batch: PackedBatch, thread: number) => (++batches <= stopAfter ? load.packed(streams[thread] ??= new PackedTexts(), batch) : undefined),
      onPartDone: () => undefined, onWait: () => undefined,
    });
    return { load, generatedTime, runId: `run-${generatedTime}` };
  }

  async function loadCurrent() {
    const { load, generatedTime, runId } = await stage();
    return load.finish(Date.parse(generatedTime) / 1000, runId, generatedTime);
  }

  async function truth(): Promise<Set<string>> {
    return new Set((await raw.pages('/api/machines/SoftwareVulnerabilitiesByMachine', await raw.token())).rows.map(keyOf));
  }

  async function stored(open: boolean): Promise<Set<string>> {
    const rows = await sql<{ key: string }>`SELECT d.device_id || '|' || w.vendor || '|' || w.name || '|' || w.version || '|' || c.cve_id AS key
      FROM vuln.finding f JOIN vuln.device d ON d.ref = f.device_ref JOIN vuln.software w ON w.ref = f.software_ref JOIN vuln.cve c ON c.ref = f.cve_ref
      WHERE f.tenant_ref = ${tenant} AND (f.fixed_at IS NULL) = ${open}`.execute(db);
    return new Set(rows.rows.map((r) => r.key));
  }

  /** Each row's transaction id: a rewritten row gets a new one. */
  const versions = async (table: string) => (await sql<{ v: string }>`SELECT string_agg(xmin::text, ',' ORDER BY 1) AS v FROM ${sql.table(table)}`.execute(db)).rows[0].v;

  it('copies exactly the emulator\'s snapshot, details included', async () => {
    const counts = await loadCurrent();
    const want = await truth();
    assert.equal(counts.added, want.size);
    assert.equal(counts.read, emulator.state().tenants[0].findings);
    assert.deepEqual(await stored(true), want);
    const rows = (await raw.pages('/api/machines/SoftwareVulnerabilitiesByMachine', await raw.token())).rows;
    const sample = rows.find((r) => r.recommendedSecurityUpdateId && r.cvssScore !== null)!;
    const detail = (await sql<{ severity: string; cvss: number; update_id: string; rbac_group_name: string }>`SELECT x.severity, x.cvss, x.update_id, d.rbac_group_name
      FROM vuln.finding f JOIN vuln.device d ON d.ref = f.device_ref JOIN vuln.software w ON w.ref = f.software_ref JOIN vuln.cve c ON c.ref = f.cve_ref
      JOIN vuln.finding_detail x ON x.ref = f.detail_ref WHERE d.device_id = ${sample.deviceId.toLowerCase()} AND w.name = ${sample.softwareName}
      AND w.version = ${sample.softwareVersion} AND c.cve_id = ${sample.cveId}`.execute(db)).rows[0];
    assert.deepEqual(detail, { severity: sample.vulnerabilitySeverityLevel, cvss: sample.cvssScore, update_id: sample.recommendedSecurityUpdateId, rbac_group_name: sample.rbacGroupName });
  });

  it('loads the same snapshot again without rewriting a row', async () => {
    const before = { findings: await versions('vuln.finding'), devices: await versions('vuln.device'), installations: await versions('vuln.installation') };
    const counts = await loadCurrent();
    assert.deepEqual({ ...counts, read: 0 }, { read: 0, added: 0, updated: 0, reopened: 0, fixed: 0 });
    assert.deepEqual({ findings: await versions('vuln.finding'), devices: await versions('vuln.device'), installations: await versions('vuln.installation') }, before);
  });

  it('applies an advance: opens what the emulator added, closes what it no longer lists', async () => {
    const previous = await stored(true);
    emulator.advance(6);
    emulator.advance(6);
    const want = await truth();
    const counts = await loadCurrent();
    assert.deepEqual(await stored(true), want);
    const closed = [...previous].filter((k) => !want.has(k));
    const opened = [...want].filter((k) => !previous.has(k));
    assert.ok(closed.length > 0 && opened.length > 0, 'the advance changed something');
    assert.equal(counts.fixed, closed.length);
    assert.equal(counts.added + counts.reopened, opened.length);
    assert.deepEqual([...await stored(false)].sort(), closed.sort());
    const events = (await sql<{ n: number }>`SELECT count(*)::integer AS n FROM vuln.finding_event WHERE event = 'fixed'`.execute(db)).rows[0].n;
    assert.equal(events, closed.length);
  });

  it('keeps tabs, backslashes and line breaks in names as they came, and drops a NUL', async () => {
    const other = (await sql<{ ref: number }>`INSERT INTO vuln.tenant (connection_id) VALUES ('tenant-odd') RETURNING ref`.execute(db)).rows[0].ref;
    await ensureTenantPartitions(db, other);
    const name = 'lab\\host\tone\ntwo\r\u0000';
    const line = (...fields: string[]) => fields.join(FIELD_SEPARATOR);
    const load = await PostgresSnapshotLoad.begin(pool, other);
    await load.packed(new PackedTexts(), {
      entries: Float64Array.from([PACKED.device, 0, 0, 0, PACKED.software, 0, 0, 0, PACKED.finding, 0, 0, NaN]), count: 3,
      texts: [line('D', 'odd-device', name, 'Windows11', '10.0', 'x64', '', '', ''), line('S', 'vendor', 'tool\\x', '1.0', '', ''), 'CVE-2026-0001',
        line('High', '7.5', '', '', '', '', '')],
    });
    const counts = await load.finish(1_800_000_000, 'run-odd', '2027-01-15T08:00:00Z');
    assert.equal(counts.added, 1);
    const device = (await sql<{ name: string; software: string; first_seen: number | null }>`SELECT d.name, w.name AS software, f.first_seen FROM vuln.finding f
      JOIN vuln.device d ON d.ref = f.device_ref JOIN vuln.software w ON w.ref = f.software_ref WHERE f.tenant_ref = ${other}`.execute(db)).rows;
    assert.deepEqual(device, [{ name: 'lab\\host\tone\ntwo\r', software: 'tool\\x', first_seen: null }]);
  });

  it('leaves nothing of a load that is given up halfway', async () => {
    const before = { open: await stored(true), fixed: await stored(false), findings: await versions('vuln.finding') };
    emulator.advance(6);
    const { load } = await stage(2);
    load.abort();
    assert.deepEqual({ open: await stored(true), fixed: await stored(false), findings: await versions('vuln.finding') }, before);
    // The next load applies the snapshot whole.
    await loadCurrent();
    assert.deepEqual(await stored(true), await truth());
  });
});
