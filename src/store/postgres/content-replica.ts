// The patch knowledge of a PostgreSQL install. Its tables live in PostgreSQL (schema `content`,
// findings-schema.ts's 0004), shared by every process; each process reads a replica of them, an
// SQLite file in its data directory that the knowledge (src/content/knowledge.ts) queries exactly
// as on the embedded store. An import runs the same importers on the replica, under a lock that
// lets one process import at a time: it brings the replica up to date, applies the feed in the
// replica's transaction, then publishes the replica's tables to PostgreSQL in one transaction and
// moves `content.version`, which tells the other processes to bring theirs up to date.

import path from 'node:path';
import type SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type pg from 'pg';
import { contentMigrations } from '../content-migrations.js';
import { migrate, openSqlite } from '../database.js';
import { SqliteDatabase } from '../sqlite-driver.js';
import { copySqliteRows } from './copy-sqlite.js';

/** The tables of the knowledge, and their columns (as both stores name them). */
const TABLES: Record<string, string[]> = {
  feed_document: ['source', 'document', 'version', 'imported_at'],
  feed_cursor: ['source', 'cursor'],
  msrc_product: ['product_id', 'name', 'family'],
  msrc_fix: ['document', 'cve', 'product_id', 'kb', 'fixed_build', 'sub_type', 'url', 'released'],
  msrc_supersedence: ['document', 'product_id', 'kb', 'superseded_kb'],
  redhat_state: ['cve', 'package', 'stream', 'rhel_major', 'rhel_minor', 'stream_kind', 'state', 'reason', 'fixed_version', 'advisory'],
  redhat_binary: ['binary', 'source'],
  ubuntu_fix: ['advisory', 'cve', 'release', 'package', 'source_package', 'fixed_version', 'pro_required', 'published'],
  nvd_cve: ['cve', 'status', 'last_modified', 'not_yet_known'],
  nvd_range: ['cve', 'product_key', 'version', 'start_including', 'start_excluding', 'end_including', 'end_excluding'],
  kev: ['cve', 'date_added', 'due_date', 'ransomware', 'vendor_project', 'product', 'name'],
};
const quoted = (columns: string[]) => columns.map((c) => `"${c}"`).join(', ');
/** The advisory lock key of content imports (any constant the install uses for nothing else). */
const IMPORT_LOCK = 0x5173_636f;
const PULL_BATCH = 500;

export interface ContentReplica {
  /** The replica's writer connection (the importers write through it, in its transaction). */
  writer: SQLite.Database;
  /** A connection that reads the replica attached as `content` (the knowledge's). */
  reader: SQLite.Database;
  /** Brings the replica up to date when another process has published since. */
  catchUp(): Promise<void>;
  /** Runs `work` (an import) alone across the install, on an up-to-date replica; publishes what it committed. */
  exclusively(work: () => Promise<void>): Promise<void>;
  close(): void;
}

export async function openContentReplica(pool: pg.Pool, dataDir: string): Promise<ContentReplica> {
  const file = path.join(dataDir, 'content-replica.db');
  const writer = openSqlite(file);
  await migrate(new Kysely<unknown>({ dialect: new SqliteDialect({ database: writer }) }), contentMigrations, file);
  const reader = new SqliteDatabase(':memory:');
  reader.prepare('ATTACH DATABASE ? AS content').run(file);
  /** The published version the replica holds (-1: none yet; every start reads it once). */
  let held = -1;
  let pulling: Promise<void> | undefined;
  /** An import of this process holds the lock: it brings the replica up to date itself, and nothing is published meanwhile. */
  let importing = false;

  const published = async (client: pg.Pool | pg.PoolClient) => Number((await client.query<{ version: number }>('SELECT version FROM content.version')).rows[0].version);

  /** Replaces the replica's tables with PostgreSQL's, in one replica transaction. */
  async function pull(client: pg.Pool | pg.PoolClient, version: number, forImport = false): Promise<void> {
    const rows: Record<string, unknown[][]> = {};
    for (const [table, columns] of Object.entries(TABLES)) {
      rows[table] = (await client.query({ text: `SELECT ${quoted(columns)} FROM content.${table}`, rowMode: 'array' })).rows;
    }
    // An import began while the rows were read: its transaction is the writer's now.
    if (importing && !forImport) return;
    writer.transaction(() => {
      for (const [table, columns] of Object.entries(TABLES)) {
        writer.prepare(`DELETE FROM ${table}`).run();
        const insert = (n: number) => writer.prepare(`INSERT INTO ${table} (${quoted(columns)}) VALUES ${Array(n).fill(`(${columns.map(() => '?').join(', ')})`).join(', ')}`);
        const full = insert(PULL_BATCH);
        const all = rows[table];
        let at = 0;
        for (; at + PULL_BATCH <= all.length; at += PULL_BATCH) full.run(...all.slice(at, at + PULL_BATCH).flat());
        if (at < all.length) insert(all.length - at).run(...all.slice(at).flat());
      }
    })();
    held = version;
  }

  async function catchUp(): Promise<void> {
    if (importing) return;
    while (pulling) await pulling;
    const version = await published(pool);
    if (version === held) return;
    pulling = pull(pool, version).finally(() => { pulling = undefined; });
    await pulling;
  }

  return {
    writer, reader, catchUp,
    async exclusively(work) {
      const client = await pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [IMPORT_LOCK]);
        importing = true;
        try {
          while (pulling) await pulling;
          const version = await published(client);
          if (version !== held) await pull(client, version, true);
          await work();
          await client.query('BEGIN');
          try {
            await client.query(`TRUNCATE ${Object.keys(TABLES).map((t) => `content.${t}`).join(', ')}`);
            for (const [table, columns] of Object.entries(TABLES)) await copySqliteRows(client, writer, `SELECT ${quoted(columns)} FROM ${table}`, columns, `content.${table}`);
            const { rows: [next] } = await client.query<{ version: number }>('UPDATE content.version SET version = version + 1 RETURNING version');
            await client.query('COMMIT');
            held = Number(next.version);
          } catch (e) {
            await client.query('ROLLBACK').catch(() => undefined);
            // The replica holds what was not published: read PostgreSQL's again before the next use.
            held = -1;
            throw e;
          }
        } finally {
          importing = false;
          await client.query('SELECT pg_advisory_unlock($1)', [IMPORT_LOCK]);
        }
      } finally {
        client.release();
      }
    },
    close() {
      reader.close();
      writer.close();
    },
  };
}
