// The remediation pages in a real browser, over an emulated tenant synced with the emulator's
// vendor feeds imported (so that remediations name real KBs, advisories and versions): the ranked
// list as the API ranks it; the walk Remediations (filtered) → a remediation → its devices, whose
// CSV for Intune/ConfigMgr has as many rows as the remediation has devices; Create exception from
// the remediation page, with the API's message for a missing field next to that field; the
// exception on the Exceptions page, edited and removed (after a confirmation); Back keeping the
// list's filters; the coverage gaps with their total; a remediation Defender confirmed complete
// after the devices were patched; an analyst's read-only view; the console without connections;
// and a screenshot of every page (light, and the remediation pages dark).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { ARTIFACTS, launchBrowser, STEP_TIMEOUT_MS } from '../helpers/browser.js';
import { ADMIN_PASSWORD, ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';
import { csvRecords } from '../helpers/csv.js';
import { connectEmulator, sync } from '../helpers/sync.js';

const TIME_SCALE = 0.002;
const n = (value: number) => value.toLocaleString('en-US');
const utcDay = (daysAhead: number) => new Date(Date.now() + daysAhead * 86_400_000).toISOString().slice(0, 10);

describe('Remediation pages in a real browser', () => {
  let emulator: RunningEmulator;
  let console_: TestConsole;
  let admin: ApiClient;
  let connectionId: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const analystPassword = 'an analyst reads remediations 7';

  before(async () => {
    // Devices update their products every ~8 snapshots (two days): ten days later, some remediations are complete.
    emulator = await startEmulator({ devices: 120, devicesPerPart: 60, patchCadence: 8, seed: 'browser-remediation', timeScale: TIME_SCALE, rateLimits: false });
    console_ = await startTestConsole({ extraCaFile: emulator.caFile, syncTimeScale: TIME_SCALE, ...emulator.feeds });
    admin = new ApiClient(console_.running.url);
    assert.equal((await admin.login()).status, 200);
    connectionId = await connectEmulator(admin, emulator);
    assert.equal((await sync(admin, connectionId, 'full')).status, 'succeeded');
    const started = await admin.call('POST', '/api/v1/content/imports', { source: 'all' });
    assert.equal(started.status, 202, started.text);
    for (;;) {
      const status = (await admin.call('GET', `/api/v1/content/imports/${started.body.importId}`)).body;
      if (status.status === 'failed') assert.fail(`the import failed: ${status.error}`);
      if (status.status === 'succeeded') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The import maps the findings again on the sync queue; a sync after it runs behind it.
    assert.equal((await sync(admin, connectionId, 'delta')).status, 'succeeded');
    assert.equal((await admin.call('POST', '/api/v1/users', { username: 'ana', password: analystPassword, role: 'analyst' })).status, 201);

    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, colorScheme: 'light', acceptDownloads: true });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  after(async () => {
    await browser?.close();
    await console_?.close();
    await emulator?.close();
  });

  const shot = (name: string, on: Page = page) => on.screenshot({ path: path.join(ARTIFACTS, `remediation-${name}.png`), fullPage: true, animations: 'disabled' });
  const query = () => Object.fromEntries(new URL(page.url()).searchParams);
  const pathname = () => decodeURIComponent(new URL(page.url()).pathname);
  const url = (to: string) => `${console_.running.url}${to}`;
  const api = async (to: string) => {
    const answer = await admin.call('GET', to);
    assert.equal(answer.status, 200, `${to}: ${answer.text}`);
    return answer.body;
  };

  async function signIn(on: Page, username: string, password: string) {
    await on.getByLabel('Username').fill(username);
    await on.getByLabel('Password').fill(password);
    await on.getByRole('button', { name: 'Sign in', exact: true }).click();
    await on.getByTestId('signed-in-user').waitFor();
  }

  /** Picks a value of a filter or a dialog's dropdown (a multiselect filter is a menu that stays open). */
  async function choose(label: string, option: string, within: Page | Locator = page) {
    const box = within.getByRole('combobox', { name: label });
    await box.click();
    await page.getByRole('option', { name: option, exact: true }).or(page.getByRole('menuitemcheckbox', { name: option, exact: true })).click();
    if (await box.getAttribute('aria-expanded') === 'true') await page.keyboard.press('Escape');
  }

  /** The message a field shows under its control (what the control's aria-describedby names). */
  const fieldMessage = (control: Locator) => control.evaluate((el) => (el.getAttribute('aria-describedby') ?? '').split(' ')
    .map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim());

  let chosen: any;
  let detail: any;

  it('lists the remediations ranked as the API ranks them, with real KBs, advisories and versions', async () => {
    const ranked = await api('/api/v1/remediations?limit=50');
    assert.ok(ranked.total > 0, 'the tenant has remediations');
    for (const kind of ['windows_update', 'linux_advisory', 'product_update']) {
      assert.ok(ranked.items.some((r: any) => r.kind === kind) || (await api(`/api/v1/remediations?kind=${kind}&limit=1`)).total > 0, `a ${kind} remediation`);
    }
    await page.goto(url('/remediations'));
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('heading', { name: 'Remediations', level: 1 }).waitFor();
    const nav = page.getByRole('navigation');
    for (const item of ['Remediations', 'Coverage gaps', 'Exceptions']) await nav.getByRole('link', { name: item, exact: true }).waitFor();
    const table = page.getByRole('table', { name: 'Remediations' });
    const rows = table.getByRole('row');
    await rows.nth(1).waitFor();
    await page.getByTestId('list-range').getByText(`${ranked.total > 50 ? '1–50 of ' : ''}${n(ranked.total)} remediation${ranked.total === 1 ? '' : 's'}`, { exact: true }).waitFor();
    for (let i = 0; i < Math.min(3, ranked.items.length); i++) {
      const row = rows.nth(i + 1);
      assert.equal(await row.getByRole('link').first().innerText(), ranked.items[i].title, `row ${i + 1} is the API's`);
      assert.match(await row.innerText(), new RegExp(ranked.items[i].riskScore.toFixed(1).replace('.', '\\.')));
    }
    await shot('01-remediations');

    // Tab reaches the rows, the arrow keys move between them, Enter opens one.
    await page.getByRole('textbox', { name: 'Search' }).focus();
    let onRow = false;
    for (let i = 0; i < 12 && !onRow; i++) {
      await page.keyboard.press('Tab');
      onRow = await page.evaluate(() => document.activeElement?.tagName === 'TR');
    }
    assert.ok(onRow, 'Tab reaches the first row');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: ranked.items[1].title, level: 1 }).waitFor();
    assert.equal(pathname(), `/remediations/${ranked.items[1].id}`);
    await page.goBack();
    await rows.nth(1).waitFor();
  });

  it('walks Remediations (filtered) → a remediation → its devices, whose CSV has a row per device', async () => {
    await choose('Kind', 'Windows update');
    await page.waitForURL((u) => u.searchParams.get('kind') === 'windows_update');
    const windows = await api(`/api/v1/remediations?kind=windows_update&limit=50`);
    assert.ok(windows.total > 0, 'a Windows update remediation');
    const table = page.getByRole('table', { name: 'Remediations' });
    await page.getByTestId('list-range').getByText(`${n(windows.total)} remediation`, { exact: false }).waitFor();
    chosen = windows.items[0];
    await table.getByRole('row').nth(1).getByRole('link', { name: chosen.title, exact: true }).click();

    await page.getByRole('heading', { name: chosen.title, level: 1 }).waitFor();
    assert.equal(pathname(), `/remediations/${chosen.id}`);
    detail = await api(`/api/v1/remediations/${chosen.id}`);
    assert.ok(detail.update, 'a Windows update names its KB');
    await page.getByTestId('remediation-content').getByText(`KB${detail.update.id}`, { exact: true }).waitFor();
    await page.getByRole('table', { name: 'Versions to reach' }).getByText(`≥ ${detail.versions[0].minimumVersion}`).waitFor();
    assert.equal(await page.getByTestId('why-score').innerText(), detail.riskScore.toFixed(1), 'why this score adds up to the score');
    await page.getByTestId('remediation-device-count').getByText(n(detail.devices), { exact: true }).waitFor();
    const cves = page.getByRole('table', { name: 'CVEs it closes' });
    const firstCve = detail.whyThisScore.topCves[0].cveId;
    await cves.getByRole('link', { name: firstCve, exact: true }).waitFor();

    const devices = page.getByTestId('remediation-devices');
    await devices.getByTestId('list-range').getByText(`${detail.devices > 25 ? '1–25 of ' : ''}${n(detail.devices)} device`, { exact: false }).waitFor();
    await shot('02-remediation');

    const exportLink = devices.getByRole('link', { name: 'Export device list for Intune/ConfigMgr' });
    assert.equal(new URL(await exportLink.getAttribute('href') ?? '', page.url()).pathname, `/api/v1/remediations/${chosen.id}/devices`);
    const [download] = await Promise.all([page.waitForEvent('download'), exportLink.click()]);
    const file = path.join(ARTIFACTS, 'remediation-devices.csv');
    await download.saveAs(file);
    const text = readFileSync(file, 'utf8');
    assert.equal(csvRecords(text), detail.devices, 'a CSV row per device');
    assert.match(text.split('\n')[0], /^\uFEFF?"?deviceName"?,"?deviceId"?/, 'the device name first, as a device group import reads it');

    // The CVE links lead to the CVE pages.
    await cves.getByRole('link', { name: firstCve, exact: true }).click();
    await page.getByRole('heading', { name: firstCve, level: 1 }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: chosen.title, level: 1 }).waitFor();
  });

  it('creates an exception from the remediation page: the API\'s message for a field shows next to it', async () => {
    await page.getByRole('button', { name: 'Create exception' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create exception' });
    await dialog.waitFor();
    const firstCve = detail.whyThisScore.topCves[0].cveId;
    assert.equal(await dialog.getByRole('textbox', { name: 'CVE ID' }).inputValue(), firstCve, 'its riskiest CVE, proposed');
    assert.equal(await dialog.getByRole('textbox', { name: 'Owner' }).inputValue(), 'admin', 'the signed-in user owns it');
    assert.equal(await dialog.getByLabel('Expires after').inputValue(), utcDay(90), 'for 90 days unless changed');

    // No justification: the form says so under it.
    await dialog.getByRole('button', { name: 'Create exception' }).click();
    await dialog.getByText('Choose why the risk is accepted.').waitFor();
    assert.equal(await fieldMessage(dialog.getByRole('combobox', { name: 'Justification' })), 'Choose why the risk is accepted.');
    // Not a CVE id: the API names the field (scope.cveId), and its message shows under it.
    await choose('Justification', 'Alternate mitigation', dialog);
    assert.equal(await dialog.getByText('Choose why the risk is accepted.').count(), 0, 'a change takes the message away');
    const cveField = dialog.getByRole('textbox', { name: 'CVE ID' });
    await cveField.fill('not-a-cve');
    await dialog.getByRole('button', { name: 'Create exception' }).click();
    await dialog.getByText(/is not a CVE or TVM- id/).waitFor();
    assert.match(await fieldMessage(cveField), /^scope\.cveId not-a-cve is not a CVE or TVM- id\. Give an id such as/);
    await shot('03-exception-dialog-error');
    await cveField.fill(firstCve);
    await dialog.getByRole('textbox', { name: 'Comment' }).fill('Blocked at the firewall until the next maintenance window.');
    await dialog.getByRole('button', { name: 'Create exception' }).click();
    await page.getByTestId('exception-created').waitFor();
    await dialog.waitFor({ state: 'detached' });
    const listed = (await api(`/api/v1/exceptions?connectionId=${connectionId}`)).items;
    assert.equal(listed.length, 1);
    assert.deepEqual(listed[0].scope, { kind: 'cve', cveId: firstCve });
    assert.equal(listed[0].justification, 'alternate_mitigation');
    assert.equal(listed[0].expiresOn, utcDay(90));
    assert.ok(listed[0].openFindings > 0, 'it covers open findings');
    await shot('04-remediation-exception-created');

    // Back to the list it came from, with its filter.
    await page.goBack();
    await page.getByRole('heading', { name: 'Remediations', level: 1 }).waitFor();
    assert.deepEqual(query(), { kind: 'windows_update' }, 'Back keeps the list\'s filters');
    await page.getByRole('combobox', { name: 'Kind' }).filter({ hasText: 'Windows update' }).waitFor();
    await page.getByRole('table', { name: 'Remediations' }).getByRole('link', { name: chosen.title, exact: true }).waitFor();
  });

  it('lists the exception on the Exceptions page, edits it, and removes it after a confirmation', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Exceptions', exact: true }).click();
    await page.getByRole('heading', { name: 'Exceptions', level: 1 }).waitFor();
    const exception = (await api(`/api/v1/exceptions?connectionId=${connectionId}`)).items[0];
    const table = page.getByRole('table', { name: 'Exceptions' });
    const row = table.getByRole('row').filter({ hasText: exception.scope.cveId });
    await row.getByText('Alternate mitigation').waitFor();
    assert.match(await row.innerText(), new RegExp(`\\b${n(exception.openFindings)}\\b`));
    await shot('05-exceptions');

    // A date too far away: the API refuses it, and says so under the expiry.
    await row.getByRole('button', { name: 'Edit' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit exception' });
    assert.equal(await dialog.getByRole('textbox', { name: 'CVE ID' }).isDisabled(), true, 'the scope stays');
    await dialog.getByLabel('Expires after').fill(utcDay(400));
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByText(/more than 365 days away/).waitFor();
    assert.match(await fieldMessage(dialog.getByLabel('Expires after')), /more than 365 days away/);
    await dialog.getByLabel('Expires after').fill(utcDay(30));
    await dialog.getByRole('textbox', { name: 'Owner' }).fill('Security operations');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row.getByText('Security operations').waitFor();
    assert.equal((await api(`/api/v1/exceptions/${exception.id}`)).expiresOn, utcDay(30));

    await row.getByRole('button', { name: 'Remove' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Remove this exception?' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    assert.equal((await api(`/api/v1/exceptions?connectionId=${connectionId}`)).total, 1, 'Cancel keeps it');
    await row.getByRole('button', { name: 'Remove' }).click();
    await confirm.getByRole('button', { name: 'Remove' }).click();
    await page.getByText('The exception was removed: its findings count again.').waitFor();
    assert.equal((await api(`/api/v1/exceptions?connectionId=${connectionId}&status=all`)).total, 0);
    await table.or(page.getByText(/No active exception/)).first().waitFor();

    // One to keep for the screenshot of the list, created on this page.
    await page.getByRole('button', { name: 'New exception' }).first().click();
    const create = page.getByRole('dialog', { name: 'Create exception' });
    await choose('Connection', 'Emulated tenant', create);
    await choose('Applies to', 'A software product (or one version)', create);
    const product = (await api(`/api/v1/remediations?kind=product_update&limit=1`)).items[0];
    const productDetail = await api(`/api/v1/remediations/${product.id}`);
    const [vendor, name] = productDetail.product.split('/');
    await create.getByRole('textbox', { name: 'Software vendor' }).fill(vendor);
    await create.getByRole('textbox', { name: 'Software name' }).fill(name);
    await choose('Justification', 'Planned remediation', create);
    await create.getByRole('button', { name: 'Create exception' }).click();
    await create.waitFor({ state: 'detached' });
    const softwareRow = table.getByRole('row').filter({ hasText: '(every version)' });
    await softwareRow.waitFor();
    assert.equal(new URL(await softwareRow.getByRole('link').getAttribute('href') ?? '', page.url()).pathname, `/software/${vendor}-_-${name}`, 'linked to the product\'s page');
    await shot('06-exceptions-software');

    // A device group is chosen by its name; the exception keeps Defender's RbacGroupId.
    const facets = await api(`/api/v1/exposure/facets?connectionId=${connectionId}`);
    const group = [...facets.rbacGroups].sort((x: any, y: any) => y.devices - x.devices)[0];
    const member = (await api(`/api/v1/devices?connectionId=${connectionId}&rbacGroup=${encodeURIComponent(group.name)}&limit=1`)).items[0];
    await page.getByRole('button', { name: 'New exception' }).first().click();
    const byGroup = page.getByRole('dialog', { name: 'Create exception' });
    await choose('Connection', 'Emulated tenant', byGroup);
    await choose('Applies to', 'A device group (RBAC group)', byGroup);
    await choose('Device group', `${group.name} (${n(group.devices)} devices)`, byGroup);
    await choose('Justification', 'Third-party control', byGroup);
    await byGroup.getByRole('button', { name: 'Create exception' }).click();
    await byGroup.waitFor({ state: 'detached' });
    await table.getByRole('row').filter({ hasText: 'Device group' }).filter({ hasText: group.name }).waitFor();
    const created = (await api(`/api/v1/exceptions?connectionId=${connectionId}&kind=rbac_group`)).items;
    assert.equal(created.length, 1);
    assert.equal(created[0].scope.rbacGroupId, member.rbacGroupId);
    await shot('06b-exceptions-device-group');
    assert.equal((await admin.call('DELETE', `/api/v1/exceptions/${created[0].id}`)).status, 204);
  });

  it('shows the coverage gaps with their total, linked to the products\' findings', async () => {
    const gaps = await api(`/api/v1/coverage-gaps?limit=50`);
    await page.goto(url('/coverage-gaps'));
    await page.getByRole('heading', { name: 'Coverage gaps', level: 1 }).waitFor();
    await page.getByTestId('gap-total-findings').getByText(n(gaps.totalFindings), { exact: true }).waitFor();
    if (gaps.total > 0) {
      const first = page.getByRole('table', { name: 'Coverage gaps' }).getByRole('row').nth(1);
      await first.getByText(gaps.items[0].whatToDo).waitFor();
      await shot('07-coverage-gaps');
      await first.getByRole('link', { name: n(gaps.items[0].openFindings), exact: true }).click();
      await page.getByRole('heading', { name: 'Findings', level: 1 }).waitFor();
      assert.equal(query().status, 'open');
      await page.goBack();
      await page.getByRole('heading', { name: 'Coverage gaps', level: 1 }).waitFor();
    } else {
      await page.getByText('No coverage gap: an update covers every open finding.').waitFor();
      await shot('07-coverage-gaps');
    }
  });

  it('shows the remediation page in the dark theme', async () => {
    await page.goto(url(`/remediations/${chosen.id}`));
    await page.getByTestId('remediation-device-count').getByText(n(detail.devices), { exact: true }).waitFor();
    await page.getByTestId('theme-toggle').click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.getByRole('table', { name: 'Devices to update' }).getByRole('row').nth(1).waitFor();
    await shot('08-remediation-dark');
    await page.goto(url('/remediations'));
    await page.getByRole('table', { name: 'Remediations' }).getByRole('row').nth(1).waitFor();
    await shot('09-remediations-dark');
    await page.getByTestId('theme-toggle').click();
    assert.deepEqual(pageErrors, [], 'no script errors on any page');
  });

  it('shows a remediation that Defender confirmed complete, once the devices are patched', async () => {
    emulator.advance(24 * 10);
    assert.equal((await sync(admin, connectionId, 'full')).status, 'succeeded');
    const complete = await api('/api/v1/remediations?status=complete&limit=1');
    assert.ok(complete.total > 0, 'ten days of patching complete a remediation');
    const done = await api(`/api/v1/remediations/${complete.items[0].id}`);
    await page.goto(url('/remediations?status=complete'));
    await page.getByRole('table', { name: 'Remediations' }).getByRole('link', { name: done.title, exact: true }).click();
    await page.getByRole('heading', { name: done.title, level: 1 }).waitFor();
    await page.getByTestId('confirmation').getByText(/^Confirmed by Defender at /).waitFor();
    await page.getByTestId('remediation-progress').getByText(`${n(done.fixedFindings)} of ${n(done.fixedFindings)} findings fixed (100%), 0 open`).waitFor();
    await page.getByText('No device left: every finding it closes is fixed.').waitFor();
    await shot('12-remediation-complete');
  });

  it('lets an analyst read remediations and exceptions, with nothing to change', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: 'light' });
    try {
      const analyst = await context.newPage();
      analyst.setDefaultTimeout(STEP_TIMEOUT_MS);
      await analyst.goto(url(`/remediations/${chosen.id}`));
      await signIn(analyst, 'ana', analystPassword);
      // A Windows update moves on to the newest cumulative update: its title may have changed since.
      await analyst.getByRole('heading', { name: (await api(`/api/v1/remediations/${chosen.id}`)).title, level: 1 }).waitFor();
      await analyst.getByTestId('why-this-score').waitFor();
      assert.equal(await analyst.getByRole('button', { name: 'Create exception' }).count(), 0);
      await analyst.goto(url('/exceptions'));
      await analyst.getByRole('table', { name: 'Exceptions' }).getByRole('row').nth(1).waitFor();
      assert.equal(await analyst.getByRole('button', { name: 'New exception' }).count(), 0);
      assert.equal(await analyst.getByRole('button', { name: 'Edit' }).count(), 0);
      assert.equal(await analyst.getByRole('button', { name: 'Remove' }).count(), 0);
      await analyst.getByText(/operators and administrators create and change them/).waitFor();
      await shot('10-exceptions-analyst', analyst);
    } finally {
      await context.close();
    }
  });

  it('says "No connection yet" on a console without connections, pointing to Windows Defender Endpoint', async () => {
    const empty = await startTestConsole();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: 'light' });
    try {
      const other = await context.newPage();
      other.setDefaultTimeout(STEP_TIMEOUT_MS);
      await other.goto(`${empty.running.url}/remediations`);
      await signIn(other, 'admin', ADMIN_PASSWORD);
      await other.getByTestId('no-data').getByText('No connection yet').waitFor();
      await shot('11-remediations-no-connection', other);
      await other.getByTestId('no-data').getByRole('link', { name: 'Windows Defender Endpoint' }).click();
      await other.getByRole('heading', { name: 'Defender Access Settings' }).waitFor();
    } finally {
      await context.close();
      await empty.close();
    }
  });
});
