// Patch content benchmark: the emulator (a separate process) serves its vendor feeds and a tenant
// of N devices. It times importing each feed through SitePatch's importers (MSRC's monthly CVRF
// documents, Red Hat's VEX, Ubuntu's OSV records, NVD, KEV), then a full sync, then answering
// `fix` (src/content/knowledge.ts) for every finding, read a page at a time as the API would.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FEEDS } from '../src/content/imports.js';
import { createKnowledge, type FixQuery } from '../src/content/knowledge.js';
import { loadSettings } from '../src/config/settings.js';
import { openServices } from '../src/server/runtime.js';
import { connectToEmulator, peakRssMb, secondsSince, startEmulatorProcess } from './tenant.js';

const PAGE = 10_000;

export async function benchContent({ devices = 100_000 }: { devices?: number }): Promise<Record<string, unknown>> {
  console.log(`Patch content benchmark: the emulator's feeds, and fix answers for a tenant of ${devices.toLocaleString()} devices`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-bench-content-'));
  const emulator = await startEmulatorProcess(devices, path.join(work, 'emulator'));
  const services = await openServices(loadSettings({
    dataDir: path.join(work, 'data'), extraCaFile: emulator.info.caFile, scheduler: false, logLevel: 'silent',
    // NVD's pacing between requests (6 s without a key) is scaled down: the emulated feed is local.
    syncTimeScale: 0.001,
    ...emulator.info.feeds,
  }, {}));
  try {
    const imports: Record<string, { seconds: number; documents: number; records: number; skipped: number }> = {};
    for (const feed of FEEDS) {
      const started = performance.now();
      const { importId, finished } = await services.content.start(feed, 'manual', 'bench');
      await finished;
      const done = (await services.content.get(importId))!;
      if (done.status !== 'succeeded') throw new Error(`the ${feed} import failed: ${done.error}`);
      imports[feed] = { seconds: Number(secondsSince(started).toFixed(2)), documents: done.documents, records: done.records, skipped: done.skipped.count };
      console.log(`  import ${feed}: ${done.documents.toLocaleString()} documents, ${done.records.toLocaleString()} records (${done.skipped.count.toLocaleString()} skipped) in ${secondsSince(started).toFixed(2)} s`);
    }

    const { sync } = await connectToEmulator(services, emulator);
    let started = performance.now();
    const full = await sync('full');
    if (!full.ok) throw new Error(`full sync failed: ${full.diagnosis.message}`);
    console.log(`  full sync: ${full.counts.read.toLocaleString()} findings in ${secondsSince(started).toFixed(1)} s (not part of the answer time)`);

    const sqlite = services.store.sqlite;
    const page = sqlite.prepare(`SELECT f.id, s.vendor, s.name, s.version, c.cve_id, d.os_version, x.update_id, x.update_title FROM vuln.finding f
      JOIN vuln.software s ON s.ref = f.software_ref JOIN vuln.cve c ON c.ref = f.cve_ref JOIN vuln.device d ON d.ref = f.device_ref
      JOIN vuln.finding_detail x ON x.ref = f.detail_ref WHERE f.fixed_at IS NULL AND f.id > ? ORDER BY f.id LIMIT ?`).raw(true);
    const knowledge = createKnowledge(sqlite);
    const statuses: Record<string, number> = {};
    let answered = 0;
    let readSeconds = 0;
    started = performance.now();
    for (let after = 0; ;) {
      const readStarted = performance.now();
      const rows = page.all(after, PAGE) as [number, string, string, string, string, string | null, string | null, string | null][];
      readSeconds += secondsSince(readStarted);
      if (!rows.length) break;
      const queries: FixQuery[] = rows.map(([, vendor, name, version, cveId, osVersion, recommendedUpdateId, recommendedUpdateTitle]) =>
        ({ vendor, name, version, cveId, osVersion, recommendedUpdateId, recommendedUpdateTitle }));
      for (const fix of knowledge.fixesFor(queries)) {
        const key = fix.reason ? `${fix.status} (${fix.reason})` : fix.status;
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
      answered += rows.length;
      after = rows[rows.length - 1][0];
    }
    const answerSeconds = secondsSince(started);
    console.log(`  answers: ${answered.toLocaleString()} open findings in ${answerSeconds.toFixed(2)} s (${readSeconds.toFixed(2)} s of it reading the findings) = ${Math.round(answered / answerSeconds).toLocaleString()} findings/s`);
    console.log(`  by status: ${Object.entries(statuses).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toLocaleString()}`).join(', ')}`);
    return { bench: 'content', devices, imports, answered, answerSeconds: Number(answerSeconds.toFixed(2)), answersPerSec: Math.round(answered / answerSeconds), statuses, peakRssMb: peakRssMb() };
  } finally {
    await services.close();
    await emulator.close();
    rmSync(work, { recursive: true, force: true });
  }
}
