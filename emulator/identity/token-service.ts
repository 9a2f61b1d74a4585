// Entra ID's token endpoint: the client-credentials grant (v2 with `scope`, v1 with `resource`)
// and the authorization-code grant of the sign-in page (v2, with ID tokens), the discovery
// documents MSAL reads, and the AADSTS errors of a broken setup.

import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK } from 'jose';
import type { EmulatorRequest, Reply, Route } from '../http.js';
import { json } from '../http.js';
import type { Faults } from '../faults.js';
import {
  AadstsError, appDisabled, appNotFound, errorDescription, requestTrace, findTenant, missingParameter, securityHeaders, v2Issuer,
} from './aadsts.js';
import type { AuthorizationCodes, AuthorizationGrant } from './authorization-codes.js';
import { assignedRoles, DEFENDER_APP_ID, type AppRegistration, type Directory, type DirectoryTenant, type DirectoryUser } from './directory.js';

/** Resource identifiers that name WindowsDefenderATP (public and US Government clouds). */
export const DEFENDER_RESOURCES = [
  'https://api.securitycenter.microsoft.com',
  'https://api.securitycenter.windows.com',
  'https://securitycenter.onmicrosoft.com/windowsatpservice',
  'https://api-gcc.securitycenter.microsoft.us',
  'https://api-gov.securitycenter.microsoft.us',
  'https://securitycenter.onmicrosoft.us/windowsatpservice',
  DEFENDER_APP_ID,
];

/** Other first-party resources every tenant has; tokens for them carry no Defender roles. */
const OTHER_RESOURCES = ['https://graph.microsoft.com', 'https://api.security.microsoft.com', 'https://management.azure.com'];

/** Microsoft Graph's app id: the audience of the access token a sign-in without an API scope gets. */
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export interface TokenServiceOptions {
  directory: Directory;
  /** Codes issued by the sign-in page (sign-in.ts). */
  codes: AuthorizationCodes;
  faults: Faults;
  /** Access token lifetime in seconds (Entra: 3600 plus 5 minutes of backdating). */
  tokenLifetimeSeconds: number;
  /** AADSTS90002's `error`: "invalid_tenant" (2022 on) or "invalid_request" (older captures). */
  unknownTenantError: 'invalid_tenant' | 'invalid_request';
  /** Separator before "Trace ID:" in error_description: CRLF (most captures) or a space. */
  descriptionSeparator: '\r\n' | ' ';
  now: () => number;
}

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
}

export function createSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey, publicKey, kid: createHash('sha1').update(der).digest('base64url') };
}

export function createTokenService(options: TokenServiceOptions, key: SigningKey): Route[] {
  const { directory } = options;

  function errorReply(req: EmulatorRequest, e: AadstsError): Reply {
    const trace = requestTrace(req, options.now());
    return json(e.status, {
      error: e.error,
      error_description: errorDescription(e, trace, options.descriptionSeparator),
      error_codes: [e.code],
      timestamp: trace.timestamp,
      trace_id: trace.traceId,
      correlation_id: trace.correlationId,
      error_uri: `${req.url.origin}/error?code=${e.code}`,
    }, securityHeaders(trace.traceId));
  }

  function resolveTenant(identifier: string): DirectoryTenant {
    if (['common', 'consumers', 'organizations'].includes(identifier.toLowerCase())) {
      throw new AadstsError(400, 'invalid_request', 9001023,
        "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.");
    }
    return findTenant(directory, identifier, options.unknownTenantError);
  }

  function authenticate(tenant: DirectoryTenant, form: URLSearchParams, basic: [string, string] | undefined): AppRegistration {
    const clientId = form.get('client_id') ?? basic?.[0];
    if (!clientId) throw missingParameter('client_id');
    const app = tenant.apps.find((a) => a.clientId === clientId.toLowerCase());
    if (!app) throw appNotFound(clientId, tenant.displayName);
    if (!app.enabled) throw appDisabled(app.clientId, app.displayName);
    const presented = form.get('client_secret') ?? basic?.[1];
    if (!presented) {
      throw new AadstsError(401, 'invalid_client', 7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    const secret = app.secrets.find((s) => s.value === presented);
    if (!secret) {
      throw new AadstsError(401, 'invalid_client', 7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`);
    }
    if (secret.expiresAt !== null && secret.expiresAt <= options.now()) {
      throw new AadstsError(401, 'invalid_client', 7000222,
        `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`);
    }
    return app;
  }

  /** The resource a v2 scope names, or the AADSTS error Entra gives for it. */
  function resourceOfScope(scope: string): string {
    const scopes = scope.trim().split(/\s+/);
    const resources = new Set(scopes.map((s) => s.replace(/\/[^/]*$/, '')));
    if (resources.size > 1) throw new AadstsError(400, 'invalid_scope', 700022, `The provided value for the input parameter 'scope' is not valid. InvalidMultipleResourcesScope.`);
    const only = scopes[0];
    if (only.endsWith('/.default')) return only.slice(0, -'/.default'.length);
    const known = [...DEFENDER_RESOURCES, ...OTHER_RESOURCES].some((r) => only.toLowerCase().startsWith(r.toLowerCase() + '/'));
    if (known || only.includes('://')) {
      throw new AadstsError(400, 'invalid_scope', 1002012,
        `The provided value for scope ${only} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    }
    throw new AadstsError(400, 'invalid_scope', 70011,
      `The provided value for the input parameter 'scope' is not valid. The scope ${only} is not valid.`);
  }

  function checkResource(tenant: DirectoryTenant, resource: string): { defender: boolean } {
    const normalized = resource.replace(/\/+$/, '').toLowerCase();
    const defender = DEFENDER_RESOURCES.some((r) => r.toLowerCase() === normalized);
    const other = OTHER_RESOURCES.some((r) => r.toLowerCase() === normalized);
    if ((defender && !tenant.defenderProvisioned) || (!defender && !other)) {
      throw new AadstsError(400, 'invalid_resource', 500011,
        `The resource principal named ${resource} was not found in the tenant named ${tenant.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`);
    }
    return { defender };
  }

  async function issueToken(req: EmulatorRequest, version: 'v1' | 'v2'): Promise<Reply> {
    try {
      const tenant = resolveTenant(req.params.tenant ?? '');
      const isForm = String(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
      const form = new URLSearchParams(isForm ? req.body.toString('utf8') : '');
      const basic = parseBasic(req.headers.authorization);
      const grant = form.get('grant_type');
      if (!grant) throw missingParameter('grant_type');
      const supported = grant === 'client_credentials' || (grant === 'authorization_code' && version === 'v2');
      if (!supported) throw new AadstsError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
      if (version === 'v2' && form.has('resource')) throw new AadstsError(400, 'invalid_request', 901002, "The 'resource' request parameter isn't supported.");
      const app = authenticate(tenant, form, basic);
      if (grant === 'authorization_code') return await redeemCode(req, tenant, app, form);
      let resource: string;
      if (version === 'v2') {
        const scope = form.get('scope');
        if (!scope) throw missingParameter('scope');
        resource = resourceOfScope(scope);
      } else {
        const requested = form.get('resource');
        if (!requested) throw missingParameter('resource');
        resource = requested;
      }
      const { defender } = checkResource(tenant, resource);
      return await tokenReply(tenant, app, resource.replace(/\/+$/, ''), defender ? app.roles : [], version);
    } catch (e) {
      if (e instanceof AadstsError) return errorReply(req, e);
      throw e;
    }
  }

  /** Access token lifetime in seconds: the configured one, or a few seconds under the shortTokens fault. */
  function accessTokenLifetime(): number {
    const shortTokens = options.faults.take('shortTokens', 'token');
    return shortTokens ? (shortTokens.lifetimeSeconds ?? 5) : options.tokenLifetimeSeconds;
  }

  /** Signs a token valid from five minutes ago (Entra backdates `iat`/`nbf`) for `lifetime` seconds. */
  function sign(claims: Record<string, unknown>, aud: string, iss: string, lifetime: number, header: Record<string, string>): Promise<string> {
    const now = Math.floor(options.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', ...header, kid: key.kid })
      .setAudience(aud)
      .setIssuer(iss)
      .setIssuedAt(now - 300)
      .setNotBefore(now - 300)
      .setExpirationTime(now + lifetime)
      .sign(key.privateKey);
  }

  /** Opaque per-token claims Entra adds (`aio`, `rh`, `uti`). */
  function opaqueClaims(tenant: DirectoryTenant): Record<string, string> {
    return {
      aio: randomUUID().replace(/-/g, ''),
      rh: `0.${Buffer.from(tenant.id).toString('base64url').slice(0, 20)}.`,
      uti: randomUUID().replace(/-/g, '').slice(0, 22),
    };
  }

  async function tokenReply(tenant: DirectoryTenant, app: AppRegistration, aud: string, roles: string[], version: 'v1' | 'v2'): Promise<Reply> {
    const now = Math.floor(options.now() / 1000);
    const lifetime = accessTokenLifetime();
    const claims: Record<string, unknown> = {
      ...opaqueClaims(tenant),
      app_displayname: app.displayName,
      appid: app.clientId,
      appidacr: '1',
      idp: `https://sts.windows.net/${tenant.id}/`,
      idtyp: 'app',
      oid: app.objectId,
      sub: app.objectId,
      tenant_region_scope: tenant.regionScope,
      tid: tenant.id,
      ver: '1.0',
    };
    if (roles.length) claims.roles = roles;
    const accessToken = await sign(claims, aud, `https://sts.windows.net/${tenant.id}/`, lifetime, { x5t: key.kid });
    const expiresIn = lifetime - 1;
    const body = version === 'v2'
      ? { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: accessToken }
      : {
        token_type: 'Bearer', expires_in: String(expiresIn), ext_expires_in: String(expiresIn),
        expires_on: String(now + lifetime), not_before: String(now - 300), resource: aud, access_token: accessToken,
      };
    return json(200, body, securityHeaders(randomUUID()));
  }

  /** The authorization-code grant: the signed-in user's ID token and a Microsoft Graph access token. */
  async function redeemCode(req: EmulatorRequest, tenant: DirectoryTenant, app: AppRegistration, form: URLSearchParams): Promise<Reply> {
    const code = form.get('code');
    if (!code) throw missingParameter('code');
    const grant = options.codes.redeem(code, {
      tenantId: tenant.id, clientId: app.clientId, redirectUri: form.get('redirect_uri'), codeVerifier: form.get('code_verifier'),
    });
    const user = tenant.users.find((u) => u.objectId === grant.userObjectId)!;
    const scopes = new Set(grant.scopes.map((s) => s.toLowerCase()));
    // A sign-in that names no API gets a token for Microsoft Graph's User.Read, as in Entra.
    const graphScopes = ['User.Read', ...[...scopes].filter((s) => ['openid', 'profile', 'email'].includes(s))];
    const lifetime = accessTokenLifetime();
    const accessToken = await sign({
      ...opaqueClaims(tenant),
      amr: ['pwd'],
      app_displayname: app.displayName,
      appid: app.clientId,
      appidacr: '1',
      idtyp: 'user',
      name: user.displayName,
      oid: user.objectId,
      scp: graphScopes.join(' '),
      sub: pairwiseSubject(user.objectId, GRAPH_APP_ID),
      tenant_region_scope: tenant.regionScope,
      tid: tenant.id,
      unique_name: user.userPrincipalName,
      upn: user.userPrincipalName,
      ver: '1.0',
    }, GRAPH_APP_ID, `https://sts.windows.net/${tenant.id}/`, lifetime, { x5t: key.kid });
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      scope: graphScopes.join(' '),
      expires_in: lifetime - 1,
      ext_expires_in: lifetime - 1,
      access_token: accessToken,
    };
    // Without openid this is plain OAuth: no ID token.
    if (scopes.has('openid')) body.id_token = await idToken(req, tenant, app, user, grant, scopes);
    // MSAL asks for client_info ({uid, utid}) to key its account cache.
    if (form.get('client_info') === '1') {
      body.client_info = Buffer.from(JSON.stringify({ uid: user.objectId, utid: tenant.id })).toString('base64url');
    }
    return json(200, body, securityHeaders(randomUUID()));
  }

  /** A v2.0 ID token; `name` and `preferred_username` need the profile scope, `email` the email scope. */
  function idToken(req: EmulatorRequest, tenant: DirectoryTenant, app: AppRegistration, user: DirectoryUser, grant: AuthorizationGrant, scopes: Set<string>): Promise<string> {
    const roles = assignedRoles(user, app);
    const claims: Record<string, unknown> = {
      ...opaqueClaims(tenant),
      oid: user.objectId,
      sid: grant.sessionId,
      sub: pairwiseSubject(user.objectId, app.clientId),
      tid: tenant.id,
      ver: '2.0',
    };
    if (grant.nonce !== undefined) claims.nonce = grant.nonce;
    if (scopes.has('profile')) Object.assign(claims, { name: user.displayName, preferred_username: user.userPrincipalName });
    if (scopes.has('email')) claims.email = user.userPrincipalName;
    if (roles.length) claims.roles = roles;
    // The app registration emits security groups (groupMembershipClaims: SecurityGroup).
    if (user.groups.length) claims.groups = user.groups;
    return sign(claims, app.clientId, v2Issuer(req.url.origin, tenant), 3600, {});
  }

  function openidConfiguration(req: EmulatorRequest, version: 'v1' | 'v2'): Reply {
    let tenant: DirectoryTenant;
    try {
      tenant = resolveTenant(req.params.tenant ?? '');
    } catch (e) {
      if (e instanceof AadstsError) return errorReply(req, e);
      throw e;
    }
    const base = `${req.url.origin}/${tenant.id}`;
    const v2 = version === 'v2' ? '/v2.0' : '';
    return json(200, {
      token_endpoint: `${base}/oauth2${v2}/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery${v2}/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: version === 'v2' ? v2Issuer(req.url.origin, tenant) : `https://sts.windows.net/${tenant.id}/`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2${v2}/authorize`,
      device_authorization_endpoint: `${base}/oauth2${v2}/devicecode`,
      end_session_endpoint: `${base}/oauth2${v2}/logout`,
      frontchannel_logout_supported: true,
      http_logout_supported: true,
      tenant_region_scope: tenant.regionScope,
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    }, { 'cache-control': 'max-age=86400, private' });
  }

  async function keys(): Promise<Reply> {
    const jwk = await exportJWK(key.publicKey);
    return json(200, { keys: [{ kty: 'RSA', use: 'sig', kid: key.kid, x5t: key.kid, n: jwk.n, e: jwk.e }] });
  }

  function instanceDiscovery(req: EmulatorRequest): Reply {
    const host = req.url.host;
    return json(200, {
      tenant_discovery_endpoint: `${req.url.origin}/common/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  }

  return [
    { method: 'POST', path: '/:tenant/oauth2/v2.0/token', endpoint: 'token', handle: (req) => issueToken(req, 'v2') },
    { method: 'POST', path: '/:tenant/oauth2/token', endpoint: 'token', handle: (req) => issueToken(req, 'v1') },
    { method: 'GET', path: '/:tenant/v2.0/.well-known/openid-configuration', endpoint: 'discovery', handle: (req) => openidConfiguration(req, 'v2') },
    { method: 'GET', path: '/:tenant/.well-known/openid-configuration', endpoint: 'discovery', handle: (req) => openidConfiguration(req, 'v1') },
    { method: 'GET', path: '/:tenant/discovery/v2.0/keys', endpoint: 'discovery', handle: keys },
    { method: 'GET', path: '/:tenant/discovery/keys', endpoint: 'discovery', handle: keys },
    { method: 'GET', path: '/common/discovery/instance', endpoint: 'discovery', handle: instanceDiscovery },
  ];
}

/** `sub`: the user's id as one app sees it, so two apps cannot correlate their users by it. */
function pairwiseSubject(objectId: string, appId: string): string {
  return createHash('sha256').update(`${appId}:${objectId}`).digest('base64url').slice(0, 43);
}

function parseBasic(header: string | undefined): [string, string] | undefined {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
  const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  return [decode(decoded.slice(0, colon)), decode(decoded.slice(colon + 1))];
}
