// The exposure console in a real browser, over a small emulated tenant synced twice through the
// API (a day apart, so that some findings are fixed): the overview as the landing page, with the
// API's numbers; the walk overview → a CVE → a device and Back, the filters kept in the address;
// rows reached with Tab and opened with Enter; a CSV export whose data rows are the list's total;
// the empty state of a console without connections; and a screenshot of every page, in the light
// theme, and the overview in the dark one (remembered across a reload).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, launchBrowser, STEP_TIMEOUT_MS } from '../helpers/browser.js';
import { ADMIN_PASSWORD, startTestConsole } from '../helpers/console.js';
import { csvRecords } from '../helpers/csv.js';
import { startSyncFixture, sync, type SyncFixture } from '../helpers/sync.js';

const n = (value: number) => value.toLocaleString('en-US');

/** What the list's range line says for a total: "N devices", or "1–25 of N devices" when paged. */
function rangeText(total: number, pageSize: number, noun: [string, string]): string {
  return `${total > pageSize ? `1–${pageSize} of ` : ''}${n(total)} ${total === 1 ? noun[0] : noun[1]}`;
}

describe('Exposure console in a real browser', () => {
  let fixture: SyncFixture;
  let browser: Browser;
  let page: Page;
  let summary: any;
  const pageErrors: string[] = [];

  before(async () => {
    fixture = await startSyncFixture({ devices: 60, devicesPerPart: 30, patchCadence: 4, seed: 'browser-exposure', timeScale: 0.002 });
    assert.equal((await sync(fixture.api, fixture.connectionId, 'full')).status, 'succeeded');
    fixture.emulator.advance(24);
    assert.equal((await sync(fixture.api, fixture.connectionId, 'full')).status, 'succeeded');
    const answer = await fixture.api.call('GET', '/api/v1/exposure/summary');
    assert.equal(answer.status, 200, answer.text);
    summary = answer.body;
    assert.ok(summary.openFindings > 0 && summary.topCves.length > 0, 'the tenant has exposure to show');

    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, colorScheme: 'light', acceptDownloads: true });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  after(async () => {
    await browser?.close();
    await fixture?.close();
  });

  const shot = (name: string, on: Page = page) => on.screenshot({ path: path.join(ARTIFACTS, `exposure-${name}.png`), fullPage: true, animations: 'disabled' });
  const query = () => Object.fromEntries(new URL(page.url()).searchParams);
  const pathname = () => decodeURIComponent(new URL(page.url()).pathname);
  const url = (to: string) => `${fixture.console.running.url}${to}`;
  const api = async (to: string) => {
    const answer = await fixture.api.call('GET', to);
    assert.equal(answer.status, 200, `${to}: ${answer.text}`);
    return answer.body;
  };

  async function signIn(on: Page, username: string, password: string) {
    await on.getByLabel('Username').fill(username);
    await on.getByLabel('Password').fill(password);
    await on.getByRole('button', { name: 'Sign in', exact: true }).click();
    await on.getByTestId('signed-in-user').waitFor();
  }

  /** Picks a value of a filter: an option, or a box to tick in a filter of several values (Fluent's multiselect is a menu, which stays open). */
  async function choose(label: string, option: string, on: Page = page) {
    const box = on.getByRole('combobox', { name: label });
    await box.click();
    await on.getByRole('option', { name: option, exact: true }).or(on.getByRole('menuitemcheckbox', { name: option, exact: true })).click();
    if (await box.getAttribute('aria-expanded') === 'true') await on.keyboard.press('Escape');
  }

  it('opens on the overview after sign-in, with the numbers the API answers', async () => {
    await page.goto(fixture.console.running.url);
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    assert.equal(pathname(), '/overview', 'the overview is the landing page');
    assert.equal(await page.getByRole('navigation').getByRole('link').first().innerText(), 'Overview', 'the first item of the navigation');

    await page.getByTestId('kpi-open-findings').getByText(n(summary.openFindings), { exact: true }).waitFor();
    await page.getByTestId('kpi-exposed-devices').getByText(n(summary.exposedDevices), { exact: true }).waitFor();
    // Each CVE once, though Defender's exploit flags overlap (a CVE in a kit has a public exploit too).
    // The big number comes first (the public-exploit row below it may show the same count).
    await page.getByTestId('kpi-exploitable').getByText(n(summary.exploitableCves.any), { exact: true }).first().waitFor();
    assert.equal(await page.getByTestId('opened-7d').innerText(), n(summary.last7Days.opened));
    assert.equal(await page.getByTestId('fixed-7d').innerText(), n(summary.last7Days.fixed));
    await page.getByTestId('trend-chart').locator('svg').first().waitFor();
    const top = page.getByRole('table', { name: 'Top vulnerabilities' });
    assert.equal(await top.getByRole('row').count(), summary.topCves.length + 1, 'a header row and the top CVEs');
    assert.equal(await top.getByRole('row').nth(1).getByRole('link').innerText(), summary.topCves[0].id);
    const freshness = page.getByRole('table', { name: 'Data freshness' });
    await freshness.getByRole('row', { name: /Emulated tenant/ }).getByText('Up to date').waitFor();
    await shot('01-overview');

    // The period is in the address too.
    await page.getByRole('tab', { name: '90 days' }).click();
    await page.waitForURL((u) => u.searchParams.get('days') === '90');
    await page.getByTestId('trend-chart').locator('svg').first().waitFor();
    await page.goBack();
    await page.waitForURL((u) => !u.searchParams.has('days'));
  });

  it('walks overview → a CVE → a device, and Back comes back to the CVE with its filters', async () => {
    await choose('Connection', 'Emulated tenant');
    await page.waitForURL((u) => u.searchParams.get('connectionId') === fixture.connectionId);
    const cve = summary.topCves[0];
    await page.getByRole('table', { name: 'Top vulnerabilities' }).getByRole('link', { name: cve.id, exact: true }).click();
    await page.getByRole('heading', { name: cve.id, level: 1 }).waitFor();
    assert.equal(pathname(), `/vulnerabilities/${cve.id}`);
    assert.deepEqual(query(), { connectionId: fixture.connectionId }, 'the CVE page shows the connection the overview showed');

    const exposed = page.getByTestId('cve-devices');
    const range = exposed.getByTestId('list-range');
    await range.getByText(rangeText(cve.exposedDevices, 25, ['device', 'devices']), { exact: true }).waitFor();
    await page.getByTestId('cve-exposed-devices').getByText(n(cve.exposedDevices), { exact: true }).waitFor();

    // Narrow the exposed devices to one OS platform, and sort them by name.
    const devices = await api(`/api/v1/devices?cveId=${cve.id}&connectionId=${fixture.connectionId}&limit=1`);
    const platform: string = devices.items[0].osPlatform;
    const onPlatform = (await api(`/api/v1/devices?cveId=${cve.id}&connectionId=${fixture.connectionId}&osPlatform=${encodeURIComponent(platform)}&limit=1`)).total;
    await choose('OS platform', platform);
    await range.getByText(rangeText(onPlatform, 25, ['device', 'devices']), { exact: true }).waitFor();
    assert.deepEqual(query(), { connectionId: fixture.connectionId, osPlatform: platform });
    await exposed.getByRole('columnheader', { name: 'Device', exact: true }).click();
    await page.waitForURL((u) => u.searchParams.get('sort') === 'name');
    const byName = (await api(`/api/v1/devices?cveId=${cve.id}&connectionId=${fixture.connectionId}&osPlatform=${encodeURIComponent(platform)}&sort=name&limit=25`)).items;
    const firstRow = exposed.getByRole('table', { name: 'Exposed devices' }).getByRole('row').nth(1);
    await firstRow.getByRole('link', { name: byName[0].name ?? byName[0].id, exact: true }).waitFor();
    await shot('03-cve');

    await firstRow.getByRole('link').click();
    await page.getByRole('heading', { name: byName[0].name ?? byName[0].id, level: 1 }).waitFor();
    assert.equal(pathname(), `/devices/${byName[0].id}`);
    const device = await api(`/api/v1/devices/${byName[0].id}?connectionId=${fixture.connectionId}`);
    await page.getByTestId('device-open-findings').getByText(n(device.openFindings), { exact: true }).waitFor();
    const firstGroup = page.getByTestId('device-software').getByRole('table').first();
    await firstGroup.getByRole('row').nth(1).waitFor();
    await shot('05-device');

    await page.goBack();
    await page.getByRole('heading', { name: cve.id, level: 1 }).waitFor();
    assert.deepEqual(query(), { connectionId: fixture.connectionId, osPlatform: platform, sort: 'name' }, 'Back keeps the filters and the sort');
    await range.getByText(rangeText(onPlatform, 25, ['device', 'devices']), { exact: true }).waitFor();
    await page.getByRole('combobox', { name: 'OS platform' }).filter({ hasText: platform }).waitFor();
    await firstRow.getByRole('link', { name: byName[0].name ?? byName[0].id, exact: true }).waitFor();

    // Back undoes the sort, then the filter, then leaves for the overview it came from.
    await page.goBack();
    await page.waitForURL((u) => !u.searchParams.has('sort') && u.searchParams.has('osPlatform'));
    await page.goBack();
    await range.getByText(rangeText(cve.exposedDevices, 25, ['device', 'devices']), { exact: true }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    assert.deepEqual(query(), { connectionId: fixture.connectionId });
    await page.getByRole('combobox', { name: 'Connection' }).filter({ hasText: 'Emulated tenant' }).waitFor();
  });

  it('reaches a list\'s rows with Tab and opens one with Enter', async () => {
    await page.goto(url('/vulnerabilities'));
    const table = page.getByRole('table', { name: 'Vulnerabilities' });
    await table.getByRole('row').nth(1).waitFor();
    const first = (await api('/api/v1/vulnerabilities?limit=1')).items[0];
    await page.getByRole('textbox', { name: 'Search' }).focus();
    let onRow = false;
    for (let i = 0; i < 12 && !onRow; i++) {
      await page.keyboard.press('Tab');
      onRow = await page.evaluate(() => document.activeElement?.tagName === 'TR');
    }
    assert.ok(onRow, 'Tab reaches the first row');
    assert.match(await page.evaluate(() => (document.activeElement as HTMLElement).innerText), new RegExp(first.id));
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: first.id, level: 1 }).waitFor();
    assert.equal(pathname(), `/vulnerabilities/${first.id}`);
    await page.goBack();
    await table.getByRole('row').nth(1).waitFor();
  });

  it('exports a filtered list as CSV: as many data rows as the list\'s total, paging ignored', async () => {
    await page.goto(url('/vulnerabilities'));
    await choose('Severity', 'High');
    await page.waitForURL((u) => u.searchParams.get('severity') === 'High');
    const high = (await api('/api/v1/vulnerabilities?severity=High&limit=1')).total;
    assert.ok(high > 0, 'some exposed CVEs are of high severity');
    await page.getByTestId('list-range').getByText(rangeText(high, 50, ['vulnerability', 'vulnerabilities']), { exact: true }).waitFor();
    const exportLink = page.getByRole('link', { name: 'Export CSV' });
    assert.equal(new URL(await exportLink.getAttribute('href') ?? '', page.url()).search, '?severity=High&format=csv');
    const [download] = await Promise.all([page.waitForEvent('download'), exportLink.click()]);
    const file = path.join(ARTIFACTS, 'exposure-vulnerabilities-high.csv');
    await download.saveAs(file);
    assert.equal(csvRecords(readFileSync(file, 'utf8')), high, 'the CSV has the filtered list\'s total');

    // A list of more than one page: every device, not only the 50 shown.
    await page.goto(url('/devices'));
    const total = (await api('/api/v1/devices?limit=1')).total;
    await page.getByTestId('list-range').getByText(rangeText(total, 50, ['device', 'devices']), { exact: true }).waitFor();
    const [all] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    const allFile = path.join(ARTIFACTS, 'exposure-devices.csv');
    await all.saveAs(allFile);
    assert.equal(csvRecords(readFileSync(allFile, 'utf8')), total, 'every device');
  });

  it('shows every page (screenshots in the light theme), and the overview in the dark theme, remembered', async () => {
    const cve = summary.topCves[0];
    const software = summary.topSoftware[0];
    const device = summary.topDevices[0];

    await page.goto(url('/vulnerabilities'));
    await page.getByRole('table', { name: 'Vulnerabilities' }).getByRole('row').nth(1).waitFor();
    await shot('02-vulnerabilities');

    await page.goto(url('/devices'));
    await page.getByRole('table', { name: 'Devices' }).getByRole('row').nth(1).waitFor();
    await shot('04-devices');

    // A device page opened from the list of all connections.
    await page.goto(url(`/devices/${encodeURIComponent(device.id)}`));
    await page.getByTestId('device-open-findings').getByText(n(device.openFindings), { exact: true }).waitFor();
    await page.getByRole('table', { name: 'Fixed history' }).or(page.getByText('Nothing fixed on this device yet.')).first().waitFor();

    await page.goto(url('/software'));
    await page.getByRole('table', { name: 'Software' }).getByRole('row').nth(1).waitFor();
    await shot('06-software');

    await page.goto(url(`/software/${encodeURIComponent(software.id)}`));
    await page.getByRole('table', { name: 'Versions' }).getByRole('row').nth(1).waitFor();
    const findings = page.getByTestId('software-findings');
    await findings.getByRole('table', { name: 'Open findings' }).getByRole('row').nth(1).waitFor();
    // Choosing a version narrows its open findings to that version.
    await page.getByRole('table', { name: 'Versions' }).getByRole('row').filter({ hasText: software.version }).first().click();
    await page.waitForURL((u) => u.searchParams.get('softwareVersion') === software.version);
    const onVersion = (await api(`/api/v1/findings?status=open&softwareId=${encodeURIComponent(software.id)}&softwareVersion=${encodeURIComponent(software.version)}&limit=1`)).total;
    assert.equal(onVersion, software.openFindings, 'the version\'s open findings, as the overview counts them');
    await findings.getByTestId('list-range').getByText(rangeText(onVersion, 25, ['open finding', 'open findings']), { exact: true }).waitFor();
    await shot('07-software-page');

    await page.goto(url('/tenants'));
    await page.getByRole('table', { name: 'Tenants' }).getByRole('row', { name: /Emulated tenant/ }).waitFor();
    await shot('08-tenants');
    await page.getByRole('table', { name: 'Tenants' }).getByRole('link', { name: 'Emulated tenant' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    assert.deepEqual(query(), { connectionId: fixture.connectionId }, 'a tenant opens its overview');

    await page.goto(url('/findings?status=open&severity=Critical'));
    const critical = (await api('/api/v1/findings?status=open&severity=Critical&limit=1')).total;
    await page.getByTestId('list-range').getByText(`${n(critical)} finding`).waitFor();
    await shot('09-findings');

    await page.goto(url(`/vulnerabilities/${cve.id}`));
    await page.getByTestId('cve-exposed-devices').getByText(n(cve.exposedDevices), { exact: true }).waitFor();

    // Dark theme: the toggle, remembered across a reload; back to light for the next run.
    await page.goto(url('/overview'));
    await page.getByTestId('kpi-open-findings').getByText(n(summary.openFindings), { exact: true }).waitFor();
    assert.equal(await page.getByTestId('theme-toggle').getAttribute('data-theme'), 'light', 'the OS preference (light) by default');
    await page.getByTestId('theme-toggle').click();
    await page.reload();
    await page.getByTestId('kpi-open-findings').getByText(n(summary.openFindings), { exact: true }).waitFor();
    await page.getByTestId('trend-chart').locator('svg').first().waitFor();
    assert.equal(await page.getByTestId('theme-toggle').getAttribute('data-theme'), 'dark', 'the choice is remembered');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await shot('10-overview-dark');
    await page.getByTestId('theme-toggle').click();
    assert.equal(await page.evaluate(() => window.localStorage.getItem('sitepatch.theme')), 'light');
    assert.deepEqual(pageErrors, [], 'no script errors on any page');
  });

  it('shows "No connection yet" on a console without connections, pointing to Windows Defender Endpoint', async () => {
    const empty = await startTestConsole();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: 'light' });
    try {
      const other = await context.newPage();
      other.setDefaultTimeout(STEP_TIMEOUT_MS);
      await other.goto(empty.running.url);
      await signIn(other, 'admin', ADMIN_PASSWORD);
      await other.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
      await other.getByTestId('no-data').getByText('No connection yet').waitFor();
      await shot('11-overview-no-connection', other);
      await other.goto(`${empty.running.url}/vulnerabilities`);
      await other.getByTestId('no-data').getByText('No connection yet').waitFor();
      await other.getByTestId('no-data').getByRole('link', { name: 'Windows Defender Endpoint' }).click();
      await other.getByRole('heading', { name: 'Defender Access Settings' }).waitFor();
      assert.equal(new URL(other.url()).pathname, '/defender');
    } finally {
      await context.close();
      await empty.close();
    }
  });
});
