// Keeps the read models (the counts the console's pages show: per device, CVE, software version,
// tenant and day) in step with the findings a run writes. The writer reports each finding that
// opens, closes or changes severity; the tally adds the changes up in memory and applies them once
// per touched row at commit, inside the run's transaction. Counting distinct devices needs to know
// whether a device has another open finding for the same CVE or software: a first load (the tenant
// had no findings) sorts the pairs it saw; later runs ask the store about the pairs they changed.

import type SQLite from 'better-sqlite3';
import { grown } from './columns.js';

/** Index of a Defender severity in the per-severity counts; OTHER counts only in the totals. */
const SEVERITY_INDEX: Record<string, number> = { Critical: 1, High: 2, Medium: 3, Low: 4 };
const OTHER = 0;
export const severityIndex = (severity: string | null): number => SEVERITY_INDEX[severity ?? ''] ?? OTHER;

/** Counts of open findings: [all, critical, high, medium, low]. */
type Counts = Float64Array;
const newCounts = (): Counts => new Float64Array(5);

/** Pairs of refs as one number: a * PAIR + b (refs stay far below 2^22, so keys stay exact). */
const PAIR = 2 ** 31;

/** The findings a first load opened, as columns of refs (no Map: a million or more rows). */
class FindingList {
  devices = new Int32Array(1 << 16);
  software = new Int32Array(1 << 16);
  cves = new Int32Array(1 << 16);
  length = 0;

  add(device: number, software: number, cve: number): void {
    if (this.length === this.devices.length) {
      for (const column of ['devices', 'software', 'cves'] as const) this[column] = grown(this[column]);
    }
    this.devices[this.length] = device;
    this.software[this.length] = software;
    this.cves[this.length++] = cve;
  }

  /**
   * Groups the findings by one column and counts them per distinct value of another: a counting
   * sort by group, then a stamp per member (linear, no comparisons, no Map per pair). Calls back
   * once per group with its distinct members, and, when asked, once per pair with its findings.
   */
  countPairs(groups: Int32Array, members: Int32Array, eachGroup: (group: number, members: number) => void,
    eachPair?: (group: number, member: number, findings: number) => void): void {
    const n = this.length;
    let maxGroup = 0;
    let maxMember = 0;
    for (let i = 0; i < n; i++) {
      if (groups[i] > maxGroup) maxGroup = groups[i];
      if (members[i] > maxMember) maxMember = members[i];
    }
    const start = new Int32Array(maxGroup + 2);
    for (let i = 0; i < n; i++) start[groups[i] + 1]++;
    for (let g = 1; g < start.length; g++) start[g] += start[g - 1];
    const next = start.slice(0, maxGroup + 1);
    const sorted = new Int32Array(n);
    for (let i = 0; i < n; i++) sorted[next[groups[i]]++] = members[i];
    const findings = new Int32Array(maxMember + 1);
    for (let g = 0; g <= maxGroup; g++) {
      if (start[g] === start[g + 1]) continue;
      let distinct = 0;
      for (let j = start[g]; j < start[g + 1]; j++) if (findings[sorted[j]]++ === 0) distinct++;
      eachGroup(g, distinct);
      for (let j = start[g]; j < start[g + 1]; j++) {
        const member = sorted[j];
        if (findings[member] > 0) {
          eachPair?.(g, member, findings[member]);
          findings[member] = 0;
        }
      }
    }
  }

  /** Distinct members per group. */
  distinctCounts(groups: Int32Array, members: Int32Array): Map<number, number> {
    const counts = new Map<number, number>();
    this.countPairs(groups, members, (group, distinct) => counts.set(group, distinct));
    return counts;
  }
}

/**
 * New findings by CVE, for the cve_finding index table. A first load's are written at commit in
 * key order (CVE, then id), so the table's B-tree is appended to rather than split at random as an
 * index on the finding table would be on every insert (that cost a third of a first load's time).
 */
class NewFindings {
  cves = new Int32Array(1 << 16);
  ids = new Int32Array(1 << 16);
  length = 0;

  add(id: number, cve: number): void {
    if (this.length === this.ids.length) {
      this.cves = grown(this.cves);
      this.ids = grown(this.ids);
    }
    this.cves[this.length] = cve;
    this.ids[this.length++] = id;
  }

  /** Inserts (tenant, CVE, id) rows, ordered by CVE and, within one, by id (the order they were added). */
  write(db: SQLite.Database, tenant: number): void {
    const n = this.length;
    let maxCve = 0;
    for (let i = 0; i < n; i++) if (this.cves[i] > maxCve) maxCve = this.cves[i];
    const next = new Int32Array(maxCve + 2);
    for (let i = 0; i < n; i++) next[this.cves[i] + 1]++;
    for (let c = 1; c < next.length; c++) next[c] += next[c - 1];
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[next[this.cves[i]]++] = i;
    const insert = (rows: number) => db.prepare(`INSERT INTO cve_finding (tenant_ref, cve_ref, finding_id) VALUES ${Array(rows).fill('(?, ?, ?)').join(', ')}`);
    const batch = insert(INSERT_ROWS);
    const values: number[] = [];
    for (let k = 0; k < n; k++) {
      values.push(tenant, this.cves[order[k]], this.ids[order[k]]);
      if (values.length === INSERT_ROWS * 3) batch.run(values.splice(0));
    }
    if (values.length) insert(values.length / 3).run(values);
  }
}

const INSERT_ROWS = 100;

function bump<K>(map: Map<K, number>, key: K, by: number): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function countsOf(map: Map<number, Counts>, key: number): Counts {
  let counts = map.get(key);
  if (!counts) map.set(key, (counts = newCounts()));
  return counts;
}

export class ExposureTally {
  private devices = new Map<number, Counts>();
  private software = new Map<number, Counts>();
  private cveFindings = new Map<number, number>();
  private cveFirstSeen = new Map<number, number>();
  /** First loads: every finding opened. */
  private loaded = new FindingList();
  private newFindings = new NewFindings();
  /** Later runs: the net change of open findings per pair of refs. */
  private softwareCves = new Map<number, number>();
  private cveDeviceNet = new Map<number, number>();
  private softwareDeviceNet = new Map<number, number>();
  private lastDevice = -1;
  private lastDeviceCounts = newCounts();
  private lastSoftware = -1;
  private lastSoftwareCounts = newCounts();
  private firstLoad = false;

  constructor(private readonly db: SQLite.Database) {}

  /** Starts a run; a first load has no findings of the tenant before it. */
  reset(firstLoad: boolean): void {
    Object.assign(this, new ExposureTally(this.db));
    this.firstLoad = firstLoad;
  }

  private change(device: number, software: number, cve: number, severity: number, by: number): void {
    if (device !== this.lastDevice) {
      this.lastDevice = device;
      this.lastDeviceCounts = countsOf(this.devices, device);
    }
    this.lastDeviceCounts[0] += by;
    if (severity !== OTHER) this.lastDeviceCounts[severity] += by;
    if (software !== this.lastSoftware) {
      this.lastSoftware = software;
      this.lastSoftwareCounts = countsOf(this.software, software);
    }
    this.lastSoftwareCounts[0] += by;
    if (severity !== OTHER) this.lastSoftwareCounts[severity] += by;
    bump(this.cveFindings, cve, by);
    if (this.firstLoad) {
      this.loaded.add(device, software, cve);
    } else {
      bump(this.softwareCves, software * PAIR + cve, by);
      bump(this.cveDeviceNet, cve * PAIR + device, by);
      bump(this.softwareDeviceNet, software * PAIR + device, by);
    }
  }

  /** A finding created by this run (it then opens). */
  added(id: number, cve: number): void {
    this.newFindings.add(id, cve);
  }

  opened(device: number, software: number, cve: number, severity: number, firstSeen: number | null): void {
    this.change(device, software, cve, severity, 1);
    if (firstSeen !== null) {
      const known = this.cveFirstSeen.get(cve);
      if (known === undefined || firstSeen < known) this.cveFirstSeen.set(cve, firstSeen);
    }
  }

  closed(device: number, software: number, cve: number, severity: number): void {
    this.change(device, software, cve, severity, -1);
  }

  /** An open finding whose severity changed. */
  regraded(device: number, software: number, from: number, to: number): void {
    const deviceCounts = countsOf(this.devices, device);
    const softwareCounts = countsOf(this.software, software);
    if (from !== OTHER) { deviceCounts[from]--; softwareCounts[from]--; }
    if (to !== OTHER) { deviceCounts[to]++; softwareCounts[to]++; }
  }

  /** Per first ref, how many of its pairs went from no open finding to some, minus the reverse. */
  private exposedChanges(net: Map<number, number>, openAfter: SQLite.Statement): Map<number, number> {
    const changes = new Map<number, number>();
    for (const [key, by] of net) {
      if (by === 0) continue;
      const first = Math.floor(key / PAIR);
      const after = openAfter.get(first, key - first * PAIR) as number;
      const change = (after > 0 ? 1 : 0) - (after - by > 0 ? 1 : 0);
      if (change !== 0) bump(changes, first, change);
    }
    return changes;
  }

  /** Writes the changes into the read models (inside the run's transaction). */
  apply(tenant: number, day: string, opened: number, fixed: number): void {
    const db = this.db;
    this.newFindings.write(db, tenant);
    const totals = newCounts();
    let exposedDevices = 0;
    const changedDevices = [...this.devices].filter(([, counts]) => counts.some((n) => n !== 0));
    const after = db.prepare(`UPDATE device SET open_findings = open_findings + j.value->>1, open_critical = open_critical + j.value->>2,
      open_high = open_high + j.value->>3, open_medium = open_medium + j.value->>4, open_low = open_low + j.value->>5
      FROM json_each(?) j WHERE device.ref = j.value->>0 RETURNING ref, open_findings`)
      .raw().all(JSON.stringify(changedDevices.map(([device, counts]) => [device, ...counts]))) as [number, number][];
    for (const [device, now] of after) exposedDevices += (now > 0 ? 1 : 0) - (now - this.devices.get(device)![0] > 0 ? 1 : 0);
    for (const [, counts] of changedDevices) for (let i = 0; i < 5; i++) totals[i] += counts[i];

    const list = this.loaded;
    const cveExposed = this.firstLoad ? list.distinctCounts(list.cves, list.devices) : this.exposedChanges(this.cveDeviceNet,
      // A seek in finding_key (device, CVE, software).
      db.prepare('SELECT count(*) FROM finding WHERE cve_ref = ? AND device_ref = ? AND fixed_at IS NULL').pluck());
    const upsertCve = db.prepare(`INSERT INTO cve_exposure (tenant_ref, cve_ref, exposed_devices, open_findings, first_seen) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET exposed_devices = exposed_devices + excluded.exposed_devices, open_findings = open_findings + excluded.open_findings,
      first_seen = coalesce(min(first_seen, excluded.first_seen), first_seen, excluded.first_seen)`);
    for (const cve of new Set([...this.cveFindings.keys(), ...cveExposed.keys()])) {
      upsertCve.run(tenant, cve, cveExposed.get(cve) ?? 0, this.cveFindings.get(cve) ?? 0, this.cveFirstSeen.get(cve) ?? null);
    }

    const softwareExposed = this.firstLoad ? list.distinctCounts(list.software, list.devices) : this.exposedChanges(this.softwareDeviceNet,
      db.prepare('SELECT count(*) FROM finding WHERE software_ref = ? AND device_ref = ? AND fixed_at IS NULL').pluck());
    const softwareCveCounts = this.softwareCveChanges(tenant);
    const upsertSoftware = db.prepare(`INSERT INTO software_exposure (tenant_ref, software_ref, exposed_devices, open_findings, cves,
      open_critical, open_high, open_medium, open_low) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET exposed_devices = exposed_devices + excluded.exposed_devices, open_findings = open_findings + excluded.open_findings,
      cves = cves + excluded.cves, open_critical = open_critical + excluded.open_critical, open_high = open_high + excluded.open_high,
      open_medium = open_medium + excluded.open_medium, open_low = open_low + excluded.open_low`);
    for (const [software, counts] of this.software) {
      upsertSoftware.run(tenant, software, softwareExposed.get(software) ?? 0, counts[0], softwareCveCounts.get(software) ?? 0,
        counts[1], counts[2], counts[3], counts[4]);
    }

    const deviceCount = db.prepare('SELECT count(*) FROM device WHERE tenant_ref = ?').pluck().get(tenant) as number;
    const current = db.prepare(`INSERT INTO tenant_exposure (tenant_ref, devices, exposed_devices, open_findings, open_critical, open_high, open_medium, open_low)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET devices = excluded.devices, exposed_devices = exposed_devices + excluded.exposed_devices,
      open_findings = open_findings + excluded.open_findings, open_critical = open_critical + excluded.open_critical, open_high = open_high + excluded.open_high,
      open_medium = open_medium + excluded.open_medium, open_low = open_low + excluded.open_low
      RETURNING exposed_devices, open_findings, open_critical, open_high, open_medium, open_low`)
      .get(tenant, deviceCount, exposedDevices, totals[0], totals[1], totals[2], totals[3], totals[4]) as Record<string, number>;
    db.prepare(`INSERT INTO exposure_day (tenant_ref, day, exposed_devices, open_findings, open_critical, open_high, open_medium, open_low, opened, fixed)
      VALUES (@tenant, @day, @exposed_devices, @open_findings, @open_critical, @open_high, @open_medium, @open_low, @opened, @fixed)
      ON CONFLICT DO UPDATE SET exposed_devices = excluded.exposed_devices, open_findings = excluded.open_findings, open_critical = excluded.open_critical,
      open_high = excluded.open_high, open_medium = excluded.open_medium, open_low = excluded.open_low,
      opened = opened + excluded.opened, fixed = fixed + excluded.fixed`).run({ tenant, day, ...current, opened, fixed });
  }

  /** Applies the open findings per (software, CVE); returns per software how many CVEs it gained or lost. */
  private softwareCveChanges(tenant: number): Map<number, number> {
    const upsert = this.db.prepare(`INSERT INTO software_cve (tenant_ref, software_ref, cve_ref, open_findings) VALUES (?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET open_findings = open_findings + excluded.open_findings RETURNING open_findings`).pluck();
    const insert = this.db.prepare('INSERT INTO software_cve (tenant_ref, software_ref, cve_ref, open_findings) VALUES (?, ?, ?, ?)');
    const remove = this.db.prepare('DELETE FROM software_cve WHERE tenant_ref = ? AND software_ref = ? AND cve_ref = ?');
    const changes = new Map<number, number>();
    if (this.firstLoad) {
      this.loaded.countPairs(this.loaded.software, this.loaded.cves, (software, cves) => changes.set(software, cves),
        (software, cve, findings) => insert.run(tenant, software, cve, findings));
      return changes;
    }
    for (const [key, by] of this.softwareCves) {
      if (by === 0) continue;
      const software = Math.floor(key / PAIR);
      const cve = key - software * PAIR;
      const after = upsert.get(tenant, software, cve, by) as number;
      if (after === 0) remove.run(tenant, software, cve);
      const change = (after > 0 ? 1 : 0) - (after - by > 0 ? 1 : 0);
      if (change !== 0) bump(changes, software, change);
    }
    return changes;
  }
}
