// MSAL wiring for a client-credentials app. Authority metadata is built locally from the login
// URL, so MSAL makes only the token request: no instance or OpenID discovery round trips, and an
// unknown tenant surfaces as its AADSTS code instead of a generic resolution error.

import { ConfidentialClientApplication, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import { request, type Dispatcher } from 'undici';

export const DEFENDER_SCOPE = 'https://api.securitycenter.microsoft.com/.default';

export function authorityMetadata(loginUrl: string, tenant: string): string {
  const base = `${loginUrl.replace(/\/+$/, '')}/${tenant}`;
  return JSON.stringify({
    token_endpoint: `${base}/oauth2/v2.0/token`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
    issuer: `${base}/v2.0`,
  });
}

/**
 * MSAL's network module on top of an undici dispatcher (extra CA, proxy, keep-alive). MSAL reports
 * any transport failure as a bare `network_error`; `onTransportError` sees the real cause (DNS,
 * TLS, proxy) so it can be diagnosed.
 */
export function msalNetworkClient(dispatcher: Dispatcher, onTransportError?: (error: Error) => void): INetworkModule {
  async function send<T>(url: string, method: 'GET' | 'POST', options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method,
        headers: options?.headers,
        body: options?.body,
        dispatcher,
        signal: timeout ? AbortSignal.timeout(timeout) : undefined,
      });
    } catch (e) {
      onTransportError?.(e as Error);
      throw e;
    }
    const text = await response.body.text();
    let body: T;
    try {
      body = JSON.parse(text) as T;
    } catch {
      throw new Error(`The sign-in service at ${new URL(url).host} answered HTTP ${response.statusCode} with a body that is not JSON.`);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) headers[name] = String(value);
    return { headers, body, status: response.statusCode };
  }
  return {
    sendGetRequestAsync: (url, options, timeout) => send(url, 'GET', options, timeout),
    sendPostRequestAsync: (url, options) => send(url, 'POST', options),
  };
}

export interface ClientCredentials {
  loginUrl: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

export function confidentialClient(credentials: ClientCredentials, dispatcher: Dispatcher, onTransportError?: (error: Error) => void): ConfidentialClientApplication {
  const loginHost = new URL(credentials.loginUrl).host;
  return new ConfidentialClientApplication({
    auth: {
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      authority: `${credentials.loginUrl.replace(/\/+$/, '')}/${credentials.tenantId}`,
      knownAuthorities: [loginHost],
      authorityMetadata: authorityMetadata(credentials.loginUrl, credentials.tenantId),
    },
    system: { networkClient: msalNetworkClient(dispatcher, onTransportError) },
  });
}
