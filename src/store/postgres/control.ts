// The PostgreSQL store (SITEPATCH_DATABASE_URL=postgres://…), through `pg` and Kysely's Postgres
// dialect. So far it holds the control plane, the tables of sitepatch.db (accounts, sessions,
// tokens, connections, audit, sync runs, settings, risk exceptions), migrated by the very
// migrations the embedded store runs (src/store/dialect.ts says what differs). The findings, their
// read models and the patch knowledge follow (issue 15).

import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrate } from '../database.js';
import { migrations } from '../migrations.js';
import type { Database } from '../schema.js';

// COUNT(*) and other 64-bit integers arrive as text by default: as numbers, they are what SQLite
// gives (every count SitePatch keeps fits a double exactly).
pg.types.setTypeParser(pg.types.builtins.INT8, (text) => Number(text));

export interface PostgresControlStore {
  db: Kysely<Database>;
  /** What keeps the store from serving: the server does not answer, or the migrations are not this build's. */
  readinessProblems(): Promise<string[]>;
  close(): Promise<void>;
}

/** Connects to `url`, migrates the control-plane tables to this build, and returns the store. */
export async function openPostgresControlStore(url: string): Promise<PostgresControlStore> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let migrator;
  try {
    migrator = await migrate(db, migrations, 'the PostgreSQL store');
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return {
    db,
    async readinessProblems() {
      try {
        const applied = new Set((await migrator.getMigrations()).filter((m) => m.executedAt).map((m) => m.name));
        const pending = Object.keys(migrations).filter((name) => !applied.has(name));
        return pending.length ? [`the PostgreSQL store lacks the migrations ${pending.join(', ')}: restart SitePatch to apply them`] : [];
      } catch (e) {
        return [`the PostgreSQL store does not answer: ${(e as Error).message}`];
      }
    },
    close: () => db.destroy(),
  };
}
