// The shapes Defender returns, built from the tenant model: export rows (camelCase JSON and
// PascalCase files), delta rows, machinesVulnerabilities rows and vulnerability entities.

import { MONTH_NAMES, cvrfMonthId, monthIndex } from '../world/calendar.js';
import { hash } from '../world/random.js';
import type { Line } from '../world/world.js';
import type { Cve, Finding, Tenant } from './tenant.js';

/** Formatted timestamps: a device's last-seen time and a finding's first-seen time repeat on many rows. */
const timestamps = new Map<number, string>();

/** `yyyy-MM-dd HH:mm:ss`, UTC without zone, optionally with Defender's 7-digit fraction. */
export function exportTimestamp(ms: number, fraction = false): string {
  const key = ms * 2 + (fraction ? 1 : 0);
  let text = timestamps.get(key);
  if (text === undefined) {
    const iso = new Date(ms).toISOString();
    const base = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
    text = fraction ? `${base}.${iso.slice(20, 23)}${String(ms % 9973).padStart(4, '0')}` : base;
    if (timestamps.size >= 1 << 16) timestamps.clear();
    timestamps.set(key, text);
  }
  return text;
}

export interface SecurityUpdate {
  title: string | null;
  id: string | null;
  url: string | null;
  /** Export files also name the monthly batch a Microsoft update belongs to. */
  batchTitle: string | null;
  batchUrl: string | null;
}

const NO_UPDATE: SecurityUpdate = { title: null, id: null, url: null, batchTitle: null, batchUrl: null };

/** Title of Microsoft's monthly release: "December 2024 Security Updates". */
export function monthlyReleaseTitle(time: number): string {
  const d = new Date(time);
  return `${MONTH_NAMES[d.getUTCMonth()]} ${d.getUTCFullYear()} Security Updates`;
}

/** The update Defender recommends for a finding: the release of its line that fixes it, once shipped. */
export function securityUpdate(tenant: Tenant, line: Line, fix: number, cve: Cve, k: number): SecurityUpdate {
  // Defender's own TVM-… ids are in no vendor's advisory.
  if (!tenant.fixReleased(line, fix, k) || cve.id.startsWith('TVM-')) return NO_UPDATE;
  const world = tenant.world;
  const id = world.updateId(line, fix);
  if (id === null) return NO_UPDATE;
  const shipped = world.releaseTime(line.component, fix);
  switch (line.component.spec.update) {
    case 'kb':
      return {
        title: monthlyReleaseTitle(shipped), id, url: `https://catalog.update.microsoft.com/v7/site/Search.aspx?q=KB${id}`,
        batchTitle: `${cvrfMonthId(monthIndex(shipped))} Security Updates`,
        batchUrl: `https://msrc.microsoft.com/update-guide/releaseNote/${cvrfMonthId(monthIndex(shipped))}`,
      };
    case 'rhsa': {
      const [year, number] = id.slice(5).split(':');
      return { title: `${cve.id}_oval:com.redhat.rhsa:def:${year}${number}`, id, url: `https://access.redhat.com/errata/${id}`, batchTitle: null, batchUrl: null };
    }
    case 'usn':
      return {
        title: `${cve.id}_oval:com.ubuntu.${line.stream.ubuntu!.codename}:def:${id.split('-')[1]}1000000`, id,
        url: `https://ubuntu.com/security/notices/${id}`, batchTitle: null, batchUrl: null,
      };
    default:
      return NO_UPDATE;
  }
}

export function findingId(f: Finding): string {
  return `${f.device.id}_${f.vendor}_${f.name}_${f.version}_${f.cve.id}`;
}

/** The fields the delta API reports as `Updated` when they change. */
export function updatableFields(tenant: Tenant, f: Finding, k: number): string {
  const update = securityUpdate(tenant, f.line, f.fix, f.cve, k);
  return [f.cve.severity, f.cve.cvss, tenant.exploitLevel(f.cve, k), update.title, update.id, tenant.fixReleased(f.line, f.fix, k)].join('|');
}

function paths(f: Finding): { disk: string[]; registry: string[] } {
  const windows = f.device.os.family === 'windows';
  const spec = f.component.spec;
  return {
    disk: windows && spec.diskPath ? [spec.diskPath] : [],
    registry: windows && spec.registryPath ? [spec.registryPath] : [],
  };
}

/** One row of SoftwareVulnerabilitiesByMachine (camelCase, field order as observed). */
export function exportRow(tenant: Tenant, f: Finding, k: number): Record<string, unknown> {
  const d = f.device;
  const update = securityUpdate(tenant, f.line, f.fix, f.cve, k);
  const { disk, registry } = paths(f);
  const spec = f.component.spec;
  return {
    id: findingId(f),
    deviceId: d.id,
    rbacGroupId: d.rbacGroupId,
    rbacGroupName: d.rbacGroupName,
    deviceName: d.name,
    osPlatform: d.os.osPlatform,
    osVersion: d.osVersion,
    osArchitecture: d.architecture,
    softwareVendor: f.vendor,
    softwareName: f.name,
    softwareVersion: f.version,
    cveId: f.cve.id,
    vulnerabilitySeverityLevel: f.cve.severityMissing ? null : f.cve.severity,
    recommendedSecurityUpdate: update.title,
    recommendedSecurityUpdateId: update.id,
    recommendedSecurityUpdateUrl: update.url,
    diskPaths: disk,
    registryPaths: registry,
    lastSeenTimestamp: exportTimestamp(d.lastSeen, d.fractionalTimestamps),
    firstSeenTimestamp: exportTimestamp(f.firstSeen, d.fractionalTimestamps),
    endOfSupportStatus: spec.endOfSupport ? 'EOS Software' : '',
    endOfSupportDate: spec.endOfSupport ? '2026-10-31T00:00:00Z' : null,
    exploitabilityLevel: tenant.exploitLevel(f.cve, k),
    recommendationReference: `va-_-${f.vendor}-_-${f.name}`,
    cvssScore: f.cve.cvss,
    securityUpdateAvailable: tenant.fixReleased(f.line, f.fix, k),
    cveMitigationStatus: '',
  };
}

/** One line of an export file (PascalCase keys, DiskPaths omitted when empty, as observed). */
export function exportFileRow(tenant: Tenant, f: Finding, k: number): Record<string, unknown> {
  const d = f.device;
  const update = securityUpdate(tenant, f.line, f.fix, f.cve, k);
  const { disk, registry } = paths(f);
  const row: Record<string, unknown> = {
    Id: findingId(f),
    DeviceId: d.id,
    DeviceName: d.name,
    OSPlatform: d.os.osPlatform,
    OSVersion: d.osVersion,
    OSArchitecture: d.architecture,
    RbacGroupId: d.rbacGroupId,
    RbacGroupName: d.rbacGroupName,
    SoftwareVendor: f.vendor,
    SoftwareName: f.name,
    SoftwareVersion: f.version,
    CveId: f.cve.id,
    CvssScore: f.cve.cvss,
    VulnerabilitySeverityLevel: f.cve.severityMissing ? '' : f.cve.severity,
    RecommendedSecurityUpdate: update.title,
    RecommendedSecurityUpdateId: update.id,
    RecommendedSecurityUpdateUrl: update.url,
  };
  if (disk.length) row.DiskPaths = disk;
  Object.assign(row, {
    RegistryPaths: registry,
    FirstSeenTimestamp: exportTimestamp(f.firstSeen, d.fractionalTimestamps),
    LastSeenTimestamp: exportTimestamp(d.lastSeen, d.fractionalTimestamps),
    ExploitabilityLevel: tenant.exploitLevel(f.cve, k),
    RecommendationReference: `va-_-${f.vendor}-_-${f.name}`,
    SecurityUpdateAvailable: tenant.fixReleased(f.line, f.fix, k),
    IsOnboarded: true,
    // Undocumented fields real files carry; a reader must ignore what it does not know.
    CveBatchTitle: update.batchTitle,
    CveBatchUrl: update.batchUrl,
  });
  return row;
}

export type DeltaStatus = 'New' | 'Fixed' | 'Updated';

export function deltaRow(tenant: Tenant, f: Finding, k: number, status: DeltaStatus, eventTime: number, onboarded = true): Record<string, unknown> {
  return {
    ...exportRow(tenant, f, k),
    status,
    eventTimestamp: exportTimestamp(eventTime),
    isOnboarded: onboarded,
  };
}

/** JSON.stringify(deltaRow(…)), without building the row twice (a change batch serialises thousands). */
export function deltaRowJson(tenant: Tenant, f: Finding, k: number, status: DeltaStatus, eventTime: number, onboarded = true): string {
  const row = JSON.stringify(exportRow(tenant, f, k));
  return `${row.slice(0, -1)},"status":${JSON.stringify(status)},"eventTimestamp":"${exportTimestamp(eventTime)}","isOnboarded":${onboarded}}`;
}

/** One row of /api/vulnerabilities/machinesVulnerabilities. */
export function machineVulnerabilityRow(tenant: Tenant, f: Finding, k: number): Record<string, unknown> {
  const kb = f.line.component.spec.update === 'kb' ? securityUpdate(tenant, f.line, f.fix, f.cve, k).id : null;
  return {
    id: `${f.device.id}-_-${f.cve.id}-_-${f.vendor}-_-${f.name}-_-${f.version}-_-${kb ?? ''}`,
    cveId: f.cve.id,
    machineId: f.device.id,
    fixingKbId: kb,
    productName: f.name,
    productVendor: f.vendor,
    productVersion: f.version,
    severity: f.cve.severity,
  };
}

const publishedOnText = new WeakMap<Cve, string>();

/**
 * The fields of a vulnerability entity that /api/vulnerabilities' $filter can name, as the entity
 * has them: a filter is checked on these before the whole entity is built.
 */
export function vulnerabilityFilterFields(tenant: Tenant, cve: Cve, k: number) {
  let publishedOn = publishedOnText.get(cve);
  if (publishedOn === undefined) publishedOnText.set(cve, publishedOn = new Date(cve.publishedAt).toISOString().replace('.000Z', 'Z'));
  return {
    id: cve.id,
    name: cve.id,
    description: cve.description,
    cvssV3: cve.cvss,
    publishedOn,
    severity: cve.severity,
    updatedOn: isoTime(tenant.cveUpdatedAt(cve, k)),
  };
}

/** ISO-8601 with milliseconds, memoised: a catalog request writes thousands of the same few times. */
function isoTime(ms: number): string {
  let text = isoTimes.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString();
    if (isoTimes.size >= 1 << 16) isoTimes.clear();
    isoTimes.set(ms, text);
  }
  return text;
}
const isoTimes = new Map<number, string>();

/** A vulnerability entity (/api/vulnerabilities and friends). */
export function vulnerabilityEntity(tenant: Tenant, cve: Cve, k: number, exposedMachines: number,
  fields = vulnerabilityFilterFields(tenant, cve, k)): Record<string, unknown> {
  const level = tenant.exploitLevel(cve, k);
  const firstFix = tenant.world.earliestFix(cve);
  const patched = firstFix !== undefined && firstFix <= tenant.snapshotTime(k);
  return {
    // Real responses annotate each item with its type (XSOAR's fixtures, Google SecOps' samples).
    '@odata.type': '#microsoft.windowsDefenderATP.api.PublicVulnerabilityDto',
    id: fields.id,
    name: fields.name,
    description: fields.description,
    severity: fields.severity,
    cvssV3: fields.cvssV3,
    cvssVector: cve.vector,
    exposedMachines,
    publishedOn: fields.publishedOn,
    updatedOn: fields.updatedOn,
    firstDetected: exposedMachines > 0 ? new Date(cve.publishedAt + 2 * 3600_000).toISOString().replace('.000Z', 'Z') : null,
    patchFirstAvailable: patched ? new Date(firstFix).toISOString().replace('.000Z', 'Z') : null,
    publicExploit: level !== 'NoExploit',
    exploitVerified: level === 'ExploitIsVerified' || level === 'ExploitIsInKit',
    exploitInKit: level === 'ExploitIsInKit',
    exploitTypes: level === 'NoExploit' ? [] : cve.exploitTypes,
    exploitUris: level === 'NoExploit' ? [] : [`https://www.exploit-db.com/exploits/${50000 + (hash(tenant.world.seed, 88, cve.family.index, cve.event) % 9000)}`],
    cveSupportability: 'Supported',
    tags: firstFix !== undefined && cve.publishedAt < firstFix ? (patched ? ['ZeroDay'] : ['ZeroDay', 'NoSecurityUpdate']) : [],
    epss: cve.epss,
  };
}
