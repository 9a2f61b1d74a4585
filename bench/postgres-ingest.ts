// The PostgreSQL side of the ingest benchmark (`--store postgres`): the same export files, read by
// the same parser threads, staged through COPY and applied set-based into a fresh database on the
// server `--database-url` (or SITEPATCH_BENCH_DATABASE_URL) names; the role must be allowed to
// create databases. It times the first load and, after one advance, the load of the next snapshot
// (the PostgreSQL store has no delta yet), and drops the database after.

import { readFileSync } from 'node:fs';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { readExportFiles } from '../src/defender/export-files.js';
import { ensureTenantPartitions, migratePostgresFindings } from '../src/store/postgres/findings-schema.js';
import { PostgresRunWriter, type PackedTexts } from '../src/store/postgres/sync-load.js';
import { ParserThreads } from '../src/sync/parser-threads.js';
import type { WriteCounts } from '../src/sync/run-writer.js';
import { createTestDatabase } from '../test/helpers/postgres.js';
import { peakRssMb, secondsSince, type EmulatorProcess } from './tenant.js';

export interface PostgresIngest {
  fullSeconds: number;
  findingsPerSec: number;
  nextSnapshotSeconds: number;
  nextSnapshotChanged: number;
  peakRssMb: number;
}

export async function measurePostgresIngest(emulator: EmulatorProcess, serverUrl: string, advance: () => Promise<void>): Promise<PostgresIngest> {
  const database = await createTestDatabase(serverUrl, 'sitepatch_bench');
  try {
    const pool = new pg.Pool({ connectionString: database.url });
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    const threads = new ParserThreads();
    try {
      await migratePostgresFindings(db);
      const tenant = (await sql<{ ref: number }>`INSERT INTO vuln.tenant (connection_id) VALUES ('bench') RETURNING ref`.execute(db)).rows[0].ref;
      await ensureTenantPartitions(db, tenant);
      const extraCaPem = readFileSync(emulator.info.caFile, 'utf8');

      const loadSnapshot = async (): Promise<WriteCounts> => {
        const token = await emulator.defenderToken();
        const { exportFiles, generatedTime } = await (await emulator.get(`${emulator.info.apiUrl}/api/machines/SoftwareVulnerabilitiesExport`, token)).body.json() as { exportFiles: string[]; generatedTime: string };
        const writer = new PostgresRunWriter(pool, tenant, `bench-${generatedTime}`);
        await writer.begin();
        writer.beginSnapshot();
        const at = Date.parse(generatedTime) / 1000;
        const streams: PackedTexts[] = [];
        try {
          await readExportFiles({
            urls: exportFiles, refreshUrls: async () => exportFiles, extraCaPem, maxAttempts: 3, timeScale: 1, threads,
            onBatch: (batch, thread) => writer.packed(streams[thread] ??= writer.newStream(), batch, at),
            onPartDone: () => undefined, onWait: () => undefined,
          });
          await writer.closeUnseen(at);
          await writer.commit();
        } catch (e) {
          await writer.rollback();
          throw e;
        }
        return writer.counts;
      };

      let started = performance.now();
      const full = await loadSnapshot();
      const fullSeconds = secondsSince(started);
      // As on SQLite, the next run starts once the load has settled (PostgreSQL's autovacuum and statistics).
      await sql`VACUUM ANALYZE vuln.finding`.execute(db);
      await advance();
      started = performance.now();
      const next = await loadSnapshot();
      const nextSnapshotSeconds = secondsSince(started);
      return {
        fullSeconds: Number(fullSeconds.toFixed(2)), findingsPerSec: Math.round(full.read / fullSeconds),
        nextSnapshotSeconds: Number(nextSnapshotSeconds.toFixed(2)), nextSnapshotChanged: next.added + next.updated + next.reopened + next.fixed,
        peakRssMb: peakRssMb(),
      };
    } finally {
      await threads.close();
      await db.destroy();
    }
  } finally {
    await database.drop();
  }
}
