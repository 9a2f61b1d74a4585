// The exposure read models of a PostgreSQL tenant (findings-schema.ts's 0002: the counts the
// console's pages show per device, CVE, software version, tenant and day), made current at the end
// of each sync run, in its transaction. They mean what the embedded store's mean
// (src/sync/exposure-tally.ts), but are counted set-based: after a full snapshot from the tenant's
// whole findings partition, after a delta from the findings it changed (compared before and
// after). Only rows whose counts differ are written.

import type pg from 'pg';

/** Open findings in all and per severity, as columns n, critical, high, medium and low (over f joined to its detail x). */
const OPEN_COUNTS = `count(*) FILTER (WHERE f.fixed_at IS NULL) AS n,
  count(*) FILTER (WHERE f.fixed_at IS NULL AND x.severity = 'Critical') AS critical, count(*) FILTER (WHERE f.fixed_at IS NULL AND x.severity = 'High') AS high,
  count(*) FILTER (WHERE f.fixed_at IS NULL AND x.severity = 'Medium') AS medium, count(*) FILTER (WHERE f.fixed_at IS NULL AND x.severity = 'Low') AS low`;

/**
 * Before a delta is applied: the state of the findings it names (table exposure_before), to be
 * compared with their state after it (tallyExposure with `delta`).
 */
export async function recordExposureBefore(client: pg.PoolClient, tenant: number): Promise<void> {
  // opened_in_run: an F line found the finding absent or fixed (it opened, whether or not it closed again).
  await client.query(`CREATE TEMP TABLE exposure_before ON COMMIT DROP AS
    SELECT k.device_ref, k.software_ref, k.cve_ref, k.opened_in_run, (f.id IS NOT NULL AND f.fixed_at IS NULL) AS was_open, x.severity AS was_severity
    FROM (SELECT device_ref, software_ref, cve_ref, bool_or(kind = 'F' AND before <> 'F') AS opened_in_run FROM step GROUP BY device_ref, software_ref, cve_ref) k
    LEFT JOIN vuln.finding f ON f.tenant_ref = $1 AND (f.device_ref, f.cve_ref, f.software_ref) = (k.device_ref, k.cve_ref, k.software_ref)
    LEFT JOIN vuln.finding_detail x ON x.ref = f.detail_ref`, [tenant]);
  // Its size lets the planner look its findings up by key rather than scan the tenant's.
  await client.query('ANALYZE exposure_before');
}

/**
 * Counts the tenant's exposure again: all of it, or (`delta`) what the findings in exposure_before
 * changed. `opened` (new and reopened findings) and `fixed` are the run's, added to `day`'s
 * history point, which otherwise holds the state after the day's last run.
 */
export async function tallyExposure(client: pg.PoolClient, tenant: number, day: string, opened: number, fixed: number, delta: boolean): Promise<void> {
  if (delta) await tallyChanges(client, tenant);
  else await tallyAll(client, tenant);
  await tallyTenant(client, tenant, day, opened, fixed);
}

/** The open counts of the tenant's devices, or of those in exposure_change. */
async function countDevices(client: pg.PoolClient, tenant: number, changed: boolean): Promise<void> {
  const only = (column: string) => (changed ? `AND ${column} IN (SELECT device_ref FROM exposure_change)` : '');
  await client.query(`UPDATE vuln.device d SET open_findings = coalesce(o.n, 0), open_critical = coalesce(o.critical, 0), open_high = coalesce(o.high, 0),
      open_medium = coalesce(o.medium, 0), open_low = coalesce(o.low, 0)
    FROM vuln.device t LEFT JOIN (SELECT f.device_ref, ${OPEN_COUNTS} FROM vuln.finding f JOIN vuln.finding_detail x ON x.ref = f.detail_ref
      WHERE f.tenant_ref = $1 AND f.fixed_at IS NULL ${only('f.device_ref')} GROUP BY f.device_ref) o ON o.device_ref = t.ref
    WHERE d.ref = t.ref AND t.tenant_ref = $1 ${only('t.ref')}
      AND (d.open_findings, d.open_critical, d.open_high, d.open_medium, d.open_low)
      IS DISTINCT FROM (coalesce(o.n, 0), coalesce(o.critical, 0), coalesce(o.high, 0), coalesce(o.medium, 0), coalesce(o.low, 0))`, [tenant]);
}

async function tallyAll(client: pg.PoolClient, tenant: number): Promise<void> {
  await countDevices(client, tenant, false);
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
}

/** The tenant's totals, from its devices, and the day's history point. */
async function tallyTenant(client: pg.PoolClient, tenant: number, day: string, opened: number, fixed: number): Promise<void> {
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

/** A delta's changes to the read models: what its findings were before it (exposure_before) against what they are now. */
async function tallyChanges(client: pg.PoolClient, tenant: number): Promise<void> {
  const key = 'f.tenant_ref = $1 AND (f.device_ref, f.cve_ref, f.software_ref) = (b.device_ref, b.cve_ref, b.software_ref)';
  await client.query(`CREATE TEMP TABLE exposure_change ON COMMIT DROP AS
    SELECT b.*, (f.fixed_at IS NULL) AS is_open, x.severity, f.first_seen FROM exposure_before b
    JOIN vuln.finding f ON ${key} JOIN vuln.finding_detail x ON x.ref = f.detail_ref
    WHERE b.opened_in_run OR b.was_open <> (f.fixed_at IS NULL) OR (b.was_open AND b.was_severity IS DISTINCT FROM x.severity)`, [tenant]);
  await client.query('ANALYZE exposure_change');
  await countDevices(client, tenant, true);
  // Exposed devices: a device counts for a CVE (or software version) while it has some finding of it
  // open; the findings open now come from the finding key, those before from the run's net change.
  await client.query(`WITH pair AS (
      SELECT b.device_ref, b.cve_ref, sum(b.is_open::integer - b.was_open::integer) AS net,
        (SELECT count(*) FROM vuln.finding f WHERE f.tenant_ref = $1 AND f.device_ref = b.device_ref AND f.cve_ref = b.cve_ref AND f.fixed_at IS NULL) AS now
      FROM exposure_change b GROUP BY b.device_ref, b.cve_ref),
    cve AS (SELECT cve_ref, sum(net) AS open_change, sum((now > 0)::integer - (now - net > 0)::integer) AS exposed_change FROM pair GROUP BY cve_ref),
    seen AS (SELECT cve_ref, min(first_seen) FILTER (WHERE opened_in_run) AS first_seen FROM exposure_change GROUP BY cve_ref)
    INSERT INTO vuln.cve_exposure (tenant_ref, cve_ref, exposed_devices, open_findings, first_seen)
    SELECT $1, cve.cve_ref, cve.exposed_change, cve.open_change, seen.first_seen FROM cve JOIN seen USING (cve_ref)
    ON CONFLICT (tenant_ref, cve_ref) DO UPDATE SET exposed_devices = cve_exposure.exposed_devices + excluded.exposed_devices,
      open_findings = cve_exposure.open_findings + excluded.open_findings, first_seen = least(cve_exposure.first_seen, excluded.first_seen)
    WHERE excluded.exposed_devices <> 0 OR excluded.open_findings <> 0 OR least(cve_exposure.first_seen, excluded.first_seen) IS DISTINCT FROM cve_exposure.first_seen`, [tenant]);
  // Open findings per software version and CVE, and so each version's CVEs.
  await client.query(`CREATE TEMP TABLE pair_change ON COMMIT DROP AS
    SELECT p.software_ref, p.cve_ref, p.net, coalesce(s.open_findings, 0) AS old FROM (
      SELECT software_ref, cve_ref, sum(is_open::integer - was_open::integer) AS net FROM exposure_change GROUP BY software_ref, cve_ref) p
    LEFT JOIN vuln.software_cve s ON s.tenant_ref = $1 AND (s.software_ref, s.cve_ref) = (p.software_ref, p.cve_ref) WHERE p.net <> 0`, [tenant]);
  await client.query(`DELETE FROM vuln.software_cve s USING pair_change p
    WHERE s.tenant_ref = $1 AND (s.software_ref, s.cve_ref) = (p.software_ref, p.cve_ref) AND p.old + p.net = 0`, [tenant]);
  await client.query(`INSERT INTO vuln.software_cve (tenant_ref, software_ref, cve_ref, open_findings) SELECT $1, software_ref, cve_ref, old + net FROM pair_change
    WHERE old + net > 0 ON CONFLICT (tenant_ref, software_ref, cve_ref) DO UPDATE SET open_findings = excluded.open_findings`, [tenant]);
  const severity = (level: string) => `sum(CASE WHEN is_open AND severity = '${level}' THEN 1 ELSE 0 END - CASE WHEN was_open AND was_severity = '${level}' THEN 1 ELSE 0 END)`;
  await client.query(`WITH pair AS (
      SELECT b.device_ref, b.software_ref, sum(b.is_open::integer - b.was_open::integer) AS net,
        (SELECT count(*) FROM vuln.finding f WHERE f.tenant_ref = $1 AND f.device_ref = b.device_ref AND f.software_ref = b.software_ref AND f.fixed_at IS NULL) AS now
      FROM exposure_change b GROUP BY b.device_ref, b.software_ref),
    exposed AS (SELECT software_ref, sum((now > 0)::integer - (now - net > 0)::integer) AS n FROM pair GROUP BY software_ref),
    cves AS (SELECT software_ref, sum((old + net > 0)::integer - (old > 0)::integer) AS n FROM pair_change GROUP BY software_ref),
    open AS (SELECT software_ref, sum(is_open::integer - was_open::integer) AS n, ${severity('Critical')} AS critical, ${severity('High')} AS high,
      ${severity('Medium')} AS medium, ${severity('Low')} AS low FROM exposure_change GROUP BY software_ref)
    INSERT INTO vuln.software_exposure (tenant_ref, software_ref, exposed_devices, open_findings, cves, open_critical, open_high, open_medium, open_low)
    SELECT $1, open.software_ref, exposed.n, open.n, coalesce(cves.n, 0), open.critical, open.high, open.medium, open.low
    FROM open JOIN exposed USING (software_ref) LEFT JOIN cves USING (software_ref)
    ON CONFLICT (tenant_ref, software_ref) DO UPDATE SET exposed_devices = software_exposure.exposed_devices + excluded.exposed_devices,
      open_findings = software_exposure.open_findings + excluded.open_findings, cves = software_exposure.cves + excluded.cves,
      open_critical = software_exposure.open_critical + excluded.open_critical, open_high = software_exposure.open_high + excluded.open_high,
      open_medium = software_exposure.open_medium + excluded.open_medium, open_low = software_exposure.open_low + excluded.open_low
    WHERE (excluded.exposed_devices, excluded.open_findings, excluded.cves, excluded.open_critical, excluded.open_high, excluded.open_medium, excluded.open_low)
      IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0)`, [tenant]);
}
