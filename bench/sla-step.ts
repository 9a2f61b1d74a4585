// The SLA tally's share of a sync (src/remediation/sla-tally.ts), measured alone on the data a
// sync just wrote, inside a transaction that is rolled back: a first load's work (every open
// finding reported, then the commit's writes), and a delta's (the fixed cost of a commit, then
// 10,000 closings). The first load's hooks are timed over the findings already read into memory.

import type SQLite from 'better-sqlite3';
import { DEFAULT_SLA_WINDOWS } from '../src/exposure/sla-state.js';
import { SlaTally } from '../src/remediation/sla-tally.js';

export interface SlaStep {
  /** First load: the hooks for every open finding, and the commit. */
  firstLoadHooksMs: number;
  firstLoadApplyMs: number;
  /** A commit with no changes (the KEV due days compared, the day's point written). */
  deltaFixedMs: number;
  /** 10,000 closings: the hooks and the commit. */
  delta10kMs: number;
}

export function measureSlaStep(db: SQLite.Database, tenant: number): SlaStep {
  const open = db.prepare(`SELECT f.id, f.device_ref, f.cve_ref, f.detail_ref, coalesce(f.first_seen, f.opened_at) FROM finding f
    WHERE f.fixed_at IS NULL AND f.device_ref IN (SELECT ref FROM device WHERE tenant_ref = ?) ORDER BY f.id`).raw();
  // Columns, not a million small arrays: the collector would otherwise be timed with the tally.
  const count = db.prepare(`SELECT count(*) FROM finding WHERE fixed_at IS NULL AND device_ref IN (SELECT ref FROM device WHERE tenant_ref = ?)`).pluck().get(tenant) as number;
  const [ids, devices, cves, details, starts] = [0, 1, 2, 3, 4].map(() => new Float64Array(count));
  // The writer reports each device it inserts, with its group, before the device's findings.
  const deviceRows = db.prepare('SELECT ref, rbac_group_id, rbac_group_name FROM device WHERE tenant_ref = ?').raw().all(tenant) as [number, number | null, string | null][];
  let n = 0;
  for (const [id, device, cve, detail, start] of open.iterate(tenant) as Iterable<number[]>) {
    ids[n] = id; devices[n] = device; cves[n] = cve; details[n] = detail; starts[n++] = start;
  }
  const clear = () => {
    for (const table of ['sla_open', 'sla_kev', 'sla_group', 'sla_fixed_day', 'sla_day']) db.prepare(`DELETE FROM ${table} WHERE tenant_ref = ?`).run(tenant);
    // As the writer inserts them.
    db.prepare('UPDATE device SET sla_group = coalesce(rbac_group_id, -1) WHERE tenant_ref = ?').run(tenant);
  };
  const day = new Date().toISOString().slice(0, 10);
  // At a commit the remediation tally has just read the same device rows (src/remediation/tally.ts, deviceReleases): their pages are in the cache.
  const warmDevices = () => void db.prepare('SELECT count(os_version) FROM device WHERE tenant_ref = ?').pluck().get(tenant);
  const timed = (work: () => void) => {
    const started = performance.now();
    work();
    return performance.now() - started;
  };
  const rolledBack = <T>(work: () => T): T => {
    db.exec('BEGIN');
    try {
      return work();
    } finally {
      db.exec('ROLLBACK');
    }
  };
  const firstLoad = rolledBack(() => {
    clear();
    const tally = new SlaTally(db, DEFAULT_SLA_WINDOWS);
    tally.reset(true);
    const hooks = timed(() => {
      for (const [ref, group, name] of deviceRows) tally.deviceWritten(ref, group, name);
      for (let i = 0; i < n; i++) tally.opened(devices[i], cves[i], details[i], starts[i]);
    });
    warmDevices();
    return { hooks, apply: timed(() => tally.apply(tenant, day)) };
  });
  const deltaFixed = rolledBack(() => {
    const tally = new SlaTally(db, DEFAULT_SLA_WINDOWS);
    tally.reset(false);
    return timed(() => tally.apply(tenant, day));
  });
  const delta10k = rolledBack(() => {
    const tally = new SlaTally(db, DEFAULT_SLA_WINDOWS);
    tally.reset(false);
    const at = Math.floor(Date.now() / 1000);
    const step = Math.max(1, Math.floor(n / 10_000));
    // The writer has just read each finding it closes: its page is in the cache.
    const read = db.prepare('SELECT detail_ref, fixed_at FROM finding WHERE id = ?');
    for (let i = 0; i < n; i += step) read.get(ids[i]);
    warmDevices();
    return timed(() => {
      for (let i = 0; i < n; i += step) tally.closed(ids[i], devices[i], cves[i], details[i], at);
      tally.apply(tenant, day);
    });
  });
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return { firstLoadHooksMs: round(firstLoad.hooks), firstLoadApplyMs: round(firstLoad.apply), deltaFixedMs: round(deltaFixed), delta10kMs: round(delta10k) };
}
