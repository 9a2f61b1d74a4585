// The live check that runs before a connection is saved: an MSAL token for the Defender API,
// the token's roles, then one cheap Defender call. Each failure becomes a Diagnosis.

import { AuthError, ServerError } from '@azure/msal-node';
import { request, type Dispatcher } from 'undici';
import { CLOUD_PRESETS, endpointsFor, type Cloud } from '../entra/clouds.js';
import { confidentialClient, DEFENDER_SCOPE } from '../entra/msal.js';
import { diagnoseApi, diagnoseEntra, diagnoseMissingRole, diagnoseTransport, type Diagnosis } from './diagnosis.js';

export const REQUIRED_ROLE = 'Vulnerability.Read.All';

export interface CheckTarget {
  cloud: Cloud;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  loginUrl?: string;
  apiUrl?: string;
}

export interface CheckContext {
  dispatcher: Dispatcher;
  proxyUrl?: string;
}

export type CheckResult = { ok: true; roles: string[] } | { ok: false; diagnosis: Diagnosis };

function tokenRoles(accessToken: string): string[] {
  try {
    const payload = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString('utf8')) as { roles?: unknown };
    return Array.isArray(payload.roles) ? payload.roles.map(String) : [];
  } catch {
    return [];
  }
}

export async function checkConnection(target: CheckTarget, context: CheckContext): Promise<CheckResult> {
  const { loginUrl, apiUrl } = endpointsFor(target.cloud, target);
  const cloudLabel = target.cloud === 'custom' ? 'custom' : CLOUD_PRESETS[target.cloud].label;
  let transportError: Error | undefined;
  const app = confidentialClient({ loginUrl, tenantId: target.tenantId, clientId: target.clientId, clientSecret: target.clientSecret },
    context.dispatcher, (e) => { transportError = e; });

  let accessToken: string;
  try {
    const result = await app.acquireTokenByClientCredential({ scopes: [DEFENDER_SCOPE] });
    if (!result?.accessToken) throw new Error('Microsoft Entra ID returned no access token.');
    accessToken = result.accessToken;
  } catch (e) {
    if (transportError) return { ok: false, diagnosis: diagnoseTransport(transportError, new URL(loginUrl).host, context.proxyUrl) };
    if (e instanceof ServerError && e.errorNo) {
      return { ok: false, diagnosis: diagnoseEntra(Number(e.errorNo), e.errorMessage, { tenantId: target.tenantId, clientId: target.clientId, cloudLabel }) };
    }
    const message = e instanceof AuthError ? `${e.errorCode}: ${e.errorMessage}` : (e as Error).message;
    return { ok: false, diagnosis: { code: 'entra_error', step: 'application-id', message: `The sign-in failed: ${message}`, fix: 'Check the Tenant ID, Application ID and cloud against the setup guide, then test again.' } };
  }

  const roles = tokenRoles(accessToken);
  if (!roles.includes(REQUIRED_ROLE)) return { ok: false, diagnosis: diagnoseMissingRole() };

  const apiHost = new URL(apiUrl).host;
  try {
    const response = await request(`${apiUrl}/api/vulnerabilities?$top=1`, {
      dispatcher: context.dispatcher,
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.body.text();
    if (response.statusCode === 200) return { ok: true, roles };
    let apiMessage = text.slice(0, 300);
    try {
      apiMessage = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? apiMessage;
    } catch {
      // not JSON: keep the start of the body
    }
    return { ok: false, diagnosis: diagnoseApi(response.statusCode, apiMessage, apiHost, response.headers['retry-after'] as string | undefined) };
  } catch (e) {
    return { ok: false, diagnosis: diagnoseTransport(e as Error, apiHost, context.proxyUrl) };
  }
}
