import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { MockAgent, request, type Dispatcher } from 'undici';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { createEntraSignIn, EntraSignInError, type EntraSignInConfig } from '../../src/entra/sign-in.js';
import { createDispatcher } from '../../src/net/dispatcher.js';
import { signInThroughPage } from '../helpers/entra-sign-in.js';

const REDIRECT = 'http://localhost:8080/api/v1/auth/entra/callback';

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<EntraSignInError> {
  let caught: unknown;
  await assert.rejects(promise, (e) => { caught = e; return true; });
  assert.ok(caught instanceof EntraSignInError, String(caught));
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  return caught;
}

describe('Sign-in with Entra ID (OIDC client) against the emulator', () => {
  let emulator: RunningEmulator;
  let dispatcher: Dispatcher;
  let config: EntraSignInConfig;
  const requests = async () => emulator.state().requests;

  before(async () => {
    emulator = await startEmulator({ devices: 5, seed: 'entra-sign-in-test' });
    dispatcher = createDispatcher({ extraCaPem: emulator.caPem });
    config = { loginUrl: emulator.loginUrl, tenantId: emulator.tenantId, clientId: emulator.signInApp.clientId, clientSecret: emulator.signInApp.secretValue, redirectUri: REDIRECT };
  });
  after(async () => {
    await dispatcher.close();
    await emulator.close();
  });

  const user = (role: string) => emulator.users.find((u) => (role ? u.roles.includes(role) : u.roles.length === 0))!;

  it('start: an authorize URL with PKCE (S256), state, nonce and the openid scope, built without network calls', async () => {
    const before = await requests();
    const signIn = createEntraSignIn(config, dispatcher);
    const { url, state, nonce, codeVerifier } = await signIn.start();
    const authorize = new URL(url);
    assert.equal(`${authorize.origin}${authorize.pathname}`, `${emulator.loginUrl}/${emulator.tenantId}/oauth2/v2.0/authorize`);
    const params = authorize.searchParams;
    assert.equal(params.get('client_id'), config.clientId);
    assert.equal(params.get('response_type'), 'code');
    assert.equal(params.get('response_mode'), 'query');
    assert.equal(params.get('redirect_uri'), REDIRECT);
    assert.deepEqual(params.get('scope')!.split(' ').slice(0, 2), ['openid', 'profile']);
    assert.equal(params.get('state'), state);
    assert.equal(params.get('nonce'), nonce);
    assert.equal(params.get('code_challenge_method'), 'S256');
    assert.equal(params.get('code_challenge'), createHash('sha256').update(codeVerifier).digest('base64url'));
    assert.ok(state.length >= 43 && nonce.length >= 43 && state !== nonce);
    assert.notEqual((await signIn.start()).state, state);
    assert.deepEqual(await requests(), before);
  });

  it('finish: redeems the code and returns the verified identity with its app roles and groups', async () => {
    const signIn = createEntraSignIn(config, dispatcher);
    for (const role of ['SitePatch.Admin', 'SitePatch.Operator', 'SitePatch.Analyst', '']) {
      const expected = user(role);
      const started = await signIn.start();
      const { code, state } = await signInThroughPage(dispatcher, started.url, expected);
      assert.equal(state, started.state);
      const identity = await signIn.finish({ code, codeVerifier: started.codeVerifier, nonce: started.nonce });
      assert.deepEqual(identity, {
        objectId: expected.objectId, tenantId: emulator.tenantId, username: expected.username,
        displayName: expected.displayName, roles: expected.roles, groups: expected.groups,
      });
    }
  });

  it('fetches the signing keys once and keeps them', async () => {
    const signIn = createEntraSignIn(config, dispatcher);
    const before = (await requests()).discovery ?? 0;
    for (let n = 0; n < 2; n++) {
      const started = await signIn.start();
      const { code } = await signInThroughPage(dispatcher, started.url, user('SitePatch.Admin'));
      await signIn.finish({ code, codeVerifier: started.codeVerifier, nonce: started.nonce });
    }
    assert.equal((await requests()).discovery, before + 1);
  });

  it('refuses an ID token whose nonce is not the one this sign-in started with', async () => {
    const signIn = createEntraSignIn(config, dispatcher);
    const started = await signIn.start();
    const { code } = await signInThroughPage(dispatcher, started.url, user('SitePatch.Admin'));
    await rejectsWith(signIn.finish({ code, codeVerifier: started.codeVerifier, nonce: 'another-sign-in' }), 'nonce_mismatch', /not issued for this sign-in attempt \(its nonce does not match\); sign in again/);
  });

  it('a code redeemed twice, or with the verifier of another attempt, asks to sign in again', async () => {
    const signIn = createEntraSignIn(config, dispatcher);
    const started = await signIn.start();
    const { code } = await signInThroughPage(dispatcher, started.url, user('SitePatch.Analyst'));
    const other = await signIn.start();
    await rejectsWith(signIn.finish({ code, codeVerifier: other.codeVerifier, nonce: started.nonce }), 'pkce_mismatch', /another sign-in attempt.*sign in again/);
    await signIn.finish({ code, codeVerifier: started.codeVerifier, nonce: started.nonce });
    await rejectsWith(signIn.finish({ code, codeVerifier: started.codeVerifier, nonce: started.nonce }), 'sign_in_expired', /^The sign-in took too long or was repeated; sign in again\.$/);
  });

  it('a wrong client secret says which value to enter, and never shows the secret', async () => {
    const secret = 'abc8Q~this-is-not-the-secret-value-0123456';
    const signIn = createEntraSignIn({ ...config, clientSecret: secret }, dispatcher);
    const started = await signIn.start();
    const { code } = await signInThroughPage(dispatcher, started.url, user('SitePatch.Admin'));
    const error = await rejectsWith(signIn.finish({ code, codeVerifier: started.codeVerifier, nonce: started.nonce }), 'invalid_client_secret', /Value \(not its Secret ID\).*Certificates & secrets/);
    assert.ok(!error.message.includes(secret) && !String(error.stack).includes(secret));
  });

  it('an unknown app or tenant is named as such', async () => {
    const started = await createEntraSignIn(config, dispatcher).start();
    const { code } = await signInThroughPage(dispatcher, started.url, user('SitePatch.Admin'));
    const input = { code, codeVerifier: started.codeVerifier, nonce: started.nonce };
    await rejectsWith(createEntraSignIn({ ...config, clientId: '0bad0bad-0000-4000-8000-000000000000' }, dispatcher).finish(input), 'app_not_found', /Application \(client\) ID/);
    await rejectsWith(createEntraSignIn({ ...config, tenantId: '11111111-2222-4333-8444-555555555555' }, dispatcher).finish(input), 'tenant_not_found', /Directory \(tenant\) ID/);
  });

  it('logoutUrl: Entra signs out and sends the browser back to the console', async () => {
    const url = createEntraSignIn(config, dispatcher).logoutUrl('http://localhost:8080/');
    assert.equal(url, `${emulator.loginUrl}/${emulator.tenantId}/oauth2/v2.0/logout?post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8080%2F`);
    const response = await request(url, { dispatcher });
    await response.body.dump();
    assert.equal(response.statusCode, 302);
    assert.equal(response.headers.location, 'http://localhost:8080/');
  });

  it('a tampered ID token fails its signature check', async () => {
    const signIn = createEntraSignIn(config, dispatcher);
    const started = await signIn.start();
    const { code } = await signInThroughPage(dispatcher, started.url, user(''));
    // A genuine token response, then the same with the role claim edited on its way through a proxy.
    const genuine = await request(`${emulator.loginUrl}/${emulator.tenantId}/oauth2/v2.0/token`, {
      method: 'POST', dispatcher, headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: config.clientId, client_secret: config.clientSecret, code, redirect_uri: REDIRECT, code_verifier: started.codeVerifier, scope: 'openid profile' }).toString(),
    });
    const body = await genuine.body.json() as { id_token: string };
    const [header, payload, signature] = body.id_token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tampered = [header, Buffer.from(JSON.stringify({ ...claims, roles: ['SitePatch.Admin'] })).toString('base64url'), signature].join('.');

    // Requests it does not intercept (the keys) go through to the emulator.
    const proxy = new MockAgent({ connect: { ca: emulator.caPem } });
    proxy.enableNetConnect();
    proxy.get(emulator.loginUrl).intercept({ method: 'POST', path: (p) => p.startsWith(`/${emulator.tenantId}/oauth2/v2.0/token`) })
      .reply(200, { ...body, id_token: tampered }, { headers: { 'content-type': 'application/json' } });
    await rejectsWith(createEntraSignIn(config, proxy).finish({ code, codeVerifier: started.codeVerifier, nonce: started.nonce }), 'invalid_signature', /signature does not match the signing keys published at/);
  });

  it('reports a login host it cannot reach as a network problem', async () => {
    const signIn = createEntraSignIn({ ...config, loginUrl: 'https://127.0.0.1:1' }, dispatcher);
    const started = await signIn.start();
    await rejectsWith(signIn.finish({ code: 'x', codeVerifier: started.codeVerifier, nonce: started.nonce }), 'network_error', /refused the connection/);
  });

  it('refuses a configuration it cannot check tokens against', () => {
    assert.throws(() => createEntraSignIn({ ...config, tenantId: 'contoso.onmicrosoft.com' }, dispatcher), (e: EntraSignInError) => e.code === 'invalid_config' && /Directory \(tenant\) ID, a GUID/.test(e.message));
    assert.throws(() => createEntraSignIn({ ...config, loginUrl: 'http://login.example' }, dispatcher), /https:\/\//);
  });
});

describe('Sign-in with Entra ID through a login proxy that answers with its own tokens', () => {
  const PROXY = 'https://login.proxy.example';
  const TENANT = '6f1c2a52-0c1e-4a7e-9a3e-2d8f4f0b7c11';
  const CLIENT = 'a6b0c3d1-5f7e-4c2a-9d11-0e8b6a4c2f90';
  const config: EntraSignInConfig = { loginUrl: PROXY, tenantId: TENANT, clientId: CLIENT, clientSecret: 'proxy-secret-value', redirectUri: REDIRECT };
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  let jwks: object;

  before(async () => {
    keys = await generateKeyPair('RS256');
    jwks = { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'proxy-key', use: 'sig' }] };
  });

  /** A login "server" that answers the token request with `tokenResponse` and publishes the test key. */
  function proxyAnswering(tokenResponse: { status: number; body: object }): MockAgent {
    const agent = new MockAgent();
    agent.disableNetConnect();
    const pool = agent.get(PROXY);
    pool.intercept({ method: 'POST', path: (p) => p.startsWith(`/${TENANT}/oauth2/v2.0/token`) })
      .reply(tokenResponse.status, tokenResponse.body, { headers: { 'content-type': 'application/json' } });
    pool.intercept({ method: 'GET', path: `/${TENANT}/discovery/v2.0/keys` }).reply(200, jwks, { headers: { 'content-type': 'application/json' } }).persist();
    return agent;
  }

  /** An ID token signed with the proxy's key: valid for the configured app and tenant unless `claims` say otherwise. */
  async function idToken(claims: JWTPayload): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: `https://login.microsoftonline.com/${TENANT}/v2.0`, aud: CLIENT, iat: now - 300, exp: now + 3600,
      tid: TENANT, oid: '0b6c7d8e-1f2a-4b3c-8d4e-5f6a7b8c9d0e', preferred_username: 'pat@fabrikam.example', name: 'Pat', nonce: 'n', ver: '2.0', ...claims,
    }).setProtectedHeader({ alg: 'RS256', kid: 'proxy-key', typ: 'JWT' }).sign(keys.privateKey);
  }

  const finish = (agent: MockAgent) => createEntraSignIn(config, agent).finish({ code: 'code', codeVerifier: 'v'.repeat(43), nonce: 'n' });
  const tokens = async (id_token: string) => proxyAnswering({ status: 200, body: { token_type: 'Bearer', scope: 'openid profile', expires_in: 3599, ext_expires_in: 3599, access_token: 'x', id_token } });

  it('accepts a token that names Microsoft\'s login host as its issuer, as tokens through a proxy do', async () => {
    const identity = await finish(await tokens(await idToken({ roles: ['SitePatch.Operator'] })));
    assert.equal(identity.username, 'pat@fabrikam.example');
    assert.deepEqual(identity.roles, ['SitePatch.Operator']);
  });

  it('refuses a token from another tenant', async () => {
    const other = '99999999-0c1e-4a7e-9a3e-2d8f4f0b7c11';
    await rejectsWith(finish(await tokens(await idToken({ tid: other, iss: `https://login.microsoftonline.com/${other}/v2.0` }))), 'wrong_tenant', new RegExp(`another Microsoft Entra tenant \\(${other}\\), not to ${TENANT}`));
  });

  it('refuses a token from another issuer, for another app, or expired', async () => {
    await rejectsWith(finish(await tokens(await idToken({ iss: `https://evil.example/${TENANT}/v2.0` }))), 'wrong_issuer', /issued by https:\/\/evil\.example/);
    await rejectsWith(finish(await tokens(await idToken({ aud: 'another-app' }))), 'wrong_audience', /issued to another application \(another-app\)/);
    const now = Math.floor(Date.now() / 1000);
    await rejectsWith(finish(await tokens(await idToken({ iat: now - 7200, exp: now - 600 }))), 'token_expired', /has expired/);
  });

  it('maps AADSTS50011 to the redirect URI to register, and keeps an echoed secret out of messages', async () => {
    const error = (code: number, text: string) => proxyAnswering({ status: 400, body: { error: 'invalid_request', error_description: `AADSTS${code}: ${text}\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2026-01-01 00:00:00Z`, error_codes: [code] } });
    await rejectsWith(finish(await error(50011, 'The redirect URI does not match.')), 'redirect_uri_not_registered',
      /Add http:\/\/localhost:8080\/api\/v1\/auth\/entra\/callback as a Web redirect URI under App registrations → your app → Authentication\./);
    const echoed = await rejectsWith(finish(await error(90100, `Bad request body: client_secret=${config.clientSecret}`)), 'entra_error', /AADSTS90100: Bad request body: client_secret=\[client secret\]/);
    assert.ok(!echoed.message.includes(config.clientSecret));
  });
});
