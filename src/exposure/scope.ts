// Which tenants a request reads, and how fresh each one's copy is. Every exposure query starts
// here: it reads the tenants of the connections the principal may see (a removed connection is
// gone at once, before its findings are purged) and filters its read models by their refs.

import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../store/schema.js';
import type { ConnectionScope } from '../users/principal.js';
import type { Freshness } from './views.js';

export interface VisibleTenant {
  ref: number;
  connectionId: string;
  name: string;
  cloud: string;
  status: string;
  syncIntervalMinutes: number;
}

export interface TenantScope {
  tenants: VisibleTenant[];
  /** The tenants' refs; never empty (a ref no tenant has stands in), so `IN (…)` stays valid SQL. */
  refs: number[];
  byRef: Map<number, VisibleTenant>;
  /** Every tenant findings.db holds is in the scope (no finding needs its tenant checked). */
  all: boolean;
}

export async function visibleTenants(db: Kysely<Database>, scope: ConnectionScope, connectionId?: string): Promise<TenantScope> {
  let query = db.selectFrom('connection as c').innerJoin('vuln.tenant as t', 't.connection_id', 'c.id')
    .select(['t.ref', 'c.id', 'c.name', 'c.cloud', 'c.status', 'c.sync_interval_minutes']).orderBy('c.name').orderBy('c.id');
  if (scope !== null) query = query.where('c.id', 'in', scope.length ? scope : ['']);
  if (connectionId) query = query.where('c.id', '=', connectionId);
  const tenants = (await query.execute()).map((r): VisibleTenant => ({
    ref: r.ref, connectionId: r.id, name: r.name, cloud: r.cloud, status: r.status, syncIntervalMinutes: r.sync_interval_minutes,
  }));
  const { n } = await db.selectFrom('vuln.tenant').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { tenants, refs: tenants.length ? tenants.map((t) => t.ref) : [-1], byRef: new Map(tenants.map((t) => [t.ref, t])), all: tenants.length === Number(n) };
}

/** Last successful sync, data time and the next scheduled sync of each connection the principal may see (also those never synced). */
export async function freshness(db: Kysely<Database>, scope: ConnectionScope, scheduler: boolean, connectionId?: string, now = Date.now()): Promise<Freshness[]> {
  let query = db.selectFrom('connection as c').leftJoin('vuln.tenant as t', 't.connection_id', 'c.id')
    .leftJoin('vuln.sync_state as s', 's.tenant_ref', 't.ref')
    .select(['c.id', 'c.name', 'c.sync_interval_minutes', 's.delta_checkpoint', 's.snapshot_time',
      (eb) => eb.selectFrom('sync_run as r').whereRef('r.connection_id', '=', 'c.id').where('r.status', '=', 'succeeded')
        .select((r) => r.fn.max('r.finished_at').as('f')).as('last_finished'),
      (eb) => eb.selectFrom('sync_run as r').whereRef('r.connection_id', '=', 'c.id').where('r.status', '=', 'succeeded')
        .select((r) => r.fn.max('r.created_at').as('c')).as('last_created'),
    ])
    .orderBy('c.name').orderBy('c.id');
  if (scope !== null) query = query.where('c.id', 'in', scope.length ? scope : ['']);
  if (connectionId) query = query.where('c.id', '=', connectionId);
  return (await query.execute()).map((r): Freshness => {
    const intervalMs = r.sync_interval_minutes * 60_000;
    const dataTime = r.delta_checkpoint ?? r.snapshot_time ?? null;
    // The data is as current as the last sync that succeeded: that run asked Defender for everything since.
    const checked = r.last_finished ?? null;
    const ageMs = checked ? now - Date.parse(checked) : null;
    return {
      connectionId: r.id, name: r.name, lastSuccessfulSync: checked, dataTime,
      dataAgeSeconds: ageMs === null ? null : Math.max(0, Math.round(ageMs / 1000)),
      nextSyncAt: scheduler ? new Date(r.last_created ? Math.max(now, Date.parse(r.last_created) + intervalMs) : now).toISOString() : null,
      syncIntervalMinutes: r.sync_interval_minutes,
      stale: ageMs === null || ageMs > 2 * intervalMs,
    };
  });
}

/** `column IN (refs)` for a tenant scope. */
export const inTenants = (column: string, scope: TenantScope) => sql<boolean>`${sql.ref(column)} IN (${sql.join(scope.refs)})`;

/** Devices of some RBAC group or OS platform only (the lists count such a slice from its findings). */
export interface DeviceSlice {
  rbacGroup?: string;
  osPlatform?: string;
}

/** The conditions on `device d` a slice sets; none when it is the whole tenant. */
export function sliceConditions(slice: DeviceSlice): RawBuilder<boolean>[] {
  const conditions: RawBuilder<boolean>[] = [];
  if (slice.rbacGroup?.trim()) conditions.push(sql<boolean>`d.rbac_group_name = ${slice.rbacGroup.trim()}`);
  if (slice.osPlatform?.trim()) conditions.push(sql<boolean>`lower(d.os_platform) = ${slice.osPlatform.trim().toLowerCase()}`);
  return conditions;
}
