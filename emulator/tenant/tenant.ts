// A tenant that lives: devices, their operating system lines and installed software, over time.
//
// Time is counted in snapshots (Defender regenerates its export every 6 hours). The state of any
// device at any snapshot k is computed directly from the seed, with no stored history:
//   - the world (../world/world.ts) says when each component ships each release and which CVEs
//     each release fixes, on each line (Windows 11 23H2 or 24H2, RHEL 9.4 or 9.5, ...);
//   - each device updates each component every U snapshots (its own phase), to the release that was
//     current then, minus a per-device "staleness" (some devices lag behind; a few stop updating);
//   - a device runs one line of its operating system at a time and may move to a newer one;
//   - a device joins the tenant (onboards), may go quiet for a while (stale) and may leave (offboard);
//   - a device belongs to an RBAC group for a long epoch and then moves.
// Memory therefore stays flat whatever the tenant size: nothing per device is kept but its traits.

import { RBAC_GROUPS, type OsLineSpec, type OsSpec } from '../world/catalog.js';
import { between, guid, hash, hex, mod, pick, unit, weighted } from '../world/random.js';
import { DEFAULT_PATCH_CADENCE, DELTA_WINDOW_SNAPSHOTS, World, type Component, type Cve, type Line, type LineCve } from '../world/world.js';

export { DELTA_WINDOW_SNAPSHOTS } from '../world/world.js';
export type { Cve } from '../world/world.js';

export const SNAPSHOT_HOURS = 6;
export const SNAPSHOT_MS = SNAPSHOT_HOURS * 3600_000;
const HOUR = 3600_000;
/** Snapshot of "always": devices onboarded long before the emulated time. */
const LONG_AGO = -1_000_000;
const SERVER_GROUPS = RBAC_GROUPS.filter((g) => g.server === true);
const CLIENT_GROUPS = RBAC_GROUPS.filter((g) => g.server === false);

// Salts: one per kind of random fact, so facts stay independent.
const S = {
  os: 1, arch: 2, name: 3, install: 4, cadence: 5, phase: 6, stale: 7, groupPeriod: 8, group: 9,
  lastSeen: 15, id: 16, acquired: 17, groupPhase: 18, fraction: 19, line: 20, move: 21, onboard: 22,
  offboard: 23, quiet: 24, frozen: 25, stream: 26, core: 27,
} as const;

export interface TenantOptions {
  seed: number;
  devices: number;
  /** Time of snapshot 0, aligned to 6 hours (ms since epoch). */
  startTime: number;
  /**
   * Average snapshots between two updates of one product on one device (default 100, ~25 days).
   * It sets how much changes per snapshot (about 2.5% at 100, 1% at 300), not how many findings a device has.
   */
  patchCadence?: number;
  /** The patch world the tenant lives in; shared by every tenant of an emulator (default: one of its own). */
  world?: World;
}

export interface Device {
  index: number;
  id: string;
  name: string;
  os: OsSpec;
  architecture: string;
  /** Indexes into world.components. */
  components: number[];
  /** Windows Server installed without the desktop experience. */
  serverCore: boolean;
  fractionalTimestamps: boolean;
  /** Its first OS line, and when (snapshot) it moves to the line's successor, if ever. */
  line: OsLineSpec;
  moveAt: number | null;
  /** Present from onboardAt until offboardAt (exclusive; null: never leaves). */
  onboardAt: number;
  offboardAt: number | null;
  /** Snapshots during which it is not seen (nothing on it changes, its last-seen time stands still). */
  quiet: { from: number; until: number } | null;
  /** For components with several streams (which .NET Framework branch it runs). */
  streamRoll: number;
}

/** A device at one snapshot. Its traits are copied field by field (a spread of the whole device per row doubles peak memory). */
export interface DeviceAt {
  device: Device;
  index: number;
  id: string;
  name: string;
  os: OsSpec;
  architecture: string;
  components: number[];
  fractionalTimestamps: boolean;
  snapshot: number;
  rbacGroupId: number;
  rbacGroupName: string;
  osLine: OsLineSpec;
  osVersion: string;
  lastSeen: number;
}

export type ExploitLevel = 'NoExploit' | 'ExploitIsPublic' | 'ExploitIsVerified' | 'ExploitIsInKit';

export interface Finding {
  device: DeviceAt;
  component: Component;
  line: Line;
  /** The release of the component the device runs. */
  release: number;
  vendor: string;
  name: string;
  version: string;
  cve: Cve;
  /** The release of the line that fixes it. */
  fix: number;
  firstSeen: number;
}

export interface ComponentState {
  line: Line;
  release: number;
  version: string;
  /** When the device first got this version (ms). */
  acquiredAt: number;
}

export class Tenant {
  readonly seed: number;
  readonly deviceCount: number;
  readonly startTime: number;
  readonly world: World;
  private readonly cadence: number;
  private readonly devices: Device[] = [];
  private deviceIds?: Map<string, number>;

  constructor(options: TenantOptions) {
    this.seed = options.seed;
    this.deviceCount = options.devices;
    this.startTime = options.startTime;
    this.cadence = options.patchCadence ?? DEFAULT_PATCH_CADENCE;
    this.world = options.world ?? new World({ seed: options.seed, startTime: options.startTime, patchCadence: this.cadence });
  }

  snapshotTime(k: number): number {
    return this.startTime + k * SNAPSHOT_MS;
  }

  /** The snapshot whose 6-hour period contains the given time. */
  snapshotAt(time: number): number {
    return Math.floor((time - this.startTime) / SNAPSHOT_MS);
  }

  // ---- CVE facts at a snapshot -----------------------------------------------------------------

  /** Every CVE of the knowledge base at snapshot k, in a stable order. */
  catalog(k: number): Generator<Cve> {
    return this.world.catalog(this.snapshotTime(k));
  }

  findCve(id: string, k: number): Cve | undefined {
    return this.world.findCve(id, this.snapshotTime(k));
  }

  exploitLevel(cve: Cve, k: number): ExploitLevel {
    return this.world.exploitLevel(cve, this.snapshotTime(k));
  }

  cveUpdatedAt(cve: Cve, k: number): number {
    return this.world.cveUpdatedAt(cve, this.snapshotTime(k));
  }

  /** Whether the release fixing a CVE on a line has shipped by snapshot k. */
  fixReleased(line: Line, fix: number, k: number): boolean {
    return this.world.releaseTime(line.component, fix) <= this.snapshotTime(k);
  }

  // ---- devices ------------------------------------------------------------------------------

  /** A device's fixed traits, memoised: a few hundred bytes per device, computed once. */
  device(i: number): Device {
    let device = this.devices[i];
    if (!device) {
      device = this.makeDevice(i);
      this.devices[i] = device;
    }
    return device;
  }

  private makeDevice(i: number): Device {
    const h = (salt: number, x = 0) => hash(this.seed, salt, i, x);
    const os = weighted(h(S.os), this.world.operatingSystems.map((o) => [o, o.share] as const));
    const components: number[] = [];
    for (const component of this.world.components) {
      const spec = component.spec;
      if (spec.os) {
        if (spec.key === os.component) components.push(component.index);
      } else if (spec.osFamilies.includes(os.family) && !(spec.clientsOnly && os.server) && unit(h(S.install, component.index)) < spec.install) {
        components.push(component.index);
      }
    }
    const line = weighted(h(S.line), os.lines.map((l) => [l, l.share] as const));
    const moves = line.movesTo !== undefined && unit(h(S.move)) < (line.moves ?? 0);
    const newcomer = unit(h(S.onboard)) < 0.07;
    const onboardAt = newcomer ? between(h(S.onboard, 1), -DELTA_WINDOW_SNAPSHOTS, 1200) : LONG_AGO;
    const leaves = unit(h(S.offboard)) < 0.04;
    const quiet = unit(h(S.quiet)) < 0.05 ? (() => { const from = between(h(S.quiet, 1), -40, 1200); return { from, until: from + between(h(S.quiet, 2), 8, 120) }; })() : null;
    return {
      index: i,
      id: hex(this.seed, 40, S.id, i),
      name: deviceName(os, i, h(S.name)),
      os,
      architecture: weighted(h(S.arch), os.architectures),
      components,
      serverCore: os.server && os.family === 'windows' && unit(h(S.core)) < 0.4,
      fractionalTimestamps: unit(h(S.fraction)) < 0.1,
      line,
      moveAt: moves ? between(h(S.move, 1), -200, 400) : null,
      onboardAt,
      offboardAt: leaves ? Math.max(onboardAt + 8, between(h(S.offboard, 1), -20, 1200)) : null,
      quiet,
      streamRoll: unit(h(S.stream)),
    };
  }

  /** Whether the device is onboarded at snapshot k (Defender reports it). */
  present(device: Device, k: number): boolean {
    return k >= device.onboardAt && (device.offboardAt === null || k < device.offboardAt);
  }

  /** The snapshot the device's state is observed at: while it is quiet, the last one it was seen. */
  private observedAt(device: Device, k: number): number {
    const q = device.quiet;
    return q && k >= q.from && k < q.until ? q.from - 1 : k;
  }

  osLine(device: Device, k: number): OsLineSpec {
    if (device.moveAt === null || this.observedAt(device, k) < device.moveAt) return device.line;
    return device.os.lines.find((l) => l.key === device.line.movesTo) ?? device.line;
  }

  /** The line of a component a device runs at snapshot k. */
  lineOf(device: Device, component: Component, k: number): Line {
    return component.lines[component.spec.streamOf(this.osLine(device, k).key, device.streamRoll)] ?? component.lines[0];
  }

  deviceAt(i: number, k: number): DeviceAt {
    const device = this.device(i);
    const group = this.rbacGroup(device, k);
    const osLine = this.osLine(device, k);
    const osComponent = device.os.component ? this.world.component(device.os.component) : undefined;
    const seen = this.observedAt(device, k);
    return {
      device,
      index: i,
      id: device.id,
      name: device.name,
      os: device.os,
      architecture: device.architecture,
      components: device.components,
      fractionalTimestamps: device.fractionalTimestamps,
      snapshot: k,
      rbacGroupId: group.id,
      rbacGroupName: group.name,
      osLine,
      osVersion: osLine.osVersion(osComponent ? this.componentState(i, osComponent, k).version : undefined),
      lastSeen: this.snapshotTime(seen) - (hash(this.seed, S.lastSeen, i, seen) % 50) * 60_000,
    };
  }

  rbacGroup(device: Device, k: number): { id: number; name: string } {
    const period = between(hash(this.seed, S.groupPeriod, device.index), 200, 1600);
    const epoch = Math.floor((k + between(hash(this.seed, S.groupPhase, device.index), 0, period - 1)) / period);
    const h = hash(this.seed, S.group, device.index, epoch);
    if (unit(h) < 0.08) return RBAC_GROUPS[0];
    const groups = device.os.server ? SERVER_GROUPS : CLIENT_GROUPS;
    return weighted(hash(this.seed, S.group, device.index, epoch + 7919), groups.map((g) => [g, g.weight] as const));
  }

  private schedule(i: number, component: Component) {
    const h = (salt: number) => hash(this.seed, salt, i, component.index);
    const updateEvery = between(h(S.cadence), Math.ceil(this.cadence / 2), Math.ceil(this.cadence * 1.5));
    // Releases behind. The slowest lag at most about a hundred days at the default cadence (three
    // monthly updates, eight weekly ones), less in a tenant that patches faster.
    const staleRoll = unit(h(S.stale));
    const lagLimit = Math.max(1, Math.floor((100 * 86_400_000 * Math.min(1, this.cadence / DEFAULT_PATCH_CADENCE)) / component.meanPeriodMs));
    const staleness = Math.min(lagLimit, staleRoll < 0.85 ? 0 : staleRoll < 0.95 ? 1 + (h(S.stale) % 2) : 3 + (h(S.stale) % 6));
    // A few installations stop updating altogether ("never installs").
    const frozenAt = unit(h(S.frozen)) < 0.02 ? between(h(S.frozen) >>> 8, -this.cadence, 600) : Infinity;
    const schedule = component.schedule;
    return {
      period: updateEvery,
      phase: h(S.phase) % updateEvery,
      frozenAt,
      releaseAt: (update: number) => Math.max(component.floorSlot,
        schedule.back(this.world.latestRelease(component, this.snapshotTime(update)), staleness)),
    };
  }

  /** The update snapshot that set the component's state at snapshot k. */
  private lastUpdate(i: number, component: Component, k: number) {
    const plan = this.schedule(i, component);
    const seen = this.observedAt(this.device(i), k);
    const update = Math.min(seen - mod(seen + plan.phase, plan.period), plan.frozenAt);
    return { plan, update };
  }

  /** Which release of a component device i runs at snapshot k. */
  release(i: number, component: Component, k: number): number {
    const { plan, update } = this.lastUpdate(i, component, k);
    return Math.max(plan.releaseAt(update), this.lineOf(this.device(i), component, k).gaSlot);
  }

  /** The line, release and version of a component on device i at snapshot k, and since when. */
  componentState(i: number, component: Component, k: number): ComponentState {
    const line = this.lineOf(this.device(i), component, k);
    const { plan, update: last } = this.lastUpdate(i, component, k);
    let update = last;
    const release = Math.max(plan.releaseAt(update), line.gaSlot);
    // Walk back to the update that first installed this release (bounded: older is "long ago").
    for (let steps = 0; steps < 64 && Math.max(plan.releaseAt(update - plan.period), line.gaSlot) === release; steps++) update -= plan.period;
    return {
      line,
      release,
      version: this.world.version(line, release),
      acquiredAt: this.snapshotTime(update) - HOUR - (hash(this.seed, S.acquired, i, component.index) % 240) * 60_000,
    };
  }

  /** Findings of one device at snapshot k, in a stable order (none while it is not onboarded). */
  *deviceFindings(i: number, k: number, deviceAt = this.deviceAt(i, k)): Generator<Finding> {
    if (!this.present(deviceAt.device, k)) return;
    for (const c of deviceAt.components) yield* this.componentFindings(deviceAt, this.world.components[c], k);
  }

  /** Findings of one installed component of a device at snapshot k. */
  *componentFindings(deviceAt: DeviceAt, component: Component, k: number): Generator<Finding> {
    const state = this.componentState(deviceAt.index, component, k);
    const packages = component.packages(state.line.streamIndex);
    for (const entry of this.world.exposures(state.line, state.release, this.snapshotTime(k))) {
      for (const name of packages) yield this.findingOf(deviceAt, component, state, name, entry);
    }
  }

  /** The findings of one CVE on one installed component (the caller knows the device is exposed). */
  findingsOf(deviceAt: DeviceAt, component: Component, k: number, entry: LineCve): Finding[] {
    const state = this.componentState(deviceAt.index, component, k);
    return component.packages(state.line.streamIndex).map((name) => this.findingOf(deviceAt, component, state, name, entry));
  }

  private findingOf(deviceAt: DeviceAt, component: Component, state: ComponentState, name: string, entry: LineCve): Finding {
    return {
      device: deviceAt, component, line: state.line, release: state.release, vendor: component.spec.vendor, name,
      version: state.version, cve: entry.cve, fix: entry.fix,
      firstSeen: Math.max(state.acquiredAt, entry.cve.publishedAt, this.snapshotTime(deviceAt.device.onboardAt)),
    };
  }

  deviceFindingCount(i: number, k: number): number {
    const device = this.device(i);
    if (!this.present(device, k)) return 0;
    let count = 0;
    const t = this.snapshotTime(k);
    for (const c of device.components) {
      const component = this.world.components[c];
      const line = this.lineOf(device, component, k);
      const packages = component.packages(line.streamIndex).length;
      for (const _entry of this.world.exposures(line, this.release(i, component, k), t)) count += packages;
    }
    return count;
  }

  deviceIndexOf(id: string): number | undefined {
    if (!this.deviceIds) {
      this.deviceIds = new Map();
      for (let i = 0; i < this.deviceCount; i++) this.deviceIds.set(this.device(i).id, i);
    }
    return this.deviceIds.get(id.toLowerCase());
  }

  guid(...coords: number[]): string {
    return guid(this.seed, 9000, ...coords);
  }
}

const DEPARTMENTS = ['fin', 'hr', 'eng', 'ops', 'mkt', 'sales', 'it', 'legal', 'rd', 'cs'];
const SERVER_ROLES = ['sql', 'web', 'app', 'dc', 'file', 'print', 'k8s', 'db', 'cache', 'build'];

function deviceName(os: OsSpec, i: number, h: number): string {
  const n = String(i + 1).padStart(4, '0');
  const fqdn = unit(h) < 0.7;
  const suffix = fqdn ? '.corp.contoso.com' : '';
  if (os.family === 'macos') return `mbp-${pick(h >>> 3, DEPARTMENTS)}-${n}${suffix}`;
  if (os.server) return `srv-${pick(h >>> 3, SERVER_ROLES)}-${n}${suffix}`;
  return `${pick(h >>> 3, DEPARTMENTS)}-${unit(h >>> 7) < 0.6 ? 'lt' : 'ws'}-${n}${suffix}`;
}
