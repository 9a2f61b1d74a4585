// Reading one downloaded feed document: decoding, telling a truncated download or an HTML error
// page from the real thing, and the small tolerant accessors the parsers share.

import type { FeedName, Skipped } from './types.js';

const FEEDS: Record<FeedName, { label: string; setting: string }> = {
  msrc: { label: 'MSRC CVRF', setting: 'msrcCvrfUrl' },
  redhat: { label: 'Red Hat CSAF VEX', setting: 'redHatVexUrl' },
  ubuntu: { label: 'Ubuntu OSV', setting: 'ubuntuOsvUrl' },
  nvd: { label: 'NVD CVE API', setting: 'nvdUrl' },
  kev: { label: 'CISA KEV', setting: 'kevUrl' },
};

/** A document that is not the feed's format at all; nothing of it should be imported. */
export class FeedFormatError extends Error {
  constructor(
    readonly feed: FeedName,
    readonly document: string,
    readonly problem: string,
    readonly action: string,
  ) {
    super(`${FEEDS[feed].label} document ${document}: ${problem}. ${action}`);
    this.name = 'FeedFormatError';
  }
}

export type DocumentInput = string | Uint8Array;

const KEPT = 'The knowledge from the previous import is kept.';

function decode(input: DocumentInput): string {
  const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function markupError(feed: FeedName, document: string, text: string): FeedFormatError {
  const setting = FEEDS[feed].setting;
  if (/<(!doctype html|html|head|body)\b/i.test(text.slice(0, 2000))) {
    return new FeedFormatError(feed, document, 'the server sent a web page (HTML), not the feed: usually an error, maintenance or proxy sign-in page',
      `Check the ${setting} setting and any proxy between SitePatch and the feed, then import again. ${KEPT}`);
  }
  const hint = feed === 'msrc' ? ' (MSRC answers JSON when asked with "Accept: application/json")' : '';
  return new FeedFormatError(feed, document, 'the server sent XML, not JSON',
    `Point ${setting} at the feed's JSON documents${hint}. ${KEPT}`);
}

/** The document as text; web pages and other markup are refused. */
export function readText(input: DocumentInput, feed: FeedName, document: string): string {
  const text = decode(input);
  const start = text.trimStart();
  if (start.startsWith('<')) throw markupError(feed, document, start);
  return text;
}

/**
 * Parses a JSON document whose top level must be an object. A cut-short download, a web page and
 * text that is not JSON each get their own message.
 */
export function readJsonObject(input: DocumentInput, feed: FeedName, document: string): Record<string, unknown> {
  const text = readText(input, feed, document).trim();
  if (text === '') {
    throw new FeedFormatError(feed, document, 'the document is empty', `Download it again; an empty answer usually means the transfer failed. ${KEPT}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const position = /at position (\d+)/.exec(message);
    const truncated = /end of JSON input|Unterminated string/.test(message) || (position !== null && Number(position[1]) >= text.length);
    if (truncated) {
      throw new FeedFormatError(feed, document, `the document ends before its JSON is complete (${text.length} characters read): the download was cut short`,
        `Download it again. ${KEPT}`);
    }
    throw new FeedFormatError(feed, document, `the document is not JSON (${message})`,
      `Check the ${FEEDS[feed].setting} setting: it must point at the feed itself. ${KEPT}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw notTheFormat(feed, document, `its top level is ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}, not an object`);
  }
  return value as Record<string, unknown>;
}

/** Valid JSON that is some other document. */
export function notTheFormat(feed: FeedName, document: string, problem: string): FeedFormatError {
  return new FeedFormatError(feed, document, `this is not a document of the ${FEEDS[feed].label} feed: ${problem}`,
    `Check the ${FEEDS[feed].setting} setting: it must point at the feed's base address. ${KEPT}`);
}

// ── Tolerant accessors: feeds omit fields, send null, or one object instead of a list ──────────

export type Json = Record<string, unknown>;

export function object(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Json : undefined;
}

export function list(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === null ? [] : [value];
}

/** A trimmed non-empty string, or null. Numbers are read as their text. */
export function string(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/** CVRF wraps most text as `{"Value": "…"}`; plain strings are accepted too. */
export function valueText(value: unknown): string | null {
  return string(object(value)?.Value ?? value);
}

export function number(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

export function strings(value: unknown): string[] {
  return list(value).map(string).filter((s): s is string => s !== null);
}

/**
 * ISO-8601 UTC, second precision. Feeds send zone-less times (MSRC `2024-03-12T07:00:00`, NVD
 * `2024-01-05T12:00:00.000`): those are UTC. Null for absent or unreadable values.
 */
export function isoTimestamp(value: unknown): string | null {
  const text = string(value);
  if (text === null) return null;
  const zoned = /([zZ]|[+-]\d{2}:?\d{2})$/.test(text) ? text : /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : `${text}Z`;
  const time = Date.parse(zoned);
  return Number.isNaN(time) ? null : new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A calendar date `yyyy-mm-dd`, or null. */
export function isoDate(value: unknown): string | null {
  const text = string(value);
  if (text === null || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
  return Number.isNaN(Date.parse(`${text}T00:00:00Z`)) ? null : text;
}

/** The fields of one CSV line: comma separated, optionally double-quoted with `""` escapes. */
export function csvFields(line: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let field = '';
      i++;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote < 0) return null;
        field += line.slice(i, quote);
        if (line[quote + 1] === '"') {
          field += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      fields.push(field);
    } else {
      const comma = line.indexOf(',', i);
      fields.push(line.slice(i, comma < 0 ? line.length : comma));
      i = comma < 0 ? line.length : comma;
    }
    if (i >= line.length) return fields;
    if (line[i] !== ',') return null;
    i++;
  }
}

/** Collects what a parser skips, with where it was. */
export class SkipLog {
  readonly items: Skipped[] = [];

  add(where: string, reason: string): void {
    this.items.push({ where, reason });
  }
}

/** A value quoted for a skip reason, shortened so one huge field cannot flood the import record. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
