import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DiagnosedError } from '../../src/connections/diagnosis.js';
import { apiRecord, D, decodeLine, DETAIL, encodeApiRecord, readFindingLine, RecordEncoder, RecordError, S } from '../../src/defender/records.js';

const pascal = {
  Id: 'x', DeviceId: 'ABCDEF0123456789ABCDEF0123456789ABCDEF01', DeviceName: 'db-03', OSPlatform: 'Linux', OSVersion: 'enterprise_linux_9.4',
  OSArchitecture: 'x64', RbacGroupId: 1, RbacGroupName: 'Production', SoftwareVendor: 'red_hat', SoftwareName: 'openssl',
  SoftwareVersion: '1:3.0.7-28.el9_4', CveId: 'TVM-2024-0001', CvssScore: 4.3, VulnerabilitySeverityLevel: '',
  RecommendedSecurityUpdate: 'RHSA', RecommendedSecurityUpdateId: 'RHSA-2025:0595', RecommendedSecurityUpdateUrl: 'https://access.redhat.com/errata/RHSA-2025:0595',
  RegistryPaths: [], FirstSeenTimestamp: '2025-10-15 09:00:00.1234567', LastSeenTimestamp: '2025-11-01 14:30:00',
  ExploitabilityLevel: 'NoExploit', RecommendationReference: 'va-_-red_hat-_-openssl', SecurityUpdateAvailable: true, IsOnboarded: true,
  SomethingNew: { nested: true },
};

const camel = {
  id: 'y', deviceId: 'abcdef0123456789abcdef0123456789abcdef01', deviceName: 'db-03', osPlatform: 'Linux', osVersion: 'enterprise_linux_9.4',
  osArchitecture: 'x64', rbacGroupId: 1, rbacGroupName: 'Production', softwareVendor: 'red_hat', softwareName: 'openssl',
  softwareVersion: '1:3.0.7-28.el9_4', cveId: 'TVM-2024-0001', cvssScore: 4.3, vulnerabilitySeverityLevel: null,
  recommendedSecurityUpdate: 'RHSA', recommendedSecurityUpdateId: 'RHSA-2025:0595', recommendedSecurityUpdateUrl: 'https://access.redhat.com/errata/RHSA-2025:0595',
  diskPaths: [], registryPaths: [], firstSeenTimestamp: '2025-10-15T09:00:00Z', lastSeenTimestamp: '2025-11-01 14:30:00',
  exploitabilityLevel: 'NoExploit', securityUpdateAvailable: true, cveMitigationStatus: '', endOfSupportDate: null,
};

describe('Record normalisation', () => {
  it('reads PascalCase files and camelCase JSON alike, ignoring unknown fields', () => {
    const a: string[] = [];
    const b: string[] = [];
    new RecordEncoder().encode(pascal, a);
    new RecordEncoder().encode(camel, b);
    assert.deepEqual(a, b);
    const [d, s] = a.map(decodeLine);
    const f = readFindingLine(a[2]);
    const detail = decodeLine(f.detail);
    assert.equal(d[D.deviceId], 'abcdef0123456789abcdef0123456789abcdef01', 'device ids are lower-cased');
    assert.equal(d[D.lastSeen], '2025-11-01T14:30:00Z');
    assert.equal(s[S.version], '1:3.0.7-28.el9_4');
    assert.equal(f.cveId, 'TVM-2024-0001');
    assert.equal(f.firstSeen, Date.parse('2025-10-15T09:00:00Z') / 1000, 'the 7-digit fraction is dropped');
    assert.equal(detail[DETAIL.severity], '', 'empty and null severities are "unknown"');
    assert.equal(detail[DETAIL.cvss], '4.3');
    assert.equal(detail[DETAIL.updateAvailable], '1');
  });

  it('sends device and software lines only when they change', () => {
    const lines: string[] = [];
    const encoder = new RecordEncoder();
    encoder.encode(pascal, lines);
    encoder.encode({ ...pascal, CveId: 'CVE-2025-0001' }, lines);
    encoder.encode({ ...pascal, CveId: 'CVE-2025-0002', SoftwareVersion: '1:3.0.7-29.el9_4' }, lines);
    encoder.encode({ ...pascal, CveId: 'CVE-2025-0002', SoftwareVersion: '1:3.0.7-29.el9_4', RbacGroupId: 2, RbacGroupName: 'Servers' }, lines);
    assert.deepEqual(lines.map((l) => l[0]), ['D', 'S', 'F', 'F', 'S', 'F', 'D', 'S', 'F'], 'a device listed under another RBAC group (a move) starts again');
    assert.equal(decodeLine(lines[6])[D.rbacGroupName], 'Servers');
  });

  it('skips rows without a CVE and rejects rows without a device', () => {
    const lines: string[] = [];
    new RecordEncoder().encode({ ...pascal, CveId: null }, lines);
    assert.deepEqual(lines, []);
    assert.throws(() => new RecordEncoder().encode({ ...pascal, DeviceId: '' }, lines), RecordError);
    assert.throws(() => new RecordEncoder().encode({ ...pascal, LastSeenTimestamp: 'yesterday' }, lines), /unreadable timestamp 'yesterday'/);
  });

  it('turns an unreadable API record into a diagnosis naming its source', () => {
    assert.throws(() => encodeApiRecord(new RecordEncoder(), { ...camel, lastSeenTimestamp: 'yesterday' }, [], 'the JSON export'),
      (e: unknown) => e instanceof DiagnosedError && /in the JSON export: unreadable timestamp 'yesterday'/.test(e.diagnosis.message) && /kept unchanged/.test(e.diagnosis.fix));
  });

  it('turns a page item that is not an object into a diagnosis naming its source', () => {
    for (const item of [null, 'text', 42, [camel]]) {
      assert.throws(() => apiRecord(item, 'the changes since the last sync'),
        (e: unknown) => e instanceof DiagnosedError && /in the changes since the last sync: it is not a JSON object/.test(e.diagnosis.message));
    }
    assert.equal(apiRecord(camel, 'the JSON export'), camel);
  });

  it('keeps separators out of the values, so a hostile value cannot shift columns', () => {
    const lines: string[] = [];
    new RecordEncoder().encode({ ...pascal, DeviceName: 'evil\u001fname\u001e' }, lines);
    assert.equal(decodeLine(lines[0]).length, 9);
  });
});
