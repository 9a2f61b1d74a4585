import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMsrcCvrf, parseMsrcUpdates, parseSupercedence } from '../../src/content/feeds/msrc-cvrf.js';
import type { MsrcVulnerability } from '../../src/content/feeds/types.js';
import { assertFeedFormatError, fixture } from './feed-fixtures.js';

const W11_X64 = '12243';
const W11_ARM = '12242';
const S2019 = '11571';
const S2019_CORE = '11572';
const S2022 = '11923';
const S2022_CORE = '11924';
const W10 = '11569';

describe('MSRC CVRF: the updates listing', () => {
  it('reads each monthly document with its dates and URL, and reports entries it cannot use', () => {
    const { updates, skipped } = parseMsrcUpdates(fixture('msrc', 'updates.json'));
    assert.deepEqual(updates.map((u) => u.id), ['2024-Feb', '2024-Mar', '2024-Apr']);
    assert.deepEqual(updates[1], {
      id: '2024-Mar', alias: '2024-Mar', title: 'March 2024 Security Updates', severity: null,
      initialReleaseDate: '2024-03-12T07:00:00Z', currentReleaseDate: '2024-03-27T07:00:00Z',
      cvrfUrl: 'https://api.msrc.microsoft.com/cvrf/v3.0/cvrf/2024-Mar',
    });
    assert.equal(updates[2].currentReleaseDate, null);
    assert.deepEqual(skipped, [
      { where: 'update 2024-Apr CurrentReleaseDate', reason: 'unreadable date "not a date"' },
      { where: 'update 4', reason: 'no ID: {"Alias":"orphan","DocumentTitle":"An entry without an ID"}' },
    ]);
  });

  it('refuses a document that is not the listing', () => {
    assertFeedFormatError(() => parseMsrcUpdates(fixture('msrc', '2024-Mar.json')), 'msrc', 'updates', /not a document of the MSRC CVRF feed/, /no "value" list/, /msrcCvrfUrl/);
    assertFeedFormatError(() => parseMsrcUpdates(fixture('msrc', 'error-page.html'), 'updates?$filter'), 'msrc', 'updates?$filter', /web page \(HTML\)/);
  });
});

describe('MSRC CVRF: a monthly document', () => {
  const result = parseMsrcCvrf(fixture('msrc', '2024-Mar.json'), '2024-Mar');
  const vulnerability = (cve: string): MsrcVulnerability => {
    const found = result.vulnerabilities.find((v) => v.cve === cve);
    assert.ok(found, cve);
    return found;
  };

  it('reads the document id and dates (zone-less times are UTC)', () => {
    assert.deepEqual(result.document, {
      id: '2024-Mar', title: 'March 2024 Security Updates', initialReleaseDate: '2024-03-12T07:00:00Z', currentReleaseDate: '2024-03-27T07:00:00Z',
    });
  });

  it('maps product ids to names, with the family branch each is listed under', () => {
    assert.equal(result.products.length, 10);
    assert.deepEqual(result.products.find((p) => p.productId === W11_X64), { productId: W11_X64, name: 'Windows 11 Version 23H2 for x64-based Systems', family: 'Windows' });
    assert.deepEqual(result.products.find((p) => p.productId === '11655'), { productId: '11655', name: 'Microsoft Edge (Chromium-based)', family: 'Browser' });
    assert.equal(result.products.find((p) => p.productId === '11951-11571')?.family, 'Developer Tools');
  });

  it('reads title, affected products, severity and impact per product, exploit status and CVSS', () => {
    const v = vulnerability('CVE-2024-21407');
    assert.equal(v.title, 'Windows Hyper-V Remote Code Execution Vulnerability');
    assert.deepEqual(v.knownAffected, [W10, S2019, S2019_CORE, S2022, W11_X64, W11_ARM]);
    assert.deepEqual(v.severity, [
      { value: 'Critical', productIds: [W10, S2019, S2019_CORE, S2022, W11_X64] },
      { value: 'Important', productIds: [W11_ARM] },
    ]);
    assert.deepEqual(v.impact, [{ value: 'Remote Code Execution', productIds: [W10, S2019, S2019_CORE, S2022, W11_X64, W11_ARM] }]);
    assert.deepEqual(v.exploitStatus, {
      publiclyDisclosed: false, exploited: false, latestSoftwareRelease: 'Exploitation Less Likely',
      olderSoftwareRelease: 'Exploitation Less Likely', denialOfService: 'N/A',
    });
    assert.deepEqual(v.cvss, [{
      baseScore: 8.1, temporalScore: 7.1, vector: 'CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:C/C:H/I:H/A:H/E:U/RL:O/RC:C',
      productIds: [W10, S2019, S2019_CORE, S2022, W11_X64, W11_ARM],
    }]);
  });

  it('takes the last exploit status, as Microsoft\'s module does, keeping the parts it understands', () => {
    assert.deepEqual(vulnerability('CVE-2024-21433').exploitStatus, {
      publiclyDisclosed: null, exploited: true, latestSoftwareRelease: null, olderSoftwareRelease: null, denialOfService: 'N/A',
    });
    assert.deepEqual(vulnerability('CVE-2024-2173').exploitStatus, {
      publiclyDisclosed: false, exploited: false, latestSoftwareRelease: 'Exploitation More Likely', olderSoftwareRelease: null, denialOfService: null,
    });
  });

  it('reads every field of a remediation, by its numeric type', () => {
    const [cumulative, , , knownIssue, releaseNotes, workaround] = vulnerability('CVE-2024-21407').remediations;
    assert.deepEqual(cumulative, {
      kind: 'vendor_fix', subType: 'Security Update', kb: '5035849', description: '5035849',
      url: 'https://catalog.update.microsoft.com/v7/site/Search.aspx?q=KB5035849', productIds: [W10, S2019, S2019_CORE],
      fixedBuild: '10.0.17763.5576', restartRequired: 'Yes', supersedes: [{ kb: '5034768', bulletin: null }], supersedenceText: '5034768',
    });
    assert.equal(knownIssue.kind, 'known_issue');
    assert.equal(knownIssue.kb, '5035853');
    assert.equal(releaseNotes.kind, 'release_notes');
    assert.equal(releaseNotes.subType, '5035853');
    assert.equal(releaseNotes.kb, null);
    assert.equal(workaround.kind, 'workaround');
    assert.equal(workaround.description, 'Use the Hyper-V isolation settings described in the FAQ.');
  });

  it('lists one vendor fix per CVE and product, with KB, fixed build, subtype and restart', () => {
    const fixes = result.fixes.filter((f) => f.cve === 'CVE-2024-21407');
    assert.deepEqual(fixes.map((f) => `${f.productId}:${f.kb}:${f.fixedBuild}`), [
      `${W10}:5035849:10.0.17763.5576`, `${S2019}:5035849:10.0.17763.5576`, `${S2019_CORE}:5035849:10.0.17763.5576`,
      `${S2022}:5035857:10.0.20348.2340`, `${S2022_CORE}:5035857:10.0.20348.2340`,
      `${W11_X64}:5035853:10.0.22631.3296`, `${W11_ARM}:5035853:10.0.22631.3296`,
    ], 'known issues, release notes and workarounds are not fixes');
    assert.deepEqual(result.fixes.find((f) => f.cve === 'CVE-2024-21407' && f.productId === W11_X64), {
      cve: 'CVE-2024-21407', productId: W11_X64, kb: '5035853', fixedBuild: '10.0.22631.3296', subType: 'Security Update',
      url: 'https://catalog.update.microsoft.com/v7/site/Search.aspx?q=KB5035853', restartRequired: 'Yes',
    });
  });

  it('keeps products fixed by version: no KB, the version as fixed build', () => {
    assert.deepEqual(result.fixes.filter((f) => f.cve === 'CVE-2024-2173'), [{
      cve: 'CVE-2024-2173', productId: '11655', kb: null, fixedBuild: '122.0.2365.92', subType: 'Security Update', url: null, restartRequired: 'No',
    }]);
    const clickToRun = result.fixes.find((f) => f.cve === 'CVE-2024-21392' && f.kb === null);
    assert.equal(clickToRun?.fixedBuild, null, 'a link in FixedBuild is not a build');
    assert.equal(clickToRun?.url, 'https://aka.ms/OfficeSecurityReleases');
    assert.equal(result.fixes.find((f) => f.cve === 'CVE-2024-21392' && f.productId === '11762' && f.kb !== null)?.kb, '891716', 'six-digit KBs are KBs');
  });

  it('builds supersedence edges per product id from the messy Supercedence texts', () => {
    const edges = result.supersedence.map((e) => `${e.productId} ${e.kb}>${e.supersededKb}${e.supersededBulletin ? ` (${e.supersededBulletin})` : ''}`);
    assert.deepEqual(edges, [
      `${W10} 5035849>5034768`, `${S2019} 5035849>5034768`, `${S2019_CORE} 5035849>5034768`,
      `${S2022} 5035857>5034770`, `${S2022_CORE} 5035857>5034770`, `${S2022} 5035857>5034129`, `${S2022_CORE} 5035857>5034129`,
      `${W11_X64} 5035853>5034765`, `${W11_ARM} 5035853>5034765`,
      `${S2019} 4088875>4075199`, `${S2019} 4088875>4077525`,
      `${S2019} 4022179>4018392`, `${S2019} 4022179>4018309`,
      `${S2022} 4011586>4011590`, `${S2022} 4011586>4011591`,
      `${S2019} 3191828>3124280 (MS16-016)`, `${S2019} 3191828>3178034 (MS16-097)`,
      `${S2022} 5013941>5013868`,
      `11951-11571 5034612>5033904`,
      `11762 891716>982666`,
    ]);
  });

  it('reports everything it could not understand, with where it was', () => {
    assert.deepEqual(result.skipped, [
      { where: 'product tree FullProductName 11', reason: 'a product without ProductID: {"Value":"A product without an id"}' },
      { where: 'CVE-2024-21433 threat 4', reason: 'exploit status "Publicly Disclosed:Maybe" is neither Yes nor No' },
      { where: 'CVE-2024-21433 threat 4', reason: 'unknown exploit status part "Patch Age:Old"' },
      { where: 'CVE-2024-21433 remediation 5', reason: 'Supercedence "5013868, 50185": "50185" is neither a KB number nor a bulletin id' },
      { where: 'CVE-2024-21433 remediation 8', reason: 'Supercedence "20.0.1": "20.0.1" is neither a KB number nor a bulletin id' },
      { where: 'CVE-2024-21433 remediation 10', reason: 'Description "15498768" is not a KB number (KB numbers have 6 or 7 digits)' },
      { where: 'CVE-2024-21433 remediation 11', reason: 'unknown remediation type 9' },
      { where: 'CVE-2024-2173 threat 2', reason: 'a threat without a description' },
      { where: 'CVE-2024-2173 threat 3', reason: 'unknown threat type 7' },
      { where: 'CVE-2024-21392 remediation 3', reason: 'FixedBuild "https://aka.ms/OfficeSecurityReleases" is a link, not a build or version' },
      { where: 'vulnerability 5', reason: 'no CVE id' },
      { where: 'CVE-2024-21433 remediation 9', reason: "Supercedence names the remediation's own KB 5035854" },
      { where: 'CVE-2024-2173 remediation 1', reason: 'Supercedence "5120418" on a remediation without a KB number ("Release Notes"): no edge' },
    ]);
    assert.equal(vulnerability('CVE-2024-21433').remediations.length, 10, 'the remediation of unknown type is left out, the others kept');
  });

  it('reads text and bytes alike, with or without a byte order mark', () => {
    const bytes = fixture('msrc', '2024-Mar.json');
    assert.deepEqual(parseMsrcCvrf(`\ufeff${bytes.toString('utf8')}`, '2024-Mar'), result);
    assert.deepEqual(parseMsrcCvrf(new Uint8Array(bytes), '2024-Mar'), result);
  });

  it('refuses a truncated download, an error page, XML and other documents, saying what to do', () => {
    assertFeedFormatError(() => parseMsrcCvrf(fixture('msrc', '2024-Mar.truncated.json'), '2024-Mar'), 'msrc', '2024-Mar',
      /^MSRC CVRF document 2024-Mar: /, /ends before its JSON is complete/, /cut short/, /Download it again/, /previous import is kept/);
    assertFeedFormatError(() => parseMsrcCvrf(fixture('msrc', 'error-page.html'), '2024-Mar'), 'msrc', '2024-Mar', /web page \(HTML\)/, /msrcCvrfUrl/);
    assertFeedFormatError(() => parseMsrcCvrf('<?xml version="1.0"?><cvrf:cvrfdoc/>', '2024-Mar'), 'msrc', '2024-Mar', /XML, not JSON/, /Accept: application\/json/);
    assertFeedFormatError(() => parseMsrcCvrf(fixture('msrc', 'updates.json'), '2024-Mar'), 'msrc', '2024-Mar', /not a document of the MSRC CVRF feed/, /neither DocumentTracking nor Vulnerability/);
    assertFeedFormatError(() => parseMsrcCvrf('  \n', '2024-Mar'), 'msrc', '2024-Mar', /empty/);
  });
});

describe('MSRC Supercedence text', () => {
  const kbs = (kb: string[]) => kb.map((k) => ({ kb: k, bulletin: null }));
  const cases: [string, ReturnType<typeof parseSupercedence>][] = [
    ['5034768', { supersedes: kbs(['5034768']), unreadable: [] }],
    ['', { supersedes: [], unreadable: [] }],
    ['None', { supersedes: [], unreadable: [] }],
    [' 4103729 \n', { supersedes: kbs(['4103729']), unreadable: [] }],
    ['4499408; 4503867', { supersedes: kbs(['4499408', '4503867']), unreadable: [] }],
    ['4088875, 4100480', { supersedes: kbs(['4088875', '4100480']), unreadable: [] }],
    ['4019114, 4035038, 4014983', { supersedes: kbs(['4019114', '4035038', '4014983']), unreadable: [] }],
    ['3118389<br><br>4022173', { supersedes: kbs(['3118389', '4022173']), unreadable: [] }],
    ['3118389&lt;br&gt;&lt;br&gt;4022173', { supersedes: kbs(['3118389', '4022173']), unreadable: [] }],
    ['4011586<BR/>4011587<Br />4011586', { supersedes: kbs(['4011586', '4011587']), unreadable: [] }],
    ['KB5034441', { supersedes: kbs(['5034441']), unreadable: [] }],
    ['982666', { supersedes: kbs(['982666']), unreadable: [] }],
    ['MS16-110, 3187754', { supersedes: [{ kb: '3187754', bulletin: 'MS16-110' }], unreadable: [] }],
    ['MS16-016, 3124280; MS16-097, 3178034;', { supersedes: [{ kb: '3124280', bulletin: 'MS16-016' }, { kb: '3178034', bulletin: 'MS16-097' }], unreadable: [] }],
    ['MS16-099', { supersedes: [{ kb: null, bulletin: 'MS16-099' }], unreadable: [] }],
    ['5013868, 50185', { supersedes: kbs(['5013868']), unreadable: ['50185'] }],
    ['20.0.1', { supersedes: [], unreadable: ['20.0.1'] }],
    ['see KB5034441', { supersedes: kbs(['5034441']), unreadable: ['see'] }],
  ];
  for (const [text, expected] of cases) {
    it(`reads ${JSON.stringify(text)}`, () => assert.deepEqual(parseSupercedence(text), expected));
  }
});
