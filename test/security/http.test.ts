// HTTP hardening: security headers, no caching of API data, the host names the console answers
// to, HTTPS with HSTS and Secure cookies, and errors of the router and the HTTP parser in the
// API's own shape.

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { prepareTls } from '../../emulator/tls.js';
import { loadSettings } from '../../src/config/settings.js';
import { ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';

function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => { data += chunk; });
    socket.on('error', reject);
    socket.on('close', () => resolve(data));
    socket.write(text);
  });
}

describe('HTTP hardening', () => {
  let console_: TestConsole;
  let port: number;
  before(async () => {
    console_ = await startTestConsole({ allowedHosts: 'sitepatch.internal' });
    port = Number(new URL(console_.running.url).port);
  });
  after(() => console_.close());

  it('sends the security headers on pages and API answers, and never lets API data be cached', async () => {
    const page = await request(`${console_.running.url}/defender`);
    await page.body.text();
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.equal(page.headers['strict-transport-security'], undefined, 'no HSTS over plain http');

    const api = new ApiClient(console_.running.url);
    await api.login();
    const data = await api.call('GET', '/api/v1/connections');
    assert.equal(data.headers['cache-control'], 'no-store');
    assert.equal(data.headers['x-content-type-options'], 'nosniff');
  });

  it('answers only under its own host names (DNS rebinding)', async () => {
    const as = async (host: string) => {
      const response = await request(`${console_.running.url}/api/v1/health`, { headers: { host } });
      return { status: response.statusCode, body: await response.body.json() as { error?: { code: string } } };
    };
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `sitepatch.internal:${port}`, `[::1]:${port}`]) assert.equal((await as(host)).status, 200, host);
    for (const host of [`evil.example:${port}`, 'attacker.127.0.0.1.nip.io', `localhost.evil.example:${port}`]) {
      const refused = await as(host);
      assert.equal(refused.status, 421, host);
      assert.equal(refused.body.error?.code, 'host_not_allowed');
    }
    const noHost = await raw(port, 'GET /api/v1/health HTTP/1.0\r\n\r\n');
    assert.match(noHost, /^HTTP\/1\.1 421/);
  });

  it('answers router and parser errors as {"error": …}', async () => {
    const badEscape = await raw(port, `GET /api/v1/connections/%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    assert.match(badEscape, /^HTTP\/1\.1 400/);
    assert.match(badEscape, /\{"error":\{"code":"invalid_request"/);
    const longParam = await raw(port, `GET /api/v1/connections/${'a'.repeat(500)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    assert.match(longParam, /^HTTP\/1\.1 414/);
    assert.match(longParam, /\{"error":\{"code":"uri_too_long"/);
    const hugeHeaders = await raw(port, `GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
    assert.match(hugeHeaders, /^HTTP\/1\.1 431/);
    assert.match(hugeHeaders, /\{"error":\{"code":"headers_too_large"/);
    const garbage = await raw(port, 'NOT HTTP AT ALL\r\n\r\n');
    assert.match(garbage, /^HTTP\/1\.1 400/);
    assert.match(garbage, /\{"error":\{"code":"invalid_request"/);
  });
});

describe('HTTPS', () => {
  let console_: TestConsole;
  let dispatcher: Agent;
  before(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-tls-'));
    // The emulator's certificate authority issues the console's certificate too.
    const tls = prepareTls(dir);
    writeFileSync(path.join(dir, 'cert.pem'), tls.certPem);
    writeFileSync(path.join(dir, 'key.pem'), tls.keyPem);
    console_ = await startTestConsole({ tlsCertFile: path.join(dir, 'cert.pem'), tlsKeyFile: path.join(dir, 'key.pem') });
    dispatcher = new Agent({ connect: { ca: tls.caPem } });
  });
  after(async () => {
    await dispatcher.close();
    await console_.close();
  });

  it('serves TLS with HSTS and marks the session cookie Secure', async () => {
    assert.match(console_.running.url, /^https:/);
    const response = await request(`${console_.running.url}/api/v1/auth/login`, {
      method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'correct-horse-battery-staple' }),
    });
    await response.body.text();
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['strict-transport-security']), /max-age=31536000/);
    assert.match(String(response.headers['set-cookie']), /sitepatch_session=[^;]+;.*Secure/);
  });
});

describe('Secure cookies from the environment', () => {
  it('reads SITEPATCH_SECURE_COOKIES, and turns them on by default behind an https publicUrl', () => {
    assert.equal(loadSettings({ dataDir: os.tmpdir() }, { SITEPATCH_SECURE_COOKIES: 'true' }).secureCookies, true);
    assert.equal(loadSettings({ dataDir: os.tmpdir() }, {}).secureCookies, false);
    assert.equal(loadSettings({ dataDir: os.tmpdir() }, { SITEPATCH_PUBLIC_URL: 'https://sitepatch.contoso.com' }).secureCookies, true);
    assert.equal(loadSettings({ dataDir: os.tmpdir() }, { SITEPATCH_PUBLIC_URL: 'https://sitepatch.contoso.com', SITEPATCH_SECURE_COOKIES: 'false' }).secureCookies, false);
  });
});
