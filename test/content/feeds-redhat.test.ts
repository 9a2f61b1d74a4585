import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRedHatArchiveLatest, parseRedHatListing, parseRedHatVex, rhelRelease } from '../../src/content/feeds/redhat-vex.js';
import type { RedHatPackageState } from '../../src/content/feeds/types.js';
import { assertFeedFormatError, fixture } from './feed-fixtures.js';

const WORKAROUND = 'Mitigation for this issue is either not available or the currently available options do not meet the Red Hat Product Security criteria.';

describe('Red Hat CSAF VEX: one CVE document', () => {
  const result = parseRedHatVex(fixture('redhat', 'cve-2024-5535.json'), '2024/cve-2024-5535.json');
  const state = (streamId: string, pkg: string, packageType = 'rpm'): RedHatPackageState => {
    const found = result.states.filter((s) => s.stream.productId === streamId && s.package === pkg && s.packageType === packageType);
    assert.equal(found.length, 1, `${streamId} ${pkg}`);
    return found[0];
  };

  it('reads the CVE, title, aggregate severity and dates', () => {
    assert.deepEqual(result.document, {
      cve: 'CVE-2024-5535', title: 'openssl: SSL_select_next_proto buffer overread', severity: 'Low',
      initialReleaseDate: '2024-06-27T00:00:00Z', currentReleaseDate: '2025-01-09T10:12:40Z', deleted: false,
    });
  });

  it('gives a fixed package its EVR, its builds per architecture, the RHSA and the stream with its RHEL release', () => {
    assert.deepEqual(state('BaseOS-9.5.0.Z.MAIN', 'openssl'), {
      cve: 'CVE-2024-5535', state: 'fixed', reason: null,
      stream: {
        productId: 'BaseOS-9.5.0.Z.MAIN', name: 'Red Hat Enterprise Linux BaseOS (v. 9)', cpe: 'cpe:/o:redhat:enterprise_linux:9::baseos',
        rhel: { major: 9, minor: 5, stream: 'MAIN' },
      },
      package: 'openssl', packageType: 'rpm', module: null, fixedVersion: '1:3.2.2-6.el9_5',
      nevras: ['openssl-1:3.2.2-6.el9_5.src', 'openssl-1:3.2.2-6.el9_5.x86_64', 'openssl-1:3.2.2-6.el9_5.aarch64'],
      arches: ['src', 'x86_64', 'aarch64'],
      advisory: 'RHSA-2025:0095', advisoryUrl: 'https://access.redhat.com/errata/RHSA-2025:0095',
      workaround: WORKAROUND, severity: 'Low', cvssScore: 5.9, cvssVector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N',
    });
    assert.equal(state('BaseOS-9.5.0.Z.MAIN', 'openssl-libs').fixedVersion, '1:3.2.2-6.el9_5', 'each binary package has its own state');
  });

  it('keeps an EUS stream apart, with its own minor release and advisory', () => {
    const eus = state('BaseOS-9.4.0.Z.EUS', 'openssl');
    assert.deepEqual(eus.stream, {
      productId: 'BaseOS-9.4.0.Z.EUS', name: 'Red Hat Enterprise Linux BaseOS EUS (v.9.4)', cpe: 'cpe:/o:redhat:rhel_eus:9.4::baseos',
      rhel: { major: 9, minor: 4, stream: 'EUS' },
    });
    assert.equal(eus.fixedVersion, '1:3.0.7-29.el9_4');
    assert.equal(eus.advisory, 'RHSA-2024:9333');
    assert.deepEqual(eus.nevras, ['openssl-1:3.0.7-29.el9_4.src', 'openssl-1:3.0.7-29.el9_4.x86_64']);
  });

  it('follows modular rpms through their module to the stream', () => {
    const rpm = state('AppStream-8.10.0.Z.MAIN', 'nodejs');
    assert.equal(rpm.module, 'nodejs:20');
    assert.equal(rpm.fixedVersion, '1:20.16.0-1.module+el8.10.0+22202+761b9a65', 'the purl version is percent-decoded');
    assert.deepEqual(rpm.arches, ['src', 'x86_64']);
    assert.equal(rpm.advisory, 'RHSA-2024:6783');
    assert.deepEqual(rpm.stream.rhel, { major: 8, minor: 10, stream: 'MAIN' });
    const module = state('AppStream-8.10.0.Z.MAIN', 'nodejs', 'rpmmod');
    assert.equal(module.module, 'nodejs:20');
    assert.equal(module.fixedVersion, '20:8100020240807161023:a75119d5');
    assert.deepEqual(module.nevras, []);
  });

  it('tells will not fix from affected with no fix yet, in Red Hat\'s words', () => {
    assert.deepEqual(
      result.states.filter((s) => s.state === 'will_not_fix' || s.state === 'no_fix_yet').map((s) => [s.stream.productId, s.package, s.state, s.reason, s.fixedVersion, s.advisory]),
      [
        ['red_hat_enterprise_linux_7', 'openssl', 'will_not_fix', 'Out of support scope', null, null],
        ['red_hat_enterprise_linux_8', 'openssl', 'will_not_fix', 'Will not fix', null, null],
        ['red_hat_enterprise_linux_8', 'edk2', 'no_fix_yet', 'Deferred', null, null],
        ['red_hat_enterprise_linux_9', 'edk2', 'no_fix_yet', 'Affected', null, null],
      ],
    );
    const edk2 = state('red_hat_enterprise_linux_9', 'edk2');
    assert.deepEqual(edk2.stream.rhel, { major: 9, minor: null, stream: null });
    assert.equal(edk2.severity, 'Moderate');
    assert.equal(edk2.cvssScore, 3.7);
    assert.deepEqual(edk2.arches, [], 'unfixed components have no builds');
  });

  it('reads not affected and under investigation, and layered products without a RHEL release', () => {
    assert.deepEqual(result.states.filter((s) => s.state === 'not_affected').map((s) => `${s.stream.productId}:${s.package}`), [
      'red_hat_enterprise_linux_6:openssl', 'red_hat_enterprise_linux_9:shim',
    ]);
    const jbcs = state('red_hat_jboss_core_services', 'jbcs-httpd24-openssl');
    assert.equal(jbcs.state, 'under_investigation');
    assert.equal(jbcs.stream.rhel, null);
    const satellite = state('8Base-satellite-6.15', 'rubygem-openssl');
    assert.equal(satellite.state, 'fixed');
    assert.equal(satellite.fixedVersion, '3.2.0-1.el8sat', 'epoch 0 is left out');
    assert.equal(satellite.advisory, null);
    assert.equal(satellite.stream.rhel, null);
    assert.equal(result.states.length, 14);
  });

  it('reports the components it cannot place, once each', () => {
    assert.deepEqual(result.skipped, [
      { where: 'CVE-2024-5535 fixed 8Base-satellite-6.15:rubygem-openssl-0:3.2.0-1.el8sat.x86_64', reason: 'fixed, but no vendor_fix remediation names the advisory' },
      { where: 'CVE-2024-5535 fixed BaseOS-9.5.0.Z.MAIN:openssl-perl-1:3.2.2-6.el9_5.x86_64', reason: 'no relationship ties it to a product stream' },
      { where: 'CVE-2024-5535 known_not_affected red_hat_enterprise_linux_9:openssl-release-notes', reason: 'its component "openssl-release-notes" has no package URL in the product tree' },
    ]);
  });

  it('says when Red Hat deleted the document, with no states', () => {
    const deleted = parseRedHatVex(fixture('redhat', 'cve-2023-0030-deleted.json'), '2023/cve-2023-0030.json');
    assert.equal(deleted.document.deleted, true);
    assert.equal(deleted.document.cve, 'CVE-2023-0030');
    assert.deepEqual(deleted.states, []);
  });

  it('refuses a truncated document, an error page and other formats', () => {
    assertFeedFormatError(() => parseRedHatVex(fixture('redhat', 'cve-2024-5535.truncated.json'), '2024/cve-2024-5535.json'), 'redhat', '2024/cve-2024-5535.json',
      /^Red Hat CSAF VEX document 2024\/cve-2024-5535\.json: /, /cut short/);
    assertFeedFormatError(() => parseRedHatVex(fixture('msrc', 'error-page.html'), '2024/cve-2024-5535.json'), 'redhat', '2024/cve-2024-5535.json', /web page/, /redHatVexUrl/);
    assertFeedFormatError(() => parseRedHatVex(fixture('kev', 'known_exploited_vulnerabilities.json'), 'x.json'), 'redhat', 'x.json', /not a document of the Red Hat CSAF VEX feed/);
  });
});

describe('Red Hat stream releases', () => {
  const cases: [string, string | null, ReturnType<typeof rhelRelease>][] = [
    ['AppStream-9.4.0.Z.MAIN.EUS', 'cpe:/a:redhat:enterprise_linux:9::appstream', { major: 9, minor: 4, stream: 'MAIN.EUS' }],
    ['AppStream-9.3.0.Z.MAIN', 'cpe:/a:redhat:enterprise_linux:9::appstream', { major: 9, minor: 3, stream: 'MAIN' }],
    ['BaseOS-9.0.0.Z.EUS', 'cpe:/o:redhat:rhel_eus:9.0::baseos', { major: 9, minor: 0, stream: 'EUS' }],
    ['7Server-7.4.AUS', 'cpe:/o:redhat:rhel_aus:7.4::server', { major: 7, minor: 4, stream: 'AUS' }],
    ['AppStream-10', 'cpe:/a:redhat:enterprise_linux:10::appstream', { major: 10, minor: null, stream: null }],
    ['BaseOS-10.0', 'cpe:/o:redhat:enterprise_linux:10.0', { major: 10, minor: 0, stream: null }],
    ['BaseOS-10.2.EUS', 'cpe:/o:redhat:enterprise_linux_eus:10.2', { major: 10, minor: 2, stream: 'EUS' }],
    ['red_hat_enterprise_linux_9', 'cpe:/o:redhat:enterprise_linux:9', { major: 9, minor: null, stream: null }],
    ['8Base-satellite-6.15', 'cpe:/a:redhat:satellite:6.15::el8', null],
    ['9Base-satellite-client-6', 'cpe:/a:redhat:rhel_satellite_client:6::el9', null],
    ['red_hat_software_collections', 'cpe:/a:redhat:rhel_software_collections:3', null],
    ['AppStream-9.4.0.Z.MAIN.EUS', null, null],
  ];
  for (const [id, cpe, expected] of cases) {
    it(`${id} ${cpe ?? '(no CPE)'}`, () => assert.deepEqual(rhelRelease(id, cpe), expected));
  }
});

describe('Red Hat listings', () => {
  it('reads changes.csv rows, CRLF and blank lines included, and reports rows that are not documents', () => {
    const { entries, skipped } = parseRedHatListing(fixture('redhat', 'changes.csv'), 'changes.csv');
    assert.deepEqual(entries, [
      { path: '2024/cve-2024-5535.json', cve: 'CVE-2024-5535', changed: '2025-01-09T10:12:40Z' },
      { path: '2024/cve-2024-3094.json', cve: 'CVE-2024-3094', changed: '2025-01-08T22:01:13Z' },
      { path: '2023/cve-2023-38545.json', cve: 'CVE-2023-38545', changed: '2025-01-08T21:59:02Z' },
      { path: '2021/cve-2021-44228.json', cve: 'CVE-2021-44228', changed: '2025-01-07T03:00:00Z' },
    ]);
    assert.deepEqual(skipped.map((s) => s.where), ['line 5', 'line 6']);
    assert.match(skipped[1].reason, /yesterday/);
  });

  it('reads deletions.csv the same way', () => {
    assert.deepEqual(parseRedHatListing(fixture('redhat', 'deletions.csv'), 'deletions.csv').entries.map((e) => e.cve), ['CVE-2023-0030', 'CVE-2019-0001']);
  });

  it('reads the name of the latest full archive, and refuses anything else', () => {
    assert.equal(parseRedHatArchiveLatest(fixture('redhat', 'archive_latest.txt')), 'csaf_vex_2025-01-09.tar.zst');
    assertFeedFormatError(() => parseRedHatArchiveLatest('Not Found\n'), 'redhat', 'archive_latest.txt', /"Not Found"/, /redHatVexUrl/);
    assertFeedFormatError(() => parseRedHatListing(fixture('msrc', 'error-page.html'), 'changes.csv'), 'redhat', 'changes.csv', /web page/);
    assertFeedFormatError(() => parseRedHatListing('Not Found\n', 'changes.csv'), 'redhat', 'changes.csv', /none of its 1 lines is a listing row/);
    assert.deepEqual(parseRedHatListing('', 'changes.csv'), { entries: [], skipped: [] }, 'an empty listing is no change');
  });
});
