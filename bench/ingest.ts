// Ingest benchmark: the emulator (a separate process) serves a tenant of N devices over loopback.
// In one run it times the parse floor (download + gunzip + line split + JSON.parse of the same
// export files, no store), SitePatch's full sync into SQLite, and a delta sync after one advance;
// with `--store postgres`, then the same full sync and delta into PostgreSQL (postgres-ingest.ts).

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { measurePostgresIngest } from './postgres-ingest.js';
import { measureSlaStep } from './sla-step.js';
import { connectToEmulator, openBenchServices, peakRssMb, startEmulatorProcess } from './tenant.js';

export async function benchIngest({ devices = 20_000, store = 'sqlite', databaseUrl }: { devices?: number; store?: string; databaseUrl?: string }): Promise<Record<string, unknown>> {
  if (store !== 'sqlite' && store !== 'postgres') throw new Error(`--store is sqlite or postgres, not '${store}'.`);
  if (store === 'postgres' && !databaseUrl) throw new Error('--store postgres needs --database-url postgres://… (or SITEPATCH_BENCH_DATABASE_URL): a server where the role may create databases.');
  console.log(`Ingest benchmark: ${devices.toLocaleString()} devices${store === 'postgres' ? ', SQLite and PostgreSQL' : ''}`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-bench-'));
  const emulator = await startEmulatorProcess(devices, path.join(work, 'emulator'));
  const { info, get } = emulator;
  try {
    /** Has the emulator write the current snapshot's export files, so no sync below times their making. */
    const generateExport = async () => {
      const token = await emulator.defenderToken();
      const { exportFiles } = await (await get(`${info.apiUrl}/api/machines/SoftwareVulnerabilitiesExport`, token)).body.json() as { exportFiles: string[] };
      const begun = performance.now();
      for (const file of exportFiles) await (await get(file)).body.dump({ limit: Infinity });
      console.log(`  emulator generated ${exportFiles.length} export files in ${((performance.now() - begun) / 1000).toFixed(1)} s (not timed below)`);
      return exportFiles;
    };
    const exportFiles = await generateExport();

    // The floor: what any client must spend to read these files, with no store at all.
    let started = performance.now();
    let findings = 0;
    for (const file of exportFiles) {
      const response = await get(file);
      const decoder = new StringDecoder('utf8');
      let rest = '';
      for await (const chunk of response.body.pipe(createGunzip())) {
        const lines = (rest + decoder.write(chunk as Buffer)).split('\n');
        rest = lines.pop()!;
        for (const line of lines) if (line) { JSON.parse(line); findings++; }
      }
      if (rest) { JSON.parse(rest); findings++; }
    }
    const floorSeconds = (performance.now() - started) / 1000;
    console.log(`  parse floor: ${findings.toLocaleString()} findings in ${floorSeconds.toFixed(2)} s = ${Math.round(findings / floorSeconds).toLocaleString()} findings/s`);

    const services = await openBenchServices(path.join(work, 'data'), emulator);
    try {
      const { sync: run } = await connectToEmulator(services, emulator);

      started = performance.now();
      const full = await run('full');
      const fullSeconds = (performance.now() - started) / 1000;
      if (!full.ok) throw new Error(`full sync failed: ${full.diagnosis.message}`);
      console.log(`  full sync: ${full.counts.read.toLocaleString()} findings in ${fullSeconds.toFixed(2)} s = ${Math.round(full.counts.read / fullSeconds).toLocaleString()} findings/s, peak RSS ${peakRssMb()} MB`);

      // Quiesce first: the full sync's log is folded into findings.db in the background, as it
      // would be long before the next delta in real use.
      await services.store.checkpointFindings();
      await emulator.advance(6);
      started = performance.now();
      const delta = await run('delta');
      const deltaSeconds = (performance.now() - started) / 1000;
      if (!delta.ok) throw new Error(`delta sync failed: ${delta.diagnosis.message}`);
      const changed = delta.counts.added + delta.counts.fixed + delta.counts.updated + delta.counts.reopened;
      console.log(`  delta sync after one advance: ${delta.counts.read.toLocaleString()} changes read (${(100 * changed / full.counts.read).toFixed(2)}% of findings changed) in ${deltaSeconds.toFixed(2)} s = ${(100 * deltaSeconds / fullSeconds).toFixed(1)}% of the full sync`);

      const tenant = services.store.findings.prepare('SELECT ref FROM tenant').pluck().get() as number;
      const sla = measureSlaStep(services.store.findings, tenant);
      console.log(`  SLA tally alone: first load ${sla.firstLoadHooksMs} ms in the writer's hooks + ${sla.firstLoadApplyMs} ms at commit = ${(100 * (sla.firstLoadHooksMs + sla.firstLoadApplyMs) / (1000 * fullSeconds)).toFixed(1)}% of the full sync; a delta's commit ${sla.deltaFixedMs} ms + ${sla.delta10kMs} ms per 10,000 fixes`);

      const syncPerSec = Math.round(full.counts.read / fullSeconds);
      const floorPerSec = Math.round(findings / floorSeconds);
      const sqlite = {
        devices, findings, syncPerSec, floorPerSec, ratio: Number((fullSeconds / floorSeconds).toFixed(2)),
        peakRssMb: peakRssMb(), deltaSeconds: Number(deltaSeconds.toFixed(2)), fullSeconds: Number(fullSeconds.toFixed(2)), sla,
      };
      if (store === 'sqlite') return sqlite;
      // The emulator stands one advance ahead now: the PostgreSQL load starts from that snapshot.
      await generateExport();
      const postgres = await measurePostgresIngest(emulator, databaseUrl!, () => emulator.advance(6));
      console.log(`  PostgreSQL: full sync ${postgres.fullSeconds} s = ${postgres.findingsPerSec.toLocaleString()} findings/s; delta after one advance (${postgres.deltaChanged.toLocaleString()} changes) ${postgres.deltaSeconds} s = ${(100 * postgres.deltaSeconds / postgres.fullSeconds).toFixed(1)}% of the full sync; peak RSS ${postgres.peakRssMb} MB`);
      return { ...sqlite, postgres };
    } finally {
      await services.close();
    }
  } finally {
    await emulator.close();
    rmSync(work, { recursive: true, force: true });
  }
}
