// Writes findings into findings.db inside one transaction per sync, so a failed or killed sync
// leaves nothing behind. Unchanged findings are only read, never rewritten: a row's hash tells
// whether anything that matters changed. A full snapshot marks what it saw in a bitmap and closes
// the open findings it did not see. Devices and software are referred to by small integers, so
// finding rows stay narrow.

import type SQLite from 'better-sqlite3';
import { D, decodeLine, F, S } from '../defender/records.js';

export interface WriteCounts {
  read: number;
  added: number;
  updated: number;
  reopened: number;
  fixed: number;
}

const nullable = (value: string) => (value === '' ? null : value);

/**
 * A copy of a string that does not pin its source: fields split from a batch are slices of the
 * whole batch, and keeping one in a map would keep the entire batch in memory.
 */
const detached = (value: string) => Buffer.from(value, 'utf8').toString('utf8');

/** The integer that stands for a connection in findings.db (created on first use). */
export function tenantRef(db: SQLite.Database, connectionId: string): number {
  db.prepare('INSERT INTO tenant (connection_id) VALUES (?) ON CONFLICT DO NOTHING').run(connectionId);
  return (db.prepare('SELECT ref FROM tenant WHERE connection_id = ?').get(connectionId) as { ref: number }).ref;
}

export class FindingWriter {
  readonly counts: WriteCounts = { read: 0, added: 0, updated: 0, reopened: 0, fixed: 0 };
  readonly tenant: number;
  private readonly statements;
  private readonly softwareRefs = new Map<string, number>();
  private readonly updatesSeen = new Set<string>();
  private deviceRef = 0;
  private softwareRef = 0;
  /** True while the connection had no findings when this run began: every row is new. */
  private firstLoad = false;
  private open = false;

  constructor(
    private readonly db: SQLite.Database,
    connectionId: string,
    private readonly runId: string,
  ) {
    this.tenant = tenantRef(db, connectionId);
    this.statements = {
      find: db.prepare<unknown[], { id: number; row_hash: number; status: string }>(
        'SELECT id, row_hash, status FROM finding WHERE tenant_ref = ? AND device_ref = ? AND software_ref = ? AND cve_id = ?'),
      insert: db.prepare(`INSERT INTO finding (tenant_ref, device_ref, software_ref, cve_id, severity, cvss, exploitability, update_title,
        update_id, update_available, first_seen, row_hash, status, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)
        ON CONFLICT DO NOTHING`),
      update: db.prepare(`UPDATE finding SET severity = ?, cvss = ?, exploitability = ?, update_title = ?, update_id = ?,
        update_available = ?, first_seen = ?, row_hash = ?, status = 'open', fixed_at = NULL, reopened = reopened + ? WHERE id = ?`),
      fix: db.prepare(`UPDATE finding SET status = 'fixed', fixed_at = ? WHERE id = ?`),
      event: db.prepare('INSERT INTO finding_event (finding_id, at, event, run_id) VALUES (?, ?, ?, ?)'),
      device: db.prepare<unknown[], { ref: number }>(`INSERT INTO device (tenant_ref, device_id, name, os_platform, os_version, os_architecture,
        rbac_group_id, rbac_group_name, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (tenant_ref, device_id) DO UPDATE SET name = excluded.name, os_platform = excluded.os_platform,
        os_version = excluded.os_version, os_architecture = excluded.os_architecture, rbac_group_id = excluded.rbac_group_id,
        rbac_group_name = excluded.rbac_group_name, last_seen = max(coalesce(device.last_seen, ''), coalesce(excluded.last_seen, ''))
        RETURNING ref`),
      software: db.prepare<unknown[], { ref: number }>(`INSERT INTO software (vendor, name, version) VALUES (?, ?, ?)
        ON CONFLICT DO UPDATE SET vendor = excluded.vendor RETURNING ref`),
      installation: db.prepare(`INSERT INTO installation (device_ref, software_ref, disk_paths, registry_paths) VALUES (?, ?, ?, ?)
        ON CONFLICT DO UPDATE SET disk_paths = excluded.disk_paths, registry_paths = excluded.registry_paths`),
      securityUpdate: db.prepare(`INSERT INTO security_update (tenant_ref, update_id, url) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET url = excluded.url`),
    };
  }

  begin(): void {
    this.db.exec('BEGIN IMMEDIATE');
    this.open = true;
    this.firstLoad = this.db.prepare('SELECT 1 FROM finding WHERE tenant_ref = ? LIMIT 1').get(this.tenant) === undefined;
  }

  commit(): void {
    this.db.exec('COMMIT');
    this.open = false;
    // Fold the run's write-ahead log into the database now: otherwise the next, small sync pays
    // for copying a large snapshot's pages, and the log file keeps its size on disk.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  rollback(): void {
    if (this.open) this.db.exec('ROLLBACK');
    this.open = false;
  }

  /** Largest finding id so far: rows above it are created by this run. */
  maxId(): number {
    return (this.db.prepare('SELECT coalesce(max(id), 0) AS id FROM finding').get() as { id: number }).id;
  }

  /**
   * Applies one line: a D or S line sets the device or installed software the next F lines belong
   * to; an F line is a finding reported present (a snapshot row, or a delta New/Updated) and
   * opens, reopens or updates it. Returns the finding's id for F lines (0 when a first load skipped
   * a duplicate), else 0.
   */
  line(line: string, at: string): number {
    const f = decodeLine(line);
    if (f[0] === 'D') this.device(f);
    else if (f[0] === 'S') this.software(f);
    else return this.present(f, at);
    return 0;
  }

  private device(f: string[]): void {
    this.deviceRef = this.statements.device.get(this.tenant, f[D.deviceId], nullable(f[D.deviceName]), nullable(f[D.osPlatform]), nullable(f[D.osVersion]),
      nullable(f[D.osArchitecture]), f[D.rbacGroupId] === '' ? null : Number(f[D.rbacGroupId]), nullable(f[D.rbacGroupName]), nullable(f[D.lastSeen]))!.ref;
  }

  private software(f: string[]): void {
    const key = `${f[S.vendor]}|${f[S.name]}|${f[S.version]}`;
    let ref = this.softwareRefs.get(key);
    if (ref === undefined) {
      ref = this.statements.software.get(f[S.vendor], f[S.name], f[S.version])!.ref;
      this.softwareRefs.set(detached(key), ref);
    }
    this.softwareRef = ref;
    this.statements.installation.run(this.deviceRef, ref, nullable(f[S.diskPaths]), nullable(f[S.registryPaths]));
  }

  private present(f: string[], at: string): number {
    this.counts.read++;
    const updateId = f[F.updateId];
    if (updateId && !this.updatesSeen.has(updateId)) {
      this.updatesSeen.add(detached(updateId));
      this.statements.securityUpdate.run(this.tenant, updateId, nullable(f[F.updateUrl]));
    }
    const cvss = f[F.cvss] === '' ? null : Number(f[F.cvss]);
    const available = f[F.updateAvailable] === '' ? null : Number(f[F.updateAvailable]);
    const rowHash = Number(f[F.rowHash]);
    const existing = this.firstLoad ? undefined : this.statements.find.get(this.tenant, this.deviceRef, this.softwareRef, f[F.cveId]);
    if (!existing) {
      const result = this.statements.insert.run(this.tenant, this.deviceRef, this.softwareRef, f[F.cveId], nullable(f[F.severity]), cvss,
        nullable(f[F.exploitability]), nullable(f[F.updateTitle]), nullable(updateId), available, nullable(f[F.firstSeen]), rowHash, at);
      if (result.changes === 0) return 0;
      this.counts.added++;
      return Number(result.lastInsertRowid);
    }
    const reopen = existing.status === 'fixed';
    if (reopen || existing.row_hash !== rowHash) {
      this.statements.update.run(nullable(f[F.severity]), cvss, nullable(f[F.exploitability]), nullable(f[F.updateTitle]), nullable(updateId),
        available, nullable(f[F.firstSeen]), rowHash, reopen ? 1 : 0, existing.id);
      if (reopen) {
        this.counts.reopened++;
        this.statements.event.run(existing.id, at, 'reopened', this.runId);
      } else {
        this.counts.updated++;
      }
    }
    return existing.id;
  }

  /** An F line reported fixed (delta), on the device and software of the lines before it. */
  fixed(line: string, at: string): void {
    const f = decodeLine(line);
    this.counts.read++;
    const existing = this.statements.find.get(this.tenant, this.deviceRef, this.softwareRef, f[F.cveId]);
    if (existing?.status === 'open') this.close(existing.id, at);
  }

  private close(id: number, at: string): void {
    this.statements.fix.run(at, id);
    this.statements.event.run(id, at, 'fixed', this.runId);
    this.counts.fixed++;
  }

  /** Closes the open findings with id ≤ maxId that `seen` does not contain (full snapshots). */
  closeUnseen(seen: Bitmap, maxId: number, at: string): void {
    const open = this.db.prepare(`SELECT id FROM finding WHERE tenant_ref = ? AND status = 'open' AND id <= ?`).pluck();
    // better-sqlite3 runs no other statement while one iterates: collect first, then close.
    const unseen: number[] = [];
    for (const id of open.iterate(this.tenant, maxId) as Iterable<number>) if (!seen.has(id)) unseen.push(id);
    for (const id of unseen) this.close(id, at);
  }

  saveState(state: { snapshotTime?: string; deltaCheckpoint?: string; catalogCheckpoint?: string; fullAt?: string }): void {
    this.db.prepare(`INSERT INTO sync_state (tenant_ref, snapshot_time, delta_checkpoint, catalog_checkpoint, last_full_at)
      VALUES (@tenant, @snapshot, @delta, @catalog, @full) ON CONFLICT (tenant_ref) DO UPDATE SET
      snapshot_time = coalesce(@snapshot, snapshot_time), delta_checkpoint = coalesce(@delta, delta_checkpoint),
      catalog_checkpoint = coalesce(@catalog, catalog_checkpoint), last_full_at = coalesce(@full, last_full_at)`)
      .run({ tenant: this.tenant, snapshot: state.snapshotTime ?? null, delta: state.deltaCheckpoint ?? null, catalog: state.catalogCheckpoint ?? null, full: state.fullAt ?? null });
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
