// The Findings workspace in a real browser, over a small emulated tenant synced through the API:
// filters that live in the address (shared, reloaded, Back and Forward), keyset pages, the CSV
// export of the whole filtered list, keyboard navigation of the rows, and the role check on a
// deep link.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, launchBrowser, STEP_TIMEOUT_MS } from '../helpers/browser.js';
import { ADMIN_PASSWORD } from '../helpers/console.js';
import { csvRecords } from '../helpers/csv.js';
import { allFindings, startSyncFixture, sync, type SyncFixture } from '../helpers/sync.js';

const PAGE_SIZE = 50;

describe('Findings in a real browser', () => {
  let fixture: SyncFixture;
  let browser: Browser;
  let page: Page;
  let open: any[];
  let fixedTotal: number;
  /** The CVE with the most open findings, and how many it has. */
  let cve: { id: string; open: number };

  before(async () => {
    fixture = await startSyncFixture({ devices: 60, devicesPerPart: 30, patchCadence: 4, seed: 'browser-findings', timeScale: 0.002 });
    assert.equal((await sync(fixture.api, fixture.connectionId, 'full')).status, 'succeeded');
    // A day later some products were updated: their findings are fixed.
    fixture.emulator.advance(24);
    assert.equal((await sync(fixture.api, fixture.connectionId, 'full')).status, 'succeeded');
    open = await allFindings(fixture.api, fixture.connectionId, 'open');
    fixedTotal = (await allFindings(fixture.api, fixture.connectionId, 'fixed')).length;
    const perCve = new Map<string, number>();
    for (const f of open) perCve.set(f.cveId, (perCve.get(f.cveId) ?? 0) + 1);
    const [id, count] = [...perCve].sort((a, b) => b[1] - a[1])[0];
    cve = { id, open: count };
    assert.ok(open.length > 2 * PAGE_SIZE, `enough open findings for two pages (${open.length})`);
    assert.ok(fixedTotal > 0, 'the second snapshot fixed some findings');

    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
  });
  after(async () => {
    await browser?.close();
    await fixture?.close();
  });

  const shot = (name: string, on: Page = page) => on.screenshot({ path: path.join(ARTIFACTS, `findings-${name}.png`), fullPage: true, animations: 'disabled' });
  const range = () => page.getByTestId('list-range');
  const query = () => Object.fromEntries(new URL(page.url()).searchParams);
  const cveField = () => page.getByRole('textbox', { name: 'CVE ID' });

  async function signIn(on: Page, username: string, password: string) {
    await on.getByLabel('Username').fill(username);
    await on.getByLabel('Password').fill(password);
    await on.getByRole('button', { name: 'Sign in', exact: true }).click();
    await on.getByTestId('signed-in-user').waitFor();
  }

  it('filters by status and CVE, keeping the filters in the address through reload, Back and Forward', async () => {
    await page.goto(fixture.console.running.url);
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('navigation').getByText('Findings', { exact: true }).click();
    await page.getByRole('heading', { name: 'Findings', exact: true }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/findings');
    await range().getByText(`1–${PAGE_SIZE} of ${(open.length + fixedTotal).toLocaleString('en-US')} findings`).waitFor();
    await shot('01-all');

    await page.getByRole('combobox', { name: 'Status' }).click();
    await page.getByRole('option', { name: 'Open', exact: true }).click();
    await range().getByText(`1–${PAGE_SIZE} of ${open.length.toLocaleString('en-US')} findings`).waitFor();
    assert.deepEqual(query(), { status: 'open' });
    const table = page.getByRole('table', { name: 'Findings' });
    assert.equal(await table.getByRole('row').count(), PAGE_SIZE + 1, 'a header row and one page');
    assert.equal(await table.getByText('Fixed', { exact: true }).count(), 0, 'only open findings');
    await shot('02-open');

    await cveField().fill(cve.id.toLowerCase());
    await cveField().press('Enter');
    const cveRange = `${cve.open > PAGE_SIZE ? `1–${PAGE_SIZE} of ` : ''}${cve.open.toLocaleString('en-US')} finding${cve.open === 1 ? '' : 's'}`;
    await range().getByText(cveRange).waitFor();
    assert.deepEqual(query(), { status: 'open', cveId: cve.id.toLowerCase() });
    assert.equal(await table.getByRole('button', { name: cve.id, exact: true }).count(), Math.min(cve.open, PAGE_SIZE), 'every row is of that CVE');
    await shot('03-open-cve');

    await page.reload();
    await range().getByText(cveRange).waitFor();
    assert.equal(await cveField().inputValue(), cve.id.toLowerCase(), 'the CVE filter is back in its field');
    assert.equal(await page.getByRole('combobox', { name: 'Status' }).innerText(), 'Open');
    await shot('04-after-reload');

    await page.goBack();
    await range().getByText(`1–${PAGE_SIZE} of ${open.length.toLocaleString('en-US')} findings`).waitFor();
    assert.deepEqual(query(), { status: 'open' });
    assert.equal(await cveField().inputValue(), '', 'Back takes the CVE filter away');
    await page.goForward();
    await range().getByText(cveRange).waitFor();
    assert.deepEqual(query(), { status: 'open', cveId: cve.id.toLowerCase() });
    assert.equal(await cveField().inputValue(), cve.id.toLowerCase());
  });

  it('downloads the whole filtered list as CSV, paging ignored', async () => {
    const exportLink = page.getByRole('link', { name: 'Export CSV' });
    const [cveDownload] = await Promise.all([page.waitForEvent('download'), exportLink.click()]);
    const cvePath = path.join(ARTIFACTS, 'findings-open-cve.csv');
    await cveDownload.saveAs(cvePath);
    assert.equal(csvRecords(readFileSync(cvePath, 'utf8')), cve.open, 'the CSV has the filtered list\'s total');

    await page.goBack();
    await range().getByText(`of ${open.length.toLocaleString('en-US')} findings`).waitFor();
    assert.equal(new URL(await exportLink.getAttribute('href') ?? '', page.url()).search, '?status=open&format=csv');
    const [download] = await Promise.all([page.waitForEvent('download'), exportLink.click()]);
    const openPath = path.join(ARTIFACTS, 'findings-open.csv');
    await download.saveAs(openPath);
    const text = readFileSync(openPath, 'utf8');
    assert.match(text.slice(0, 200), /^\uFEFFconnectionId,deviceId,deviceName,/, 'a byte-order mark for Excel, then the header row');
    assert.equal(csvRecords(text), open.length, 'every open finding, not only the page shown');
  });

  it('pages forward and back with the page in the address, and moves through rows with the arrow keys', async () => {
    const total = open.length.toLocaleString('en-US');
    await page.getByRole('button', { name: 'Next' }).click();
    await range().getByText(`${PAGE_SIZE + 1}–${Math.min(2 * PAGE_SIZE, open.length)} of ${total} findings`).waitFor();
    const cursor = new URL(page.url()).searchParams.getAll('cursor');
    assert.equal(cursor.length, 1, 'the page is in the address');
    const second = await page.getByRole('table', { name: 'Findings' }).getByRole('row').nth(1).innerText();
    await shot('05-page-2');

    await page.getByRole('button', { name: 'Next' }).click();
    await range().getByText(`${2 * PAGE_SIZE + 1}–`).waitFor();
    assert.equal(new URL(page.url()).searchParams.getAll('cursor').length, 2);
    await page.reload();
    await range().getByText(`${2 * PAGE_SIZE + 1}–`).waitFor();
    await page.getByRole('button', { name: 'Previous' }).click();
    await range().getByText(`${PAGE_SIZE + 1}–${2 * PAGE_SIZE} of ${total}`).waitFor();
    assert.equal(await page.getByRole('table', { name: 'Findings' }).getByRole('row').nth(1).innerText(), second, 'Previous shows the same page again');
    await page.getByRole('button', { name: 'Previous' }).click();
    await range().getByText(`1–${PAGE_SIZE} of ${total}`).waitFor();
    assert.deepEqual(query(), { status: 'open' });
    assert.ok(await page.getByRole('button', { name: 'Previous' }).isDisabled(), 'nothing before the first page');
    await page.goBack();
    await range().getByText(`${PAGE_SIZE + 1}–${2 * PAGE_SIZE} of ${total}`).waitFor();
    await page.goBack();
    await range().getByText(`${2 * PAGE_SIZE + 1}–`).waitFor();

    const rows = page.getByRole('table', { name: 'Findings' }).getByRole('row');
    await rows.nth(1).focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    const focused = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.innerText);
    assert.equal(focused, await rows.nth(3).innerText(), 'the arrow keys move from row to row');
  });

  it('opens a shared link, shows the empty state of a filter with no match, opens a user with Enter, and keeps an analyst out of the audit log', async () => {
    await page.goto(`${fixture.console.running.url}/findings?status=fixed`);
    await range().getByText(`${fixedTotal.toLocaleString('en-US')} finding`).waitFor();
    assert.equal(await page.getByRole('combobox', { name: 'Status' }).innerText(), 'Fixed');
    await page.getByRole('table', { name: 'Findings' }).getByText('Fixed', { exact: true }).first().waitFor();
    await shot('06-fixed-shared-link');

    await cveField().fill('CVE-1999-0001');
    await cveField().press('Enter');
    await page.getByText('No findings match these filters.').waitFor();
    await shot('07-no-match');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await range().getByText(`of ${(open.length + fixedTotal).toLocaleString('en-US')} findings`).waitFor();
    assert.deepEqual(query(), {});

    const password = 'an-analyst-with-a-long-passphrase';
    assert.equal((await fixture.api.call('POST', '/api/v1/users', { username: 'ana', password, role: 'analyst' })).status, 201);
    // The same rows elsewhere: Enter on a user's row opens it.
    await page.getByRole('navigation').getByText('Users', { exact: true }).click();
    const row = page.getByRole('table', { name: 'Users' }).getByRole('row', { name: /ana/ });
    await row.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Edit ana' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });

    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    try {
      const analyst = await context.newPage();
      analyst.setDefaultTimeout(STEP_TIMEOUT_MS);
      await analyst.goto(`${fixture.console.running.url}/audit`);
      await signIn(analyst, 'ana', password);
      await analyst.getByText('You don\'t have access to Audit log.').waitFor();
      assert.equal(await analyst.getByRole('table', { name: 'Audit log' }).count(), 0);
      await shot('08-analyst-no-access', analyst);
      await analyst.getByRole('navigation').getByText('Findings', { exact: true }).click();
      await analyst.getByTestId('list-range').getByText(`of ${(open.length + fixedTotal).toLocaleString('en-US')} findings`).waitFor();
    } finally {
      await context.close();
    }
  });
});
