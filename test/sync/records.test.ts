import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DiagnosedError } from '../../src/connections/diagnosis.js';
import { PACKED, PACKED_WIDTH, RecordPacker, timestampSeconds, type PackedBatch } from '../../src/defender/packed-records.js';
import { apiRecord, D, decodeLine, DETAIL, encodeApiRecord, normaliseTimestamp, readFindingLine, RecordEncoder, RecordError, S } from '../../src/defender/records.js';

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

  it('packs file records into the lines the encoder writes', () => {
    // Devices, moves, products, and a CVE met with more details than the packer remembers.
    const records: Record<string, unknown>[] = [];
    for (let device = 0; device < 3; device++) {
      for (let version = 0; version < 3; version++) {
        for (let cve = 0; cve < 4; cve++) {
          records.push({
            ...pascal, DeviceId: `${pascal.DeviceId.slice(0, -1)}${device}`, SoftwareVersion: `1:3.0.${version}`, CveId: `CVE-2025-000${cve}`,
            RecommendedSecurityUpdateId: `RHSA-2025:0${(device * 3 + version) % 6}`, CvssScore: cve === 3 ? String(4 + version) : 4.3,
            FirstSeenTimestamp: ['2025-10-15 09:00:00.1234567', '2025-10-15T09:00:00Z', '', null, '2025-10-15T09:00:00+02:00'][(cve + version) % 5],
          });
        }
      }
      records.push({ ...records[records.length - 1], RbacGroupId: 9, RbacGroupName: 'Moved' }, { ...pascal, CveId: '' });
    }
    const lines: string[] = [];
    const encoder = new RecordEncoder();
    for (const record of records) encoder.encode(record, lines);

    const packer = new RecordPacker();
    const batches: PackedBatch[] = [];
    for (const record of records) {
      packer.pack(record);
      if (packer.size >= 7) batches.push(packer.take());
    }
    batches.push(packer.take());
    // Read the batches as the writer does: a number met for the first time brings its text.
    const cves: string[] = [];
    const details: string[] = [];
    const unpacked: string[] = [];
    for (const { entries, count, texts } of batches) {
      let text = 0;
      for (let i = 0; i < count * PACKED_WIDTH; i += PACKED_WIDTH) {
        if (entries[i] !== PACKED.finding) {
          unpacked.push(texts[text++]);
          continue;
        }
        if (entries[i + 1] === cves.length) cves.push(texts[text++]);
        if (entries[i + 2] === details.length) details.push(texts[text++]);
        const firstSeen = entries[i + 3];
        unpacked.push(['F', cves[entries[i + 1]], Number.isNaN(firstSeen) ? '' : String(firstSeen), details[entries[i + 2]]].join('\u001f'));
      }
      assert.equal(text, texts.length, 'every text is used');
    }
    assert.deepEqual(unpacked, lines);
    assert.ok(details.length >= 6, 'a CVE with many details keeps each of them');
  });

  it('reads timestamps as the normaliser does', () => {
    const values = ['2025-10-15 09:00:00', '2025-10-15 09:00:00.1234567', '2025-10-15T09:00:00Z', '2025-10-15T09:00:00.5Z', '2024-02-29 23:59:59',
      '2025-10-15T09:00:00+02:00', '2025-10-15 24:00:00', '2025-13-01 00:00:00', '2025-1-15 09:00:00', '1969-12-31 23:59:59', '2025-02-30 10:00:00',
      '2025-00-10 00:00:00', '2025-01-32 00:00:00', '0999-01-01 00:00:00', '0050-06-01 12:00:00', '2025-01-0x 00:00:00', '', null, undefined];
    for (const value of values) {
      let expected: number;
      try {
        const iso = normaliseTimestamp(value);
        expected = iso === '' ? NaN : Date.parse(iso) / 1000;
      } catch {
        assert.throws(() => timestampSeconds(value), RecordError, String(value));
        continue;
      }
      assert.deepEqual(timestampSeconds(value), expected, String(value));
    }
    assert.throws(() => timestampSeconds('yesterday'), /unreadable timestamp 'yesterday'/);
  });
});
