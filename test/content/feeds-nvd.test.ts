import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FeedFormatError } from '../../src/content/feeds/document.js';
import { cpeProductKey, defenderCpeKeys, nvdModifiedWindows, nvdNextPage, nvdTimestamp, parseCpe23, parseNvdPage } from '../../src/content/feeds/nvd.js';
import type { NvdPage, NvdProductRanges } from '../../src/content/feeds/types.js';
import { assertFeedFormatError, fixture } from './feed-fixtures.js';

describe('NVD CVE API 2.0: one response page', () => {
  const result = parseNvdPage(fixture('nvd', 'cves-page-0.json'), 'startIndex=0');
  const product = (cve: string, vendor: string, name: string): NvdProductRanges => {
    const found = result.products.find((p) => p.cve === cve && p.vendor === vendor && p.product === name);
    assert.ok(found, `${cve} ${vendor}:${name}`);
    return found;
  };

  it('reads the paging fields', () => {
    assert.deepEqual(result.page, { startIndex: 0, resultsPerPage: 7, totalResults: 16, returned: 7, timestamp: '2025-01-15T09:12:44Z' });
  });

  it('reads each CVE: dates, status, English description, and NVD\'s own CVSS over a secondary one', () => {
    assert.deepEqual(result.cves.map((c) => c.cve), ['CVE-2024-12053', 'CVE-2024-21147', 'CVE-2024-7254', 'CVE-2025-0411', 'CVE-2025-0434', 'CVE-2024-99999']);
    assert.deepEqual(result.cves[0], {
      cve: 'CVE-2024-12053', published: '2024-12-03T22:15:05Z', lastModified: '2024-12-05T17:02:11Z', vulnStatus: 'Analyzed',
      description: 'Type Confusion in V8 in Google Chrome prior to 131.0.6778.108 allowed a remote attacker to potentially perform out of bounds memory access via a crafted HTML page.',
      cvssV31: { baseScore: 8.8, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H', severity: 'HIGH' },
      cvssV40: null,
      fixedVersionNotYetKnown: false,
    });
    assert.equal(result.cves[1].cvssV31?.baseScore, 7.4, 'with no primary score the secondary one is taken');
  });

  it('marks CVEs NVD has not analysed yet as "fixed version not yet known", not as "no fix"', () => {
    assert.deepEqual(result.cves.filter((c) => c.fixedVersionNotYetKnown).map((c) => [c.cve, c.vulnStatus]), [
      ['CVE-2025-0411', 'Awaiting Analysis'], ['CVE-2025-0434', 'Received'],
    ]);
    assert.ok(!result.products.some((p) => p.cve === 'CVE-2025-0411' || p.cve === 'CVE-2024-99999'));
  });

  it('gives the first fixed version from versionEndExcluding, with the platforms the configuration requires', () => {
    assert.deepEqual(product('CVE-2024-12053', 'google', 'chrome'), {
      cve: 'CVE-2024-12053', part: 'a', vendor: 'google', product: 'chrome',
      ranges: [{
        criteria: 'cpe:2.3:a:google:chrome:*:*:*:*:*:*:*:*', matchCriteriaId: '9C4D3F7A-0000-4000-8000-000000000001',
        version: null, update: null, targetSw: null, startIncluding: null, startExcluding: null, endIncluding: null,
        endExcluding: '131.0.6778.108', fixedVersion: '131.0.6778.108',
        runningOn: ['cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*', 'cpe:2.3:o:apple:macos:-:*:*:*:*:*:*:*', 'cpe:2.3:o:linux:linux_kernel:-:*:*:*:*:*:*:*'],
      }],
      fixedVersions: ['131.0.6778.108'],
      fixNamed: true,
    });
  });

  it('names no fix for versionEndIncluding or exact vulnerable versions', () => {
    const zoom = product('CVE-2024-7254', 'zoom', 'zoom');
    assert.equal(zoom.ranges[0].endIncluding, '6.2.11');
    assert.equal(zoom.ranges[0].fixedVersion, null);
    assert.deepEqual(zoom.fixedVersions, []);
    assert.equal(zoom.fixNamed, false);
    const javaSe = product('CVE-2024-21147', 'oracle', 'java_se');
    assert.deepEqual(javaSe.ranges.map((r) => [r.version, r.update]), [['1.8.0', 'update411'], ['17.0.11', null]]);
    assert.equal(javaSe.fixNamed, false);
    const jdk = product('CVE-2024-21147', 'oracle', 'jdk');
    assert.deepEqual(jdk.ranges.map((r) => [r.startIncluding, r.endIncluding, r.fixedVersion]), [['21', '21.0.3', null], ['22', null, '22.0.2']]);
    assert.deepEqual(jdk.fixedVersions, ['22.0.2']);
    assert.equal(jdk.fixNamed, false, 'the 21 branch names no fix');
  });

  it('unescapes CPE values and lists each fixed version once', () => {
    const notepad = product('CVE-2024-7254', 'notepad-plus-plus', 'notepad++');
    assert.deepEqual(notepad.fixedVersions, ['8.6.9']);
    const sevenZip = product('CVE-2024-7254', '7-zip', '7-zip');
    assert.deepEqual(sevenZip.ranges.map((r) => [r.startIncluding, r.targetSw, r.fixedVersion]), [['9.20', null, '24.07'], [null, 'windows', '24.07']]);
    assert.deepEqual(sevenZip.fixedVersions, ['24.07']);
  });

  it('reports unreadable criteria, negated nodes and CVE-less items', () => {
    assert.deepEqual(result.skipped, [
      { where: 'CVE-2024-7254 configuration 1 node 1 match 4', reason: 'criteria "cpe:2.3:a:broken" is not a CPE 2.3 name with a part, vendor and product' },
      { where: 'CVE-2024-7254 configuration 3 node 1', reason: 'a negated node is not interpreted' },
      { where: 'vulnerability 7', reason: 'no cve.id' },
    ]);
    assert.ok(!result.products.some((p) => p.vendor === 'example'));
  });

  it('joins Defender\'s vendor/product names to the CPE products of the page', () => {
    const keys = new Set(result.products.map((p) => cpeProductKey(p.vendor, p.product)));
    for (const [vendor, name] of [['google', 'chrome'], ['7-zip', '7-zip'], ['notepad-plus-plus', 'notepad++'], ['oracle', 'jdk'], ['oracle', 'jre']]) {
      assert.ok(defenderCpeKeys(vendor, name).some((k) => keys.has(k)), `${vendor}/${name}`);
    }
  });

  it('refuses a truncated page, an error page and other documents', () => {
    assertFeedFormatError(() => parseNvdPage(fixture('nvd', 'cves-page-0.truncated.json'), 'startIndex=0'), 'nvd', 'startIndex=0', /^NVD CVE API document startIndex=0: /, /cut short/);
    assertFeedFormatError(() => parseNvdPage(fixture('nvd', 'rate-limited.html'), 'startIndex=0'), 'nvd', 'startIndex=0', /web page/, /nvdUrl/);
    assertFeedFormatError(() => parseNvdPage(fixture('ubuntu', 'USN-7264-1.json'), 'startIndex=0'), 'nvd', 'startIndex=0', /not a document of the NVD CVE API feed/, /totalResults/);
  });
});

describe('CPE 2.3 names', () => {
  it('splits on unquoted colons and unescapes quoted characters', () => {
    assert.deepEqual(parseCpe23('cpe:2.3:a:notepad-plus-plus:notepad\\+\\+:8.6\\:beta:*:*:*:*:windows:x64:-'), {
      part: 'a', vendor: 'notepad-plus-plus', product: 'notepad++', version: '8.6:beta', update: null, edition: null,
      language: null, swEdition: null, targetSw: 'windows', targetHw: 'x64', other: '',
    });
  });

  it('tells ANY and NA from quoted asterisks and hyphens', () => {
    const cpe = parseCpe23('cpe:2.3:a:vendor:product:\\*:\\-:*:-:*:*:*:*');
    assert.equal(cpe?.version, '*');
    assert.equal(cpe?.update, '-');
    assert.equal(cpe?.edition, null);
    assert.equal(cpe?.language, '');
  });

  it('refuses what is not a 13-field 2.3 string', () => {
    for (const text of ['cpe:2.3:a:google:chrome', 'cpe:/a:google:chrome:131.0', 'cpe:2.2:a:b:c:d:e:f:g:h:i:j:k', 'cpe:2.3:a:b:c:d:e:f:g:h:i:j:k\\', 'cpe:2.3:a:b:c:d:e:f:g:h:i:j:k:l']) {
      assert.equal(parseCpe23(text), null, text);
    }
  });
});

describe('Defender to CPE names', () => {
  it('joins directly where Defender follows CPE, through aliases where it does not', () => {
    assert.deepEqual(defenderCpeKeys('google', 'chrome'), ['google:chrome']);
    assert.deepEqual(defenderCpeKeys('7-zip', '7-zip'), ['7-zip:7-zip']);
    assert.deepEqual(defenderCpeKeys('mozilla', 'firefox_esr'), ['mozilla:firefox_esr']);
    assert.deepEqual(defenderCpeKeys('notepad-plus-plus', 'notepad++'), ['notepad-plus-plus:notepad++']);
    assert.deepEqual(defenderCpeKeys('microsoft', 'edge_chromium-based'), ['microsoft:edge_chromium']);
    assert.deepEqual(defenderCpeKeys('Microsoft', 'Edge_Chromium-Based'), ['microsoft:edge_chromium']);
    assert.deepEqual(defenderCpeKeys('oracle', 'jre'), ['oracle:jre', 'oracle:java_se']);
    assert.deepEqual(defenderCpeKeys('oracle', 'jdk'), ['oracle:jdk', 'oracle:java_se']);
  });
});

describe('NVD paging', () => {
  const page = (startIndex: number, returned: number, totalResults: number, resultsPerPage = 2000): NvdPage =>
    ({ startIndex, returned, totalResults, resultsPerPage, timestamp: null });

  it('continues after the CVEs this page returned', () => {
    assert.deepEqual(nvdNextPage(parseNvdPage(fixture('nvd', 'cves-page-0.json'), 'p').page), { nextStartIndex: 7, pagesLeft: 2 });
    assert.deepEqual(nvdNextPage(page(0, 2000, 10000)), { nextStartIndex: 2000, pagesLeft: 4 });
    assert.deepEqual(nvdNextPage(page(2000, 1500, 10000)), { nextStartIndex: 3500, pagesLeft: 4 }, 'a short page does not skip CVEs');
    assert.deepEqual(nvdNextPage(page(0, 500, 10000), 500), { nextStartIndex: 500, pagesLeft: 19 });
  });

  it('stops after the last page', () => {
    assert.deepEqual(nvdNextPage(page(8000, 2000, 10000)), { nextStartIndex: null, pagesLeft: 0 });
    assert.deepEqual(nvdNextPage(page(0, 0, 0)), { nextStartIndex: null, pagesLeft: 0 });
  });

  it('refuses an empty page before the end rather than ask for it again forever', () => {
    assert.throws(() => nvdNextPage(page(4000, 0, 10000)), (e: unknown) => e instanceof FeedFormatError && /holds no CVEs although 10000 match/.test(e.message));
  });
});

describe('NVD incremental windows', () => {
  it('writes dates the way NVD accepts them: milliseconds and an explicit offset', () => {
    assert.equal(nvdTimestamp(new Date('2025-07-22T07:18:39.324Z')), '2025-07-22T07:18:39.324+00:00');
  });

  it('splits a long span into consecutive windows of at most 120 days', () => {
    const windows = nvdModifiedWindows(new Date('2024-01-01T00:00:00Z'), new Date('2024-09-01T00:00:00Z'));
    assert.deepEqual(windows, [
      { lastModStartDate: '2024-01-01T00:00:00.000+00:00', lastModEndDate: '2024-04-30T00:00:00.000+00:00' },
      { lastModStartDate: '2024-04-30T00:00:00.000+00:00', lastModEndDate: '2024-08-28T00:00:00.000+00:00' },
      { lastModStartDate: '2024-08-28T00:00:00.000+00:00', lastModEndDate: '2024-09-01T00:00:00.000+00:00' },
    ]);
    for (const w of windows) assert.ok(Date.parse(w.lastModEndDate) - Date.parse(w.lastModStartDate) <= 120 * 86_400_000);
  });

  it('gives one window for a short span, none for an empty one, and honours a smaller limit', () => {
    assert.equal(nvdModifiedWindows(new Date('2025-01-01T00:00:00Z'), new Date('2025-05-01T00:00:00Z')).length, 1, 'exactly 120 days');
    assert.deepEqual(nvdModifiedWindows(new Date('2025-01-01T00:00:00Z'), new Date('2025-01-01T00:00:00Z')), []);
    assert.equal(nvdModifiedWindows(new Date('2025-01-01T00:00:00Z'), new Date('2025-01-11T00:00:00Z'), 3).length, 4);
    assert.throws(() => nvdModifiedWindows(new Date('nope'), new Date()), RangeError);
    assert.throws(() => nvdModifiedWindows(new Date(), new Date(), 0), RangeError);
  });
});
