// Views over the tenant at a snapshot: row counts for random access (paging cursors), export
// partitioning, per-CVE exposure, and the change batches the delta API reports.

import type { Line, LineCve } from '../world/world.js';
import { deltaRowJson, findingId, updatableFields } from './records.js';
import type { DeviceAt, Finding, Tenant } from './tenant.js';

/** One customer tenant's device data, as the Defender API and blob host serve it. */
export interface TenantData {
  tenantId: string;
  tenant: Tenant;
  snapshots: Snapshots;
}

/** A position in a snapshot's row stream: device index and rows already taken from it. */
export interface RowCursor {
  device: number;
  line: number;
}

export interface DeltaEvent {
  finding: Finding;
  /** Snapshot whose values the row carries. */
  snapshot: number;
  status: 'New' | 'Fixed' | 'Updated';
  batch: number;
  /** A Fixed row of a device that left the tenant (Defender says isOnboarded: false). */
  offboarded?: boolean;
}

/** A batch's API rows in one buffer, separated by commas: row i starts at offsets[i]. */
export interface SerialisedRows {
  bytes: Buffer;
  offsets: Float64Array;
}

/** Position in a delta stream: batch, and events of it already taken. */
export interface DeltaCursor {
  batch: number;
  index: number;
}

const CACHED_SNAPSHOTS = 4;

class SmallCache<V> {
  private readonly map = new Map<number, V>();
  constructor(private readonly capacity = CACHED_SNAPSHOTS) {}
  get(key: number, make: () => V): V {
    let value = this.map.get(key);
    if (value === undefined) {
      value = make();
      this.map.set(key, value);
      if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
    }
    return value;
  }
}

/**
 * Serialised change batches: the latest always, and older ones while they fit in `budget` bytes
 * (a small tenant keeps its whole 14 days, so a client reading several batches, page after page,
 * gets each from memory; a large one keeps only the latest).
 */
class BatchRowsCache {
  private readonly map = new Map<number, SerialisedRows>();
  private bytes = 0;
  constructor(private readonly budget: number) {}
  get(key: number, make: () => SerialisedRows): SerialisedRows {
    let value = this.map.get(key);
    if (value === undefined) {
      value = make();
      this.map.set(key, value);
      this.bytes += value.bytes.length + value.offsets.byteLength;
      for (const [old, rows] of this.map) {
        if (this.bytes <= this.budget) break;
        if (old === key) continue;
        this.map.delete(old);
        this.bytes -= rows.bytes.length + rows.offsets.byteLength;
      }
    }
    return value;
  }
}

export class Snapshots {
  private readonly prefixCache = new SmallCache<Float64Array>();
  private readonly exposureCache = new SmallCache<Map<string, number>>();
  private readonly changingCveCache = new SmallCache<LineCve[][]>();
  private readonly batchCache = new SmallCache<DeltaEvent[]>();
  /** Batches as served, ready to send: Defender serves published batches from storage. */
  private readonly batchRowsCache = new BatchRowsCache(64 << 20);
  readonly parts: number;

  constructor(readonly tenant: Tenant, devicesPerPart = 2000) {
    const n = tenant.deviceCount;
    this.parts = Math.max(Math.min(n, 2), Math.ceil(n / devicesPerPart));
  }

  /** prefix[i] = rows before device i at snapshot k; prefix[N] = total. */
  prefix(k: number): Float64Array {
    return this.prefixCache.get(k, () => {
      const n = this.tenant.deviceCount;
      const prefix = new Float64Array(n + 1);
      for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + this.tenant.deviceFindingCount(i, k);
      return prefix;
    });
  }

  total(k: number): number {
    return this.prefix(k)[this.tenant.deviceCount];
  }

  /** The cursor for the row at a global offset. */
  cursorAt(k: number, offset: number): RowCursor {
    const prefix = this.prefix(k);
    let lo = 0;
    let hi = this.tenant.deviceCount;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (prefix[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { device: lo, line: offset - prefix[lo] };
  }

  partRange(part: number): [number, number] {
    const n = this.tenant.deviceCount;
    return [Math.floor((part * n) / this.parts), Math.floor(((part + 1) * n) / this.parts)];
  }

  /** Rows of snapshot k from a cursor, up to (not including) device `end`. */
  *rows(k: number, from: RowCursor, end = this.tenant.deviceCount): Generator<Finding> {
    for (let i = from.device; i < end; i++) {
      let skip = i === from.device ? from.line : 0;
      for (const f of this.tenant.deviceFindings(i, k)) {
        if (skip > 0) skip--;
        else yield f;
      }
    }
  }

  /**
   * Devices exposed to each CVE at snapshot k. A CVE fixed by release r of a line exposes every
   * device running an older release of it; a device may run several components of one family
   * (Chrome and Edge), so devices are counted by the (line, release) pairs they run in each family.
   */
  exposure(k: number): Map<string, number> {
    return this.exposureCache.get(k, () => {
      const { tenant } = this;
      const world = tenant.world;
      const signatures = world.families.map(() => new Map<string, { devices: number; parts: [Line, number][] }>());
      for (let i = 0; i < tenant.deviceCount; i++) {
        const device = tenant.device(i);
        if (!tenant.present(device, k)) continue;
        const byFamily = new Map<number, [Line, number][]>();
        for (const c of device.components) {
          const component = world.components[c];
          const parts = byFamily.get(component.family.index) ?? [];
          parts.push([tenant.lineOf(device, component, k), tenant.release(i, component, k)]);
          byFamily.set(component.family.index, parts);
        }
        for (const [family, parts] of byFamily) {
          const key = parts.map(([line, r]) => `${line.index}:${r}`).join('|');
          const entry = signatures[family].get(key);
          if (entry) entry.devices++;
          else signatures[family].set(key, { devices: 1, parts });
        }
      }
      const counts = new Map<string, number>();
      for (const cve of tenant.catalog(k)) {
        let exposed = 0;
        for (const { devices, parts } of signatures[cve.family.index].values()) {
          if (parts.some(([line, r]) => cve.fixes[line.familyLine] > r)) exposed += devices;
        }
        counts.set(cve.id, exposed);
      }
      return counts;
    });
  }

  /** Per line, its CVEs whose record changes at snapshot k: published, fixed, or exploited then. */
  private changingCves(k: number): LineCve[][] {
    return this.changingCveCache.get(k, () => {
      const t = this.tenant;
      return t.world.lines.map((line) => [...t.world.changingOnLine(line, t.snapshotTime(k - 1), t.snapshotTime(k))]);
    });
  }

  /** Diff of one set of findings between snapshot k-1 and k, in the delta API's terms. */
  private diff(before: Iterable<Finding>, after: Iterable<Finding>, k: number, events: DeltaEvent[]): void {
    const t = this.tenant;
    const old = new Map<string, Finding>();
    for (const f of before) old.set(findingId(f), f);
    const current = [...after];
    const currentIds = new Set(current.map(findingId));
    for (const [id, f] of old) if (!currentIds.has(id)) events.push({ finding: f, snapshot: k - 1, status: 'Fixed', batch: k });
    for (const f of current) {
      const previous = old.get(findingId(f));
      if (!previous) {
        events.push({ finding: f, snapshot: k, status: 'New', batch: k });
      } else if (previous.device.rbacGroupId !== f.device.rbacGroupId) {
        // Exports are scoped by device group: a move reads as Fixed in the old group, New in the new.
        events.push({ finding: previous, snapshot: k - 1, status: 'Fixed', batch: k });
        events.push({ finding: f, snapshot: k, status: 'New', batch: k });
      } else if (updatableFields(t, previous, k - 1) !== updatableFields(t, f, k)) {
        events.push({ finding: f, snapshot: k, status: 'Updated', batch: k });
      }
    }
  }

  /**
   * What changed on device i between snapshot k-1 and k, in the delta API's terms. A component whose
   * line, release and group are unchanged only needs the CVEs that changed at k; the rest is diffed
   * in full. A device that onboards reports everything New; one that offboards, everything Fixed.
   */
  deviceChanges(i: number, k: number): DeltaEvent[] {
    const t = this.tenant;
    const device = t.device(i);
    const events: DeltaEvent[] = [];
    const was = t.present(device, k - 1);
    const is = t.present(device, k);
    if (!was && !is) return events;
    if (was !== is) {
      const findings = is ? t.deviceFindings(i, k) : t.deviceFindings(i, k - 1);
      for (const finding of findings) {
        events.push(is
          ? { finding, snapshot: k, status: 'New', batch: k }
          : { finding, snapshot: k - 1, status: 'Fixed', batch: k, offboarded: true });
      }
      return events;
    }
    const moved = t.rbacGroup(device, k - 1).id !== t.rbacGroup(device, k).id;
    const changing = this.changingCves(k);
    let before: DeviceAt | undefined;
    let after: DeviceAt | undefined;
    for (const c of device.components) {
      const component = t.world.components[c];
      const line = t.lineOf(device, component, k);
      const release = t.release(i, component, k);
      if (moved || t.release(i, component, k - 1) !== release || t.lineOf(device, component, k - 1) !== line) {
        before ??= t.deviceAt(i, k - 1);
        after ??= t.deviceAt(i, k);
        this.diff(t.componentFindings(before, component, k - 1), t.componentFindings(after, component, k), k, events);
        continue;
      }
      for (const entry of changing[line.index]) {
        if (entry.fix <= release) continue;
        after ??= t.deviceAt(i, k);
        // Same version, same group: the finding at k-1 differs only by what its CVE's record says
        // then (updatableFields reads nothing of the device), so these findings serve for both.
        for (const finding of t.findingsOf(after, component, k, entry)) {
          if (entry.cve.publishedAt > t.snapshotTime(k - 1)) events.push({ finding, snapshot: k, status: 'New', batch: k });
          else if (updatableFields(t, finding, k - 1) !== updatableFields(t, finding, k)) {
            events.push({ finding, snapshot: k, status: 'Updated', batch: k });
          }
        }
      }
    }
    return events;
  }

  /**
   * Every change of batch k (snapshot k-1 → k), device by device. Defender computes its change
   * batches when it builds a snapshot; the emulator does the same when time advances (memoised).
   */
  batchEvents(k: number): DeltaEvent[] {
    return this.batchCache.get(k, () => {
      const events: DeltaEvent[] = [];
      for (let i = 0; i < this.tenant.deviceCount; i++) events.push(...this.deviceChanges(i, k));
      return events;
    });
  }

  /** The API rows of batch k, serialised once. */
  batchRows(k: number): SerialisedRows {
    return this.batchRowsCache.get(k, () => {
      const rows = this.batchEvents(k).map((e) => deltaRowJson(this.tenant, e.finding, e.snapshot, e.status, this.tenant.snapshotTime(e.batch), !e.offboarded));
      const offsets = new Float64Array(rows.length + 1);
      for (let i = 0; i < rows.length; i++) offsets[i + 1] = offsets[i] + Buffer.byteLength(rows[i]) + 1;
      return { bytes: Buffer.from(rows.join(',')), offsets };
    });
  }

  /**
   * Up to `count` change rows from a cursor, batch by batch up to batch `to`: runs of
   * comma-separated rows, and the cursor of the next row when there is one.
   */
  changePage(to: number, from: DeltaCursor, count: number): { rows: Buffer[]; next?: DeltaCursor } {
    const rows: Buffer[] = [];
    let { batch, index } = from;
    for (let left = count; batch <= to; batch++, index = 0) {
      const { bytes, offsets } = this.batchRows(batch);
      const size = offsets.length - 1;
      const start = Math.min(index, size);
      const end = Math.min(size, start + left);
      if (end > start) rows.push(bytes.subarray(offsets[start], offsets[end] - 1));
      left -= end - start;
      if (end < size) return { rows, next: { batch, index: end } };
      if (left === 0) break;
    }
    // The page ends with a batch: the next page starts with the next batch that has rows.
    for (let next = batch + 1; next <= to; next++) if (this.batchRows(next).offsets.length > 1) return { rows, next: { batch: batch + 1, index: 0 } };
    return { rows };
  }
}
