// Plain-language diagnoses of a failed connection check: what happened, and which step of the
// Entra setup to redo, in the portal's own words.

export type DiagnosisCode =
  | 'invalid_input' | 'secret_id_not_value' | 'secret_required' | 'tenant_not_found' | 'app_not_found' | 'app_disabled'
  | 'invalid_secret' | 'secret_expired' | 'consent_missing' | 'defender_not_provisioned'
  | 'api_unauthorized' | 'api_forbidden' | 'api_throttled' | 'api_error' | 'entra_error'
  | 'network_error' | 'tls_error' | 'proxy_error'
  | 'repeating_next_link' | 'foreign_next_link' | 'export_file_corrupt' | 'export_file_empty' | 'export_unavailable' | 'sync_interrupted';

/** The setup step to redo, matching the sections of the README's setup guide. */
export type SetupStep = 'tenant-id' | 'application-id' | 'client-secret' | 'api-permissions' | 'admin-consent' | 'defender' | 'cloud' | 'network';

export interface Diagnosis {
  code: DiagnosisCode;
  message: string;
  fix: string;
  step: SetupStep;
  /** Form field the problem belongs to, when there is one. */
  field?: 'tenantId' | 'clientId' | 'clientSecret' | 'cloud' | 'loginUrl' | 'apiUrl' | 'name' | 'secretExpiresOn' | 'syncIntervalMinutes' | 'exportMethod';
  /** Per-field messages of an input check. */
  fields?: Record<string, string>;
  /** The Defender API's HTTP status, for API errors. */
  httpStatus?: number;
}

/** An error that already knows its plain-language diagnosis. */
export class DiagnosedError extends Error {
  constructor(readonly diagnosis: Diagnosis) {
    super(diagnosis.message);
  }
}

const NEW_SECRET = 'In the Microsoft Entra admin center open App registrations → your app → Certificates & secrets → Client secrets → New client secret, then paste its Value here.';
const CONSENT = 'In App registrations → your app → API permissions, add WindowsDefenderATP (APIs my organization uses) → Application permissions → Vulnerability.Read.All, then click "Grant admin consent".';

export const SECRET_ID_NOT_VALUE: Omit<Diagnosis, 'field'> = {
  code: 'secret_id_not_value',
  message: 'This is the Secret ID, not the secret. Entra shows both side by side under Certificates & secrets; only the Value works for signing in.',
  fix: `Paste the Value column instead. It is shown only once, right after the secret is created: if you no longer have it, create a new one. ${NEW_SECRET}`,
  step: 'client-secret',
};

export const SECRET_REQUIRED: Omit<Diagnosis, 'field'> = {
  code: 'secret_required',
  message: 'Enter the client secret again to change the cloud, the sign-in URL or the API URL. The stored secret is only ever sent to the hosts it was saved for.',
  fix: `Paste the client secret Value together with the new cloud or URLs. If you no longer have it, create a new one. ${NEW_SECRET}`,
  step: 'client-secret',
};

/** Diagnosis of an AADSTS error from the token endpoint. */
export function diagnoseEntra(code: number, description: string, ctx: { tenantId: string; clientId: string; cloudLabel: string }): Diagnosis {
  switch (code) {
    case 90002:
    case 900023:
      return {
        code: 'tenant_not_found', field: 'tenantId', step: 'tenant-id',
        message: `Microsoft Entra ID has no tenant '${ctx.tenantId}' in the ${ctx.cloudLabel} cloud.`,
        fix: 'Copy the Directory (tenant) ID from App registrations → your app → Overview. If it is right, choose the cloud your tenant lives in: GCC High and DoD tenants sign in at login.microsoftonline.us.',
      };
    case 700016:
      return {
        code: 'app_not_found', field: 'clientId', step: 'application-id',
        message: `No application with ID '${ctx.clientId}' is registered in tenant '${ctx.tenantId}'.`,
        fix: 'Copy the Application (client) ID from App registrations → your app → Overview. If it is right, the Tenant ID belongs to a different tenant than the app.',
      };
    case 7000112:
      return {
        code: 'app_disabled', field: 'clientId', step: 'application-id',
        message: 'The application is disabled in this tenant.',
        fix: 'In Enterprise applications → your app → Properties, set "Enabled for users to sign-in?" to Yes and save.',
      };
    case 7000215:
      return {
        code: 'invalid_secret', field: 'clientSecret', step: 'client-secret',
        message: 'Microsoft Entra ID rejected the client secret. The usual cause is that the Secret ID was copied instead of the Value, or the Value was cut short.',
        fix: `Paste the secret's Value, not its Secret ID. The Value is shown only once, when the secret is created; if you do not have it, create a new one. ${NEW_SECRET}`,
      };
    case 7000222:
      return {
        code: 'secret_expired', field: 'clientSecret', step: 'client-secret',
        message: 'The client secret has expired.',
        fix: `Create a new client secret and replace this one. ${NEW_SECRET} Enter its expiry date so SitePatch warns you 30 days ahead next time.`,
      };
    case 500011:
      return {
        code: 'defender_not_provisioned', field: 'tenantId', step: 'defender',
        message: 'Microsoft Defender for Endpoint is not provisioned in this tenant: Entra ID has no WindowsDefenderATP service principal there.',
        fix: 'Sign in to the Microsoft Defender portal with a Defender for Endpoint licence to finish provisioning, or check that the Tenant ID and cloud are those of the tenant where Defender runs.',
      };
    default:
      return {
        code: 'entra_error', step: 'application-id',
        message: `Microsoft Entra ID refused the sign-in: ${description.split(/\r?\n|Trace ID:/)[0].trim()}`,
        fix: 'Check the app registration against the setup guide; the AADSTS code above names the problem.',
      };
  }
}

export function diagnoseMissingRole(): Diagnosis {
  return {
    code: 'consent_missing', step: 'admin-consent',
    message: 'Signed in, but the token carries no Vulnerability.Read.All role: the permission is missing or admin consent has not been granted.',
    fix: `${CONSENT} A permission without admin consent has no effect.`,
  };
}

export function diagnoseApi(status: number, apiMessage: string, host: string, retryAfter?: string): Diagnosis {
  return { ...apiDiagnosis(status, apiMessage, host, retryAfter), httpStatus: status };
}

function apiDiagnosis(status: number, apiMessage: string, host: string, retryAfter?: string): Diagnosis {
  if (status === 401) {
    return {
      code: 'api_unauthorized', step: 'cloud', field: 'cloud',
      message: `Defender at ${host} rejected the token (401 Unauthorized): ${apiMessage}`,
      fix: 'Make sure the cloud matches your tenant, so the token is for that cloud\'s Defender API. A token for another API (for example Microsoft Graph) is not accepted.',
    };
  }
  if (status === 403) {
    return {
      code: 'api_forbidden', step: 'admin-consent',
      message: `Defender at ${host} refused access (403 Forbidden): ${apiMessage}`,
      fix: `${CONSENT} Newly granted permissions can take a few minutes to apply.`,
    };
  }
  if (status === 429) {
    return {
      code: 'api_throttled', step: 'network',
      message: `Defender is throttling this app (429 Too Many Requests)${retryAfter ? `; it asks to wait ${retryAfter} seconds` : ''}.`,
      fix: 'Wait a minute and test again. Other tools that use the same app registration share its quota.',
    };
  }
  return {
    code: 'api_error', step: 'network',
    message: `Defender at ${host} answered HTTP ${status}: ${apiMessage}`,
    fix: 'This is usually temporary. Test again in a few minutes; if it persists, check the Microsoft 365 service health page.',
  };
}

/** A next link off the connection's API hosts (`apiHosts`, in words), which the access token does not go to. */
export function diagnoseForeignNextLink(host: string, apiHosts: string): Diagnosis {
  return {
    code: 'foreign_next_link', step: 'network',
    message: `Defender sent a next-page link to ${host}, which is not this connection's API host (${apiHosts}). SitePatch sends the access token only to the connection's own API hosts, so it did not follow the link and the sync stopped.`,
    fix: 'Check that the cloud is the one your tenant lives in. With Cloud = Custom, the API base URL must name the host Defender itself uses in its links: if that is the host above, and you trust it, enter it as the API base URL together with the client secret. Otherwise sync again later; if it persists, report the link to Microsoft support. The previous data is kept unchanged.',
  };
}

const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_NOT_YET_VALID', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE', 'CERT_REVOKED', 'HOSTNAME_MISMATCH',
]);

/** Diagnosis of a transport failure (DNS, refused, timeout, TLS, proxy). */
export function diagnoseTransport(error: Error & { code?: string; cause?: unknown }, host: string, proxy: string | undefined): Diagnosis {
  const cause = (error.cause ?? error) as Error & { code?: string };
  const code = cause.code ?? error.code ?? '';
  if (TLS_CODES.has(code)) {
    return {
      code: 'tls_error', step: 'network',
      message: `The TLS certificate presented for ${host} is not trusted (${code}).`,
      fix: 'If your network inspects TLS, give SitePatch the inspecting CA certificate with SITEPATCH_EXTRA_CA_FILE (a PEM file) and restart it.',
    };
  }
  if (proxy && (/proxy/i.test(error.message) || /proxy/i.test(cause.message ?? ''))) {
    return {
      code: 'proxy_error', step: 'network',
      message: `The proxy ${new URL(proxy).host} did not open a connection to ${host}: ${cause.message}`,
      fix: 'Check HTTPS_PROXY (host, port and credentials) and that the proxy allows the Microsoft sign-in and Defender hosts.',
    };
  }
  const what = code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? `the name ${host} does not resolve (DNS)` :
    code === 'ECONNREFUSED' ? `${host} refused the connection` :
    /TIMEOUT/i.test(code) || cause.name === 'TimeoutError' ? `the connection to ${host} timed out` : `${host} is unreachable (${code || cause.message})`;
  return {
    code: 'network_error', step: 'network',
    message: `SitePatch could not reach Microsoft: ${what}.`,
    fix: proxy
      ? `Check that the proxy ${new URL(proxy).host} can reach ${host}.`
      : `Allow outbound HTTPS to ${host} in your firewall, or set HTTPS_PROXY if your network requires a proxy.`,
  };
}
