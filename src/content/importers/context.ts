// What an importer works with: the content.db writer (inside the import's open transaction), a
// fetcher bound to the network settings, progress, and the import's tally.

import type SQLite from 'better-sqlite3';
import type { Skipped } from '../feeds/types.js';

export interface FeedUrls {
  msrcCvrfUrl: string;
  redHatVexUrl: string;
  ubuntuOsvUrl: string;
  nvdUrl: string;
  kevUrl: string;
}

export interface ImportContext {
  content: SQLite.Database;
  urls: FeedUrls;
  nvdApiKey?: string;
  /** Scales waits (NVD's pacing, retries); below 1 only for emulated feeds. */
  timeScale: number;
  fetch(url: string, headers?: Record<string, string>): Promise<Buffer>;
  progress(phase: string, done: number, total: number | null): void;
  /** A document read and applied, with its records and what it skipped. */
  counted(records: number, skipped: Skipped[]): void;
  signal: AbortSignal;
}

/** Joins a base URL and a path (the base may or may not end in a slash). */
export const joinUrl = (base: string, path: string) => `${base.replace(/\/+$/, '')}/${path}`;

export function documentVersion(ctx: ImportContext, source: string, document: string): string | null {
  const row = ctx.content.prepare('SELECT version FROM feed_document WHERE source = ? AND document = ?').get(source, document) as { version: string | null } | undefined;
  return row ? row.version : null;
}

export function rememberDocument(ctx: ImportContext, source: string, document: string, version: string | null): void {
  ctx.content.prepare(`INSERT INTO feed_document (source, document, version, imported_at) VALUES (?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET version = excluded.version, imported_at = excluded.imported_at`).run(source, document, version, Math.floor(Date.now() / 1000));
}

export function cursorOf(ctx: ImportContext, source: string): string | null {
  return (ctx.content.prepare('SELECT cursor FROM feed_cursor WHERE source = ?').pluck().get(source) as string | undefined) ?? null;
}

export function setCursor(ctx: ImportContext, source: string, cursor: string): void {
  ctx.content.prepare('INSERT INTO feed_cursor (source, cursor) VALUES (?, ?) ON CONFLICT DO UPDATE SET cursor = excluded.cursor').run(source, cursor);
}
