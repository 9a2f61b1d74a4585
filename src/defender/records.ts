// Finding records normalised at the edge: PascalCase (export files) and camelCase (JSON API) keys,
// `yyyy-MM-dd HH:mm:ss[.fffffff]` UTC timestamps, null or empty severities, unknown fields ignored.
//
// Records cross from the parsing worker to the writer as delimited text lines, far cheaper than
// structured cloning objects. Exports list a device's rows together, so device fields travel once
// per device (a D line) and installed-product fields once per product (an S line); each finding is
// an F line that belongs to the D and S lines before it.

import { DiagnosedError } from '../connections/diagnosis.js';

export const FIELD_SEPARATOR = '\u001f';
export const ROW_SEPARATOR = '\u001e';

/** D line: a device. */
export const D = { deviceId: 1, deviceName: 2, osPlatform: 3, osVersion: 4, osArchitecture: 5, rbacGroupId: 6, rbacGroupName: 7, lastSeen: 8 } as const;
/** S line: a software version installed on the current device. */
export const S = { vendor: 1, name: 2, version: 3, diskPaths: 4, registryPaths: 5 } as const;
// F line: a finding on the current device and software: `F`, the CVE id, the first-seen time (unix
// seconds, empty when unknown), then the finding's detail, which readFindingLine returns unsplit:
// the writer keys its detail table by that text.
/** The fields of a finding's detail: the ones whose change makes Defender report the finding "Updated". */
export const DETAIL = { severity: 0, cvss: 1, exploitability: 2, updateTitle: 3, updateId: 4, updateUrl: 5, updateAvailable: 6 } as const;
// X line: a finding reported fixed: `X`, then the fields of FIXED. A U line has the same fields:
// a fix this run takes back (the Fixed half of an RBAC move whose New half came after it).
export const FIXED = { deviceId: 1, vendor: 2, name: 3, version: 4, cveId: 5 } as const;

export class RecordError extends Error {}

const SEVERITIES: Record<string, string> = { low: 'Low', medium: 'Medium', high: 'High', critical: 'Critical' };

/** `2025-11-02 08:15:00.1234567` or ISO-8601 → `2025-11-02T08:15:00Z`; empty when absent. */
export function normaliseTimestamp(value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  const text = String(value);
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(text);
  if (m) return `${m[1]}T${m[2]}Z`;
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed)) throw new RecordError(`unreadable timestamp '${text}'`);
  return new Date(parsed).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = typeof value === 'string' ? value : String(value);
  // The separators never occur in Defender data; strip them so a hostile value cannot shift columns.
  return s.includes(FIELD_SEPARATOR) || s.includes(ROW_SEPARATOR) ? s.replace(/[\u001e\u001f]/g, ' ') : s;
}

function list(value: unknown): string {
  return Array.isArray(value) && value.length ? text(JSON.stringify(value)) : '';
}

/** A finding record's fields under SitePatch's names, whichever spelling it came in. */
export interface SourceRecord {
  cveId: unknown; deviceId: unknown; vendor: unknown; name: unknown; version: unknown;
  severity: unknown; cvss: unknown; exploitability: unknown; updateTitle: unknown; updateId: unknown; updateUrl: unknown; available: unknown;
  diskPaths: unknown; registryPaths: unknown; firstSeen: unknown; lastSeen: unknown;
  deviceName: unknown; osPlatform: unknown; osVersion: unknown; osArchitecture: unknown; rbacGroupId: unknown; rbacGroupName: unknown;
}

/**
 * Export files use PascalCase keys, the JSON API camelCase. Records are read into one shape, so
 * the code that normalises them sees a single kind of object whichever source they come from. Each
 * spelling is written out: constant property names keep these reads fast.
 */
export function sourceRecord(r: Record<string, unknown>): SourceRecord {
  return 'DeviceId' in r ? {
    cveId: r.CveId, deviceId: r.DeviceId, vendor: r.SoftwareVendor, name: r.SoftwareName, version: r.SoftwareVersion,
    severity: r.VulnerabilitySeverityLevel, cvss: r.CvssScore, exploitability: r.ExploitabilityLevel, updateTitle: r.RecommendedSecurityUpdate,
    updateId: r.RecommendedSecurityUpdateId, updateUrl: r.RecommendedSecurityUpdateUrl, available: r.SecurityUpdateAvailable,
    diskPaths: r.DiskPaths, registryPaths: r.RegistryPaths, firstSeen: r.FirstSeenTimestamp, lastSeen: r.LastSeenTimestamp,
    deviceName: r.DeviceName, osPlatform: r.OSPlatform, osVersion: r.OSVersion, osArchitecture: r.OSArchitecture,
    rbacGroupId: r.RbacGroupId, rbacGroupName: r.RbacGroupName,
  } : {
    cveId: r.cveId, deviceId: r.deviceId, vendor: r.softwareVendor, name: r.softwareName, version: r.softwareVersion,
    severity: r.vulnerabilitySeverityLevel, cvss: r.cvssScore, exploitability: r.exploitabilityLevel, updateTitle: r.recommendedSecurityUpdate,
    updateId: r.recommendedSecurityUpdateId, updateUrl: r.recommendedSecurityUpdateUrl, available: r.securityUpdateAvailable,
    diskPaths: r.diskPaths, registryPaths: r.registryPaths, firstSeen: r.firstSeenTimestamp, lastSeen: r.lastSeenTimestamp,
    deviceName: r.deviceName, osPlatform: r.osPlatform, osVersion: r.osVersion, osArchitecture: r.osArchitecture,
    rbacGroupId: r.rbacGroupId, rbacGroupName: r.rbacGroupName,
  };
}

export function timestamp(value: unknown): string {
  try {
    return normaliseTimestamp(value);
  } catch (e) {
    throw new RecordError((e as Error).message);
  }
}

/** Unix seconds as text, empty when absent. */
function unixSeconds(value: unknown): string {
  const iso = timestamp(value);
  return iso === '' ? '' : String(Date.parse(iso) / 1000);
}

/** Who a finding record is about. */
export interface RecordIdentity {
  cveId: string;
  deviceId: string;
  rbacGroupId: string;
  /** vendor, name and version */
  product: string;
}

/** Who a record is about; undefined for rows without a CVE (software inventory rows an export may carry). */
export function identityOf(record: SourceRecord): RecordIdentity | undefined {
  const cveId = text(record.cveId);
  if (!cveId) return undefined;
  const deviceId = text(record.deviceId).toLowerCase();
  const name = text(record.name);
  if (!deviceId || !name) throw new RecordError(`the record has no ${deviceId ? 'SoftwareName' : 'DeviceId'}`);
  const sep = FIELD_SEPARATOR;
  return { cveId, deviceId, rbacGroupId: text(record.rbacGroupId), product: text(record.vendor) + sep + name + sep + text(record.version) };
}

export function encodeDeviceLine(record: SourceRecord, { deviceId, rbacGroupId }: RecordIdentity): string {
  const sep = FIELD_SEPARATOR;
  return 'D' + sep + deviceId + sep + text(record.deviceName) + sep + text(record.osPlatform) + sep + text(record.osVersion) + sep +
    text(record.osArchitecture) + sep + rbacGroupId + sep + text(record.rbacGroupName) + sep + timestamp(record.lastSeen);
}

export function encodeSoftwareLine(record: SourceRecord, { product }: RecordIdentity): string {
  const sep = FIELD_SEPARATOR;
  return 'S' + sep + product + sep + list(record.diskPaths) + sep + list(record.registryPaths);
}

/** A finding's DETAIL fields, joined. */
export function encodeDetail(record: SourceRecord): string {
  const sep = FIELD_SEPARATOR;
  const severity = SEVERITIES[text(record.severity).toLowerCase()] ?? '';
  const cvssValue = record.cvss;
  const cvss = cvssValue === null || cvssValue === undefined || cvssValue === '' ? '' : String(Number(cvssValue));
  const available = record.available;
  const updateAvailable = available === true || available === 'true' || available === 'True' ? '1' : available === false || available === 'false' || available === 'False' ? '0' : '';
  return severity + sep + cvss + sep + text(record.exploitability) + sep + text(record.updateTitle) + sep +
    text(record.updateId) + sep + text(record.updateUrl) + sep + updateAvailable;
}

/**
 * Turns records into lines. One encoder follows one stream of records (a JSON export, a delta's
 * pages): it emits D and S lines only when the device (or its RBAC group: a delta lists a device
 * that moved under both groups) or the installed product changes.
 */
export class RecordEncoder {
  /** The device id and RBAC group, and the product, of the last record. */
  private device = '';
  private product = '';
  /** The D and S lines of the last record. */
  deviceLine = '';
  softwareLine = '';

  /**
   * Appends the lines of one record to `out`. Rows without a CVE add nothing. Throws RecordError
   * when a required field is missing or unreadable.
   */
  encode(record: Record<string, unknown>, out: string[]): void {
    const source = sourceRecord(record);
    const identity = identityOf(source);
    if (identity) this.encodeIdentified(source, identity, out);
  }

  /** encode() for a record identityOf() has read. */
  encodeIdentified(record: SourceRecord, identity: RecordIdentity, out: string[]): void {
    const sep = FIELD_SEPARATOR;
    const device = identity.deviceId + sep + identity.rbacGroupId;
    if (device !== this.device) {
      this.device = device;
      this.product = '';
      this.deviceLine = encodeDeviceLine(record, identity);
      out.push(this.deviceLine);
    }
    if (identity.product !== this.product) {
      this.product = identity.product;
      this.softwareLine = encodeSoftwareLine(record, identity);
      out.push(this.softwareLine);
    }
    out.push('F' + sep + identity.cveId + sep + unixSeconds(record.firstSeen) + sep + encodeDetail(record));
  }
}

/** The diagnosis of a record of a JSON API page that SitePatch cannot read. */
export function unreadableRecord(source: string, problem: string): DiagnosedError {
  return new DiagnosedError({
    code: 'api_error', step: 'network', message: `Defender sent a record SitePatch cannot read in ${source}: ${problem}.`,
    fix: 'Sync again; if the same record keeps failing, report it to Microsoft support. The previous data is kept unchanged.',
  });
}

/** An item of a JSON API page as a record; anything else fails the run with a diagnosis naming `source`. */
export function apiRecord(item: unknown, source: string): Record<string, unknown> {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw unreadableRecord(source, 'it is not a JSON object');
  return item as Record<string, unknown>;
}

/** encode() for an item of a JSON API page: an unreadable one fails the run with a diagnosis naming `source`. */
export function encodeApiRecord(encoder: RecordEncoder, item: unknown, out: string[], source: string): void {
  const record = apiRecord(item, source);
  try {
    encoder.encode(record, out);
  } catch (e) {
    if (!(e instanceof RecordError)) throw e;
    throw unreadableRecord(source, e.message);
  }
}

/** An empty field of a line as the stores keep it: null. */
export const nullable = (value: string) => (value === '' ? null : value);

export function decodeLine(line: string): string[] {
  return line.split(FIELD_SEPARATOR);
}

export interface FindingLine {
  cveId: string;
  firstSeen: number | null;
  /** The DETAIL fields, still joined. */
  detail: string;
}

/** Reads an F line without splitting all of it: the writer reads millions of them. */
export function readFindingLine(line: string): FindingLine {
  const cveEnd = line.indexOf(FIELD_SEPARATOR, 2);
  const firstSeenEnd = line.indexOf(FIELD_SEPARATOR, cveEnd + 1);
  return {
    cveId: line.slice(2, cveEnd),
    firstSeen: firstSeenEnd === cveEnd + 1 ? null : Number(line.slice(cveEnd + 1, firstSeenEnd)),
    detail: line.slice(firstSeenEnd + 1),
  };
}
