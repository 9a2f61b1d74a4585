// A findings CSV export on a thread of its own: it reads and formats rows (csvPages, over its own
// connection to findings.db or PostgreSQL) while the server's thread only sends them, so an export leaves the
// event loop free for everyone else's requests. A large export in id order is split into blocks of
// ids that two workers format side by side (finding-export.ts joins them in order). The parent
// grants credits: a worker is at most a few chunks ahead of the socket.

import type SQLite from 'better-sqlite3';
import { SqliteDatabase } from '../store/sqlite-driver.js';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import '../store/postgres/pg-types.js';
import { parentPort, workerData } from 'node:worker_threads';
import { DataVersionCache } from './cache.js';
import { FindingCsvLines } from './exports.js';
import { createFindingQueries, type FindingFilter, type IdRange } from './findings.js';
import type { ArrayRows } from './paging.js';
import type { TenantScope } from './scope.js';

export interface FindingExportJob {
  /** The exposure copy: findings.db, or the PostgreSQL store (its URL, which stays in memory). */
  source: { findingsFile: string } | { databaseUrl: string };
  scope: TenantScope;
  filter: FindingFilter;
  /** The blocks of ids this worker formats, in order; null: every finding, in the filter's order. */
  blocks: IdRange[] | null;
}

/** Worker → parent: a chunk of CSV lines (UTF-8, each line ending in CRLF), the end of a block, the end, or a failure. */
export type FindingExportMessage = { chunk: Uint8Array } | { blockDone: true } | { done: true } | { error: string };

/** Chunks a worker sends before the parent has asked for them. */
const CHUNKS_AHEAD = 4;
/** Bytes per chunk: the lines are written straight into it, with no page-sized string to join and encode. */
const CHUNK_BYTES = 1 << 20;

async function run(job: FindingExportJob): Promise<void> {
  const port = parentPort!;
  const { db, arrays, close } = 'databaseUrl' in job.source ? postgresReader(job.source.databaseUrl) : sqliteReader(job.source.findingsFile);
  const findings = createFindingQueries(db, new DataVersionCache(() => 0), arrays);

  let credits = CHUNKS_AHEAD;
  let granted: (() => void) | undefined;
  port.on('message', () => {
    credits++;
    granted?.();
  });
  let chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  let used = 0;
  const flush = async () => {
    if (!used) return;
    while (credits === 0) await new Promise<void>((resolve) => { granted = resolve; });
    credits--;
    const sent = new Uint8Array(chunk.buffer, chunk.byteOffset, used);
    port.postMessage({ chunk: sent } satisfies FindingExportMessage, [sent.buffer as ArrayBuffer]);
    chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    used = 0;
  };
  const send = async (pages: AsyncGenerator<string[]>) => {
    for await (const lines of pages) {
      for (const line of lines) {
        // A UTF-16 code unit takes at most 3 bytes of UTF-8; a line longer than a chunk gets a chunk of its own.
        const room = 3 * line.length + 2;
        if (used + room > chunk.length) {
          await flush();
          if (room > chunk.length) chunk = Buffer.allocUnsafeSlow(room);
        }
        used += chunk.write(line, used);
        chunk[used++] = 13;
        chunk[used++] = 10;
      }
    }
    await flush();
  };
  try {
    if (!job.blocks) await send(findings.csvPages(job.scope, job.filter));
    const lines = new FindingCsvLines(db, arrays, job.scope);
    for (const block of job.blocks ?? []) {
      await send(findings.csvPages(job.scope, job.filter, block, lines));
      port.postMessage({ blockDone: true } satisfies FindingExportMessage);
    }
    port.postMessage({ done: true } satisfies FindingExportMessage);
  } catch (error) {
    port.postMessage({ error: (error as Error).message } satisfies FindingExportMessage);
  } finally {
    await close();
    port.close();
  }
}

interface Reader {
  db: Kysely<any>;
  arrays: ArrayRows;
  close(): Promise<void>;
}

function sqliteReader(findingsFile: string): Reader {
  const sqlite = new SqliteDatabase(':memory:');
  sqlite.prepare('ATTACH DATABASE ? AS vuln').run(findingsFile);
  sqlite.pragma('query_only = true');
  // As the server's own connection: wait out a checkpoint that holds the log (else SQLITE_BUSY ends the export).
  sqlite.pragma('busy_timeout = 10000');
  // Statements by SQL: every page of a range runs the same one (the cap bounds the lookups' IN lists).
  const statements = new Map<string, SQLite.Statement>();
  return {
    db: new Kysely<any>({ dialect: new SqliteDialect({ database: sqlite }) }),
    async arrays(query) {
      let statement = statements.get(query.sql);
      if (!statement) {
        if (statements.size >= 64) statements.clear();
        statements.set(query.sql, statement = sqlite.prepare(query.sql).raw(true));
      }
      return statement.all(...query.parameters) as unknown[][];
    },
    close: async () => { sqlite.close(); },
  };
}

function postgresReader(databaseUrl: string): Reader {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    arrays: async (query) => (await pool.query({ text: query.sql, values: query.parameters as unknown[], rowMode: 'array' })).rows,
    close: () => db.destroy(),
  };
}

void run(workerData as FindingExportJob);
