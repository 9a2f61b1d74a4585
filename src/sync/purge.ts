// Removes a deleted connection's exposure copy from findings.db. It runs on the sync queue, so it
// never lands inside a running sync's transaction on the same writer connection.

import type SQLite from 'better-sqlite3';

export function purgeTenant(findings: SQLite.Database, connectionId: string): number {
  const tenant = findings.prepare('SELECT ref FROM tenant WHERE connection_id = ?').get(connectionId) as { ref: number } | undefined;
  if (!tenant) return 0;
  const devices = 'SELECT ref FROM device WHERE tenant_ref = @tenant';
  return findings.transaction(() => {
    findings.prepare(`DELETE FROM finding_event WHERE finding_id IN (SELECT id FROM finding WHERE device_ref IN (${devices}))`).run({ tenant: tenant.ref });
    const { changes } = findings.prepare(`DELETE FROM finding WHERE device_ref IN (${devices})`).run({ tenant: tenant.ref });
    findings.prepare('DELETE FROM remediation_device WHERE remediation_ref IN (SELECT ref FROM remediation WHERE tenant_ref = ?)').run(tenant.ref);
    findings.prepare(`DELETE FROM installation WHERE device_ref IN (${devices})`).run({ tenant: tenant.ref });
    for (const table of ['device', 'vulnerability', 'sync_state', 'cve_exposure', 'software_exposure', 'software_cve', 'tenant_exposure', 'exposure_day', 'cve_finding', 'remediation_key', 'remediation',
      'sla_open', 'sla_kev', 'sla_group', 'sla_fixed_day', 'sla_day']) findings.prepare(`DELETE FROM ${table} WHERE tenant_ref = ?`).run(tenant.ref);
    findings.prepare('DELETE FROM tenant WHERE ref = ?').run(tenant.ref);
    return changes;
  })();
}
