// Keeps the remediation read models (remediation, remediation_key, remediation_device) in step
// with the findings a run writes, inside the run's transaction. A finding's remediation depends
// only on its key: software version, CVE, detail (Defender's recommended update) and, for Linux
// packages, the device's OS version. The writer reports each finding that opens, closes or changes
// detail; at commit the tally maps each distinct key once (from remediation_key, or for a new key
// from the patch knowledge), adds the changes up per key and per remediation × device, and
// refreshes the remediations it touched: counts, content, risk, due date and completion.
// After a content import, remap() maps every key again and moves the findings of the keys whose
// remediation changed.

import type SQLite from 'better-sqlite3';
import type { FixQuery, Knowledge } from '../content/knowledge.js';
import { compareVersions, versionScheme } from '../content/versions/index.js';
import { productName, remediationOf, type RemediationIdentity } from './classify.js';
import { DEFAULT_SLA_WINDOWS, type SlaWindows } from '../exposure/sla-state.js';
import { EXPLOIT_LEVELS, riskOf } from './risk.js';
import type { RiskSettings } from './risk-settings.js';
import { grown } from '../sync/columns.js';

const INSERT_ROWS = 100;
/** Values per remediation_key row resolve() inserts. */
const KEY_COLUMNS = 11;
/** Vendors whose fixes depend on the device's release (knowledge.ts reads it from the OS version). */
const RELEASE_VENDORS = new Set(['red_hat', 'ubuntu']);
const DAY_SECONDS = 86_400;

/** One distinct key of the run, and what it maps to. */
interface Entry {
  software: number;
  cve: number;
  detail: number;
  os: string;
  /** Net change of its open findings in this run. */
  net: number;
  firstSeen: number | null;
  remediation: number;
  /** The next entry with the same software and CVE (another detail or release). */
  next: Entry | undefined;
  stored: boolean;
}

interface Touched {
  devices: number;
  fixed: number;
  /** The latest fix time (unix seconds) read in this run. */
  fixedAt: number;
}

/** The run's finding changes, as columns (a first load reports a million or more). */
class Changes {
  device = new Int32Array(1 << 14);
  software = new Int32Array(1 << 14);
  cve = new Int32Array(1 << 14);
  detail = new Int32Array(1 << 14);
  by = new Int8Array(1 << 14);
  /** First seen for an opening, the fix time for a closing (unix seconds; 0: none). */
  at = new Int32Array(1 << 14);
  length = 0;

  add(device: number, software: number, cve: number, detail: number, by: 1 | -1, at: number | null): void {
    if (this.length === this.device.length) {
      for (const column of ['device', 'software', 'cve', 'detail', 'at'] as const) this[column] = grown(this[column]);
      this.by = grown(this.by);
    }
    const i = this.length++;
    this.device[i] = device;
    this.software[i] = software;
    this.cve[i] = cve;
    this.detail[i] = detail;
    this.by[i] = by;
    this.at[i] = at ?? 0;
  }
}

type SoftwareRow = { vendor: string; name: string; version: string };

export class RemediationTally {
  private changes = new Changes();
  private writtenDevices = new Set<number>();
  private firstLoad = false;

  /** `windows`: the SLA's days per severity (settings), from first seen to a remediation's due date. */
  constructor(private readonly db: SQLite.Database, private readonly knowledge: Knowledge, private readonly risk: () => RiskSettings,
    private readonly windows: SlaWindows = DEFAULT_SLA_WINDOWS) {}

  reset(firstLoad: boolean): void {
    this.changes = new Changes();
    this.writtenDevices = new Set();
    this.firstLoad = firstLoad;
  }

  opened(device: number, software: number, cve: number, detail: number, firstSeen: number | null): void {
    this.changes.add(device, software, cve, detail, 1, firstSeen);
  }

  closed(device: number, software: number, cve: number, detail: number, at: number): void {
    this.changes.add(device, software, cve, detail, -1, at);
  }

  /** An open finding whose detail changed (its recommended update, severity or exploitability). */
  changed(device: number, software: number, cve: number, from: number, to: number): void {
    this.changes.add(device, software, cve, from, -1, null);
    this.changes.add(device, software, cve, to, 1, null);
  }

  /** A device row this run inserted or changed (its OS version may have moved). */
  deviceWritten(device: number): void {
    if (!this.firstLoad) this.writtenDevices.add(device);
  }

  /** Writes the run's changes into the read models (inside the run's transaction). */
  apply(tenant: number): void {
    const c = this.changes;
    if (c.length === 0 && this.writtenDevices.size === 0) return;
    const run = new Mapping(this.db, this.knowledge, this.risk(), tenant, this.firstLoad, this.windows);
    const releaseOf = run.deviceReleases(this.firstLoad ? null : [...new Set([...c.device.subarray(0, c.length), ...this.writtenDevices])], c);
    const entryOf: Entry[] = new Array(c.length);
    for (let i = 0; i < c.length; i++) {
      const entry = run.entry(c.software[i], c.cve[i], c.detail[i], releaseOf(i));
      entryOf[i] = entry;
      entry.net += c.by[i];
      if (c.by[i] > 0 && c.at[i] > 0 && (entry.firstSeen === null || c.at[i] < entry.firstSeen)) entry.firstSeen = c.at[i];
    }
    run.resolve();
    // Consecutive changes of one device in one remediation (a first load lists a device's findings together) are added up first.
    let remediation = -1;
    let device = -1;
    let by = 0;
    for (let i = 0; i < c.length; i++) {
      const r = entryOf[i].remediation;
      if (c.by[i] < 0 || r !== remediation || c.device[i] !== device) {
        if (by !== 0) run.count(remediation, device, by, 0);
        remediation = r;
        device = c.device[i];
        by = 0;
      }
      if (c.by[i] < 0) run.count(r, device, -1, c.at[i]);
      else by++;
    }
    if (by !== 0) run.count(remediation, device, by, 0);
    run.write();
  }

  /** Maps every key of every tenant again (after a content import), in one transaction. */
  remap(): void {
    this.db.transaction(() => {
      for (const tenant of this.db.prepare('SELECT ref FROM tenant').pluck().all() as number[]) new Mapping(this.db, this.knowledge, this.risk(), tenant, false, this.windows).remap();
    })();
  }

  /** Scores every remediation again (after the risk settings changed), in one transaction. */
  rescore(): void {
    this.db.transaction(() => {
      for (const tenant of this.db.prepare('SELECT ref FROM tenant').pluck().all() as number[]) new Mapping(this.db, this.knowledge, this.risk(), tenant, false, this.windows).rescore();
    })();
  }

  /** Counts every open finding of the tenants that have none counted yet (findings synced before remediations existed). */
  backfill(): void {
    const tenants = this.db.prepare(`SELECT t.ref FROM tenant t WHERE NOT EXISTS (SELECT 1 FROM remediation r WHERE r.tenant_ref = t.ref)
      AND EXISTS (SELECT 1 FROM tenant_exposure e WHERE e.tenant_ref = t.ref AND e.open_findings > 0)`).pluck().all() as number[];
    for (const tenant of tenants) {
      this.db.transaction(() => {
        this.reset(true);
        const open = this.db.prepare(`SELECT f.device_ref, f.software_ref, f.cve_ref, f.detail_ref, f.first_seen FROM finding f
          WHERE f.fixed_at IS NULL AND f.device_ref IN (SELECT ref FROM device WHERE tenant_ref = ?)`).raw();
        for (const [device, software, cve, detail, firstSeen] of open.iterate(tenant) as Iterable<[number, number, number, number, number | null]>) {
          this.opened(device, software, cve, detail, firstSeen);
        }
        this.apply(tenant);
      })();
    }
  }
}

/** One commit's (or remap's) work for one tenant. */
class Mapping {
  /** Entries by software, then CVE (small integer keys: a first load looks up a million). */
  private readonly entries = new Map<number, Map<number, Entry>>();
  private lastSoftware = -1;
  private lastEntries = new Map<number, Entry>();
  private readonly newEntries: Entry[] = [];
  private readonly remediations = new Map<string, number>();
  private readonly touched = new Map<number, Touched>();
  /** Net change of open findings per remediation, then device (small integer keys: a Map of pair numbers costs twice as much). */
  private readonly deviceNet = new Map<number, Map<number, number>>();
  private readonly software = new Map<number, SoftwareRow>();
  /** Each CVE id and recommended update read once: a first load maps tens of thousands of keys over a few thousand of them. */
  private readonly cveIds = new Map<number, string>();
  private readonly details = new Map<number, { update_id: string | null; update_title: string | null }>();
  private readonly statements;

  constructor(private readonly db: SQLite.Database, private readonly knowledge: Knowledge, private readonly risk: RiskSettings, private readonly tenant: number,
    private readonly firstLoad: boolean, private readonly windows: SlaWindows) {
    for (const [ref, key] of db.prepare('SELECT ref, key FROM remediation WHERE tenant_ref = ?').raw().all(tenant) as [number, string][]) this.remediations.set(key, ref);
    this.statements = {
      software: db.prepare<unknown[], SoftwareRow>('SELECT vendor, name, version FROM software WHERE ref = ?'),
      stored: db.prepare<unknown[], number>('SELECT remediation_ref FROM remediation_key WHERE tenant_ref = ? AND software_ref = ? AND cve_ref = ? AND detail_ref = ? AND os = ?').pluck(),
      cveId: db.prepare<unknown[], string>('SELECT cve_id FROM cve WHERE ref = ?').pluck(),
      detail: db.prepare<unknown[], { update_id: string | null; update_title: string | null }>('SELECT update_id, update_title FROM finding_detail WHERE ref = ?'),
      createRemediation: db.prepare('INSERT INTO remediation (tenant_ref, key, kind, title, product, reason, update_id, update_title) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      updateRemediation: db.prepare('UPDATE remediation SET update_id = ?, update_title = ? WHERE ref = ? AND (update_id, update_title) IS NOT (?, ?)'),
    };
  }

  /** Per software ref: 1 when its fixes depend on the release, 2 when not (0: not looked up yet). */
  private releaseDependent = new Uint8Array(1 << 16);

  private dependsOnRelease(software: number): boolean {
    if (software >= this.releaseDependent.length) {
      const bigger = new Uint8Array(Math.max(software + 1, this.releaseDependent.length * 2));
      bigger.set(this.releaseDependent);
      this.releaseDependent = bigger;
    }
    if (this.releaseDependent[software] === 0) this.releaseDependent[software] = RELEASE_VENDORS.has(this.softwareRow(software).vendor) ? 1 : 2;
    return this.releaseDependent[software] === 1;
  }

  private softwareRow(ref: number): SoftwareRow {
    let row = this.software.get(ref);
    if (!row) this.software.set(ref, row = this.statements.software.get(ref)!);
    return row;
  }

  /**
   * The release each change is counted under: the one its device's findings were counted under at
   * the last commit (a new device: its OS version). A device whose OS version changed has its open
   * findings of Linux packages moved to the new release: changes out of the old one and, marked by
   * index in the answer, into the new one; the new release is stored.
   */
  deviceReleases(devices: number[] | null, changes: Changes): (i: number) => string {
    // By device ref (a dense array: every change asks).
    const releases: string[] = [];
    const rows = (devices === null
      ? this.db.prepare('SELECT ref, os_version, remediation_os FROM device WHERE tenant_ref = ?').raw().all(this.tenant)
      : this.db.prepare('SELECT ref, os_version, remediation_os FROM device WHERE ref IN (SELECT value FROM json_each(?))').raw().all(JSON.stringify(devices))) as [number, string | null, string | null][];
    const store = this.db.prepare('UPDATE device SET remediation_os = ? WHERE ref = ?');
    const moved: [number, string][] = [];
    for (const [ref, osVersion, counted] of rows) {
      const now = osVersion ?? '';
      releases[ref] = counted ?? now;
      if (counted !== now) {
        store.run(now, ref);
        if (counted !== null) moved.push([ref, now]);
      }
    }
    const intoNew = new Map<number, string>();
    const open = this.db.prepare('SELECT software_ref, cve_ref, detail_ref FROM finding WHERE device_ref = ? AND fixed_at IS NULL').raw();
    for (const [device, now] of moved) {
      for (const [software, cve, detail] of open.all(device) as [number, number, number][]) {
        if (!this.dependsOnRelease(software)) continue;
        changes.add(device, software, cve, detail, -1, null);
        intoNew.set(changes.length, now);
        changes.add(device, software, cve, detail, 1, null);
      }
    }
    return (i) => {
      if (!this.dependsOnRelease(changes.software[i])) return '';
      return (intoNew.size ? intoNew.get(i) : undefined) ?? releases[changes.device[i]] ?? '';
    };
  }

  entry(software: number, cve: number, detail: number, os: string): Entry {
    if (software !== this.lastSoftware) {
      this.lastSoftware = software;
      let byCve = this.entries.get(software);
      if (!byCve) this.entries.set(software, byCve = new Map());
      this.lastEntries = byCve;
    }
    const first = this.lastEntries.get(cve);
    for (let e = first; e; e = e.next) if (e.detail === detail && e.os === os) return e;
    const entry: Entry = { software, cve, detail, os, net: 0, firstSeen: null, remediation: 0, next: first, stored: false };
    this.lastEntries.set(cve, entry);
    if (!this.firstLoad) {
      const stored = this.statements.stored.get(this.tenant, software, cve, detail, os);
      if (stored !== undefined) {
        entry.remediation = stored;
        entry.stored = true;
        return entry;
      }
    }
    this.newEntries.push(entry);
    return entry;
  }

  private query(entry: Entry): FixQuery {
    const s = this.softwareRow(entry.software);
    let detail = this.details.get(entry.detail);
    if (!detail) this.details.set(entry.detail, detail = this.statements.detail.get(entry.detail) ?? { update_id: null, update_title: null });
    let cveId = this.cveIds.get(entry.cve);
    if (cveId === undefined) this.cveIds.set(entry.cve, cveId = this.statements.cveId.get(entry.cve)!);
    return {
      vendor: s.vendor, name: s.name, version: s.version, cveId, osVersion: entry.os || null,
      recommendedUpdateId: detail.update_id, recommendedUpdateTitle: detail.update_title,
    };
  }

  private remediationFor(identity: RemediationIdentity): number {
    let ref = this.remediations.get(identity.key);
    if (ref === undefined) {
      ref = Number(this.statements.createRemediation.run(this.tenant, identity.key, identity.kind, identity.key, identity.product, identity.reason,
        identity.update?.id ?? null, identity.update?.title ?? null).lastInsertRowid);
      this.remediations.set(identity.key, ref);
    } else if (identity.update) {
      // The newest update of a build line moves on with each Patch Tuesday.
      this.statements.updateRemediation.run(identity.update.id, identity.update.title, ref, identity.update.id, identity.update.title);
    }
    this.touch(ref);
    return ref;
  }

  private touch(ref: number): Touched {
    let t = this.touched.get(ref);
    if (!t) this.touched.set(ref, t = { devices: 0, fixed: 0, fixedAt: 0 });
    return t;
  }

  /** Maps the keys this run saw for the first time, and stores them. */
  resolve(): void {
    const fresh = this.newEntries;
    if (!fresh.length) return;
    const fixes = this.knowledge.fixesFor(fresh.map((e) => this.query(e)));
    const rows: (number | string | null)[] = [];
    // A new key is stored with this run's counts (all of its changes are added up by now).
    const insert = (n: number) => this.db.prepare(`INSERT INTO remediation_key (tenant_ref, software_ref, cve_ref, detail_ref, os, remediation_ref, fixed_version,
      kev, kev_due, open_findings, first_seen) VALUES ${Array(n).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`);
    const batch = insert(INSERT_ROWS);
    fresh.forEach((entry, i) => {
      const s = this.softwareRow(entry.software);
      entry.remediation = this.remediationFor(remediationOf(s.vendor, s.name, s.version, fixes[i]));
      rows.push(this.tenant, entry.software, entry.cve, entry.detail, entry.os, entry.remediation, fixes[i].fixedVersion, fixes[i].kev ? 1 : 0,
        fixes[i].kev?.dueDate ?? null, entry.net, entry.firstSeen);
      if (rows.length === INSERT_ROWS * KEY_COLUMNS) batch.run(rows.splice(0));
    });
    if (rows.length) insert(rows.length / KEY_COLUMNS).run(rows);
  }

  /** One finding change of a device in a remediation; `fixedAt` for a fix. */
  count(remediation: number, device: number, by: number, fixedAt: number): void {
    let devices = this.deviceNet.get(remediation);
    if (!devices) this.deviceNet.set(remediation, devices = new Map());
    devices.set(device, (devices.get(device) ?? 0) + by);
    if (fixedAt > 0) {
      const t = this.touch(remediation);
      t.fixed++;
      if (fixedAt > t.fixedAt) t.fixedAt = fixedAt;
    }
  }

  /** Applies the counts, then refreshes every remediation touched. */
  write(): void {
    const keyUpdate = this.db.prepare(`UPDATE remediation_key SET
      first_seen = CASE WHEN open_findings <= 0 THEN ? ELSE min(coalesce(first_seen, ?), coalesce(?, first_seen)) END, open_findings = open_findings + ?
      WHERE tenant_ref = ? AND software_ref = ? AND cve_ref = ? AND detail_ref = ? AND os = ?`);
    for (const first of [...this.entries.values()].flatMap((byCve) => [...byCve.values()])) {
      for (let e: Entry | undefined = first; e; e = e.next) {
        this.touch(e.remediation);
        if (e.stored && (e.net !== 0 || e.firstSeen !== null)) keyUpdate.run(e.firstSeen, e.firstSeen, e.firstSeen, e.net, this.tenant, e.software, e.cve, e.detail, e.os);
      }
    }
    this.writeDevices();
    this.refresh([...this.touched.keys()]);
  }

  private writeDevices(): void {
    if (this.firstLoad) {
      // Every pair is new: inserted in key order, so the table's B-tree is appended to.
      const insert = (n: number) => this.db.prepare(`INSERT INTO remediation_device (remediation_ref, device_ref, open_findings) VALUES ${Array(n).fill('(?, ?, ?)').join(', ')}`);
      const batch = insert(INSERT_ROWS);
      const values: number[] = [];
      for (const remediation of [...this.deviceNet.keys()].sort((a, b) => a - b)) {
        const net = this.deviceNet.get(remediation)!;
        const t = this.touch(remediation);
        for (const device of Int32Array.from(net.keys()).sort()) {
          const by = net.get(device)!;
          if (by === 0) continue;
          values.push(remediation, device, by);
          t.devices++;
          if (values.length === INSERT_ROWS * 3) batch.run(values.splice(0));
        }
      }
      if (values.length) insert(values.length / 3).run(values);
      return;
    }
    const upsert = this.db.prepare(`INSERT INTO remediation_device (remediation_ref, device_ref, open_findings) VALUES (?, ?, ?)
      ON CONFLICT DO UPDATE SET open_findings = open_findings + excluded.open_findings RETURNING open_findings`).pluck();
    const remove = this.db.prepare('DELETE FROM remediation_device WHERE remediation_ref = ? AND device_ref = ?');
    for (const [remediation, net] of this.deviceNet) {
      const t = this.touch(remediation);
      for (const [device, by] of net) {
        if (by === 0) continue;
        const after = upsert.get(remediation, device, by) as number;
        if (after <= 0) remove.run(remediation, device);
        t.devices += (after > 0 ? 1 : 0) - (after - by > 0 ? 1 : 0);
      }
    }
  }

  /** Recomputes each remediation's counts, content, risk, due date and completion from its keys. */
  private refresh(refs: number[]): void {
    const aggregate = this.db.prepare(`SELECT coalesce(sum(k.open_findings), 0) AS open, count(DISTINCT k.cve_ref) AS cves,
      coalesce(sum(CASE x.severity WHEN 'Critical' THEN k.open_findings ELSE 0 END), 0) AS critical,
      coalesce(sum(CASE x.severity WHEN 'High' THEN k.open_findings ELSE 0 END), 0) AS high,
      coalesce(sum(CASE x.severity WHEN 'Medium' THEN k.open_findings ELSE 0 END), 0) AS medium,
      coalesce(sum(CASE x.severity WHEN 'Low' THEN k.open_findings ELSE 0 END), 0) AS low,
      coalesce(max(coalesce(x.cvss, CASE x.severity WHEN 'Critical' THEN 9.0 WHEN 'High' THEN 7.0 WHEN 'Medium' THEN 4.0 WHEN 'Low' THEN 0.1 ELSE 0 END)), 0) AS cvss,
      coalesce(max(CASE WHEN k.kev = 1 THEN 4 WHEN x.exploitability = 'ExploitIsInKit' THEN 3 WHEN x.exploitability = 'ExploitIsVerified' THEN 2
        WHEN x.exploitability = 'ExploitIsPublic' THEN 1 ELSE 0 END), 0) AS exploit,
      coalesce(max(v.epss), 0) AS epss, min(k.kev_due) AS kev_due,
      min(k.first_seen + CASE x.severity WHEN 'Critical' THEN ${this.windows.critical} WHEN 'High' THEN ${this.windows.high} WHEN 'Medium' THEN ${this.windows.medium}
        ELSE ${this.windows.low} END * ${DAY_SECONDS}) AS sla_due
      FROM remediation_key k JOIN finding_detail x ON x.ref = k.detail_ref JOIN cve c ON c.ref = k.cve_ref
      LEFT JOIN vulnerability v ON v.tenant_ref = k.tenant_ref AND v.cve_id = c.cve_id
      WHERE k.remediation_ref = ? AND k.open_findings > 0`);
    const versions = this.db.prepare(`SELECT DISTINCT s.vendor, s.name, k.fixed_version FROM remediation_key k JOIN software s ON s.ref = k.software_ref
      WHERE k.remediation_ref = ? AND k.open_findings > 0 AND k.fixed_version IS NOT NULL`).raw();
    const current = this.db.prepare<unknown[], { kind: string; product: string | null; reason: string | null; update_id: string | null; update_title: string | null; devices: number; open_findings: number; completed_at: number | null }>(
      'SELECT kind, product, reason, update_id, update_title, devices, open_findings, completed_at FROM remediation WHERE ref = ?');
    const update = this.db.prepare(`UPDATE remediation SET title = @title, content = @content, open_findings = @open, fixed_findings = fixed_findings + @fixed,
      devices = @devices, cves = @cves, open_critical = @critical, open_high = @high, open_medium = @medium, open_low = @low, risk_score = @score,
      risk = @risk, due_on = @due, completed_at = @completed WHERE ref = @ref`);
    const criticalityOf = this.groupCriticality();
    for (const ref of refs) {
      const t = this.touched.get(ref)!;
      const was = current.get(ref)!;
      const a = aggregate.get(ref) as Record<string, number | string | null> & { open: number; cves: number; cvss: number; exploit: number; epss: number; kev_due: string | null; sla_due: number | null };
      const devices = was.devices + t.devices;
      const minimums = new Map<string, string>();
      for (const [vendor, name, version] of versions.all(ref) as [string, string, string][]) {
        const product = `${vendor}/${name}`;
        const known = minimums.get(product);
        if (known === undefined || (compareVersions(versionScheme(vendor, name), version, known) ?? 0) > 0) minimums.set(product, version);
      }
      const content = [...minimums].map(([product, minimumVersion]) => ({ product, minimumVersion })).sort((x, y) => x.product.localeCompare(y.product));
      const risk = riskOf({ cvss: Number(a.cvss), exploitLevel: EXPLOIT_LEVELS[a.exploit], epss: Number(a.epss), devices, criticality: criticalityOf(ref) }, this.risk.exploitWeights);
      const slaDue = a.sla_due === null ? null : new Date(a.sla_due * 1000).toISOString().slice(0, 10);
      const due = [slaDue, a.kev_due].filter((d): d is string => d !== null).sort()[0] ?? null;
      // Complete when the run's fixes closed its last open finding: confirmed at the time Defender reported; a reopened one reopens it.
      const completed = a.open > 0 ? null : t.fixed > 0 && was.open_findings > 0 ? t.fixedAt : was.completed_at;
      update.run({
        ref, title: titleOf(was.kind, was.product, was.reason, was.update_id, was.update_title, content), content: JSON.stringify(content),
        open: a.open, fixed: t.fixed, devices, cves: a.cves, critical: a.critical, high: a.high, medium: a.medium, low: a.low,
        score: a.open > 0 ? risk.score : 0, risk: JSON.stringify(risk), due: a.open > 0 ? due : null, completed,
      });
    }
  }

  /**
   * A remediation's criticality: the highest of its devices' RBAC groups (1 for a group not
   * listed). Only a tenant with listed groups pays for reading its devices' groups.
   */
  private groupCriticality(): (remediation: number) => number {
    const connectionId = this.db.prepare('SELECT connection_id FROM tenant WHERE ref = ?').pluck().get(this.tenant) as string;
    const listed = new Map(this.risk.groupCriticality.filter((g) => g.connectionId === connectionId).map((g) => [g.rbacGroupId, g.criticality]));
    if (listed.size === 0) return () => 1;
    const groups = this.db.prepare(`SELECT DISTINCT d.rbac_group_id FROM remediation_device rd JOIN device d ON d.ref = rd.device_ref
      WHERE rd.remediation_ref = ?`).pluck();
    return (remediation) => {
      const present = groups.all(remediation) as (number | null)[];
      return present.length ? Math.max(...present.map((group) => (group === null ? undefined : listed.get(group)) ?? 1)) : 1;
    };
  }

  /** Scores every remediation of the tenant again. */
  rescore(): void {
    const refs = [...this.remediations.values()];
    for (const ref of refs) this.touch(ref);
    this.refresh(refs);
  }

  /** Maps every stored key of the tenant again; moves the open findings of keys whose remediation changed. */
  remap(): void {
    const keys = this.db.prepare('SELECT software_ref, cve_ref, detail_ref, os, remediation_ref, open_findings FROM remediation_key WHERE tenant_ref = ?')
      .raw().all(this.tenant) as [number, number, number, string, number, number][];
    const entries: Entry[] = keys.map(([software, cve, detail, os, remediation]) => ({ software, cve, detail, os, net: 0, firstSeen: null, remediation, next: undefined, stored: true }));
    const fixes = this.knowledge.fixesFor(entries.map((e) => this.query(e)));
    const store = this.db.prepare(`UPDATE remediation_key SET remediation_ref = ?, fixed_version = ?, kev = ?, kev_due = ?
      WHERE tenant_ref = ? AND software_ref = ? AND cve_ref = ? AND detail_ref = ? AND os = ?`);
    const openOfKey = this.db.prepare(`SELECT f.device_ref FROM cve_finding cf JOIN finding f ON f.id = cf.finding_id JOIN device d ON d.ref = f.device_ref
      WHERE cf.tenant_ref = ? AND cf.cve_ref = ? AND f.software_ref = ? AND f.detail_ref = ? AND f.fixed_at IS NULL
      AND (? = '' OR coalesce(d.remediation_os, '') = ?)`).pluck();
    for (const ref of this.remediations.values()) this.touch(ref);
    entries.forEach((e, i) => {
      const s = this.softwareRow(e.software);
      const to = this.remediationFor(remediationOf(s.vendor, s.name, s.version, fixes[i]));
      store.run(to, fixes[i].fixedVersion, fixes[i].kev ? 1 : 0, fixes[i].kev?.dueDate ?? null, this.tenant, e.software, e.cve, e.detail, e.os);
      if (to === e.remediation || keys[i][5] <= 0) return;
      for (const device of openOfKey.all(this.tenant, e.cve, e.software, e.detail, e.os, e.os) as number[]) {
        this.count(e.remediation, device, -1, 0);
        this.count(to, device, 1, 0);
      }
    });
    this.writeDevices();
    this.refresh([...this.touched.keys()]);
  }
}

function titleOf(kind: string, product: string | null, reason: string | null, updateId: string | null, updateTitle: string | null,
  content: { product: string; minimumVersion: string }[]): string {
  const versions = content.map((c) => `${productName(c.product)} ≥ ${c.minimumVersion}`).join(', ');
  switch (kind) {
    case 'windows_update': return `Install ${updateTitle ?? `KB${updateId}`}`;
    case 'microsoft_update': return `Install KB${updateId}${updateTitle ? `: ${updateTitle}` : ''}`;
    case 'linux_advisory': return `Install ${updateId}${versions ? ` (${versions})` : ''}`;
    case 'product_update': {
      const name = productName(product ?? '');
      const minimum = content.find((c) => c.product === product)?.minimumVersion;
      return minimum ? `Update ${name} to ≥ ${minimum}` : `Update ${name}${updateTitle ? `: ${updateTitle}` : ''}`;
    }
    default: return `${productName(product ?? '')}: no known fix (${(reason ?? '').replace(/_/g, ' ')})`;
  }
}
