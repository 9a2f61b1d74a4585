// A PostgreSQL database of its own for a test (or a benchmark): created on the server
// SITEPATCH_TEST_DATABASE_URL names (.ci/run starts one and sets it), dropped after. Without the
// variable the PostgreSQL tests are skipped, except in CI, where its absence fails them.

import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_URL = process.env.SITEPATCH_TEST_DATABASE_URL;

/** How a PostgreSQL test starts: skipped (with the reason) outside CI when no server is set up. */
export const postgresSkip = POSTGRES_URL || process.env.CI ? false : 'SITEPATCH_TEST_DATABASE_URL is not set (.ci/run sets it)';

/** The stores a test that runs on both runs on: the embedded default, and PostgreSQL (skipped as above). */
export type TestStore = 'embedded' | 'postgres';
export const TEST_STORES = [
  { store: 'embedded', label: 'embedded store', skip: false },
  { store: 'postgres', label: 'PostgreSQL', skip: postgresSkip },
] as const satisfies readonly { store: TestStore; label: string; skip: string | false }[];

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new database on the server `serverUrl` names (its role may create databases). */
export async function createTestDatabase(serverUrl = POSTGRES_URL, prefix = 'sitepatch_test'): Promise<TestDatabase> {
  if (!serverUrl) throw new Error('SITEPATCH_TEST_DATABASE_URL is not set: CI runs the PostgreSQL tests against the server .ci/run starts.');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        // Not WITH (FORCE): that refuses when an autovacuum worker is on the database. DROP itself
        // stops autovacuum; the test's own sessions (a killed worker's, say) are ended first.
        for (let attempt = 1; ; attempt++) {
          await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND usename = current_user AND pid <> pg_backend_pid()', [name]);
          try {
            await client.query(`DROP DATABASE IF EXISTS ${name}`);
            return;
          } catch (e) {
            // 55006: still in use, by a session that was ending.
            if ((e as { code?: string }).code !== '55006' || attempt === 20) throw e;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
      } finally {
        await client.end();
      }
    },
  };
}
