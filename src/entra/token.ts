// Access tokens for the Defender API, from MSAL's cache (renewed before expiry) or Entra ID.
// Failures come back as diagnoses: the AADSTS code, or the transport problem MSAL hides.

import { AuthError, ServerError } from '@azure/msal-node';
import type { Dispatcher } from 'undici';
import { diagnoseEntra, diagnoseTransport, DiagnosedError } from '../connections/diagnosis.js';
import { CLOUD_PRESETS, endpointsFor, type Cloud } from './clouds.js';
import { confidentialClient, DEFENDER_SCOPE } from './msal.js';

export interface AppCredentials {
  cloud: Cloud;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  loginUrl?: string;
  apiUrl?: string;
}

export interface TokenSource {
  /** A valid token; `fresh` bypasses the cache (after a 401). */
  get(fresh?: boolean): Promise<string>;
}

export function createTokenSource(credentials: AppCredentials, dispatcher: Dispatcher, proxyUrl?: string): TokenSource {
  const { loginUrl } = endpointsFor(credentials.cloud, credentials);
  const cloudLabel = credentials.cloud === 'custom' ? 'custom' : CLOUD_PRESETS[credentials.cloud].label;
  let transportError: Error | undefined;
  const app = confidentialClient({ loginUrl, tenantId: credentials.tenantId, clientId: credentials.clientId, clientSecret: credentials.clientSecret },
    dispatcher, (e) => { transportError = e; });
  return {
    async get(fresh = false) {
      transportError = undefined;
      try {
        const result = await app.acquireTokenByClientCredential({ scopes: [DEFENDER_SCOPE], skipCache: fresh });
        if (!result?.accessToken) throw new Error('Microsoft Entra ID returned no access token.');
        return result.accessToken;
      } catch (e) {
        if (transportError) throw new DiagnosedError(diagnoseTransport(transportError, new URL(loginUrl).host, proxyUrl));
        if (e instanceof ServerError && e.errorNo) {
          throw new DiagnosedError(diagnoseEntra(Number(e.errorNo), e.errorMessage, { tenantId: credentials.tenantId, clientId: credentials.clientId, cloudLabel }));
        }
        const message = e instanceof AuthError ? `${e.errorCode}: ${e.errorMessage}` : (e as Error).message;
        throw new DiagnosedError({ code: 'entra_error', step: 'application-id', message: `The sign-in failed: ${message}`, fix: 'Check the Tenant ID, Application ID and cloud against the setup guide, then test again.' });
      }
    },
  };
}

/** The claims of a JWT access token, unverified (the API checks the signature); empty when unreadable. */
function tokenClaims(accessToken: string): { roles?: unknown; exp?: unknown } {
  try {
    return JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString('utf8')) ?? {};
  } catch {
    return {};
  }
}

/** The application roles a token carries. */
export function tokenRoles(accessToken: string): string[] {
  const { roles } = tokenClaims(accessToken);
  return Array.isArray(roles) ? roles.map(String) : [];
}

/** When a token expires (ms since the epoch), if it says. */
export function tokenExpiry(accessToken: string): number | undefined {
  const { exp } = tokenClaims(accessToken);
  return typeof exp === 'number' ? exp * 1000 : undefined;
}
