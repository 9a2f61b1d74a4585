// Schema of content.db: the patch knowledge imported from the vendors' feeds (src/content). Its own
// file, so that a long import never blocks the console's writes or a sync's. Every table is
// global (the vendors' facts are the same for every tenant); each import replaces what its
// documents said, inside one transaction. The record of imports is in sitepatch.db
// (content_import), so that an import's progress shows while its transaction is open.

import { sql, type Kysely, type Migration } from 'kysely';

export const contentMigrations: Record<string, Migration> = {
  '0001_content': {
    async up(db: Kysely<any>) {
      // Each imported document and its version (a release date, a modified time), for incremental imports.
      await sql`CREATE TABLE feed_document (
        source TEXT NOT NULL, document TEXT NOT NULL, version TEXT, imported_at INTEGER NOT NULL,
        PRIMARY KEY (source, document)) WITHOUT ROWID`.execute(db);
      // A source's high-water mark (NVD's last modified time, a listing's newest change).
      await sql`CREATE TABLE feed_cursor (source TEXT PRIMARY KEY, cursor TEXT NOT NULL)`.execute(db);

      // MSRC CVRF: products, vendor fixes per (CVE, product), supersedence per product.
      await sql`CREATE TABLE msrc_product (product_id TEXT PRIMARY KEY, name TEXT NOT NULL, family TEXT)`.execute(db);
      await sql`CREATE TABLE msrc_fix (
        document TEXT NOT NULL, cve TEXT NOT NULL, product_id TEXT NOT NULL, kb TEXT, fixed_build TEXT, sub_type TEXT, url TEXT,
        released TEXT)`.execute(db);
      await sql`CREATE INDEX msrc_fix_cve ON msrc_fix (cve)`.execute(db);
      await sql`CREATE INDEX msrc_fix_document ON msrc_fix (document)`.execute(db);
      await sql`CREATE TABLE msrc_supersedence (
        document TEXT NOT NULL, product_id TEXT NOT NULL, kb TEXT NOT NULL, superseded_kb TEXT NOT NULL)`.execute(db);
      await sql`CREATE INDEX msrc_supersedence_document ON msrc_supersedence (document)`.execute(db);

      // Red Hat CSAF VEX: the state of a package in a product stream for a CVE.
      await sql`CREATE TABLE redhat_state (
        cve TEXT NOT NULL, package TEXT NOT NULL, stream TEXT NOT NULL, rhel_major INTEGER, rhel_minor INTEGER, stream_kind TEXT,
        state TEXT NOT NULL, reason TEXT, fixed_version TEXT, advisory TEXT)`.execute(db);
      await sql`CREATE INDEX redhat_state_cve ON redhat_state (cve, package)`.execute(db);
      await sql`CREATE INDEX redhat_state_package ON redhat_state (package)`.execute(db);
      // The source rpm of each binary rpm (from the fixed builds): unfixed states name only the source.
      await sql`CREATE TABLE redhat_binary (binary TEXT PRIMARY KEY, source TEXT NOT NULL)`.execute(db);

      // Ubuntu OSV: per advisory, release and package (the source package and each binary it builds).
      await sql`CREATE TABLE ubuntu_fix (
        advisory TEXT NOT NULL, cve TEXT NOT NULL, release TEXT NOT NULL, package TEXT NOT NULL, source_package TEXT NOT NULL,
        fixed_version TEXT, pro_required INTEGER NOT NULL, published TEXT)`.execute(db);
      await sql`CREATE INDEX ubuntu_fix_cve ON ubuntu_fix (cve, package)`.execute(db);
      await sql`CREATE INDEX ubuntu_fix_advisory ON ubuntu_fix (advisory)`.execute(db);
      await sql`CREATE INDEX ubuntu_fix_package ON ubuntu_fix (package, release)`.execute(db);

      // NVD: a CVE's analysis status, and the vulnerable version ranges per CPE vendor:product.
      await sql`CREATE TABLE nvd_cve (cve TEXT PRIMARY KEY, status TEXT, last_modified TEXT, not_yet_known INTEGER NOT NULL)`.execute(db);
      await sql`CREATE TABLE nvd_range (
        cve TEXT NOT NULL, product_key TEXT NOT NULL, version TEXT, start_including TEXT, start_excluding TEXT,
        end_including TEXT, end_excluding TEXT)`.execute(db);
      await sql`CREATE INDEX nvd_range_cve ON nvd_range (cve, product_key)`.execute(db);

      // CISA's known exploited vulnerabilities.
      await sql`CREATE TABLE kev (
        cve TEXT PRIMARY KEY, date_added TEXT NOT NULL, due_date TEXT, ransomware INTEGER, vendor_project TEXT, product TEXT, name TEXT)`.execute(db);
    },
  },
};
