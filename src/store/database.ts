// The embedded store: SQLite in WAL mode through better-sqlite3, queried with Kysely. Three files:
// sitepatch.db (accounts, connections, audit, sync runs), findings.db (the exposure copy) and
// content.db (the patch knowledge). The sync writes findings.db, and content imports content.db,
// each through its own connection; the main connection reads them attached as `vuln` and
// `content`, so a running sync or import never blocks the console. Versioned migrations run at start.

import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import type SQLite from 'better-sqlite3';
import { SqliteDatabase } from './sqlite-driver.js';
import { Kysely, Migrator, SqliteDialect, type Migration } from 'kysely';
import { contentMigrations } from './content-migrations.js';
import { findingsMigrations } from './findings-migrations.js';
import { migrations } from './migrations.js';
import type { Database, FindingsDatabase } from './schema.js';
import { WalCheckpointer } from './wal-checkpointer.js';

export interface Store {
  db: Kysely<Database>;
  sqlite: SQLite.Database;
  /** The writer connection of findings.db (used by the sync only). */
  findings: SQLite.Database;
  findingsFile: string;
  /** The writer connection of content.db (used by content imports only). */
  content: SQLite.Database;
  /** Folds findings.db's write-ahead log into the database in the background; settles when done. */
  checkpointFindings(): Promise<void>;
  /** What keeps the store from serving: a database that does not answer, or whose migrations are not this build's. */
  readinessProblems(): string[];
  close(): Promise<void>;
}

/**
 * Creates `file` readable and writable by its owner only, or tightens it (and its log files) to
 * that: the files hold accounts, sealed secrets and tenant data, whatever the data directory's mode.
 * SQLite gives the -wal and -shm files it creates the main file's mode.
 */
function ownerOnly(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

export function openSqlite(file: string): SQLite.Database {
  ownerOnly(file);
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 10000');
  return sqlite;
}

/** Applies `list`'s migrations not yet applied to `db` (`what` names it in the error). */
export async function migrate<T>(db: Kysely<T>, list: Record<string, Migration>, what: string, migrationTableSchema?: string): Promise<Migrator> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => list }, migrationTableSchema });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`Migration ${failed ?? ''} of ${what} failed: ${(error as Error).message}`);
  }
  return migrator;
}

export async function openStore(dataDir: string): Promise<Store> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const mainFile = path.join(dataDir, 'sitepatch.db');
  const findingsFile = path.join(dataDir, 'findings.db');
  const contentFile = path.join(dataDir, 'content.db');

  const findings = openSqlite(findingsFile);
  // A 128 MB page cache: a sync writes in one transaction, and once its dirty pages outgrow the
  // cache SQLite spills them to the log mid-transaction; the CVE index takes its rows in random
  // order, so a first load of 1M findings spills (and costs a quarter more) with 32 MB.
  findings.pragma('cache_size = -131072');
  // Checkpoints run on a worker thread (checkpointFindings), not inside the sync's commit; once a
  // checkpoint has emptied the log, its file shrinks back to this size.
  findings.pragma('wal_autocheckpoint = 0');
  findings.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  const findingsKysely = new Kysely<FindingsDatabase>({ dialect: new SqliteDialect({ database: findings }) });
  const content = openSqlite(contentFile);
  const sqlite = openSqlite(mainFile);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  try {
    await migrate(findingsKysely, findingsMigrations, findingsFile);
    await migrate(new Kysely<unknown>({ dialect: new SqliteDialect({ database: content }) }), contentMigrations, contentFile);
    await migrate(db, migrations, mainFile);
    sqlite.prepare('ATTACH DATABASE ? AS vuln').run(findingsFile);
    sqlite.prepare('ATTACH DATABASE ? AS content').run(contentFile);
  } catch (e) {
    sqlite.close();
    findings.close();
    content.close();
    throw e;
  }
  const checkpointer = new WalCheckpointer(findingsFile);
  const files: [string, SQLite.Database, Record<string, Migration>][] = [
    ['sitepatch.db', sqlite, migrations], ['findings.db', findings, findingsMigrations], ['content.db', content, contentMigrations],
  ];
  return {
    db, sqlite, findings, findingsFile, content,
    checkpointFindings: () => checkpointer.request(),
    readinessProblems: () => files.flatMap(([name, database, list]) => migrationProblems(name, database, list)),
    async close() {
      await checkpointer.close();
      await db.destroy();
      // The last connection to close folds what is left of the log into the database.
      findings.close();
      content.close();
    },
  };
}

/** Why a database cannot serve this build: it does not answer, or its applied migrations differ from the build's. */
export function migrationProblems(name: string, database: SQLite.Database, list: Record<string, Migration>): string[] {
  let applied: string[];
  try {
    applied = database.prepare('SELECT name FROM kysely_migration').pluck().all() as string[];
  } catch (e) {
    return [`${name} does not answer: ${(e as Error).message}`];
  }
  const known = Object.keys(list);
  const pending = known.filter((migration) => !applied.includes(migration));
  const unknown = applied.filter((migration) => !known.includes(migration));
  return [
    ...(pending.length ? [`${name} lacks the migrations ${pending.join(', ')}: restart SitePatch to apply them`] : []),
    ...(unknown.length ? [`${name} was migrated by a newer SitePatch (${unknown.join(', ')}): run that version`] : []),
  ];
}
