// The read models a sync keeps incrementally equal a recount over the findings it stored, after a
// first load, deltas (fixes, new findings, reopenings, severity changes, devices moving RBAC group),
// full snapshots over an existing copy, and a run that fails and rolls back.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type SQLite from 'better-sqlite3';
import { startSyncFixture, sync, type SyncFixture } from '../helpers/sync.js';

/** Every read model, as stored and as a recount over the open findings. */
function readModels(db: SQLite.Database) {
  const rows = (query: string) => db.prepare(query).all();
  const open = `SELECT d.tenant_ref, f.device_ref, f.software_ref, f.cve_ref, f.first_seen, x.severity FROM finding f
    JOIN device d ON d.ref = f.device_ref JOIN finding_detail x ON x.ref = f.detail_ref WHERE f.fixed_at IS NULL`;
  const severities = `sum(severity = 'Critical') AS c, sum(severity = 'High') AS h, sum(severity = 'Medium') AS m, sum(severity = 'Low') AS l`;
  return {
    stored: {
      devices: rows('SELECT ref, open_findings AS n, open_critical AS c, open_high AS h, open_medium AS m, open_low AS l FROM device WHERE open_findings > 0 ORDER BY ref'),
      cves: rows('SELECT tenant_ref, cve_ref, exposed_devices AS devices, open_findings AS n FROM cve_exposure WHERE open_findings > 0 ORDER BY 1, 2'),
      software: rows(`SELECT tenant_ref, software_ref, exposed_devices AS devices, open_findings AS n, cves, open_critical AS c, open_high AS h,
        open_medium AS m, open_low AS l FROM software_exposure WHERE open_findings > 0 ORDER BY 1, 2`),
      cveFindings: rows('SELECT tenant_ref, cve_ref, count(*) AS n, sum(finding_id) AS ids FROM cve_finding GROUP BY 1, 2 ORDER BY 1, 2'),
      tenants: rows(`SELECT tenant_ref, exposed_devices AS devices, open_findings AS n, open_critical AS c, open_high AS h, open_medium AS m,
        open_low AS l FROM tenant_exposure ORDER BY 1`),
      sla: rows(`SELECT tenant_ref, rbac_group_id AS g, severity, start_day, kev_due_day, open_findings AS n FROM sla_open WHERE open_findings != 0 ORDER BY 1, 2, 3, 4, 5`),
      fixedPerDay: rows('SELECT tenant_ref, day, sum(fixed) AS n FROM sla_fixed_day GROUP BY 1, 2 HAVING sum(fixed) != 0 ORDER BY 1, 2'),
    },
    recounted: {
      devices: rows(`SELECT device_ref AS ref, count(*) AS n, ${severities} FROM (${open}) GROUP BY device_ref ORDER BY ref`),
      cves: rows(`SELECT tenant_ref, cve_ref, count(DISTINCT device_ref) AS devices, count(*) AS n FROM (${open}) GROUP BY 1, 2 ORDER BY 1, 2`),
      software: rows(`SELECT tenant_ref, software_ref, count(DISTINCT device_ref) AS devices, count(*) AS n, count(DISTINCT cve_ref) AS cves,
        ${severities} FROM (${open}) GROUP BY 1, 2 ORDER BY 1, 2`),
      cveFindings: rows(`SELECT d.tenant_ref, f.cve_ref, count(*) AS n, sum(f.id) AS ids FROM finding f JOIN device d ON d.ref = f.device_ref
        GROUP BY 1, 2 ORDER BY 1, 2`),
      tenants: rows(`SELECT t.ref AS tenant_ref, count(DISTINCT o.device_ref) AS devices, count(o.device_ref) AS n, coalesce(sum(o.severity = 'Critical'), 0) AS c,
        coalesce(sum(o.severity = 'High'), 0) AS h, coalesce(sum(o.severity = 'Medium'), 0) AS m, coalesce(sum(o.severity = 'Low'), 0) AS l
        FROM tenant t JOIN tenant_exposure e ON e.tenant_ref = t.ref LEFT JOIN (${open}) o ON o.tenant_ref = t.ref GROUP BY t.ref ORDER BY 1`),
      // By the device's group now, its severity, the day first seen (or opened), its CVE's KEV day as counted (the emulator test checks those days).
      sla: rows(`SELECT d.tenant_ref, coalesce(d.rbac_group_id, -1) AS g, CASE x.severity WHEN 'Critical' THEN 1 WHEN 'High' THEN 2 WHEN 'Medium' THEN 3
        WHEN 'Low' THEN 4 ELSE 0 END AS severity, coalesce(f.first_seen, f.opened_at) / 86400 AS start_day, k.kev_due_day, count(*) AS n
        FROM finding f JOIN device d ON d.ref = f.device_ref JOIN finding_detail x ON x.ref = f.detail_ref
        JOIN sla_kev k ON k.tenant_ref = d.tenant_ref AND k.cve_ref = f.cve_ref WHERE f.fixed_at IS NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`),
      fixedPerDay: rows(`SELECT d.tenant_ref, date(e.at, 'unixepoch') AS day, count(*) AS n FROM finding_event e JOIN finding f ON f.id = e.finding_id
        JOIN device d ON d.ref = f.device_ref WHERE e.event = 'fixed' GROUP BY 1, 2 ORDER BY 1, 2`),
    },
  };
}

describe('Read models kept by the sync', () => {
  let fixture: SyncFixture;
  let db: SQLite.Database;

  const assertConsistent = (when: string) => {
    const { stored, recounted } = readModels(db);
    assert.ok(recounted.devices.length > 0, 'the copy has open findings');
    for (const model of Object.keys(stored) as (keyof typeof stored)[]) assert.deepEqual(stored[model], recounted[model], `${model} after ${when}`);
  };

  before(async () => {
    fixture = await startSyncFixture({ devices: 150, devicesPerPart: 40, seed: 'read-models', timeScale: 0.002, patchCadence: 20 });
    db = fixture.console.running.services.store!.findings;
  });
  after(() => fixture.close());

  it('match a recount after a first load, deltas and full snapshots', async () => {
    const { api, connectionId, emulator } = fixture;
    assert.equal((await sync(api, connectionId, 'full')).status, 'succeeded');
    assertConsistent('the first load');
    for (let i = 0; i < 3; i++) {
      emulator.advance(24);
      const run = await sync(api, connectionId, 'delta');
      assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
      assert.ok(run.counts.fixed > 0 && run.counts.added > 0, 'the delta fixed and opened findings');
      assertConsistent(`delta ${i + 1}`);
    }
    emulator.advance(48);
    const full = await sync(api, connectionId, 'full');
    assert.ok(full.counts.fixed > 0, 'the full snapshot closed findings');
    assertConsistent('a full snapshot over the copy');
  });

  it('are left as they were by a run that fails', async () => {
    const { api, connectionId, emulator } = fixture;
    const before = readModels(db).stored;
    emulator.advance(24);
    // The third of four export files is corrupt: the first two were written when the run fails.
    emulator.faults.add({ kind: 'malformedLine', endpoint: 'exportFile', after: 2 });
    const run = await sync(api, connectionId, 'full');
    emulator.faults.clear();
    assert.equal(run.status, 'failed');
    assert.ok(run.counts.read > 0, 'the run had written rows');
    assert.deepEqual(readModels(db).stored, before);
  });
});
