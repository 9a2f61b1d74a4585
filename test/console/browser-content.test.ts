// The Patch content workspace and the findings' Fix column in a real browser. The five feeds are
// served on 127.0.0.1 from the fixtures, with a few documents added that name CVEs of an emulated,
// synced tenant (a fixed Chrome version that CISA lists as exploited, a CVE NVD has not analysed,
// two Ubuntu notices for openssl). The tests: the empty state, Import now of all feeds with its
// live progress (the KEV catalog answers slowly), the counts the page shows (the import's, each
// feed's outcome in it, each feed's card) against the API's, the findings' fixes, a failed import
// of one feed, an analyst without Import now, and the dark theme.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { ARTIFACTS, launchBrowser, STEP_TIMEOUT_MS } from '../helpers/browser.js';
import { ADMIN_PASSWORD, ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';
import { serveFeeds, type FeedServer } from '../helpers/feed-server.js';
import { allFindings, connectEmulator, sync } from '../helpers/sync.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/feeds/', import.meta.url));
const fixture = (file: string) => readFileSync(`${FIXTURES}${file}`);
const TIME_SCALE = 0.002;
/** The feeds as the import detail names them. */
const FEED_LABELS: Record<string, string> = { msrc: 'MSRC', redhat: 'Red Hat', ubuntu: 'Ubuntu', nvd: 'NVD', kev: 'CISA KEV' };

/** An Ubuntu notice (OSV) fixing `cve` in openssl on 22.04 at `fixed` (the source package, and the binaries libssl3 and openssl). */
function ubuntuNotice(id: string, cve: string, fixed: string) {
  return JSON.stringify({
    schema_version: '1.7.0', id, summary: 'openssl vulnerability', upstream: [`UBUNTU-${cve}`], published: '2025-02-20T10:00:00Z', modified: '2025-02-20T10:00:00Z',
    affected: [{
      package: { ecosystem: 'Ubuntu:22.04:LTS', name: 'openssl' },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
      ecosystem_specific: { availability: 'No subscription required', binaries: [{ binary_name: 'libssl3', binary_version: fixed }, { binary_name: 'openssl', binary_version: fixed }] },
    }],
  });
}

/**
 * The fixtures' feeds, plus: Chrome `fixedInChrome` fixed in 999.0.0.0 (NVD) and known exploited
 * (KEV), Chrome `notAnalysed` awaiting NVD's analysis, and openssl `openssl` fixed by USN-9001-1,
 * which USN-9002-1 (of a later CVE) supersedes as the newest openssl of 22.04.
 */
const CHROME = 'google-_-chrome';

function addTenantFeeds(documents: FeedServer['documents'], cves: { fixedInChrome: string; notAnalysed: string; openssl: string }) {
  const nvd = JSON.parse(fixture('nvd/cves-page-0.json').toString());
  const nvdCve = (id: string, vulnStatus: string, configurations: unknown[]) => ({
    cve: { id, published: '2025-01-02T10:15:00.000', lastModified: '2025-01-03T10:15:00.000', vulnStatus, descriptions: [{ lang: 'en', value: `${id} in Google Chrome.` }], configurations },
  });
  const chromeRange = [{ nodes: [{ operator: 'OR', negate: false, cpeMatch: [{ vulnerable: true, criteria: 'cpe:2.3:a:google:chrome:*:*:*:*:*:*:*:*', versionEndExcluding: '999.0.0.0' }] }] }];
  const vulnerabilities = [...nvd.vulnerabilities, nvdCve(cves.fixedInChrome, 'Analyzed', chromeRange), nvdCve(cves.notAnalysed, 'Awaiting Analysis', [])];
  documents.set('/nvd/cves/2.0', JSON.stringify({ ...nvd, vulnerabilities, resultsPerPage: vulnerabilities.length, totalResults: vulnerabilities.length }));

  const kev = JSON.parse(fixture('kev/known_exploited_vulnerabilities.json').toString());
  kev.vulnerabilities.push({ ...kev.vulnerabilities[1], cveID: cves.fixedInChrome, dateAdded: '2025-01-07', dueDate: '2025-01-28' });
  documents.set('/kev.json', JSON.stringify(kev));

  // The two notices, newest first, ahead of the fixture's USN-7264-1.
  documents.set('/osv/Ubuntu/modified_id.csv', `2025-02-20T10:00:00Z,USN-9002-1\n2025-02-20T10:00:00Z,USN-9001-1\n${documents.get('/osv/Ubuntu/modified_id.csv')}`);
  documents.set('/osv/Ubuntu/USN-9001-1.json', ubuntuNotice('USN-9001-1', cves.openssl, '3.0.2-0ubuntu1.9000'));
  documents.set('/osv/Ubuntu/USN-9002-1.json', ubuntuNotice('USN-9002-1', 'CVE-2099-0001', '3.0.2-0ubuntu1.9500'));
}

describe('Patch content in a real browser', () => {
  let feedServer: FeedServer;
  let emulator: RunningEmulator;
  let console_: TestConsole;
  let admin: ApiClient;
  let connectionId: string;
  let browser: Browser;
  let page: Page;
  let cves: { fixedInChrome: string; notAnalysed: string; openssl: string };

  before(async () => {
    feedServer = await serveFeeds();
    emulator = await startEmulator({ devices: 60, devicesPerPart: 30, patchCadence: 4, seed: 'browser-content', timeScale: TIME_SCALE });
    console_ = await startTestConsole({ extraCaFile: emulator.caFile, syncTimeScale: TIME_SCALE, ...feedServer.settings });
    admin = new ApiClient(console_.running.url);
    assert.equal((await admin.login()).status, 200);
    connectionId = await connectEmulator(admin, emulator);
    assert.equal((await sync(admin, connectionId, 'full')).status, 'succeeded');

    const open = await allFindings(admin, connectionId, 'open');
    const chromeCves = [...new Set(open.filter((f) => f.software.vendor === 'google' && f.software.name === 'chrome' && f.cveId.startsWith('CVE-')).map((f) => f.cveId))];
    // On 22.04 (the notices below are of 22.04): openssl 3.0.2 there, 3.0.13 on 24.04.
    const opensslCve = open.find((f) => f.software.vendor === 'ubuntu' && f.software.name === 'openssl' && f.software.version.startsWith('3.0.2-') && f.cveId.startsWith('CVE-'))?.cveId;
    assert.ok(chromeCves.length >= 2 && opensslCve, 'the tenant has open Chrome findings of two CVEs and an Ubuntu 22.04 openssl finding');
    cves = { fixedInChrome: chromeCves[0], notAnalysed: chromeCves[1], openssl: opensslCve };
    addTenantFeeds(feedServer.documents, cves);

    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
  });
  after(async () => {
    await browser?.close();
    await console_?.close();
    await emulator?.close();
    await feedServer?.close();
  });

  /** The whole page; `viewport` only what the window shows (a long list's first rows, at a size to read them). */
  const shot = (name: string, on: Page = page, { viewport = false } = {}) =>
    on.screenshot({ path: path.join(ARTIFACTS, `content-${name}.png`), fullPage: !viewport, animations: 'disabled' });
  const detail = (on: Page = page) => on.getByTestId('import-detail');
  /** The chosen import's own status and origin (its feeds' outcomes have statuses too). */
  const detailSummary = (on: Page = page) => detail(on).getByTestId('import-summary');
  const feedCard = (feed: string) => page.getByTestId(`feed-${feed}`);
  const importNow = () => page.getByRole('toolbar', { name: 'Patch content actions' }).getByRole('button', { name: 'Import now', exact: true });
  const chosenImport = () => new URL(page.url()).searchParams.get('import');
  const n = (value: number) => value.toLocaleString('en-US');
  const counted = (value: number, noun: string) => `${n(value)} ${noun}${value === 1 ? '' : 's'}`;
  /** A feed card's counts: what the console knows from the feed now. */
  const countsOf = (s: { documents: number; records: number; skipped: number }) => `${counted(s.documents, 'document')} · ${counted(s.records, 'record')} · ${n(s.skipped)} skipped`;
  const feedStatesNow = async () => (await admin.call('GET', '/api/v1/content/feeds')).body.items;

  async function signIn(on: Page, username: string, password: string) {
    await on.getByLabel('Username').fill(username);
    await on.getByLabel('Password').fill(password);
    await on.getByRole('button', { name: 'Sign in', exact: true }).click();
    await on.getByTestId('signed-in-user').waitFor();
  }

  it('shows the five feeds and an empty history before any import', async () => {
    await page.goto(console_.running.url);
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('navigation').getByText('Patch content', { exact: true }).click();
    await page.getByRole('heading', { name: 'Patch content', exact: true }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/content');
    await page.getByText('No import yet — Import now brings in what every feed knows.').waitFor();
    for (const feed of ['msrc', 'redhat', 'ubuntu', 'nvd', 'kev']) await feedCard(feed).getByText('Not imported', { exact: true }).waitFor();
    assert.equal(await detail().count(), 0, 'no import to show');
    await shot('01-empty');
  });

  it('imports every feed with Import now, shows its progress, then counts equal to the API\'s', async () => {
    feedServer.delays.set('/kev.json', 3000);
    await importNow().click();
    await detail().getByTestId('import-progress').waitFor();
    const importId = chosenImport();
    assert.ok(importId, 'the new import is the one shown, and in the address');
    await detailSummary().getByText('Running', { exact: true }).waitFor();
    await page.getByRole('table', { name: 'Import history' }).getByRole('row').nth(1).getByText('Running', { exact: true }).waitFor();
    await shot('02-running');
    feedServer.delays.clear();

    await detailSummary().getByText('Succeeded', { exact: true }).waitFor({ timeout: 60_000 });
    assert.equal(await detail().getByTestId('import-progress').count(), 0, 'no progress bar once it has finished');
    const done = (await admin.call('GET', `/api/v1/content/imports/${importId}`)).body;
    assert.equal(done.status, 'succeeded', done.error);
    assert.equal(done.source, 'all');
    assert.ok(done.documents > 0 && done.records > 0 && done.skipped.count > 0, JSON.stringify(done));
    assert.equal(await detail().getByTestId('import-documents').innerText(), n(done.documents));
    assert.equal(await detail().getByTestId('import-records').innerText(), n(done.records));
    assert.equal(await detail().getByTestId('import-skipped').innerText(), n(done.skipped.count));
    const skippedTable = detail().getByRole('table', { name: 'Skipped records' });
    await skippedTable.getByText(done.skipped.first[0].where, { exact: true }).first().waitFor();
    await skippedTable.getByText(done.skipped.first[0].reason, { exact: true }).first().waitFor();
    const outcomes = detail().getByRole('table', { name: 'Feeds of this import' }).getByRole('row');
    assert.equal(await outcomes.count(), 1 + 5, 'a header row and the five feeds');
    for (const [index, outcome] of done.feeds.entries()) {
      assert.equal(outcome.status, 'succeeded', outcome.error);
      assert.deepEqual(await outcomes.nth(index + 1).getByRole('cell').allInnerTexts(), [FEED_LABELS[outcome.feed], 'Succeeded', n(outcome.documents), n(outcome.records), n(outcome.skipped), '']);
    }

    const history = page.getByRole('table', { name: 'Import history' });
    assert.equal(await history.getByRole('row').count(), 2, 'a header row and the one import');
    const row = await history.getByRole('row').nth(1).innerText();
    for (const value of [done.documents, done.records, done.skipped.count]) assert.ok(row.includes(n(value)), `${row} shows ${value}`);
    assert.match(row, /All feeds[\s\S]*Import now by admin[\s\S]*Succeeded/);

    const feedStates = await feedStatesNow();
    assert.deepEqual(feedStates.map((s: any) => s.feed).sort(), ['kev', 'msrc', 'nvd', 'redhat', 'ubuntu']);
    for (const state of feedStates) {
      assert.equal(state.lastSuccess.importId, importId, `${state.feed} is known from the import of all feeds`);
      await feedCard(state.feed).getByText('Succeeded', { exact: true }).waitFor();
      await feedCard(state.feed).getByText(state.url, { exact: true }).waitFor();
      assert.equal(await feedCard(state.feed).getByTestId('feed-counts').innerText(), countsOf(state.lastSuccess));
    }
    for (const count of ['documents', 'records'] as const) {
      assert.equal(feedStates.reduce((sum: number, s: any) => sum + s.lastSuccess[count], 0), done[count], `the feeds' ${count} add up to the import's`);
    }
    await shot('03-succeeded');
  });

  it('shows each finding\'s fix: the version to update to, known exploited, not analysed, and the newest notice', async () => {
    /** The CVE's first open finding (of the software whose id and version prefix are given). */
    const findingOf = async (cveId: string, softwareId?: string, versionPrefix = '') => {
      const list = (await admin.call('GET', `/api/v1/findings?connectionId=${connectionId}&status=open&cveId=${cveId}&limit=1000${softwareId ? `&softwareId=${softwareId}` : ''}`)).body;
      return list.items.find((f: any) => f.software.version.startsWith(versionPrefix));
    };
    // Chromium's CVEs are Edge's too: the fixtures' fix and notice are Chrome's.
    const chromeFinding = await findingOf(cves.fixedInChrome, CHROME);
    const chrome = chromeFinding.fix;
    assert.deepEqual([chrome.status, chrome.fixedVersion, chrome.kev], ['version', '999.0.0.0', { dateAdded: '2025-01-07', dueDate: '2025-01-28' }]);
    const notAnalysedFinding = await findingOf(cves.notAnalysed, CHROME);
    const notAnalysed = notAnalysedFinding.fix;
    assert.deepEqual([notAnalysed.status, notAnalysed.reason], ['no_known_fix', 'not_analysed']);
    const opensslFinding = await findingOf(cves.openssl, 'ubuntu-_-openssl', '3.0.2-');
    const openssl = opensslFinding.fix;
    assert.deepEqual([openssl.status, openssl.update?.id, openssl.deployable?.id], ['update', 'USN-9001-1', 'USN-9002-1']);

    const fixCells = () => page.getByRole('table', { name: 'Findings' }).getByTestId('finding-fix');
    // One device's findings of the CVE: Chrome's, and Edge's where the device has Edge too.
    const chromeFix = () => page.getByRole('table', { name: 'Findings' }).getByRole('row').filter({ hasText: 'Chrome' }).first().getByTestId('finding-fix');
    await page.goto(`${console_.running.url}/findings?status=open&cveId=${cves.fixedInChrome}&deviceId=${chromeFinding.deviceId}`);
    await chromeFix().getByText('Update to ≥ 999.0.0.0', { exact: true }).waitFor();
    assert.equal(await fixCells().getByText('Known exploited', { exact: true }).count(), await fixCells().count(), 'every finding of the CVE is known exploited');
    await chromeFix().getByTestId('kev-badge').hover();
    const tooltip = await page.getByRole('tooltip').innerText();
    assert.match(tooltip, /Known Exploited Vulnerabilities catalog since Jan 7, 2025\. Due date: Jan 28, 2025\./);
    await shot('04-findings-version-kev', page, { viewport: true });

    await page.goto(`${console_.running.url}/findings?status=open&cveId=${cves.notAnalysed}&deviceId=${notAnalysedFinding.deviceId}`);
    await chromeFix().getByText('NVD has not analysed it yet', { exact: true }).waitFor();
    assert.match(await chromeFix().innerText(), /^No known fix\s+NVD has not analysed it yet$/);
    await shot('05-findings-not-analysed', page, { viewport: true });

    await page.goto(`${console_.running.url}/findings?status=open&cveId=${cves.openssl}&deviceId=${opensslFinding.deviceId}`);
    await fixCells().first().getByText('→ newest USN-9002-1', { exact: true }).waitFor();
    assert.match(await fixCells().first().innerText(), /^USN-9001-1\s+→ newest USN-9002-1$/);
    await shot('06-findings-newest-notice');

    // Everything else the tenant has: Defender's own update or no feed, as the API says.
    await page.goto(`${console_.running.url}/findings?status=open`);
    const listed = (await admin.call('GET', '/api/v1/findings?status=open&limit=50')).body.items;
    await fixCells().first().waitFor();
    const shown = await fixCells().allInnerTexts();
    assert.equal(shown.length, listed.length);
    listed.forEach((f: any, i: number) => {
      // A KB is written as admins read it ("KB5047060"); the API names it by its number.
      if (f.fix.status === 'update') {
        const name = f.fix.update.kind === 'kb' ? `KB${f.fix.update.id}` : f.fix.update.id;
        assert.ok(shown[i].startsWith(name), `${shown[i]} names ${name}`);
      }
      else if (f.fix.status === 'version') assert.ok(shown[i].startsWith(`Update to ≥ ${f.fix.fixedVersion}`), shown[i]);
      else assert.ok(shown[i].startsWith('No known fix'), shown[i]);
    });
    await shot('07-findings', page, { viewport: true });
  });

  it('shows a failed import of one feed with its error, and the fixes the feed still gives', async () => {
    await page.goto(`${console_.running.url}/content`);
    await feedCard('ubuntu').getByText('Succeeded', { exact: true }).waitFor();
    const listing = feedServer.documents.get('/osv/Ubuntu/modified_id.csv')!;
    feedServer.documents.delete('/osv/Ubuntu/modified_id.csv');
    try {
      await page.getByRole('button', { name: 'Choose the feeds to import' }).click();
      await page.getByRole('menuitem', { name: 'Ubuntu security notices' }).click();
      await detailSummary().getByText('Failed', { exact: true }).waitFor({ timeout: 60_000 });
    } finally {
      feedServer.documents.set('/osv/Ubuntu/modified_id.csv', listing);
    }
    const failed = (await admin.call('GET', `/api/v1/content/imports/${chosenImport()}`)).body;
    assert.deepEqual([failed.source, failed.status], ['ubuntu', 'failed']);
    await detail().getByText('The import failed', { exact: true }).waitFor();
    assert.ok((await detail().innerText()).includes(failed.error), 'the error in full');
    await feedCard('ubuntu').getByText('Failed', { exact: true }).waitFor();
    await feedCard('ubuntu').getByText(/^Fixes known from the import of /).waitFor();
    assert.ok((await feedCard('ubuntu').innerText()).includes(failed.error));
    const ubuntu = (await feedStatesNow()).find((s: any) => s.feed === 'ubuntu');
    assert.deepEqual([ubuntu.lastImport.importId, ubuntu.lastImport.status], [failed.importId, 'failed']);
    assert.notEqual(ubuntu.lastSuccess.importId, failed.importId, 'the fixes still come from the import of all feeds');
    assert.equal(await feedCard('ubuntu').getByTestId('feed-counts').innerText(), countsOf(ubuntu.lastSuccess));
    await feedCard('kev').getByText('Succeeded', { exact: true }).waitFor();
    assert.equal(await page.getByRole('table', { name: 'Import history' }).getByRole('row').count(), 3, 'two imports');
    await shot('08-failed');

    await feedCard('kev').getByRole('button', { name: 'Show this import' }).click();
    await detailSummary().getByText('Succeeded', { exact: true }).waitFor();
    assert.notEqual(chosenImport(), failed.importId, 'KEV\'s last import is the one of all feeds');
  });

  it('keeps Import now from an analyst, and looks right in the dark theme', async () => {
    const password = 'an-analyst-with-a-long-passphrase';
    assert.equal((await admin.call('POST', '/api/v1/users', { username: 'ana', password, role: 'analyst' })).status, 201);
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    try {
      const analyst = await context.newPage();
      analyst.setDefaultTimeout(STEP_TIMEOUT_MS);
      await analyst.goto(`${console_.running.url}/content`);
      await signIn(analyst, 'ana', password);
      await analyst.getByRole('table', { name: 'Import history' }).waitFor();
      await detailSummary(analyst).getByText('Failed', { exact: true }).waitFor();
      assert.equal(await analyst.getByRole('button', { name: 'Import now' }).count(), 0, 'no Import now for an analyst');
      assert.equal(await analyst.getByRole('button', { name: 'Choose the feeds to import' }).count(), 0);
      await shot('09-analyst', analyst);
    } finally {
      await context.close();
    }

    await page.getByTestId('theme-toggle').click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    // Away from the toggle: its tooltip is not part of the page.
    await page.mouse.move(800, 600);
    await shot('10-dark');
    await page.goto(`${console_.running.url}/findings?status=open&cveId=${cves.fixedInChrome}`);
    await page.getByTestId('kev-badge').first().waitFor();
    await shot('11-dark-findings', page, { viewport: true });
    await page.getByTestId('theme-toggle').click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
  });
});
