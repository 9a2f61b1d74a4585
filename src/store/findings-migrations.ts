// Schema of findings.db: the exposure copy that syncs write. It lives in its own database file so
// that a sync's long write transaction never blocks sign-ins, audit entries or progress updates.

import { sql, type Kysely, type Migration } from 'kysely';

export const findingsMigrations: Record<string, Migration> = {
  '0001_findings': {
    async up(db: Kysely<any>) {
      // Findings are the bulk (millions of rows): they refer to their tenant, device and software by
      // small integers so rows and the unique index stay narrow, which is what makes loads fast.
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
      await sql`CREATE TABLE security_update (
        tenant_ref INTEGER NOT NULL, update_id TEXT NOT NULL, url TEXT, PRIMARY KEY (tenant_ref, update_id)) WITHOUT ROWID`.execute(db);
      await sql`CREATE TABLE finding (
        id INTEGER PRIMARY KEY, tenant_ref INTEGER NOT NULL, device_ref INTEGER NOT NULL, software_ref INTEGER NOT NULL, cve_id TEXT NOT NULL,
        severity TEXT, cvss REAL, exploitability TEXT, update_title TEXT, update_id TEXT, update_available INTEGER, first_seen TEXT,
        row_hash INTEGER NOT NULL, status TEXT NOT NULL, opened_at TEXT NOT NULL, fixed_at TEXT, reopened INTEGER NOT NULL DEFAULT 0)`.execute(db);
      // One index: it finds a finding by its identity and lists a tenant's findings (its prefix).
      await sql`CREATE UNIQUE INDEX finding_key ON finding (tenant_ref, device_ref, software_ref, cve_id)`.execute(db);
      // Transitions after a finding first opened (its opened_at): fixed, reopened. The history of a finding.
      await sql`CREATE TABLE finding_event (finding_id INTEGER NOT NULL, at TEXT NOT NULL, event TEXT NOT NULL, run_id TEXT NOT NULL)`.execute(db);
      await sql`CREATE INDEX finding_event_finding ON finding_event (finding_id)`.execute(db);
      await sql`CREATE TABLE vulnerability (
        tenant_ref INTEGER NOT NULL, cve_id TEXT NOT NULL, name TEXT, description TEXT, severity TEXT, cvss REAL, cvss_vector TEXT,
        epss REAL, public_exploit INTEGER, exploit_verified INTEGER, exploit_in_kit INTEGER, exploit_types TEXT, tags TEXT,
        exposed_machines INTEGER, published_on TEXT, updated_on TEXT, first_detected TEXT, patch_first_available TEXT,
        PRIMARY KEY (tenant_ref, cve_id)) WITHOUT ROWID`.execute(db);
      // Written in the same transaction as the data it describes.
      await sql`CREATE TABLE sync_state (
        tenant_ref INTEGER PRIMARY KEY, snapshot_time TEXT, delta_checkpoint TEXT, catalog_checkpoint TEXT, last_full_at TEXT)`.execute(db);
    },
  },
};
