// In a real browser: "Sign in with Microsoft" goes through the emulated Entra sign-in page, lands
// in the console with the role the user's app role grants, and signs out through Entra.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, launchBrowser, STEP_TIMEOUT_MS } from '../helpers/browser.js';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { startTestConsole, type TestConsole } from '../helpers/console.js';
import { entraSignInSettings } from '../helpers/entra-sign-in.js';


describe('Sign in with Microsoft in a real browser', () => {
  let emulator: RunningEmulator;
  let console_: TestConsole;
  let browser: Browser;
  let page: Page;

  before(async () => {
    emulator = await startEmulator({ devices: 5, seed: 'browser-entra' });
    console_ = await startTestConsole(entraSignInSettings(emulator));
    browser = await launchBrowser();
    // The emulated Entra ID serves TLS with the emulator's own certificate authority.
    page = await browser.newPage({ viewport: { width: 1400, height: 900 }, ignoreHTTPSErrors: true });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
  });
  after(async () => {
    await browser?.close();
    await console_.close();
    await emulator.close();
  });

  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  it('signs in through the Entra sign-in page with the role of the app role, and signs out', async () => {
    const otto = emulator.users.find((u) => u.roles.includes('SitePatch.Operator'))!;
    await page.goto(console_.running.url);
    await page.getByRole('link', { name: 'Sign in with Microsoft' }).click();
    await page.waitForURL((url) => url.href.startsWith(emulator.loginUrl));
    await page.locator('input[name=loginfmt]').fill(otto.username);
    await page.locator('input[name=passwd]').fill(otto.password);
    await shot('entra-01-sign-in-page');
    await page.locator('#idSIButton9').click();

    await page.waitForURL((url) => url.href.startsWith(console_.running.url));
    const role = page.getByTestId('signed-in-role');
    await role.waitFor();
    assert.match(await role.innerText(), /operator/i);
    await page.getByText(otto.displayName).first().waitFor();
    // An operator sees Windows Defender Endpoint, but not the administrators' workspaces.
    await page.getByRole('navigation').getByText('Windows Defender Endpoint').waitFor();
    assert.equal(await page.getByRole('navigation').getByText('Users').count(), 0);
    await shot('entra-02-signed-in-as-operator');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with Microsoft' }).waitFor();
    assert.ok(page.url().startsWith(console_.running.url), `back on the console: ${page.url()}`);
    const session = await page.evaluate(async () => (await fetch('/api/v1/auth/session')).status);
    assert.equal(session, 401);
    await shot('entra-03-signed-out');
  });
});
