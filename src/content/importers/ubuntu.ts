// Ubuntu's OSV records (osv.dev's Ubuntu folder): modified_id.csv lists every record, newest
// first, with its modified time; the import reads those modified since the last import and
// replaces each advisory's fixes. A fix is stored under its source package and under each binary
// package it builds, since Defender reports installed binaries.

import type SQLite from 'better-sqlite3';
import type { UbuntuOsvResult } from '../feeds/types.js';
import { parseOsvModifiedIndex, parseUbuntuOsv } from '../feeds/ubuntu-osv.js';
import { cursorOf, joinUrl, setCursor, type ImportContext } from './context.js';

export async function importUbuntu(ctx: ImportContext): Promise<void> {
  ctx.progress('listing', 0, null);
  const since = cursorOf(ctx, 'ubuntu') ?? '';
  const listing = parseOsvModifiedIndex(await ctx.fetch(joinUrl(ctx.urls.ubuntuOsvUrl, 'modified_id.csv')));
  ctx.counted(0, listing.skipped);
  const due = listing.entries.filter((e) => e.modified > since);
  let newest = since;
  for (const [i, entry] of due.entries()) {
    if (i % 50 === 0) ctx.progress('advisories', i, due.length);
    const parsed = parseUbuntuOsv(await ctx.fetch(joinUrl(ctx.urls.ubuntuOsvUrl, `${encodeURIComponent(entry.id)}.json`)), entry.id);
    ctx.counted(applyUbuntuRecord(ctx.content, parsed), parsed.skipped);
    if (entry.modified > newest) newest = entry.modified;
  }
  ctx.progress('done', due.length, due.length);
  if (newest) setCursor(ctx, 'ubuntu', newest);
}

/** Replaces one advisory's fixes with an OSV record's; answers the records stored. */
export function applyUbuntuRecord(db: SQLite.Database, parsed: UbuntuOsvResult): number {
  db.prepare('DELETE FROM ubuntu_fix WHERE advisory = ?').run(parsed.advisory.id);
  const insert = db.prepare(`INSERT INTO ubuntu_fix (advisory, cve, release, package, source_package, fixed_version, pro_required, published)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  let records = 0;
  for (const fix of parsed.fixes) {
    for (const cve of fix.cves) {
      for (const name of new Set([fix.package, ...fix.binaries.map((b) => b.name)])) {
        insert.run(parsed.advisory.id, cve, fix.release.version, name, fix.package, fix.fixedVersion, Number(fix.proRequired), parsed.advisory.published);
        records++;
      }
    }
  }
  return records;
}
