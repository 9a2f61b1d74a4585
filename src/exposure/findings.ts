// Reading the exposure copy: findings with filters, keyset-paged, with an exact total.

import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import type { ConnectionScope } from '../users/principal.js';

export interface FindingFilter {
  /** The connections the caller may see (null: all). */
  scope: ConnectionScope;
  connectionId?: string;
  status?: 'open' | 'fixed';
  deviceId?: string;
  cveId?: string;
  limit: number;
  /** The id of the last finding of the previous page. */
  cursor?: number;
}

export interface FindingView {
  id: number;
  connectionId: string;
  deviceId: string;
  deviceName: string | null;
  rbacGroupName: string | null;
  software: { vendor: string; name: string; version: string };
  cveId: string;
  severity: string | null;
  cvss: number | null;
  exploitability: string | null;
  recommendedUpdate: { title: string | null; id: string | null; url: string | null; available: boolean | null };
  firstSeen: string | null;
  lastSeen: string | null;
  status: 'open' | 'fixed';
  openedAt: string;
  fixedAt: string | null;
  reopened: number;
}

/** findings.db keeps unix seconds. */
const isoTime = (seconds: number | null) => (seconds === null ? null : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z'));

export function createFindingQueries(db: Kysely<Database>) {
  function filtered(filter: Omit<FindingFilter, 'limit' | 'cursor'>) {
    let base = db.selectFrom('vuln.finding as f')
      .innerJoin('vuln.device as d', 'd.ref', 'f.device_ref')
      .innerJoin('vuln.tenant as t', 't.ref', 'd.tenant_ref')
      .innerJoin('vuln.cve as c', 'c.ref', 'f.cve_ref')
      // A removed connection's findings are gone from every read at once, before they are purged.
      .innerJoin('connection', 'connection.id', 't.connection_id');
    if (filter.scope !== null) base = base.where('t.connection_id', 'in', filter.scope.length ? filter.scope : ['']);
    if (filter.connectionId) base = base.where('t.connection_id', '=', filter.connectionId);
    if (filter.status) base = base.where('f.fixed_at', filter.status === 'open' ? 'is' : 'is not', null);
    if (filter.deviceId) base = base.where('d.device_id', '=', filter.deviceId.toLowerCase());
    if (filter.cveId) base = base.where('c.cve_id', '=', filter.cveId.toUpperCase());
    return base;
  }

  /** One page of `limit` findings after `cursor`, in id order, and whether more follow. */
  async function page(filter: FindingFilter): Promise<{ items: FindingView[]; more: boolean }> {
    let query = filtered(filter)
      .innerJoin('vuln.software as s', 's.ref', 'f.software_ref')
      .innerJoin('vuln.finding_detail as x', 'x.ref', 'f.detail_ref')
      .select(['f.id', 'f.first_seen', 'f.opened_at', 'f.fixed_at', 'f.reopened', 't.connection_id', 'd.device_id', 'd.name as device_name',
        'd.rbac_group_name', 'd.last_seen', 's.vendor', 's.name', 's.version', 'c.cve_id', 'x.severity', 'x.cvss', 'x.exploitability',
        'x.update_title', 'x.update_id', 'x.update_url', 'x.update_available'])
      .orderBy('f.id').limit(filter.limit + 1);
    if (filter.cursor !== undefined) query = query.where('f.id', '>', filter.cursor);
    const rows = await query.execute();
    const items = rows.slice(0, filter.limit).map((r): FindingView => ({
      id: r.id, connectionId: r.connection_id, deviceId: r.device_id, deviceName: r.device_name, rbacGroupName: r.rbac_group_name,
      software: { vendor: r.vendor, name: r.name, version: r.version },
      cveId: r.cve_id, severity: r.severity, cvss: r.cvss, exploitability: r.exploitability,
      recommendedUpdate: { title: r.update_title, id: r.update_id, url: r.update_url, available: r.update_available === null ? null : r.update_available === 1 },
      firstSeen: isoTime(r.first_seen), lastSeen: r.last_seen, status: r.fixed_at === null ? 'open' : 'fixed', openedAt: isoTime(r.opened_at)!,
      fixedAt: isoTime(r.fixed_at), reopened: r.reopened,
    }));
    return { items, more: rows.length > filter.limit };
  }

  return {
    async list(filter: FindingFilter): Promise<{ items: FindingView[]; total: number; nextCursor: string | null }> {
      const { n } = await filtered(filter).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const { items, more } = await page(filter);
      return { items, total: Number(n), nextCursor: more ? String(items[items.length - 1].id) : null };
    },

    /** Every finding the filter selects, page by page (for exports: memory stays flat). */
    async *pages(filter: Omit<FindingFilter, 'limit' | 'cursor'>, size = 5000): AsyncGenerator<FindingView[]> {
      for (let cursor: number | undefined; ;) {
        const { items, more } = await page({ ...filter, limit: size, cursor });
        if (items.length) yield items;
        if (!more) return;
        cursor = items[items.length - 1].id;
      }
    },
  };
}

export type FindingQueries = ReturnType<typeof createFindingQueries>;
