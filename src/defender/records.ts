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

/** FNV-1a, for the "did anything that matters change" hash. */
function fnv1a(input: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < input.length; i++) {
    h ^= input.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Export files use PascalCase keys, the JSON API camelCase: one accessor table for each. */
const PASCAL = {
  cveId: 'CveId', deviceId: 'DeviceId', vendor: 'SoftwareVendor', name: 'SoftwareName', version: 'SoftwareVersion',
  severity: 'VulnerabilitySeverityLevel', cvss: 'CvssScore', exploitability: 'ExploitabilityLevel', updateTitle: 'RecommendedSecurityUpdate',
  updateId: 'RecommendedSecurityUpdateId', updateUrl: 'RecommendedSecurityUpdateUrl', available: 'SecurityUpdateAvailable',
  diskPaths: 'DiskPaths', registryPaths: 'RegistryPaths', firstSeen: 'FirstSeenTimestamp', lastSeen: 'LastSeenTimestamp',
  deviceName: 'DeviceName', osPlatform: 'OSPlatform', osVersion: 'OSVersion', osArchitecture: 'OSArchitecture',
  rbacGroupId: 'RbacGroupId', rbacGroupName: 'RbacGroupName',
} as const;
type Key = keyof typeof PASCAL;
/** The JSON API's names: PascalCase with the leading capitals lowered (OSPlatform → osPlatform). */
const CAMEL = Object.fromEntries(Object.entries(PASCAL).map(([key, name]) =>
  [key, name.replace(/^[A-Z]+(?=[A-Z][a-z])|^[A-Z]/, (m) => m.toLowerCase())])) as Record<Key, string>;

/**
 * One export record → the encoded row, or undefined for rows without a CVE (software inventory
 * rows that the export may carry). Throws RecordError when a required field is missing.
 */
export function encodeFinding(record: Record<string, unknown>): string | undefined {
  const keys: Record<Key, string> = 'DeviceId' in record ? PASCAL : CAMEL;
  const cveId = text(record[keys.cveId]);
  if (!cveId) return undefined;
  const deviceId = text(record[keys.deviceId]).toLowerCase();
  const name = text(record[keys.name]);
  if (!deviceId || !name) throw new RecordError(`the record has no ${deviceId ? 'SoftwareName' : 'DeviceId'}`);
  const severity = SEVERITIES[text(record[keys.severity]).toLowerCase()] ?? '';
  const cvssValue = record[keys.cvss];
  const cvss = cvssValue === null || cvssValue === undefined || cvssValue === '' ? '' : String(Number(cvssValue));
  const available = record[keys.available];
  const updateAvailable = available === true || available === 'true' || available === 'True' ? '1' : available === false || available === 'false' || available === 'False' ? '0' : '';
  let firstSeen: string;
  let lastSeen: string;
  try {
    firstSeen = normaliseTimestamp(record[keys.firstSeen]);
    lastSeen = normaliseTimestamp(record[keys.lastSeen]);
  } catch (e) {
    throw new RecordError((e as Error).message);
  }
  const S = FIELD_SEPARATOR;
  // The fields whose change makes Defender report a finding "Updated".
  const tracked = severity + S + cvss + S + text(record[keys.exploitability]) + S + text(record[keys.updateTitle]) + S + text(record[keys.updateId]) + S +
    text(record[keys.updateUrl]) + S + updateAvailable + S + list(record[keys.diskPaths]) + S + list(record[keys.registryPaths]);
  return deviceId + S + text(record[keys.deviceName]) + S + text(record[keys.osPlatform]) + S + text(record[keys.osVersion]) + S +
    text(record[keys.osArchitecture]) + S + text(record[keys.rbacGroupId]) + S + text(record[keys.rbacGroupName]) + S +
    text(record[keys.vendor]) + S + name + S + text(record[keys.version]) + S + cveId + S + tracked + S + firstSeen + S + lastSeen + S + fnv1a(tracked);
}

export function decodeRow(row: string): string[] {
  return row.split(FIELD_SEPARATOR);
}

/** The identity of a finding: device × software version × vulnerability. */
export function findingKey(fields: string[]): string {
  return `${fields[0]}|${fields[7]}|${fields[8]}|${fields[9]}|${fields[10]}`;
}
