// The CVE catalog (/api/vulnerabilities): severity, CVSS and vector, EPSS, exploit flags, dates and
// description, read incrementally by updatedOn and upserted with the run's findings.

import type SQLite from 'better-sqlite3';
import type { DefenderClient } from '../defender/client.js';

export interface CatalogEntry {
  id: string;
  name?: string;
  description?: string;
  severity?: string | null;
  cvssV3?: number | null;
  cvssVector?: string | null;
  epss?: number | null;
  publicExploit?: boolean;
  exploitVerified?: boolean;
  exploitInKit?: boolean;
  exploitTypes?: string[];
  tags?: string[];
  exposedMachines?: number;
  publishedOn?: string | null;
  updatedOn?: string | null;
  firstDetected?: string | null;
  patchFirstAvailable?: string | null;
}

export async function fetchCatalog(client: DefenderClient, since: string | undefined): Promise<{ rows: CatalogEntry[] }> {
  const filter = since ? `?$filter=${encodeURIComponent(`updatedOn gt ${since}`)}` : '';
  const rows: CatalogEntry[] = [];
  for await (const page of client.pages<CatalogEntry>(`/api/vulnerabilities${filter}`, 'vulnerabilities')) rows.push(...page);
  return { rows };
}

const flag = (value: boolean | undefined) => (value === undefined ? null : value ? 1 : 0);
const list = (value: string[] | undefined) => (value?.length ? JSON.stringify(value) : null);

/** An entry's columns as both stores keep them (flags as 0/1, lists as JSON); null for an entry without an id. */
export function catalogRow(v: CatalogEntry) {
  if (!v.id) return null;
  return {
    id: v.id, name: v.name ?? v.id, description: v.description || null, severity: v.severity || null,
    cvss: v.cvssV3 ?? null, vector: v.cvssVector || null, epss: v.epss ?? null, publicExploit: flag(v.publicExploit),
    verified: flag(v.exploitVerified), inKit: flag(v.exploitInKit), types: list(v.exploitTypes), tags: list(v.tags),
    exposed: v.exposedMachines ?? null, published: v.publishedOn ?? null, updated: v.updatedOn ?? null,
    firstDetected: v.firstDetected ?? null, patch: v.patchFirstAvailable ?? null,
  };
}

/** The newest updatedOn of the entries: the next sync reads the catalog from there. */
export function newestUpdate(rows: CatalogEntry[]): string | undefined {
  let newest: string | undefined;
  for (const v of rows) if (v.id && v.updatedOn && (!newest || Date.parse(v.updatedOn) > Date.parse(newest))) newest = v.updatedOn;
  return newest;
}

/** Upserts the entries (inside the caller's transaction); returns the newest updatedOn seen. */
export function applyCatalog(db: SQLite.Database, tenant: number, rows: CatalogEntry[]): string | undefined {
  const upsert = db.prepare(`INSERT INTO vulnerability (tenant_ref, cve_id, name, description, severity, cvss, cvss_vector, epss,
    public_exploit, exploit_verified, exploit_in_kit, exploit_types, tags, exposed_machines, published_on, updated_on, first_detected, patch_first_available)
    VALUES (@tenant, @id, @name, @description, @severity, @cvss, @vector, @epss, @publicExploit, @verified, @inKit, @types, @tags,
    @exposed, @published, @updated, @firstDetected, @patch)
    ON CONFLICT (tenant_ref, cve_id) DO UPDATE SET ${CATALOG_UPDATE}`);
  for (const v of rows) {
    const row = catalogRow(v);
    if (row) upsert.run({ tenant, ...row });
  }
  return newestUpdate(rows);
}

/** How an upsert of an entry sets its columns (the same statement on both stores). */
export const CATALOG_UPDATE = `name = excluded.name, description = excluded.description, severity = excluded.severity,
    cvss = excluded.cvss, cvss_vector = excluded.cvss_vector, epss = excluded.epss, public_exploit = excluded.public_exploit,
    exploit_verified = excluded.exploit_verified, exploit_in_kit = excluded.exploit_in_kit, exploit_types = excluded.exploit_types,
    tags = excluded.tags, exposed_machines = excluded.exposed_machines, published_on = excluded.published_on, updated_on = excluded.updated_on,
    first_detected = excluded.first_detected, patch_first_available = excluded.patch_first_available`;
