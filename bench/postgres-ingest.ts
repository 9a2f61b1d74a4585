// The PostgreSQL side of the ingest benchmark (`--store postgres`): the sync engine itself, with
// the same parser threads, writing into a fresh database on the server `--database-url` (or
// SITEPATCH_BENCH_DATABASE_URL) names; the role must be allowed to create databases. It times the
// first full sync and, after one advance, the delta, and drops the database after. The api
// benchmark loads its PostgreSQL tenant with the same runs (postgresSyncRuns).

import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { createDispatcher } from '../src/net/dispatcher.js';
import { openPostgresStore, type PostgresStore } from '../src/store/postgres/store.js';
import { executeRun, type EngineContext } from '../src/sync/engine.js';
import { ParserThreads } from '../src/sync/parser-threads.js';
import type { WriteCounts } from '../src/sync/run-writer.js';
import { createRunLog, type SyncKind } from '../src/sync/runs.js';
import { createTestDatabase } from '../test/helpers/postgres.js';
import { peakRssMb, secondsSince, type EmulatorProcess } from './tenant.js';

export interface PostgresIngest {
  fullSeconds: number;
  findingsPerSec: number;
  deltaSeconds: number;
  deltaChanged: number;
  peakRssMb: number;
}

/** Sync runs of the emulated tenant into a PostgreSQL store through the sync engine itself, timed. */
export function postgresSyncRuns(store: PostgresStore, emulator: EmulatorProcess, connectionId: string) {
  const extraCaPem = readFileSync(emulator.info.caFile, 'utf8');
  const engine: EngineContext = {
    openWriter: store.openWriter, runs: createRunLog(store.db), parserThreads: new ParserThreads(), dispatcher: createDispatcher({ extraCaPem }),
    extraCaPem, timeScale: 1, maxAttempts: 3,
  };
  const { info } = emulator;
  const credentials = {
    name: 'bench', cloud: 'custom' as const, tenantId: info.tenantId, clientId: info.apps.consented.clientId, clientSecret: info.apps.consented.secretValue,
    loginUrl: info.loginUrl, apiUrl: info.apiUrl, syncIntervalMinutes: 360, exportMethod: 'files' as const,
  };
  return {
    async run(requested: SyncKind): Promise<{ counts: WriteCounts; seconds: number }> {
      const runId = await engine.runs.create(connectionId, requested, 'bench');
      const started = performance.now();
      const result = await executeRun(engine, { runId, connectionId, requested, credentials });
      if (!result.ok) throw new Error(`${requested} sync into PostgreSQL failed: ${result.diagnosis.message}`);
      await engine.runs.finish(runId, { counts: result.counts });
      return { counts: result.counts, seconds: secondsSince(started) };
    },
    async close(): Promise<void> {
      await engine.parserThreads.close();
      await engine.dispatcher.close();
    },
  };
}

export async function measurePostgresIngest(emulator: EmulatorProcess, serverUrl: string, advance: () => Promise<void>): Promise<PostgresIngest> {
  const database = await createTestDatabase(serverUrl, 'sitepatch_bench');
  try {
    const store = await openPostgresStore(database.url);
    const runs = postgresSyncRuns(store, emulator, 'bench');
    try {
      const full = await runs.run('full');
      // As on SQLite, the next run starts once the load has settled (PostgreSQL's autovacuum and statistics).
      await sql`VACUUM ANALYZE vuln.finding`.execute(store.db);
      await advance();
      const delta = await runs.run('delta');
      return {
        fullSeconds: Number(full.seconds.toFixed(2)), findingsPerSec: Math.round(full.counts.read / full.seconds),
        deltaSeconds: Number(delta.seconds.toFixed(2)), deltaChanged: delta.counts.added + delta.counts.updated + delta.counts.reopened + delta.counts.fixed,
        peakRssMb: peakRssMb(),
      };
    } finally {
      await runs.close();
      await store.close();
    }
  } finally {
    await database.drop();
  }
}
