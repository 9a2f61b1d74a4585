// What the exposure API answers: the shapes of /api/v1/exposure/*, /vulnerabilities, /devices,
// /software and /tenants. Times are ISO-8601 UTC; days are YYYY-MM-DD (UTC).

/** Open findings by Defender's severity (findings of another or no severity count only in totals). */
export interface BySeverity {
  critical: number;
  high: number;
  medium: number;
  low: number;
}

/** A list page: `total` is exact, `nextCursor` is null on the last page. */
export interface ListPage<T> {
  items: T[];
  total: number;
  nextCursor: string | null;
}

/** How fresh a connection's copy is. */
export interface Freshness {
  connectionId: string;
  name: string;
  /** When the last successful sync finished. */
  lastSuccessfulSync: string | null;
  /** The time of the data the copy holds (the snapshot or the latest change read). */
  dataTime: string | null;
  /** Seconds since the last successful sync: the copy is as current as that run, which asked Defender for everything up to then. */
  dataAgeSeconds: number | null;
  nextSyncAt: string | null;
  syncIntervalMinutes: number;
  /** The data is older than two sync intervals (or there is none yet). */
  stale: boolean;
}

export interface CveSummary {
  id: string;
  name: string | null;
  severity: string | null;
  cvss: number | null;
  exposedDevices: number;
  openFindings: number;
}

export interface SoftwareSummary {
  /** Defender's software id: `vendor-_-name`. */
  id: string;
  vendor: string;
  name: string;
  version: string;
  exposedDevices: number;
  openFindings: number;
  cves: number;
}

export interface DeviceSummary {
  id: string;
  connectionId: string;
  name: string | null;
  osPlatform: string | null;
  openFindings: number;
  bySeverity: BySeverity;
}

export interface ExposureSummary {
  devices: number;
  exposedDevices: number;
  openFindings: number;
  bySeverity: BySeverity;
  /** CVEs with at least one exposed device. */
  exposedCves: number;
  /** Exposed CVEs with any known exploit, and with a public exploit, a verified one, one in an exploit kit (Defender's flags overlap). */
  exploitableCves: { any: number; public: number; verified: number; inKit: number };
  /** Findings opened (new or reopened) and fixed in the last 7 days. */
  last7Days: { opened: number; fixed: number };
  topCves: CveSummary[];
  topSoftware: SoftwareSummary[];
  topDevices: DeviceSummary[];
  connections: Freshness[];
}

export interface TrendPoint {
  day: string;
  openFindings: number;
  bySeverity: BySeverity;
  exposedDevices: number;
  opened: number;
  fixed: number;
}

export type ExploitLevel = 'none' | 'public' | 'verified' | 'inKit';

export interface VulnerabilityItem {
  /** A CVE id or a Defender `TVM-` id. */
  id: string;
  name: string | null;
  severity: string | null;
  cvss: number | null;
  epss: number | null;
  exploitLevel: ExploitLevel;
  publishedOn: string | null;
  /** The earliest first-seen of its findings in the connections shown. */
  firstSeen: string | null;
  exposedDevices: number;
  openFindings: number;
}

export interface VulnerabilityDetail extends VulnerabilityItem {
  description: string | null;
  cvssVector: string | null;
  exploitTypes: string[];
  tags: string[];
  updatedOn: string | null;
  patchFirstAvailable: string | null;
  /** Devices that had a finding for it and have none open now. */
  fixedDevices: number;
  /** Findings for it fixed, per day (the last 365 days). */
  fixedByDay: { day: string; findings: number }[];
  connections: { connectionId: string; name: string; exposedDevices: number }[];
  /** The software versions with open findings for it, and their devices. */
  software: { id: string; vendor: string; name: string; version: string; exposedDevices: number }[];
  /** The updates Defender recommends for it, with the devices each would fix. */
  recommendedUpdates: { id: string | null; title: string | null; url: string | null; devices: number }[];
}

export interface DeviceItem extends DeviceSummary {
  osVersion: string | null;
  osArchitecture: string | null;
  rbacGroupId: number | null;
  rbacGroupName: string | null;
  lastSeen: string | null;
}

export interface DeviceFinding {
  cveId: string;
  severity: string | null;
  cvss: number | null;
  exploitability: string | null;
  recommendedUpdate: { id: string | null; title: string | null; url: string | null };
  firstSeen: string | null;
  openedAt: string;
  fixedAt: string | null;
  reopened: number;
}

export interface DeviceDetail extends DeviceItem {
  /** Open findings grouped by the software they are in. */
  software: { id: string; vendor: string; name: string; version: string; findings: DeviceFinding[] }[];
  /** Fixed findings, newest fix first (at most 1,000). */
  fixed: (DeviceFinding & { software: { id: string; vendor: string; name: string; version: string } })[];
}

export interface SoftwareItem extends SoftwareSummary {
  bySeverity: BySeverity;
}

export interface SoftwareDetail {
  id: string;
  vendor: string;
  name: string;
  openFindings: number;
  /** Its versions in the connections shown, most exposed first. */
  versions: (SoftwareItem & { exposed: boolean })[];
}

export interface TenantItem extends Freshness {
  cloud: string;
  status: string;
  devices: number;
  exposedDevices: number;
  openFindings: number;
  bySeverity: BySeverity;
}
