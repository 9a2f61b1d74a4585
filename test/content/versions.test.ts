import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  compareDpkg, compareDpkgVersions, compareRpm, compareVendorVersion, compareVersions, compareWindowsBuild, formatDpkgVersion,
  formatEvr, isAtLeast, parseDpkgVersion, parseEvr, parseNevra, parseWindowsBuild, rpmvercmp, versionScheme,
  windowsBuildLine,
} from '../../src/content/versions/index.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/versions');

/** A fixture's data rows: '#' lines are comments, the first other line names the columns. */
function fixture(name: string): string[][] {
  const lines = readFileSync(path.join(FIXTURES, name), 'utf8').split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  const columns = lines[0].split('\t').length;
  const rows = lines.slice(1).map((line) => line.split('\t'));
  for (const row of rows) assert.equal(row.length, columns, `${name}: ${JSON.stringify(row)}`);
  return rows;
}

/** Checks `compare` on `[a, b, expected]` vectors, both ways round. */
function assertVectors(compare: (a: string, b: string) => number | null, vectors: Array<[string, string, number]>): void {
  for (const [a, b, expected] of vectors) {
    assert.equal(compare(a, b), expected, `${a} vs ${b}`);
    assert.equal(compare(b, a), -expected || 0, `${b} vs ${a}`);
  }
}

const asVectors = (rows: string[][]): Array<[string, string, number]> => rows.map(([a, b, expected]) => [a, b, Number(expected)]);

/** Texts no version should look like; every comparison must still answer. */
const ODD_TEXTS = ['', ' ', '\t\n', '\u0000', ':', '::::', '-', '----', '~', '~~~', '^', '^^^', '.', '1.', '.1', 'α', '😀1.2',
  '9'.repeat(400), '1.'.repeat(2000), '0'.repeat(50) + '1', 'pkg:rpm/', '%', '1:', ':1', '1-', '-1', 'a:b-c', 'u', '8u', 'u431', '1.8.0_', 'v', 'V1'];

describe('rpm', () => {
  it('passes the upstream rpmvercmp vectors', () => {
    const rows = fixture('rpmvercmp.tsv');
    assert.ok(rows.length >= 100);
    assertVectors(rpmvercmp, asVectors(rows));
  });

  it('passes the upstream EVR comparisons and parses EVRs as rpm does', () => {
    assertVectors(compareRpm, asVectors(fixture('rpm-evr.tsv')));
    for (const [text, epoch, version, release] of fixture('rpm-evr-parse.tsv')) {
      const result = parseEvr(text);
      assert.ok(result.ok, text);
      assert.deepEqual(result.value, { epoch: epoch === '-' ? null : Number(epoch), version, release: release === '-' ? null : release });
      assert.equal(formatEvr(result.value), text);
    }
  });

  it('orders the rpmvercmp cases that patch-content.md names', () => {
    assertVectors(rpmvercmp, [
      ['2.0.1a', '2.0.1', 1], ['2_0', '2.0', 0], ['1.0a', '1.0aa', -1], ['10b2', '10a1', 1], ['5.5p1', '5.5p10', -1], ['xyz10', 'xyz10.1', -1],
      ['xyz.4', '8', -1], ['4.999.9', '5.0', -1], ['6.0.rc1', '6.0', 1], ['1.0^git1', '1.01', -1], ['1.0~rc1^git1', '1.0~rc1', 1],
      ['1.0^git1~pre', '1.0^git1', -1], ['10.0001', '10.1', 0], ['1.0~rc1', '1.0', -1], ['1.0', '1.0^git1', -1], ['1.0^git1', '1.0.1', -1],
    ]);
  });

  it('compares Defender EVRs by epoch, then version, then release', () => {
    assertVectors(compareRpm, [
      ['1:3.0.7-28.el9_4', '1:3.0.7-27.el9', 1],
      ['3.0.7-28.el9_4', '1:3.0.7-1.el9', -1],
      ['0:3.0.7-28.el9_4', '3.0.7-28.el9_4', 0],
      ['5.14.0-427.13.1.el9_4', '5.14.0-427.42.1.el9_4', -1],
      ['5.14.0-503.11.1.el9_5', '5.14.0-427.42.1.el9_4', 1],
      ['2.9.13-6.el9_4', '2.9.13-6.el9_5', -1],
      ['1:1.0-1', '2.0-1', 1],
      ['10:1-1', '9:99-99', 1],
      ['00001:1.0-1', '1:1.0-1', 0],
      // rpmverCmp: no release sorts before any release; an empty epoch is epoch 0.
      ['1.0', '1.0-1', -1],
      [':1.0-1', '0:1.0-1', 0],
    ]);
  });

  it('reads a fixed version without release as covering all its releases, and nothing else', () => {
    assert.equal(isAtLeast('rpm', '1:3.0.7-28.el9_4', '1:3.0.7'), true);
    assert.equal(isAtLeast('rpm', '1:3.0.7-1.el9', '1:3.0.7'), true);
    assert.equal(isAtLeast('rpm', '1:3.0.6-99.el9', '1:3.0.7'), false);
    assert.equal(isAtLeast('rpm', '3.0.7-28.el9_4', '1:3.0.7'), false);
    assert.equal(isAtLeast('rpm', '1:3.0.7', '1:3.0.7-28.el9_4'), false, 'an installed version without release is not proven fixed');
    assert.equal(isAtLeast('rpm', '1:3.0.7-28.el9_4', '1:3.0.7-28.el9_4'), true);
    assert.equal(isAtLeast('rpm', '1:3.0.7-29.el9_4', '1:3.0.7-28.el9_4'), true);
    assert.equal(isAtLeast('rpm', '1:3.0.7-27.el9_4', '1:3.0.7-28.el9_4'), false);
    assert.equal(isAtLeast('rpm', '1:3.0.8-1.el9', '1:3.0.7-28.el9_4'), true);
  });

  it('refuses EVRs with nothing to compare', () => {
    assert.deepEqual(parseEvr(''), { ok: false, error: 'empty version' });
    assert.equal(parseEvr('1:').ok, false);
    assert.equal(parseEvr('1:-5').ok, false);
    assert.equal(parseEvr('99999999999:1.0-1').ok, false);
    assert.deepEqual(parseEvr('1.0-'), { ok: true, value: { epoch: null, version: '1.0', release: '' }, warning: null });
  });

  it('parses NEVRAs as Red Hat CSAF product ids and yum write them', () => {
    assert.deepEqual(parseNevra('openssl-1:3.0.7-28.el9_4.x86_64'),
      { ok: true, value: { name: 'openssl', epoch: 1, version: '3.0.7', release: '28.el9_4', arch: 'x86_64' }, warning: null });
    const cases: Array<[string, object]> = [
      ['python3-libs-3.9.18-3.el9_4.6.x86_64', { name: 'python3-libs', epoch: null, version: '3.9.18', release: '3.el9_4.6', arch: 'x86_64' }],
      ['1:openssl-3.0.7-28.el9_4.x86_64', { name: 'openssl', epoch: 1, version: '3.0.7', release: '28.el9_4', arch: 'x86_64' }],
      ['openssl-1:3.0.7-28.el9_4.src', { name: 'openssl', epoch: 1, version: '3.0.7', release: '28.el9_4', arch: 'src' }],
      ['openssl-1:3.0.7-28.el9_4', { name: 'openssl', epoch: 1, version: '3.0.7', release: '28.el9_4', arch: null }],
      ['kernel-rt-debug-devel-5.14.0-427.13.1.el9_4.noarch', { name: 'kernel-rt-debug-devel', epoch: null, version: '5.14.0', release: '427.13.1.el9_4', arch: 'noarch' }],
      ['389-ds-base-2.4.5-8.el9_4.aarch64', { name: '389-ds-base', epoch: null, version: '2.4.5', release: '8.el9_4', arch: 'aarch64' }],
    ];
    for (const [text, value] of cases) assert.deepEqual(parseNevra(text), { ok: true, value, warning: null }, text);
  });

  it('parses rpm purls, with the epoch as a qualifier', () => {
    const cases: Array<[string, object]> = [
      ['pkg:rpm/redhat/openssl@3.0.7-28.el9_4?arch=x86_64&epoch=1', { name: 'openssl', epoch: 1, version: '3.0.7', release: '28.el9_4', arch: 'x86_64' }],
      ['pkg:rpm/redhat/openssl@3.0.7-28.el9_4?arch=src', { name: 'openssl', epoch: null, version: '3.0.7', release: '28.el9_4', arch: 'src' }],
      ['pkg:rpm/redhat/libstdc%2B%2B@11.4.1-3.el9?arch=x86_64&repository_id=rhel-9-for-x86_64-baseos-rpms',
        { name: 'libstdc++', epoch: null, version: '11.4.1', release: '3.el9', arch: 'x86_64' }],
      ['pkg:rpm/redhat/openssl@1%3A3.0.7-28.el9_4', { name: 'openssl', epoch: 1, version: '3.0.7', release: '28.el9_4', arch: null }],
      ['PKG:RPM/redhat/openssl@3.0.7-28.el9_4?epoch=0#sub/path', { name: 'openssl', epoch: 0, version: '3.0.7', release: '28.el9_4', arch: null }],
    ];
    for (const [text, value] of cases) assert.deepEqual(parseNevra(text), { ok: true, value, warning: null }, text);
  });

  it('says why a NEVRA or purl is refused', () => {
    for (const text of ['', 'openssl', 'openssl-3.0.7', 'openssl-3.0.7-.x86_64', '-3.0.7-28.el9.x86_64', '1:openssl-1:3.0.7-28.el9_4.x86_64',
      'pkg:rpm/redhat/openssl', 'pkg:rpm/redhat/openssl@', 'pkg:rpm/redhat/openssl@3.0.7-1?epoch=x', 'pkg:rpm/redhat/openssl@1:3.0.7-1?epoch=1',
      'pkg:rpm/redhat/open%E0%A4%A@3.0.7-1', 'pkg:rpm/redhat/openssl@3.0.7-1?arch=%E0%A4', '99999999999:openssl-3.0.7-1.el9.x86_64']) {
      const result = parseNevra(text);
      assert.equal(result.ok, false, text);
      assert.ok(!result.ok && result.error.length > 0);
    }
  });
});

describe('dpkg', () => {
  it('passes the upstream comparison vectors', () => {
    const vectors = asVectors(fixture('dpkg.tsv'));
    assert.ok(vectors.length >= 70);
    assertVectors(compareDpkg, vectors);
    for (const [a, b, expected] of vectors) {
      const x = parseDpkgVersion(a);
      const y = parseDpkgVersion(b);
      assert.ok(x.ok && y.ok, `${a} ${b}`);
      assert.equal(compareDpkgVersions(x.value, y.value), expected, `${a} vs ${b} parsed`);
    }
  });

  it('parses as dpkg does, with its errors and warnings', () => {
    const rows = fixture('dpkg-parse.tsv');
    assert.ok(rows.length >= 80);
    for (const [quoted, outcome, epoch, upstream, revision, message] of rows) {
      const text = JSON.parse(quoted) as string;
      const result = parseDpkgVersion(text);
      if (outcome === 'error') {
        assert.deepEqual(result, { ok: false, error: message }, quoted);
        continue;
      }
      assert.deepEqual(result, { ok: true, value: { epoch: Number(epoch), upstream, revision }, warning: outcome === 'warning' ? message : null }, quoted);
      // The comparison's own split agrees with the parser on everything the parser accepts.
      assert.equal(compareDpkg(text, formatDpkgVersion(result.value)), 0, quoted);
    }
  });

  it('orders Debian and Ubuntu package versions', () => {
    assertVectors(compareDpkg, [
      ['1.0~beta', '1.0', -1],
      ['1.0~beta1', '1.0~beta2', -1],
      ['8.1.2-1ubuntu2.22', '8.1.2-1ubuntu2.3', 1],
      ['1:115.18.0+build1-0ubuntu0.22.04.1', '1:115.18.0+build1-0ubuntu0.22.04.2', -1],
      ['1:115.18.0+build1-0ubuntu0.22.04.1', '128.0+build1-0ubuntu0.22.04.1', 1],
      ['3.0.2-0ubuntu1.18', '3.0.2-0ubuntu1.10', 1],
      ['2.35-0ubuntu3.8', '2.35-0ubuntu3.8+esm1', -1],
      ['1.2.3', '1.2.3-0', 0],
      ['  1.2-1', '1.2-1\t', 0],
    ]);
    assert.equal(compareDpkg('1.0~', '1.0') < 0, true);
  });

  it('compares versions dpkg refuses without throwing, after a lenient split', () => {
    assert.equal(compareDpkg('a:1.0', 'a:1.0'), 0);
    assert.equal(compareDpkg('a:1.0', 'a:2.0'), -1);
    assert.equal(compareDpkg('1.0 beta', '1.0'), 1);
    assert.equal(compareDpkg('99999999999999999999999:1.0', '1:2.0'), 1);
  });
});

describe('Windows builds', () => {
  it('parses major.minor.build.UBR and names the build line', () => {
    assert.deepEqual(parseWindowsBuild('10.0.22631.4890'), { ok: true, value: { major: 10, minor: 0, build: 22631, ubr: 4890 }, warning: null });
    assert.deepEqual(parseWindowsBuild(' 10.0.17763 '), { ok: true, value: { major: 10, minor: 0, build: 17763, ubr: 0 }, warning: null });
    for (const text of ['', '10', '10.0', '10.0.22631.4890.1', '10.0.22631.', '10..22631.1', '10.0.22631.4890a', '10.0.x.1', '1234567890.0.1.1']) {
      assert.equal(parseWindowsBuild(text).ok, false, text);
      assert.equal(windowsBuildLine(text), null, text);
    }
    assert.equal(windowsBuildLine('10.0.22631.4890'), '10.0.22631');
    assert.equal(windowsBuildLine('10.0.026100.3194'), '10.0.26100');
  });

  it('orders builds of one line by UBR and refuses to compare across lines', () => {
    assertVectors(compareWindowsBuild, [
      ['10.0.22631.4890', '10.0.22631.4751', 1],
      ['10.0.22631.4890', '10.0.22631.4890', 0],
      ['10.0.17763.2803', '10.0.17763.10000', -1],
      ['10.0.22631.04890', '10.0.22631.4890', 0],
      ['10.0.22631', '10.0.22631.1', -1],
      ['10.0.22631', '10.0.22631.0', 0],
    ]);
    assert.equal(compareWindowsBuild('10.0.22631.4890', '10.0.26100.100'), null);
    assert.equal(compareWindowsBuild('10.0.19045.5371', '10.0.19044.5371'), null);
    assert.equal(compareWindowsBuild('6.3.9600.1', '10.0.9600.1'), null);
    assert.equal(compareWindowsBuild('10.0.22631.4890', 'Release Notes'), null);
  });
});

describe('vendor versions', () => {
  it('compares dotted versions numerically per field, with missing fields as zeros', () => {
    assertVectors(compareVendorVersion, [
      ['131.0.6778.86', '131.0.6778.108', -1],
      ['131.0.6778.86', '131.0.6778.86', 0],
      ['132.0.6834.83', '131.0.6778.265', 1],
      ['24.005.20320', '24.5.20320', 0],
      ['24.005.20320', '24.004.20272', 1],
      ['24.005.20320', '24.005.20399', -1],
      ['6.3.0.52884', '6.3.0.52883', 1],
      ['6.3.0.52884', '6.3.1', -1],
      ['6.3.0 (52884)', '6.3.0.52884', 0],
      ['133.0', '133.0.0', 0],
      ['133.0.3', '133.0', 1],
      ['133.0.0.0.0', '133', 0],
      ['17.0.13', '17.0.9', 1],
      ['v1.2.3', '1.2.3', 0],
      ['1.2.3', '1.2.10', -1],
    ]);
  });

  it('reads 7-Zip minor versions as the numbers they are: 24.09 is 24.9, so 24.1 (24.01) is older', () => {
    assertVectors(compareVendorVersion, [
      ['24.09', '24.1', 1],
      ['24.09', '24.9', 0],
      ['24.09', '24.08', 1],
      ['24.09', '24.10', -1],
      ['24.09', '25.00', -1],
      ['24.09', '24.09.00.0', 0],
      ['9.20', '16.02', -1],
    ]);
  });

  it('treats Java 8 update spellings as one release', () => {
    assertVectors(compareVendorVersion, [
      ['8u431', '1.8.0_431', 0],
      ['8u431', '1.8.0.431', 0],
      ['1.8.0_431-b10', '8u431', 0],
      ['8u431-b10', '1.8.0_431', 0],
      ['8u431', '8u421', 1],
      ['8u431', '1.8.0_441', -1],
      ['8u431', '17.0.13', -1],
      ['7u80', '8u20', -1],
      ['1.8.0_431', '11.0.25', -1],
    ]);
  });

  it('puts pre-release words before the release and other letters after it', () => {
    assertVectors(compareVendorVersion, [
      ['8.7p1', '8.7', 1],
      ['8.7p1', '8.8', -1],
      ['8.7p1', '8.7p2', -1],
      ['9.9p1', '9.10p1', -1],
      ['1.1.1w', '1.1.1', 1],
      ['1.1.1w', '1.1.1v', 1],
      ['1.1.1w', '1.1.2', -1],
      ['3.13.0rc1', '3.13.0', -1],
      ['3.13.0rc1', '3.13.0rc2', -1],
      ['3.13.0b2', '3.13.0rc1', -1],
      ['3.13.0a1', '3.13.0b1', -1],
      ['3.13.0a1', '3.13.0alpha1', 0],
      ['133.0b9', '133.0', -1],
      ['133.0b9', '132.0.2', 1],
      ['1.0-RC1', '1.0-rc1', 0],
      ['2.0.0-beta.1', '2.0.0', -1],
      ['2.0.0-dev', '2.0.0-alpha', -1],
      ['2.0.0-preview1', '2.0.0-rc1', -1],
    ]);
  });

  it('is a total order on a mixed set of real versions', () => {
    const versions = ['131.0.6778.86', '131.0.6778.108', '131.0', '131', '24.005.20320', '24.5', '24.09', '24.1', '24.10', '8u431', '1.8.0_421',
      '1.8.0.441', '17.0.13', '8.7p1', '8.7', '8.8', '1.1.1w', '1.1.1', '1.1.2', '3.13.0rc1', '3.13.0', '3.13.0a1', '133.0b9', '133.0.3', '133.0',
      '6.3.0.52884', '1.0a', '1.0', '1.0.0', '1.0esr', 'v1.0', '1.0-rc1', '1.0.1', '0', '', 'abc', 'abd', '2.0-dev'];
    for (const a of versions) {
      for (const b of versions) {
        const ab = compareVendorVersion(a, b);
        assert.equal(compareVendorVersion(b, a), -ab || 0, `${a} ${b}`);
        for (const c of versions) {
          if (ab <= 0 && compareVendorVersion(b, c) <= 0) assert.ok(compareVendorVersion(a, c) <= 0, `${a} <= ${b} <= ${c}`);
        }
      }
    }
  });
});

describe('version schemes', () => {
  it('picks the comparison from Defender vendor and product', () => {
    assert.equal(versionScheme('red_hat', 'openssl'), 'rpm');
    assert.equal(versionScheme('ubuntu', 'thunderbird'), 'dpkg');
    assert.equal(versionScheme('debian', 'openssl'), 'dpkg');
    assert.equal(versionScheme('microsoft', 'windows_11'), 'windows_build');
    assert.equal(versionScheme('microsoft', 'windows_server_2022'), 'windows_build');
    assert.equal(versionScheme('microsoft', 'windows_terminal'), 'vendor');
    assert.equal(versionScheme('microsoft', 'edge'), 'vendor');
    assert.equal(versionScheme('google', 'chrome'), 'vendor');
    assert.equal(versionScheme('oracle', 'jre'), 'vendor');
  });

  it('compares and answers "installed at least fixed" by scheme', () => {
    assert.equal(compareVersions('rpm', '1:3.0.7-28.el9_4', '1:3.0.7-27.el9'), 1);
    assert.equal(compareVersions('dpkg', '1.0~beta', '1.0'), -1);
    assert.equal(compareVersions('windows_build', '10.0.22631.4890', '10.0.22631.4751'), 1);
    assert.equal(compareVersions('windows_build', '10.0.22631.4890', '10.0.26100.1'), null);
    assert.equal(compareVersions('vendor', '131.0.6778.86', '131.0.6778.108'), -1);
    // The same pair reads differently by scheme: rpm's ~ sorts first, vendor versions skip it.
    assert.equal(compareVersions('rpm', '1.0~rc1', '1.0'), -1);
    assert.equal(compareVersions('vendor', '1.0~1', '1.0'), 1);

    assert.equal(isAtLeast('rpm', '1:3.0.7-28.el9_4', '1:3.0.7'), true);
    assert.equal(isAtLeast('rpm', '1:3.0.7', '1:3.0.7-28.el9_4'), false);
    assert.equal(isAtLeast('dpkg', '3.0.2-0ubuntu1.18', '3.0.2-0ubuntu1.10'), true);
    assert.equal(isAtLeast('dpkg', '3.0.2', '3.0.2-0ubuntu1.10'), false);
    assert.equal(isAtLeast('windows_build', '10.0.22631.4890', '10.0.22631.4890'), true);
    assert.equal(isAtLeast('windows_build', '10.0.22631.4751', '10.0.22631.4890'), false);
    assert.equal(isAtLeast('windows_build', '10.0.26100.4890', '10.0.22631.4890'), null);
    assert.equal(isAtLeast('vendor', '131.0.6778.108', '131.0.6778.86'), true);
    assert.equal(isAtLeast('vendor', '8u421', '1.8.0_431'), false);
  });

  it('never throws on odd input, and each order stays antisymmetric on it', () => {
    const comparators = { rpmvercmp, compareRpm, compareDpkg, compareVendorVersion, compareWindowsBuild };
    for (const [name, compare] of Object.entries(comparators)) {
      for (const a of ODD_TEXTS) {
        for (const b of ODD_TEXTS) {
          const ab = compare(a, b);
          assert.equal(compare(b, a), ab === null ? null : -ab || 0, `${name}(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
        }
      }
    }
    for (const text of ODD_TEXTS) {
      for (const parse of [parseEvr, parseNevra, parseDpkgVersion, parseWindowsBuild]) {
        const result = parse(text);
        assert.equal(typeof result.ok, 'boolean');
      }
    }
  });
});
