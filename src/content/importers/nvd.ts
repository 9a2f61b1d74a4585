// NVD CVE API 2.0: every CVE on the first import, then those modified since the last one (in
// windows of at most 120 days, up to NVD's own clock), paged by offset, paced as NVD asks: about 6 s between requests
// without an API key, 0.6 s with one. Only the ranges of each CVE the page names are replaced.

import type SQLite from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { nvdModifiedWindows, nvdNextPage, nvdTimestamp, parseNvdPage } from '../feeds/nvd.js';
import type { NvdModifiedWindow, NvdPageResult } from '../feeds/types.js';
import { cursorOf, setCursor, type ImportContext } from './context.js';

const PAGE_SIZE = 2000;

export async function importNvd(ctx: ImportContext): Promise<void> {
  const since = cursorOf(ctx, 'nvd');
  const pace = (ctx.nvdApiKey ? 600 : 6000) * ctx.timeScale;
  const headers = ctx.nvdApiKey ? { apiKey: ctx.nvdApiKey } : undefined;
  let requests = 0;
  const get = async (query: URLSearchParams, name: string) => {
    if (requests++ > 0) await sleep(pace, undefined, { signal: ctx.signal });
    return parseNvdPage(await ctx.fetch(`${ctx.urls.nvdUrl}?${query}`, headers), name);
  };
  // NVD's own clock (each answer's timestamp) bounds the windows and becomes the next cursor: ours may differ.
  const serverNow = (await get(new URLSearchParams({ startIndex: '0', resultsPerPage: '1' }), 'the first CVE')).page.timestamp;
  if (!serverNow) throw new Error('NVD\'s answer carries no timestamp, which an incremental import starts from: check the nvdUrl setting. The knowledge from the previous import is kept.');
  const until = new Date(serverNow);
  const windows: (NvdModifiedWindow | null)[] = since ? nvdModifiedWindows(new Date(since), until) : [null];
  let done = 0;
  for (const window of windows) {
    for (let startIndex: number | null = 0; startIndex !== null;) {
      const query = new URLSearchParams({ startIndex: String(startIndex), resultsPerPage: String(PAGE_SIZE), ...window });
      const name = `startIndex=${startIndex}${window ? ` modified ${window.lastModStartDate}…${window.lastModEndDate}` : ''}`;
      const parsed = await get(query, name);
      if (parsed.page.startIndex !== startIndex) {
        throw new Error(`NVD answered the page at startIndex ${parsed.page.startIndex} when asked for ${startIndex}: check the nvdUrl setting (a proxy or mirror that ignores the query?). The knowledge from the previous import is kept.`);
      }
      ctx.counted(applyNvdPage(ctx.content, parsed), parsed.skipped);
      done += parsed.page.returned;
      ctx.progress(since ? 'modified CVEs' : 'every CVE', done, parsed.page.totalResults);
      startIndex = nvdNextPage(parsed.page, PAGE_SIZE).nextStartIndex;
    }
  }
  setCursor(ctx, 'nvd', nvdTimestamp(until));
}

/** Replaces the ranges of the page's CVEs; answers the records stored. */
export function applyNvdPage(db: SQLite.Database, parsed: NvdPageResult): number {
  const clear = db.prepare('DELETE FROM nvd_range WHERE cve = ?');
  const cve = db.prepare(`INSERT INTO nvd_cve (cve, status, last_modified, not_yet_known) VALUES (?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET status = excluded.status, last_modified = excluded.last_modified, not_yet_known = excluded.not_yet_known`);
  const range = db.prepare(`INSERT INTO nvd_range (cve, product_key, version, start_including, start_excluding, end_including, end_excluding)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);
  for (const c of parsed.cves) {
    clear.run(c.cve);
    cve.run(c.cve, c.vulnStatus, c.lastModified, Number(c.fixedVersionNotYetKnown));
  }
  let records = parsed.cves.length;
  for (const p of parsed.products) {
    for (const r of p.ranges) {
      range.run(p.cve, `${p.vendor}:${p.product}`, r.version, r.startIncluding, r.startExcluding, r.endIncluding, r.endExcluding);
      records++;
    }
  }
  return records;
}
