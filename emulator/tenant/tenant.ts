// A tenant that lives: devices, installed software, releases and CVEs over time.
//
// Time is counted in snapshots (Defender regenerates its export every 6 hours). The state of any
// device at any snapshot k is computed directly from the seed, with no stored history:
//   - product p ships release j at snapshot j * R_p + offset_p;
//   - each device updates each product every U snapshots (its own phase), to the release that
//     was current then, minus a per-device "staleness" (some devices lag behind);
//   - a CVE is fixed by release j of its product, so it affects every older version, and becomes
//     visible from its publication snapshot on;
//   - a device belongs to an RBAC group for a long epoch and then moves.
// Memory therefore stays flat whatever the tenant size: nothing per device is kept.

import {
  OPERATING_SYSTEMS, PRODUCTS, RBAC_GROUPS, type OsSpec, type ProductSpec,
} from './catalog.js';
import { between, guid, hash, hex, mod, pick, unit, weighted } from './random.js';

/** CVE serials leave room for this many CVEs per release, so that ids stay unique across the catalog. */
const MAX_CVES_PER_RELEASE = 1000;

export const SNAPSHOT_HOURS = 6;
export const SNAPSHOT_MS = SNAPSHOT_HOURS * 3600_000;
/** Defender keeps 14 days of change batches. */
export const DELTA_WINDOW_SNAPSHOTS = 14 * 24 / SNAPSHOT_HOURS;
/** A CVE may be disclosed up to this many snapshots before its fix ships. */
const MAX_EARLY_DISCLOSURE = 8;
const HOUR = 3600_000;
const DEFAULT_CADENCE = 100;
const OS_PRODUCTS = new Set(OPERATING_SYSTEMS.flatMap((os) => (os.product ? [os.product] : [])));
const SERVER_GROUPS = RBAC_GROUPS.filter((g) => g.server === true);
const CLIENT_GROUPS = RBAC_GROUPS.filter((g) => g.server === false);

// Salts: one per kind of random fact, so facts stay independent.
const S = {
  os: 1, arch: 2, name: 3, install: 4, cadence: 5, phase: 6, stale: 7, groupPeriod: 8, group: 9,
  releaseOffset: 10, cveCount: 11, cveFacts: 12, cveTime: 13, exploit: 14, lastSeen: 15, id: 16,
  acquired: 17, groupPhase: 18, fraction: 19,
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
}

export interface Device {
  index: number;
  id: string;
  name: string;
  os: OsSpec;
  architecture: string;
  /** Indexes into PRODUCTS. */
  products: number[];
  fractionalTimestamps: boolean;
}

export interface DeviceAt extends Device {
  snapshot: number;
  rbacGroupId: number;
  rbacGroupName: string;
  osVersion: string;
  lastSeen: number;
}

export type ExploitLevel = 'NoExploit' | 'ExploitIsPublic' | 'ExploitIsVerified' | 'ExploitIsInKit';

export interface Cve {
  id: string;
  product: number;
  release: number;
  /** Snapshot of first visibility, and the publication time (a little before it). */
  published: number;
  publishedAt: number;
  /** Snapshot at which the fixing release ships. */
  fixedAt: number;
  cvss: number;
  severity: 'Low' | 'Medium' | 'High' | 'Critical';
  /** Some rows in real exports carry no severity. */
  severityMissing: boolean;
  vector: string;
  epss: number;
  /** Snapshots at which the exploit becomes public, verified, in a kit (null: never). */
  exploitStages: [number | null, number | null, number | null];
  exploitTypes: string[];
  description: string;
}

export interface Finding {
  device: DeviceAt;
  product: ProductSpec;
  productIndex: number;
  version: string;
  cve: Cve;
  firstSeen: number;
}

export interface ProductState {
  release: number;
  version: string;
  /** When the device first got this version (ms). */
  acquiredAt: number;
}

export class Tenant {
  readonly seed: number;
  readonly deviceCount: number;
  readonly startTime: number;
  private readonly cadence: number;
  private readonly cves = new Map<number, Cve[]>();
  private readonly devices: Device[] = [];
  private deviceIds?: Map<string, number>;

  constructor(options: TenantOptions) {
    this.seed = options.seed;
    this.deviceCount = options.devices;
    this.startTime = options.startTime;
    this.cadence = options.patchCadence ?? DEFAULT_CADENCE;
  }

  snapshotTime(k: number): number {
    return this.startTime + k * SNAPSHOT_MS;
  }

  /** The snapshot whose 6-hour period contains the given time. */
  snapshotAt(time: number): number {
    return Math.floor((time - this.startTime) / SNAPSHOT_MS);
  }

  // ---- releases and CVEs -------------------------------------------------------------------

  private releaseOffset(p: number): number {
    return hash(this.seed, S.releaseOffset, p) % PRODUCTS[p].releaseEvery;
  }

  releaseSnapshot(p: number, j: number): number {
    return j * PRODUCTS[p].releaseEvery + this.releaseOffset(p);
  }

  latestRelease(p: number, k: number): number {
    return Math.floor((k - this.releaseOffset(p)) / PRODUCTS[p].releaseEvery);
  }

  /** The oldest release that exists in the catalog: older than any device can run. */
  firstRelease(p: number): number {
    const oldestUpdate = -DELTA_WINDOW_SNAPSHOTS - 2 * this.cadence;
    return this.latestRelease(p, oldestUpdate) - 10;
  }

  /** CVEs fixed by release j of product p, memoised (the catalog is small: thousands). */
  cvesOfRelease(p: number, j: number): Cve[] {
    const key = p * 1_000_000 + j + 500_000;
    let list = this.cves.get(key);
    if (!list) {
      const product = PRODUCTS[p];
      // Slower patching leaves devices further behind; fewer CVEs per release keep about 50 findings
      // per device (the power is what holds that from a cadence of 100 to 300).
      const count = Math.min(MAX_CVES_PER_RELEASE, Math.round(unit(hash(this.seed, S.cveCount, p, j)) * 2 * product.cvesPerRelease * (DEFAULT_CADENCE / this.cadence) ** 0.8));
      list = [];
      for (let m = 0; m < count; m++) list.push(this.makeCve(p, j, m));
      this.cves.set(key, list);
    }
    return list;
  }

  private makeCve(p: number, j: number, m: number): Cve {
    const product = PRODUCTS[p];
    const h = (salt: number) => hash(this.seed, S.cveFacts, p * 4096 + m, j, salt);
    const fixedAt = this.releaseSnapshot(p, j);
    const early = unit(h(1)) < 0.15;
    const published = fixedAt + (early ? -between(h(2), 1, MAX_EARLY_DISCLOSURE) : between(h(2), 0, 6));
    const publishedAt = this.snapshotTime(published) - HOUR - (h(3) % (4 * 60)) * 60_000;
    const year = new Date(publishedAt).getUTCFullYear();
    // Unique across the catalog: the number encodes (product, release, index).
    const serial = 20000 + ((j + 2000) * PRODUCTS.length + p) * MAX_CVES_PER_RELEASE + m;
    const id = unit(h(4)) < 0.02 ? `TVM-${year}-${serial}` : `CVE-${year}-${serial}`;
    const cvss = Math.round((2 + unit(h(5)) ** 0.6 * 7.8) * 10) / 10;
    const severity = cvss >= 9 ? 'Critical' : cvss >= 7 ? 'High' : cvss >= 4 ? 'Medium' : 'Low';
    const network = unit(h(6)) < 0.45;
    const vector = id.startsWith('TVM-') ? '' :
      `CVSS:3.1/AV:${network ? 'N' : 'L'}/AC:${unit(h(7)) < 0.8 ? 'L' : 'H'}/PR:${pick(h(8), ['N', 'L', 'H'])}/UI:${unit(h(9)) < 0.6 ? 'N' : 'R'}/S:U/C:H/I:${pick(h(10), ['H', 'L', 'N'])}/A:H`;
    const exploited = unit(h(11)) < 0.25;
    const publicAt = exploited ? published + between(h(12), 0, 40) : null;
    const verifiedAt = publicAt !== null && unit(h(13)) < 0.5 ? publicAt + between(h(14), 2, 20) : null;
    const kitAt = verifiedAt !== null && unit(h(15)) < 0.4 ? verifiedAt + between(h(16), 2, 20) : null;
    const exploitStages: Cve['exploitStages'] = [publicAt, verifiedAt, kitAt];
    const kind = network ? 'remote code execution' : pick(h(20), ['elevation of privilege', 'information disclosure', 'denial of service']);
    const exploitTypes = exploited ? [network ? 'Remote' : kind === 'denial of service' ? 'DenialOfService' : 'PrivilegeEscalation'] : [];
    const label = `${product.vendor} ${product.name}`.replace(/_/g, ' ');
    const description = unit(h(21)) < 0.05 ? '' :
      `Summary: A ${kind} vulnerability exists in ${label} versions before ${product.version(j)}. ` +
      `Impact: An attacker who successfully exploits it could ${network ? 'run code remotely' : 'gain elevated access'} on affected devices. ` +
      `Remediation: Update ${label} to version ${product.version(j)} or later. [Generated by AI]`;
    return {
      id, product: p, release: j, published, publishedAt, fixedAt, cvss, severity,
      severityMissing: unit(h(22)) < 0.01, vector,
      epss: Math.round(unit(h(23)) ** 6 * 100000) / 100000,
      exploitStages, exploitTypes, description,
    };
  }

  /** Every CVE the catalog knows at snapshot k, in a stable order. */
  *catalog(k: number): Generator<Cve> {
    for (let p = 0; p < PRODUCTS.length; p++) {
      const last = this.latestRelease(p, k + MAX_EARLY_DISCLOSURE);
      for (let j = this.firstRelease(p); j <= last; j++) {
        for (const cve of this.cvesOfRelease(p, j)) if (cve.published <= k) yield cve;
      }
    }
  }

  findCve(id: string, k: number): Cve | undefined {
    const wanted = id.toUpperCase();
    for (const cve of this.catalog(k)) if (cve.id === wanted) return cve;
    return undefined;
  }

  exploitLevel(cve: Cve, k: number): ExploitLevel {
    const [pub, verified, kit] = cve.exploitStages;
    if (kit !== null && kit <= k) return 'ExploitIsInKit';
    if (verified !== null && verified <= k) return 'ExploitIsVerified';
    if (pub !== null && pub <= k) return 'ExploitIsPublic';
    return 'NoExploit';
  }

  /** Latest change to a CVE's record visible at k. */
  cveUpdatedAt(cve: Cve, k: number): number {
    let last = cve.publishedAt;
    for (const at of [cve.fixedAt, ...cve.exploitStages]) {
      if (at !== null && at <= k && at > cve.published) last = Math.max(last, this.snapshotTime(at) - 2 * HOUR);
    }
    return last;
  }

  /** The product's CVEs whose record changes at snapshot k: published, fixed, or exploited then. */
  cvesChangingAt(p: number, k: number): Cve[] {
    const from = this.latestRelease(p, k - 100);
    const to = this.latestRelease(p, k + MAX_EARLY_DISCLOSURE);
    const changing: Cve[] = [];
    for (let j = Math.max(from, this.firstRelease(p)); j <= to; j++) {
      for (const cve of this.cvesOfRelease(p, j)) {
        if (cve.published === k || (cve.published < k && (cve.fixedAt === k || cve.exploitStages.includes(k)))) changing.push(cve);
      }
    }
    return changing;
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
    const os = weighted(h(S.os), OPERATING_SYSTEMS.map((o) => [o, o.share] as const));
    const products: number[] = [];
    PRODUCTS.forEach((product, p) => {
      if (OS_PRODUCTS.has(product)) {
        if (product === os.product) products.push(p);
      } else if (product.families.includes(os.family) && unit(h(S.install, p)) < product.install) {
        products.push(p);
      }
    });
    return {
      index: i,
      id: hex(this.seed, 40, S.id, i),
      name: deviceName(os, i, h(S.name)),
      os,
      architecture: weighted(h(S.arch), os.architectures),
      products,
      fractionalTimestamps: unit(h(S.fraction)) < 0.1,
    };
  }

  deviceAt(i: number, k: number): DeviceAt {
    const device = this.device(i);
    const group = this.rbacGroup(device, k);
    const osProduct = device.os.product ? PRODUCTS.indexOf(device.os.product) : -1;
    return {
      ...device,
      snapshot: k,
      rbacGroupId: group.id,
      rbacGroupName: group.name,
      osVersion: device.os.osVersion(osProduct >= 0 ? PRODUCTS[osProduct].version(this.release(i, osProduct, k)) : undefined),
      lastSeen: this.snapshotTime(k) - (hash(this.seed, S.lastSeen, i, k) % 50) * 60_000,
    };
  }

  rbacGroup(device: Device, k: number): { id: number; name: string } {
    const period = between(hash(this.seed, S.groupPeriod, device.index), 300, 2400);
    const epoch = Math.floor((k + between(hash(this.seed, S.groupPhase, device.index), 0, period - 1)) / period);
    const h = hash(this.seed, S.group, device.index, epoch);
    if (unit(h) < 0.08) return RBAC_GROUPS[0];
    return pick(h >>> 4, device.os.server ? SERVER_GROUPS : CLIENT_GROUPS);
  }

  private schedule(i: number, p: number) {
    const h = (salt: number) => hash(this.seed, salt, i, p);
    const period = between(h(S.cadence), Math.ceil(this.cadence / 2), Math.ceil(this.cadence * 1.5));
    const staleRoll = unit(h(S.stale));
    const staleness = staleRoll < 0.85 ? 0 : staleRoll < 0.95 ? 1 + (h(S.stale) % 2) : 3 + (h(S.stale) % 6);
    const floor = this.firstRelease(p);
    return {
      period,
      phase: h(S.phase) % period,
      releaseAt: (update: number) => Math.max(floor, this.latestRelease(p, update) - staleness),
    };
  }

  /** Which release of product p device i runs at snapshot k. */
  release(i: number, p: number, k: number): number {
    const { period, phase, releaseAt } = this.schedule(i, p);
    return releaseAt(k - mod(k + phase, period));
  }

  /** Which release of product p device i runs at snapshot k, and since when. */
  productState(i: number, p: number, k: number): ProductState {
    const { period, phase, releaseAt } = this.schedule(i, p);
    let update = k - mod(k + phase, period);
    const release = releaseAt(update);
    // Walk back to the update that first installed this release (bounded: older is "long ago").
    for (let steps = 0; steps < 64 && releaseAt(update - period) === release; steps++) update -= period;
    return {
      release,
      version: PRODUCTS[p].version(release),
      acquiredAt: this.snapshotTime(update) - HOUR - (hash(this.seed, S.acquired, i, p) % 240) * 60_000,
    };
  }

  /** Findings of one device at snapshot k, in a stable order. */
  *deviceFindings(i: number, k: number, deviceAt = this.deviceAt(i, k)): Generator<Finding> {
    for (const p of deviceAt.products) yield* this.productFindings(deviceAt, p, k);
  }

  /** Findings of one installed product of a device at snapshot k. */
  *productFindings(deviceAt: DeviceAt, p: number, k: number): Generator<Finding> {
    const state = this.productState(deviceAt.index, p, k);
    const last = this.latestRelease(p, k + MAX_EARLY_DISCLOSURE);
    for (let j = state.release + 1; j <= last; j++) {
      for (const cve of this.cvesOfRelease(p, j)) if (cve.published <= k) yield this.findingOf(deviceAt, p, state, cve);
    }
  }

  /** The finding of one CVE on one installed product (the caller knows the device is affected). */
  finding(deviceAt: DeviceAt, p: number, k: number, cve: Cve): Finding {
    return this.findingOf(deviceAt, p, this.productState(deviceAt.index, p, k), cve);
  }

  private findingOf(deviceAt: DeviceAt, p: number, state: ProductState, cve: Cve): Finding {
    return { device: deviceAt, product: PRODUCTS[p], productIndex: p, version: state.version, cve, firstSeen: Math.max(state.acquiredAt, cve.publishedAt) };
  }

  deviceFindingCount(i: number, k: number): number {
    let count = 0;
    const device = this.device(i);
    for (const p of device.products) {
      const release = this.release(i, p, k);
      const last = this.latestRelease(p, k + MAX_EARLY_DISCLOSURE);
      for (let j = release + 1; j <= last; j++) {
        for (const cve of this.cvesOfRelease(p, j)) if (cve.published <= k) count++;
      }
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
