// Local sign-in: the throttle (shared, persistent, no lock-out of the real user), first-run setup
// under concurrency, password rules, sessions and their timeouts, API tokens, TOTP, and the audit
// entries each of these leaves.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TOTP, Secret } from 'otpauth';
import { Agent, request } from 'undici';
import { createLoginThrottle } from '../../src/users/login-throttle.js';
import { ADMIN_PASSWORD, ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';

/** A client whose requests come from another loopback address (127.0.0.x), as another machine's would. */
function clientFrom(baseUrl: string, address: string, bearer?: string): ApiClient {
  const client = new ApiClient(baseUrl, bearer);
  client.dispatcher = new Agent({ localAddress: address });
  return client;
}

const code = (secret: string, at = Date.now()) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: at });

describe('Sign-in throttle', () => {
  let console_: TestConsole;
  before(async () => { console_ = await startTestConsole(); });
  after(() => console_?.close());

  it('counts " admin" and "admin" as one account', async () => {
    const attacker = clientFrom(console_.running.url, '127.0.0.2');
    for (let i = 0; i < 5; i++) assert.equal((await attacker.login('admin', 'wrong password number one')).status, 401);
    const padded = await attacker.login(' admin ', 'wrong password number one');
    assert.equal(padded.status, 429, padded.text);
    assert.ok(Number(padded.headers['retry-after']) >= 1);
  });

  it('checks at most the free attempts when 50 wrong passwords arrive at once', async () => {
    await console_.running.services.db.deleteFrom('login_throttle').execute();
    const attempts = await Promise.all(Array.from({ length: 50 }, () => clientFrom(console_.running.url, '127.0.0.3').login('admin', 'concurrent wrong guess')));
    const checked = attempts.filter((r) => r.status === 401).length;
    assert.equal(checked, 5, `${checked} passwords were checked`);
    assert.equal(attempts.filter((r) => r.status === 429).length, 45);
  });

  it('does not let failures from elsewhere lock the real user out', async () => {
    await console_.running.services.db.deleteFrom('login_throttle').execute();
    // The administrator signed in from this browser before: it holds the account's device cookie.
    const browser = clientFrom(console_.running.url, '127.0.0.4');
    assert.equal((await browser.login()).status, 200);
    assert.ok(browser.cookies.get('sitepatch_device'));
    for (const address of ['127.0.0.5', '127.0.0.6', '127.0.0.7']) {
      for (let i = 0; i < 4; i++) await clientFrom(console_.running.url, address).login('admin', 'a guess from elsewhere');
    }
    const stranger = await clientFrom(console_.running.url, '127.0.0.8').login('admin', 'a guess from elsewhere');
    assert.equal(stranger.status, 429, 'the account is slowed down');
    assert.ok(Number(stranger.headers['retry-after']) <= 60, 'for a minute at most, never 15');
    assert.equal((await browser.login()).status, 200, 'the browser the administrator used before still gets in');
    const colleague = clientFrom(console_.running.url, '127.0.0.4');
    for (let i = 0; i < 12; i++) await colleague.login('someone-else', 'a guess from the same office');
    assert.equal((await colleague.login('someone-else', 'a guess from the same office')).status, 429, 'the shared address is slowed down');
    assert.equal((await browser.login()).status, 200, 'but not the browser the administrator used before');
  });

  it('slows down an unknown name exactly like a real account, so it does not tell which names exist', async () => {
    await console_.running.services.db.deleteFrom('login_throttle').execute();
    const statuses = async (address: string, username: string) => {
      const client = clientFrom(console_.running.url, address);
      const out = [];
      for (let i = 0; i < 7; i++) out.push((await client.login(username, 'wrong guess, again')).status);
      return out;
    };
    const real = await statuses('127.0.0.10', 'admin');
    assert.deepEqual(real, [401, 401, 401, 401, 401, 429, 429]);
    assert.deepEqual(await statuses('127.0.0.11', 'no-such-user'), real);
  });

  it('keeps its counts in the database: a restart does not reset them', async () => {
    await console_.running.services.db.deleteFrom('login_throttle').execute();
    const attacker = clientFrom(console_.running.url, '127.0.0.9');
    let throttled = 0;
    for (let i = 0; i < 30 && !throttled; i++) if ((await attacker.login(`nobody-${i}`, 'wrong')).status === 429) throttled = i;
    assert.equal(throttled, 10, 'ten free failures per address, whatever the names');
    assert.equal((await attacker.login('nobody-else', 'wrong')).status, 429);

    // The address's wait is the throttle's one second now; stretched to ten minutes in the store, so
    // that a slow restart cannot outlast it.
    const db = console_.running.services.db;
    const stored = await db.selectFrom('login_throttle').selectAll().where('key', '=', 'address:127.0.0.9').executeTakeFirstOrThrow();
    assert.ok(stored.failures >= 10);
    await db.updateTable('login_throttle').set({ next_at: Date.now() + 10 * 60_000 }).where('key', '=', stored.key).execute();
    const dataDir = console_.dataDir;
    await console_.running.close();
    console_ = await startTestConsole({}, dataDir);
    assert.equal((await clientFrom(console_.running.url, '127.0.0.9').login('admin', ADMIN_PASSWORD)).status, 429, 'still slowed down after a restart');
    const after = await console_.running.services.db.selectFrom('login_throttle').selectAll().where('key', '=', stored.key).executeTakeFirstOrThrow();
    assert.equal(after.failures, stored.failures, 'the count survived the restart');
  });
});

describe('Sign-in throttle storage', () => {
  it('holds nothing in memory and forgets keys 15 minutes after their last failure', async () => {
    const console_ = await startTestConsole();
    try {
      const db = console_.running.services.db;
      let now = Date.now();
      const throttle = createLoginThrottle(db, () => now);
      for (let i = 0; i < 500; i++) await throttle.attempt([{ kind: 'account', id: `name:visitor-${i}` }]);
      const count = async () => Number((await db.selectFrom('login_throttle').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      assert.equal(await count(), 500);
      now += 16 * 60_000;
      await throttle.attempt([{ kind: 'address', id: '192.0.2.1' }]);
      assert.equal(await count(), 1, 'the stale keys were pruned');
    } finally {
      await console_.close();
    }
  });
});

describe('Sign-in flood guard', () => {
  let console_: TestConsole;
  before(async () => { console_ = await startTestConsole(); });
  after(() => console_.close());

  it('takes at most 100 sign-in requests a minute from one address, even right ones', async () => {
    const client = clientFrom(console_.running.url, '127.0.0.30');
    for (let i = 0; i < 100; i++) assert.equal((await client.login()).status, 200);
    const flooded = await client.login();
    assert.equal(flooded.status, 429);
    assert.equal(flooded.body.error.code, 'rate_limited');
    assert.ok(Number(flooded.headers['retry-after']) > 0);
    assert.equal((await clientFrom(console_.running.url, '127.0.0.31').login()).status, 200, 'other addresses go on');
  });
});

describe('First-run setup under concurrency', () => {
  let console_: TestConsole;
  before(async () => { console_ = await startTestConsole({ adminPassword: undefined }); });
  after(() => console_.close());

  it('creates exactly one administrator when ten setups race', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      new ApiClient(console_.running.url).call('POST', '/api/v1/auth/setup', { username: `admin${i}`, password: 'parallel-setup-of-the-console' })));
    assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => r.status).join(','));
    assert.ok(results.filter((r) => r.status !== 200).every((r) => r.status === 409 && r.body.error.code === 'setup_done'));
    assert.equal(await console_.running.services.accounts.count(), 1);
  });
});

describe('Credentials lifecycle', () => {
  let console_: TestConsole;
  let admin: ApiClient;
  before(async () => {
    console_ = await startTestConsole();
    admin = new ApiClient(console_.running.url);
    await admin.login();
  });
  after(() => console_.close());

  it('refuses short, common and control-character passwords, and nothing else', async () => {
    const attempt = (password: string) => admin.call('POST', '/api/v1/users', { username: 'pat', password, role: 'analyst' });
    for (const weak of ['password', ' '.repeat(12), '\u0000'.repeat(12), 'password1234', 'qwertyuiop123', 'trustno1trustno1', 'pat-pat-pat-pat']) {
      const response = await attempt(weak);
      assert.equal(response.status, 422, JSON.stringify(weak));
      assert.equal(response.body.error.code, 'invalid_input');
    }
    // No composition rules: a long passphrase of lower-case words is fine.
    assert.equal((await attempt('saddle orbit thimble kettle')).status, 201);
  });

  it('changes a password only with the current one, and ends the other sessions', async () => {
    const laptop = new ApiClient(console_.running.url);
    const phone = new ApiClient(console_.running.url);
    assert.equal((await laptop.login('pat', 'saddle orbit thimble kettle')).status, 200);
    assert.equal((await phone.login('pat', 'saddle orbit thimble kettle')).status, 200);
    assert.equal((await laptop.call('GET', '/api/v1/auth/sessions')).body.total, 2);
    const wrong = await laptop.call('POST', '/api/v1/auth/password', { currentPassword: 'not it', newPassword: 'copper-meadow-violin-sunrise' });
    assert.equal(wrong.status, 401);
    const weak = await laptop.call('POST', '/api/v1/auth/password', { currentPassword: 'saddle orbit thimble kettle', newPassword: 'password1234' });
    assert.equal(weak.status, 422);
    const changed = await laptop.call('POST', '/api/v1/auth/password', { currentPassword: 'saddle orbit thimble kettle', newPassword: 'copper-meadow-violin-sunrise' });
    assert.equal(changed.status, 200, changed.text);
    assert.equal((await phone.call('GET', '/api/v1/connections')).status, 401, 'the other session ended');
    assert.equal((await laptop.call('GET', '/api/v1/connections')).status, 200, 'this session goes on');
    assert.equal((await new ApiClient(console_.running.url).login('pat', 'copper-meadow-violin-sunrise')).status, 200);
  });

  it('never leaves the console without an enabled administrator', async () => {
    const self = (await admin.call('GET', '/api/v1/auth/session')).body.user.id;
    for (const [method, body] of [['PATCH', { role: 'operator' }], ['PATCH', { disabled: true }], ['DELETE', undefined]] as const) {
      const refused = await admin.call(method, `/api/v1/users/${self}`, body);
      assert.equal(refused.status, 409, `${method} ${JSON.stringify(body)}`);
      assert.equal(refused.body.error.code, 'last_admin');
    }
    assert.equal((await admin.call('GET', '/api/v1/users')).status, 200, 'still an administrator');
  });

  it('lets an administrator set a password, and applies nothing of a change it refuses', async () => {
    const id = (await admin.call('GET', '/api/v1/users')).body.items.find((u: { username: string }) => u.username === 'pat').id;
    const refused = await admin.call('PATCH', `/api/v1/users/${id}`, { role: 'operator', password: 'password1234' });
    assert.equal(refused.status, 422);
    assert.equal((await admin.call('GET', '/api/v1/users')).body.items.find((u: { id: number }) => u.id === id).role, 'analyst', 'the role stayed');
    const pat = new ApiClient(console_.running.url);
    await pat.login('pat', 'copper-meadow-violin-sunrise');
    assert.equal((await admin.call('PATCH', `/api/v1/users/${id}`, { password: 'lantern-quarry-mellow-fjord' })).status, 200);
    assert.equal((await pat.call('GET', '/api/v1/connections')).status, 401, 'the user signs in again');
    assert.equal((await pat.login('pat', 'lantern-quarry-mellow-fjord')).status, 200);
    assert.equal((await admin.call('PATCH', `/api/v1/users/${id}`, { password: 'copper-meadow-violin-sunrise' })).status, 200);
  });

  it('lists one\'s sessions, ends one, caps them, and signs out everywhere', async () => {
    const clients = [];
    for (let i = 0; i < 12; i++) {
      const client = new ApiClient(console_.running.url);
      assert.equal((await client.login('pat', 'copper-meadow-violin-sunrise')).status, 200);
      clients.push(client);
    }
    const newest = clients[clients.length - 1];
    const sessions = (await newest.call('GET', '/api/v1/auth/sessions')).body;
    assert.equal(sessions.total, 10, 'at most ten sessions at once');
    assert.equal(sessions.items.filter((s: { current: boolean }) => s.current).length, 1);
    assert.equal(sessions.items[0].address, '127.0.0.1');
    assert.equal((await clients[0].call('GET', '/api/v1/connections')).status, 401, 'the oldest session ended');
    const other = sessions.items.find((s: { current: boolean }) => !s.current);
    assert.equal((await newest.call('DELETE', `/api/v1/auth/sessions/${other.id}`)).status, 204);
    assert.equal((await newest.call('GET', '/api/v1/auth/sessions')).body.total, 9);
    assert.equal((await admin.call('DELETE', `/api/v1/auth/sessions/${sessions.items[1].id}`)).status, 404, 'not another user\'s session');
    assert.equal((await newest.call('POST', '/api/v1/auth/sessions/end-all')).status, 200);
    for (const client of clients) assert.equal((await client.call('GET', '/api/v1/auth/sessions')).status, 401);
  });

  it('ends sessions after the idle and the absolute timeout', async () => {
    const db = console_.running.services.db;
    const client = new ApiClient(console_.running.url);
    await client.login('pat', 'copper-meadow-violin-sunrise');
    assert.equal((await admin.call('PATCH', '/api/v1/settings/security', { idleTimeoutMinutes: 5 })).status, 200);
    assert.equal((await admin.call('PATCH', '/api/v1/settings/security', { idleTimeoutMinutes: 2 })).status, 422, 'at least 5 minutes');
    const user = await db.selectFrom('user').select('id').where('username', '=', 'pat').executeTakeFirstOrThrow();
    await db.updateTable('session').set({ last_seen_at: new Date(Date.now() - 6 * 60_000).toISOString() }).where('user_id', '=', user.id).execute();
    assert.equal((await client.call('GET', '/api/v1/connections')).status, 401, 'idle too long');

    await client.login('pat', 'copper-meadow-violin-sunrise');
    await db.updateTable('session').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('user_id', '=', user.id).execute();
    assert.equal((await client.call('GET', '/api/v1/connections')).status, 401, 'past the absolute timeout');
    await admin.call('PATCH', '/api/v1/settings/security', { idleTimeoutMinutes: 30 });
  });

  it('gives tokens a name, an expiry, a role and a scope, lists them with their last use, and revokes them', async () => {
    const created = await admin.call('POST', '/api/v1/tokens', { name: 'reporting', expiresInDays: 30, role: 'analyst' });
    assert.equal(created.status, 201, created.text);
    assert.match(created.body.token, /^sp_/);
    assert.ok(Math.abs(Date.parse(created.body.expiresAt) - (Date.now() + 30 * 86_400_000)) < 60_000);
    const reporting = new ApiClient(console_.running.url, created.body.token);
    assert.equal((await reporting.call('GET', '/api/v1/connections')).status, 200);
    const write = await reporting.call('POST', '/api/v1/connections', {});
    assert.equal(write.status, 403, 'a read-only token cannot write');
    const listed = (await admin.call('GET', '/api/v1/tokens')).body.items.find((t: { id: number }) => t.id === created.body.id);
    assert.ok(listed.lastUsedAt, 'last use recorded');
    assert.equal(JSON.stringify(listed).includes(created.body.token), false, 'the value is never listed');
    assert.equal((await admin.call('POST', '/api/v1/tokens', { name: 'forever', expiresInDays: 4000 })).status, 400);

    const db = console_.running.services.db;
    await db.updateTable('api_token').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', created.body.id).execute();
    assert.equal((await reporting.call('GET', '/api/v1/connections')).status, 401, 'expired');

    const second = (await admin.call('POST', '/api/v1/tokens', { name: 'to revoke' })).body;
    assert.equal((await admin.call('DELETE', `/api/v1/tokens/${second.id}`)).status, 204);
    assert.equal((await new ApiClient(console_.running.url, second.token).call('GET', '/api/v1/connections')).status, 401, 'revoked');

    const pat = new ApiClient(console_.running.url);
    await pat.login('pat', 'copper-meadow-violin-sunrise');
    const tooStrong = await pat.call('POST', '/api/v1/tokens', { name: 'escalate', role: 'admin' });
    assert.equal(tooStrong.status, 422, 'an analyst cannot mint an admin token');
    assert.equal((await pat.call('DELETE', `/api/v1/tokens/${created.body.id}`)).status, 404, 'nor revoke the admin\'s');
  });
});

describe('Two-step verification (TOTP)', () => {
  let console_: TestConsole;
  let admin: ApiClient;
  before(async () => {
    console_ = await startTestConsole();
    admin = new ApiClient(console_.running.url);
    await admin.login();
    await admin.call('POST', '/api/v1/users', { username: 'tara', password: 'glacier-pepper-autumn-ledger', role: 'operator' });
  });
  after(() => console_.close());

  it('enrols an authenticator app, then asks for a code at sign-in and takes each code once', async () => {
    const tara = new ApiClient(console_.running.url);
    await tara.login('tara', 'glacier-pepper-autumn-ledger');
    const enrolment = (await tara.call('POST', '/api/v1/auth/mfa/totp')).body;
    assert.match(enrolment.uri, /^otpauth:\/\/totp\/SitePatch:tara\?/);
    assert.match(enrolment.qrSvg, /^<svg/);
    assert.equal((await tara.call('POST', '/api/v1/auth/mfa/totp/confirm', { code: '000000' })).status, 401);
    const first = code(enrolment.secret);
    assert.equal((await tara.call('POST', '/api/v1/auth/mfa/totp/confirm', { code: first })).status, 200);

    const again = new ApiClient(console_.running.url);
    const asked = await again.login('tara', 'glacier-pepper-autumn-ledger');
    assert.equal(asked.status, 401);
    assert.equal(asked.body.error.code, 'mfa_required');
    assert.equal((await again.login('tara', 'glacier-pepper-autumn-ledger', '123456')).body.error.code, 'invalid_code');
    assert.equal((await again.login('tara', 'glacier-pepper-autumn-ledger', first)).body.error.code, 'invalid_code', 'a used code does not work twice');
    const next = code(enrolment.secret, Date.now() + 30_000);
    const signedIn = await again.login('tara', 'glacier-pepper-autumn-ledger', next);
    assert.equal(signedIn.status, 200, signedIn.text);
    assert.equal(signedIn.body.user.mfa.enrolled, true);
    const stored = await console_.running.services.db.selectFrom('user').select('totp_secret').where('username', '=', 'tara').executeTakeFirstOrThrow();
    assert.equal(stored.totp_secret!.includes(Buffer.from(enrolment.secret)), false, 'the secret is stored encrypted');
  });

  it('lets an administrator require it: until enrolled, a session reaches only the enrolment', async () => {
    await admin.call('POST', '/api/v1/users', { username: 'uma', password: 'walnut-harbor-crimson-tide', role: 'analyst' });
    assert.equal((await admin.call('PATCH', '/api/v1/settings/security', { requireMfaForLocalAccounts: true })).status, 200);
    const uma = new ApiClient(console_.running.url);
    const signedIn = await uma.login('uma', 'walnut-harbor-crimson-tide');
    assert.equal(signedIn.body.mustEnrolMfa, true);
    const blocked = await uma.call('GET', '/api/v1/connections');
    assert.equal(blocked.status, 403);
    assert.equal(blocked.body.error.code, 'mfa_enrolment_required');
    const enrolment = (await uma.call('POST', '/api/v1/auth/mfa/totp')).body;
    assert.equal((await uma.call('POST', '/api/v1/auth/mfa/totp/confirm', { code: code(enrolment.secret) })).status, 200);
    assert.equal((await uma.call('GET', '/api/v1/connections')).status, 200, 'open once enrolled');
    assert.equal((await uma.call('DELETE', '/api/v1/auth/mfa/totp', { password: 'walnut-harbor-crimson-tide' })).status, 409, 'required: cannot be turned off');
    await admin.call('PATCH', '/api/v1/settings/security', { requireMfaForLocalAccounts: false });
  });
});

describe('Audit of sign-ins and changes', () => {
  let console_: TestConsole;
  before(async () => { console_ = await startTestConsole(); });
  after(() => console_.close());

  it('records failed sign-ins, sign-ins, sign-outs, token and setting changes with the source address, and exports CSV', async () => {
    const admin = new ApiClient(console_.running.url);
    await clientFrom(console_.running.url, '127.0.0.20').login('admin', 'not the password');
    await admin.login();
    await admin.call('POST', '/api/v1/tokens', { name: 'nightly export' });
    await new ApiClient(console_.running.url).login('=HYPERLINK("http://evil.example")', 'x');
    await admin.call('PATCH', '/api/v1/settings/security', { absoluteTimeoutHours: 8 });
    const connection = (await admin.call('POST', '/api/v1/connections?skipCheck=true', { name: 'Audited', tenantId: 'contoso.onmicrosoft.com', clientId: '11111111-2222-4333-8444-555555555555', clientSecret: 'abc8Q~an-unchecked-secret-value' })).body.id;
    await admin.call('POST', `/api/v1/connections/${connection}/sync`, { kind: 'full' });
    const other = new ApiClient(console_.running.url);
    await other.login();
    await other.call('POST', '/api/v1/auth/logout');
    const events = (await admin.call('GET', '/api/v1/audit-events?limit=50')).body.items;
    const find = (action: string) => events.find((e: { action: string; targetId: string }) => e.action === action && e.targetId !== '=HYPERLINK("http://evil.example")');
    assert.deepEqual([find('user.login_failed').address, find('user.login_failed').targetId, find('user.login_failed').details.reason], ['127.0.0.20', 'admin', 'invalid_credentials']);
    assert.equal(find('user.login').address, '127.0.0.1');
    assert.ok(find('user.logout'));
    assert.ok(find('token.create'));
    assert.deepEqual(find('settings.update').details.changes.absoluteTimeoutHours, { from: 12, to: 8 });
    assert.deepEqual([find('sync.request').actor, find('sync.request').address, find('sync.request').targetId, find('sync.request').details.kind], ['admin', '127.0.0.1', connection, 'full']);

    const csv = await admin.call('GET', '/api/v1/audit-events.csv');
    assert.equal(csv.status, 200);
    assert.match(String(csv.headers['content-type']), /text\/csv/);
    assert.match(csv.text, /^id,at,actor,address,action,targetType,targetId,details\r\n/, 'a header row, lines ended by CRLF (RFC 4180)');
    const bytes = Buffer.from(await (await request(`${console_.running.url}/api/v1/audit-events.csv`, {
      headers: { cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    })).body.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a byte-order mark, so that Excel reads UTF-8');
    assert.match(csv.text, /user\.login_failed/);
    assert.match(csv.text, /,"'=HYPERLINK\(""http:\/\/evil\.example""\)",/, 'a formula is neutralised');
    assert.equal(/(^|,)"?=HYPERLINK/m.test(csv.text), false);
  });
});
