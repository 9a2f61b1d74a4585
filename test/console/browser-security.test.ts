// The console's identity pages in a real browser: TOTP enrolment and the sign-in code step, plus
// screenshots of My account, Users and Security settings for a look at their layout.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as OTPAuth from 'otpauth';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ADMIN_PASSWORD, startTestConsole, type TestConsole } from '../helpers/console.js';

const SCREENSHOTS = process.env.SITEPATCH_SCREENSHOTS ?? '/tmp/sitepatch-browser-security';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const STEP_MS = 30_000;

describe('Console identity pages in a real browser', () => {
  let console_: TestConsole;
  let browser: Browser;
  let page: Page;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    console_ = await startTestConsole();
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(15_000);
  });
  after(async () => {
    await browser?.close();
    await console_?.close();
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

  async function signIn(username: string, password: string) {
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  it('enrols TOTP for a local account and signs in with a code', async () => {
    await page.goto(console_.running.url);
    await signIn('admin', ADMIN_PASSWORD);
    await page.getByTestId('signed-in-user').getByText('admin').waitFor();
    assert.equal(await page.getByTestId('signed-in-role').innerText(), 'Administrator');
    const nav = page.getByRole('navigation');
    for (const item of ['Windows Defender Endpoint', 'Audit log', 'Users', 'Security settings', 'My account']) await nav.getByText(item, { exact: true }).waitFor();

    await nav.getByText('My account', { exact: true }).click();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/account');
    await page.getByRole('table', { name: 'Sessions' }).getByText('This browser').waitFor();
    await shot('01-my-account');

    const twoStep = page.getByRole('region', { name: 'Two-step verification' });
    await twoStep.getByRole('button', { name: 'Set up authenticator app' }).click();
    const secretField = page.getByTestId('totp-secret');
    await secretField.waitFor();
    await page.getByTestId('totp-qr').waitFor();
    const secret = (await secretField.inputValue()).replace(/\s/g, '');
    assert.match(secret, /^[A-Z2-7]+=*$/, 'the manual-entry key is base32');
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
    await shot('02-totp-enrolment');

    const enrolledAt = Date.now();
    await twoStep.getByLabel('Code').fill(totp.generate());
    await twoStep.getByRole('button', { name: 'Verify and turn on' }).click();
    await twoStep.getByText('Two-step verification is on.', { exact: false }).waitFor();
    await twoStep.getByText('On', { exact: true }).waitFor();
    await shot('03-totp-enrolled');

    await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
    await signIn('admin', ADMIN_PASSWORD);
    await page.getByRole('heading', { name: 'Enter code' }).waitFor();
    const code = page.getByLabel('Code');
    assert.equal(await code.getAttribute('autocomplete'), 'one-time-code');
    assert.equal(await code.getAttribute('inputmode'), 'numeric');
    await shot('04-sign-in-code-step');

    // A wrong code is refused at the field; the step stays.
    const wrong = totp.generate() === '000000' ? '111111' : '000000';
    await code.fill(wrong);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Enter code' }).waitFor();
    await page.getByRole('alert').first().waitFor();
    await shot('05-sign-in-wrong-code');

    // The enrolment's code may be spent (replay protection): use the next time step's own code.
    const wait = Math.floor(enrolledAt / STEP_MS) === Math.floor(Date.now() / STEP_MS) ? STEP_MS - (Date.now() % STEP_MS) + 500 : 0;
    await new Promise((resolve) => setTimeout(resolve, wait));
    await code.fill(totp.generate());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByTestId('signed-in-user').getByText('admin').waitFor();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await page.getByRole('region', { name: 'Two-step verification' }).getByText('On', { exact: true }).waitFor();
  });

  it('shows the Users, Security settings and Audit log pages', async () => {
    const nav = page.getByRole('navigation');
    await nav.getByText('Users', { exact: true }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByRole('table', { name: 'Users' }).getByText('admin', { exact: true }).waitFor();
    const newUser = page.getByRole('button', { name: 'New user' });
    const heading = page.getByRole('heading', { name: 'Users' });
    const [buttonBox, headingBox] = [(await newUser.boundingBox())!, (await heading.boundingBox())!];
    assert.ok(buttonBox.y < headingBox.y && buttonBox.x <= headingBox.x + 8, 'New user sits at the upper left of the workspace');
    await shot('06-users');

    await newUser.click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Username').fill('ana');
    await dialog.getByLabel('Password').fill('a-long-unusual-passphrase-for-ana');
    await dialog.getByRole('combobox').first().click();
    await page.getByRole('option', { name: /Analyst/ }).click();
    await dialog.getByRole('switch', { name: 'Require two-step verification' }).check();
    await shot('07-users-new');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const row = page.getByRole('row', { name: /ana/ });
    await row.getByText('Analyst').waitFor();
    await row.getByText('Required, not set up').waitFor();
    await shot('08-users-created');

    await nav.getByText('Security settings', { exact: true }).click();
    await page.getByRole('heading', { name: 'Security settings' }).waitFor();
    await page.getByRole('switch', { name: 'Require two-step verification for local accounts' }).waitFor();
    await shot('09-security-settings');

    await nav.getByText('Audit log', { exact: true }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    const csv = page.getByRole('link', { name: 'Export CSV' });
    assert.equal(await csv.getAttribute('href'), '/api/v1/audit-events.csv');
    await page.getByRole('columnheader', { name: 'Address' }).waitFor();
    await shot('10-audit-log');
  });
});
