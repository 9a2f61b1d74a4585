// Risk exceptions: an accepted risk on one finding, a CVE, a software product (or one of its
// versions) or an RBAC group of one connection, with a justification, an owner and a required
// expiry. An exception applies through its expiry day (UTC) and then expires on its own; creating,
// changing, removing and expiring one is audited. Each answer says how many open findings the
// exception covers now (from the sync's read models), so a scope that no longer matches shows 0.

import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { BadParameterError } from '../exposure/paging.js';
import type { Database, RiskExceptionTable } from '../store/schema.js';
import type { Actor, AuditLog } from '../users/audit.js';
import { inScope, type ConnectionScope } from '../users/principal.js';

export const EXCEPTION_KINDS = ['finding', 'cve', 'software', 'rbac_group'] as const;
export const JUSTIFICATIONS = ['third_party_control', 'alternate_mitigation', 'risk_accepted', 'planned_remediation'] as const;
/** Risk is accepted for a year at most: then someone decides again. */
export const MAX_EXCEPTION_DAYS = 365;

export type ExceptionKind = (typeof EXCEPTION_KINDS)[number];
export type Justification = (typeof JUSTIFICATIONS)[number];

export interface ExceptionScope {
  kind: ExceptionKind;
  deviceId?: string | null;
  cveId?: string | null;
  softwareVendor?: string | null;
  softwareName?: string | null;
  softwareVersion?: string | null;
  rbacGroupId?: number | null;
}

export interface ExceptionInput {
  connectionId?: string;
  scope?: ExceptionScope;
  justification?: string;
  comment?: string | null;
  owner?: string;
  expiresOn?: string;
}

export interface ExceptionView {
  id: string;
  connectionId: string;
  scope: ExceptionScope;
  justification: Justification;
  comment: string | null;
  owner: string;
  expiresOn: string;
  status: 'active' | 'expired';
  /** Open findings the exception covers now. */
  openFindings: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface ExceptionFilter {
  connectionId?: string;
  status?: 'active' | 'expired' | 'all';
  kind?: ExceptionKind;
  limit: number;
  cursor?: string;
}

/** The scope fields each kind needs; the others must be left out. */
const SCOPE_FIELDS: Record<ExceptionKind, { required: (keyof ExceptionScope)[]; optional: (keyof ExceptionScope)[] }> = {
  finding: { required: ['deviceId', 'cveId', 'softwareVendor', 'softwareName', 'softwareVersion'], optional: [] },
  cve: { required: ['cveId'], optional: [] },
  software: { required: ['softwareVendor', 'softwareName'], optional: ['softwareVersion'] },
  rbac_group: { required: ['rbacGroupId'], optional: [] },
};
const SCOPE_COLUMNS = {
  deviceId: 'device_id', cveId: 'cve_id', softwareVendor: 'software_vendor', softwareName: 'software_name', softwareVersion: 'software_version', rbacGroupId: 'rbac_group_id',
} as const satisfies Record<Exclude<keyof ExceptionScope, 'kind'>, keyof RiskExceptionTable>;

const today = (now: Date) => now.toISOString().slice(0, 10);
const addDays = (day: string, days: number) => new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

const bad = (field: string, message: string, fix: string) => new BadParameterError(field, message, fix);

function text(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.trim() === '') throw bad(field, `${field} is required.`, `Give ${field} as text (at most ${max} characters).`);
  if (value.length > max) throw bad(field, `${field} is longer than ${max} characters.`, `Shorten ${field}.`);
  return value.trim();
}

function expiry(value: unknown, now: Date): string {
  const day = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))
    && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value) ? value : undefined;
  const latest = addDays(today(now), MAX_EXCEPTION_DAYS);
  if (!day) throw bad('expiresOn', 'expiresOn is required: the last day (YYYY-MM-DD, UTC) the exception applies.', `Give a date from ${today(now)} to ${latest}.`);
  if (day < today(now)) throw bad('expiresOn', `expiresOn ${day} has passed.`, `Give a date from ${today(now)} to ${latest}.`);
  if (day > latest) throw bad('expiresOn', `expiresOn ${day} is more than ${MAX_EXCEPTION_DAYS} days away.`, `Give a date up to ${latest}, and renew the exception then if the risk is still accepted.`);
  return day;
}

function justification(value: unknown): Justification {
  if (!JUSTIFICATIONS.includes(value as Justification)) throw bad('justification', 'justification is required.', `Choose one of ${JUSTIFICATIONS.join(', ')}.`);
  return value as Justification;
}

function comment(value: unknown): string | null {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return null;
  return text('comment', value, 2000);
}

type ScopeColumns = Pick<RiskExceptionTable, 'scope_kind' | (typeof SCOPE_COLUMNS)[keyof typeof SCOPE_COLUMNS]>;

/** The scope columns of a valid scope; throws a BadParameterError naming the field otherwise. */
function scopeColumns(scope: ExceptionScope | undefined): ScopeColumns {
  if (!scope || !EXCEPTION_KINDS.includes(scope.kind)) throw bad('scope.kind', 'scope.kind is required.', `Choose one of ${EXCEPTION_KINDS.join(', ')}.`);
  const { required, optional } = SCOPE_FIELDS[scope.kind];
  const columns: Record<string, string | number | null> = { scope_kind: scope.kind };
  for (const column of Object.values(SCOPE_COLUMNS)) columns[column] = null;
  for (const field of Object.keys(SCOPE_COLUMNS) as (keyof typeof SCOPE_COLUMNS)[]) {
    const value = scope[field];
    const given = value !== undefined && value !== null && value !== '';
    if (!given) {
      if (required.includes(field)) throw bad(`scope.${field}`, `scope.${field} is required for a ${scope.kind} exception.`, `Give ${required.map((f) => `scope.${f}`).join(', ')}.`);
      continue;
    }
    if (!required.includes(field) && !optional.includes(field)) {
      throw bad(`scope.${field}`, `scope.${field} does not belong to a ${scope.kind} exception.`, `Leave it out, or choose the kind it belongs to.`);
    }
    if (field === 'rbacGroupId') {
      if (!Number.isInteger(value)) throw bad('scope.rbacGroupId', 'scope.rbacGroupId must be a whole number (Defender\'s RbacGroupId).', 'Take it from the device list\'s RBAC group column.');
      columns.rbac_group_id = value as number;
    } else {
      const entered = text(`scope.${field}`, value, 300);
      if (field === 'cveId' && !/^(CVE-\d{4}-\d{4,}|TVM-[A-Z0-9-]+)$/i.test(entered)) throw bad('scope.cveId', `scope.cveId ${entered} is not a CVE or TVM- id.`, 'Give an id such as CVE-2025-21298.');
      // Defender lists device ids in lower case, CVE ids in upper case.
      columns[SCOPE_COLUMNS[field]] = field === 'deviceId' ? entered.toLowerCase() : field === 'cveId' ? entered.toUpperCase() : entered;
    }
  }
  return columns as unknown as ScopeColumns;
}

function scopeOf(row: RiskExceptionTable): ExceptionScope {
  const scope: ExceptionScope = { kind: row.scope_kind };
  for (const field of Object.keys(SCOPE_COLUMNS) as (keyof typeof SCOPE_COLUMNS)[]) {
    const value = row[SCOPE_COLUMNS[field]];
    if (value !== null) Object.assign(scope, { [field]: value });
  }
  return scope;
}

export function createExceptionService({ db, audit, now = () => new Date() }: { db: Kysely<Database>; audit: AuditLog; now?: () => Date }) {
  /** Open findings an exception covers now, from the connection's read models. */
  async function openFindings(row: RiskExceptionTable): Promise<number> {
    const tenant = db.selectFrom('vuln.tenant').select('ref').where('connection_id', '=', row.connection_id);
    let query;
    switch (row.scope_kind) {
      case 'cve':
        query = db.selectFrom('vuln.cve_exposure as e').innerJoin('vuln.cve as c', 'c.ref', 'e.cve_ref')
          .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('e.open_findings'), sql<number>`0`).as('n'))
          .where('e.tenant_ref', 'in', tenant).where('c.cve_id', '=', row.cve_id!);
        break;
      case 'software':
        query = db.selectFrom('vuln.software_exposure as e').innerJoin('vuln.software as s', 's.ref', 'e.software_ref')
          .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('e.open_findings'), sql<number>`0`).as('n'))
          .where('e.tenant_ref', 'in', tenant).where('s.vendor', '=', row.software_vendor!).where('s.name', '=', row.software_name!)
          .$if(row.software_version !== null, (q) => q.where('s.version', '=', row.software_version!));
        break;
      case 'rbac_group':
        query = db.selectFrom('vuln.device').select((eb) => eb.fn.coalesce(eb.fn.sum<number>('open_findings'), sql<number>`0`).as('n'))
          .where('tenant_ref', 'in', tenant).where('rbac_group_id', '=', row.rbac_group_id!);
        break;
      case 'finding':
        query = db.selectFrom('vuln.finding as f').innerJoin('vuln.device as d', 'd.ref', 'f.device_ref')
          .innerJoin('vuln.software as s', 's.ref', 'f.software_ref').innerJoin('vuln.cve as c', 'c.ref', 'f.cve_ref')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('d.tenant_ref', 'in', tenant).where('d.device_id', '=', row.device_id!).where('c.cve_id', '=', row.cve_id!)
          .where('s.vendor', '=', row.software_vendor!).where('s.name', '=', row.software_name!).where('s.version', '=', row.software_version!)
          .where('f.fixed_at', 'is', null);
        break;
    }
    return Number((await query.executeTakeFirst())?.n ?? 0);
  }

  async function view(row: RiskExceptionTable): Promise<ExceptionView> {
    const status = row.expires_on < today(now()) ? 'expired' : 'active';
    return {
      id: row.id, connectionId: row.connection_id, scope: scopeOf(row), justification: row.justification, comment: row.comment, owner: row.owner,
      expiresOn: row.expires_on, status, openFindings: status === 'active' ? await openFindings(row) : 0,
      createdBy: row.created_by, createdAt: row.created_at, updatedAt: row.updated_at,
    };
  }

  async function find(id: string, scope: ConnectionScope): Promise<RiskExceptionTable | undefined> {
    const row = await db.selectFrom('risk_exception').selectAll().where('id', '=', id).executeTakeFirst();
    return row && inScope(scope, row.connection_id) ? row : undefined;
  }

  const details = (row: RiskExceptionTable) => ({
    connectionId: row.connection_id, scope: scopeOf(row), justification: row.justification, owner: row.owner, expiresOn: row.expires_on,
  });

  return {
    /** Audits the exceptions whose last day has passed, once each. */
    async expireDue(): Promise<number> {
      const due = await db.selectFrom('risk_exception').selectAll().where('expires_on', '<', today(now())).where('expired_at', 'is', null).execute();
      for (const row of due) {
        await db.updateTable('risk_exception').set({ expired_at: now().toISOString() }).where('id', '=', row.id).execute();
        await audit.record('system', 'exception.expire', 'exception', row.id, details(row));
      }
      return due.length;
    },

    /** Soonest expiry first. */
    async list(scope: ConnectionScope, filter: ExceptionFilter): Promise<{ items: ExceptionView[]; total: number; nextCursor: string | null }> {
      const day = today(now());
      let query = db.selectFrom('risk_exception').where('connection_id', 'in', scope === null ? db.selectFrom('connection').select('id') : scope.length ? scope : ['']);
      if (filter.connectionId) query = query.where('connection_id', '=', filter.connectionId);
      if (filter.kind) query = query.where('scope_kind', '=', filter.kind);
      const status = filter.status ?? 'active';
      if (status === 'active') query = query.where('expires_on', '>=', day);
      if (status === 'expired') query = query.where('expires_on', '<', day);
      const { n } = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      let page = query.selectAll().orderBy('expires_on').orderBy('id').limit(filter.limit + 1);
      if (filter.cursor) {
        const [expiresOn, id] = filter.cursor.split('~');
        if (!id || !/^\d{4}-\d{2}-\d{2}$/.test(expiresOn)) throw bad('cursor', 'The cursor is not one this list gave.', 'Pass nextCursor from the previous page unchanged.');
        page = page.where((eb) => eb.or([eb('expires_on', '>', expiresOn), eb.and([eb('expires_on', '=', expiresOn), eb('id', '>', id)])]));
      }
      const rows = await page.execute();
      const items = await Promise.all(rows.slice(0, filter.limit).map(view));
      const last = rows.length > filter.limit ? rows[filter.limit - 1] : undefined;
      return { items, total: Number(n), nextCursor: last ? `${last.expires_on}~${last.id}` : null };
    },

    async get(id: string, scope: ConnectionScope): Promise<ExceptionView | undefined> {
      const row = await find(id, scope);
      return row && view(row);
    },

    /** Undefined when the principal may not see the connection. */
    async create(input: ExceptionInput, actor: Actor, scope: ConnectionScope): Promise<ExceptionView | undefined> {
      const connectionId = text('connectionId', input.connectionId, 100);
      const connection = await db.selectFrom('connection').select('id').where('id', '=', connectionId).executeTakeFirst();
      if (!connection || !inScope(scope, connectionId)) return undefined;
      const at = now().toISOString();
      const row: RiskExceptionTable = {
        id: randomUUID(), connection_id: connectionId, ...scopeColumns(input.scope), justification: justification(input.justification),
        comment: comment(input.comment), owner: text('owner', input.owner, 200), expires_on: expiry(input.expiresOn, now()),
        created_by: typeof actor === 'string' ? actor : actor.name, created_at: at, updated_at: at, expired_at: null,
      };
      await db.insertInto('risk_exception').values(row).execute();
      await audit.record(actor, 'exception.create', 'exception', row.id, { ...details(row), comment: row.comment });
      return view(row);
    },

    /** Changes the justification, comment, owner or expiry (the scope stays: another scope is another exception). */
    async update(id: string, input: ExceptionInput, actor: Actor, scope: ConnectionScope): Promise<ExceptionView | undefined> {
      const row = await find(id, scope);
      if (!row) return undefined;
      for (const field of ['connectionId', 'scope'] as const) {
        if (input[field] !== undefined) throw bad(field, `An exception's ${field} cannot change.`, 'Create a new exception for the other scope, and remove this one.');
      }
      const next: RiskExceptionTable = {
        ...row,
        justification: input.justification === undefined ? row.justification : justification(input.justification),
        comment: input.comment === undefined ? row.comment : comment(input.comment),
        owner: input.owner === undefined ? row.owner : text('owner', input.owner, 200),
        expires_on: input.expiresOn === undefined ? row.expires_on : expiry(input.expiresOn, now()),
      };
      const changes = Object.fromEntries((['justification', 'comment', 'owner', 'expires_on'] as const)
        .filter((key) => next[key] !== row[key]).map((key) => [key === 'expires_on' ? 'expiresOn' : key, { from: row[key], to: next[key] }]));
      if (Object.keys(changes).length === 0) return view(row);
      next.updated_at = now().toISOString();
      // A later expiry makes an expired exception apply again: its next expiry is audited anew.
      if (next.expires_on >= today(now())) next.expired_at = null;
      await db.updateTable('risk_exception').set(next).where('id', '=', id).execute();
      await audit.record(actor, 'exception.update', 'exception', id, { connectionId: row.connection_id, changes });
      return view(next);
    },

    async remove(id: string, actor: Actor, scope: ConnectionScope): Promise<boolean> {
      const row = await find(id, scope);
      if (!row) return false;
      await db.deleteFrom('risk_exception').where('id', '=', id).execute();
      await audit.record(actor, 'exception.delete', 'exception', id, details(row));
      return true;
    },
  };
}

export type ExceptionService = ReturnType<typeof createExceptionService>;

/** Audits expired exceptions within the hour even when nobody reads them; answers the timer (clear it to stop). */
export function auditExpiriesHourly(exceptions: ExceptionService, log: { error(o: object, msg: string): void }): NodeJS.Timeout {
  return setInterval(() => void exceptions.expireDue().catch((e: Error) => log.error({ err: e }, 'auditing expired exceptions failed')), 3600_000).unref();
}
