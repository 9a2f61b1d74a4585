// The live check that runs before a connection is saved: an MSAL token for the Defender API,
// the token's roles, then one cheap Defender call. Each failure becomes a Diagnosis.

import type { Dispatcher } from 'undici';
import { endpointsFor } from '../entra/clouds.js';
import { createTokenSource, tokenRoles, type AppCredentials } from '../entra/token.js';
import { createDefenderClient } from '../defender/client.js';
import { DiagnosedError, diagnoseMissingRole, type Diagnosis } from './diagnosis.js';

export const REQUIRED_ROLE = 'Vulnerability.Read.All';

export type CheckTarget = AppCredentials;

export interface CheckContext {
  dispatcher: Dispatcher;
  proxyUrl?: string;
}

export type CheckResult = { ok: true; roles: string[] } | { ok: false; diagnosis: Diagnosis };

export async function checkConnection(target: CheckTarget, context: CheckContext): Promise<CheckResult> {
  try {
    const tokens = createTokenSource(target, context.dispatcher, context.proxyUrl);
    const roles = tokenRoles(await tokens.get());
    if (!roles.includes(REQUIRED_ROLE)) return { ok: false, diagnosis: diagnoseMissingRole() };
    // One cheap call, without retries: the admin is waiting for an answer.
    const defender = createDefenderClient({ apiUrl: endpointsFor(target.cloud, target).apiUrl, tokens, dispatcher: context.dispatcher, proxyUrl: context.proxyUrl, maxAttempts: 1 });
    await defender.getJson('/api/vulnerabilities?$top=1', 'vulnerabilities');
    return { ok: true, roles };
  } catch (e) {
    if (e instanceof DiagnosedError) return { ok: false, diagnosis: e.diagnosis };
    throw e;
  }
}
