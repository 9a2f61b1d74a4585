// Red Hat CSAF VEX: changes.csv names every per-CVE document with the time it last changed; the
// import reads those changed since the last import (all of them the first time) and replaces
// each CVE's package states. deletions.csv names documents Red Hat withdrew.

import type SQLite from 'better-sqlite3';
import { parseRedHatListing, parseRedHatVex } from '../feeds/redhat-vex.js';
import type { RedHatVexResult } from '../feeds/types.js';
import { cursorOf, joinUrl, setCursor, type ImportContext } from './context.js';

export async function importRedHat(ctx: ImportContext): Promise<void> {
  ctx.progress('listing', 0, null);
  const since = cursorOf(ctx, 'redhat') ?? '';
  const changes = parseRedHatListing(await ctx.fetch(joinUrl(ctx.urls.redHatVexUrl, 'changes.csv')), 'changes.csv');
  const deletions = parseRedHatListing(await ctx.fetch(joinUrl(ctx.urls.redHatVexUrl, 'deletions.csv')), 'deletions.csv');
  ctx.counted(0, [...changes.skipped, ...deletions.skipped]);
  const db = ctx.content;
  for (const gone of deletions.entries.filter((e) => e.changed > since)) db.prepare('DELETE FROM redhat_state WHERE cve = ?').run(gone.cve);
  const due = changes.entries.filter((e) => e.changed > since);
  let newest = since;
  for (const [i, entry] of due.entries()) {
    if (i % 50 === 0) ctx.progress('CVE documents', i, due.length);
    const parsed = parseRedHatVex(await ctx.fetch(joinUrl(ctx.urls.redHatVexUrl, entry.path)), entry.path);
    ctx.counted(applyRedHatDocument(db, parsed), parsed.skipped);
    if (entry.changed > newest) newest = entry.changed;
  }
  ctx.progress('done', due.length, due.length);
  if (newest) setCursor(ctx, 'redhat', newest);
}

/** Replaces one CVE's package states with a VEX document's; answers the records stored. */
export function applyRedHatDocument(db: SQLite.Database, parsed: RedHatVexResult): number {
  db.prepare('DELETE FROM redhat_state WHERE cve = ?').run(parsed.document.cve);
  if (parsed.document.deleted) return 0;
  const insert = db.prepare(`INSERT INTO redhat_state (cve, package, stream, rhel_major, rhel_minor, stream_kind, state, reason, fixed_version, advisory)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const binary = db.prepare('INSERT INTO redhat_binary (binary, source) VALUES (?, ?) ON CONFLICT DO UPDATE SET source = excluded.source');
  let records = 0;
  const builds = new Map<string, { source?: string; binaries: string[] }>();
  for (const s of parsed.states) {
    if (s.packageType !== 'rpm' || !s.stream.rhel) continue; // RHEL packages; layered products and containers are not patched here
    insert.run(s.cve, s.package, s.stream.productId, s.stream.rhel.major, s.stream.rhel.minor, s.stream.rhel.stream, s.state, s.reason, s.fixedVersion, s.advisory);
    records++;
    if (s.state !== 'fixed') continue;
    // One build (stream, advisory, version) ships a source rpm and the binary rpms made from it.
    const key = `${s.stream.productId}|${s.advisory}|${s.fixedVersion}`;
    const build = builds.get(key) ?? { binaries: [] };
    if (s.arches.includes('src')) build.source = s.package;
    if (s.arches.some((a) => a !== 'src')) build.binaries.push(s.package);
    builds.set(key, build);
  }
  for (const { source, binaries } of builds.values()) if (source) for (const name of binaries) if (name !== source) binary.run(name, source);
  return records;
}
