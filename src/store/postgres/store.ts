// The PostgreSQL store (SITEPATCH_DATABASE_URL=postgres://…), through `pg` and Kysely's Postgres
// dialect, for installs that outgrow one machine. It holds the control plane, the tables of
// sitepatch.db (accounts, sessions, tokens, connections, audit, sync runs, settings, risk
// exceptions), migrated by the very migrations the embedded store runs (src/store/dialect.ts says
// what differs), and the exposure copy in the `vuln` schema, partitioned by tenant
// (findings-schema.ts), which sync runs write through sync-load.ts with its exposure read models.
// The remediation and SLA read models and the patch knowledge follow (issue 15).

import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import './pg-types.js';
import { migrate } from '../database.js';
import { migrations } from '../migrations.js';
import type { Database } from '../schema.js';
import { migratePostgresFindings, purgePostgresTenant } from './findings-schema.js';
import { PostgresRunWriter, postgresTenantRef } from './sync-load.js';


export interface PostgresStore {
  /** Where the store is (with its credentials: never to be shown or logged). */
  url: string;
  pool: pg.Pool;
  db: Kysely<Database>;
  /** The writer of a sync run into the exposure copy. */
  openWriter(connectionId: string, runId: string): Promise<PostgresRunWriter>;
  /** Moves whenever a sync or purge commits to the exposure copy. */
  dataVersion(): Promise<number>;
  /** Runs a compiled query; its rows as arrays of column values. */
  arrays(query: CompiledQuery): Promise<unknown[][]>;
  /** Removes a removed connection's exposure copy; answers how many findings it held. */
  purge(connectionId: string): Promise<number>;
  /** What keeps the store from serving: the server does not answer, or the migrations are not this build's. */
  readinessProblems(): Promise<string[]>;
  close(): Promise<void>;
}

/** Connects to `url`, migrates the store to this build, and returns it. */
export async function openPostgresStore(url: string, poolSize = 10): Promise<PostgresStore> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let migrators;
  try {
    await pool.query('SELECT 1').catch((e: Error) => {
      // The address without the credentials: the URL may hold a password.
      const { hostname, port, pathname } = new URL(url);
      throw new Error(`Cannot reach the PostgreSQL store at ${hostname}:${port || 5432}${pathname} (SITEPATCH_DATABASE_URL): ${e.message}`);
    });
    migrators = [await migrate(db, migrations, 'the PostgreSQL store'), await migratePostgresFindings(db)];
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return {
    url, pool, db,
    openWriter: async (connectionId, runId) => new PostgresRunWriter(pool, await postgresTenantRef(db, connectionId), runId),
    dataVersion: async () => (await pool.query<{ version: number }>('SELECT version FROM vuln.data_version')).rows[0].version,
    arrays: async (query) => (await pool.query({ text: query.sql, values: query.parameters as unknown[], rowMode: 'array' })).rows,
    purge: (connectionId) => purgePostgresTenant(db, connectionId),
    async readinessProblems() {
      try {
        const pending = [];
        for (const migrator of migrators) pending.push(...(await migrator.getMigrations()).filter((m) => !m.executedAt).map((m) => m.name));
        return pending.length ? [`the PostgreSQL store lacks the migrations ${pending.join(', ')}: restart SitePatch to apply them`] : [];
      } catch (e) {
        return [`the PostgreSQL store does not answer: ${(e as Error).message}`];
      }
    },
    close: () => db.destroy(),
  };
}
