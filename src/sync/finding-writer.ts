// Writes findings into findings.db inside one transaction per sync, so a failed or killed sync
// leaves nothing behind. Unchanged findings are only read, never rewritten: a finding's detail
// reference tells whether anything that matters changed. A full snapshot marks what it saw in a
// bitmap and closes the open findings it did not see. Devices, software, CVEs and details are
// referred to by small integers, so finding rows stay narrow. Times are unix seconds. The read
// models (counts per device, CVE, software, tenant and day) are kept by an ExposureTally and
// written at commit, in the same transaction.

import type SQLite from 'better-sqlite3';
import { PACKED, PACKED_WIDTH, type PackedBatch } from '../defender/packed-records.js';
import { D, decodeLine, DETAIL, FIXED, nullable, readFindingLine, S } from '../defender/records.js';
import type { SlaTally } from '../remediation/sla-tally.js';
import type { RemediationTally } from '../remediation/tally.js';
import type { SyncStateTable } from '../store/schema.js';
import { applyCatalog, type CatalogEntry } from './catalog.js';
import { ExposureTally, severityIndex } from './exposure-tally.js';
import { historyDay, noCounts, type RunWriter, type SyncStateUpdate } from './run-writer.js';

/** The key of a product in the writer's cache. */
const productKey = (vendor: string, name: string, version: string) => `${vendor}|${name}|${version}`;

/** ISO-8601 → the unix seconds findings.db keeps. */
export const unixSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

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

/** Rows per INSERT while loading a tenant's first snapshot: one statement per row costs twice as much, 100 rows 15% more. */
const INSERT_BATCH = 500;
const INSERT_COLUMNS = 6;

export class FindingWriter implements RunWriter<PackedStream> {
  readonly counts = noCounts();
  readonly tenant: number;
  private readonly statements;
  private readonly softwareRefs = new Map<string, number>();
  private readonly cveRefs = new Map<string, number>();
  private readonly detailRefs = new Map<string, number>();
  /** Severity index (exposure-tally.ts) per detail ref. */
  private severities: number[] = [];
  private readonly tally: ExposureTally;
  /** The time of the data this run writes (the snapshot's, or the delta's checkpoint): its day gets the history point. */
  private dataTime: string | undefined;
  private deviceRef = 0;
  private softwareRef = 0;
  /** The device of the last X or U line (they leave deviceRef to the F lines). */
  private named = { deviceId: '', deviceRef: 0 };
  /** True while the connection had no findings when this run began: every row is new. */
  private firstLoad = false;
  /** First-load rows waiting for a batched INSERT (INSERT_COLUMNS values each). */
  private pending: (number | null)[] = [];
  private open = false;
  /** A full snapshot's findings seen so far, among those with ids up to `upTo` (the ones before this run). */
  private snapshot: { seen: Bitmap; upTo: number } | undefined;

  constructor(
    private readonly db: SQLite.Database,
    connectionId: string,
    private readonly runId: string,
    /** Keeps the remediations (src/remediation) in step, like the tally keeps the exposure counts. */
    private readonly remediations: RemediationTally,
    /** Keeps the SLA figures (src/remediation/sla-tally.ts) in step. */
    private readonly sla: SlaTally,
  ) {
    this.tenant = tenantRef(db, connectionId);
    this.tally = new ExposureTally(db);
    const insert = (rows: number) => db.prepare(`INSERT INTO finding (device_ref, software_ref, cve_ref, detail_ref, first_seen, opened_at)
      VALUES ${Array(rows).fill('(?, ?, ?, ?, ?, ?)').join(', ')} ON CONFLICT DO NOTHING`);
    this.statements = {
      find: db.prepare<unknown[], Existing>(
        'SELECT id, detail_ref, fixed_at FROM finding WHERE device_ref = ? AND software_ref = ? AND cve_ref = ?'),
      insert: insert(1),
      insertBatch: insert(INSERT_BATCH),
      update: db.prepare('UPDATE finding SET detail_ref = ?, first_seen = ?, fixed_at = NULL, reopened = reopened + ? WHERE id = ?'),
      fix: db.prepare('UPDATE finding SET fixed_at = ? WHERE id = ?'),
      event: db.prepare('INSERT INTO finding_event (finding_id, at, event, run_id) VALUES (?, ?, ?, ?)'),
      unfixEvent: db.prepare("DELETE FROM finding_event WHERE finding_id = ? AND at = ? AND event = 'fixed' AND run_id = ?"),
      // Upserts skip rows that did not change: a delta touches a few rows on many pages, and every
      // page written costs at commit. A new device's findings count in its RBAC group's SLA figures (sla_group).
      device: db.prepare<unknown[], { ref: number }>(`INSERT INTO device (tenant_ref, device_id, name, os_platform, os_version, os_architecture,
        rbac_group_id, rbac_group_name, last_seen, sla_group) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, coalesce(?, -1))
        ON CONFLICT (tenant_ref, device_id) DO UPDATE SET name = excluded.name, os_platform = excluded.os_platform,
        os_version = excluded.os_version, os_architecture = excluded.os_architecture, rbac_group_id = excluded.rbac_group_id,
        rbac_group_name = excluded.rbac_group_name, last_seen = max(coalesce(device.last_seen, ''), coalesce(excluded.last_seen, ''))
        WHERE (device.name, device.os_platform, device.os_version, device.os_architecture, device.rbac_group_id, device.rbac_group_name)
          IS NOT (excluded.name, excluded.os_platform, excluded.os_version, excluded.os_architecture, excluded.rbac_group_id, excluded.rbac_group_name)
          OR coalesce(excluded.last_seen, '') > coalesce(device.last_seen, '')
        RETURNING ref`),
      deviceRef: db.prepare<unknown[], { ref: number }>('SELECT ref FROM device WHERE tenant_ref = ? AND device_id = ?'),
      softwareRef: db.prepare<unknown[], { ref: number }>('SELECT ref FROM software WHERE vendor = ? AND name = ? AND version = ?'),
      software: db.prepare('INSERT INTO software (vendor, name, version) VALUES (?, ?, ?)'),
      installation: db.prepare(`INSERT INTO installation (device_ref, software_ref, disk_paths, registry_paths) VALUES (?, ?, ?, ?)
        ON CONFLICT DO UPDATE SET disk_paths = excluded.disk_paths, registry_paths = excluded.registry_paths
        WHERE (installation.disk_paths, installation.registry_paths) IS NOT (excluded.disk_paths, excluded.registry_paths)`),
      cveRef: db.prepare<unknown[], { ref: number }>('SELECT ref FROM cve WHERE cve_id = ?'),
      cve: db.prepare('INSERT INTO cve (cve_id) VALUES (?)'),
      detailRef: db.prepare<unknown[], { ref: number }>('SELECT ref FROM finding_detail WHERE key = ?'),
      detailSeverity: db.prepare<unknown[], string | null>('SELECT severity FROM finding_detail WHERE ref = ?').pluck(),
      detail: db.prepare(`INSERT INTO finding_detail (key, severity, cvss, exploitability, update_title, update_id, update_url, update_available)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    };
  }

  async state(): Promise<SyncStateTable | undefined> {
    return this.db.prepare('SELECT * FROM sync_state WHERE tenant_ref = ?').get(this.tenant) as SyncStateTable | undefined;
  }

  /** Starts the run's transaction; the counts describe what it writes. */
  async begin(): Promise<void> {
    Object.assign(this.counts, noCounts());
    this.db.exec('BEGIN IMMEDIATE');
    this.open = true;
    this.firstLoad = this.db.prepare('SELECT 1 FROM finding JOIN device ON device.ref = finding.device_ref WHERE device.tenant_ref = ? LIMIT 1')
      .get(this.tenant) === undefined;
    this.tally.reset(this.firstLoad);
    this.remediations.reset(this.firstLoad);
    this.sla.reset(this.firstLoad);
    this.dataTime = undefined;
    this.snapshot = undefined;
  }

  /** This run reads a full snapshot: closeUnseen() then closes the open findings it did not list. */
  beginSnapshot(): void {
    const upTo = (this.db.prepare('SELECT coalesce(max(id), 0) FROM finding').pluck().get() as number);
    this.snapshot = { seen: new Bitmap(upTo), upTo };
  }

  newStream(): PackedStream {
    return new PackedStream();
  }

  async endDelta(): Promise<void> {
    this.flush();
  }

  async saveCatalog(rows: CatalogEntry[]): Promise<string | undefined> {
    return applyCatalog(this.db, this.tenant, rows);
  }

  async commit(): Promise<void> {
    this.flush();
    // A first load's findings were open before SitePatch saw them: they are not "opened" that day.
    const { added, reopened, fixed } = this.counts;
    const latest = this.db.prepare('SELECT max(day) FROM exposure_day WHERE tenant_ref = ?').pluck().get(this.tenant) as string | null;
    const day = historyDay(this.dataTime, latest);
    this.tally.apply(this.tenant, day, (this.firstLoad ? 0 : added) + reopened, fixed);
    this.remediations.apply(this.tenant);
    this.sla.apply(this.tenant, day);
    this.db.exec('COMMIT');
    this.open = false;
  }

  async rollback(): Promise<void> {
    this.pending = [];
    if (this.open) this.db.exec('ROLLBACK');
    this.open = false;
    // Refs created by the rolled-back transaction no longer exist.
    this.named = { deviceId: '', deviceRef: 0 };
    this.softwareRefs.clear();
    this.cveRefs.clear();
    this.detailRefs.clear();
    this.severities = [];
  }

  /**
   * Applies a D, S or F line: a D or S line sets the device or installed software the next F lines
   * belong to; an F line is a finding reported present (a snapshot row, or a delta New/Updated)
   * and opens, reopens or updates it.
   */
  line(line: string, at: number): void {
    switch (line[0]) {
      case 'D':
        this.device(decodeLine(line));
        break;
      case 'S':
        this.software(decodeLine(line));
        break;
      default: {
        const { cveId, firstSeen, detail } = readFindingLine(line);
        this.present(this.cveRef(cveId), this.detailRef(detail), firstSeen, at);
      }
    }
  }

  /** Applies a packed batch of a file export's snapshot (packed-records.ts), one of `stream`'s. */
  packed(stream: PackedStream, { entries, count, texts }: PackedBatch, at: number): undefined {
    this.deviceRef = stream.deviceRef;
    this.softwareRef = stream.softwareRef;
    let text = 0;
    for (let i = 0; i < count * PACKED_WIDTH; i += PACKED_WIDTH) {
      switch (entries[i]) {
        case PACKED.device:
          this.device(decodeLine(texts[text++]));
          break;
        case PACKED.software:
          this.software(decodeLine(texts[text++]));
          break;
        default: {
          // A number met for the first time brings its text.
          const cve = entries[i + 1];
          if (cve === stream.cves.length) stream.cves.push(this.cveRef(texts[text++]));
          const detail = entries[i + 2];
          if (detail === stream.details.length) stream.details.push(this.detailRef(texts[text++]));
          const firstSeen = entries[i + 3];
          this.present(stream.cves[cve], stream.details[detail], Number.isNaN(firstSeen) ? null : firstSeen, at);
        }
      }
    }
    stream.deviceRef = this.deviceRef;
    stream.softwareRef = this.softwareRef;
    return undefined;
  }

  /**
   * Applies an X or U line of a delta: an X line closes a finding (Fixed), a U line takes such a
   * fix back. Kept out of line(): a full sync optimises line() for D, S and F lines, and a kind it
   * never saw would deoptimise it in the middle of a delta.
   */
  fixLine(line: string, at: number): void {
    if (line[0] === 'X') this.fixed(decodeLine(line), at);
    else this.unfixed(decodeLine(line), at);
  }

  private device(f: string[]): void {
    const group = f[D.rbacGroupId] === '' ? null : Number(f[D.rbacGroupId]);
    const written = this.statements.device.get(this.tenant, f[D.deviceId], nullable(f[D.deviceName]), nullable(f[D.osPlatform]), nullable(f[D.osVersion]),
      nullable(f[D.osArchitecture]), group, nullable(f[D.rbacGroupName]), nullable(f[D.lastSeen]), group);
    this.deviceRef = (written ?? this.statements.deviceRef.get(this.tenant, f[D.deviceId])!).ref;
    if (written) {
      this.remediations.deviceWritten(this.deviceRef);
      this.sla.deviceWritten(this.deviceRef, group, nullable(f[D.rbacGroupName]));
    }
  }

  /** The ref of a product already in the store. */
  private knownSoftware(vendor: string, name: string, version: string): number | undefined {
    const key = productKey(vendor, name, version);
    let ref = this.softwareRefs.get(key);
    if (ref === undefined) {
      ref = this.statements.softwareRef.get(vendor, name, version)?.ref;
      if (ref !== undefined) this.softwareRefs.set(detached(key), ref);
    }
    return ref;
  }

  private software(f: string[]): void {
    // Read before writing: a row written again, even unchanged, costs a page at commit.
    let ref = this.knownSoftware(f[S.vendor], f[S.name], f[S.version]);
    if (ref === undefined) {
      ref = Number(this.statements.software.run(f[S.vendor], f[S.name], f[S.version]).lastInsertRowid);
      this.softwareRefs.set(detached(productKey(f[S.vendor], f[S.name], f[S.version])), ref);
    }
    this.softwareRef = ref;
    this.statements.installation.run(this.deviceRef, ref, nullable(f[S.diskPaths]), nullable(f[S.registryPaths]));
  }

  /** The finding an X or U line names, if the store has it. */
  private namedFinding(f: string[]): (Existing & { device: number; software: number; cve: number }) | undefined {
    if (f[FIXED.deviceId] !== this.named.deviceId) {
      this.named = { deviceId: f[FIXED.deviceId], deviceRef: this.statements.deviceRef.get(this.tenant, f[FIXED.deviceId])?.ref ?? 0 };
    }
    const software = this.knownSoftware(f[FIXED.vendor], f[FIXED.name], f[FIXED.version]);
    if (software === undefined) return undefined;
    const cve = this.cveRef(f[FIXED.cveId]);
    const found = this.statements.find.get(this.named.deviceRef, software, cve);
    return found && { ...found, device: this.named.deviceRef, software, cve };
  }

  private cveRef(cveId: string): number {
    let ref = this.cveRefs.get(cveId);
    if (ref === undefined) {
      ref = this.statements.cveRef.get(cveId)?.ref ?? Number(this.statements.cve.run(cveId).lastInsertRowid);
      this.cveRefs.set(detached(cveId), ref);
    }
    return ref;
  }

  private detailRef(detail: string): number {
    let ref = this.detailRefs.get(detail);
    if (ref === undefined) {
      const f = decodeLine(detail);
      ref = this.statements.detailRef.get(detail)?.ref ?? Number(this.statements.detail.run(detail, nullable(f[DETAIL.severity]),
        f[DETAIL.cvss] === '' ? null : Number(f[DETAIL.cvss]), nullable(f[DETAIL.exploitability]), nullable(f[DETAIL.updateTitle]),
        nullable(f[DETAIL.updateId]), nullable(f[DETAIL.updateUrl]), f[DETAIL.updateAvailable] === '' ? null : Number(f[DETAIL.updateAvailable])).lastInsertRowid);
      this.detailRefs.set(detached(detail), ref);
    }
    return ref;
  }

  private severityOf(detailRef: number): number {
    let severity = this.severities[detailRef];
    if (severity === undefined) severity = this.severities[detailRef] = severityIndex(this.statements.detailSeverity.get(detailRef) ?? null);
    return severity;
  }

  private present(cve: number, detailRef: number, firstSeen: number | null, at: number): void {
    this.counts.read++;
    if (this.firstLoad) {
      this.pending.push(this.deviceRef, this.softwareRef, cve, detailRef, firstSeen, at);
      if (this.pending.length === INSERT_BATCH * INSERT_COLUMNS) this.flush();
      return;
    }
    const existing = this.statements.find.get(this.deviceRef, this.softwareRef, cve);
    if (!existing) {
      const id = Number(this.statements.insert.run(this.deviceRef, this.softwareRef, cve, detailRef, firstSeen, at).lastInsertRowid);
      this.counts.added++;
      this.tally.added(id, cve);
      this.tally.opened(this.deviceRef, this.softwareRef, cve, this.severityOf(detailRef), firstSeen);
      this.remediations.opened(this.deviceRef, this.softwareRef, cve, detailRef, firstSeen);
      this.sla.opened(this.deviceRef, cve, detailRef, firstSeen ?? at);
      return;
    }
    if (this.snapshot && existing.id <= this.snapshot.upTo) this.snapshot.seen.add(existing.id);
    const reopen = existing.fixed_at !== null;
    if (reopen || existing.detail_ref !== detailRef) {
      this.sla.updating(existing.id, this.deviceRef, cve, reopen ? null : existing.detail_ref, detailRef, firstSeen);
      this.statements.update.run(detailRef, firstSeen, reopen ? 1 : 0, existing.id);
      if (reopen) {
        this.counts.reopened++;
        this.statements.event.run(existing.id, at, 'reopened', this.runId);
        this.tally.opened(this.deviceRef, this.softwareRef, cve, this.severityOf(detailRef), firstSeen);
        this.remediations.opened(this.deviceRef, this.softwareRef, cve, detailRef, firstSeen);
      } else {
        this.counts.updated++;
        this.tally.regraded(this.deviceRef, this.softwareRef, this.severityOf(existing.detail_ref), this.severityOf(detailRef));
        this.remediations.changed(this.deviceRef, this.softwareRef, cve, existing.detail_ref, detailRef);
      }
    }
  }

  /** Inserts the first-load rows still waiting; a snapshot that lists a finding twice keeps the first. */
  private flush(): void {
    const rows = this.pending;
    if (rows.length === 0) return;
    this.pending = [];
    if (rows.length === INSERT_BATCH * INSERT_COLUMNS) {
      const { changes, lastInsertRowid } = this.statements.insertBatch.run(rows);
      this.counts.added += changes;
      // Count what was inserted (one statement: consecutive ids): the rows of the batch, or when it
      // listed a finding twice, the rows it wrote.
      const first = Number(lastInsertRowid) - changes + 1;
      this.tallyInserted(changes === INSERT_BATCH ? rows : changes === 0 ? [] : this.db.prepare(`SELECT device_ref, software_ref, cve_ref, detail_ref,
        first_seen, opened_at FROM finding WHERE id >= ? AND id <= ? ORDER BY id`).raw().all(first, lastInsertRowid).flat() as number[], first);
    } else {
      for (let i = 0; i < rows.length; i += INSERT_COLUMNS) {
        const row = rows.slice(i, i + INSERT_COLUMNS);
        const { changes, lastInsertRowid } = this.statements.insert.run(row);
        if (changes === 0) continue;
        this.counts.added++;
        this.tallyInserted(row, Number(lastInsertRowid));
      }
    }
  }

  /** Tallies new open findings with ids from `firstId`, listed as inserted: device, software, CVE, detail, first seen, opened at. */
  private tallyInserted(rows: (number | null)[], firstId: number): void {
    for (let i = 0, id = firstId; i < rows.length; i += INSERT_COLUMNS, id++) {
      this.tally.added(id, rows[i + 2]!);
      this.tally.opened(rows[i]!, rows[i + 1]!, rows[i + 2]!, this.severityOf(rows[i + 3]!), rows[i + 4]);
      this.remediations.opened(rows[i]!, rows[i + 1]!, rows[i + 2]!, rows[i + 3]!, rows[i + 4]);
      this.sla.opened(rows[i]!, rows[i + 2]!, rows[i + 3]!, rows[i + 4] ?? rows[i + 5]!);
    }
  }

  private fixed(f: string[], at: number): void {
    this.flush();
    this.counts.read++;
    const existing = this.namedFinding(f);
    if (existing && existing.fixed_at === null) this.close(existing, at);
  }

  /** Reopens a finding this run fixed at `at`, as if that fix had not been read. */
  private unfixed(f: string[], at: number): void {
    const existing = this.namedFinding(f);
    if (!existing || this.statements.unfixEvent.run(existing.id, at, this.runId).changes === 0) return;
    this.statements.fix.run(null, existing.id);
    this.counts.read--;
    this.counts.fixed--;
    this.tally.opened(existing.device, existing.software, existing.cve, this.severityOf(existing.detail_ref), null);
    this.remediations.opened(existing.device, existing.software, existing.cve, existing.detail_ref, null);
    this.sla.unfixed(existing.id, existing.device, existing.cve, existing.detail_ref, at);
  }

  private close(finding: OpenFinding, at: number): void {
    this.statements.fix.run(at, finding.id);
    this.statements.event.run(finding.id, at, 'fixed', this.runId);
    this.counts.fixed++;
    this.tally.closed(finding.device, finding.software, finding.cve, this.severityOf(finding.detail_ref));
    this.remediations.closed(finding.device, finding.software, finding.cve, finding.detail_ref, at);
    this.sla.closed(finding.id, finding.device, finding.cve, finding.detail_ref, at);
  }

  /** Closes the open findings from before this run that its full snapshot did not list. */
  async closeUnseen(at: number): Promise<void> {
    this.flush();
    const { seen, upTo } = this.snapshot!;
    // A range scan of the ids before this run (none on a first load) rather than of all the
    // tenant's rows: the unary + keeps SQLite from choosing the device_ref index instead.
    const open = this.db.prepare(`SELECT id FROM finding WHERE id <= ? AND fixed_at IS NULL
      AND +device_ref IN (SELECT ref FROM device WHERE tenant_ref = ?)`).pluck();
    // better-sqlite3 runs no other statement while one iterates: collect first, then close.
    const unseen: number[] = [];
    for (const id of open.iterate(upTo, this.tenant) as Iterable<number>) if (!seen.has(id)) unseen.push(id);
    const refs = this.db.prepare<unknown[], OpenFinding>('SELECT id, device_ref AS device, software_ref AS software, cve_ref AS cve, detail_ref FROM finding WHERE id = ?');
    for (const id of unseen) this.close(refs.get(id)!, at);
  }

  async saveState(state: SyncStateUpdate): Promise<void> {
    if (state.deltaCheckpoint) this.dataTime = state.deltaCheckpoint;
    this.db.prepare(`INSERT INTO sync_state (tenant_ref, snapshot_time, snapshot_rows, delta_checkpoint, catalog_checkpoint, last_full_at)
      VALUES (@tenant, @snapshot, @rows, @delta, @catalog, @full) ON CONFLICT (tenant_ref) DO UPDATE SET
      snapshot_time = coalesce(@snapshot, snapshot_time), snapshot_rows = coalesce(@rows, snapshot_rows), delta_checkpoint = coalesce(@delta, delta_checkpoint),
      catalog_checkpoint = coalesce(@catalog, catalog_checkpoint), last_full_at = coalesce(@full, last_full_at)`)
      .run({
        tenant: this.tenant, snapshot: state.snapshotTime ?? null, rows: state.snapshotRows ?? null, delta: state.deltaCheckpoint ?? null,
        catalog: state.catalogCheckpoint ?? null, full: state.fullAt ?? null,
      });
  }
}

/** A finding as the writer looks it up. */
interface Existing {
  id: number;
  detail_ref: number;
  fixed_at: number | null;
}

/** An open finding with the refs its counts are kept by. */
interface OpenFinding {
  id: number;
  device: number;
  software: number;
  cve: number;
  detail_ref: number;
}

/** What the writer keeps of one stream of packed batches (a parser thread's) from one batch to the next. */
export class PackedStream {
  /** Refs by the stream's numbers. */
  readonly cves: number[] = [];
  readonly details: number[] = [];
  deviceRef = 0;
  softwareRef = 0;
}

/** One bit per finding id. */
class Bitmap {
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
