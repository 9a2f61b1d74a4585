// CISA's Known Exploited Vulnerabilities catalog: one document, replaced whole.

import type SQLite from 'better-sqlite3';
import { parseKev } from '../feeds/kev.js';
import type { KevResult } from '../feeds/types.js';
import { rememberDocument, type ImportContext } from './context.js';

export async function importKev(ctx: ImportContext): Promise<void> {
  ctx.progress('catalog', 0, 1);
  const parsed = parseKev(await ctx.fetch(ctx.urls.kevUrl));
  ctx.counted(applyKev(ctx.content, parsed), parsed.skipped);
  rememberDocument(ctx, 'kev', 'catalog', parsed.catalog.catalogVersion);
  ctx.progress('done', 1, 1);
}

/** Replaces the catalog; answers the records stored. */
export function applyKev(db: SQLite.Database, parsed: KevResult): number {
  db.prepare('DELETE FROM kev').run();
  const insert = db.prepare('INSERT OR REPLACE INTO kev (cve, date_added, due_date, ransomware, vendor_project, product, name) VALUES (?, ?, ?, ?, ?, ?, ?)');
  for (const e of parsed.entries) {
    insert.run(e.cve, e.dateAdded, e.dueDate, e.knownRansomwareCampaignUse === null ? null : Number(e.knownRansomwareCampaignUse), e.vendorProject, e.product, e.vulnerabilityName);
  }
  return parsed.entries.length;
}
