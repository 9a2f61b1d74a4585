import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOsvModifiedIndex, parseUbuntuEcosystem, parseUbuntuOsv } from '../../src/content/feeds/ubuntu-osv.js';
import { assertFeedFormatError, fixture } from './feed-fixtures.js';

const PRO = 'Available with Ubuntu Pro: https://ubuntu.com/pro';

describe('Ubuntu OSV: a USN', () => {
  const { advisory, fixes, skipped } = parseUbuntuOsv(fixture('ubuntu', 'USN-7264-1.json'), 'Ubuntu/USN-7264-1.json');

  it('reads the advisory, with Ubuntu\'s CVE record ids read as CVE ids', () => {
    assert.deepEqual(advisory, {
      id: 'USN-7264-1', kind: 'usn', summary: 'openssl vulnerabilities', cves: ['CVE-2024-9143', 'CVE-2024-13176'], related: [],
      published: '2025-02-11T15:21:08Z', modified: '2025-02-11T15:21:08Z', withdrawn: null,
    });
  });

  it('gives each release its fixed source version, binaries and CVEs, and marks a Pro-only fix', () => {
    assert.deepEqual(fixes.map((f) => [f.release.ecosystem, f.package, f.fixedVersion, f.proRequired]), [
      ['Ubuntu:Pro:16.04:LTS', 'openssl', '1.0.2g-1ubuntu4.20+esm12', true],
      ['Ubuntu:22.04:LTS', 'openssl', '3.0.2-0ubuntu1.19', false],
      ['Ubuntu:24.04:LTS', 'openssl', '3.0.13-0ubuntu3.5', false],
      ['Ubuntu:24.10', 'openssl', '3.3.1-2ubuntu2.1', false],
    ]);
    assert.deepEqual(fixes[0], {
      advisory: 'USN-7264-1', kind: 'usn', cves: ['CVE-2024-9143'],
      release: { version: '16.04', lts: true, pro: true, channel: null, ecosystem: 'Ubuntu:Pro:16.04:LTS' },
      package: 'openssl', fixedVersion: '1.0.2g-1ubuntu4.20+esm12',
      binaries: [
        { name: 'libssl-dev', version: '1.0.2g-1ubuntu4.20+esm12' },
        { name: 'libssl1.0.0', version: '1.0.2g-1ubuntu4.20+esm12' },
        { name: 'openssl', version: '1.0.2g-1ubuntu4.20+esm12' },
      ],
      proRequired: true, availability: PRO,
      affectedVersions: ['1.0.2g-1ubuntu4', '1.0.2g-1ubuntu4.20', '1.0.2g-1ubuntu4.20+esm11'],
    });
  });

  it('takes the CVEs of each release from its cves_map, else those of the advisory', () => {
    assert.deepEqual(fixes.map((f) => f.cves), [
      ['CVE-2024-9143'], ['CVE-2024-9143'], ['CVE-2024-9143', 'CVE-2024-13176'], ['CVE-2024-9143', 'CVE-2024-13176'],
    ]);
    assert.deepEqual(fixes[3].release, { version: '24.10', lts: false, pro: false, channel: null, ecosystem: 'Ubuntu:24.10' });
  });

  it('keeps the good binaries of an entry and reports the odd one', () => {
    assert.deepEqual(fixes[3].binaries.map((b) => b.name), ['libssl3t64', 'openssl']);
    assert.deepEqual(skipped, [{ where: 'USN-7264-1 affected 4 binary 3', reason: 'no binary_name or binary_version: {"binary_name":"openssl-provider-legacy"}' }]);
  });
});

describe('Ubuntu OSV: a CVE record', () => {
  const { advisory, fixes, skipped } = parseUbuntuOsv(fixture('ubuntu', 'UBUNTU-CVE-2024-9143.json'), 'UBUNTU-CVE-2024-9143.json');

  it('reads the CVE and the USNs it names', () => {
    assert.equal(advisory.kind, 'ubuntu_cve');
    assert.deepEqual(advisory.cves, ['CVE-2024-9143']);
    assert.deepEqual(advisory.related, ['USN-7264-1']);
    assert.equal(advisory.summary, null);
  });

  it('tells affected without a fix from fixed, and reads Pro service channels', () => {
    assert.deepEqual(fixes.map((f) => [f.release.ecosystem, f.package, f.fixedVersion, f.proRequired, f.release.channel]), [
      ['Ubuntu:Pro:14.04:LTS', 'openssl', null, true, null],
      ['Ubuntu:22.04:LTS', 'openssl', '3.0.2-0ubuntu1.19', false, null],
      ['Ubuntu:Pro:FIPS-updates:22.04:LTS', 'openssl', '3.0.2-0ubuntu1.19+Fips1', true, 'FIPS-updates'],
      ['Ubuntu:24.04:LTS', 'edk2', '2024.02-2ubuntu0.3', false, null],
    ]);
    assert.deepEqual(fixes[0].binaries, []);
    assert.equal(fixes[0].availability, null);
  });

  it('reports what it cannot read: several fixes, git ranges, other ecosystems', () => {
    assert.deepEqual(skipped, [
      { where: 'UBUNTU-CVE-2024-9143 affected 4', reason: 'several fixed versions "2024.02-2ubuntu0.2, 2024.02-2ubuntu0.3": the last one is taken' },
      { where: 'UBUNTU-CVE-2024-9143 affected 5 range 1', reason: 'range type "GIT" is not ECOSYSTEM' },
      { where: 'UBUNTU-CVE-2024-9143 affected 6', reason: 'not an Ubuntu package: {"ecosystem":"Debian:12","name":"openssl"}' },
    ]);
    assert.ok(!fixes.some((f) => f.package === 'nodejs'), 'an entry with only a git range says nothing about package versions');
  });

  it('drops the knowledge of a withdrawn entry', () => {
    const withdrawn = parseUbuntuOsv(fixture('ubuntu', 'UBUNTU-CVE-2023-52999-withdrawn.json'), 'UBUNTU-CVE-2023-52999.json');
    assert.equal(withdrawn.advisory.withdrawn, '2024-06-01T10:00:00Z');
    assert.deepEqual(withdrawn.fixes, []);
  });

  it('counts any subscription other than "No subscription required" as Pro, and knows Livepatch notices', () => {
    const lsn = parseUbuntuOsv(JSON.stringify({
      id: 'LSN-0110-1', modified: '2025-03-01T00:00:00Z', upstream: ['UBUNTU-CVE-2024-53104'],
      affected: [{
        package: { ecosystem: 'Ubuntu:22.04:LTS', name: 'linux' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '0' }] }],
        ecosystem_specific: { availability: 'Livepatch subscription required', module_name_regex: 'lkp_Ubuntu_5_15_0[_|\\d]+_(?:generic|lowlatency)_(\\d+)' },
      }],
    }), 'LSN-0110-1.json');
    assert.equal(lsn.advisory.kind, 'lsn');
    assert.deepEqual(lsn.advisory.cves, ['CVE-2024-53104']);
    assert.equal(lsn.fixes[0].proRequired, true);
    assert.equal(lsn.fixes[0].release.pro, false);
  });

  it('refuses a truncated record and other documents', () => {
    assertFeedFormatError(() => parseUbuntuOsv(fixture('ubuntu', 'USN-7264-1.truncated.json'), 'Ubuntu/USN-7264-1.json'), 'ubuntu', 'Ubuntu/USN-7264-1.json',
      /^Ubuntu OSV document Ubuntu\/USN-7264-1\.json: /, /cut short/);
    assertFeedFormatError(() => parseUbuntuOsv(fixture('kev', 'known_exploited_vulnerabilities.json'), 'x.json'), 'ubuntu', 'x.json', /not a document of the Ubuntu OSV feed/, /ubuntuOsvUrl/);
    assertFeedFormatError(() => parseUbuntuOsv(fixture('nvd', 'rate-limited.html'), 'x.json'), 'ubuntu', 'x.json', /web page/);
  });
});

describe('Ubuntu OSV ecosystems', () => {
  const cases: [string, ReturnType<typeof parseUbuntuEcosystem>][] = [
    ['Ubuntu:22.04:LTS', { version: '22.04', lts: true, pro: false, channel: null, ecosystem: 'Ubuntu:22.04:LTS' }],
    ['Ubuntu:25.04', { version: '25.04', lts: false, pro: false, channel: null, ecosystem: 'Ubuntu:25.04' }],
    ['Ubuntu:Pro:16.04:LTS', { version: '16.04', lts: true, pro: true, channel: null, ecosystem: 'Ubuntu:Pro:16.04:LTS' }],
    ['Ubuntu:Pro:FIPS:20.04:LTS', { version: '20.04', lts: true, pro: true, channel: 'FIPS', ecosystem: 'Ubuntu:Pro:FIPS:20.04:LTS' }],
    ['Ubuntu:Pro:24.04:LTS:Realtime:Kernel', { version: '24.04', lts: true, pro: true, channel: 'Realtime:Kernel', ecosystem: 'Ubuntu:Pro:24.04:LTS:Realtime:Kernel' }],
    ['Debian:12', null],
    ['Ubuntu', null],
  ];
  for (const [ecosystem, expected] of cases) {
    it(ecosystem, () => assert.deepEqual(parseUbuntuEcosystem(ecosystem), expected));
  }
});

describe('OSV modified_id.csv', () => {
  it('reads the rows newest first and reports the odd ones', () => {
    const { entries, skipped } = parseOsvModifiedIndex(fixture('ubuntu', 'modified_id.csv'), 'Ubuntu/modified_id.csv');
    assert.deepEqual(entries, [
      { id: 'UBUNTU-CVE-2024-9143', ecosystem: null, modified: '2025-02-12T08:00:00Z' },
      { id: 'USN-7264-1', ecosystem: null, modified: '2025-02-11T15:21:08Z' },
      { id: 'USN-7241-1', ecosystem: null, modified: '2025-01-30T17:33:42Z' },
    ]);
    assert.deepEqual(skipped, [
      { where: 'line 3', reason: 'not a "modified,id" row: "an odd line without a comma"' },
      { where: 'line 5', reason: 'not a "modified,id" row: "not-a-date,USN-7000-1"' },
    ]);
  });

  it('tolerates a header and reads the ecosystem prefix of the bucket-wide listing', () => {
    const { entries, skipped } = parseOsvModifiedIndex('modified,id\r\n2025-02-11T15:21:08Z,Ubuntu/USN-7264-1\r\n2025-02-10T00:00:00Z,PyPI/PYSEC-2025-1\r\n');
    assert.deepEqual(entries, [
      { id: 'USN-7264-1', ecosystem: 'Ubuntu', modified: '2025-02-11T15:21:08Z' },
      { id: 'PYSEC-2025-1', ecosystem: 'PyPI', modified: '2025-02-10T00:00:00Z' },
    ]);
    assert.deepEqual(skipped, []);
  });

  it('refuses an error page', () => {
    assertFeedFormatError(() => parseOsvModifiedIndex(fixture('msrc', 'error-page.html')), 'ubuntu', 'modified_id.csv', /web page/);
    assertFeedFormatError(() => parseOsvModifiedIndex(fixture('ubuntu', 'USN-7264-1.json')), 'ubuntu', 'modified_id.csv', /not a document of the Ubuntu OSV feed/, /listing row/);
  });
});
