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
};
