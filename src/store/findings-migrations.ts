// Schema of findings.db: the exposure copy that syncs write. It lives in its own database file so
// that a sync's long write transaction never blocks sign-ins, audit entries or progress updates.

import { sql, type Kysely, type Migration } from 'kysely';

export const findingsMigrations: Record<string, Migration> = {
  '0001_findings': {
    async up(db: Kysely<any>) {
      await sql`CREATE TABLE device (
        connection_id TEXT NOT NULL, device_id TEXT NOT NULL, name TEXT, os_platform TEXT, os_version TEXT,
        os_architecture TEXT, rbac_group_id INTEGER, rbac_group_name TEXT, last_seen TEXT,
        PRIMARY KEY (connection_id, device_id)) WITHOUT ROWID`.execute(db);
      await sql`CREATE TABLE finding (
        id INTEGER PRIMARY KEY, connection_id TEXT NOT NULL, key TEXT NOT NULL,
        device_id TEXT NOT NULL, software_vendor TEXT NOT NULL, software_name TEXT NOT NULL, software_version TEXT NOT NULL,
        cve_id TEXT NOT NULL, severity TEXT, cvss REAL, exploitability TEXT,
        update_title TEXT, update_id TEXT, update_url TEXT, update_available INTEGER,
        disk_paths TEXT, registry_paths TEXT, first_seen TEXT, last_seen TEXT, row_hash INTEGER NOT NULL,
        status TEXT NOT NULL, opened_at TEXT NOT NULL, fixed_at TEXT, reopened INTEGER NOT NULL DEFAULT 0)`.execute(db);
      await sql`CREATE UNIQUE INDEX finding_key ON finding (connection_id, key)`.execute(db);
      // Transitions after a finding first opened (its opened_at): fixed, reopened. The history of a finding.
      await sql`CREATE TABLE finding_event (finding_id INTEGER NOT NULL, at TEXT NOT NULL, event TEXT NOT NULL, run_id TEXT NOT NULL)`.execute(db);
      await sql`CREATE INDEX finding_event_finding ON finding_event (finding_id)`.execute(db);
      await sql`CREATE TABLE vulnerability (
        connection_id TEXT NOT NULL, cve_id TEXT NOT NULL, name TEXT, description TEXT, severity TEXT, cvss REAL, cvss_vector TEXT,
        epss REAL, public_exploit INTEGER, exploit_verified INTEGER, exploit_in_kit INTEGER, exploit_types TEXT, tags TEXT,
        exposed_machines INTEGER, published_on TEXT, updated_on TEXT, first_detected TEXT, patch_first_available TEXT,
        PRIMARY KEY (connection_id, cve_id)) WITHOUT ROWID`.execute(db);
      // Written in the same transaction as the data it describes.
      await sql`CREATE TABLE sync_state (
        connection_id TEXT PRIMARY KEY, snapshot_time TEXT, delta_checkpoint TEXT, catalog_checkpoint TEXT, last_full_at TEXT)`.execute(db);
    },
  },
};
