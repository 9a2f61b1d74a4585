// Ingest benchmark: the emulator (a separate process) serves a tenant of N devices over loopback.
// In one run it times the parse floor (download + gunzip + line split + JSON.parse of the same
// export files, no store), SitePatch's full sync into SQLite, and a delta sync after one advance.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { Agent, request } from 'undici';
import { loadSettings } from '../src/config/settings.js';
import { openServices } from '../src/server/runtime.js';
import type { RunResult } from '../src/sync/engine.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/sitepatch.js');
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

async function startEmulatorProcess(devices: number, stateDir: string): Promise<{ info: any; child: ChildProcess }> {
  // Patching every ~75 days on average makes one 6-hour advance change about 1% of the findings.
  const child = spawn(process.execPath, [BIN, 'emulator', '--devices', String(devices), '--seed', 'bench', '--no-rate-limits',
    '--patch-cadence', '300', '--devices-per-part', '2000', '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(readline.createInterface({ input: child.stdout! }), 'line');
  return { info: JSON.parse(line as string), child };
}

export async function benchIngest({ devices = 20_000 }: { devices?: number }): Promise<Record<string, unknown>> {
  console.log(`Ingest benchmark: ${devices.toLocaleString()} devices`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-bench-'));
  const { info, child } = await startEmulatorProcess(devices, path.join(work, 'emulator'));
  const dispatcher = new Agent({ connect: { ca: readFileSync(info.caFile, 'utf8') } });
  const get = async (url: string, token?: string) => request(url, { dispatcher, headers: token ? { authorization: `Bearer ${token}` } : {} });
  try {
    const tokenResponse = await request(`${info.loginUrl}/${info.tenantId}/oauth2/v2.0/token`, {
      method: 'POST', dispatcher, headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: info.apps.consented.clientId, client_secret: info.apps.consented.secretValue, scope: 'https://api.securitycenter.microsoft.com/.default' }).toString(),
    });
    const { access_token: token } = await tokenResponse.body.json() as { access_token: string };
    const { exportFiles } = await (await get(`${info.apiUrl}/api/machines/SoftwareVulnerabilitiesExport`, token)).body.json() as { exportFiles: string[] };

    let started = performance.now();
    for (const file of exportFiles) await (await get(file)).body.dump({ limit: Infinity });
    console.log(`  emulator generated ${exportFiles.length} export files in ${((performance.now() - started) / 1000).toFixed(1)} s (not timed below)`);

    // The floor: what any client must spend to read these files, with no store at all.
    started = performance.now();
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

    const settings = loadSettings({ dataDir: path.join(work, 'data'), extraCaFile: info.caFile, scheduler: false, logLevel: 'silent' }, {});
    const services = await openServices(settings);
    try {
      const connection = await services.connections.create({
        name: 'bench', cloud: 'custom', loginUrl: info.loginUrl, apiUrl: info.apiUrl, tenantId: info.tenantId,
        clientId: info.apps.consented.clientId, clientSecret: info.apps.consented.secretValue,
      }, 'bench');
      const run = (kind: 'full' | 'delta') => new Promise<RunResult>((resolve) => {
        const stop = services.sync.onFinished((_id, result) => { stop(); resolve(result); });
        void services.sync.request(connection.id, kind, 'bench');
      });

      started = performance.now();
      const full = await run('full');
      const fullSeconds = (performance.now() - started) / 1000;
      if (!full.ok) throw new Error(`full sync failed: ${full.diagnosis.message}`);
      console.log(`  full sync: ${full.counts.read.toLocaleString()} findings in ${fullSeconds.toFixed(2)} s = ${Math.round(full.counts.read / fullSeconds).toLocaleString()} findings/s, peak RSS ${peakRssMb()} MB`);

      // Quiesce first: the full sync's log is folded into findings.db in the background, as it
      // would be long before the next delta in real use.
      await services.store.checkpointFindings();
      await (await request(`${info.apiUrl}/_emulator/advance`, { method: 'POST', dispatcher, headers: { 'content-type': 'application/json' }, body: '{"hours":6}' })).body.dump();
      started = performance.now();
      const delta = await run('delta');
      const deltaSeconds = (performance.now() - started) / 1000;
      if (!delta.ok) throw new Error(`delta sync failed: ${delta.diagnosis.message}`);
      const changed = delta.counts.added + delta.counts.fixed + delta.counts.updated + delta.counts.reopened;
      console.log(`  delta sync after one advance: ${delta.counts.read.toLocaleString()} changes read (${(100 * changed / full.counts.read).toFixed(2)}% of findings changed) in ${deltaSeconds.toFixed(2)} s = ${(100 * deltaSeconds / fullSeconds).toFixed(1)}% of the full sync`);

      const syncPerSec = Math.round(full.counts.read / fullSeconds);
      const floorPerSec = Math.round(findings / floorSeconds);
      return {
        devices, findings, syncPerSec, floorPerSec, ratio: Number((fullSeconds / floorSeconds).toFixed(2)),
        peakRssMb: peakRssMb(), deltaSeconds: Number(deltaSeconds.toFixed(2)), fullSeconds: Number(fullSeconds.toFixed(2)),
      };
    } finally {
      await services.close();
    }
  } finally {
    await dispatcher.close();
    child.kill('SIGTERM');
    await once(child, 'exit');
    rmSync(work, { recursive: true, force: true });
  }
}
