// Table types for Kysely. Columns are snake_case as stored; timestamps are ISO-8601 UTC strings.

import type { Generated } from 'kysely';

export interface UserTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  role: 'admin';
  created_at: string;
}

export interface SessionTable {
  id_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: string;
  expires_at: string;
}

export interface ApiTokenTable {
  id: Generated<number>;
  name: string;
  token_hash: string;
  user_id: number;
  created_at: string;
  last_used_at: string | null;
}

export interface AuditEventTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string | null;
  details: string;
}

export interface ConnectionTable {
  id: string;
  name: string;
  cloud: 'commercial' | 'gcc' | 'gcc-high' | 'dod' | 'custom';
  tenant_id: string;
  client_id: string;
  login_url: string | null;
  api_url: string | null;
  /** AES-256-GCM: version byte, 12-byte IV, 16-byte tag, ciphertext. */
  secret_ciphertext: Buffer;
  /** First three characters, as the Entra portal shows them. */
  secret_hint: string;
  secret_set_at: string;
  secret_expires_on: string | null;
  status: 'connected' | 'failed' | 'unchecked';
  last_checked_at: string | null;
  last_check_code: string | null;
  last_check_message: string | null;
  created_at: string;
  updated_at: string;
}

export interface Database {
  user: UserTable;
  session: SessionTable;
  api_token: ApiTokenTable;
  audit_event: AuditEventTable;
  connection: ConnectionTable;
}
