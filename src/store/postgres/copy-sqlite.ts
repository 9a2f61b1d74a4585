// Rows of an SQLite query into a PostgreSQL table with COPY, streamed (migrate-store.ts copies an
// embedded install with it; content-replica.ts publishes the patch knowledge).

import { once } from 'node:events';
import type SQLite from 'better-sqlite3';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyText } from './sync-load.js';

const COPY_CHUNK = 1 << 20;

/** A value in COPY's text format (bytes as bytea's hex form). */
function copyValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'string') return copyText(value);
  if (Buffer.isBuffer(value)) return `\\\\x${value.toString('hex')}`;
  return String(value);
}

/** Streams the rows of `query` (its columns in `columns`' order) into `target`; answers how many it sent. */
export async function copySqliteRows(client: pg.Client | pg.PoolClient, source: SQLite.Database, query: string, columns: string[], target: string,
  onRows: (n: number) => void = () => undefined): Promise<number> {
  const stream = client.query(copyFrom(`COPY ${target} (${columns.map((c) => `"${c}"`).join(', ')}) FROM STDIN`));
  const done = once(stream, 'finish');
  done.catch(() => undefined); // awaited below, or given up for the error it carries
  let failed: Error | undefined;
  stream.on('error', (e: Error) => { failed = e; });
  let sent = 0;
  let chunk = '';
  for (const row of source.prepare(query).raw(true).iterate() as IterableIterator<unknown[]>) {
    chunk += `${row.map(copyValue).join('\t')}\n`;
    sent++;
    if (chunk.length >= COPY_CHUNK) {
      if (failed) break;
      if (!stream.write(chunk)) await once(stream, 'drain');
      chunk = '';
      onRows(sent);
    }
  }
  if (failed) throw new Error(`Copying into ${target} failed: ${failed.message}`);
  stream.end(chunk);
  try {
    await done;
  } catch (e) {
    throw new Error(`Copying into ${target} failed: ${(e as Error).message}`);
  }
  onRows(sent);
  return sent;
}
