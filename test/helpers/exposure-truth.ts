// Ground truth for the exposure API, read only from the emulator's own Defender API at its current
// snapshot: every finding row of SoftwareVulnerabilitiesByMachine, the CVE catalog of
// /api/vulnerabilities, each exposed CVE's /machineReferences and each device's
// /api/machines/{id}/vulnerabilities. Nothing here reads SitePatch's code or store.
//
// The truth is observed at every snapshot a sync goes through (call observe() after each
// emulator.advance(6)), so that what a copy legitimately remembers (devices and software versions
// seen earlier, findings since fixed) is known too.

import type { RunningEmulator, TenantInfo } from '../../emulator/server.js';
import type { EmulatorClient } from './emulator-client.js';

export interface BySeverity {
  critical: number;
  high: number;
  medium: number;
  low: number;
}

export type ExploitLevel = 'none' | 'public' | 'verified' | 'inKit';

const DAY = 24 * 3600_000;
const SNAPSHOT_MS = 6 * 3600_000;

/**
 * An emulator start time such that snapshot 0 and snapshot 1 (one advance) fall on today's UTC
 * date and, from 06:00 UTC on, both lie in the past: trend points and "last 7 days" then do not
 * depend on whether the console dates them by sync time or by data time.
 */
export function sameDayStartTime(now = Date.now()): number {
  const today = Math.floor(now / DAY) * DAY;
  const latest = Math.floor(now / SNAPSHOT_MS) * SNAPSHOT_MS;
  return Math.max(today, latest - SNAPSHOT_MS);
}

export const noSeverity = (): BySeverity => ({ critical: 0, high: 0, medium: 0, low: 0 });

export function countSeverity(into: BySeverity, severity: string | null): void {
  const key = severity?.toLowerCase();
  if (key === 'critical' || key === 'high' || key === 'medium' || key === 'low') into[key]++;
}

/** Defender's exploit flags (cumulative) as one level. */
export function exploitLevelOf(entity: { publicExploit?: boolean; exploitVerified?: boolean; exploitInKit?: boolean }): ExploitLevel {
  return entity.exploitInKit ? 'inKit' : entity.exploitVerified ? 'verified' : entity.publicExploit ? 'public' : 'none';
}

/** `yyyy-MM-dd HH:mm:ss[.fffffff]` (UTC, as in exports) → ISO-8601 to the second. */
export const exportTimeToIso = (text: string | null): string | null => (text ? `${text.slice(0, 10)}T${text.slice(11, 19)}Z` : null);

/** Defender's software id. */
export const softwareIdOf = (vendor: string, name: string) => `${vendor}-_-${name}`;

/** One open finding, as the emulator's snapshot reports it. */
export interface EmulatedFinding {
  connectionId: string;
  /** connectionId|deviceId|vendor|name|version|cveId: a finding's identity in a copy. */
  key: string;
  deviceId: string;
  deviceName: string;
  osPlatform: string;
  osVersion: string;
  osArchitecture: string;
  rbacGroupId: number;
  rbacGroupName: string;
  vendor: string;
  name: string;
  version: string;
  softwareId: string;
  cveId: string;
  /** The finding row's own severity (Defender leaves it out on some rows). */
  severity: string | null;
  cvss: number | null;
  exploitability: string;
  updateId: string | null;
  updateTitle: string | null;
  updateUrl: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
}

export interface KnownDevice {
  connectionId: string;
  id: string;
  name: string;
  osPlatform: string;
  osVersion: string;
  osArchitecture: string;
  rbacGroupId: number;
  rbacGroupName: string;
  /** The latest last-seen any snapshot reported. */
  lastSeen: string | null;
}

/** A connection to one of the emulator's tenants, as the tests named it. */
export interface TruthConnection {
  connectionId: string;
  name: string;
  tenant: TenantInfo;
}

/** What the emulator's API says about one tenant at one snapshot. */
export interface TenantSnapshot {
  snapshot: number;
  snapshotTime: string;
  rows: EmulatedFinding[];
  /** /api/vulnerabilities, by id. */
  catalog: Map<string, any>;
  /** /api/vulnerabilities/{id}/machineReferences for every CVE with an open finding: device ids. */
  machineReferences: Map<string, Set<string>>;
  /** /api/machines/{id}/vulnerabilities for every device with an open finding: CVE ids. */
  machineVulnerabilities: Map<string, Set<string>>;
}

function toFinding(connectionId: string, r: any): EmulatedFinding {
  return {
    connectionId,
    key: `${connectionId}|${r.deviceId}|${r.softwareVendor}|${r.softwareName}|${r.softwareVersion}|${r.cveId}`,
    deviceId: r.deviceId, deviceName: r.deviceName, osPlatform: r.osPlatform, osVersion: r.osVersion, osArchitecture: r.osArchitecture,
    rbacGroupId: r.rbacGroupId, rbacGroupName: r.rbacGroupName,
    vendor: r.softwareVendor, name: r.softwareName, version: r.softwareVersion, softwareId: softwareIdOf(r.softwareVendor, r.softwareName),
    cveId: r.cveId, severity: r.vulnerabilitySeverityLevel ?? null, cvss: r.cvssScore ?? null, exploitability: r.exploitabilityLevel,
    updateId: r.recommendedSecurityUpdateId ?? null, updateTitle: r.recommendedSecurityUpdate ?? null, updateUrl: r.recommendedSecurityUpdateUrl ?? null,
    firstSeen: exportTimeToIso(r.firstSeenTimestamp), lastSeen: exportTimeToIso(r.lastSeenTimestamp),
  };
}

const sameSet = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

/**
 * Reads one tenant's snapshot through the emulator's API and checks that the emulator agrees with
 * itself (catalog ids unique; machineReferences and machines/{id}/vulnerabilities match the
 * snapshot rows): if it does not, the ground truth is ambiguous and the test says so up front.
 */
export async function readTenantSnapshot(raw: EmulatorClient, emulator: RunningEmulator, connection: TruthConnection): Promise<TenantSnapshot> {
  const app = connection.tenant.apps.consented!;
  const token = await raw.token({ ...app }, connection.tenant.tenantId);
  const state = emulator.state();
  const exportRows = (await raw.pages('/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=200000', token)).rows;
  const rows = exportRows.map((r) => toFinding(connection.connectionId, r));
  const entities = (await raw.pages('/api/vulnerabilities', token)).rows;
  const catalog = new Map<string, any>(entities.map((v) => [v.id as string, v]));
  if (catalog.size !== entities.length) {
    throw new Error(`emulator: /api/vulnerabilities of ${connection.name} lists ${entities.length} entities under ${catalog.size} ids: CVE ids collide, so per-CVE truth is ambiguous.`);
  }
  const keys = new Set<string>();
  const rowsByCve = new Map<string, Set<string>>();
  const rowsByDevice = new Map<string, Set<string>>();
  for (const f of rows) {
    // One CVE may be open on several packages of a device (openssl and openssl-libs, Chrome and Edge), never twice on one.
    const key = `${f.deviceId}|${f.vendor}|${f.name}|${f.cveId}`;
    if (keys.has(key)) throw new Error(`emulator: device ${f.deviceId} has ${f.cveId} twice on ${f.vendor}/${f.name} in one snapshot`);
    keys.add(key);
    if (!rowsByCve.has(f.cveId)) rowsByCve.set(f.cveId, new Set());
    rowsByCve.get(f.cveId)!.add(f.deviceId);
    if (!rowsByDevice.has(f.deviceId)) rowsByDevice.set(f.deviceId, new Set());
    rowsByDevice.get(f.deviceId)!.add(f.cveId);
  }
  const machineReferences = new Map<string, Set<string>>();
  for (const [cveId, devices] of rowsByCve) {
    const refs = (await raw.get(`/api/vulnerabilities/${encodeURIComponent(cveId)}/machineReferences`, token)).json().value as { id: string }[];
    const ids = new Set(refs.map((r) => r.id));
    if (!sameSet(ids, devices)) throw new Error(`emulator: machineReferences of ${cveId} lists ${ids.size} devices, its snapshot has ${devices.size}`);
    if ((catalog.get(cveId)?.exposedMachines ?? -1) !== ids.size) throw new Error(`emulator: exposedMachines of ${cveId} is ${catalog.get(cveId)?.exposedMachines}, machineReferences ${ids.size}`);
    machineReferences.set(cveId, ids);
  }
  const machineVulnerabilities = new Map<string, Set<string>>();
  for (const [deviceId, cves] of rowsByDevice) {
    const answer = (await raw.get(`/api/machines/${deviceId}/vulnerabilities`, token)).json();
    const ids = new Set((answer.value as { id: string }[]).map((v) => v.id));
    if (!sameSet(ids, cves) || answer['@odata.count'] !== ids.size) throw new Error(`emulator: /api/machines/${deviceId}/vulnerabilities lists ${ids.size} CVEs, its snapshot has ${cves.size}`);
    machineVulnerabilities.set(deviceId, ids);
  }
  if (emulator.state().snapshot !== state.snapshot) throw new Error('the emulator advanced while its truth was read');
  return { snapshot: state.snapshot, snapshotTime: state.snapshotTime, rows, catalog, machineReferences, machineVulnerabilities };
}

/** One connection's observed history. */
interface TenantHistory {
  connection: TruthConnection;
  current: TenantSnapshot;
  devices: Map<string, KnownDevice>;
  /** Every finding any observed snapshot had, by key (the latest row of each). */
  everFindings: Map<string, EmulatedFinding>;
  /** Software versions any observed snapshot had a finding in: softwareId|version. */
  versions: Set<string>;
}

/** The ground truth of every connection, observed snapshot by snapshot. */
export class ExposureTruth {
  private readonly tenants = new Map<string, TenantHistory>();

  constructor(private readonly raw: EmulatorClient, private readonly emulator: RunningEmulator, readonly connections: TruthConnection[]) {}

  /**
   * Reads every tenant at the emulator's current snapshot. Call it at every snapshot a sync covers,
   * saying how the sync reads it: a full sync sees every row of the snapshot; a delta sees only the
   * changes since the previous snapshot, so a device's name, OS, group and last-seen time are what
   * its latest New or Updated change row said (Defender reports no change for a device whose
   * findings did not change, even if it was seen again).
   */
  async observe(kind: 'full' | 'delta' = 'full'): Promise<void> {
    for (const connection of this.connections) {
      const snapshot = await readTenantSnapshot(this.raw, this.emulator, connection);
      let history = this.tenants.get(connection.connectionId);
      if (!history) {
        if (kind === 'delta') throw new Error('a delta needs an observed full snapshot before it');
        history = { connection, current: snapshot, devices: new Map(), everFindings: new Map(), versions: new Set() };
        this.tenants.set(connection.connectionId, history);
      }
      const previous = history.current;
      history.current = snapshot;
      for (const f of snapshot.rows) {
        history.everFindings.set(f.key, f);
        history.versions.add(`${f.softwareId}|${f.version}`);
      }
      let told = snapshot.rows;
      if (kind === 'delta') {
        const app = connection.tenant.apps.consented!;
        const token = await this.raw.token({ ...app }, connection.tenant.tenantId);
        const since = encodeURIComponent(previous.snapshotTime);
        const changes = (await this.raw.pages(`/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=${since}&pageSize=200000`, token)).rows;
        told = changes.filter((r) => r.status === 'New' || r.status === 'Updated').map((r) => toFinding(connection.connectionId, r));
      }
      for (const f of told) {
        const known = history.devices.get(f.deviceId);
        const lastSeen = [known?.lastSeen ?? null, f.lastSeen].filter((t): t is string => t !== null).sort().pop() ?? null;
        history.devices.set(f.deviceId, {
          connectionId: f.connectionId, id: f.deviceId, name: f.deviceName, osPlatform: f.osPlatform, osVersion: f.osVersion,
          osArchitecture: f.osArchitecture, rbacGroupId: f.rbacGroupId, rbacGroupName: f.rbacGroupName, lastSeen,
        });
      }
    }
  }

  snapshot(connectionId: string): TenantSnapshot {
    return this.history(connectionId).current;
  }

  private history(connectionId: string): TenantHistory {
    const history = this.tenants.get(connectionId);
    if (!history) throw new Error(`no truth observed for connection ${connectionId}`);
    return history;
  }

  /** What the exposure API must answer for a caller who sees exactly these connections. */
  view(connectionIds: string[]): ExpectedView {
    return new ExpectedView(connectionIds.map((id) => this.history(id)));
  }
}

export interface CveTruth {
  id: string;
  /** Sum over the connections of the emulator's machineReferences. */
  exposedDevices: number;
  openFindings: number;
  /** connectionId|deviceId of the exposed devices. */
  devices: Set<string>;
  /** The CVE's entity when every catalog of the view that lists the id agrees on its facts; else undefined. */
  entity?: any;
  exploitLevel?: ExploitLevel;
  /** The earliest first-seen among its open findings. */
  firstSeen: string | null;
  /** Exposed devices per software version (softwareId|version). */
  software: Map<string, number>;
  /** Exposed devices per recommended update id (rows with an update id only). */
  updates: Map<string, number>;
  /** Per connection: exposed devices. */
  connections: Map<string, number>;
  /** Devices that had a finding for it in an observed snapshot and have none open now. */
  fixedDevices: number;
  /** Findings for it that were open in an observed snapshot and are not now. */
  fixedFindings: number;
}

export interface DeviceTruth extends KnownDevice {
  /** Its open finding rows (device × software × CVE; 0 for a known device with nothing open now). */
  openFindings: number;
  bySeverity: BySeverity;
  findings: EmulatedFinding[];
  /** Findings it had in an observed snapshot that are not open now. */
  fixed: EmulatedFinding[];
}

export interface SoftwareTruth {
  id: string;
  vendor: string;
  name: string;
  version: string;
  exposedDevices: number;
  openFindings: number;
  cves: number;
  bySeverity: BySeverity;
}

export interface GroupTruth {
  name: string;
  connectionId: string;
  devices: number;
  exposedDevices: number;
  openFindings: number;
  bySeverity: BySeverity;
}

export interface TenantRowTruth {
  connectionId: string;
  name: string;
  devices: number;
  exposedDevices: number;
  openFindings: number;
  bySeverity: BySeverity;
  snapshotTime: string;
}

/** Expected answers for a caller who sees a set of connections. */
export class ExpectedView {
  readonly connectionIds: string[];
  readonly findings: EmulatedFinding[];
  /** Every finding ever observed and not open now (fixed in the copy). */
  readonly fixedFindings: EmulatedFinding[];
  readonly cves = new Map<string, CveTruth>();
  /** Known devices by connectionId|deviceId. */
  readonly devices = new Map<string, DeviceTruth>();
  /** Exposed software versions by softwareId|version. */
  readonly software = new Map<string, SoftwareTruth>();
  /** Software versions any observed snapshot had a finding in, by softwareId|version. */
  readonly knownVersions = new Set<string>();
  /** CVEs with an open finding in any observed snapshot (exposed now or since fixed). */
  readonly everExposedCves = new Set<string>();
  readonly rbacGroups = new Map<string, GroupTruth>();
  readonly osPlatforms = new Map<string, { name: string; devices: number; exposedDevices: number }>();
  readonly tenants = new Map<string, TenantRowTruth>();

  constructor(private readonly histories: TenantHistory[]) {
    this.connectionIds = histories.map((h) => h.connection.connectionId);
    this.findings = histories.flatMap((h) => h.current.rows);
    const open = new Set(this.findings.map((f) => f.key));
    this.fixedFindings = histories.flatMap((h) => [...h.everFindings.values()].filter((f) => !open.has(f.key)));

    for (const h of histories) {
      for (const v of h.versions) this.knownVersions.add(v);
      for (const d of h.devices.values()) {
        this.devices.set(`${d.connectionId}|${d.id}`, { ...d, openFindings: 0, bySeverity: noSeverity(), findings: [], fixed: [] });
      }
    }
    for (const f of this.findings) {
      const device = this.devices.get(`${f.connectionId}|${f.deviceId}`)!;
      device.findings.push(f);
      device.openFindings++;
      countSeverity(device.bySeverity, f.severity);
    }
    for (const f of this.fixedFindings) this.devices.get(`${f.connectionId}|${f.deviceId}`)!.fixed.push(f);

    // CVEs: exposure from machineReferences, the rest from the rows.
    for (const h of histories) {
      for (const [cveId, refs] of h.current.machineReferences) {
        const cve = this.cveEntry(cveId);
        cve.exposedDevices += refs.size;
        cve.connections.set(h.connection.connectionId, refs.size);
      }
    }
    // A device with two packages fixed by one update (openssl and openssl-libs) counts once for it.
    const updateDevices = new Map<string, Set<string>>();
    for (const f of this.findings) {
      const cve = this.cveEntry(f.cveId);
      cve.openFindings++;
      cve.devices.add(`${f.connectionId}|${f.deviceId}`);
      if (f.firstSeen && (!cve.firstSeen || f.firstSeen < cve.firstSeen)) cve.firstSeen = f.firstSeen;
      const version = `${f.softwareId}|${f.version}`;
      cve.software.set(version, (cve.software.get(version) ?? 0) + 1);
      if (f.updateId) {
        const devices = updateDevices.get(`${f.cveId}|${f.updateId}`) ?? new Set<string>();
        devices.add(`${f.connectionId}|${f.deviceId}`);
        updateDevices.set(`${f.cveId}|${f.updateId}`, devices);
        cve.updates.set(f.updateId, devices.size);
      }
    }
    const everDevices = new Map<string, Set<string>>();
    for (const f of [...this.findings, ...this.fixedFindings]) {
      this.everExposedCves.add(f.cveId);
      if (!everDevices.has(f.cveId)) everDevices.set(f.cveId, new Set());
      everDevices.get(f.cveId)!.add(`${f.connectionId}|${f.deviceId}`);
    }
    for (const f of this.fixedFindings) this.cveEntry(f.cveId).fixedFindings++;
    for (const [cveId, devices] of everDevices) {
      const cve = this.cveEntry(cveId);
      cve.fixedDevices = [...devices].filter((d) => !cve.devices.has(d)).length;
    }
    for (const cve of this.cves.values()) {
      const entities = histories.map((h) => h.current.catalog.get(cve.id)).filter((e) => e !== undefined);
      const agree = entities.length > 0 && entities.every((e) => e.severity === entities[0].severity && e.cvssV3 === entities[0].cvssV3 &&
        e.epss === entities[0].epss && exploitLevelOf(e) === exploitLevelOf(entities[0]) && e.publishedOn === entities[0].publishedOn);
      // Every tenant of the emulator shares one CVE knowledge base, so the catalogs agree.
      if (agree) {
        cve.entity = entities[0];
        cve.exploitLevel = exploitLevelOf(entities[0]);
      }
    }

    // Software versions with open findings.
    const versionDevices = new Map<string, Set<string>>();
    const versionCves = new Map<string, Set<string>>();
    for (const f of this.findings) {
      const key = `${f.softwareId}|${f.version}`;
      let s = this.software.get(key);
      if (!s) {
        s = { id: f.softwareId, vendor: f.vendor, name: f.name, version: f.version, exposedDevices: 0, openFindings: 0, cves: 0, bySeverity: noSeverity() };
        this.software.set(key, s);
        versionDevices.set(key, new Set());
        versionCves.set(key, new Set());
      }
      s.openFindings++;
      countSeverity(s.bySeverity, f.severity);
      versionDevices.get(key)!.add(`${f.connectionId}|${f.deviceId}`);
      versionCves.get(key)!.add(f.cveId);
    }
    for (const [key, s] of this.software) {
      s.exposedDevices = versionDevices.get(key)!.size;
      s.cves = versionCves.get(key)!.size;
    }

    // RBAC groups (per connection), OS platforms, tenants.
    for (const d of this.devices.values()) {
      const groupKey = `${d.connectionId}|${d.rbacGroupName}`;
      const group = this.rbacGroups.get(groupKey) ?? { name: d.rbacGroupName, connectionId: d.connectionId, devices: 0, exposedDevices: 0, openFindings: 0, bySeverity: noSeverity() };
      group.devices++;
      if (d.findings.length) group.exposedDevices++;
      group.openFindings += d.findings.length;
      for (const s of ['critical', 'high', 'medium', 'low'] as const) group.bySeverity[s] += d.bySeverity[s];
      this.rbacGroups.set(groupKey, group);
      const os = this.osPlatforms.get(d.osPlatform) ?? { name: d.osPlatform, devices: 0, exposedDevices: 0 };
      os.devices++;
      if (d.findings.length) os.exposedDevices++;
      this.osPlatforms.set(d.osPlatform, os);
    }
    for (const h of histories) {
      const id = h.connection.connectionId;
      const devices = [...this.devices.values()].filter((d) => d.connectionId === id);
      const bySeverity = noSeverity();
      for (const f of h.current.rows) countSeverity(bySeverity, f.severity);
      this.tenants.set(id, {
        connectionId: id, name: h.connection.name, devices: devices.length, exposedDevices: devices.filter((d) => d.findings.length).length,
        openFindings: h.current.rows.length, bySeverity, snapshotTime: h.current.snapshotTime,
      });
    }
  }

  private cveEntry(id: string): CveTruth {
    let cve = this.cves.get(id);
    if (!cve) {
      cve = { id, exposedDevices: 0, openFindings: 0, devices: new Set(), firstSeen: null, software: new Map(), updates: new Map(), connections: new Map(), fixedDevices: 0, fixedFindings: 0 };
      this.cves.set(id, cve);
    }
    return cve;
  }

  /** Exposed CVEs (with an open finding now). */
  exposedCves(): CveTruth[] {
    return [...this.cves.values()].filter((c) => c.openFindings > 0);
  }

  /**
   * The summary's counts; exploitableCves only when every exposed CVE's exploit level is unambiguous
   * (counted as Defender's publicExploit / exploitVerified / exploitInKit flags).
   */
  summary(): { devices: number; exposedDevices: number; openFindings: number; bySeverity: BySeverity; exposedCves: number; exploitableCves?: { any: number; public: number; verified: number; inKit: number } } {
    const bySeverity = noSeverity();
    for (const f of this.findings) countSeverity(bySeverity, f.severity);
    const exposed = this.exposedCves();
    const devices = [...this.devices.values()];
    const levels = exposed.map((c) => c.exploitLevel);
    return {
      devices: devices.length,
      exposedDevices: devices.filter((d) => d.findings.length).length,
      openFindings: this.findings.length,
      bySeverity,
      exposedCves: exposed.length,
      ...(levels.every((l) => l !== undefined) ? {
        // Defender's flags are cumulative: an exploit in a kit is also verified and public.
        exploitableCves: {
          any: levels.filter((l) => l !== 'none').length,
          public: levels.filter((l) => l !== 'none').length,
          verified: levels.filter((l) => l === 'verified' || l === 'inKit').length,
          inKit: levels.filter((l) => l === 'inKit').length,
        },
      } : {}),
    };
  }

}
