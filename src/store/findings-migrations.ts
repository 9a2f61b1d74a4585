// Schema of findings.db: the exposure copy that syncs write. It lives in its own database file so
// that a sync's long write transaction never blocks sign-ins, audit entries or progress updates.

import { sql, type Kysely, type Migration } from 'kysely';

export const findingsMigrations: Record<string, Migration> = {
  '0001_findings': {
    async up(db: Kysely<any>) {
      // Findings are the bulk (millions of rows): they refer to their device, software, CVE and
      // detail by small integers so rows and the unique index stay narrow, which makes loads fast.
      await sql`CREATE TABLE tenant (ref INTEGER PRIMARY KEY, connection_id TEXT NOT NULL UNIQUE)`.execute(db);
      await sql`CREATE TABLE device (
        ref INTEGER PRIMARY KEY, tenant_ref INTEGER NOT NULL, device_id TEXT NOT NULL, name TEXT, os_platform TEXT, os_version TEXT,
        os_architecture TEXT, rbac_group_id INTEGER, rbac_group_name TEXT, last_seen TEXT)`.execute(db);
      await sql`CREATE UNIQUE INDEX device_key ON device (tenant_ref, device_id)`.execute(db);
      await sql`CREATE TABLE software (ref INTEGER PRIMARY KEY, vendor TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL)`.execute(db);
      await sql`CREATE UNIQUE INDEX software_key ON software (vendor, name, version)`.execute(db);
      await sql`CREATE TABLE installation (
        device_ref INTEGER NOT NULL, software_ref INTEGER NOT NULL, disk_paths TEXT, registry_paths TEXT,
        PRIMARY KEY (device_ref, software_ref)) WITHOUT ROWID`.execute(db);
      await sql`CREATE TABLE cve (ref INTEGER PRIMARY KEY, cve_id TEXT NOT NULL UNIQUE)`.execute(db);
      // What Defender says about a finding that can change (severity, exploitability, the update
      // that fixes it). Few distinct combinations exist, so findings share them by reference; \`key\`
      // is the fields joined, as the sync reads them.
      await sql`CREATE TABLE finding_detail (
        ref INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, severity TEXT, cvss REAL, exploitability TEXT,
        update_title TEXT, update_id TEXT, update_url TEXT, update_available INTEGER)`.execute(db);
      // Millions of rows, so only integers: times are unix seconds, and a finding is open while
      // fixed_at is null. Its device gives its tenant.
      await sql`CREATE TABLE finding (
        id INTEGER PRIMARY KEY, device_ref INTEGER NOT NULL, software_ref INTEGER NOT NULL, cve_ref INTEGER NOT NULL,
        detail_ref INTEGER NOT NULL, first_seen INTEGER, opened_at INTEGER NOT NULL, fixed_at INTEGER, reopened INTEGER NOT NULL DEFAULT 0)`.execute(db);
      // One index: it finds a finding by its identity and lists a device's findings (its prefix).
      await sql`CREATE UNIQUE INDEX finding_key ON finding (device_ref, software_ref, cve_ref)`.execute(db);
      // Transitions after a finding first opened (its opened_at): fixed, reopened. The history of a finding.
      await sql`CREATE TABLE finding_event (finding_id INTEGER NOT NULL, at INTEGER NOT NULL, event TEXT NOT NULL, run_id TEXT NOT NULL)`.execute(db);
      await sql`CREATE INDEX finding_event_finding ON finding_event (finding_id)`.execute(db);
      await sql`CREATE TABLE vulnerability (
        tenant_ref INTEGER NOT NULL, cve_id TEXT NOT NULL, name TEXT, description TEXT, severity TEXT, cvss REAL, cvss_vector TEXT,
        epss REAL, public_exploit INTEGER, exploit_verified INTEGER, exploit_in_kit INTEGER, exploit_types TEXT, tags TEXT,
        exposed_machines INTEGER, published_on TEXT, updated_on TEXT, first_detected TEXT, patch_first_available TEXT,
        PRIMARY KEY (tenant_ref, cve_id)) WITHOUT ROWID`.execute(db);
      // Written in the same transaction as the data it describes.
      await sql`CREATE TABLE sync_state (
        tenant_ref INTEGER PRIMARY KEY, snapshot_time TEXT, snapshot_rows INTEGER, delta_checkpoint TEXT, catalog_checkpoint TEXT, last_full_at TEXT)`.execute(db);
    },
  },
  '0002_exposure': {
    async up(db: Kysely<any>) {
      // Read models: the counts the console's pages show, kept by each sync in the transaction that
      // writes the findings they count (src/sync/exposure-tally.ts), so no page scans findings.
      // Open findings by severity per device (devices are exposed while open_findings > 0).
      for (const column of ['open_findings', 'open_critical', 'open_high', 'open_medium', 'open_low']) {
        await sql`ALTER TABLE device ADD COLUMN ${sql.raw(column)} INTEGER NOT NULL DEFAULT 0`.execute(db);
      }
      await sql`CREATE INDEX device_exposure ON device (tenant_ref, open_critical, open_high, open_findings)`.execute(db);
      // A CVE's findings, open and fixed, in id order (the CVE page, findings and devices by CVE): a
      // table the sync fills in key order, not an index on finding (src/sync/exposure-tally.ts).
      await sql`CREATE TABLE cve_finding (tenant_ref INTEGER NOT NULL, cve_ref INTEGER NOT NULL, finding_id INTEGER NOT NULL,
        PRIMARY KEY (tenant_ref, cve_ref, finding_id)) WITHOUT ROWID`.execute(db);
      await sql`CREATE TABLE cve_exposure (
        tenant_ref INTEGER NOT NULL, cve_ref INTEGER NOT NULL, exposed_devices INTEGER NOT NULL, open_findings INTEGER NOT NULL,
        first_seen INTEGER, PRIMARY KEY (tenant_ref, cve_ref)) WITHOUT ROWID`.execute(db);
      await sql`CREATE TABLE software_exposure (
        tenant_ref INTEGER NOT NULL, software_ref INTEGER NOT NULL, exposed_devices INTEGER NOT NULL, open_findings INTEGER NOT NULL,
        cves INTEGER NOT NULL, open_critical INTEGER NOT NULL, open_high INTEGER NOT NULL, open_medium INTEGER NOT NULL, open_low INTEGER NOT NULL,
        PRIMARY KEY (tenant_ref, software_ref)) WITHOUT ROWID`.execute(db);
      // Open findings per software version and CVE: a version's CVE count is its rows above zero.
      await sql`CREATE TABLE software_cve (
        tenant_ref INTEGER NOT NULL, software_ref INTEGER NOT NULL, cve_ref INTEGER NOT NULL, open_findings INTEGER NOT NULL,
        PRIMARY KEY (tenant_ref, software_ref, cve_ref)) WITHOUT ROWID`.execute(db);
      await sql`CREATE TABLE tenant_exposure (
        tenant_ref INTEGER PRIMARY KEY, devices INTEGER NOT NULL, exposed_devices INTEGER NOT NULL, open_findings INTEGER NOT NULL,
        open_critical INTEGER NOT NULL, open_high INTEGER NOT NULL, open_medium INTEGER NOT NULL, open_low INTEGER NOT NULL)`.execute(db);
      // History: one point per connection and UTC day (YYYY-MM-DD), the state after that day's last
      // sync, and the findings opened (new or reopened) and fixed that day.
      await sql`CREATE TABLE exposure_day (
        tenant_ref INTEGER NOT NULL, day TEXT NOT NULL, exposed_devices INTEGER NOT NULL, open_findings INTEGER NOT NULL,
        open_critical INTEGER NOT NULL, open_high INTEGER NOT NULL, open_medium INTEGER NOT NULL, open_low INTEGER NOT NULL,
        opened INTEGER NOT NULL, fixed INTEGER NOT NULL, PRIMARY KEY (tenant_ref, day)) WITHOUT ROWID`.execute(db);
      await backfillExposure(db);
    },
  },
  '0003_finding_key_by_cve': {
    async up(db: Kysely<any>) {
      // The same key with the CVE before the software: a sync asks, per (device, CVE) whose open
      // findings changed, whether the device still has one open (how many devices a CVE exposes),
      // and that becomes one seek instead of a scan of the device's findings. Rows are still
      // inserted in device order, so a full load costs the same.
      await sql`DROP INDEX finding_key`.execute(db);
      await sql`CREATE UNIQUE INDEX finding_key ON finding (device_ref, cve_ref, software_ref)`.execute(db);
    },
  },
  '0004_remediation': {
    async up(db: Kysely<any>) {
      // Read models of the remediation work (src/remediation/tally.ts), kept by each sync in its
      // transaction. A finding's remediation depends only on its software version, CVE, detail and
      // (Linux packages) its device's OS version, so the findings are counted per such key, not
      // mapped one by one: a few rows per software version × CVE.
      await sql`CREATE TABLE remediation (
        ref INTEGER PRIMARY KEY, tenant_ref INTEGER NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL,
        product TEXT, reason TEXT, update_id TEXT, update_title TEXT, content TEXT NOT NULL DEFAULT '[]',
        open_findings INTEGER NOT NULL DEFAULT 0, fixed_findings INTEGER NOT NULL DEFAULT 0, devices INTEGER NOT NULL DEFAULT 0,
        cves INTEGER NOT NULL DEFAULT 0, open_critical INTEGER NOT NULL DEFAULT 0, open_high INTEGER NOT NULL DEFAULT 0,
        open_medium INTEGER NOT NULL DEFAULT 0, open_low INTEGER NOT NULL DEFAULT 0, risk_score REAL NOT NULL DEFAULT 0, risk TEXT NOT NULL DEFAULT '{}',
        due_on TEXT, completed_at INTEGER)`.execute(db);
      await sql`CREATE UNIQUE INDEX remediation_key_name ON remediation (tenant_ref, key)`.execute(db);
      await sql`CREATE INDEX remediation_rank ON remediation (risk_score, ref)`.execute(db);
      // Open findings per key, and what the knowledge said about the key when it was mapped.
      await sql`CREATE TABLE remediation_key (
        tenant_ref INTEGER NOT NULL, software_ref INTEGER NOT NULL, cve_ref INTEGER NOT NULL, detail_ref INTEGER NOT NULL, os TEXT NOT NULL,
        remediation_ref INTEGER NOT NULL, fixed_version TEXT, kev INTEGER NOT NULL, kev_due TEXT, open_findings INTEGER NOT NULL, first_seen INTEGER,
        PRIMARY KEY (tenant_ref, software_ref, cve_ref, detail_ref, os)) WITHOUT ROWID`.execute(db);
      await sql`CREATE INDEX remediation_key_by_remediation ON remediation_key (remediation_ref, open_findings)`.execute(db);
      // A remediation's devices: those with open findings in it (the device list and its count).
      await sql`CREATE TABLE remediation_device (remediation_ref INTEGER NOT NULL, device_ref INTEGER NOT NULL, open_findings INTEGER NOT NULL,
        PRIMARY KEY (remediation_ref, device_ref)) WITHOUT ROWID`.execute(db);
      // The OS version a device's findings are counted under (a device that moves to another
      // release has its Linux findings moved at the next commit).
      await sql`ALTER TABLE device ADD COLUMN remediation_os TEXT`.execute(db);
    },
  },
  '0005_sla': {
    async up(db: Kysely<any>) {
      // Read models of the SLA figures (src/remediation/sla-tally.ts), kept by each sync in its
      // transaction. A finding's SLA state depends only on its RBAC group, severity, first-seen day
      // and its CVE's KEV due day, compared with today and the configured windows; so open findings
      // are counted per such key (a few thousand rows per tenant) and a request sums them.
      // Days are days since 1970-01-01 (UTC); kev_due_day 0: not known exploited (or no due date);
      // rbac_group_id -1: no group. Severity is the index of exposure-tally.ts (0 none, 1 Critical … 4 Low).
      await sql`CREATE TABLE sla_open (tenant_ref INTEGER NOT NULL, rbac_group_id INTEGER NOT NULL, severity INTEGER NOT NULL,
        start_day INTEGER NOT NULL, kev_due_day INTEGER NOT NULL, open_findings INTEGER NOT NULL,
        PRIMARY KEY (tenant_ref, rbac_group_id, severity, start_day, kev_due_day)) WITHOUT ROWID`.execute(db);
      // The KEV due day each CVE's findings are counted under: a content import that changes it
      // has the CVE's open findings moved at the next commit.
      await sql`CREATE TABLE sla_kev (tenant_ref INTEGER NOT NULL, cve_ref INTEGER NOT NULL, kev_due_day INTEGER NOT NULL,
        PRIMARY KEY (tenant_ref, cve_ref)) WITHOUT ROWID`.execute(db);
      await sql`CREATE TABLE sla_group (tenant_ref INTEGER NOT NULL, rbac_group_id INTEGER NOT NULL, name TEXT,
        PRIMARY KEY (tenant_ref, rbac_group_id)) WITHOUT ROWID`.execute(db);
      // Findings fixed per day and severity, and the seconds from first seen to fix they took (mean time to remediate).
      await sql`CREATE TABLE sla_fixed_day (tenant_ref INTEGER NOT NULL, day TEXT NOT NULL, severity INTEGER NOT NULL, fixed INTEGER NOT NULL,
        seconds INTEGER NOT NULL, PRIMARY KEY (tenant_ref, day, severity)) WITHOUT ROWID`.execute(db);
      // History: per connection and UTC day, the figures after that day's last sync.
      await sql`CREATE TABLE sla_day (tenant_ref INTEGER NOT NULL, day TEXT NOT NULL, open_findings INTEGER NOT NULL, approaching INTEGER NOT NULL,
        overdue INTEGER NOT NULL, PRIMARY KEY (tenant_ref, day)) WITHOUT ROWID`.execute(db);
      // The RBAC group a device's findings are counted under (a device that moves has them moved at the next commit).
      await sql`ALTER TABLE device ADD COLUMN sla_group INTEGER`.execute(db);
      await backfillSla(db);
    },
  },
};

/** Computes the read models of findings synced before they existed (runs once, on upgrade). */
async function backfillExposure(db: Kysely<any>): Promise<void> {
  const open = sql`SELECT d.tenant_ref, f.device_ref, f.software_ref, f.cve_ref, f.first_seen, x.severity FROM finding f
    JOIN device d ON d.ref = f.device_ref JOIN finding_detail x ON x.ref = f.detail_ref WHERE f.fixed_at IS NULL`;
  const bySeverity = (level: string) => sql`sum(CASE WHEN severity = ${level} THEN 1 ELSE 0 END)`;
  await sql`UPDATE device SET (open_findings, open_critical, open_high, open_medium, open_low) = (
    SELECT count(*), ${bySeverity('Critical')}, ${bySeverity('High')}, ${bySeverity('Medium')}, ${bySeverity('Low')}
    FROM (${open}) o WHERE o.device_ref = device.ref)
    WHERE ref IN (SELECT device_ref FROM finding WHERE fixed_at IS NULL)`.execute(db);
  await sql`INSERT INTO cve_finding SELECT d.tenant_ref, f.cve_ref, f.id FROM finding f JOIN device d ON d.ref = f.device_ref`.execute(db);
  await sql`INSERT INTO cve_exposure SELECT tenant_ref, cve_ref, count(DISTINCT device_ref), count(*), min(first_seen) FROM (${open}) o
    GROUP BY tenant_ref, cve_ref`.execute(db);
  await sql`INSERT INTO software_cve SELECT tenant_ref, software_ref, cve_ref, count(*) FROM (${open}) o GROUP BY tenant_ref, software_ref, cve_ref`.execute(db);
  await sql`INSERT INTO software_exposure SELECT tenant_ref, software_ref, count(DISTINCT device_ref), count(*), count(DISTINCT cve_ref),
    ${bySeverity('Critical')}, ${bySeverity('High')}, ${bySeverity('Medium')}, ${bySeverity('Low')} FROM (${open}) o GROUP BY tenant_ref, software_ref`.execute(db);
  await sql`INSERT INTO tenant_exposure SELECT tenant_ref, count(*), sum(open_findings > 0), sum(open_findings), sum(open_critical), sum(open_high),
    sum(open_medium), sum(open_low) FROM device GROUP BY tenant_ref`.execute(db);
}

/** The SLA read models of findings synced before they existed (runs once, on upgrade; KEV days move in at the next sync). */
async function backfillSla(db: Kysely<any>): Promise<void> {
  const severity = sql`CASE x.severity WHEN 'Critical' THEN 1 WHEN 'High' THEN 2 WHEN 'Medium' THEN 3 WHEN 'Low' THEN 4 ELSE 0 END`;
  await sql`UPDATE device SET sla_group = coalesce(rbac_group_id, -1)`.execute(db);
  await sql`INSERT INTO sla_group SELECT tenant_ref, sla_group, max(rbac_group_name) FROM device GROUP BY tenant_ref, sla_group`.execute(db);
  await sql`INSERT INTO sla_kev SELECT tenant_ref, cve_ref, 0 FROM cve_exposure`.execute(db);
  await sql`INSERT INTO sla_open SELECT d.tenant_ref, d.sla_group, ${severity}, coalesce(f.first_seen, f.opened_at) / 86400, 0, count(*)
    FROM finding f JOIN device d ON d.ref = f.device_ref JOIN finding_detail x ON x.ref = f.detail_ref WHERE f.fixed_at IS NULL
    GROUP BY 1, 2, 3, 4`.execute(db);
  await sql`INSERT INTO sla_fixed_day SELECT d.tenant_ref, date(f.fixed_at, 'unixepoch'), ${severity}, count(*), sum(f.fixed_at - coalesce(f.first_seen, f.opened_at))
    FROM finding f JOIN device d ON d.ref = f.device_ref JOIN finding_detail x ON x.ref = f.detail_ref WHERE f.fixed_at IS NOT NULL
    GROUP BY 1, 2, 3`.execute(db);
}
