// The console's REST client: JSON in and out, the session cookie, and the CSRF header.

export interface ApiErrorBody {
  code: string;
  message: string;
  fix?: string;
  step?: string;
  field?: string;
  fields?: Record<string, string>;
  setupRequired?: boolean;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly body: ApiErrorBody) {
    super(body.message);
  }
}

let csrfToken = '';

export function setCsrfToken(token: string): void {
  csrfToken = token;
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
  if (!response.ok) throw new ApiError(response.status, { ...data.error, setupRequired: data.error?.setupRequired });
  return data as T;
}

export interface Session {
  user: { username: string };
  csrfToken: string;
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
