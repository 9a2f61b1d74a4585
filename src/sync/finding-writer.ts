// Writes findings into findings.db inside one transaction per sync, so a failed or killed sync
// leaves nothing behind. Unchanged findings are only read, never rewritten: a row's hash tells
// whether anything that matters changed. A full snapshot marks what it saw in a bitmap and closes
// the open findings it did not see.

import type SQLite from 'better-sqlite3';
import { decodeRow, FIELD_INDEX as F, findingKey } from '../defender/records.js';

export interface WriteCounts {
  read: number;
  added: number;
  updated: number;
  reopened: number;
  fixed: number;
}

const nullable = (value: string) => (value === '' ? null : value);

export class FindingWriter {
  readonly counts: WriteCounts = { read: 0, added: 0, updated: 0, reopened: 0, fixed: 0 };
  private readonly find: SQLite.Statement<[string, string], { id: number; row_hash: number; status: string }>;
  private readonly insert: SQLite.Statement;
  private readonly update: SQLite.Statement;
  private readonly fix: SQLite.Statement;
  private readonly event: SQLite.Statement;
  private readonly upsertDevice: SQLite.Statement;
  private lastDevice = '';
  private open = false;

  constructor(
    private readonly db: SQLite.Database,
    private readonly connectionId: string,
    private readonly runId: string,
  ) {
    this.find = db.prepare('SELECT id, row_hash, status FROM finding WHERE connection_id = ? AND key = ?');
    this.insert = db.prepare(`INSERT INTO finding (connection_id, key, device_id, software_vendor, software_name, software_version, cve_id,
      severity, cvss, exploitability, update_title, update_id, update_url, update_available, disk_paths, registry_paths,
      first_seen, last_seen, row_hash, status, opened_at, reopened)
      VALUES (@connection, @key, @device, @vendor, @name, @version, @cve, @severity, @cvss, @exploitability, @updateTitle, @updateId,
      @updateUrl, @updateAvailable, @diskPaths, @registryPaths, @firstSeen, @lastSeen, @rowHash, 'open', @at, 0)`);
    this.update = db.prepare(`UPDATE finding SET severity = @severity, cvss = @cvss, exploitability = @exploitability,
      update_title = @updateTitle, update_id = @updateId, update_url = @updateUrl, update_available = @updateAvailable,
      disk_paths = @diskPaths, registry_paths = @registryPaths, first_seen = @firstSeen, last_seen = @lastSeen, row_hash = @rowHash,
      status = 'open', fixed_at = NULL, reopened = reopened + @reopen WHERE id = @id`);
    this.fix = db.prepare(`UPDATE finding SET status = 'fixed', fixed_at = ? WHERE id = ?`);
    this.event = db.prepare('INSERT INTO finding_event (finding_id, at, event, run_id) VALUES (?, ?, ?, ?)');
    this.upsertDevice = db.prepare(`INSERT INTO device (connection_id, device_id, name, os_platform, os_version, os_architecture,
      rbac_group_id, rbac_group_name, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (connection_id, device_id) DO UPDATE SET name = excluded.name, os_platform = excluded.os_platform,
      os_version = excluded.os_version, os_architecture = excluded.os_architecture, rbac_group_id = excluded.rbac_group_id,
      rbac_group_name = excluded.rbac_group_name, last_seen = max(coalesce(device.last_seen, ''), coalesce(excluded.last_seen, ''))`);
  }

  begin(): void {
    this.db.exec('BEGIN IMMEDIATE');
    this.open = true;
  }

  commit(): void {
    this.db.exec('COMMIT');
    this.open = false;
  }

  rollback(): void {
    if (this.open) this.db.exec('ROLLBACK');
    this.open = false;
  }

  /** Largest finding id so far: rows above it are created by this run. */
  maxId(): number {
    return (this.db.prepare('SELECT coalesce(max(id), 0) AS id FROM finding').get() as { id: number }).id;
  }

  private device(f: string[]): void {
    if (f[F.deviceId] === this.lastDevice) return;
    this.lastDevice = f[F.deviceId];
    this.upsertDevice.run(this.connectionId, f[F.deviceId], nullable(f[F.deviceName]), nullable(f[F.osPlatform]), nullable(f[F.osVersion]),
      nullable(f[F.osArchitecture]), f[F.rbacGroupId] === '' ? null : Number(f[F.rbacGroupId]), nullable(f[F.rbacGroupName]), nullable(f[F.lastSeen]));
  }

  private params(f: string[], key: string, at: string) {
    return {
      connection: this.connectionId, key, device: f[F.deviceId], vendor: f[F.vendor], name: f[F.name], version: f[F.version], cve: f[F.cveId],
      severity: nullable(f[F.severity]), cvss: f[F.cvss] === '' ? null : Number(f[F.cvss]), exploitability: nullable(f[F.exploitability]),
      updateTitle: nullable(f[F.updateTitle]), updateId: nullable(f[F.updateId]), updateUrl: nullable(f[F.updateUrl]),
      updateAvailable: f[F.updateAvailable] === '' ? null : Number(f[F.updateAvailable]),
      diskPaths: nullable(f[F.diskPaths]), registryPaths: nullable(f[F.registryPaths]),
      firstSeen: nullable(f[F.firstSeen]), lastSeen: nullable(f[F.lastSeen]), rowHash: Number(f[F.rowHash]), at,
    };
  }

  /**
   * A finding reported present (a snapshot row, or a delta New/Updated): opens, reopens or updates
   * it. Returns its id.
   */
  present(row: string, at: string): number {
    const f = decodeRow(row);
    this.counts.read++;
    this.device(f);
    const key = findingKey(f);
    const existing = this.find.get(this.connectionId, key);
    if (!existing) {
      this.counts.added++;
      return Number(this.insert.run(this.params(f, key, at)).lastInsertRowid);
    }
    const reopen = existing.status === 'fixed';
    if (reopen || existing.row_hash !== Number(f[F.rowHash])) {
      this.update.run({ ...this.params(f, key, at), id: existing.id, reopen: reopen ? 1 : 0 });
      if (reopen) {
        this.counts.reopened++;
        this.event.run(existing.id, at, 'reopened', this.runId);
      } else {
        this.counts.updated++;
      }
    }
    return existing.id;
  }

  /** A finding reported fixed (delta). Unknown or already fixed findings are left alone. */
  fixed(row: string, at: string): void {
    const f = decodeRow(row);
    this.counts.read++;
    const existing = this.find.get(this.connectionId, findingKey(f));
    if (existing?.status === 'open') this.close(existing.id, at);
  }

  private close(id: number, at: string): void {
    this.fix.run(at, id);
    this.event.run(id, at, 'fixed', this.runId);
    this.counts.fixed++;
  }

  /** Closes the open findings with id ≤ maxId that `seen` does not contain (full snapshots). */
  closeUnseen(seen: Bitmap, maxId: number, at: string): void {
    const open = this.db.prepare(`SELECT id FROM finding WHERE connection_id = ? AND status = 'open' AND id <= ?`).pluck();
    // better-sqlite3 runs no other statement while one iterates: collect first, then close.
    const unseen: number[] = [];
    for (const id of open.iterate(this.connectionId, maxId) as Iterable<number>) if (!seen.has(id)) unseen.push(id);
    for (const id of unseen) this.close(id, at);
  }

  saveState(state: { snapshotTime?: string; deltaCheckpoint?: string; catalogCheckpoint?: string; fullAt?: string }): void {
    this.db.prepare(`INSERT INTO sync_state (connection_id, snapshot_time, delta_checkpoint, catalog_checkpoint, last_full_at)
      VALUES (@id, @snapshot, @delta, @catalog, @full) ON CONFLICT (connection_id) DO UPDATE SET
      snapshot_time = coalesce(@snapshot, snapshot_time), delta_checkpoint = coalesce(@delta, delta_checkpoint),
      catalog_checkpoint = coalesce(@catalog, catalog_checkpoint), last_full_at = coalesce(@full, last_full_at)`)
      .run({ id: this.connectionId, snapshot: state.snapshotTime ?? null, delta: state.deltaCheckpoint ?? null, catalog: state.catalogCheckpoint ?? null, full: state.fullAt ?? null });
  }
}

/** One bit per finding id. */
export class Bitmap {
  private readonly bits: Uint8Array;
  constructor(size: number) {
    this.bits = new Uint8Array((size >> 3) + 1);
  }
  add(id: number): void {
    if (id >> 3 < this.bits.length) this.bits[id >> 3] |= 1 << (id & 7);
  }
  has(id: number): boolean {
    return id >> 3 < this.bits.length && (this.bits[id >> 3] & (1 << (id & 7))) !== 0;
  }
}
