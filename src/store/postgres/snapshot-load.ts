// A full snapshot into the PostgreSQL store: the parser threads' packed batches
// (defender/packed-records.ts) stream through COPY into an index-free staging table, and set-based
// statements then apply the difference in the same transaction: devices, software, CVEs and
// details that are new or changed; findings that are new, changed or reopened; and the open ones
// the snapshot no longer lists, closed. Unchanged rows are only read, never rewritten (a re-import
// that rewrites every row was measured at about 49k rows/s, and it bloats the table). A load that
// fails or is abandoned rolls back and leaves nothing.

import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { PACKED, PACKED_WIDTH, type PackedBatch } from '../../defender/packed-records.js';
import { D, decodeLine, S } from '../../defender/records.js';
import { noCounts, type WriteCounts } from '../../sync/finding-writer.js';

/** Staging columns, in COPY order. */
const STAGING_COLUMNS = [
  'device_id', 'device_name', 'os_platform', 'os_version', 'os_architecture', 'rbac_group_id', 'rbac_group_name', 'last_seen',
  'vendor', 'name', 'version', 'disk_paths', 'registry_paths', 'cve_id', 'detail_key', 'first_seen',
] as const;

/**
 * A value in COPY's text format: backslash escapes, \N for null. PostgreSQL's text holds no NUL
 * character, so one is dropped (Defender's data has none; a hostile record must not fail the load).
 */
function copyText(value: string | null): string {
  if (value === null) return '\\N';
  return /[\\\t\n\r\0]/.test(value) ? value.replace(/[\\\t\n\r\0]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '' })[c]!) : value;
}

const nullable = (value: string) => (value === '' ? null : value);

/** What a stream of packed batches (one parser thread's) has named so far. */
export class PackedTexts {
  readonly cves: string[] = [];
  readonly details: string[] = [];
  /** The COPY fields of the device and the installed software in effect. */
  device = '';
  software = '';
}

export class PostgresSnapshotLoad {
  private readonly copy;
  private failed: Error | undefined;
  private read = 0;

  private constructor(private readonly client: pg.PoolClient, private readonly tenantRef: number) {
    this.copy = client.query(copyFrom(`COPY staging (${STAGING_COLUMNS.join(', ')}) FROM STDIN`));
    this.copy.on('error', (e: Error) => { this.failed ??= e; });
  }

  /** Opens the load's transaction on a client of `pool`; the tenant's partitions must exist. */
  static async begin(pool: pg.Pool, tenantRef: number): Promise<PostgresSnapshotLoad> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // Row order decides which of a finding's rows counts when a snapshot lists it twice: the first.
      await client.query(`CREATE TEMP TABLE staging (ord bigint GENERATED ALWAYS AS IDENTITY, ${STAGING_COLUMNS.map((c) => `${c} text`).join(', ')}) ON COMMIT DROP`);
      return new PostgresSnapshotLoad(client, tenantRef);
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
      throw e;
    }
  }

  /**
   * Stages a packed batch of `texts`'s stream. Resolves when COPY can take more (the caller then
   * lets the parser thread send the next batch), so memory stays a few batches.
   */
  packed(texts: PackedTexts, { entries, count, texts: batchTexts }: PackedBatch): Promise<void> | undefined {
    if (this.failed) throw this.failed;
    let text = 0;
    let rows = '';
    for (let i = 0; i < count * PACKED_WIDTH; i += PACKED_WIDTH) {
      switch (entries[i]) {
        case PACKED.device: {
          const f = decodeLine(batchTexts[text++]);
          texts.device = [f[D.deviceId], nullable(f[D.deviceName]), nullable(f[D.osPlatform]), nullable(f[D.osVersion]), nullable(f[D.osArchitecture]),
            nullable(f[D.rbacGroupId]), nullable(f[D.rbacGroupName]), nullable(f[D.lastSeen])].map(copyText).join('\t');
          break;
        }
        case PACKED.software: {
          const f = decodeLine(batchTexts[text++]);
          texts.software = [f[S.vendor], f[S.name], f[S.version], nullable(f[S.diskPaths]), nullable(f[S.registryPaths])].map(copyText).join('\t');
          break;
        }
        default: {
          const cve = entries[i + 1];
          if (cve === texts.cves.length) texts.cves.push(copyText(batchTexts[text++]));
          const detail = entries[i + 2];
          if (detail === texts.details.length) texts.details.push(copyText(batchTexts[text++]));
          const firstSeen = entries[i + 3];
          rows += `${texts.device}\t${texts.software}\t${texts.cves[cve]}\t${texts.details[detail]}\t${Number.isNaN(firstSeen) ? '\\N' : firstSeen}\n`;
          this.read++;
        }
      }
    }
    if (this.copy.write(rows)) return undefined;
    return once(this.copy, 'drain').then(() => undefined);
  }

  /** Applies the staged snapshot, taken at `at` (unix seconds), and commits. */
  async finish(at: number, runId: string, snapshotTime: string): Promise<WriteCounts> {
    const { client } = this;
    const counts = noCounts();
    try {
      this.copy.end();
      await once(this.copy, 'finish');
      if (this.failed) throw this.failed;
      counts.read = this.read;
      const tenant = this.tenantRef;
      await client.query('ANALYZE staging');
      await client.query(`INSERT INTO vuln.device (tenant_ref, device_id, name, os_platform, os_version, os_architecture, rbac_group_id, rbac_group_name, last_seen)
        SELECT DISTINCT ON (device_id) $1::integer, device_id, device_name, os_platform, os_version, os_architecture, rbac_group_id::integer, rbac_group_name, last_seen
        FROM staging ORDER BY device_id, ord DESC
        ON CONFLICT (tenant_ref, device_id) DO UPDATE SET name = excluded.name, os_platform = excluded.os_platform, os_version = excluded.os_version,
          os_architecture = excluded.os_architecture, rbac_group_id = excluded.rbac_group_id, rbac_group_name = excluded.rbac_group_name,
          last_seen = greatest(device.last_seen, excluded.last_seen)
        WHERE (device.name, device.os_platform, device.os_version, device.os_architecture, device.rbac_group_id, device.rbac_group_name)
          IS DISTINCT FROM (excluded.name, excluded.os_platform, excluded.os_version, excluded.os_architecture, excluded.rbac_group_id, excluded.rbac_group_name)
          OR coalesce(excluded.last_seen, '') > coalesce(device.last_seen, '')`, [tenant]);
      await client.query(`INSERT INTO vuln.software (vendor, name, version) SELECT DISTINCT vendor, name, version FROM staging ON CONFLICT DO NOTHING`);
      await client.query(`INSERT INTO vuln.cve (cve_id) SELECT DISTINCT cve_id FROM staging ON CONFLICT DO NOTHING`);
      // The detail's fields are its key's, joined by U+001F (records.ts's DETAIL order).
      await client.query(`INSERT INTO vuln.finding_detail (key, severity, cvss, exploitability, update_title, update_id, update_url, update_available)
        SELECT k, nullif(split_part(k, E'\\x1f', 1), ''), nullif(split_part(k, E'\\x1f', 2), '')::double precision, nullif(split_part(k, E'\\x1f', 3), ''),
          nullif(split_part(k, E'\\x1f', 4), ''), nullif(split_part(k, E'\\x1f', 5), ''), nullif(split_part(k, E'\\x1f', 6), ''),
          nullif(split_part(k, E'\\x1f', 7), '')::integer
        FROM (SELECT DISTINCT detail_key AS k FROM staging) d ON CONFLICT (key) DO NOTHING`);
      await client.query(`CREATE TEMP TABLE seen ON COMMIT DROP AS
        SELECT DISTINCT ON (d.ref, c.ref, w.ref) d.ref AS device_ref, w.ref AS software_ref, c.ref AS cve_ref, x.ref AS detail_ref,
          s.first_seen::bigint AS first_seen, s.disk_paths, s.registry_paths
        FROM staging s JOIN vuln.device d ON d.tenant_ref = $1 AND d.device_id = s.device_id
        JOIN vuln.software w ON (w.vendor, w.name, w.version) = (s.vendor, s.name, s.version)
        JOIN vuln.cve c ON c.cve_id = s.cve_id JOIN vuln.finding_detail x ON x.key = s.detail_key
        ORDER BY d.ref, c.ref, w.ref, s.ord`, [tenant]);
      await client.query('ANALYZE seen');
      await client.query(`INSERT INTO vuln.installation (device_ref, software_ref, disk_paths, registry_paths)
        SELECT DISTINCT ON (device_ref, software_ref) device_ref, software_ref, disk_paths, registry_paths FROM seen
        ON CONFLICT (device_ref, software_ref) DO UPDATE SET disk_paths = excluded.disk_paths, registry_paths = excluded.registry_paths
        WHERE (installation.disk_paths, installation.registry_paths) IS DISTINCT FROM (excluded.disk_paths, excluded.registry_paths)`);

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
      await client.query(`INSERT INTO vuln.sync_state (tenant_ref, snapshot_time, snapshot_rows, delta_checkpoint, last_full_at) VALUES ($1, $2, $3, $2, $2)
        ON CONFLICT (tenant_ref) DO UPDATE SET snapshot_time = excluded.snapshot_time, snapshot_rows = excluded.snapshot_rows,
          delta_checkpoint = excluded.delta_checkpoint, last_full_at = excluded.last_full_at`, [tenant, snapshotTime, counts.read]);
      await client.query('COMMIT');
      return counts;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** Gives the load up: the connection is closed mid-transaction, so nothing of it stays. */
  abort(): void {
    this.copy.destroy();
    this.client.release(true);
  }
}
