import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { prepareTls } from '../../emulator/tls.js';
import { createDefenderClient, type DefenderClient } from '../../src/defender/client.js';
import { RecordEncoder } from '../../src/defender/records.js';
import { createKnowledge } from '../../src/content/knowledge.js';
import { RISK_DEFAULTS } from '../../src/remediation/risk-settings.js';
import { RemediationTally } from '../../src/remediation/tally.js';
import { SlaTally } from '../../src/remediation/sla-tally.js';
import { DEFAULT_SLA_WINDOWS } from '../../src/exposure/sla-state.js';
import { openStore, type Store } from '../../src/store/database.js';
import { delta, type DeltaSource } from '../../src/sync/delta.js';
import { ParserThreads } from '../../src/sync/parser-threads.js';
import { FindingWriter, unixSeconds } from '../../src/sync/finding-writer.js';
import type { RunWriter } from '../../src/sync/run-writer.js';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import { sql } from 'kysely';
import { createTestDatabase, postgresSkip } from '../helpers/postgres.js';
import { EmulatorClient } from '../helpers/emulator-client.js';

const finding = {
  deviceId: 'abcdef0123456789abcdef0123456789abcdef01', deviceName: 'db-03', osPlatform: 'Linux', osVersion: 'enterprise_linux_9.4',
  osArchitecture: 'x64', rbacGroupId: 1, rbacGroupName: 'Production', softwareVendor: 'red_hat', softwareName: 'openssl',
  softwareVersion: '1:3.0.7-28.el9_4', cveId: 'CVE-2024-9143', cvssScore: 4.3, vulnerabilitySeverityLevel: 'Low',
  diskPaths: [], registryPaths: [], firstSeenTimestamp: '2025-10-15 09:00:00', lastSeenTimestamp: '2025-11-01 14:30:00',
  exploitabilityLevel: 'NoExploit', securityUpdateAvailable: true,
};
const SINCE = '2025-11-01T18:00:00Z';
const BATCH_1 = '2025-11-02 00:00:00';
const BATCH_2 = '2025-11-02 06:00:00';

/** Serves pages of SoftwareVulnerabilityChangesByMachine on 127.0.0.1 as Defender pages them. */
async function pageServer(dir: string) {
  const tls = prepareTls(dir);
  let pages: object[][] = [];
  const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const i = Number(new URL(req.url!, 'https://127.0.0.1').searchParams.get('page') ?? 0);
    const next = i + 1 < pages.length ? `https://127.0.0.1:${port}/api/machines/SoftwareVulnerabilityChangesByMachine?page=${i + 1}` : undefined;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: pages[i], ...(next ? { '@odata.nextLink': next } : {}) }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const source: DeltaSource = {
    apiUrl: `https://127.0.0.1:${port}`, tokens: { get: async () => 'token' }, extraCaPem: tls.caPem, maxAttempts: 2, timeScale: 0.001, onWait: () => undefined,
  };
  return { source, serve: (next: object[][]) => { pages = next; }, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** A store the delta is written into, and what the tests read back of a connection's one finding. */
interface DeltaStore {
  writer(connectionId: string, runId: string): Promise<RunWriter>;
  finding(connectionId: string): Promise<{ id: number; fixed_at: number | null; reopened: number; grp: string; cvss: number }>;
  events(connectionId: string): Promise<{ event: string; at: number }[]>;
  checkpoint(connectionId: string): Promise<string>;
}

/**
 * The delta's cases on `store` (opened in `before`): `extra` adds the store's own. Each case is a
 * tenant whose snapshot holds `finding`, then the delta of some pages on top of it.
 */
function deltaCases(title: string, options: { skip?: string | false }, open: () => Promise<{ store: DeltaStore; close(): Promise<void> }>,
  extra: (t: { applyDelta: ApplyDelta; deltaOn: DeltaOn }) => void = () => undefined) {
  describe(title, { skip: options.skip }, () => {
    let dataDir: string;
    let store: DeltaStore;
    let closeStore: () => Promise<void>;
    let threads: ParserThreads;
    let server: Awaited<ReturnType<typeof pageServer>>;
    let connection = 0;

    before(async () => {
      dataDir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-changes-'));
      ({ store, close: closeStore } = await open());
      threads = new ParserThreads();
      server = await pageServer(dataDir);
    });
    after(async () => {
      await server?.close();
      await threads?.close();
      await closeStore?.();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const applyDelta: ApplyDelta = async (pages, tokens = server.source.tokens) => {
      const connectionId = `connection-${++connection}`;
      const snapshot = await store.writer(connectionId, 'full');
      const lines: string[] = [];
      new RecordEncoder().encode(finding, lines);
      await snapshot.begin();
      snapshot.beginSnapshot();
      for (const line of lines) snapshot.line(line, unixSeconds('2025-11-01T12:00:00Z'));
      await snapshot.closeUnseen(unixSeconds('2025-11-01T12:00:00Z'));
      await snapshot.commit();
      return { connectionId, ...await deltaOn(connectionId, pages, tokens) };
    };

    const deltaOn: DeltaOn = async (connectionId, pages, tokens = server.source.tokens) => {
      const writer = await store.writer(connectionId, 'delta');
      try {
        server.serve(pages);
        await delta({ ...server.source, tokens }, threads, writer, SINCE, 2500, () => undefined);
      } catch (e) {
        await writer.rollback();
        throw e;
      }
      await writer.commit();
      return { row: await store.finding(connectionId), events: await store.events(connectionId), counts: writer.counts, checkpoint: await store.checkpoint(connectionId) };
    };

    it('keeps a moved device\'s finding open when the move\'s Fixed half ends one page and its New half starts the next', async () => {
      const { row, events, counts, checkpoint } = await applyDelta([
        [{ ...finding, status: 'Fixed', eventTimestamp: BATCH_1 }],
        [{ ...finding, rbacGroupId: 2, rbacGroupName: 'Servers', status: 'New', eventTimestamp: BATCH_1 }],
      ]);
      assert.equal(row.fixed_at, null);
      assert.equal(row.reopened, 0);
      assert.equal(row.grp, 'Servers');
      assert.deepEqual(events, [], 'no fix and no reopening recorded');
      assert.equal(counts.fixed, 0);
      assert.equal(counts.reopened, 0);
      assert.equal(checkpoint, '2025-11-02T00:00:00Z');
    });

    it('records a finding fixed in one batch and back in the next as fixed, then reopened', async () => {
      const { row, events, counts, checkpoint } = await applyDelta([
        [{ ...finding, status: 'Fixed', eventTimestamp: BATCH_1 }],
        [{ ...finding, status: 'New', eventTimestamp: BATCH_2 }],
      ]);
      assert.equal(row.fixed_at, null);
      assert.equal(row.reopened, 1);
      assert.deepEqual(events, [{ event: 'fixed', at: unixSeconds('2025-11-02T00:00:00Z') }, { event: 'reopened', at: unixSeconds('2025-11-02T06:00:00Z') }]);
      assert.equal(counts.fixed, 1);
      assert.equal(counts.reopened, 1);
      assert.equal(checkpoint, '2025-11-02T06:00:00Z');
    });

    it('fixes a finding at the time Defender reported, and updates one whose detail changed', async () => {
      const fixed = await applyDelta([[{ ...finding, status: 'Fixed', eventTimestamp: BATCH_1 }]]);
      assert.equal(fixed.row.fixed_at, unixSeconds('2025-11-02T00:00:00Z'));
      assert.deepEqual([fixed.counts.read, fixed.counts.fixed], [1, 1]);
      const updated = await applyDelta([[{ ...finding, cvssScore: 7.5, status: 'Updated', eventTimestamp: BATCH_1 }]]);
      assert.deepEqual([updated.row.cvss, updated.row.fixed_at, updated.counts.updated, updated.counts.fixed], [7.5, null, 1, 0]);
    });

    it('does not let an older change listed after a newer one overwrite it', async () => {
      const { row, counts } = await applyDelta([
        [{ ...finding, cvssScore: 9.1, status: 'Updated', eventTimestamp: BATCH_2 }],
        [{ ...finding, cvssScore: 6.5, status: 'Updated', eventTimestamp: BATCH_1 }, { ...finding, status: 'Fixed', eventTimestamp: BATCH_1 }],
      ]);
      assert.equal(row.cvss, 9.1);
      assert.equal(row.fixed_at, null);
      assert.equal(counts.updated, 1);
    });

    it('asks the sync\'s thread for a token once while it is good, and for each page when it is about to expire', async () => {
      // An unsigned JWT: the reader only reads its expiry.
      const jwt = (exp: number) => ['{"alg":"none"}', JSON.stringify({ exp })].map((part) => Buffer.from(part).toString('base64url')).join('.') + '.';
      const pages = [1, 2, 3].map((n) => [{ ...finding, cvssScore: n, status: 'Updated', eventTimestamp: BATCH_1 }]);
      const now = Math.floor(Date.now() / 1000);
      for (const [expiresIn, expected] of [[3600, 1], [60, 3]]) {
        let asked = 0;
        const { counts } = await applyDelta(pages, { get: async () => { asked++; return jwt(now + expiresIn); } });
        assert.equal(counts.read, 3);
        assert.equal(asked, expected, `token valid for ${expiresIn} s`);
      }
    });

    it('fails with a diagnosis naming the source when a record cannot be read, and is ready for the next delta', async () => {
      await assert.rejects(applyDelta([[{ ...finding, deviceId: '', status: 'New', eventTimestamp: BATCH_1 }]]),
        /record SitePatch cannot read in the changes since the last sync: the record has no DeviceId/);
      const { row } = await applyDelta([[{ ...finding, status: 'Fixed', eventTimestamp: BATCH_1 }]]);
      assert.equal(row.fixed_at, unixSeconds('2025-11-02T00:00:00Z'));
    });

    extra({ applyDelta, deltaOn });
  });
}

type DeltaResult = { row: Awaited<ReturnType<DeltaStore['finding']>>; events: { event: string; at: number }[]; counts: RunWriter['counts']; checkpoint: string };
type ApplyDelta = (pages: object[][], tokens?: DeltaSource['tokens']) => Promise<DeltaResult & { connectionId: string }>;
type DeltaOn = (connectionId: string, pages: object[][], tokens?: DeltaSource['tokens']) => Promise<DeltaResult>;

// The embedded store also keeps the remediations in step with each change.
let sqlite: { store: Store; remediations: RemediationTally; sla: SlaTally; dataDir: string };
const remediationOf = (connectionId: string) => sqlite.store.findings.prepare(`SELECT r.open_findings, r.fixed_findings, r.devices, r.completed_at FROM remediation r
  JOIN tenant t ON t.ref = r.tenant_ref WHERE t.connection_id = ?`).all(connectionId);

deltaCases('The delta, written as its pages arrive', {}, async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-changes-store-'));
  const store = await openStore(dataDir);
  sqlite = { store, dataDir, remediations: new RemediationTally(store.findings, createKnowledge(store.sqlite), () => RISK_DEFAULTS), sla: new SlaTally(store.findings, DEFAULT_SLA_WINDOWS) };
  const ofConnection = 'JOIN device d ON d.ref = f.device_ref JOIN tenant t ON t.ref = d.tenant_ref WHERE t.connection_id = ?';
  return {
    store: {
      writer: async (connectionId, runId) => new FindingWriter(store.findings, connectionId, runId, sqlite.remediations, sqlite.sla),
      finding: async (connectionId) => store.findings.prepare(`SELECT f.id, f.fixed_at, f.reopened, d.rbac_group_name AS grp, x.cvss FROM finding f
        JOIN finding_detail x ON x.ref = f.detail_ref ${ofConnection}`).get(connectionId) as never,
      events: async (connectionId) => store.findings.prepare(`SELECT e.event, e.at FROM finding_event e JOIN finding f ON f.id = e.finding_id ${ofConnection} ORDER BY e.rowid`)
        .all(connectionId) as never,
      checkpoint: async (connectionId) => (store.findings.prepare('SELECT delta_checkpoint FROM sync_state JOIN tenant ON tenant.ref = sync_state.tenant_ref WHERE connection_id = ?')
        .get(connectionId) as { delta_checkpoint: string }).delta_checkpoint,
    },
    async close() {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}, ({ applyDelta, deltaOn }) => {
  it('completes the remediation when its last finding is fixed, at the time Defender reported, and reopens it with the finding', async () => {
    const fixed = await applyDelta([[{ ...finding, status: 'Fixed', eventTimestamp: BATCH_1 }]]);
    assert.deepEqual(remediationOf(fixed.connectionId), [{ open_findings: 0, fixed_findings: 1, devices: 0, completed_at: unixSeconds('2025-11-02T00:00:00Z') }]);
    const reopened = await deltaOn(fixed.connectionId, [[{ ...finding, status: 'New', eventTimestamp: BATCH_2 }]]);
    assert.equal(reopened.counts.reopened, 1);
    assert.deepEqual(remediationOf(fixed.connectionId), [{ open_findings: 1, fixed_findings: 1, devices: 1, completed_at: null }]);
  });

  it('leaves the remediation as it was when a delta fails halfway', async () => {
    const before = await applyDelta([[{ ...finding, cvssScore: 5, status: 'Updated', eventTimestamp: BATCH_1 }]]);
    const remediation = remediationOf(before.connectionId);
    await assert.rejects(deltaOn(before.connectionId, [[{ ...finding, status: 'Fixed', eventTimestamp: BATCH_2 }], [{ ...finding, lastSeenTimestamp: 'never', status: 'New', eventTimestamp: BATCH_2 }]]));
    assert.deepEqual(remediationOf(before.connectionId), remediation);
    assert.deepEqual(remediation, [{ open_findings: 1, fixed_findings: 0, devices: 1, completed_at: null }]);
  });
});

deltaCases('The delta on the PostgreSQL store', { skip: postgresSkip }, async () => {
  const database = await createTestDatabase();
  const store = await openPostgresStore(database.url);
  const ofConnection = sql`JOIN vuln.device d ON d.ref = f.device_ref JOIN vuln.tenant t ON t.ref = f.tenant_ref`;
  return {
    store: {
      writer: store.openWriter,
      finding: async (connectionId) => (await sql<never>`SELECT f.id, f.fixed_at, f.reopened, d.rbac_group_name AS grp, x.cvss FROM vuln.finding f
        JOIN vuln.finding_detail x ON x.ref = f.detail_ref ${ofConnection} WHERE t.connection_id = ${connectionId}`.execute(store.db)).rows[0],
      // Events of one run in the order they were written (a heap scan of a small table).
      events: async (connectionId) => (await sql<never>`SELECT e.event, e.at FROM vuln.finding_event e JOIN vuln.finding f ON f.id = e.finding_id AND f.tenant_ref = e.tenant_ref
        ${ofConnection} WHERE t.connection_id = ${connectionId} ORDER BY e.at, e.ctid`.execute(store.db)).rows,
      checkpoint: async (connectionId) => (await sql<{ delta_checkpoint: string }>`SELECT delta_checkpoint FROM vuln.sync_state s JOIN vuln.tenant t ON t.ref = s.tenant_ref
        WHERE t.connection_id = ${connectionId}`.execute(store.db)).rows[0].delta_checkpoint,
    },
    async close() {
      await store.close();
      await database.drop();
    },
  };
}, ({ applyDelta, deltaOn }) => {
  it('leaves the finding as it was when a delta fails halfway', async () => {
    const before = await applyDelta([[{ ...finding, cvssScore: 5, status: 'Updated', eventTimestamp: BATCH_1 }]]);
    await assert.rejects(deltaOn(before.connectionId, [[{ ...finding, status: 'Fixed', eventTimestamp: BATCH_2 }], [{ ...finding, lastSeenTimestamp: 'never', status: 'New', eventTimestamp: BATCH_2 }]]));
    const after = await deltaOn(before.connectionId, [[]]);
    assert.deepEqual([after.row, after.events], [before.row, before.events]);
  });
});

describe('Reading pages ahead of parsing them', () => {
  let emulator: RunningEmulator;
  let raw: EmulatorClient;
  let client: DefenderClient;
  const PATH = '/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=50';

  before(async () => {
    emulator = await startEmulator({ devices: 10, seed: 'read-pages', rateLimits: false });
    raw = new EmulatorClient(emulator);
    const token = await raw.token();
    client = createDefenderClient({ apiUrl: emulator.apiUrl, tokens: { get: async () => token }, dispatcher: raw.dispatcher, timeScale: 0.002 });
  });
  after(async () => {
    await raw.dispatcher.close();
    await emulator.close();
  });

  const requests = () => emulator.state().requests.softwareVulnerabilitiesByMachine ?? 0;

  it('reads every page once and in order, asking for each next page before the last one is parsed', async () => {
    const expected = (await raw.pages(PATH, await raw.token())).rows;
    const before = requests();
    const rows: unknown[] = [];
    await client.readPages(PATH, 'softwareVulnerabilitiesByMachine', async (body) => {
      const page = JSON.parse(body.toString('utf8'));
      rows.push(...page.value);
      return page['@odata.nextLink'];
    });
    assert.ok(expected.length > 100, 'several pages');
    assert.deepEqual(rows, expected);
    assert.equal(requests() - before, Math.ceil(expected.length / 50), 'no page requested twice');
  });

  it('drops the pages it asked for early when the reader answers another next link', async () => {
    let pages = 0;
    await client.readPages(PATH, 'softwareVulnerabilitiesByMachine', async () => {
      pages++;
      return undefined;
    });
    assert.equal(pages, 1);
  });
});
