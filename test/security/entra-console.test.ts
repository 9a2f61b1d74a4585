// Signing in to the console with Entra ID, through the emulator's sign-in page: the app role
// gives the SitePatch role, groups can grant a role and limit the connections, a user with no
// role is refused, and a callback that this browser did not start is refused.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';
import { entraSignInSettings, signInThroughPage } from '../helpers/entra-sign-in.js';

describe('Sign in with Entra ID', () => {
  let emulator: RunningEmulator;
  let console_: TestConsole;
  let dispatcher: Agent;
  const staff = () => emulator.users.find((u) => u.username.startsWith('nora'))!.groups[0];

  before(async () => {
    emulator = await startEmulator({ devices: 5, seed: 'entra-console' });
    dispatcher = new Agent({ connect: { ca: emulator.caPem } });
    console_ = await startTestConsole(entraSignInSettings(emulator));
  });
  after(async () => {
    await console_.close();
    await dispatcher.close();
    await emulator.close();
  });

  /** Start → the Entra page → the console's callback, as a browser follows them; answers the signed-in client or the callback's redirect. */
  async function signIn(alias: string, tamper?: (callback: URL) => void, base = console_.running.url): Promise<{ client: ApiClient; location: string }> {
    const user = emulator.users.find((u) => u.username.startsWith(`${alias}@`))!;
    const client = new ApiClient(base);
    const start = await client.call('GET', '/api/v1/auth/entra/start');
    assert.equal(start.status, 302, start.text);
    const authorize = String(start.headers.location);
    assert.ok(authorize.startsWith(`${emulator.loginUrl}/${emulator.tenantId}/oauth2/v2.0/authorize?`), authorize);
    assert.equal(new URL(authorize).searchParams.get('code_challenge_method'), 'S256');
    const { code, state, redirectUri } = await signInThroughPage(dispatcher, authorize, user);
    assert.equal(redirectUri, `${base}/api/v1/auth/entra/callback`, 'back to the address the browser used');
    const callback = new URL(redirectUri);
    callback.search = new URLSearchParams({ code, state: state ?? '' }).toString();
    tamper?.(callback);
    const back = await client.call('GET', `${callback.pathname}${callback.search}`);
    assert.equal(back.status, 302, back.text);
    assert.equal(console_.log().includes(code), false, 'the authorization code stays out of the log');
    return { client, location: String(back.headers.location) };
  }

  it('gives each user the role of their app role assignment, and signs out through Entra', async () => {
    for (const [alias, role] of [['alice', 'admin'], ['otto', 'operator'], ['ana', 'analyst']] as const) {
      const { client, location } = await signIn(alias);
      assert.equal(location, '/');
      const session = await client.call('GET', '/api/v1/auth/session');
      assert.equal(session.status, 200, session.text);
      assert.equal(session.body.user.role, role);
      assert.equal(session.body.user.source, 'entra');
      client.csrf = session.body.csrfToken;
      assert.equal((await client.call('GET', '/api/v1/users')).status, role === 'admin' ? 200 : 403);
      const out = await client.call('POST', '/api/v1/auth/logout');
      assert.ok(String(out.body.redirectTo).startsWith(`${emulator.loginUrl}/${emulator.tenantId}/oauth2/v2.0/logout?post_logout_redirect_uri=`));
      assert.equal((await client.call('GET', '/api/v1/auth/session')).status, 401);
    }
    const admin = new ApiClient(console_.running.url);
    await admin.login();
    const users = (await admin.call('GET', '/api/v1/users')).body.items;
    assert.ok(users.some((u: { username: string; source: string }) => u.username.startsWith('alice@') && u.source === 'entra'), 'the account was made at the first sign-in');
  });

  it('comes back to the address the console was opened under (localhost as well as 127.0.0.1)', async () => {
    const { client, location } = await signIn('ana', undefined, console_.running.url.replace('127.0.0.1', 'localhost'));
    assert.equal(location, '/');
    assert.equal((await client.call('GET', '/api/v1/auth/session')).body.user.role, 'analyst');
  });

  it('refuses a user with no SitePatch role, with the fix', async () => {
    const { location } = await signIn('nora');
    const query = new URL(location, console_.running.url).searchParams;
    assert.equal(query.get('signInError'), 'no_role');
    assert.match(query.get('message')!, /Enterprise applications/);
  });

  it('refuses a callback this browser did not start, and a code used twice', async () => {
    const forged = await signIn('alice', (callback) => callback.searchParams.set('state', 'someone-elses-state'));
    assert.equal(new URL(forged.location, console_.running.url).searchParams.get('signInError'), 'sign_in_expired');
    const noCookie = await request(`${console_.running.url}/api/v1/auth/entra/callback?code=x&state=y`);
    await noCookie.body.text();
    assert.equal(noCookie.statusCode, 302);
    assert.match(String(noCookie.headers.location), /signInError=sign_in_expired/);
  });

  it('lets groups grant a role and limit the user to some connections', async () => {
    const admin = new ApiClient(console_.running.url);
    await admin.login();
    const connection = (await admin.call('POST', '/api/v1/connections?skipCheck=true', { name: 'Customer 1', tenantId: emulator.tenantId, clientId: emulator.apps.consented.clientId, clientSecret: emulator.apps.consented.secretValue })).body.id;
    await admin.call('POST', '/api/v1/connections?skipCheck=true', { name: 'Customer 2', tenantId: emulator.unprovisionedTenantId, clientId: emulator.apps.consented.clientId, clientSecret: emulator.apps.consented.secretValue });
    // The group mapping is a setting: restart the console with it, on the same data.
    const dataDir = console_.dataDir;
    await console_.running.close();
    console_ = await startTestConsole({
      ...entraSignInSettings(emulator),
      entraGroupRoles: JSON.stringify({ [staff()]: 'analyst' }), entraGroupConnections: JSON.stringify({ [staff()]: [connection] }),
    }, dataDir);
    const { client, location } = await signIn('nora');
    assert.equal(location, '/');
    const session = (await client.call('GET', '/api/v1/auth/session')).body;
    assert.equal(session.user.role, 'analyst');
    assert.deepEqual(session.user.connectionIds, [connection]);
    const visible = (await client.call('GET', '/api/v1/connections')).body.items.map((c: { name: string }) => c.name);
    assert.deepEqual(visible, ['Customer 1']);
  });
});
