// Entra ID's error answers, shared by the token endpoint (JSON error objects) and the sign-in
// pages (error pages and error redirects): the AADSTS error, its description with the trace
// lines, and the tenant lookup that produces the first errors a bad request meets.

import { randomUUID } from 'node:crypto';
import type { EmulatorRequest } from '../http.js';
import type { Directory, DirectoryTenant } from './directory.js';

export class AadstsError {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly code: number,
    readonly message: string,
  ) {}
}

/** The ids and time Entra reports with an answer; an error carries them in its description. */
export interface RequestTrace {
  traceId: string;
  correlationId: string;
  timestamp: string;
}

export function entraTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function requestTrace(req: EmulatorRequest, now: number): RequestTrace {
  return {
    traceId: randomUUID(),
    correlationId: String(req.headers['client-request-id'] ?? randomUUID()),
    timestamp: entraTimestamp(now),
  };
}

/** `AADSTS{code}: {message}` and the trace lines, as in `error_description`. */
export function errorDescription(e: AadstsError, trace: RequestTrace, separator: string): string {
  return `AADSTS${e.code}: ${e.message}${separator}Trace ID: ${trace.traceId}${separator}Correlation ID: ${trace.correlationId}${separator}Timestamp: ${trace.timestamp}`;
}

export function securityHeaders(traceId: string): Record<string, string> {
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

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** The tenant a path names by GUID or domain, or Entra's error for it. */
export function findTenant(directory: Directory, identifier: string, unknownTenantError: string): DirectoryTenant {
  if (identifier === '00000000-0000-0000-0000-000000000000') {
    throw new AadstsError(400, 'invalid_request', 90002,
      `Requested tenant identifier '${identifier}' is not valid. Tenant identifiers may not be an empty GUID.`);
  }
  if (!GUID.test(identifier) && !DNS_NAME.test(identifier)) {
    throw new AadstsError(400, 'invalid_request', 900023,
      `Specified tenant identifier '${identifier}' is neither a valid DNS name, nor a valid external domain.`);
  }
  const tenant = directory.find(identifier);
  if (!tenant) {
    throw new AadstsError(400, unknownTenantError, 90002,
      `Tenant '${identifier}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`);
  }
  return tenant;
}

export function appNotFound(clientId: string, directoryName: string): AadstsError {
  return new AadstsError(400, 'unauthorized_client', 700016,
    `Application with identifier '${clientId}' was not found in the directory '${directoryName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
}

export function appDisabled(clientId: string, displayName: string): AadstsError {
  return new AadstsError(400, 'unauthorized_client', 7000112, `Application '${clientId}'(${displayName}) is disabled.`);
}

export function missingParameter(name: string): AadstsError {
  return new AadstsError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
}

/** The v2 issuer of a tenant on this login host: the discovery document's `issuer` and the ID tokens' `iss`. */
export function v2Issuer(origin: string, tenant: DirectoryTenant): string {
  return `${origin}/${tenant.id}/v2.0`;
}
