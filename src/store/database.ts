// The embedded store: SQLite in WAL mode through better-sqlite3, queried with Kysely. Versioned
// migrations run at start, each in a transaction.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Migration } from 'kysely';
import { migrations } from './migrations.js';
import type { Database } from './schema.js';

export interface Store {
  db: Kysely<Database>;
  sqlite: SQLite.Database;
  close(): Promise<void>;
}

export async function openStore(dataDir: string): Promise<Store> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const sqlite = new SQLite(path.join(dataDir, 'sitepatch.db'));
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations as Record<string, Migration> },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    await db.destroy();
    throw new Error(`Database migration ${failed ?? ''} failed: ${(error as Error).message}`);
  }
  return { db, sqlite, close: () => db.destroy() };
}
