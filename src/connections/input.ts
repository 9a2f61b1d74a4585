// Checks of the connection form before any network call. Pasted values are cleaned (spaces,
// quotes, invisible characters); each problem is reported at its field.

import { CLOUDS, type Cloud } from '../entra/clouds.js';
import { SECRET_ID_NOT_VALUE, SECRET_REQUIRED, type Diagnosis } from './diagnosis.js';

export interface ConnectionFields {
  name: string;
  cloud: Cloud;
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  loginUrl?: string;
  apiUrl?: string;
  secretExpiresOn?: string | null;
  syncIntervalMinutes: number;
  exportMethod: 'files' | 'json';
}

export type RawConnectionFields = Partial<Record<keyof ConnectionFields, unknown>>;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** Trims spaces, surrounding quotes and invisible characters that copy-paste brings along. */
export function cleanPasted(value: unknown): string {
  if (value === undefined || value === null) return '';
  return String(value).replace(/[\u200B-\u200D\uFEFF\u00A0]/g, ' ').trim().replace(/^(["'`\u2018\u2019\u201C\u201D])(.*)\1$/s, '$2')
    .replace(/^["'`\u2018\u2019\u201C\u201D]|["'`\u2018\u2019\u201C\u201D]$/g, '').trim();
}

function httpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && !url.search && !url.hash;
  } catch {
    return false;
  }
}

/** A real calendar date written YYYY-MM-DD (Date.parse takes 2026-02-30 for 2 March). */
function calendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const time = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === text;
}

/**
 * Validates a create (all fields) or an update (only the fields given, merged onto `current`).
 * Returns the cleaned fields, or a diagnosis naming every bad field.
 */
export function checkConnectionFields(raw: RawConnectionFields, current?: ConnectionFields): { fields: ConnectionFields } | { problem: Diagnosis } {
  const given = (key: keyof ConnectionFields) => raw[key] !== undefined;
  const pick = (key: keyof ConnectionFields) => (given(key) ? cleanPasted(raw[key]) : String(current?.[key] ?? ''));
  const errors: Record<string, string> = {};

  const tenantId = pick('tenantId').toLowerCase();
  if (!tenantId) errors.tenantId = 'Enter the Directory (tenant) ID from App registrations → your app → Overview.';
  else if (!GUID.test(tenantId) && !DOMAIN.test(tenantId)) errors.tenantId = 'The tenant ID is a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) or a domain such as contoso.onmicrosoft.com.';

  const clientId = pick('clientId').toLowerCase();
  if (!clientId) errors.clientId = 'Enter the Application (client) ID from App registrations → your app → Overview.';
  else if (!GUID.test(clientId)) errors.clientId = 'The Application (client) ID is a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).';

  let clientSecret: string | undefined;
  let secretIdPasted = false;
  if (given('clientSecret') || !current) {
    clientSecret = cleanPasted(raw.clientSecret);
    if (!clientSecret) errors.clientSecret = 'Enter the client secret Value from Certificates & secrets.';
    else if (GUID.test(clientSecret)) {
      secretIdPasted = true;
      errors.clientSecret = SECRET_ID_NOT_VALUE.message;
    } else if (/\s/.test(clientSecret)) errors.clientSecret = 'The secret contains spaces: paste the Value exactly as Entra shows it.';
  }

  const cloud = (pick('cloud') || 'commercial') as Cloud;
  if (!CLOUDS.includes(cloud)) errors.cloud = `Choose one of: ${CLOUDS.join(', ')}.`;
  let loginUrl: string | undefined;
  let apiUrl: string | undefined;
  if (cloud === 'custom') {
    loginUrl = pick('loginUrl').replace(/\/+$/, '');
    apiUrl = pick('apiUrl').replace(/\/+$/, '');
    if (!httpsUrl(loginUrl)) errors.loginUrl = 'Enter the sign-in base URL, e.g. https://login.microsoftonline.com.';
    if (!httpsUrl(apiUrl)) errors.apiUrl = 'Enter the Defender API base URL, e.g. https://api.securitycenter.microsoft.com.';
  }

  // The stored secret was checked against the current sign-in and API hosts only: moving the
  // connection elsewhere takes the secret again, so that it is never sent to a host it was not meant for.
  let secretRequired = false;
  if (current && clientSecret === undefined && (cloud !== current.cloud || loginUrl !== current.loginUrl || apiUrl !== current.apiUrl)) {
    secretRequired = true;
    errors.clientSecret = SECRET_REQUIRED.message;
  }

  let secretExpiresOn: string | null = given('secretExpiresOn') ? cleanPasted(raw.secretExpiresOn) || null : current?.secretExpiresOn ?? null;
  if (secretExpiresOn && !calendarDate(secretExpiresOn)) {
    errors.secretExpiresOn = 'Enter the date as YYYY-MM-DD, as shown in the Expires column under Certificates & secrets.';
  }
  if (secretExpiresOn === '') secretExpiresOn = null;

  const interval = given('syncIntervalMinutes') ? Number(cleanPasted(raw.syncIntervalMinutes)) : current?.syncIntervalMinutes ?? 360;
  if (!Number.isInteger(interval) || interval < 15 || interval > 10_080) errors.syncIntervalMinutes = 'Sync every 15 minutes to 7 days (10080 minutes); Defender refreshes its data every 6 hours.';
  const exportMethod = (pick('exportMethod') || 'files') as ConnectionFields['exportMethod'];
  if (exportMethod !== 'files' && exportMethod !== 'json') errors.exportMethod = 'Choose "files" (export via files, for any size) or "json" (paged JSON export).';

  const name = pick('name') || `Tenant ${tenantId}`;
  if (name.length > 100) errors.name = 'Keep the name under 100 characters.';

  const fieldNames = Object.keys(errors);
  if (fieldNames.length) {
    const only = fieldNames.length === 1 && (secretIdPasted ? SECRET_ID_NOT_VALUE : secretRequired ? SECRET_REQUIRED : undefined);
    return {
      problem: only
        ? { ...only, field: 'clientSecret', fields: errors }
        : {
          code: 'invalid_input', step: 'tenant-id', fields: errors, field: fieldNames[0] as Diagnosis['field'],
          message: `Check ${fieldNames.length === 1 ? 'this field' : 'these fields'}: ${fieldNames.join(', ')}.`,
          fix: Object.values(errors).join(' '),
        },
    };
  }
  return { fields: { name, cloud, tenantId, clientId, clientSecret, loginUrl, apiUrl, secretExpiresOn, syncIntervalMinutes: interval, exportMethod } };
}
