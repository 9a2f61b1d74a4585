// Entra ID's token endpoint for the client-credentials grant (v2 with `scope`, v1 with
// `resource`), the discovery documents MSAL reads, and the AADSTS errors of a broken setup.

import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK } from 'jose';
import type { EmulatorRequest, Reply, Route } from '../http.js';
import { json } from '../http.js';
import type { Faults } from '../faults.js';
import { DEFENDER_APP_ID, type AppRegistration, type Directory, type DirectoryTenant } from './directory.js';

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

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

export interface TokenServiceOptions {
  directory: Directory;
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

class AadstsError {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly code: number,
    readonly message: string,
  ) {}
}

function entraTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function securityHeaders(traceId: string): Record<string, string> {
  return {
    'cache-control': 'no-store, no-cache',
    pragma: 'no-cache',
    expires: '-1',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'x-content-type-options': 'nosniff',
    p3p: 'CP="DSP CUR OTPi IND OTRi ONL FIN"',
    'x-ms-request-id': traceId,
    'x-ms-ests-server': '2.1.19567.7 - SEC ProdSlices',
  };
}

export function createTokenService(options: TokenServiceOptions, key: SigningKey): Route[] {
  const { directory } = options;

  function errorReply(req: EmulatorRequest, e: AadstsError): Reply {
    const traceId = randomUUID();
    const correlationId = String(req.headers['client-request-id'] ?? randomUUID());
    const timestamp = entraTimestamp(options.now());
    const sep = options.descriptionSeparator;
    return json(e.status, {
      error: e.error,
      error_description: `AADSTS${e.code}: ${e.message}${sep}Trace ID: ${traceId}${sep}Correlation ID: ${correlationId}${sep}Timestamp: ${timestamp}`,
      error_codes: [e.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${req.url.origin}/error?code=${e.code}`,
    }, securityHeaders(traceId));
  }

  function resolveTenant(identifier: string): DirectoryTenant {
    if (identifier === '00000000-0000-0000-0000-000000000000') {
      throw new AadstsError(400, 'invalid_request', 90002,
        `Requested tenant identifier '${identifier}' is not valid. Tenant identifiers may not be an empty GUID.`);
    }
    if (['common', 'consumers', 'organizations'].includes(identifier.toLowerCase())) {
      throw new AadstsError(400, 'invalid_request', 9001023,
        "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.");
    }
    if (!GUID.test(identifier) && !DNS_NAME.test(identifier)) {
      throw new AadstsError(400, 'invalid_request', 900023,
        `Specified tenant identifier '${identifier}' is neither a valid DNS name, nor a valid external domain.`);
    }
    const tenant = directory.find(identifier);
    if (!tenant) {
      throw new AadstsError(400, options.unknownTenantError, 90002,
        `Tenant '${identifier}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`);
    }
    return tenant;
  }

  function missing(name: string): AadstsError {
    return new AadstsError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
  }

  function authenticate(tenant: DirectoryTenant, form: URLSearchParams, basic: [string, string] | undefined): AppRegistration {
    const clientId = form.get('client_id') ?? basic?.[0];
    if (!clientId) throw missing('client_id');
    const app = tenant.apps.find((a) => a.clientId === clientId.toLowerCase());
    if (!app) {
      throw new AadstsError(400, 'unauthorized_client', 700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
    }
    if (!app.enabled) {
      throw new AadstsError(400, 'unauthorized_client', 7000112, `Application '${app.clientId}'(${app.displayName}) is disabled.`);
    }
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
      if (!grant) throw missing('grant_type');
      if (grant !== 'client_credentials') throw new AadstsError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
      if (version === 'v2' && form.has('resource')) throw new AadstsError(400, 'invalid_request', 901002, "The 'resource' request parameter isn't supported.");
      const app = authenticate(tenant, form, basic);
      let resource: string;
      if (version === 'v2') {
        const scope = form.get('scope');
        if (!scope) throw missing('scope');
        resource = resourceOfScope(scope);
      } else {
        const requested = form.get('resource');
        if (!requested) throw missing('resource');
        resource = requested;
      }
      const { defender } = checkResource(tenant, resource);
      return await tokenReply(tenant, app, resource.replace(/\/+$/, ''), defender ? app.roles : [], version);
    } catch (e) {
      if (e instanceof AadstsError) return errorReply(req, e);
      throw e;
    }
  }

  async function tokenReply(tenant: DirectoryTenant, app: AppRegistration, aud: string, roles: string[], version: 'v1' | 'v2'): Promise<Reply> {
    const now = Math.floor(options.now() / 1000);
    const shortTokens = options.faults.take('shortTokens', 'token');
    const lifetime = shortTokens ? (shortTokens.lifetimeSeconds ?? 5) : options.tokenLifetimeSeconds;
    const issuedAt = now - 300;
    const exp = now + lifetime;
    const claims: Record<string, unknown> = {
      aio: randomUUID().replace(/-/g, ''),
      app_displayname: app.displayName,
      appid: app.clientId,
      appidacr: '1',
      idp: `https://sts.windows.net/${tenant.id}/`,
      idtyp: 'app',
      oid: app.objectId,
      rh: `0.${Buffer.from(tenant.id).toString('base64url').slice(0, 20)}.`,
      sub: app.objectId,
      tenant_region_scope: tenant.regionScope,
      tid: tenant.id,
      uti: randomUUID().replace(/-/g, '').slice(0, 22),
      ver: '1.0',
    };
    if (roles.length) claims.roles = roles;
    const accessToken = await new SignJWT(claims)
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', x5t: key.kid, kid: key.kid })
      .setAudience(aud)
      .setIssuer(`https://sts.windows.net/${tenant.id}/`)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(exp)
      .sign(key.privateKey);
    const expiresIn = exp - now - 1;
    const body = version === 'v2'
      ? { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: accessToken }
      : {
        token_type: 'Bearer', expires_in: String(expiresIn), ext_expires_in: String(expiresIn),
        expires_on: String(exp), not_before: String(issuedAt), resource: aud, access_token: accessToken,
      };
    return json(200, body, securityHeaders(randomUUID()));
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
      issuer: version === 'v2' ? `${base}/v2.0` : `https://sts.windows.net/${tenant.id}/`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2${v2}/authorize`,
      device_authorization_endpoint: `${base}/oauth2${v2}/devicecode`,
      end_session_endpoint: `${base}/oauth2${v2}/logout`,
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
