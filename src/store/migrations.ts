// Versioned schema migrations, applied in name order. Never edit a released migration: add one.

import { sql, type Kysely, type Migration } from 'kysely';
import { autoId, bigInteger, bytes } from './dialect.js';

export const migrations: Record<string, Migration> = {
  '0001_users_and_connections': {
    async up(db: Kysely<any>) {
      await db.schema.createTable('user')
        .addColumn('id', ...autoId(db))
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createTable('session')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createTable('api_token')
        .addColumn('id', ...autoId(db))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema.createTable('audit_event')
        .addColumn('id', ...autoId(db))
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text')
        .addColumn('details', 'text', (c) => c.notNull().defaultTo(sql`'{}'`))
        .execute();
      await db.schema.createTable('connection')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('cloud', 'text', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('login_url', 'text')
        .addColumn('api_url', 'text')
        .addColumn('secret_ciphertext', bytes(db), (c) => c.notNull())
        .addColumn('secret_hint', 'text', (c) => c.notNull())
        .addColumn('secret_set_at', 'text', (c) => c.notNull())
        .addColumn('secret_expires_on', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('last_checked_at', 'text')
        .addColumn('last_check_code', 'text')
        .addColumn('last_check_message', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('connection_tenant_client').on('connection').columns(['tenant_id', 'client_id']).unique().execute();
      await db.schema.createIndex('audit_event_at').on('audit_event').column('at').execute();
    },
  },
  '0002_sync_runs': {
    async up(db: Kysely<any>) {
      await db.schema.createTable('sync_run')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('connection_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('requested', 'text', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('heartbeat_at', 'text')
        .addColumn('parts_total', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('parts_done', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('rows_read', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('rows_added', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('rows_fixed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('rows_updated', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('rows_reopened', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('error_code', 'text')
        .addColumn('error_message', 'text')
        .addColumn('error_fix', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sync_run_connection').on('sync_run').columns(['connection_id', 'created_at']).execute();
    },
  },
  '0003_connection_sync_settings': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('connection').addColumn('sync_interval_minutes', 'integer', (c) => c.notNull().defaultTo(360)).execute();
      await db.schema.alterTable('connection').addColumn('export_method', 'text', (c) => c.notNull().defaultTo('files')).execute();
    },
  },
  // Roles, per-connection scopes, session and token lifecycles, TOTP, a persistent login throttle,
  // the audit log's source address, and console-wide security settings. Sessions of older versions
  // carry none of the new fields, so they end: everyone signs in again once.
  '0004_identities': {
    async up(db: Kysely<any>) {
      for (const [column, type, build] of [
        ['display_name', 'text', undefined],
        ['source', 'text', (c: any) => c.notNull().defaultTo('local')],
        ['entra_object_id', 'text', undefined],
        ['all_connections', 'integer', (c: any) => c.notNull().defaultTo(1)],
        ['disabled', 'integer', (c: any) => c.notNull().defaultTo(0)],
        ['require_mfa', 'integer', (c: any) => c.notNull().defaultTo(0)],
        ['totp_secret', bytes(db), undefined],
        ['totp_pending', bytes(db), undefined],
        ['totp_last_step', 'integer', undefined],
        ['last_sign_in_at', 'text', undefined],
      ] as const) {
        await db.schema.alterTable('user').addColumn(column, type, build ?? ((c: any) => c)).execute();
      }
      await db.schema.createIndex('user_entra_object_id').on('user').column('entra_object_id').unique().execute();
      await db.schema.createTable('user_connection')
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connection.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('user_connection_pk', ['user_id', 'connection_id'])
        .execute();

      await db.schema.dropTable('session').execute();
      await db.schema.createTable('session')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('id_hash', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('address', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('must_enrol_mfa', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('session_user').on('session').column('user_id').execute();

      await db.schema.alterTable('api_token').addColumn('expires_at', 'text').execute();
      await db.schema.alterTable('api_token').addColumn('role', 'text').execute();
      await db.schema.alterTable('api_token').addColumn('all_connections', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      // Tokens made before expiry existed expire 90 days after this upgrade.
      await sql`UPDATE api_token SET expires_at = ${new Date(Date.now() + 90 * 86_400_000).toISOString()}`.execute(db);
      await db.schema.createTable('token_connection')
        .addColumn('token_id', 'integer', (c) => c.notNull().references('api_token.id').onDelete('cascade'))
        .addColumn('connection_id', 'text', (c) => c.notNull().references('connection.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('token_connection_pk', ['token_id', 'connection_id'])
        .execute();

      await db.schema.createTable('login_throttle')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('next_at', bigInteger(db), (c) => c.notNull())
        .addColumn('last_at', bigInteger(db), (c) => c.notNull())
        .execute();
      await db.schema.createIndex('login_throttle_last_at').on('login_throttle').column('last_at').execute();

      await db.schema.createTable('oidc_request')
        .addColumn('state', 'text', (c) => c.primaryKey())
        .addColumn('nonce', 'text', (c) => c.notNull())
        .addColumn('code_verifier', 'text', (c) => c.notNull())
        .addColumn('created_at', bigInteger(db), (c) => c.notNull())
        .execute();

      await db.schema.alterTable('audit_event').addColumn('address', 'text').execute();
      await db.schema.createTable('setting')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0005_content_imports': {
    async up(db: Kysely<any>) {
      // One row per patch content import (src/content): its source, progress, outcome, what it skipped
      // (the first ones, as JSON), and each feed's own outcome (JSON; an import of all feeds applies each apart).
      await sql`CREATE TABLE content_import (
        id TEXT PRIMARY KEY, source TEXT NOT NULL, origin TEXT NOT NULL, actor TEXT, status TEXT NOT NULL, phase TEXT NOT NULL,
        done INTEGER NOT NULL DEFAULT 0, total INTEGER, documents INTEGER NOT NULL DEFAULT 0, records INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0, skipped_sample TEXT NOT NULL DEFAULT '[]', feeds TEXT NOT NULL DEFAULT '{}', error TEXT, created_at TEXT NOT NULL,
        started_at TEXT, finished_at TEXT)`.execute(db);
      await sql`CREATE INDEX content_import_created ON content_import (created_at, id)`.execute(db);
    },
  },
  '0006_risk_exceptions': {
    async up(db: Kysely<any>) {
      // Risk exceptions (src/remediation/exceptions.ts): an accepted risk on a finding, a CVE, a
      // software product or an RBAC group of one connection; the scope columns its kind needs are set.
      await sql`CREATE TABLE risk_exception (
        id TEXT PRIMARY KEY, connection_id TEXT NOT NULL REFERENCES connection (id) ON DELETE CASCADE, scope_kind TEXT NOT NULL,
        device_id TEXT, cve_id TEXT, software_vendor TEXT, software_name TEXT, software_version TEXT, rbac_group_id INTEGER,
        justification TEXT NOT NULL, comment TEXT, owner TEXT NOT NULL, expires_on TEXT NOT NULL,
        created_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, expired_at TEXT)`.execute(db);
      await sql`CREATE INDEX risk_exception_expiry ON risk_exception (expires_on, id)`.execute(db);
      await sql`CREATE INDEX risk_exception_connection ON risk_exception (connection_id)`.execute(db);
    },
  },
};
