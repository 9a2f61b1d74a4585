// A sync run into the PostgreSQL store. What the run reads (a full snapshot's packed batches or
// JSON pages, a delta's changes) streams through COPY into an index-free staging table, and
// set-based statements apply the difference at the end, in the run's one transaction: devices,
// software, CVEs and details that are new or changed; findings that are new, changed, reopened or
// fixed; and, after a full snapshot, the open ones it no longer lists, closed. Unchanged rows are
// only read, never rewritten (a re-import that rewrites every row was measured at about 49k rows/s,
// and it bloats the table). A run that fails, or whose process dies, leaves nothing of the
// tenant's data.

import { once } from 'node:events';
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { PACKED, PACKED_WIDTH, type PackedBatch } from '../../defender/packed-records.js';
import { D, decodeLine, FIXED, nullable, readFindingLine, S } from '../../defender/records.js';
import { CATALOG_UPDATE, catalogRow, newestUpdate, type CatalogEntry } from '../../sync/catalog.js';
import { noCounts, type RunWriter, type SyncStateUpdate } from '../../sync/run-writer.js';
import type { SyncStateTable } from '../schema.js';
import { ensureTenantPartitions } from './findings-schema.js';

/** Staging columns, in COPY order: the line's kind (F, X or U), its device, software and finding. */
const STAGING_COLUMNS = [
  'kind', 'device_id', 'device_name', 'os_platform', 'os_version', 'os_architecture', 'rbac_group_id', 'rbac_group_name', 'last_seen',
  'vendor', 'name', 'version', 'disk_paths', 'registry_paths', 'cve_id', 'detail_key', 'first_seen', 'at',
] as const;

/** An X or U line stages its key only: seven device fields and two software fields are absent. */
const NO_DEVICE_FIELDS = '\t\\N'.repeat(7);
const NO_PATHS = '\t\\N\t\\N';

/**
 * A value in COPY's text format: backslash escapes, \N for null. PostgreSQL's text holds no NUL
 * character, so one is dropped (Defender's data has none; a hostile record must not fail the load).
 */
function copyText(value: string | null): string {
  if (value === null) return '\\N';
  return /[\\\t\n\r\0]/.test(value) ? value.replace(/[\\\t\n\r\0]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '' })[c]!) : value;
}

const deviceText = (f: string[]) => [f[D.deviceId], nullable(f[D.deviceName]), nullable(f[D.osPlatform]), nullable(f[D.osVersion]),
  nullable(f[D.osArchitecture]), nullable(f[D.rbacGroupId]), nullable(f[D.rbacGroupName]), nullable(f[D.lastSeen])].map(copyText).join('\t');
const softwareText = (f: string[]) => [f[S.vendor], f[S.name], f[S.version], nullable(f[S.diskPaths]), nullable(f[S.registryPaths])].map(copyText).join('\t');

/** What a stream of packed batches (one parser thread's) has named so far. */
export class PackedTexts {
  readonly cves: string[] = [];
  readonly details: string[] = [];
  /** The COPY fields of the device and the installed software in effect. */
  device = '';
  software = '';
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
  /** The device and software in effect for line()'s F lines. */
  private readonly texts = new PackedTexts();

  constructor(private readonly pool: pg.Pool, private readonly tenant: number, private readonly runId: string) {}

  async state(): Promise<SyncStateTable | undefined> {
    return (await this.pool.query<SyncStateTable>('SELECT * FROM vuln.sync_state WHERE tenant_ref = $1', [this.tenant])).rows[0];
  }

  async begin(): Promise<void> {
    Object.assign(this.counts, noCounts());
    this.snapshot = false;
    this.failed = undefined;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Row order decides which of a finding's rows counts: the first of a snapshot, each in turn in a delta.
      await client.query(`CREATE TEMP TABLE staging (ord bigint GENERATED ALWAYS AS IDENTITY, ${STAGING_COLUMNS.map((c) => `${c} text`).join(', ')}) ON COMMIT DROP`);
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

  /**
   * Stages a packed batch of `texts`'s stream. Resolves when COPY can take more (the caller then
   * lets the parser thread send the next batch), so memory stays a few batches.
   */
  packed(texts: PackedTexts, { entries, count, texts: batchTexts }: PackedBatch, at: number): Promise<void> | undefined {
    let text = 0;
    let rows = '';
    for (let i = 0; i < count * PACKED_WIDTH; i += PACKED_WIDTH) {
      switch (entries[i]) {
        case PACKED.device:
          texts.device = deviceText(decodeLine(batchTexts[text++]));
          break;
        case PACKED.software:
          texts.software = softwareText(decodeLine(batchTexts[text++]));
          break;
        default: {
          const cve = entries[i + 1];
          if (cve === texts.cves.length) texts.cves.push(copyText(batchTexts[text++]));
          const detail = entries[i + 2];
          if (detail === texts.details.length) texts.details.push(copyText(batchTexts[text++]));
          const firstSeen = entries[i + 3];
          rows += `F\t${texts.device}\t${texts.software}\t${texts.cves[cve]}\t${texts.details[detail]}\t${Number.isNaN(firstSeen) ? '\\N' : firstSeen}\t${at}\n`;
          this.counts.read++;
        }
      }
    }
    return this.write(rows);
  }

  line(line: string, at: number): void {
    switch (line[0]) {
      case 'D':
        this.texts.device = deviceText(decodeLine(line));
        break;
      case 'S':
        this.texts.software = softwareText(decodeLine(line));
        break;
      default: {
        const { cveId, firstSeen, detail } = readFindingLine(line);
        this.counts.read++;
        void this.write(`F\t${this.texts.device}\t${this.texts.software}\t${copyText(cveId)}\t${copyText(detail)}\t${firstSeen ?? '\\N'}\t${at}\n`);
      }
    }
  }

  fixLine(line: string, at: number): void {
    const f = decodeLine(line);
    if (line[0] === 'X') this.counts.read++;
    void this.write(`${line[0]}\t${copyText(f[FIXED.deviceId])}${NO_DEVICE_FIELDS}\t${[f[FIXED.vendor], f[FIXED.name], f[FIXED.version]].map(copyText).join('\t')}`
      + `${NO_PATHS}\t${copyText(f[FIXED.cveId])}\t\\N\t\\N\t${at}\n`);
  }

  /** Writes rows to COPY; resolves once it can take more when its buffer is full. */
  private write(rows: string): Promise<void> | undefined {
    if (this.failed) throw this.failed;
    if (!this.copy) throw new Error('The run writer has no transaction: begin() first.');
    if (!rows || this.copy.write(rows)) return undefined;
    return once(this.copy, 'drain').then(() => undefined);
  }

  /** Ends COPY and makes the staged rows' devices, software, CVEs, details and installations current. */
  private async applyStaged(): Promise<pg.PoolClient> {
    const { client, copy } = this;
    if (!client || !copy) throw new Error('The run writer has no transaction: begin() first.');
    copy.end();
    await once(copy, 'finish');
    if (this.failed) throw this.failed;
    this.copy = undefined;
    const tenant = this.tenant;
    await client.query('ANALYZE staging');
    // X and U lines name a finding; only F lines describe its device and software.
    await client.query(`INSERT INTO vuln.device (tenant_ref, device_id, name, os_platform, os_version, os_architecture, rbac_group_id, rbac_group_name, last_seen)
      SELECT DISTINCT ON (device_id) $1::integer, device_id, device_name, os_platform, os_version, os_architecture, rbac_group_id::integer, rbac_group_name, last_seen
      FROM staging WHERE kind = 'F' ORDER BY device_id, ord DESC
      ON CONFLICT (tenant_ref, device_id) DO UPDATE SET name = excluded.name, os_platform = excluded.os_platform, os_version = excluded.os_version,
        os_architecture = excluded.os_architecture, rbac_group_id = excluded.rbac_group_id, rbac_group_name = excluded.rbac_group_name,
        last_seen = greatest(device.last_seen, excluded.last_seen)
      WHERE (device.name, device.os_platform, device.os_version, device.os_architecture, device.rbac_group_id, device.rbac_group_name)
        IS DISTINCT FROM (excluded.name, excluded.os_platform, excluded.os_version, excluded.os_architecture, excluded.rbac_group_id, excluded.rbac_group_name)
        OR coalesce(excluded.last_seen, '') > coalesce(device.last_seen, '')`, [tenant]);
    await this.addSharedNames(client);
    await client.query(`INSERT INTO vuln.installation (device_ref, software_ref, disk_paths, registry_paths)
      SELECT DISTINCT ON (d.ref, w.ref) d.ref, w.ref, s.disk_paths, s.registry_paths
      FROM staging s JOIN vuln.device d ON d.tenant_ref = $1 AND d.device_id = s.device_id
      JOIN vuln.software w ON (w.vendor, w.name, w.version) = (s.vendor, s.name, s.version)
      WHERE s.kind = 'F' ORDER BY d.ref, w.ref, s.ord DESC
      ON CONFLICT (device_ref, software_ref) DO UPDATE SET disk_paths = excluded.disk_paths, registry_paths = excluded.registry_paths
      WHERE (installation.disk_paths, installation.registry_paths) IS DISTINCT FROM (excluded.disk_paths, excluded.registry_paths)`, [tenant]);
    return client;
  }

  /**
   * Adds the software, CVEs and details the staged rows name that the store lacks. Every tenant
   * shares these tables, so they are added in short transactions of their own, in key order: in
   * the run's transaction, a row added would hold up any other tenant's sync adding the same one
   * until this run commits (and two such syncs could deadlock). A run that fails leaves them, as
   * names nothing refers to yet.
   */
  private async addSharedNames(client: pg.PoolClient): Promise<void> {
    const software = (await client.query<{ vendor: string; name: string; version: string }>(`SELECT DISTINCT s.vendor, s.name, s.version FROM staging s
      WHERE s.kind = 'F' AND NOT EXISTS (SELECT 1 FROM vuln.software w WHERE (w.vendor, w.name, w.version) = (s.vendor, s.name, s.version))`)).rows;
    if (software.length) {
      await this.pool.query(`INSERT INTO vuln.software (vendor, name, version) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING`,
        [software.map((r) => r.vendor), software.map((r) => r.name), software.map((r) => r.version)]);
    }
    const cves = (await client.query<{ cve_id: string }>(`SELECT DISTINCT s.cve_id FROM staging s
      WHERE s.kind = 'F' AND NOT EXISTS (SELECT 1 FROM vuln.cve c WHERE c.cve_id = s.cve_id)`)).rows;
    if (cves.length) await this.pool.query('INSERT INTO vuln.cve (cve_id) SELECT * FROM unnest($1::text[]) ORDER BY 1 ON CONFLICT DO NOTHING', [cves.map((r) => r.cve_id)]);
    const details = (await client.query<{ detail_key: string }>(`SELECT DISTINCT s.detail_key FROM staging s
      WHERE s.kind = 'F' AND NOT EXISTS (SELECT 1 FROM vuln.finding_detail x WHERE x.key = s.detail_key)`)).rows;
    // The detail's fields are its key's, joined by U+001F (records.ts's DETAIL order).
    if (details.length) {
      await this.pool.query(`INSERT INTO vuln.finding_detail (key, severity, cvss, exploitability, update_title, update_id, update_url, update_available)
        SELECT k, nullif(split_part(k, E'\\x1f', 1), ''), nullif(split_part(k, E'\\x1f', 2), '')::double precision, nullif(split_part(k, E'\\x1f', 3), ''),
          nullif(split_part(k, E'\\x1f', 4), ''), nullif(split_part(k, E'\\x1f', 5), ''), nullif(split_part(k, E'\\x1f', 6), ''),
          nullif(split_part(k, E'\\x1f', 7), '')::integer
        FROM unnest($1::text[]) AS k ORDER BY k ON CONFLICT (key) DO NOTHING`, [details.map((r) => r.detail_key)]);
    }
  }

  async closeUnseen(at: number): Promise<void> {
    if (!this.snapshot) throw new Error('closeUnseen() follows a full snapshot only.');
    const client = await this.applyStaged();
    const { counts, tenant, runId } = this;
    await client.query(`CREATE TEMP TABLE seen ON COMMIT DROP AS
      SELECT DISTINCT ON (d.ref, c.ref, w.ref) d.ref AS device_ref, w.ref AS software_ref, c.ref AS cve_ref, x.ref AS detail_ref, s.first_seen::bigint AS first_seen
      FROM staging s JOIN vuln.device d ON d.tenant_ref = $1 AND d.device_id = s.device_id
      JOIN vuln.software w ON (w.vendor, w.name, w.version) = (s.vendor, s.name, s.version)
      JOIN vuln.cve c ON c.cve_id = s.cve_id JOIN vuln.finding_detail x ON x.key = s.detail_key
      ORDER BY d.ref, c.ref, w.ref, s.ord`, [tenant]);
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
      SELECT s.ord, s.kind, s.at::bigint AS at, d.ref AS device_ref, w.ref AS software_ref, c.ref AS cve_ref, x.ref AS detail_ref, s.first_seen::bigint AS first_seen
      FROM staging s JOIN vuln.device d ON d.tenant_ref = $1 AND d.device_id = s.device_id
      JOIN vuln.software w ON (w.vendor, w.name, w.version) = (s.vendor, s.name, s.version)
      JOIN vuln.cve c ON c.cve_id = s.cve_id LEFT JOIN vuln.finding_detail x ON x.key = s.detail_key`, [tenant]);
    const takenBack = (await client.query<{ n: number }>(`WITH undo AS (
        SELECT u.ord, (SELECT max(x.ord) FROM change x WHERE x.kind = 'X' AND x.ord < u.ord AND x.at = u.at
          AND (x.device_ref, x.software_ref, x.cve_ref) = (u.device_ref, u.software_ref, u.cve_ref)) AS fix_ord
        FROM change u WHERE u.kind = 'U'),
      gone AS (DELETE FROM change c USING undo WHERE c.ord = undo.ord OR c.ord = undo.fix_ord RETURNING c.kind)
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
