// Lists as CSV downloads: rows streamed page by page (constant memory, whatever the list's size),
// a header row, a UTF-8 byte-order mark so that Excel reads the characters right, and cells that a
// spreadsheet would run as a formula neutralised (OWASP CSV injection).

import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { FastifyReply } from 'fastify';

/** A cell beginning with = + - @ tab or carriage return is prefixed with a quote. */
export const spreadsheetSafe = (text: string) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);

/** Sends `pages` (each an array of rows) as a CSV attachment named `name`-YYYY-MM-DD.csv. */
export function sendCsv<Row extends object>(reply: FastifyReply, name: string, columns: (keyof Row & string)[], pages: AsyncIterable<Row[]>): FastifyReply {
  const csv = stringify({ header: true, columns, bom: true, cast: { string: spreadsheetSafe, object: (value) => spreadsheetSafe(JSON.stringify(value)) } });
  Readable.from((async function* rows() {
    for await (const page of pages) yield* page;
  })(), { objectMode: true }).on('error', (e) => csv.destroy(e)).pipe(csv);
  return reply.type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}-${new Date().toISOString().slice(0, 10)}.csv"`)
    .send(csv);
}
