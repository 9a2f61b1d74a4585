// MSRC CVRF v3: the updates listing, then each monthly document that is new or was revised
// (its CurrentReleaseDate moved) within the history kept. A document's fixes and supersedence
// edges replace what its earlier version said.

import type SQLite from 'better-sqlite3';
import { parseMsrcCvrf, parseMsrcUpdates } from '../feeds/msrc-cvrf.js';
import type { MsrcCvrfResult } from '../feeds/types.js';
import { documentVersion, joinUrl, rememberDocument, type ImportContext } from './context.js';

/** Months of Security Update Guide documents kept: enough for every supported cumulative line and the chains behind them. */
export const MSRC_HISTORY_MONTHS = 36;

export async function importMsrc(ctx: ImportContext): Promise<void> {
  ctx.progress('listing', 0, null);
  const listing = parseMsrcUpdates(await ctx.fetch(joinUrl(ctx.urls.msrcCvrfUrl, 'updates')));
  ctx.counted(0, listing.skipped);
  const since = new Date();
  since.setUTCMonth(since.getUTCMonth() - MSRC_HISTORY_MONTHS);
  const due = listing.updates.filter((u) => (u.initialReleaseDate ?? u.currentReleaseDate ?? '') >= since.toISOString().slice(0, 10)
    && documentVersion(ctx, 'msrc', u.id) !== (u.currentReleaseDate ?? ''));
  for (const [i, update] of due.entries()) {
    ctx.progress(`document ${update.id}`, i, due.length);
    const parsed = parseMsrcCvrf(await ctx.fetch(joinUrl(ctx.urls.msrcCvrfUrl, `cvrf/${encodeURIComponent(update.id)}`)), update.id);
    ctx.counted(applyMsrcDocument(ctx.content, parsed), parsed.skipped);
    rememberDocument(ctx, 'msrc', update.id, update.currentReleaseDate ?? '');
  }
  ctx.progress('done', due.length, due.length);
}

/** Replaces one monthly document's fixes and supersedence edges; answers the records stored. */
export function applyMsrcDocument(db: SQLite.Database, parsed: MsrcCvrfResult): number {
  const id = parsed.document.id;
  db.prepare('DELETE FROM msrc_fix WHERE document = ?').run(id);
  db.prepare('DELETE FROM msrc_supersedence WHERE document = ?').run(id);
  const product = db.prepare(`INSERT INTO msrc_product (product_id, name, family) VALUES (?, ?, ?)
    ON CONFLICT DO UPDATE SET name = excluded.name, family = coalesce(excluded.family, family)`);
  for (const p of parsed.products) product.run(p.productId, p.name, p.family);
  const released = parsed.document.initialReleaseDate;
  const fix = db.prepare('INSERT INTO msrc_fix (document, cve, product_id, kb, fixed_build, sub_type, url, released) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  for (const f of parsed.fixes) fix.run(id, f.cve, f.productId, f.kb, f.fixedBuild, f.subType, f.url, released);
  const edge = db.prepare('INSERT INTO msrc_supersedence (document, product_id, kb, superseded_kb) VALUES (?, ?, ?, ?)');
  for (const e of parsed.supersedence) edge.run(id, e.productId, e.kb, e.supersededKb);
  return parsed.fixes.length + parsed.supersedence.length;
}
