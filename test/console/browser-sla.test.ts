// The SLA compliance page in a real browser, over a small emulated tenant synced twice: the
// figures the API answers (checked against the emulator in test/remediation/sla.test.ts) on the
// tiles and per device group, an exception that takes a device group's findings out of the figures,
// the period in the address, and the link from the overdue count into the findings list filtered
// to those findings. Screenshots go to test-artifacts/browser/sla-*.png.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, launchBrowser, STEP_TIMEOUT_MS } from '../helpers/browser.js';
import { ADMIN_PASSWORD } from '../helpers/console.js';
import { startSyncFixture, sync, type SyncFixture } from '../helpers/sync.js';

describe('SLA compliance in a real browser', () => {
  let fixture: SyncFixture;
  let browser: Browser;
  let page: Page;

  before(async () => {
    fixture = await startSyncFixture({ devices: 80, devicesPerPart: 40, seed: 'browser-sla', timeScale: 0.002 });
    assert.equal((await sync(fixture.api, fixture.connectionId, 'full')).status, 'succeeded');
    fixture.emulator.advance(24);
    assert.equal((await sync(fixture.api, fixture.connectionId, 'full')).status, 'succeeded');
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1600, height: 1100 } });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
  });
  after(async () => {
    await browser?.close();
    await fixture?.close();
  });

  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `sla-${name}.png`), fullPage: true, animations: 'disabled' });
  const summary = async () => (await fixture.api.call('GET', `/api/v1/sla?connectionId=${fixture.connectionId}`)).body;
  const n = (value: number) => value.toLocaleString('en-US');

  it('shows compliance, the overdue findings by severity and per device group, and the trend', async () => {
    const figures = await summary();
    assert.ok(figures.totals.overdue > 0, 'the tenant has overdue findings');
    await page.goto(fixture.console.running.url);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('signed-in-user').waitFor();
    await page.getByRole('navigation').getByText('SLA compliance', { exact: true }).click();
    await page.getByRole('heading', { name: 'SLA compliance', exact: true }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/sla');
    await page.getByTestId('compliance').filter({ hasText: `${figures.totals.compliance.toFixed(1)}%` }).waitFor();
    assert.equal(await page.getByTestId('overdue').textContent(), n(figures.totals.overdue));
    assert.equal(await page.getByTestId('excepted').textContent(), '0');
    const groups = page.getByRole('table', { name: 'Compliance per device group' });
    const groupNames = figures.connections[0].rbacGroups.filter((g: any) => g.counted > 0).map((g: any) => g.name);
    for (const name of groupNames) await groups.getByText(name, { exact: true }).waitFor();
    await page.getByTestId('compliance-chart').locator('svg').first().waitFor();
    await shot('01-compliance');
  });

  it('leaves out a device group an exception covers, once the page is refreshed', async () => {
    const before = await summary();
    const group = [...before.connections[0].rbacGroups].sort((a: any, b: any) => b.overdue - a.overdue)[0];
    const created = await fixture.api.call('POST', '/api/v1/exceptions', {
      connectionId: fixture.connectionId, scope: { kind: 'rbac_group', rbacGroupId: group.rbacGroupId }, justification: 'planned_remediation',
      owner: 'secops@contoso.example', expiresOn: new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10),
    });
    assert.equal(created.status, 201, created.text);
    const after = await summary();
    assert.equal(after.totals.excepted, group.counted);
    assert.equal(after.totals.overdue, before.totals.overdue - group.overdue);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByTestId('excepted').filter({ hasText: n(group.counted) }).waitFor();
    assert.equal(await page.getByTestId('overdue').textContent(), n(after.totals.overdue));
    await shot('02-exception');
  });

  it('keeps the period in the address, and links the overdue count to the findings list filtered to them', async () => {
    await page.getByRole('tab', { name: '90 days' }).click();
    await page.waitForURL(/days=90/);
    const figures = (await fixture.api.call('GET', `/api/v1/sla?connectionId=${fixture.connectionId}&days=90`)).body;
    assert.equal(figures.trend.length, 90);
    await page.getByTestId('overdue').click();
    await page.getByRole('heading', { name: 'Findings', exact: true }).waitFor();
    const query = Object.fromEntries(new URL(page.url()).searchParams);
    assert.deepEqual(query, { status: 'open', slaState: 'overdue' });
    await page.getByTestId('list-range').getByText(`of ${n(figures.totals.overdue)} findings`).waitFor();
    const table = page.getByRole('table', { name: 'Findings' });
    assert.ok(await table.getByText('Overdue', { exact: true }).count() > 0);
    assert.equal(await table.getByText('Within', { exact: true }).count(), 0);
    await shot('03-overdue-findings');
  });
});
