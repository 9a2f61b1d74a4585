// Keeps the SLA read models (sla_open, sla_kev, sla_group, sla_fixed_day, sla_day) in step with
// the findings a run writes, inside the run's transaction. A finding's SLA state depends only on
// its device's RBAC group, its severity, the day it was first seen and its CVE's KEV due day
// (compared with today and the configured windows), so the open findings are counted per such key:
// a request then sums a few thousand rows. The writer reports each finding that opens, closes,
// reopens or changes detail; at commit the changes are added up per key, a device that moved RBAC
// group has its open findings moved, and a CVE whose KEV due day changed (a content import) has
// its open findings moved too. Fixes are summed per day and severity for the mean time to
// remediate, and the day's figures are kept as a trend point.

import type SQLite from 'better-sqlite3';
import { dayNumber, dayOfText, dueDay, timeState, windowsByIndex, type SlaWindows } from '../exposure/sla-state.js';
import { grown } from '../sync/columns.js';

/** Severity index, as exposure-tally.ts counts them: 0 none, 1 Critical … 4 Low. */
const SEVERITY_INDEX: Record<string, number> = { Critical: 1, High: 2, Medium: 3, Low: 4 };
const NO_GROUP = -1;
const INSERT_ROWS = 100;
/** A key's severity, start day and KEV day as one number: days stay below 2^15 (until 2059). */
const DAY_BITS = 2 ** 15;
const packKey = (severity: number, start: number, kev: number) => (severity * DAY_BITS + start) * DAY_BITS + kev;
/** Above every packed key (severity ≤ 4): a group's index times it, plus the key, stays an exact double. */
const KEY_SPAN = 2 ** 33;
/** The dense count's cells at most (groups × severities × days: 64 MB). */
const DENSE_CELLS = 1 << 24;

/** The run's open-finding changes, as columns (a first load reports a million or more). */
class Changes {
  device = new Int32Array(1 << 14);
  cve = new Int32Array(1 << 14);
  /** severity * DAY_BITS + start day; negative for a closing. */
  key = new Int32Array(1 << 14);
  length = 0;

  add(device: number, cve: number, severity: number, startDay: number, by: 1 | -1): void {
    if (this.length === this.device.length) {
      this.device = grown(this.device);
      this.cve = grown(this.cve);
      this.key = grown(this.key);
    }
    this.device[this.length] = device;
    this.cve[this.length] = cve;
    this.key[this.length++] = by * (severity * DAY_BITS + startDay + 1);
  }
}

export class SlaTally {
  private changes = new Changes();
  /** Devices this run wrote, with their RBAC group now (-1: none). */
  private written = new Map<number, number>();
  /** RBAC group names as this run's devices give them. */
  private names = new Map<number, string | null>();
  /** Fixes per "day|severity": [findings, seconds]. */
  private fixes = new Map<string, [number, number]>();
  private severities: number[] = [];
  private firstLoad = false;
  private readonly statements;

  constructor(private readonly db: SQLite.Database, private readonly windows: SlaWindows) {
    this.statements = {
      times: db.prepare<unknown[], [number | null, number]>('SELECT first_seen, opened_at FROM finding WHERE id = ?').raw(),
      severity: db.prepare<unknown[], string | null>('SELECT severity FROM finding_detail WHERE ref = ?').pluck(),
    };
  }

  reset(firstLoad: boolean): void {
    this.changes = new Changes();
    this.written = new Map();
    this.names = new Map();
    this.fixes = new Map();
    // Detail refs of a rolled-back run may be reused for other details.
    this.severities = [];
    this.firstLoad = firstLoad;
  }

  private severityOf(detail: number): number {
    let severity = this.severities[detail];
    if (severity === undefined) severity = this.severities[detail] = SEVERITY_INDEX[this.statements.severity.get(detail) ?? ''] ?? 0;
    return severity;
  }

  /** A finding this run created; `start` is its first seen, or its opened_at when Defender gave none (unix seconds). */
  opened(device: number, cve: number, detail: number, start: number): void {
    this.changes.add(device, cve, this.severityOf(detail), dayNumber(start), 1);
  }

  /**
   * Before the writer updates a finding it found: it reopens (`from` null) or its detail changes
   * from `from` to `to`; `firstSeen` is what the update writes.
   */
  updating(id: number, device: number, cve: number, from: number | null, to: number, firstSeen: number | null): void {
    const [storedFirstSeen, openedAt] = this.statements.times.get(id)!;
    if (from !== null) this.changes.add(device, cve, this.severityOf(from), dayNumber(storedFirstSeen ?? openedAt), -1);
    this.changes.add(device, cve, this.severityOf(to), dayNumber(firstSeen ?? openedAt), 1);
  }

  closed(id: number, device: number, cve: number, detail: number, at: number): void {
    const start = this.start(id);
    const severity = this.severityOf(detail);
    this.changes.add(device, cve, severity, dayNumber(start), -1);
    this.fixed(at, severity, at - start, 1);
  }

  /** A fix this run read is taken back (the Fixed half of a move between RBAC groups). */
  unfixed(id: number, device: number, cve: number, detail: number, at: number): void {
    const start = this.start(id);
    const severity = this.severityOf(detail);
    this.changes.add(device, cve, severity, dayNumber(start), 1);
    this.fixed(at, severity, at - start, -1);
  }

  /** A device row this run inserted or changed (its RBAC group may have moved). */
  deviceWritten(device: number, group: number | null, name: string | null): void {
    this.written.set(device, group ?? NO_GROUP);
    this.names.set(group ?? NO_GROUP, name);
  }

  private start(id: number): number {
    const [firstSeen, openedAt] = this.statements.times.get(id)!;
    return firstSeen ?? openedAt;
  }

  private fixed(at: number, severity: number, seconds: number, by: 1 | -1): void {
    const key = `${new Date(at * 1000).toISOString().slice(0, 10)}|${severity}`;
    const sums = this.fixes.get(key) ?? [0, 0];
    sums[0] += by;
    sums[1] += by * seconds;
    this.fixes.set(key, sums);
  }

  /** Writes the run's changes into the read models (inside the run's transaction); `day` is the run's data day (YYYY-MM-DD). */
  apply(tenant: number, day: string): void {
    const db = this.db;
    const c = this.changes;
    // Net change per group and key, as one number: the group's index here × KEY_SPAN + packKey(…) (a Map of numbers: a first load adds a million).
    const net = new Map<number, number>();
    const groupIds: number[] = [];
    const groupIndex = new Map<number, number>();
    const indexOf = (group: number) => {
      let i = groupIndex.get(group);
      if (i === undefined) groupIndex.set(group, i = groupIds.push(group) - 1);
      return i;
    };
    const add = (group: number, key: number, by: number) => {
      const k = indexOf(group) * KEY_SPAN + key;
      net.set(k, (net.get(k) ?? 0) + by);
    };

    // The KEV due day of each CVE: as counted so far (-1: not yet), and as the patch knowledge now answers (remediation_key, written just before).
    const counted = db.prepare('SELECT cve_ref, kev_due_day FROM sla_kev WHERE tenant_ref = ?').raw().all(tenant) as [number, number][];
    const now = new Map<number, number>();
    for (const [cve, due] of db.prepare(`SELECT cve_ref, min(kev_due) FROM remediation_key WHERE tenant_ref = ? AND kev = 1 AND kev_due IS NOT NULL
      GROUP BY cve_ref`).raw().all(tenant) as [number, string][]) now.set(cve, dayOfText(due));
    let maxCve = 0;
    for (let i = 0; i < c.length; i++) if (c.cve[i] > maxCve) maxCve = c.cve[i];
    for (const [cve] of counted) if (cve > maxCve) maxCve = cve;
    const kevDay = new Int32Array(maxCve + 1).fill(-1);
    for (const [cve, due] of counted) kevDay[cve] = due;

    // The group each device's changes count under: the one its findings were counted under (the
    // writer stores a new device's own group). A device whose group changed has its findings moved.
    const groups = new Map<number, number>();
    const moved: [number, number, number][] = [];
    if (this.firstLoad) {
      // Nothing of the tenant was counted: its devices count under their groups now (the writer
      // stored each new one's; an older device's is set here, in SQL: a first load lists 100,000).
      db.prepare('UPDATE device SET sla_group = coalesce(rbac_group_id, @none) WHERE +tenant_ref = @tenant AND sla_group IS NOT coalesce(rbac_group_id, @none)')
        .run({ none: NO_GROUP, tenant });
      for (const [ref, group] of this.written) groups.set(ref, group);
    }
    const unknown = new Set<number>();
    for (let i = 0, last = -1; i < c.length; i++) {
      if (c.device[i] !== last && !groups.has(last = c.device[i])) unknown.add(last);
    }
    if (!this.firstLoad) for (const ref of this.written.keys()) unknown.add(ref);
    const store = db.prepare('UPDATE device SET sla_group = ? WHERE ref = ?');
    for (const [ref, group, countedGroup, name] of db.prepare(`SELECT ref, coalesce(rbac_group_id, ?), sla_group, rbac_group_name FROM device
      WHERE ref IN (SELECT value FROM json_each(?))`).raw().all(NO_GROUP, JSON.stringify([...unknown])) as [number, number, number, string | null][]) {
      groups.set(ref, countedGroup);
      this.names.set(group, name);
      if (countedGroup !== group) {
        moved.push([ref, countedGroup, group]);
        store.run(group, ref);
      }
    }

    // Most changes are of CVEs not known exploited: they are counted in a dense array by group,
    // severity and start day (a first load reports a million), the others in the Map.
    for (const group of groups.values()) indexOf(group);
    let minStart = DAY_BITS;
    let maxStart = 0;
    for (let i = 0; i < c.length; i++) {
      const start = (Math.abs(c.key[i]) - 1) % DAY_BITS;
      if (start < minStart) minStart = start;
      if (start > maxStart) maxStart = start;
    }
    const span = Math.max(0, maxStart - minStart + 1);
    const dense = new Int32Array(groupIds.length * 5 * span <= DENSE_CELLS ? groupIds.length * 5 * span : 0);
    const fresh: number[] = [];
    let lastDevice = -1;
    let gi = 0;
    for (let i = 0; i < c.length; i++) {
      if (c.device[i] !== lastDevice) gi = indexOf(groups.get(lastDevice = c.device[i]) ?? NO_GROUP);
      const cve = c.cve[i];
      let kev = kevDay[cve];
      if (kev < 0) {
        // A CVE counted for the first time: at the day the knowledge gives now.
        kev = kevDay[cve] = now.get(cve) ?? 0;
        fresh.push(tenant, cve, kev);
      }
      const packed = c.key[i];
      const by = packed > 0 ? 1 : -1;
      const severityStart = by * packed - 1;
      if (kev === 0 && dense.length > 0) {
        const severity = (severityStart - (severityStart % DAY_BITS)) / DAY_BITS;
        dense[(gi * 5 + severity) * span + (severityStart % DAY_BITS) - minStart] += by;
      } else {
        const k = gi * KEY_SPAN + severityStart * DAY_BITS + kev;
        net.set(k, (net.get(k) ?? 0) + by);
      }
    }
    for (let cell = 0; cell < dense.length; cell++) {
      if (dense[cell] === 0) continue;
      const row = Math.floor(cell / span);
      const k = Math.floor(row / 5) * KEY_SPAN + packKey(row % 5, minStart + (cell % span), 0);
      net.set(k, (net.get(k) ?? 0) + dense[cell]);
    }
    this.insert('sla_kev (tenant_ref, cve_ref, kev_due_day)', 3, fresh);

    // Moves: a device's open findings to its new group, then a CVE's to its new KEV day.
    const deviceOpen = db.prepare('SELECT cve_ref, detail_ref, coalesce(first_seen, opened_at) FROM finding WHERE device_ref = ? AND fixed_at IS NULL').raw();
    for (const [device, from, to] of moved) {
      for (const [cve, detail, start] of deviceOpen.all(device) as [number, number, number][]) {
        const key = packKey(this.severityOf(detail), dayNumber(start), kevDay[cve]);
        add(from, key, -1);
        add(to, key, 1);
      }
    }
    const cveOpen = db.prepare(`SELECT d.sla_group, f.detail_ref, coalesce(f.first_seen, f.opened_at) FROM cve_finding cf JOIN finding f ON f.id = cf.finding_id
      JOIN device d ON d.ref = f.device_ref WHERE cf.tenant_ref = ? AND cf.cve_ref = ? AND f.fixed_at IS NULL`).raw();
    const kevStore = db.prepare('UPDATE sla_kev SET kev_due_day = ? WHERE tenant_ref = ? AND cve_ref = ?');
    for (const [cve, was] of counted) {
      const is = now.get(cve) ?? 0;
      if (is === was) continue;
      for (const [g, detail, start] of cveOpen.all(tenant, cve) as [number, number, number][]) {
        const severityStart = this.severityOf(detail) * DAY_BITS + dayNumber(start);
        add(g, severityStart * DAY_BITS + was, -1);
        add(g, severityStart * DAY_BITS + is, 1);
      }
      kevStore.run(is, tenant, cve);
    }

    this.write(tenant, net, groupIds);
    const groupName = db.prepare(`INSERT INTO sla_group (tenant_ref, rbac_group_id, name) VALUES (?, ?, ?)
      ON CONFLICT DO UPDATE SET name = excluded.name WHERE name IS NOT excluded.name`);
    for (const [g, name] of this.names) groupName.run(tenant, g, name);

    const fixedDay = db.prepare(`INSERT INTO sla_fixed_day (tenant_ref, day, severity, fixed, seconds) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET fixed = fixed + excluded.fixed, seconds = seconds + excluded.seconds`);
    for (const [key, [fixed, seconds]] of this.fixes) {
      const [fixDay, severity] = key.split('|');
      if (fixed !== 0 || seconds !== 0) fixedDay.run(tenant, fixDay, Number(severity), fixed, seconds);
    }
    this.writeDay(tenant, day);
  }

  private insert(table: string, width: number, values: number[]): void {
    const statement = (rows: number) => this.db.prepare(`INSERT INTO ${table} VALUES ${Array(rows).fill(`(${Array(width).fill('?').join(', ')})`).join(', ')}`);
    const batch = statement(INSERT_ROWS);
    let i = 0;
    for (; i + INSERT_ROWS * width <= values.length; i += INSERT_ROWS * width) batch.run(values.slice(i, i + INSERT_ROWS * width));
    if (i < values.length) statement((values.length - i) / width).run(values.slice(i));
  }

  private write(tenant: number, net: Map<number, number>, groupIds: number[]): void {
    const rows: number[][] = [];
    for (const [k, by] of net) {
      if (by === 0) continue;
      const key = k % KEY_SPAN;
      rows.push([groupIds[(k - key) / KEY_SPAN], Math.floor(key / DAY_BITS / DAY_BITS), Math.floor(key / DAY_BITS) % DAY_BITS, key % DAY_BITS, by]);
    }
    if (this.firstLoad) {
      // Every key is new: inserted in key order, so the table's B-tree is appended to.
      rows.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3]);
      this.insert('sla_open (tenant_ref, rbac_group_id, severity, start_day, kev_due_day, open_findings)', 6, rows.flatMap((r) => [tenant, ...r]));
      return;
    }
    const upsert = this.db.prepare(`INSERT INTO sla_open (tenant_ref, rbac_group_id, severity, start_day, kev_due_day, open_findings) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET open_findings = open_findings + excluded.open_findings RETURNING open_findings`).pluck();
    const remove = this.db.prepare('DELETE FROM sla_open WHERE tenant_ref = ? AND rbac_group_id = ? AND severity = ? AND start_day = ? AND kev_due_day = ?');
    for (const [group, severity, start, kev, by] of rows) {
      if ((upsert.get(tenant, group, severity, start, kev, by) as number) <= 0) remove.run(tenant, group, severity, start, kev);
    }
  }

  /** The tenant's figures on its data day, as the trend's point (exceptions are not left out: they live in the console's database). */
  private writeDay(tenant: number, day: string): void {
    const today = dayOfText(day);
    const windows = windowsByIndex(this.windows);
    let open = 0;
    let approaching = 0;
    let overdue = 0;
    for (const [severity, start, kev, n] of this.db.prepare(`SELECT severity, start_day, kev_due_day, sum(open_findings) FROM sla_open WHERE tenant_ref = ?
      GROUP BY severity, start_day, kev_due_day`).raw().all(tenant) as [number, number, number, number][]) {
      open += n;
      const state = timeState(today, start, dueDay(start, windows[severity], kev));
      if (state === 'overdue') overdue += n;
      else if (state === 'approaching') approaching += n;
    }
    this.db.prepare(`INSERT INTO sla_day (tenant_ref, day, open_findings, approaching, overdue) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET open_findings = excluded.open_findings, approaching = excluded.approaching, overdue = excluded.overdue`)
      .run(tenant, day, open, approaching, overdue);
  }
}
