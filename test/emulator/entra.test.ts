import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { importJWK, jwtVerify } from 'jose';
import { DEFENDER_SCOPE, decodeJwt, emulatorClient, type EmulatorClient, type RawResponse } from '../helpers/emulator-client.js';

const CRLF_DESCRIPTION = /^AADSTS(\d+): .+\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/s;

function assertAadsts(response: RawResponse, status: number, error: string, code: number, message: RegExp): void {
  assert.equal(response.status, status, response.text);
  const body = response.json();
  assert.equal(body.error, error);
  assert.deepEqual(body.error_codes, [code]);
  assert.match(body.error_description, CRLF_DESCRIPTION);
  assert.equal(body.error_description.match(CRLF_DESCRIPTION)[1], String(code));
  assert.match(body.error_description, message);
  assert.match(body.timestamp, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
  assert.equal(response.headers['x-ms-request-id'], body.trace_id);
  assert.equal(body.error_uri.endsWith(`/error?code=${code}`), true);
}

describe('Entra token service', () => {
  let client: EmulatorClient;
  let consented: { clientId: string; secret: string };

  before(async () => {
    client = await emulatorClient();
    consented = { clientId: client.emulator.apps.consented.clientId, secret: client.emulator.apps.consented.secretValue };
  });
  after(() => client.close());

  it('issues a v2 token with numeric lifetimes and v1-format claims signed by a published key', async () => {
    const response = await client.tokenRequest(consented);
    assert.equal(response.status, 200);
    assert.equal(response.headers['cache-control'], 'no-store, no-cache');
    const body = response.json();
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'ext_expires_in', 'token_type']);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(typeof body.expires_in, 'number');
    assert.ok(body.expires_in > 3500 && body.expires_in <= 3600);

    const { header, payload } = decodeJwt(body.access_token);
    assert.equal(header.alg, 'RS256');
    const tenantId = client.emulator.tenantId;
    assert.equal(payload.aud, 'https://api.securitycenter.microsoft.com');
    assert.equal(payload.iss, `https://sts.windows.net/${tenantId}/`);
    assert.equal(payload.tid, tenantId);
    assert.equal(payload.appid, consented.clientId);
    assert.equal(payload.appidacr, '1');
    assert.equal(payload.ver, '1.0');
    assert.ok(payload.roles.includes('Vulnerability.Read.All'));
    const now = Math.floor(Date.now() / 1000);
    assert.ok(payload.iat <= now - 299 && payload.iat === payload.nbf, 'iat/nbf are backdated five minutes');
    assert.equal(payload.exp - payload.iat, 3900);

    const jwks = (await client.get(`/${tenantId}/discovery/v2.0/keys`)).json();
    const jwk = jwks.keys.find((k: { kid: string }) => k.kid === header.kid);
    const verified = await jwtVerify(body.access_token, await importJWK({ ...jwk, alg: 'RS256' }, 'RS256'));
    assert.equal(verified.payload.appid, consented.clientId);
  });

  it('issues a v1 token with string lifetimes for `resource`, and accepts client_secret_basic', async () => {
    const basic = Buffer.from(`${consented.clientId}:${encodeURIComponent(consented.secret)}`).toString('base64');
    const response = await client.postForm(`/${client.emulator.tenantDomain}/oauth2/token`,
      { grant_type: 'client_credentials', resource: 'https://api.securitycenter.microsoft.com' },
      { authorization: `Basic ${basic}` });
    assert.equal(response.status, 200, response.text);
    const body = response.json();
    for (const field of ['expires_in', 'ext_expires_in', 'expires_on', 'not_before']) assert.equal(typeof body[field], 'string', field);
    assert.equal(Number(body.expires_on) - Number(body.not_before), 3900);
    assert.equal(body.resource, 'https://api.securitycenter.microsoft.com');
  });

  it('serves the openid-configuration MSAL reads', async () => {
    const doc = (await client.get(`/${client.emulator.tenantId}/v2.0/.well-known/openid-configuration`)).json();
    assert.equal(doc.token_endpoint, `${client.emulator.loginUrl}/${client.emulator.tenantId}/oauth2/v2.0/token`);
    assert.ok(doc.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
    assert.ok(doc.jwks_uri && doc.issuer && doc.authorization_endpoint);
    assertAadsts(await client.get('/11111111-2222-4333-8444-555555555555/v2.0/.well-known/openid-configuration'), 400, 'invalid_tenant', 90002, /not found/);
  });

  it('90002: unknown tenant GUID or domain', async () => {
    assertAadsts(await client.tokenRequest(consented, {}, '11111111-2222-4333-8444-555555555555'), 400, 'invalid_tenant', 90002,
      /Tenant '11111111-2222-4333-8444-555555555555' not found\. Check to make sure you have the correct tenant ID and are signing into the correct cloud/);
    assertAadsts(await client.tokenRequest(consented, {}, 'nosuch.onmicrosoft.com'), 400, 'invalid_tenant', 90002, /Tenant 'nosuch\.onmicrosoft\.com' not found/);
  });

  it('900023: a tenant that is neither a GUID nor a domain', async () => {
    assertAadsts(await client.tokenRequest(consented, {}, 'undefined'), 400, 'invalid_request', 900023,
      /Specified tenant identifier 'undefined' is neither a valid DNS name, nor a valid external domain\./);
  });

  it('700016: application not in the directory', async () => {
    assertAadsts(await client.tokenRequest({ ...consented, clientId: '0bad0bad-0000-4000-8000-000000000000' }), 400, 'unauthorized_client', 700016,
      /Application with identifier '0bad0bad-0000-4000-8000-000000000000' was not found in the directory 'Contoso'/);
  });

  it('7000215: wrong secret, and the Secret ID sent instead of the Value', async () => {
    const message = new RegExp(`Invalid client secret provided\\. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${consented.clientId}'\\.`);
    assertAadsts(await client.tokenRequest({ ...consented, secret: 'not-the-secret' }), 401, 'invalid_client', 7000215, message);
    assertAadsts(await client.tokenRequest({ ...consented, secret: client.emulator.apps.consented.secretId }), 401, 'invalid_client', 7000215, message);
  });

  it('7000222: expired secret', async () => {
    const app = client.emulator.apps.expiredSecret;
    assertAadsts(await client.tokenRequest({ clientId: app.clientId, secret: app.secretValue }), 401, 'invalid_client', 7000222,
      new RegExp(`The provided client secret keys for app '${app.clientId}' are expired\\. Visit the Azure portal to create new keys`));
  });

  it('70011 and 1002012: bad scopes', async () => {
    assertAadsts(await client.tokenRequest(consented, { scope: 'https://api.securitycenter.microsoft.com/Vulnerability.Read.All' }), 400, 'invalid_scope', 1002012,
      /Client credential flows must have a scope value with \/\.default suffixed/);
    assertAadsts(await client.tokenRequest(consented, { scope: 'Vulnerability.Read.All' }), 400, 'invalid_scope', 70011,
      /The provided value for the input parameter 'scope' is not valid\. The scope Vulnerability\.Read\.All is not valid\./);
  });

  it('500011: Defender not provisioned in the tenant, or an unknown resource', async () => {
    const other = client.emulator.tenants.find((t) => !t.defenderProvisioned)!;
    const app = other.apps.consented!;
    assertAadsts(await client.tokenRequest({ clientId: app.clientId, secret: app.secretValue }, {}, other.tenantId), 400, 'invalid_resource', 500011,
      /The resource principal named https:\/\/api\.securitycenter\.microsoft\.com was not found in the tenant named/);
    assertAadsts(await client.tokenRequest(consented, { scope: 'https://nothing.example.com/.default' }), 400, 'invalid_resource', 500011, /nothing\.example\.com/);
  });

  it('7000112: disabled application', async () => {
    const app = client.emulator.apps.disabled;
    assertAadsts(await client.tokenRequest({ clientId: app.clientId, secret: app.secretValue }), 400, 'unauthorized_client', 7000112,
      new RegExp(`Application '${app.clientId}'\\(${app.displayName}\\) is disabled\\.`));
  });

  it('900144: a missing form field, including a JSON body instead of a form', async () => {
    assertAadsts(await client.postForm(`/${client.emulator.tenantId}/oauth2/v2.0/token`, { grant_type: 'client_credentials', client_id: consented.clientId, client_secret: consented.secret }),
      400, 'invalid_request', 900144, /The request body must contain the following parameter: 'scope'\./);
    const jsonBody = await client.send('POST', `/${client.emulator.tenantId}/oauth2/v2.0/token`, {
      headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    assertAadsts(jsonBody, 400, 'invalid_request', 900144, /'grant_type'/);
  });

  it('901002: `resource` sent to the v2 endpoint', async () => {
    assertAadsts(await client.tokenRequest(consented, { resource: 'https://api.securitycenter.microsoft.com' }), 400, 'invalid_request', 901002,
      /The 'resource' request parameter isn't supported\./);
  });

  it('without admin consent the token carries no roles', async () => {
    const token = await client.token(client.emulator.apps.noConsent);
    assert.equal(decodeJwt(token).payload.roles, undefined);
  });

  it('echoes client-request-id as the correlation id', async () => {
    const response = await client.postForm(`/${client.emulator.tenantId}/oauth2/v2.0/token`,
      { grant_type: 'client_credentials', client_id: consented.clientId, client_secret: 'wrong', scope: DEFENDER_SCOPE },
      { 'client-request-id': '01234567-89ab-4def-8123-456789abcdef' });
    assert.equal(response.json().correlation_id, '01234567-89ab-4def-8123-456789abcdef');
  });
});
