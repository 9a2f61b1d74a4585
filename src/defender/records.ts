// Finding records normalised at the edge: PascalCase (export files) and camelCase (JSON API) keys,
// `yyyy-MM-dd HH:mm:ss[.fffffff]` UTC timestamps, null or empty severities, unknown fields ignored.
// Rows cross from the parsing worker to the writer as delimited strings: far cheaper than
// structured cloning objects.

export const FIELD_SEPARATOR = '\u001f';
export const ROW_SEPARATOR = '\u001e';

/** Column order of an encoded finding row. */
export const FINDING_FIELDS = [
  'deviceId', 'deviceName', 'osPlatform', 'osVersion', 'osArchitecture', 'rbacGroupId', 'rbacGroupName',
  'vendor', 'name', 'version', 'cveId', 'severity', 'cvss', 'exploitability',
  'updateTitle', 'updateId', 'updateUrl', 'updateAvailable', 'diskPaths', 'registryPaths', 'firstSeen', 'lastSeen', 'rowHash',
] as const;

export type FindingField = (typeof FINDING_FIELDS)[number];
export const FIELD_INDEX = Object.fromEntries(FINDING_FIELDS.map((f, i) => [f, i])) as Record<FindingField, number>;

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

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = typeof value === 'string' ? value : String(value);
  // The separators never occur in Defender data; strip them so a hostile value cannot shift columns.
  return s.includes(FIELD_SEPARATOR) || s.includes(ROW_SEPARATOR) ? s.replace(/[\u001e\u001f]/g, ' ') : s;
}

function list(value: unknown): string {
  return Array.isArray(value) && value.length ? text(JSON.stringify(value)) : '';
}

/** FNV-1a over the fields whose change makes a finding "Updated". */
function hashOf(parts: string[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      h ^= part.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0xff;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * One export record → the encoded row, or undefined for rows without a CVE (software inventory
 * rows that the export may carry). Throws RecordError when a required field is missing.
 */
export function encodeFinding(record: Record<string, unknown>): string | undefined {
  const pascal = 'DeviceId' in record;
  const get = (camel: string, pascalName: string) => record[pascal ? pascalName : camel];
  const cveId = text(get('cveId', 'CveId'));
  if (!cveId) return undefined;
  const deviceId = text(get('deviceId', 'DeviceId')).toLowerCase();
  const vendor = text(get('softwareVendor', 'SoftwareVendor'));
  const name = text(get('softwareName', 'SoftwareName'));
  const version = text(get('softwareVersion', 'SoftwareVersion'));
  if (!deviceId || !name) throw new RecordError(`the record has no ${deviceId ? 'SoftwareName' : 'DeviceId'}`);
  const rawSeverity = text(get('vulnerabilitySeverityLevel', 'VulnerabilitySeverityLevel'));
  const severity = SEVERITIES[rawSeverity.toLowerCase()] ?? '';
  const cvssValue = get('cvssScore', 'CvssScore');
  const cvss = cvssValue === null || cvssValue === undefined || cvssValue === '' ? '' : String(Number(cvssValue));
  const exploitability = text(get('exploitabilityLevel', 'ExploitabilityLevel'));
  const updateTitle = text(get('recommendedSecurityUpdate', 'RecommendedSecurityUpdate'));
  const updateId = text(get('recommendedSecurityUpdateId', 'RecommendedSecurityUpdateId'));
  const updateUrl = text(get('recommendedSecurityUpdateUrl', 'RecommendedSecurityUpdateUrl'));
  const available = get('securityUpdateAvailable', 'SecurityUpdateAvailable');
  const updateAvailable = available === true || available === 'true' || available === 'True' ? '1' : available === false || available === 'false' || available === 'False' ? '0' : '';
  const diskPaths = list(get('diskPaths', 'DiskPaths'));
  const registryPaths = list(get('registryPaths', 'RegistryPaths'));
  let firstSeen: string;
  let lastSeen: string;
  try {
    firstSeen = normaliseTimestamp(get('firstSeenTimestamp', 'FirstSeenTimestamp'));
    lastSeen = normaliseTimestamp(get('lastSeenTimestamp', 'LastSeenTimestamp'));
  } catch (e) {
    throw new RecordError((e as Error).message);
  }
  const rowHash = hashOf([severity, cvss, exploitability, updateTitle, updateId, updateUrl, updateAvailable, diskPaths, registryPaths]);
  return [
    deviceId, text(get('deviceName', 'DeviceName')), text(get('osPlatform', 'OSPlatform')), text(get('osVersion', 'OSVersion')),
    text(get('osArchitecture', 'OSArchitecture')), text(get('rbacGroupId', 'RbacGroupId')), text(get('rbacGroupName', 'RbacGroupName')),
    vendor, name, version, cveId, severity, cvss, exploitability,
    updateTitle, updateId, updateUrl, updateAvailable, diskPaths, registryPaths, firstSeen, lastSeen, String(rowHash),
  ].join(FIELD_SEPARATOR);
}

export function decodeRow(row: string): string[] {
  return row.split(FIELD_SEPARATOR);
}

/** The identity of a finding: device × software version × vulnerability. */
export function findingKey(fields: string[]): string {
  return `${fields[0]}|${fields[7]}|${fields[8]}|${fields[9]}|${fields[10]}`;
}
