// Signing in to the console with Microsoft Entra ID: the OpenID Connect authorization code flow
// with PKCE, through MSAL's confidential client (no discovery calls, see msal.ts). MSAL builds the
// authorize URL and redeems the code; the ID token it gets back is then verified here against
// Entra's published signing keys, because loginUrl may point at a proxy rather than at Entra.

import { randomBytes } from 'node:crypto';
import { AuthError, CryptoProvider, ResponseMode } from '@azure/msal-node';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { request, type Dispatcher } from 'undici';
import { diagnoseTransport } from '../connections/diagnosis.js';
import { CLOUD_PRESETS } from './clouds.js';
import { confidentialClient } from './msal.js';

export interface EntraSignInConfig {
  /** e.g. https://login.microsoftonline.com */
  loginUrl: string;
  /** The Directory (tenant) ID: a GUID, since only this tenant's users may sign in. */
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** The console's callback, registered as a Web redirect URI of the app. */
  redirectUri: string;
}

export interface EntraIdentity {
  objectId: string;
  tenantId: string;
  username: string;
  displayName: string;
  /** App role values assigned to the user (SitePatch.Admin …). */
  roles: string[];
  /** Security group object ids. */
  groups: string[];
}

export interface EntraSignIn {
  /** Where to send the browser, and what to keep (in an httpOnly cookie or server-side) until the callback. */
  start(): Promise<{ url: string; state: string; nonce: string; codeVerifier: string }>;
  /** Redeems the code and verifies the ID token (signature, audience, tenant, issuer, nonce, expiry). */
  finish(input: { code: string; codeVerifier: string; nonce: string }): Promise<EntraIdentity>;
  /** Entra's sign-out page, which then sends the browser to `postLogoutRedirectUri`. */
  logoutUrl(postLogoutRedirectUri: string): string;
}

/** A sign-in that failed, with a message that says what to do; never contains the client secret. */
export class EntraSignInError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'EntraSignInError';
  }
}

const SCOPES = ['openid', 'profile'];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Clock difference tolerated between this server and Entra. */
const CLOCK_SKEW_SECONDS = 300;
const KEYS_MAX_AGE_MS = 24 * 3600_000;
/** An unknown key id refetches the keys (Entra rolled them over), but at most this often. */
const KEYS_MIN_REFETCH_MS = 60_000;

const randomToken = () => randomBytes(32).toString('base64url');

function checkConfig(config: EntraSignInConfig): void {
  const invalid = (message: string) => new EntraSignInError('invalid_config', message);
  if (!GUID.test(config.tenantId)) {
    throw invalid(`Sign-in with Entra ID needs the Directory (tenant) ID, a GUID, not '${config.tenantId}'. Copy it from App registrations → your app → Overview.`);
  }
  if (!GUID.test(config.clientId)) {
    throw invalid(`The Application (client) ID must be a GUID, not '${config.clientId}'. Copy it from App registrations → your app → Overview.`);
  }
  if (!config.clientSecret) throw invalid('The client secret of the sign-in app is missing: create one under App registrations → your app → Certificates & secrets.');
  const url = (text: string) => {
    try {
      return new URL(text);
    } catch {
      return undefined;
    }
  };
  if (url(config.loginUrl)?.protocol !== 'https:') throw invalid(`The login URL must be an https:// URL, such as https://login.microsoftonline.com; got '${config.loginUrl}'.`);
  if (!['http:', 'https:'].includes(url(config.redirectUri)?.protocol ?? '')) throw invalid(`The redirect URI must be an http(s) URL; got '${config.redirectUri}'.`);
}

export function createEntraSignIn(config: EntraSignInConfig, dispatcher: Dispatcher): EntraSignIn {
  checkConfig(config);
  const loginBase = config.loginUrl.replace(/\/+$/, '');
  const loginHost = new URL(loginBase).host;
  const jwksUri = `${loginBase}/${config.tenantId}/discovery/v2.0/keys`;
  const tenantId = config.tenantId.toLowerCase();
  // Through a proxy, the tokens still name Microsoft's login host as their issuer.
  const issuers = new Set([loginBase, ...Object.values(CLOUD_PRESETS).map((c) => c.loginUrl)].map((base) => `${base}/${tenantId}/v2.0`));
  const pkce = new CryptoProvider();

  /** A proxy or a broken server may echo the request back: keep the secret out of every message. */
  function redact(text: string): string {
    return [config.clientSecret, encodeURIComponent(config.clientSecret)].reduce((t, secret) => t.split(secret).join('[client secret]'), text);
  }
  const fail = (code: string, message: string) => new EntraSignInError(code, redact(message));

  /** A fresh MSAL app per call: its token cache then never holds one user's tokens for the next. */
  function msal(onTransportError: (e: Error) => void) {
    return confidentialClient({ loginUrl: loginBase, tenantId: config.tenantId, clientId: config.clientId, clientSecret: config.clientSecret }, dispatcher, onTransportError);
  }

  function transportFailure(e: Error): EntraSignInError {
    const diagnosis = diagnoseTransport(e, loginHost, undefined);
    return fail(diagnosis.code, `${diagnosis.message} ${diagnosis.fix}`);
  }

  /** What an AADSTS error of the token endpoint means for whoever configures or uses the sign-in. */
  function aadstsFailure(code: number, description: string): EntraSignInError {
    switch (code) {
      case 50011:
        return fail('redirect_uri_not_registered', `Microsoft Entra ID does not accept ${config.redirectUri} as a redirect URI of application ${config.clientId}. Add ${config.redirectUri} as a Web redirect URI under App registrations → your app → Authentication.`);
      case 500112:
        return fail('redirect_uri_mismatch', `The sign-in came back to another address than the one it started from. Give every console instance the same public URL, so that the redirect URI is always ${config.redirectUri}.`);
      case 90002:
      case 900023:
        return fail('tenant_not_found', `Microsoft Entra ID at ${loginHost} has no tenant '${config.tenantId}'. Copy the Directory (tenant) ID from App registrations → your app → Overview, and check the login URL of your cloud.`);
      case 700016:
        return fail('app_not_found', `No application with ID '${config.clientId}' is registered in tenant '${config.tenantId}'. Copy the Application (client) ID from App registrations → your app → Overview.`);
      case 7000112:
        return fail('app_disabled', 'The sign-in application is disabled. In Enterprise applications → your app → Properties, set "Enabled for users to sign-in?" to Yes.');
      case 7000215:
      case 7000218:
        return fail('invalid_client_secret', `Microsoft Entra ID rejected the client secret of the sign-in app ${config.clientId}. Enter the secret's Value (not its Secret ID) from App registrations → your app → Certificates & secrets; create a new secret if you no longer have the Value.`);
      case 7000222:
        return fail('client_secret_expired', 'The client secret of the sign-in app has expired. Create a new one under App registrations → your app → Certificates & secrets and enter its Value in the console settings.');
      case 54005:
      case 70008:
        return fail('sign_in_expired', 'The sign-in took too long or was repeated; sign in again.');
      case 501481:
        return fail('pkce_mismatch', 'The sign-in was answered for another sign-in attempt (for example one started in another tab); sign in again.');
      default:
        return fail('entra_error', `Microsoft Entra ID refused the sign-in: AADSTS${code}: ${description}`);
    }
  }

  function msalFailure(e: unknown, transportError: Error | undefined): EntraSignInError {
    if (transportError) return transportFailure(transportError);
    if (e instanceof AuthError) {
      const errorNo = Number((e as AuthError & { errorNo?: string | number }).errorNo);
      // MSAL's message is "Error(s): … - Description: AADSTS…: <text>\r\nTrace ID: …"; keep the text.
      const description = /AADSTS\d+: (.*?)(?:\r|\n|Trace ID:|$)/s.exec(e.errorMessage)?.[1]?.trim() ?? e.errorMessage;
      if (errorNo) return aadstsFailure(errorNo, description);
      if (e.errorCode === 'nonce_mismatch') return nonceMismatch();
      return fail('entra_error', `The sign-in with Microsoft Entra ID failed: ${e.errorCode}: ${e.errorMessage}`);
    }
    return fail('entra_error', `The sign-in with Microsoft Entra ID failed: ${(e as Error).message}`);
  }

  const nonceMismatch = () => fail('nonce_mismatch', 'The ID token was not issued for this sign-in attempt (its nonce does not match); sign in again.');

  let keys: { getKey: Promise<JWTVerifyGetKey>; fetchedAt: number } | undefined;

  async function fetchKeys(): Promise<JWTVerifyGetKey> {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(jwksUri, { dispatcher, signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      throw transportFailure(e as Error);
    }
    const unavailable = (why: string) => fail('signing_keys_unavailable', `Could not read Microsoft Entra ID's signing keys from ${jwksUri}: ${why}. Check that the login URL is that of your cloud (or of a proxy that forwards it).`);
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw unavailable(`HTTP ${response.statusCode}`);
    }
    try {
      return createLocalJWKSet(await response.body.json() as JSONWebKeySet);
    } catch {
      throw unavailable('the answer is not a JSON Web Key Set');
    }
  }

  function signingKeys(refresh: boolean): Promise<JWTVerifyGetKey> {
    if (!keys || refresh || Date.now() - keys.fetchedAt > KEYS_MAX_AGE_MS) {
      const getKey = fetchKeys();
      keys = { getKey, fetchedAt: Date.now() };
      // A failed fetch is not cached: the next sign-in tries again.
      getKey.catch(() => { if (keys?.getKey === getKey) keys = undefined; });
    }
    return keys.getKey;
  }

  /** Signature, audience and lifetime, by jose; refetches the keys once for an unknown key id. */
  async function verifySignature(idToken: string): Promise<JWTPayload> {
    const options = { algorithms: ['RS256'], audience: config.clientId, clockTolerance: CLOCK_SKEW_SECONDS, requiredClaims: ['exp', 'iat'] };
    try {
      try {
        return (await jwtVerify(idToken, await signingKeys(false), options)).payload;
      } catch (e) {
        const stale = keys !== undefined && Date.now() - keys.fetchedAt > KEYS_MIN_REFETCH_MS;
        if (!(e instanceof joseErrors.JWKSNoMatchingKey) || !stale) throw e;
        return (await jwtVerify(idToken, await signingKeys(true), options)).payload;
      }
    } catch (e) {
      if (e instanceof EntraSignInError) throw e;
      if (e instanceof joseErrors.JWTExpired) throw fail('token_expired', 'The ID token from Microsoft Entra ID has expired. Check that this server\'s clock is right, then sign in again.');
      if (e instanceof joseErrors.JWTClaimValidationFailed && e.claim === 'aud') {
        throw fail('wrong_audience', `The ID token was issued to another application (${String(e.payload.aud)}), not to ${config.clientId}. Check the Application (client) ID.`);
      }
      if (e instanceof joseErrors.JWTClaimValidationFailed) throw fail('invalid_id_token', `The ID token from Microsoft Entra ID is not valid: ${e.message}. Check that this server's clock is right, then sign in again.`);
      throw fail('invalid_signature', `The ID token's signature does not match the signing keys published at ${jwksUri} (${(e as Error).message}). If the login URL points at a proxy, it must pass Entra's answers through unchanged.`);
    }
  }

  async function identityOf(idToken: string, nonce: string): Promise<EntraIdentity> {
    const claims = await verifySignature(idToken);
    const tid = String(claims.tid ?? '').toLowerCase();
    if (tid !== tenantId) {
      throw fail('wrong_tenant', `This account belongs to another Microsoft Entra tenant (${tid || 'none'}), not to ${config.tenantId}. Sign in with an account of your organization.`);
    }
    if (!claims.iss || !issuers.has(claims.iss)) {
      throw fail('wrong_issuer', `The ID token was issued by ${claims.iss ?? 'nobody'}, not by Microsoft Entra ID for tenant ${config.tenantId}. Check the login URL.`);
    }
    // MSAL has compared the nonce already; this check stands on the verified token.
    if (claims.nonce !== nonce) throw nonceMismatch();
    if (typeof claims.oid !== 'string') throw fail('invalid_id_token', 'The ID token names no user (no oid claim).');
    const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
    const username = typeof claims.preferred_username === 'string' ? claims.preferred_username : claims.oid;
    return {
      objectId: claims.oid,
      tenantId: tid,
      username,
      displayName: typeof claims.name === 'string' ? claims.name : username,
      roles: strings(claims.roles),
      groups: strings(claims.groups),
    };
  }

  return {
    async start() {
      let transportError: Error | undefined;
      const { verifier, challenge } = await pkce.generatePkceCodes();
      const state = randomToken();
      const nonce = randomToken();
      try {
        const url = await msal((e) => { transportError = e; }).getAuthCodeUrl({
          scopes: SCOPES, redirectUri: config.redirectUri, responseMode: ResponseMode.QUERY,
          codeChallenge: challenge, codeChallengeMethod: 'S256', state, nonce,
        });
        return { url, state, nonce, codeVerifier: verifier };
      } catch (e) {
        throw msalFailure(e, transportError);
      }
    },

    async finish({ code, codeVerifier, nonce }) {
      let transportError: Error | undefined;
      let idToken: string | undefined;
      try {
        const result = await msal((e) => { transportError = e; }).acquireTokenByCode({ code, codeVerifier, nonce, redirectUri: config.redirectUri, scopes: SCOPES });
        idToken = result?.idToken;
      } catch (e) {
        throw msalFailure(e, transportError);
      }
      if (!idToken) throw fail('no_id_token', 'Microsoft Entra ID answered without an ID token; make sure the app registration allows the openid and profile scopes.');
      return identityOf(idToken, nonce);
    },

    logoutUrl(postLogoutRedirectUri) {
      return `${loginBase}/${config.tenantId}/oauth2/v2.0/logout?${new URLSearchParams({ post_logout_redirect_uri: postLogoutRedirectUri })}`;
    },
  };
}
