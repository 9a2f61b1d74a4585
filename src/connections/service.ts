// Defender connections: create, edit, test and remove, each change audited. The secret is sealed
// before it is stored, and only opened to sign in; views show that it is set, when, and its
// first three characters.

import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database, ConnectionTable } from '../store/schema.js';
import type { Actor, AuditLog } from '../users/audit.js';
import type { CheckResult, CheckTarget } from './check.js';
import type { Diagnosis } from './diagnosis.js';
import { checkConnectionFields, type ConnectionFields, type RawConnectionFields } from './input.js';
import type { SecretBox } from './secret-box.js';
import type { ConnectionScope } from '../users/principal.js';

const WARN_DAYS = 30;
const DAY = 24 * 3600_000;

export interface ConnectionView {
  id: string;
  name: string;
  cloud: ConnectionFields['cloud'];
  tenantId: string;
  clientId: string;
  loginUrl: string | null;
  apiUrl: string | null;
  secret: { set: true; setAt: string; hint: string; expiresOn: string | null };
  status: ConnectionTable['status'];
  syncIntervalMinutes: number;
  exportMethod: 'files' | 'json';
  lastCheckedAt: string | null;
  lastCheck: { code: string; message: string } | null;
  warnings: { code: 'secret_expiring' | 'secret_expired'; message: string }[];
  createdAt: string;
  updatedAt: string;
}

export class ConnectionError extends Error {
  constructor(readonly status: 404 | 409 | 422, readonly diagnosis: Diagnosis | { code: string; message: string; fix?: string }) {
    super(diagnosis.message);
  }
}

type Row = Selectable<ConnectionTable>;

function warnings(row: Row, now: number): ConnectionView['warnings'] {
  const out: ConnectionView['warnings'] = [];
  if (row.last_check_code === 'secret_expired') {
    out.push({ code: 'secret_expired', message: 'Microsoft Entra ID reports that the client secret has expired (AADSTS7000222). Create a new secret and replace it here.' });
  } else if (row.secret_expires_on) {
    const today = Date.parse(new Date(now).toISOString().slice(0, 10));
    const days = Math.round((Date.parse(row.secret_expires_on) - today) / DAY);
    if (days < 0) out.push({ code: 'secret_expired', message: `The client secret expired on ${row.secret_expires_on}. Create a new secret and replace it here.` });
    else if (days <= WARN_DAYS) out.push({ code: 'secret_expiring', message: `The client secret expires on ${row.secret_expires_on} (in ${days} day${days === 1 ? '' : 's'}). Create a new secret before then and replace it here.` });
  }
  return out;
}

function view(row: Row, now = Date.now()): ConnectionView {
  return {
    id: row.id,
    name: row.name,
    cloud: row.cloud,
    tenantId: row.tenant_id,
    clientId: row.client_id,
    loginUrl: row.login_url,
    apiUrl: row.api_url,
    secret: { set: true, setAt: row.secret_set_at, hint: row.secret_hint, expiresOn: row.secret_expires_on },
    status: row.status,
    syncIntervalMinutes: row.sync_interval_minutes,
    exportMethod: row.export_method,
    lastCheckedAt: row.last_checked_at,
    lastCheck: row.last_check_code ? { code: row.last_check_code, message: row.last_check_message ?? '' } : null,
    warnings: warnings(row, now),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function fieldsOf(row: Row): ConnectionFields {
  return {
    name: row.name, cloud: row.cloud, tenantId: row.tenant_id, clientId: row.client_id,
    loginUrl: row.login_url ?? undefined, apiUrl: row.api_url ?? undefined, secretExpiresOn: row.secret_expires_on,
    syncIntervalMinutes: row.sync_interval_minutes, exportMethod: row.export_method,
  };
}

export interface ConnectionServiceDeps {
  db: Kysely<Database>;
  secrets: SecretBox;
  audit: AuditLog;
  check: (target: CheckTarget) => Promise<CheckResult>;
  /** Told after a connection was removed (to purge its findings). */
  onRemoved?: (id: string) => Promise<void>;
}

export interface SaveOptions {
  /** Store without the live check (the admin chose "Save without checking"). */
  skipCheck?: boolean;
}

export function createConnectionService({ db, secrets, audit, check, onRemoved }: ConnectionServiceDeps) {
  async function row(id: string): Promise<Row> {
    const found = await db.selectFrom('connection').selectAll().where('id', '=', id).executeTakeFirst();
    if (!found) throw new ConnectionError(404, { code: 'not_found', message: `There is no connection ${id}.` });
    return found;
  }

  function validated(raw: RawConnectionFields, current?: ConnectionFields): ConnectionFields {
    const result = checkConnectionFields(raw, current);
    if ('problem' in result) throw new ConnectionError(422, result.problem);
    return result.fields;
  }

  async function assertUnique(fields: ConnectionFields, exceptId?: string): Promise<void> {
    let query = db.selectFrom('connection').select(['id', 'name']).where('tenant_id', '=', fields.tenantId).where('client_id', '=', fields.clientId);
    if (exceptId) query = query.where('id', '!=', exceptId);
    const clash = await query.executeTakeFirst();
    if (clash) throw new ConnectionError(409, { code: 'conflict', message: `The connection '${clash.name}' already uses this tenant and application.`, fix: 'Edit that connection instead.' });
  }

  /** Runs the live check; on failure throws, so nothing is stored. */
  async function verify(fields: ConnectionFields, secret: string): Promise<void> {
    const result = await check({ ...fields, clientSecret: secret });
    if (!result.ok) throw new ConnectionError(422, result.diagnosis);
  }

  const checkedStatus = (skipCheck?: boolean) => {
    const now = new Date().toISOString();
    return skipCheck
      ? { status: 'unchecked' as const, last_checked_at: null, last_check_code: null, last_check_message: null }
      : { status: 'connected' as const, last_checked_at: now, last_check_code: null, last_check_message: null };
  };

  return {
    /** Every connection, or those in `scope` (null: all). */
    async list(scope: ConnectionScope = null): Promise<{ items: ConnectionView[]; total: number; nextCursor: null }> {
      let query = db.selectFrom('connection').selectAll().orderBy('name');
      if (scope !== null) query = query.where('id', 'in', scope.length ? scope : ['']);
      const rows = await query.execute();
      return { items: rows.map((r) => view(r)), total: rows.length, nextCursor: null };
    },

    async get(id: string): Promise<ConnectionView> {
      return view(await row(id));
    },

    async create(raw: RawConnectionFields, actor: Actor, options: SaveOptions = {}): Promise<ConnectionView> {
      const fields = validated(raw);
      const secret = fields.clientSecret!;
      await assertUnique(fields);
      if (!options.skipCheck) await verify(fields, secret);
      const id = randomUUID();
      const now = new Date().toISOString();
      await db.insertInto('connection').values({
        id, name: fields.name, cloud: fields.cloud, tenant_id: fields.tenantId, client_id: fields.clientId,
        login_url: fields.loginUrl ?? null, api_url: fields.apiUrl ?? null,
        secret_ciphertext: secrets.seal(secret, id), secret_hint: secret.slice(0, 3), secret_set_at: now,
        secret_expires_on: fields.secretExpiresOn ?? null, sync_interval_minutes: fields.syncIntervalMinutes, export_method: fields.exportMethod,
        ...checkedStatus(options.skipCheck), created_at: now, updated_at: now,
      }).execute();
      await audit.record(actor, 'connection.create', 'connection', id, {
        name: fields.name, cloud: fields.cloud, tenantId: fields.tenantId, clientId: fields.clientId, checked: !options.skipCheck,
      });
      return view(await row(id));
    },

    async update(id: string, raw: RawConnectionFields, actor: Actor, options: SaveOptions = {}): Promise<ConnectionView> {
      const current = await row(id);
      const before = fieldsOf(current);
      const fields = validated(raw, before);
      await assertUnique(fields, id);
      const secret = fields.clientSecret ?? secrets.open(current.secret_ciphertext, id);
      if (!options.skipCheck) await verify(fields, secret);
      const now = new Date().toISOString();
      const changes: Record<string, unknown> = {};
      for (const key of ['name', 'cloud', 'tenantId', 'clientId', 'loginUrl', 'apiUrl', 'secretExpiresOn', 'syncIntervalMinutes', 'exportMethod'] as const) {
        if ((before[key] ?? null) !== (fields[key] ?? null)) changes[key] = { from: before[key] ?? null, to: fields[key] ?? null };
      }
      if (fields.clientSecret) changes.clientSecret = 'replaced';
      await db.updateTable('connection').set({
        name: fields.name, cloud: fields.cloud, tenant_id: fields.tenantId, client_id: fields.clientId,
        login_url: fields.cloud === 'custom' ? fields.loginUrl ?? null : null, api_url: fields.cloud === 'custom' ? fields.apiUrl ?? null : null,
        secret_expires_on: fields.secretExpiresOn ?? null, sync_interval_minutes: fields.syncIntervalMinutes, export_method: fields.exportMethod,
        updated_at: now, ...checkedStatus(options.skipCheck),
        ...(fields.clientSecret ? { secret_ciphertext: secrets.seal(fields.clientSecret, id), secret_hint: fields.clientSecret.slice(0, 3), secret_set_at: now } : {}),
      }).where('id', '=', id).execute();
      await audit.record(actor, 'connection.update', 'connection', id, { changes, checked: !options.skipCheck });
      return view(await row(id));
    },

    /** Tests a stored connection and records the outcome; throws the diagnosis when it fails. */
    async test(id: string, actor: Actor): Promise<ConnectionView> {
      const current = await row(id);
      const result = await check({ ...fieldsOf(current), clientSecret: secrets.open(current.secret_ciphertext, id) });
      await db.updateTable('connection').set({
        status: result.ok ? 'connected' : 'failed',
        last_checked_at: new Date().toISOString(),
        last_check_code: result.ok ? null : result.diagnosis.code,
        last_check_message: result.ok ? null : result.diagnosis.message,
      }).where('id', '=', id).execute();
      await audit.record(actor, 'connection.test', 'connection', id, { outcome: result.ok ? 'connected' : result.diagnosis.code });
      if (!result.ok) throw new ConnectionError(422, result.diagnosis);
      return view(await row(id));
    },

    /** Everything a sync needs to sign in, secret included. Never exposed through the API. */
    async credentials(id: string): Promise<ConnectionFields & { id: string; clientSecret: string }> {
      const current = await row(id);
      return { ...fieldsOf(current), id, clientSecret: secrets.open(current.secret_ciphertext, id) };
    },

    async remove(id: string, actor: Actor): Promise<void> {
      const current = await row(id);
      // Its sync runs go with it; its findings become unreachable at once (every read joins the
      // connection) and are purged from findings.db by the sync queue (onRemoved).
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('sync_run').where('connection_id', '=', id).execute();
        await trx.deleteFrom('connection').where('id', '=', id).execute();
      });
      await audit.record(actor, 'connection.delete', 'connection', id, { name: current.name, tenantId: current.tenant_id });
      await onRemoved?.(id);
    },
  };
}

export type ConnectionService = ReturnType<typeof createConnectionService>;
