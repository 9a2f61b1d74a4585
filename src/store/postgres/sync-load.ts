// A sync run into the PostgreSQL store. What the run reads (a full snapshot's packed batches or
// JSON pages, a delta's changes) streams through COPY into an index-free staging table, and
// set-based statements apply the difference at the end, in the run's one transaction: devices,
// software, CVEs and details that are new or changed; findings that are new, changed, reopened or
// fixed; and, after a full snapshot, the open ones it no longer lists, closed. Unchanged rows are
// only read, never rewritten (a re-import that rewrites every row was measured at about 49k rows/s,
// and it bloats the table). A run that fails, or whose process dies, leaves nothing of the
// tenant's data. The run's exposure read models are counted again before it commits (exposure-tally.ts).

import { once } from 'node:events';
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { PACKED, PACKED_WIDTH, type PackedBatch } from '../../defender/packed-records.js';
import { D, decodeLine, FIXED, nullable, readFindingLine, S } from '../../defender/records.js';
import { CATALOG_UPDATE, catalogRow, newestUpdate, type CatalogEntry } from '../../sync/catalog.js';
import { historyDay, noCounts, type RunWriter, type SyncStateUpdate } from '../../sync/run-writer.js';
import type { SyncStateTable } from '../schema.js';
import { recordExposureBefore, tallyExposure } from './exposure-tally.js';
import { BUMP_DATA_VERSION, ensureTenantPartitions, tenantPartition } from './findings-schema.js';

/**
 * Staging columns, in COPY order. What the run reads is staged narrow: each device, software, CVE
 * and detail gets a small number the first time the run meets it (one row naming it), and each
 * finding line is then a row of those numbers. Rows by kind:
 * - d: device `a` is device id t1; D: device `a`'s description (t1..t7, records.ts's D order after the id);
 * - w: software `a` is t1 (vendor), t2 (name), t3 (version); c: CVE `a` is t1; k: detail `a` is the key t1;
 * - S: device `a` has software `b`, at disk paths t1 and registry paths t2;
 * - F, X and U: the finding of device `a`, software `b` and CVE `c` (F lines: with detail `d` and first seen), reported at `at`.
 */
const STAGING_COLUMNS = ['kind', 'a', 'b', 'c', 'd', 'first_seen', 'at', 't1', 't2', 't3', 't4', 't5', 't6', 't7'] as const;
const STAGING_TYPES = 'kind text, a integer, b integer, c integer, d integer, first_seen bigint, at bigint, t1 text, t2 text, t3 text, t4 text, t5 text, t6 text, t7 text';
const NULLS = Array.from({ length: 8 }, (_, n) => '\t\\N'.repeat(n));

/**
 * A value in COPY's text format: backslash escapes, \N for null. PostgreSQL's text holds no NUL
 * character, so one is dropped (Defender's data has none; a hostile record must not fail the load).
 */
export function copyText(value: string | null): string {
  if (value === null) return '\\N';
  return /[\\\t\n\r\0]/.test(value) ? value.replace(/[\\\t\n\r\0]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '' })[c]!) : value;
}

/** A naming or description row: its kind and number(s), then its texts. */
function textRow(kind: string, a: number, b: number | null, texts: (string | null)[]): string {
  return `${kind}\t${a}\t${b ?? '\\N'}\t\\N\t\\N\t\\N\t\\N\t${texts.map(copyText).join('\t')}${NULLS[7 - texts.length]}\n`;
}

/** A finding line's row: the numbers of its device, software, CVE and detail. */
const findingRow = (kind: string, device: number, software: number, cve: number, detail: number | null, firstSeen: number | null, at: number) =>
  `${kind}\t${device}\t${software}\t${cve}\t${detail ?? '\\N'}\t${firstSeen === null || Number.isNaN(firstSeen) ? '\\N' : firstSeen}\t${at}${NULLS[7]}\n`;

/** Where a stream of packed batches (one parser thread's) stands: the numbers of what it named. */
export class PackedTexts {
  /** The run's numbers of the stream's CVEs and details, by the stream's own indexes. */
  readonly cves: number[] = [];
  readonly details: number[] = [];
  /** The device and the installed software in effect. */
  device = -1;
  software = -1;
}

/** The tenant's ref in the exposure copy, with its partitions (made on its first sync). */
export async function postgresTenantRef(db: Kysely<any>, connectionId: string): Promise<number> {
  await sql`INSERT INTO vuln.tenant (connection_id) VALUES (${connectionId}) ON CONFLICT DO NOTHING`.execute(db);
  const { ref } = (await sql<{ ref: number }>`SELECT ref FROM vuln.tenant WHERE connection_id = ${connectionId}`.execute(db)).rows[0];
  await ensureTenantPartitions(db, ref);
  return ref;
}

export class PostgresRunWriter implements RunWriter<PackedTexts> {
  readonly counts = noCounts();
  private client: pg.PoolClient | undefined;
  private copy: ReturnType<typeof copyFrom> | undefined;
  private failed: Error | undefined;
  private snapshot = false;
  /** True while the tenant had no findings when this run began: its findings were open before SitePatch saw them. */
  private firstLoad = false;
  /** The time of the data the run brings (its day gets the run's history point). */
  private dataTime: string | undefined;
  /** The run's numbers of the devices, software, CVEs and details it has named, by their keys. */
  private readonly numbers = { device: new Map<string, number>(), software: new Map<string, number>(), cve: new Map<string, number>(), detail: new Map<string, number>() };
  /** Rows waiting for the next write to COPY. */
  private rows = '';
  /** Where line()'s stream stands. */
  private lines = new PackedTexts();

  constructor(private readonly pool: pg.Pool, private readonly tenant: number, private readonly runId: string) {}

  async state(): Promise<SyncStateTable | undefined> {
    return (await this.pool.query<SyncStateTable>('SELECT * FROM vuln.sync_state WHERE tenant_ref = $1', [this.tenant])).rows[0];
  }

  async begin(): Promise<void> {
    Object.assign(this.counts, noCounts());
    this.snapshot = false;
    this.failed = undefined;
    this.dataTime = undefined;
    for (const numbers of Object.values(this.numbers)) numbers.clear();
    this.rows = '';
    this.lines = new PackedTexts();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      this.firstLoad = (await client.query('SELECT 1 FROM vuln.finding WHERE tenant_ref = $1 LIMIT 1', [this.tenant])).rowCount === 0;
      // Row order decides which of a finding's rows counts: the first of a snapshot, each in turn in a delta.
      await client.query(`CREATE TEMP TABLE staging (ord bigint GENERATED ALWAYS AS IDENTITY, ${STAGING_TYPES}) ON COMMIT DROP`);
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
      throw e;
    }
    this.client = client;
    this.copy = client.query(copyFrom(`COPY staging (${STAGING_COLUMNS.join(', ')}) FROM STDIN`));
    this.copy.on('error', (e: Error) => { this.failed ??= e; });
  }

  beginSnapshot(): void {
    this.snapshot = true;
  }

  newStream(): PackedTexts {
    return new PackedTexts();
  }

  /** The run's number of the device `id`, named in staging the first time. */
  private device(id: string): number {
    let n = this.numbers.device.get(id);
    if (n === undefined) {
      this.numbers.device.set(id, n = this.numbers.device.size);
      this.rows += textRow('d', n, null, [id]);
    }
    return n;
  }

  private software(vendor: string, name: string, version: string): number {
    const key = JSON.stringify([vendor, name, version]);
    let n = this.numbers.software.get(key);
    if (n === undefined) {
      this.numbers.software.set(key, n = this.numbers.software.size);
      this.rows += textRow('w', n, null, [vendor, name, version]);
    }
    return n;
  }

  private named(kind: 'cve' | 'detail', text: string): number {
    const numbers = this.numbers[kind];
    let n = numbers.get(text);
    if (n === undefined) {
      numbers.set(text, n = numbers.size);
      this.rows += textRow(kind === 'cve' ? 'c' : 'k', n, null, [text]);
    }
    return n;
  }

  /** A D line: the device in effect from here, and its description. */
  private describeDevice(stream: PackedTexts, f: string[]): void {
    stream.device = this.device(f[D.deviceId]);
    this.rows += textRow('D', stream.device, null, [f[D.deviceName], f[D.osPlatform], f[D.osVersion], f[D.osArchitecture], f[D.rbacGroupId], f[D.rbacGroupName], f[D.lastSeen]].map(nullable));
  }

  /** An S line: the software in effect from here, installed on the device in effect. */
  private installSoftware(stream: PackedTexts, f: string[]): void {
    stream.software = this.software(f[S.vendor], f[S.name], f[S.version]);
    this.rows += textRow('S', stream.device, stream.software, [nullable(f[S.diskPaths]), nullable(f[S.registryPaths])]);
  }

  /**
   * Stages a packed batch of `stream`. Resolves when COPY can take more (the caller then lets the
   * parser thread send the next batch), so memory stays a few batches.
   */
  packed(stream: PackedTexts, { entries, count, texts }: PackedBatch, at: number): Promise<void> | undefined {
    let text = 0;
    for (let i = 0; i < count * PACKED_WIDTH; i += PACKED_WIDTH) {
      switch (entries[i]) {
        case PACKED.device:
          this.describeDevice(stream, decodeLine(texts[text++]));
          break;
        case PACKED.software:
          this.installSoftware(stream, decodeLine(texts[text++]));
          break;
        default: {
          const cve = entries[i + 1];
          if (cve === stream.cves.length) stream.cves.push(this.named('cve', texts[text++]));
          const detail = entries[i + 2];
          if (detail === stream.details.length) stream.details.push(this.named('detail', texts[text++]));
          this.rows += findingRow('F', stream.device, stream.software, stream.cves[cve], stream.details[detail], entries[i + 3], at);
          this.counts.read++;
        }
      }
    }
    return this.flush();
  }

  line(line: string, at: number): void {
    switch (line[0]) {
      case 'D':
        this.describeDevice(this.lines, decodeLine(line));
        break;
      case 'S':
        this.installSoftware(this.lines, decodeLine(line));
        break;
      default: {
        const { cveId, firstSeen, detail } = readFindingLine(line);
        this.counts.read++;
        // Named first: naming adds rows, which must come before the finding's.
        const cve = this.named('cve', cveId);
        const detailNumber = this.named('detail', detail);
        this.rows += findingRow('F', this.lines.device, this.lines.software, cve, detailNumber, firstSeen, at);
      }
    }
    void this.flush();
  }

  fixLine(line: string, at: number): void {
    const f = decodeLine(line);
    if (line[0] === 'X') this.counts.read++;
    const device = this.device(f[FIXED.deviceId]);
    const software = this.software(f[FIXED.vendor], f[FIXED.name], f[FIXED.version]);
    const cve = this.named('cve', f[FIXED.cveId]);
    this.rows += findingRow(line[0], device, software, cve, null, null, at);
    void this.flush();
  }

  /** Writes the waiting rows to COPY; resolves once it can take more when its buffer is full. */
  private flush(): Promise<void> | undefined {
    if (this.failed) throw this.failed;
    if (!this.copy) throw new Error('The run writer has no transaction: begin() first.');
    const rows = this.rows;
    this.rows = '';
    if (!rows || this.copy.write(rows)) return undefined;
    return once(this.copy, 'drain').then(() => undefined);
  }

  /**
   * Ends COPY and makes the staged devices, software, CVEs, details and installations current;
   * then each of the run's numbers maps to its row's ref (tables device_ref, software_ref, cve_ref, detail_ref).
   */
  private async applyStaged(): Promise<pg.PoolClient> {
    const { client, copy } = this;
    if (!client || !copy) throw new Error('The run writer has no transaction: begin() first.');
    copy.end();
    await once(copy, 'finish');
    if (this.failed) throw this.failed;
    this.copy = undefined;
    const tenant = this.tenant;
    await client.query('ANALYZE staging');
    await client.query(`INSERT INTO vuln.device (tenant_ref, device_id, name, os_platform, os_version, os_architecture, rbac_group_id, rbac_group_name, last_seen)
      SELECT DISTINCT ON (s.a) $1::integer, k.t1, s.t1, s.t2, s.t3, s.t4, s.t5::integer, s.t6, s.t7
      FROM staging s JOIN staging k ON k.kind = 'd' AND k.a = s.a WHERE s.kind = 'D' ORDER BY s.a, s.ord DESC
      ON CONFLICT (tenant_ref, device_id) DO UPDATE SET name = excluded.name, os_platform = excluded.os_platform, os_version = excluded.os_version,
        os_architecture = excluded.os_architecture, rbac_group_id = excluded.rbac_group_id, rbac_group_name = excluded.rbac_group_name,
        last_seen = greatest(device.last_seen, excluded.last_seen)
      WHERE (device.name, device.os_platform, device.os_version, device.os_architecture, device.rbac_group_id, device.rbac_group_name)
        IS DISTINCT FROM (excluded.name, excluded.os_platform, excluded.os_version, excluded.os_architecture, excluded.rbac_group_id, excluded.rbac_group_name)
        OR coalesce(excluded.last_seen, '') > coalesce(device.last_seen, '')`, [tenant]);
    await this.addSharedNames(client);
    // A device a fix names that the copy has never held maps to nothing: its lines are dropped.
    await client.query(`CREATE TEMP TABLE device_ref ON COMMIT DROP AS
      SELECT s.a AS n, d.ref FROM staging s JOIN vuln.device d ON d.tenant_ref = $1 AND d.device_id = s.t1 WHERE s.kind = 'd'`, [tenant]);
    await client.query(`CREATE TEMP TABLE software_ref ON COMMIT DROP AS
      SELECT s.a AS n, w.ref FROM staging s JOIN vuln.software w ON (w.vendor, w.name, w.version) = (s.t1, s.t2, s.t3) WHERE s.kind = 'w'`);
    await client.query(`CREATE TEMP TABLE cve_ref ON COMMIT DROP AS SELECT s.a AS n, c.ref FROM staging s JOIN vuln.cve c ON c.cve_id = s.t1 WHERE s.kind = 'c'`);
    await client.query(`CREATE TEMP TABLE detail_ref ON COMMIT DROP AS SELECT s.a AS n, x.ref FROM staging s JOIN vuln.finding_detail x ON x.key = s.t1 WHERE s.kind = 'k'`);
    for (const table of ['device_ref', 'software_ref', 'cve_ref', 'detail_ref']) await client.query(`ANALYZE ${table}`);
    await client.query(`INSERT INTO vuln.installation (device_ref, software_ref, disk_paths, registry_paths)
      SELECT DISTINCT ON (d.ref, w.ref) d.ref, w.ref, s.t1, s.t2
      FROM staging s JOIN device_ref d ON d.n = s.a JOIN software_ref w ON w.n = s.b
      WHERE s.kind = 'S' ORDER BY d.ref, w.ref, s.ord DESC
      ON CONFLICT (device_ref, software_ref) DO UPDATE SET disk_paths = excluded.disk_paths, registry_paths = excluded.registry_paths
      WHERE (installation.disk_paths, installation.registry_paths) IS DISTINCT FROM (excluded.disk_paths, excluded.registry_paths)`);
    return client;
  }

  /**
   * Adds the software, CVEs and details the run named that the store lacks. Every tenant shares
   * these tables, so they are added in short transactions of their own, in key order: in the run's
   * transaction, a row added would hold up any other tenant's sync adding the same one until this
   * run commits (and two such syncs could deadlock). A run that fails leaves them, as names nothing
   * refers to yet.
   */
  private async addSharedNames(client: pg.PoolClient): Promise<void> {
    const software = (await client.query<{ t1: string; t2: string; t3: string }>(`SELECT s.t1, s.t2, s.t3 FROM staging s
      WHERE s.kind = 'w' AND NOT EXISTS (SELECT 1 FROM vuln.software w WHERE (w.vendor, w.name, w.version) = (s.t1, s.t2, s.t3))`)).rows;
    if (software.length) {
      await this.pool.query(`INSERT INTO vuln.software (vendor, name, version) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING`,
        [software.map((r) => r.t1), software.map((r) => r.t2), software.map((r) => r.t3)]);
    }
    const cves = (await client.query<{ t1: string }>(`SELECT s.t1 FROM staging s
      WHERE s.kind = 'c' AND NOT EXISTS (SELECT 1 FROM vuln.cve c WHERE c.cve_id = s.t1)`)).rows;
    if (cves.length) await this.pool.query('INSERT INTO vuln.cve (cve_id) SELECT * FROM unnest($1::text[]) ORDER BY 1 ON CONFLICT DO NOTHING', [cves.map((r) => r.t1)]);
    const details = (await client.query<{ t1: string }>(`SELECT s.t1 FROM staging s
      WHERE s.kind = 'k' AND NOT EXISTS (SELECT 1 FROM vuln.finding_detail x WHERE x.key = s.t1)`)).rows;
    // The detail's fields are its key's, joined by U+001F (records.ts's DETAIL order).
    if (details.length) {
      await this.pool.query(`INSERT INTO vuln.finding_detail (key, severity, cvss, exploitability, update_title, update_id, update_url, update_available)
        SELECT k, nullif(split_part(k, E'\\x1f', 1), ''), nullif(split_part(k, E'\\x1f', 2), '')::double precision, nullif(split_part(k, E'\\x1f', 3), ''),
          nullif(split_part(k, E'\\x1f', 4), ''), nullif(split_part(k, E'\\x1f', 5), ''), nullif(split_part(k, E'\\x1f', 6), ''),
          nullif(split_part(k, E'\\x1f', 7), '')::integer
        FROM unnest($1::text[]) AS k ORDER BY k ON CONFLICT (key) DO NOTHING`, [details.map((r) => r.t1)]);
    }
  }

  async closeUnseen(at: number): Promise<void> {
    if (!this.snapshot) throw new Error('closeUnseen() follows a full snapshot only.');
    const client = await this.applyStaged();
    const { counts, tenant, runId } = this;
    await client.query(`CREATE TEMP TABLE seen ON COMMIT DROP AS
      SELECT DISTINCT ON (d.ref, c.ref, w.ref) d.ref AS device_ref, w.ref AS software_ref, c.ref AS cve_ref, x.ref AS detail_ref, s.first_seen
      FROM staging s JOIN device_ref d ON d.n = s.a JOIN software_ref w ON w.n = s.b JOIN cve_ref c ON c.n = s.c JOIN detail_ref x ON x.n = s.d
      WHERE s.kind = 'F' ORDER BY d.ref, c.ref, w.ref, s.ord`);
    await client.query('ANALYZE seen');
    const same = 'f.tenant_ref = $1 AND f.device_ref = s.device_ref AND f.cve_ref = s.cve_ref AND f.software_ref = s.software_ref';
    counts.reopened = (await client.query(`WITH reopened AS (
        UPDATE vuln.finding f SET detail_ref = s.detail_ref, first_seen = s.first_seen, fixed_at = NULL, reopened = f.reopened + 1
        FROM seen s WHERE ${same} AND f.fixed_at IS NOT NULL RETURNING f.id)
      INSERT INTO vuln.finding_event (tenant_ref, finding_id, at, event, run_id) SELECT $1, id, $2, 'reopened', $3 FROM reopened`, [tenant, at, runId])).rowCount ?? 0;
    counts.updated = (await client.query(`UPDATE vuln.finding f SET detail_ref = s.detail_ref, first_seen = s.first_seen
      FROM seen s WHERE ${same} AND f.fixed_at IS NULL AND f.detail_ref <> s.detail_ref`, [tenant])).rowCount ?? 0;
    // Closed before the new rows go in: those are all listed, so the anti-join need not see them.
    counts.fixed = (await client.query(`WITH fixed AS (
        UPDATE vuln.finding f SET fixed_at = $2 WHERE f.tenant_ref = $1 AND f.fixed_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM seen s WHERE s.device_ref = f.device_ref AND s.cve_ref = f.cve_ref AND s.software_ref = f.software_ref)
        RETURNING f.id)
      INSERT INTO vuln.finding_event (tenant_ref, finding_id, at, event, run_id) SELECT $1, id, $2, 'fixed', $3 FROM fixed`, [tenant, at, runId])).rowCount ?? 0;
    counts.added = (await client.query(`INSERT INTO vuln.finding (tenant_ref, device_ref, software_ref, cve_ref, detail_ref, first_seen, opened_at)
      SELECT $1, s.device_ref, s.software_ref, s.cve_ref, s.detail_ref, s.first_seen, $2 FROM seen s
      WHERE NOT EXISTS (SELECT 1 FROM vuln.finding f WHERE ${same})`, [tenant, at])).rowCount ?? 0;
    // A first load's partition has no statistics yet; the read models are counted from it next.
    if (this.firstLoad) await client.query(`ANALYZE ${tenantPartition('finding', tenant)}`);
  }

  /**
   * Applies a delta's changes in their order, as the embedded writer applies them one by one: each
   * change is compared with the finding's state before it (absent, open or fixed), which is the
   * previous change's outcome or the stored row's. A U line takes back the X line of the same
   * finding and time before it (the Fixed half of an RBAC move).
   */
  async endDelta(): Promise<void> {
    const client = await this.applyStaged();
    const { counts, tenant, runId } = this;
    await client.query(`CREATE TEMP TABLE change ON COMMIT DROP AS
      SELECT s.ord, s.kind, s.at, d.ref AS device_ref, w.ref AS software_ref, c.ref AS cve_ref, x.ref AS detail_ref, s.first_seen
      FROM staging s JOIN device_ref d ON d.n = s.a JOIN software_ref w ON w.n = s.b JOIN cve_ref c ON c.n = s.c LEFT JOIN detail_ref x ON x.n = s.d
      WHERE s.kind IN ('F', 'X', 'U')`);
    // Each U line and the latest X line before it of the same finding and time go (a window, not a
    // lookup per U line: a delta of a large tenant holds tens of thousands of each).
    const takenBack = (await client.query<{ n: number }>(`WITH undo AS (
        SELECT ord, kind, max(ord) FILTER (WHERE kind = 'X') OVER (PARTITION BY device_ref, software_ref, cve_ref, at ORDER BY ord
          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS fix_ord
        FROM change WHERE kind IN ('X', 'U')),
      doomed AS (SELECT ord FROM undo WHERE kind = 'U' UNION SELECT fix_ord FROM undo WHERE kind = 'U' AND fix_ord IS NOT NULL),
      gone AS (DELETE FROM change c USING doomed d WHERE c.ord = d.ord RETURNING c.kind)
      SELECT count(*) FILTER (WHERE kind = 'X')::integer AS n FROM gone`)).rows[0].n;
    counts.read -= takenBack;
    // before: A (absent), F (open) or X (fixed) just before the change.
    await client.query(`CREATE TEMP TABLE step ON COMMIT DROP AS
      SELECT t.*, CASE WHEN t.finding_id IS NULL AND t.earlier_present = 0 THEN 'A'
          ELSE coalesce(t.previous_kind, CASE WHEN t.stored_fixed_at IS NULL THEN 'F' ELSE 'X' END) END AS before,
        coalesce(t.earlier_details[cardinality(t.earlier_details)], t.stored_detail) AS detail_before
      FROM (SELECT c.*, f.id AS finding_id, f.fixed_at AS stored_fixed_at, f.detail_ref AS stored_detail,
          lag(c.kind) OVER key_order AS previous_kind,
          count(*) FILTER (WHERE c.kind = 'F') OVER earlier AS earlier_present,
          array_agg(c.detail_ref) FILTER (WHERE c.kind = 'F') OVER earlier AS earlier_details
        FROM change c LEFT JOIN vuln.finding f ON f.tenant_ref = $1 AND (f.device_ref, f.cve_ref, f.software_ref) = (c.device_ref, c.cve_ref, c.software_ref)
        WINDOW key_order AS (PARTITION BY c.device_ref, c.software_ref, c.cve_ref ORDER BY c.ord),
          earlier AS (key_order ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) t`, [tenant]);
    const tally = (await client.query<{ added: number; updated: number; reopened: number; fixed: number }>(`SELECT
        count(*) FILTER (WHERE kind = 'F' AND before = 'A')::integer AS added,
        count(*) FILTER (WHERE kind = 'F' AND before = 'F' AND detail_ref IS DISTINCT FROM detail_before)::integer AS updated,
        count(*) FILTER (WHERE kind = 'F' AND before = 'X')::integer AS reopened,
        count(*) FILTER (WHERE kind = 'X' AND before = 'F')::integer AS fixed
      FROM step`)).rows[0];
    Object.assign(counts, tally);
    await recordExposureBefore(client, tenant);
    const key = 'f.tenant_ref = $1 AND (f.device_ref, f.cve_ref, f.software_ref) = (s.device_ref, s.cve_ref, s.software_ref)';
    await client.query(`INSERT INTO vuln.finding (tenant_ref, device_ref, software_ref, cve_ref, detail_ref, first_seen, opened_at)
      SELECT $1, device_ref, software_ref, cve_ref, detail_ref, first_seen, at FROM step WHERE kind = 'F' AND before = 'A'`, [tenant]);
    // Each finding ends as its last change left it: the detail of the last change that wrote one,
    // and fixed at the time of the last fix that closed it unless a later change reopened it.
    await client.query(`WITH writes AS (
        SELECT DISTINCT ON (device_ref, software_ref, cve_ref) device_ref, software_ref, cve_ref, detail_ref, first_seen FROM step
        WHERE kind = 'F' AND (before <> 'F' OR detail_ref IS DISTINCT FROM detail_before) ORDER BY device_ref, software_ref, cve_ref, ord DESC),
      outcome AS (
        SELECT device_ref, software_ref, cve_ref, (array_agg(kind ORDER BY ord DESC))[1] AS last_kind,
          max(at) FILTER (WHERE kind = 'X' AND before = 'F') AS fixed_at, count(*) FILTER (WHERE kind = 'F' AND before = 'X')::integer AS reopened
        FROM step WHERE before <> 'A' OR kind = 'F' GROUP BY device_ref, software_ref, cve_ref)
      UPDATE vuln.finding f SET detail_ref = coalesce(w.detail_ref, f.detail_ref), first_seen = CASE WHEN w.device_ref IS NULL THEN f.first_seen ELSE w.first_seen END,
        fixed_at = CASE WHEN s.last_kind = 'F' THEN NULL ELSE coalesce(s.fixed_at, f.fixed_at) END, reopened = f.reopened + s.reopened
      FROM outcome s LEFT JOIN writes w ON (w.device_ref, w.software_ref, w.cve_ref) = (s.device_ref, s.software_ref, s.cve_ref)
      WHERE ${key} AND (w.device_ref IS NOT NULL OR s.fixed_at IS NOT NULL OR s.reopened > 0)`, [tenant]);
    await client.query(`INSERT INTO vuln.finding_event (tenant_ref, finding_id, at, event, run_id)
      SELECT $1, f.id, s.at, CASE s.kind WHEN 'X' THEN 'fixed' ELSE 'reopened' END, $2
      FROM step s JOIN vuln.finding f ON ${key}
      WHERE (s.kind = 'X' AND s.before = 'F') OR (s.kind = 'F' AND s.before = 'X') ORDER BY s.ord`, [tenant, runId]);
  }

  async saveCatalog(rows: CatalogEntry[]): Promise<string | undefined> {
    const client = this.transaction();
    const entries = rows.map(catalogRow).filter((row) => row !== null);
    // A few thousand entries a statement: the catalog of a first sync holds every CVE Defender knows.
    for (let i = 0; i < entries.length; i += CATALOG_BATCH) {
      await client.query(`INSERT INTO vuln.vulnerability (tenant_ref, cve_id, name, description, severity, cvss, cvss_vector, epss,
          public_exploit, exploit_verified, exploit_in_kit, exploit_types, tags, exposed_machines, published_on, updated_on, first_detected, patch_first_available)
        SELECT $1, id, name, description, severity, cvss, vector, epss, "publicExploit", verified, "inKit", types, tags, exposed, published, updated, "firstDetected", patch
        FROM jsonb_to_recordset($2::jsonb) AS v(id text, name text, description text, severity text, cvss double precision, vector text, epss double precision,
          "publicExploit" integer, verified integer, "inKit" integer, types text, tags text, exposed integer, published text, updated text, "firstDetected" text, patch text)
        ON CONFLICT (tenant_ref, cve_id) DO UPDATE SET ${CATALOG_UPDATE}`,
      [this.tenant, JSON.stringify(entries.slice(i, i + CATALOG_BATCH))]);
    }
    return newestUpdate(rows);
  }

  async saveState(state: SyncStateUpdate): Promise<void> {
    if (state.deltaCheckpoint) this.dataTime = state.deltaCheckpoint;
    await this.transaction().query(`INSERT INTO vuln.sync_state (tenant_ref, snapshot_time, snapshot_rows, delta_checkpoint, catalog_checkpoint, last_full_at)
      VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_ref) DO UPDATE SET
      snapshot_time = coalesce(excluded.snapshot_time, sync_state.snapshot_time), snapshot_rows = coalesce(excluded.snapshot_rows, sync_state.snapshot_rows),
      delta_checkpoint = coalesce(excluded.delta_checkpoint, sync_state.delta_checkpoint),
      catalog_checkpoint = coalesce(excluded.catalog_checkpoint, sync_state.catalog_checkpoint), last_full_at = coalesce(excluded.last_full_at, sync_state.last_full_at)`,
    [this.tenant, state.snapshotTime ?? null, state.snapshotRows ?? null, state.deltaCheckpoint ?? null, state.catalogCheckpoint ?? null, state.fullAt ?? null]);
  }

  async commit(): Promise<void> {
    const client = this.transaction();
    if (this.copy) throw new Error('The run\'s changes were staged but not applied.');
    const { added, reopened, fixed } = this.counts;
    const { latest } = (await client.query<{ latest: string | null }>('SELECT max(day) AS latest FROM vuln.exposure_day WHERE tenant_ref = $1', [this.tenant])).rows[0];
    await tallyExposure(client, this.tenant, historyDay(this.dataTime, latest), (this.firstLoad ? 0 : added) + reopened, fixed, !this.snapshot);
    // Last: it locks the one row until COMMIT, which other tenants' commits wait for.
    await client.query(BUMP_DATA_VERSION);
    try {
      await client.query('COMMIT');
    } finally {
      this.client = undefined;
      client.release();
    }
  }

  /** Gives the run up: the connection is closed mid-transaction, so nothing of it stays. */
  async rollback(): Promise<void> {
    const { client, copy } = this;
    this.client = undefined;
    this.copy = undefined;
    if (!client) return;
    copy?.destroy();
    client.release(true);
  }

  private transaction(): pg.PoolClient {
    if (!this.client) throw new Error('The run writer has no transaction: begin() first.');
    return this.client;
  }
}

const CATALOG_BATCH = 2_000;
