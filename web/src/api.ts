// The console's REST client: JSON in and out, the session cookie, and the CSRF header.

export interface ApiErrorBody {
  code: string;
  message: string;
  fix?: string;
  step?: string;
  field?: string;
  fields?: Record<string, string>;
  setupRequired?: boolean;
  /** On the signed-out 401: the server offers "Sign in with Microsoft". */
  entraSignIn?: boolean;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly body: ApiErrorBody) {
    super(body.message);
  }
}

let csrfToken = '';
let onUnauthenticated: (() => void) | null = null;

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called when a request answers 401 `unauthenticated` (the session timed out or was ended elsewhere). */
export function setUnauthenticatedHandler(handler: (() => void) | null): void {
  onUnauthenticated = handler;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(method !== 'GET' && csrfToken ? { 'x-csrf-token': csrfToken } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  if (response.status === 204) return undefined as T;
  const data = await response.json().catch(() => ({ error: { code: 'bad_response', message: `The server answered HTTP ${response.status}.` } }));
  if (!response.ok) {
    const error = new ApiError(response.status, { code: 'http_error', message: `The server answered HTTP ${response.status}.`, ...data.error });
    if (response.status === 401 && error.body.code === 'unauthenticated' && path !== '/api/v1/auth/session') onUnauthenticated?.();
    throw error;
  }
  return data as T;
}

export type Role = 'admin' | 'operator' | 'analyst';

export interface MfaState {
  enrolled: boolean;
  required: boolean;
}

export interface SessionUser {
  id: number;
  username: string;
  displayName: string | null;
  role: Role;
  source: 'local' | 'entra';
  /** null: every connection, including ones added later. */
  connectionIds: string[] | null;
  mfa: MfaState;
}

export interface Session {
  user: SessionUser;
  csrfToken: string;
  mustEnrolMfa: boolean;
}

/** An account as the Users page lists it. */
export interface User extends SessionUser {
  disabled: boolean;
  createdAt: string;
  lastSignInAt: string | null;
}

export interface SignInSession {
  id: string | number;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  address: string | null;
  userAgent: string | null;
  current: boolean;
}

export interface ApiToken {
  id: string | number;
  name: string;
  username: string;
  role: Role;
  connectionIds: string[] | null;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
}

export interface TotpEnrolment {
  secret: string;
  uri: string;
  qrSvg: string;
}

export interface SecuritySettings {
  requireMfaForLocalAccounts: boolean;
  idleTimeoutMinutes: number;
  absoluteTimeoutHours: number;
}

export type Cloud = 'commercial' | 'gcc' | 'gcc-high' | 'dod' | 'custom';

export interface Connection {
  id: string;
  name: string;
  cloud: Cloud;
  tenantId: string;
  clientId: string;
  loginUrl: string | null;
  apiUrl: string | null;
  secret: { set: true; setAt: string; hint: string; expiresOn: string | null };
  status: 'connected' | 'failed' | 'unchecked';
  lastCheckedAt: string | null;
  lastCheck: { code: string; message: string } | null;
  warnings: { code: string; message: string }[];
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  targetId: string | null;
  address?: string | null;
  details: Record<string, unknown>;
}

export interface List<T> {
  items: T[];
  total: number;
  nextCursor: string | null;
}

export interface SyncRun {
  runId: string;
  kind: 'full' | 'delta' | 'catalog';
  trigger: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  phase: string;
  startedAt: string | null;
  finishedAt: string | null;
  parts: { done: number; total: number };
  counts: { read: number; added: number; fixed: number; updated: number; reopened: number };
  rate: number;
  error: { code: string; message: string; fix: string | null } | null;
  createdAt: string;
}

// The exposure API's types (findings, vulnerabilities, devices, software, tenants, the overview) are
// not written here: they are generated from the OpenAPI document into api-types.ts and named in
// shared/exposure-types.ts.
