// The console's identity pages in a real browser: TOTP enrolment and the sign-in code step, an
// administrator's reset of a user's two-step verification, plus screenshots of My account, Users
// and Security settings for a look at their layout.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as OTPAuth from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, launchBrowser, STEP_TIMEOUT_MS } from '../helpers/browser.js';
import { ADMIN_PASSWORD, ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';

const STEP_MS = 30_000;

describe('Console identity pages in a real browser', () => {
  let console_: TestConsole;
  let browser: Browser;
  let page: Page;

  before(async () => {
    console_ = await startTestConsole();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
  });
  after(async () => {
    await browser?.close();
    await console_?.close();
  });

  const shot = (name: string, on: Page = page) => on.screenshot({ path: path.join(ARTIFACTS, `security-${name}.png`), fullPage: true, animations: 'disabled' });

  async function signIn(username: string, password: string, on: Page = page) {
    await on.getByLabel('Username').fill(username);
    await on.getByLabel('Password').fill(password);
    await on.getByRole('button', { name: 'Sign in', exact: true }).click();
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

  it('resets a user\'s two-step verification from the Users page', async () => {
    const nav = page.getByRole('navigation');
    await nav.getByText('Users', { exact: true }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();

    // bo, an analyst who set up an authenticator app of their own accord (nothing requires it).
    const boPassword = 'bo-keeps-a-rather-long-passphrase';
    await page.getByRole('button', { name: 'New user' }).click();
    const newDialog = page.getByRole('dialog', { name: 'New user' });
    await newDialog.getByLabel('Username').fill('bo');
    await newDialog.getByLabel('Password').fill(boPassword);
    await newDialog.getByRole('button', { name: 'Create' }).click();
    await newDialog.waitFor({ state: 'hidden' });
    const bo = new ApiClient(console_.running.url);
    assert.equal((await bo.login('bo', boPassword)).status, 200);
    const started = await bo.call('POST', '/api/v1/auth/mfa/totp');
    assert.equal(started.status, 200);
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(started.body.secret) });
    assert.equal((await bo.call('POST', '/api/v1/auth/mfa/totp/confirm', { code: totp.generate() })).status, 200);
    const withoutCode = await new ApiClient(console_.running.url).login('bo', boPassword);
    assert.equal(withoutCode.status, 401);
    assert.equal(withoutCode.body.error.code, 'mfa_required', 'before the reset, bo\'s password alone is not enough');

    await page.getByRole('button', { name: 'Refresh' }).click();
    const boName = page.getByRole('button', { name: 'bo', exact: true });
    const row = page.getByRole('row').filter({ has: boName });
    await row.getByText('On', { exact: true }).waitFor();
    await boName.click();
    const edit = page.getByRole('dialog', { name: 'Edit bo' });
    await edit.getByText('Authenticator app: set up').waitFor();
    await edit.getByRole('button', { name: 'Set a new password…' }).waitFor();
    await shot('11-users-edit-local');

    // On the way: the new-password action refuses a weak password at its field, and changes nothing.
    await edit.getByRole('button', { name: 'Set a new password…' }).click();
    const passwordDialog = page.getByRole('dialog', { name: 'Set a new password for bo' });
    await passwordDialog.getByLabel('New password').fill('password1234');
    await passwordDialog.getByRole('button', { name: 'Set password' }).click();
    await passwordDialog.getByText(/too easy to guess/).waitFor();
    await shot('12-users-new-password-refused');
    await passwordDialog.getByRole('button', { name: 'Cancel' }).click();
    await passwordDialog.waitFor({ state: 'hidden' });
    assert.equal((await bo.call('GET', '/api/v1/auth/session')).status, 200, 'a refused password leaves bo signed in');

    await edit.getByRole('button', { name: 'Reset two-step verification…' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Reset two-step verification for bo?' });
    await confirm.getByText(/signed out everywhere now/).waitFor();
    await confirm.getByText(/bo signs in with the password alone/).waitFor();
    await shot('13-users-reset-mfa-confirm');
    await confirm.getByRole('button', { name: 'Reset two-step verification', exact: true }).click();
    await confirm.waitFor({ state: 'hidden' });
    await edit.getByRole('status').getByText(/Reset two-step verification for bo/).waitFor();
    await edit.getByText('Authenticator app: not set up').waitFor();
    assert.ok(await edit.getByRole('button', { name: 'Reset two-step verification…' }).isDisabled(), 'nothing left to reset');
    await shot('14-users-reset-mfa-done');
    await edit.getByRole('button', { name: 'Close' }).click();
    await edit.waitFor({ state: 'hidden' });
    await row.getByText('Off', { exact: true }).waitFor();
    await page.getByRole('status').getByText(/Reset two-step verification for bo/).waitFor();
    await shot('15-users-after-reset');

    // The reset ended bo's session; now bo signs in with the password alone.
    assert.equal((await bo.call('GET', '/api/v1/auth/session')).status, 401, 'the reset signed bo out');
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    try {
      const boPage = await context.newPage();
      boPage.setDefaultTimeout(STEP_TIMEOUT_MS);
      await boPage.goto(console_.running.url);
      await signIn('bo', boPassword, boPage);
      await boPage.getByTestId('signed-in-user').getByText('bo', { exact: true }).waitFor();
      assert.equal(await boPage.getByRole('heading', { name: 'Enter code' }).count(), 0, 'no code is asked for');
      await boPage.getByRole('navigation').getByText('My account', { exact: true }).click();
      const twoStep = boPage.getByRole('region', { name: 'Two-step verification' });
      await twoStep.getByTestId('mfa-status').getByText('Off', { exact: true }).waitFor();
      await twoStep.getByRole('button', { name: 'Set up authenticator app' }).waitFor();
      await shot('16-user-signed-in-without-code', boPage);
    } finally {
      await context.close();
    }
  });
});
