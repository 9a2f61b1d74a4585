import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, launchBrowser, STEP_TIMEOUT_MS } from '../helpers/browser.js';
import { startEmulator, type AppCredentials, type RunningEmulator } from '../../emulator/server.js';
import { ADMIN_PASSWORD, startTestConsole, type TestConsole } from '../helpers/console.js';


describe('Console in a real browser', () => {
  let emulator: RunningEmulator;
  let console_: TestConsole;
  let browser: Browser;
  let page: Page;

  before(async () => {
    emulator = await startEmulator({ devices: 10, seed: 'browser-test' });
    console_ = await startTestConsole({ extraCaFile: emulator.caFile });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
  });
  after(async () => {
    await browser?.close();
    await console_.close();
    await emulator.close();
  });

  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  async function fillConnection(name: string, app: AppCredentials) {
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Tenant ID').fill(emulator.tenantId);
    await page.getByLabel('Application ID').fill(app.clientId);
    await page.getByLabel('Client Secret').fill(app.secretValue);
    await page.getByRole('combobox', { name: 'Cloud' }).click();
    await page.getByRole('option', { name: 'Custom' }).click();
    await page.getByLabel('Login URL').fill(emulator.loginUrl);
    await page.getByLabel('API URL').fill(emulator.apiUrl);
  }

  it('signs in, opens Windows Defender Endpoint, saves the consented app and sees it connected', async () => {
    await page.goto(console_.running.url);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await shot('01-sign-in');
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByRole('navigation').getByText('Windows Defender Endpoint').click();
    await page.getByRole('heading', { name: 'Defender Access Settings' }).waitFor();
    const save = page.getByRole('button', { name: 'Save', exact: true });
    const saveBox = (await save.boundingBox())!;
    const headingBox = (await page.getByRole('heading', { name: 'Defender Access Settings' }).boundingBox())!;
    const testBox = (await page.getByRole('button', { name: 'Test connection' }).boundingBox())!;
    assert.ok(saveBox.y < headingBox.y && saveBox.x <= headingBox.x + 8 && saveBox.x < testBox.x, 'Save sits at the upper left of the workspace');
    await shot('02-defender-access-settings');

    await fillConnection('Contoso (emulator)', emulator.apps.consented);
    await save.click();
    await page.getByTestId('outcome').getByText('Connected to "Contoso (emulator)".').waitFor();
    const row = page.getByRole('row', { name: /Contoso \(emulator\)/ });
    await row.getByText('Connected', { exact: true }).waitFor();
    assert.equal(await page.getByLabel('Client Secret').inputValue(), '', 'the secret is not put back into the form');
    assert.equal((await page.content()).includes(emulator.apps.consented.secretValue), false, 'the secret is not on the page');
    await page.getByText(`${emulator.apps.consented.secretValue.slice(0, 3)}••••••`, { exact: false }).waitFor();
    await shot('03-connected');

    await page.getByRole('button', { name: 'Sync now' }).click();
    const history = page.getByRole('table', { name: 'Sync history' });
    await history.getByText('Succeeded').waitFor({ timeout: 60_000 });
    const findings = emulator.state().tenants[0].findings;
    await page.getByText(`${findings.toLocaleString('en-US')} open findings`).waitFor();
    await shot('04-synced');
  });

  it('shows the admin-consent diagnosis for the app without consent', async () => {
    await page.getByRole('button', { name: 'New connection' }).click();
    await fillConnection('No consent', emulator.apps.noConsent);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const outcome = page.getByTestId('outcome');
    await outcome.getByText(/no Vulnerability\.Read\.All role/).waitFor();
    assert.match(await outcome.innerText(), /Grant admin consent/);
    assert.equal(await page.getByRole('row', { name: /No consent/ }).count(), 0, 'nothing was stored');
    await shot('05-consent-missing');
  });

  it('shows the Secret ID mistake at its field', async () => {
    await page.getByLabel('Client Secret').fill(emulator.apps.consented.secretId);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/This is the Secret ID, not the secret/).first().waitFor();
    await shot('06-secret-id');
  });
});
