import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { decodeJwt, emulatorClient, type EmulatorClient, type RawResponse } from '../helpers/emulator-client.js';
import { callbackOf, openAuthorize, pageMessage, sessionCookie, signInThroughPage, submitCredentials } from '../helpers/entra-sign-in.js';

// Any port: Entra ignores the port of loopback redirect URIs.
const REDIRECT = 'http://localhost:53123/api/v1/auth/entra/callback';

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function assertTokenError(response: RawResponse, status: number, error: string, code: number, message: RegExp): void {
  assert.equal(response.status, status, response.text);
  const body = response.json();
  assert.equal(body.error, error);
  assert.deepEqual(body.error_codes, [code]);
  assert.match(body.error_description, new RegExp(`^AADSTS${code}: `));
  assert.match(body.error_description, message);
  assert.match(body.error_description, /\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: /);
}

describe('Entra sign-in page and authorization code grant', () => {
  let client: EmulatorClient;
  let tenantId: string;
  let app: { clientId: string; secretValue: string };
  let users: Record<'admin' | 'operator' | 'analyst' | 'noRole', { username: string; password: string; objectId: string; groups: string[] }>;

  before(async () => {
    client = await emulatorClient();
    tenantId = client.emulator.tenantId;
    app = client.emulator.signInApp;
    const [admin, operator, analyst, noRole] = client.emulator.users;
    users = { admin, operator, analyst, noRole };
  });
  after(() => client.close());

  function authorizeUrl(params: Record<string, string | undefined> = {}, tenant = tenantId): string {
    const all = {
      client_id: app.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid profile offline_access',
      state: 'state-1', nonce: 'nonce-1', ...params,
    };
    const defined = Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined);
    return `${client.emulator.loginUrl}/${tenant}/oauth2/v2.0/authorize?${new URLSearchParams(defined)}`;
  }

  function redeem(code: string, fields: Record<string, string | undefined> = {}): Promise<RawResponse> {
    const all = { grant_type: 'authorization_code', client_id: app.clientId, client_secret: app.secretValue, code, redirect_uri: REDIRECT, scope: 'openid profile offline_access', ...fields };
    return client.postForm(`/${tenantId}/oauth2/v2.0/token`, Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined)));
  }

  async function codeFor(user: { username: string; password: string }, params: Record<string, string | undefined> = {}): Promise<string> {
    return (await signInThroughPage(client.dispatcher, authorizeUrl(params), user)).code;
  }

  it('prints the sign-in app and one test user per role, plus one without a role', () => {
    const { signInApp } = client.emulator;
    assert.equal(signInApp.displayName, 'SitePatch console');
    assert.match(signInApp.clientId, /^[0-9a-f-]{36}$/);
    assert.match(signInApp.secretValue, /^.{3}\dQ~.{34}$/);
    assert.deepEqual(signInApp.appRoles.map((r) => r.value), ['SitePatch.Admin', 'SitePatch.Operator', 'SitePatch.Analyst']);
    assert.deepEqual(signInApp.redirectUris, ['http://localhost/api/v1/auth/entra/callback', 'http://127.0.0.1/api/v1/auth/entra/callback']);
    assert.deepEqual(client.emulator.users.map((u) => u.roles), [['SitePatch.Admin'], ['SitePatch.Operator'], ['SitePatch.Analyst'], []]);
    for (const user of client.emulator.users) {
      assert.match(user.username, /^[a-z]+@contoso\.onmicrosoft\.com$/);
      assert.ok(user.password.length >= 12 && user.displayName && user.groups.length > 0);
    }
  });

  it('the discovery document names the authorize and sign-out endpoints and the ID tokens\' issuer', async () => {
    const doc = (await client.get(`/${tenantId}/v2.0/.well-known/openid-configuration`)).json();
    const base = `${client.emulator.loginUrl}/${tenantId}`;
    assert.equal(doc.authorization_endpoint, `${base}/oauth2/v2.0/authorize`);
    assert.equal(doc.end_session_endpoint, `${base}/oauth2/v2.0/logout`);
    assert.equal(doc.issuer, `${base}/v2.0`);
    assert.ok(doc.response_modes_supported.includes('form_post'));
  });

  it('signs a user in with PKCE: page, form post, code, then an RS256 ID token from the published key', async () => {
    const { verifier, challenge } = pkce();
    const page = await openAuthorize(client.dispatcher, authorizeUrl({ code_challenge: challenge, code_challenge_method: 'S256', login_hint: users.admin.username }));
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /form-action 'self' http:\/\/localhost:53123/);
    assert.match(page.html, /<input type="email" name="loginfmt" id="loginfmt" value="alice@contoso\.onmicrosoft\.com"/);
    assert.match(page.html, /<input type="password" name="passwd" id="passwd"/);
    assert.match(page.html, /<button type="submit" id="idSIButton9">Sign in<\/button>/);
    assert.match(page.html, /to continue to SitePatch console/);
    assert.doesNotMatch(page.html, /\s(src|href)=/, 'no external assets');

    const answer = await submitCredentials(client.dispatcher, page, users.admin);
    assert.equal(answer.status, 302);
    const callback = callbackOf(answer)!;
    assert.equal(callback.redirectUri, REDIRECT);
    assert.equal(callback.params.get('state'), 'state-1');
    const code = callback.params.get('code')!;
    assert.ok(code.length > 100);
    assert.match(sessionCookie(answer)!, /^ESTSAUTH=/);

    const response = await redeem(code, { code_verifier: verifier });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.headers['cache-control'], 'no-store, no-cache');
    const body = response.json();
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'ext_expires_in', 'id_token', 'scope', 'token_type']);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.scope, 'User.Read openid profile');

    const keys = createLocalJWKSet((await client.get(`/${tenantId}/discovery/v2.0/keys`)).json());
    const { payload, protectedHeader } = await jwtVerify(body.id_token, keys, { issuer: `${client.emulator.loginUrl}/${tenantId}/v2.0`, audience: app.clientId });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.ver, '2.0');
    assert.equal(payload.tid, tenantId);
    assert.equal(payload.oid, users.admin.objectId);
    assert.equal(payload.preferred_username, users.admin.username);
    assert.equal(payload.name, 'Alice Adams');
    assert.equal(payload.nonce, 'nonce-1');
    assert.deepEqual(payload.roles, ['SitePatch.Admin']);
    assert.deepEqual(payload.groups, users.admin.groups);
    assert.match(String(payload.sub), /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(payload.sub, payload.oid, 'sub is pairwise');
    const now = Math.floor(Date.now() / 1000);
    assert.ok(payload.iat! <= now && payload.nbf === payload.iat && payload.exp! > now + 3000);

    // The access token is for Microsoft Graph, which the Defender API does not accept.
    const access = decodeJwt(body.access_token).payload;
    assert.equal(access.aud, '00000003-0000-0000-c000-000000000000');
    assert.equal(access.upn, users.admin.username);
    assert.equal((await client.get('/api/vulnerabilities', body.access_token)).status, 401);
  });

  it('redeems with client_secret_basic, and answers client_info when asked', async () => {
    const code = await codeFor(users.operator);
    const basic = Buffer.from(`${app.clientId}:${encodeURIComponent(app.secretValue)}`).toString('base64');
    const response = await client.postForm(`/${tenantId}/oauth2/v2.0/token`,
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_info: '1' }, { authorization: `Basic ${basic}` });
    assert.equal(response.status, 200, response.text);
    const body = response.json();
    assert.deepEqual(JSON.parse(Buffer.from(body.client_info, 'base64url').toString()), { uid: users.operator.objectId, utid: tenantId });
    assert.deepEqual(decodeJwt(body.id_token).payload.roles, ['SitePatch.Operator']);
  });

  it('answers form_post with an auto-submitting form, allowed by the page\'s CSP', async () => {
    const page = await openAuthorize(client.dispatcher, authorizeUrl({ response_mode: 'form_post' }));
    const answer = await submitCredentials(client.dispatcher, page, users.analyst);
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers['content-security-policy']), /script-src 'sha256-[^']+'; form-action http:\/\/localhost:53123/);
    const callback = callbackOf(answer)!;
    assert.equal(callback.redirectUri, REDIRECT);
    assert.equal(callback.params.get('state'), 'state-1');
    const body = (await redeem(callback.params.get('code')!)).json();
    assert.deepEqual(decodeJwt(body.id_token).payload.roles, ['SitePatch.Analyst']);
  });

  it('signs in a user with no app role: the ID token has no roles claim', async () => {
    const body = (await redeem(await codeFor(users.noRole))).json();
    const claims = decodeJwt(body.id_token).payload;
    assert.equal(claims.roles, undefined);
    assert.equal(claims.oid, users.noRole.objectId);
  });

  it('without openid in the scope there is no ID token', async () => {
    const body = (await redeem(await codeFor(users.admin, { scope: 'User.Read' }))).json();
    assert.ok(body.access_token);
    assert.equal(body.id_token, undefined);
  });

  it('AADSTS50126 and 50034: a wrong password or an unknown user shows the page again', async () => {
    const page = await openAuthorize(client.dispatcher, authorizeUrl());
    const wrong = await submitCredentials(client.dispatcher, page, { username: users.admin.username, password: 'not-the-password' });
    assert.equal(wrong.status, 200);
    assert.equal(wrong.location, undefined);
    assert.match(pageMessage(wrong)!, /Your account or password is incorrect\. AADSTS50126: Error validating credentials due to invalid username or password\./);
    assert.match(wrong.html, /value="alice@contoso\.onmicrosoft\.com"/, 'the username stays filled in');
    const unknown = await submitCredentials(client.dispatcher, page, { username: 'mallory@contoso.onmicrosoft.com', password: 'x' });
    assert.match(pageMessage(unknown)!, /AADSTS50034: The user account \{EmailHidden\} does not exist/);
  });

  it('AADSTS90002: an unknown tenant gets an error page', async () => {
    const page = await openAuthorize(client.dispatcher, authorizeUrl({}, '11111111-2222-4333-8444-555555555555'));
    assert.equal(page.status, 400);
    assert.equal(page.location, undefined);
    assert.match(pageMessage(page)!, /^AADSTS90002: Tenant '11111111-2222-4333-8444-555555555555' not found/);
  });

  it('AADSTS700016 and 50194: an unknown app, or a single-tenant app at /common, gets an error page', async () => {
    const unknown = await openAuthorize(client.dispatcher, authorizeUrl({ client_id: '0bad0bad-0000-4000-8000-000000000000' }));
    assert.equal(unknown.status, 400);
    assert.match(pageMessage(unknown)!, /^AADSTS700016: Application with identifier '0bad0bad-0000-4000-8000-000000000000' was not found in the directory 'Contoso'/);
    const common = await openAuthorize(client.dispatcher, authorizeUrl({}, 'common'));
    assert.match(pageMessage(common)!, /^AADSTS50194: Application '.+'\(SitePatch console\) is not configured as a multi-tenant application/);
  });

  it('AADSTS50011: an unregistered redirect URI is shown on the page and never redirected to', async () => {
    for (const redirect of ['https://evil.example.com/api/v1/auth/entra/callback', 'http://localhost:53123/other', 'https://localhost/api/v1/auth/entra/callback']) {
      const page = await openAuthorize(client.dispatcher, authorizeUrl({ redirect_uri: redirect }));
      assert.equal(page.status, 400, redirect);
      assert.equal(page.location, undefined);
      assert.match(pageMessage(page)!, new RegExp(`^AADSTS50011: The redirect URI '${redirect.replace(/[.]/g, '\\.')}' specified in the request does not match the redirect URIs configured for the application '${app.clientId}'`));
    }
    // Loopback: any port, and 127.0.0.1 as well as localhost.
    assert.equal((await openAuthorize(client.dispatcher, authorizeUrl({ redirect_uri: 'http://127.0.0.1:9/api/v1/auth/entra/callback' }))).status, 200);
  });

  it('AADSTS700054 and 700051: response types other than code come back as error redirects', async () => {
    for (const [responseType, code, implicit] of [['id_token', 700054, 'id_token'], ['code id_token', 700054, 'id_token'], ['token', 700051, 'token']] as const) {
      const page = await openAuthorize(client.dispatcher, authorizeUrl({ response_type: responseType }));
      const callback = callbackOf(page)!;
      assert.equal(callback.redirectUri, REDIRECT);
      assert.equal(callback.params.get('error'), 'unsupported_response_type');
      assert.match(callback.params.get('error_description')!, new RegExp(`^AADSTS${code}: response_type '${implicit}' is not enabled for the application\\.`));
      assert.equal(callback.params.get('state'), 'state-1');
    }
  });

  it('AADSTS70011: an unknown scope comes back as an error redirect', async () => {
    const callback = callbackOf(await openAuthorize(client.dispatcher, authorizeUrl({ scope: 'openid Nonsense.Scope' })))!;
    assert.equal(callback.params.get('error'), 'invalid_scope');
    assert.match(callback.params.get('error_description')!, /^AADSTS70011: .*The scope Nonsense\.Scope is not valid\./);
  });

  it('AADSTS501481: a code_verifier that does not match the code_challenge', async () => {
    const { challenge } = pkce();
    const code = await codeFor(users.admin, { code_challenge: challenge, code_challenge_method: 'S256' });
    const message = /^AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request\./;
    assertTokenError(await redeem(code, { code_verifier: pkce().verifier }), 400, 'invalid_grant', 501481, message);
    assertTokenError(await redeem(code), 400, 'invalid_grant', 501481, message);
  });

  it('a confidential client may leave PKCE out', async () => {
    assert.equal((await redeem(await codeFor(users.admin))).status, 200);
  });

  it('AADSTS54005: a code is single-use', async () => {
    const code = await codeFor(users.admin);
    assert.equal((await redeem(code)).status, 200);
    assertTokenError(await redeem(code), 400, 'invalid_grant', 54005, /OAuth2 Authorization code was already redeemed/);
  });

  it('AADSTS500112 and 900144: the redirect URI must be the one of the authorize request', async () => {
    const code = await codeFor(users.admin);
    assertTokenError(await redeem(code, { redirect_uri: 'http://localhost:1/api/v1/auth/entra/callback' }), 401, 'invalid_client', 500112,
      /The reply address 'http:\/\/localhost:1\/api\/v1\/auth\/entra\/callback' does not match the reply address 'http:\/\/localhost:53123\/api\/v1\/auth\/entra\/callback'/);
    assertTokenError(await redeem(code, { redirect_uri: undefined }), 400, 'invalid_request', 900144, /'redirect_uri'/);
    assert.equal((await redeem(code)).status, 200, 'failed attempts do not spend the code');
  });

  it('AADSTS7000215 and 9002313: the client secret and the code are checked', async () => {
    const code = await codeFor(users.admin);
    assertTokenError(await redeem(code, { client_secret: 'wrong' }), 401, 'invalid_client', 7000215, /Invalid client secret provided/);
    assertTokenError(await redeem('not-a-code'), 400, 'invalid_grant', 9002313, /Invalid request\. Request is malformed or invalid\./);
    const daemon = client.emulator.apps.consented;
    assertTokenError(await redeem(code, { client_id: daemon.clientId, client_secret: daemon.secretValue }), 400, 'invalid_grant', 70000, /Provided grant is invalid or malformed\./);
  });

  it('AADSTS50105: with "assignment required" on, a user with no role cannot sign in', async () => {
    const toggle = (assignmentRequired: boolean) => client.postJson('/_emulator/sign-in-app', { assignmentRequired });
    assert.deepEqual((await toggle(true)).json(), { assignmentRequired: true });
    try {
      const answer = await submitCredentials(client.dispatcher, await openAuthorize(client.dispatcher, authorizeUrl()), users.noRole);
      assert.equal(answer.status, 400);
      assert.equal(callbackOf(answer), undefined);
      assert.match(pageMessage(answer)!, /^AADSTS50105: Your administrator has configured the application SitePatch console \('.+'\) to block users unless they are specifically granted \('assigned'\) access/);
      assert.ok(await codeFor(users.analyst), 'assigned users still sign in');
    } finally {
      await toggle(false);
    }
    assert.equal((await client.postJson('/_emulator/sign-in-app', {})).status, 400);
  });

  it('keeps a browser session: single sign-on, prompt=login, prompt=none, and sign-out', async () => {
    const { cookie } = await signInThroughPage(client.dispatcher, authorizeUrl(), users.admin);
    const sso = await openAuthorize(client.dispatcher, authorizeUrl({ state: 'again' }), cookie);
    assert.equal(sso.status, 302, 'signed in already: straight back with a code');
    assert.ok(callbackOf(sso)!.params.get('code'));
    assert.equal((await openAuthorize(client.dispatcher, authorizeUrl({ prompt: 'login' }), cookie)).status, 200, 'prompt=login shows the page');
    assert.ok(callbackOf(await openAuthorize(client.dispatcher, authorizeUrl({ prompt: 'none' }), cookie))!.params.get('code'));

    const signOut = await client.send('GET', `/${tenantId}/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent('http://localhost:53123/')}`, { headers: { cookie: cookie! } });
    assert.equal(signOut.status, 302);
    assert.equal(signOut.headers.location, 'http://localhost:53123/');
    assert.match(String(signOut.headers['set-cookie']), /ESTSAUTH=;.*Max-Age=0/);
    const silent = callbackOf(await openAuthorize(client.dispatcher, authorizeUrl({ prompt: 'none' }), cookie))!;
    assert.equal(silent.params.get('error'), 'login_required');
    assert.match(silent.params.get('error_description')!, /^AADSTS50058: /);
  });

  it('signs out to an unregistered address only as far as its own signed-out page', async () => {
    const response = await client.send('GET', `/${tenantId}/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent('https://evil.example.com/')}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.location, undefined);
    assert.match(response.text, /You signed out of your account/);
  });
});

describe('Entra authorization codes expire', () => {
  let client: EmulatorClient;
  before(async () => { client = await emulatorClient({ authCodeLifetimeSeconds: 0 }); });
  after(() => client.close());

  it('AADSTS70008: a code redeemed after its lifetime', async () => {
    const { emulator } = client;
    const url = `${emulator.loginUrl}/${emulator.tenantId}/oauth2/v2.0/authorize?${new URLSearchParams({
      client_id: emulator.signInApp.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid',
    })}`;
    const { code } = await signInThroughPage(client.dispatcher, url, emulator.users[0]);
    await sleep(20);
    const response = await client.postForm(`/${emulator.tenantId}/oauth2/v2.0/token`, {
      grant_type: 'authorization_code', client_id: emulator.signInApp.clientId, client_secret: emulator.signInApp.secretValue, code, redirect_uri: REDIRECT,
    });
    assertTokenError(response, 400, 'invalid_grant', 70008, /The provided authorization code or refresh token has expired due to inactivity\./);
  });
});
