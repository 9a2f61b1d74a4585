// Sync runs into the PostgreSQL store: the real engine against the emulator, its export files (or
// JSON export) staged through COPY and applied set-based, its deltas applied change by change. The
// copy equals the emulator's own listing after full snapshots and after deltas; loading the same
// snapshot again rewrites no row; a run given up halfway leaves nothing.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { PACKED } from '../../src/defender/packed-records.js';
import { FIELD_SEPARATOR } from '../../src/defender/records.js';
import { createDispatcher } from '../../src/net/dispatcher.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/store.js';
import { executeRun, type EngineContext } from '../../src/sync/engine.js';
import { ParserThreads } from '../../src/sync/parser-threads.js';
import { createRunLog } from '../../src/sync/runs.js';
import type { SyncKind } from '../../src/sync/runs.js';
import { EmulatorClient } from '../helpers/emulator-client.js';
import { createTestDatabase, postgresSkip, type TestDatabase } from '../helpers/postgres.js';

const keyOf = (r: { deviceId: string; softwareVendor: string; softwareName: string; softwareVersion: string; cveId: string }) =>
  `${r.deviceId.toLowerCase()}|${r.softwareVendor}|${r.softwareName}|${r.softwareVersion}|${r.cveId}`;

describe('Sync runs into the PostgreSQL store', { skip: postgresSkip }, () => {
  let database: TestDatabase;
  let store: PostgresStore;
  let emulator: RunningEmulator;
  let raw: EmulatorClient;
  let engine: EngineContext;
  const CONNECTION = 'connection-a';

  before(async () => {
    database = await createTestDatabase();
    store = await openPostgresStore(database.url);
    emulator = await startEmulator({ devices: 40, devicesPerPart: 12, seed: 'postgres-sync', patchCadence: 4 });
    raw = new EmulatorClient(emulator);
    const runs = createRunLog(store.db);
    engine = {
      openWriter: store.openWriter, runs, parserThreads: new ParserThreads(), dispatcher: createDispatcher({ extraCaPem: emulator.caPem }),
      extraCaPem: emulator.caPem, timeScale: 0.01, maxAttempts: 3,
    };
  });
  after(async () => {
    await engine?.parserThreads.close();
    await engine?.dispatcher.close();
    await raw?.dispatcher.close();
    await emulator?.close();
    await store?.close();
    await database?.drop();
  });

  async function sync(requested: SyncKind, exportMethod: 'files' | 'json' = 'files', connectionId = CONNECTION) {
    const runId = await engine.runs.create(connectionId, requested, 'test');
    const credentials = {
      name: 'Tenant A', cloud: 'custom' as const, tenantId: emulator.tenantId, clientId: emulator.apps.consented.clientId,
      clientSecret: emulator.apps.consented.secretValue, loginUrl: emulator.loginUrl, apiUrl: emulator.apiUrl, syncIntervalMinutes: 60, exportMethod,
    };
    const result = await executeRun(engine, { runId, connectionId, requested, credentials });
    assert.ok(result.ok, result.ok ? '' : result.diagnosis.message);
    return result;
  }

  async function truth(): Promise<Set<string>> {
    return new Set((await raw.pages('/api/machines/SoftwareVulnerabilitiesByMachine', await raw.token())).rows.map(keyOf));
  }

  const tenantRef = async (connectionId = CONNECTION) => (await sql<{ ref: number }>`SELECT ref FROM vuln.tenant WHERE connection_id = ${connectionId}`.execute(store.db)).rows[0].ref;

  async function stored(open: boolean, connectionId = CONNECTION): Promise<Set<string>> {
    const rows = await sql<{ key: string }>`SELECT d.device_id || '|' || w.vendor || '|' || w.name || '|' || w.version || '|' || c.cve_id AS key
      FROM vuln.finding f JOIN vuln.device d ON d.ref = f.device_ref JOIN vuln.software w ON w.ref = f.software_ref JOIN vuln.cve c ON c.ref = f.cve_ref
      WHERE f.tenant_ref = ${await tenantRef(connectionId)} AND (f.fixed_at IS NULL) = ${open}`.execute(store.db);
    return new Set(rows.rows.map((r) => r.key));
  }

  /**
   * The exposure read models count what the emulator lists open: per device, CVE and software
   * version (open findings, by severity, exposed devices, CVEs), per software version and CVE, and
   * for the tenant and its latest history point.
   */
  async function assertReadModels(connectionId = CONNECTION): Promise<void> {
    const rows = (await raw.pages('/api/machines/SoftwareVulnerabilitiesByMachine', await raw.token())).rows;
    const SEVERITIES = ['Critical', 'High', 'Medium', 'Low'];
    const counts = () => ({ n: 0, bySeverity: [0, 0, 0, 0], devices: new Set<string>(), cves: new Set<string>() });
    const tally = (map: Map<string, ReturnType<typeof counts>>, key: string, row: typeof rows[number]) => {
      const entry = map.get(key) ?? counts();
      map.set(key, entry);
      entry.n++;
      const severity = SEVERITIES.indexOf(row.vulnerabilitySeverityLevel);
      if (severity >= 0) entry.bySeverity[severity]++;
      entry.devices.add(row.deviceId.toLowerCase());
      entry.cves.add(row.cveId);
    };
    const devices = new Map<string, ReturnType<typeof counts>>();
    const cves = new Map<string, ReturnType<typeof counts>>();
    const software = new Map<string, ReturnType<typeof counts>>();
    const pairs = new Map<string, ReturnType<typeof counts>>();
    const all = new Map<string, ReturnType<typeof counts>>();
    for (const row of rows) {
      const version = `${row.softwareVendor}|${row.softwareName}|${row.softwareVersion}`;
      tally(devices, row.deviceId.toLowerCase(), row);
      tally(cves, row.cveId, row);
      tally(software, version, row);
      tally(pairs, `${version}|${row.cveId}`, row);
      tally(all, '', row);
    }
    const tenant = await tenantRef(connectionId);
    const sorted = (entries: [string, unknown][]) => entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const query = async <T>(text: ReturnType<typeof sql<T>>) => (await text.execute(store.db)).rows;

    const storedDevices = await query<{ k: string; n: number; c: number; h: number; m: number; l: number }>(sql`SELECT device_id AS k, open_findings AS n,
      open_critical AS c, open_high AS h, open_medium AS m, open_low AS l FROM vuln.device WHERE tenant_ref = ${tenant} AND open_findings > 0`);
    assert.deepEqual(sorted(storedDevices.map((r) => [r.k, [r.n, r.c, r.h, r.m, r.l]])), sorted([...devices].map(([k, e]) => [k, [e.n, ...e.bySeverity]])), 'per device');
    const storedCves = await query<{ k: string; d: number; n: number }>(sql`SELECT c.cve_id AS k, e.exposed_devices AS d, e.open_findings AS n
      FROM vuln.cve_exposure e JOIN vuln.cve c ON c.ref = e.cve_ref WHERE e.tenant_ref = ${tenant} AND e.open_findings > 0`);
    assert.deepEqual(sorted(storedCves.map((r) => [r.k, [r.d, r.n]])), sorted([...cves].map(([k, e]) => [k, [e.devices.size, e.n]])), 'per CVE');
    const storedSoftware = await query<{ k: string; d: number; n: number; cves: number; c: number; h: number; m: number; l: number }>(sql`SELECT
      w.vendor || '|' || w.name || '|' || w.version AS k, e.exposed_devices AS d, e.open_findings AS n, e.cves, e.open_critical AS c, e.open_high AS h,
      e.open_medium AS m, e.open_low AS l FROM vuln.software_exposure e JOIN vuln.software w ON w.ref = e.software_ref
      WHERE e.tenant_ref = ${tenant} AND e.open_findings > 0`);
    assert.deepEqual(sorted(storedSoftware.map((r) => [r.k, [r.d, r.n, r.cves, r.c, r.h, r.m, r.l]])),
      sorted([...software].map(([k, e]) => [k, [e.devices.size, e.n, e.cves.size, ...e.bySeverity]])), 'per software version');
    const storedPairs = await query<{ k: string; n: number }>(sql`SELECT w.vendor || '|' || w.name || '|' || w.version || '|' || c.cve_id AS k, p.open_findings AS n
      FROM vuln.software_cve p JOIN vuln.software w ON w.ref = p.software_ref JOIN vuln.cve c ON c.ref = p.cve_ref WHERE p.tenant_ref = ${tenant}`);
    assert.deepEqual(sorted(storedPairs.map((r) => [r.k, r.n])), sorted([...pairs].map(([k, e]) => [k, e.n])), 'per software version and CVE, open pairs only');
    const whole = all.get('')!;
    const [current] = await query<{ devices: number; exposed_devices: number; open: number[] }>(sql`SELECT devices, exposed_devices,
      ARRAY[open_findings, open_critical, open_high, open_medium, open_low] AS open FROM vuln.tenant_exposure WHERE tenant_ref = ${tenant}`);
    const [deviceCount] = await query<{ n: number }>(sql`SELECT count(*)::integer AS n FROM vuln.device WHERE tenant_ref = ${tenant}`);
    assert.deepEqual(current, { devices: deviceCount.n, exposed_devices: whole.devices.size, open: [whole.n, ...whole.bySeverity] }, 'the tenant');
    const [latest] = await query<{ exposed_devices: number; open_findings: number }>(sql`SELECT exposed_devices, open_findings FROM vuln.exposure_day
      WHERE tenant_ref = ${tenant} ORDER BY day DESC LIMIT 1`);
    assert.deepEqual(latest, { exposed_devices: whole.devices.size, open_findings: whole.n }, 'the latest history point');
  }

  /** Each row's transaction id: a rewritten row gets a new one. */
  const versions = async (table: string) => (await sql<{ v: string }>`SELECT string_agg(xmin::text, ',' ORDER BY 1) AS v FROM ${sql.table(table)}`.execute(store.db)).rows[0].v;
  const fixedEvents = async () => (await sql<{ n: number }>`SELECT count(*)::integer AS n FROM vuln.finding_event WHERE event = 'fixed'`.execute(store.db)).rows[0].n;

  it('copies exactly the emulator\'s snapshot, details and CVE catalog included', async () => {
    const { counts, kind } = await sync('auto');
    const want = await truth();
    assert.equal(kind, 'full');
    assert.equal(counts.added, want.size);
    assert.equal(counts.read, emulator.state().tenants[0].findings);
    assert.deepEqual(await stored(true), want);
    const rows = (await raw.pages('/api/machines/SoftwareVulnerabilitiesByMachine', await raw.token())).rows;
    const sample = rows.find((r) => r.recommendedSecurityUpdateId && r.cvssScore !== null)!;
    const detail = (await sql<{ severity: string; cvss: number; update_id: string; rbac_group_name: string }>`SELECT x.severity, x.cvss, x.update_id, d.rbac_group_name
      FROM vuln.finding f JOIN vuln.device d ON d.ref = f.device_ref JOIN vuln.software w ON w.ref = f.software_ref JOIN vuln.cve c ON c.ref = f.cve_ref
      JOIN vuln.finding_detail x ON x.ref = f.detail_ref WHERE d.device_id = ${sample.deviceId.toLowerCase()} AND w.name = ${sample.softwareName}
      AND w.version = ${sample.softwareVersion} AND c.cve_id = ${sample.cveId}`.execute(store.db)).rows[0];
    assert.deepEqual(detail, { severity: sample.vulnerabilitySeverityLevel, cvss: sample.cvssScore, update_id: sample.recommendedSecurityUpdateId, rbac_group_name: sample.rbacGroupName });

    const catalog = (await raw.pages('/api/vulnerabilities', await raw.token())).rows;
    const cve = catalog.find((v) => v.id === sample.cveId)!;
    const kept = (await sql<{ n: number; cvss: number | null; public_exploit: number | null }>`SELECT (SELECT count(*)::integer FROM vuln.vulnerability) AS n,
      cvss, public_exploit FROM vuln.vulnerability WHERE cve_id = ${sample.cveId}`.execute(store.db)).rows[0];
    assert.deepEqual(kept, { n: catalog.length, cvss: cve.cvssV3 ?? null, public_exploit: cve.publicExploit === undefined ? null : Number(cve.publicExploit) });
    const state = (await sql<{ delta_checkpoint: string; snapshot_rows: number }>`SELECT delta_checkpoint, snapshot_rows FROM vuln.sync_state`.execute(store.db)).rows[0];
    assert.equal(Date.parse(state.delta_checkpoint), Date.parse(emulator.state().snapshotTime));
    assert.equal(state.snapshot_rows, counts.read);
    await assertReadModels();
  });

  it('loads the same snapshot again without rewriting a row', async () => {
    const before = { findings: await versions('vuln.finding'), devices: await versions('vuln.device'), installations: await versions('vuln.installation') };
    const { counts } = await sync('full');
    assert.deepEqual({ ...counts, read: 0 }, { read: 0, added: 0, updated: 0, reopened: 0, fixed: 0 });
    assert.deepEqual({ findings: await versions('vuln.finding'), devices: await versions('vuln.device'), installations: await versions('vuln.installation') }, before);
  });

  it('applies the changes since the last sync as a delta: opens, updates and closes what the emulator did', async () => {
    const previous = await stored(true);
    const eventsBefore = await fixedEvents();
    emulator.advance(6);
    emulator.advance(6);
    const want = await truth();
    const { counts, kind } = await sync('auto');
    assert.equal(kind, 'delta');
    assert.deepEqual(await stored(true), want);
    const closed = [...previous].filter((k) => !want.has(k));
    const opened = [...want].filter((k) => !previous.has(k));
    assert.ok(closed.length > 0 && opened.length > 0, 'the advance changed something');
    // A finding can be fixed and come back within the delta's twelve hours: counted both ways.
    assert.ok(counts.fixed >= closed.length && counts.added + counts.reopened >= opened.length, JSON.stringify(counts));
    // Fixed: what the snapshot no longer lists, and what came and went within the delta.
    const fixed = await stored(false);
    assert.ok(closed.every((k) => fixed.has(k)) && [...fixed].every((k) => !want.has(k)));
    assert.equal(await fixedEvents() - eventsBefore, counts.fixed, 'each fix recorded');
    await assertReadModels();
    const day = (await sql<{ opened: number; fixed: number }>`SELECT opened, fixed FROM vuln.exposure_day WHERE tenant_ref = ${await tenantRef()}
      AND day = ${emulator.state().snapshotTime.slice(0, 10)}`.execute(store.db)).rows[0];
    assert.ok(day.opened >= counts.added + counts.reopened && day.fixed >= counts.fixed, 'the day counts the delta\'s opened and fixed findings');
  });

  it('reads the JSON export when the connection is set to it, to the same copy', async () => {
    emulator.advance(6);
    const { counts, kind } = await sync('full', 'json');
    assert.equal(kind, 'full');
    assert.equal(counts.read, emulator.state().tenants[0].findings);
    assert.deepEqual(await stored(true), await truth());
    await assertReadModels();
  });

  it('keeps the read models counting through successive deltas', async () => {
    for (const hours of [6, 12, 6]) {
      emulator.advance(hours);
      const { kind } = await sync('auto');
      assert.equal(kind, 'delta');
      await assertReadModels();
    }
  });

  it('keeps tabs, backslashes and line breaks in names as they came, and drops a NUL', async () => {
    const writer = await store.openWriter('connection-odd', 'run-odd');
    const name = 'lab\\host\tone\ntwo\r\u0000';
    const line = (...fields: string[]) => fields.join(FIELD_SEPARATOR);
    await writer.begin();
    writer.beginSnapshot();
    await writer.packed(writer.newStream(), {
      entries: Float64Array.from([PACKED.device, 0, 0, 0, PACKED.software, 0, 0, 0, PACKED.finding, 0, 0, NaN]), count: 3,
      texts: [line('D', 'odd-device', name, 'Windows11', '10.0', 'x64', '', '', ''), line('S', 'vendor', 'tool\\x', '1.0', '', ''), 'CVE-2026-0001',
        line('High', '7.5', '', '', '', '', '')],
    }, 1_800_000_000);
    await writer.closeUnseen(1_800_000_000);
    await writer.commit();
    assert.equal(writer.counts.added, 1);
    const device = (await sql<{ name: string; software: string; first_seen: number | null }>`SELECT d.name, w.name AS software, f.first_seen FROM vuln.finding f
      JOIN vuln.device d ON d.ref = f.device_ref JOIN vuln.software w ON w.ref = f.software_ref WHERE f.tenant_ref = ${await tenantRef('connection-odd')}`.execute(store.db)).rows;
    assert.deepEqual(device, [{ name: 'lab\\host\tone\ntwo\r', software: 'tool\\x', first_seen: null }]);
  });

  it('leaves nothing of a run that fails halfway, and the next run applies the snapshot whole', async () => {
    const before = { open: await stored(true), fixed: await stored(false), findings: await versions('vuln.finding') };
    emulator.advance(6);
    // The third file is unreadable: the first two are staged by then.
    emulator.faults.add({ kind: 'malformedLine', endpoint: 'exportFile', after: 2, line: 3 });
    const runId = await engine.runs.create(CONNECTION, 'full', 'test');
    const failed = await executeRun(engine, {
      runId, connectionId: CONNECTION, requested: 'full',
      credentials: {
        name: 'Tenant A', cloud: 'custom', tenantId: emulator.tenantId, clientId: emulator.apps.consented.clientId,
        clientSecret: emulator.apps.consented.secretValue, loginUrl: emulator.loginUrl, apiUrl: emulator.apiUrl, syncIntervalMinutes: 60, exportMethod: 'files',
      },
    });
    assert.equal(failed.ok ? '' : failed.diagnosis.code, 'export_file_corrupt');
    emulator.faults.clear();
    assert.deepEqual({ open: await stored(true), fixed: await stored(false), findings: await versions('vuln.finding') }, before);
    await sync('full');
    assert.deepEqual(await stored(true), await truth());
  });
});
