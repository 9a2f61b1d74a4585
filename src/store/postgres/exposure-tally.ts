// The exposure read models of a PostgreSQL tenant (findings-schema.ts's 0002: the counts the
// console's pages show per device, CVE, software version, tenant and day), made current at the end
// of each sync run, in its transaction. They mean what the embedded store's mean
// (src/sync/exposure-tally.ts), but are counted set-based from the tenant's findings partition
// rather than added up change by change; only rows whose counts differ are written.

import type pg from 'pg';

/** Open findings in all and per severity, as columns n, critical, high, medium and low (over f joined to its detail x). */
const OPEN_COUNTS = `count(*) FILTER (WHERE f.fixed_at IS NULL) AS n,
  count(*) FILTER (WHERE f.fixed_at IS NULL AND x.severity = 'Critical') AS critical, count(*) FILTER (WHERE f.fixed_at IS NULL AND x.severity = 'High') AS high,
  count(*) FILTER (WHERE f.fixed_at IS NULL AND x.severity = 'Medium') AS medium, count(*) FILTER (WHERE f.fixed_at IS NULL AND x.severity = 'Low') AS low`;

/**
 * Counts the tenant's exposure again. `opened` (new and reopened findings) and `fixed` are the
 * run's, added to `day`'s history point, which otherwise holds the state after the day's last run.
 */
export async function tallyExposure(client: pg.PoolClient, tenant: number, day: string, opened: number, fixed: number): Promise<void> {
  await client.query(`UPDATE vuln.device d SET open_findings = coalesce(o.n, 0), open_critical = coalesce(o.critical, 0), open_high = coalesce(o.high, 0),
      open_medium = coalesce(o.medium, 0), open_low = coalesce(o.low, 0)
    FROM vuln.device t LEFT JOIN (SELECT f.device_ref, ${OPEN_COUNTS} FROM vuln.finding f JOIN vuln.finding_detail x ON x.ref = f.detail_ref
      WHERE f.tenant_ref = $1 AND f.fixed_at IS NULL GROUP BY f.device_ref) o ON o.device_ref = t.ref
    WHERE d.ref = t.ref AND t.tenant_ref = $1 AND (d.open_findings, d.open_critical, d.open_high, d.open_medium, d.open_low)
      IS DISTINCT FROM (coalesce(o.n, 0), coalesce(o.critical, 0), coalesce(o.high, 0), coalesce(o.medium, 0), coalesce(o.low, 0))`, [tenant]);
  // A CVE or software version keeps its row once a finding named it, at zero when none is open.
  await client.query(`INSERT INTO vuln.cve_exposure (tenant_ref, cve_ref, exposed_devices, open_findings, first_seen)
    SELECT $1, f.cve_ref, count(DISTINCT f.device_ref) FILTER (WHERE f.fixed_at IS NULL), count(*) FILTER (WHERE f.fixed_at IS NULL), min(f.first_seen)
    FROM vuln.finding f WHERE f.tenant_ref = $1 GROUP BY f.cve_ref
    ON CONFLICT (tenant_ref, cve_ref) DO UPDATE SET exposed_devices = excluded.exposed_devices, open_findings = excluded.open_findings, first_seen = excluded.first_seen
    WHERE (cve_exposure.exposed_devices, cve_exposure.open_findings, cve_exposure.first_seen)
      IS DISTINCT FROM (excluded.exposed_devices, excluded.open_findings, excluded.first_seen)`, [tenant]);
  await client.query(`INSERT INTO vuln.software_exposure (tenant_ref, software_ref, exposed_devices, open_findings, cves, open_critical, open_high, open_medium, open_low)
    SELECT $1, software_ref, exposed, n, cves, critical, high, medium, low FROM (
      SELECT f.software_ref, count(DISTINCT f.device_ref) FILTER (WHERE f.fixed_at IS NULL) AS exposed, count(DISTINCT f.cve_ref) FILTER (WHERE f.fixed_at IS NULL) AS cves,
        ${OPEN_COUNTS}
      FROM vuln.finding f JOIN vuln.finding_detail x ON x.ref = f.detail_ref WHERE f.tenant_ref = $1 GROUP BY f.software_ref) s
    ON CONFLICT (tenant_ref, software_ref) DO UPDATE SET exposed_devices = excluded.exposed_devices, open_findings = excluded.open_findings,
      cves = excluded.cves, open_critical = excluded.open_critical, open_high = excluded.open_high, open_medium = excluded.open_medium, open_low = excluded.open_low
    WHERE (software_exposure.exposed_devices, software_exposure.open_findings, software_exposure.cves, software_exposure.open_critical,
        software_exposure.open_high, software_exposure.open_medium, software_exposure.open_low)
      IS DISTINCT FROM (excluded.exposed_devices, excluded.open_findings, excluded.cves, excluded.open_critical, excluded.open_high, excluded.open_medium, excluded.open_low)`, [tenant]);
  // Open findings per software version and CVE: only pairs with some open.
  await client.query(`CREATE TEMP TABLE open_pair ON COMMIT DROP AS
    SELECT software_ref, cve_ref, count(*) AS n FROM vuln.finding WHERE tenant_ref = $1 AND fixed_at IS NULL GROUP BY software_ref, cve_ref`, [tenant]);
  await client.query(`DELETE FROM vuln.software_cve s WHERE s.tenant_ref = $1
    AND NOT EXISTS (SELECT 1 FROM open_pair p WHERE (p.software_ref, p.cve_ref) = (s.software_ref, s.cve_ref))`, [tenant]);
  await client.query(`INSERT INTO vuln.software_cve (tenant_ref, software_ref, cve_ref, open_findings) SELECT $1, software_ref, cve_ref, n FROM open_pair
    ON CONFLICT (tenant_ref, software_ref, cve_ref) DO UPDATE SET open_findings = excluded.open_findings WHERE software_cve.open_findings <> excluded.open_findings`, [tenant]);
  await client.query('DROP TABLE open_pair');
  await client.query(`INSERT INTO vuln.tenant_exposure (tenant_ref, devices, exposed_devices, open_findings, open_critical, open_high, open_medium, open_low)
    SELECT $1, count(*), count(*) FILTER (WHERE open_findings > 0), coalesce(sum(open_findings), 0), coalesce(sum(open_critical), 0),
      coalesce(sum(open_high), 0), coalesce(sum(open_medium), 0), coalesce(sum(open_low), 0)
    FROM vuln.device WHERE tenant_ref = $1
    ON CONFLICT (tenant_ref) DO UPDATE SET devices = excluded.devices, exposed_devices = excluded.exposed_devices, open_findings = excluded.open_findings,
      open_critical = excluded.open_critical, open_high = excluded.open_high, open_medium = excluded.open_medium, open_low = excluded.open_low`, [tenant]);
  await client.query(`INSERT INTO vuln.exposure_day (tenant_ref, day, exposed_devices, open_findings, open_critical, open_high, open_medium, open_low, opened, fixed)
    SELECT tenant_ref, $2, exposed_devices, open_findings, open_critical, open_high, open_medium, open_low, $3, $4 FROM vuln.tenant_exposure WHERE tenant_ref = $1
    ON CONFLICT (tenant_ref, day) DO UPDATE SET exposed_devices = excluded.exposed_devices, open_findings = excluded.open_findings,
      open_critical = excluded.open_critical, open_high = excluded.open_high, open_medium = excluded.open_medium, open_low = excluded.open_low,
      opened = exposure_day.opened + excluded.opened, fixed = exposure_day.fixed + excluded.fixed`, [tenant, day, opened, fixed]);
}
