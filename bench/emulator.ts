// Emulator data generation: rows per second and peak memory for a large tenant, first as pure
// generation + serialisation, then end to end as gzip export files downloaded over HTTPS.

import { Agent, request } from 'undici';
import { startEmulator } from '../emulator/server.js';
import { exportFileRow } from '../emulator/tenant/records.js';
import { Snapshots } from '../emulator/tenant/snapshots.js';
import { Tenant } from '../emulator/tenant/tenant.js';
import { seedFrom } from '../emulator/world/random.js';

const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

export async function benchEmulator({ devices = 100_000 }: { devices?: number }): Promise<Record<string, unknown>> {
  console.log(`Emulator generation benchmark: ${devices.toLocaleString()} devices`);

  const tenant = new Tenant({ seed: seedFrom('bench'), devices, startTime: Date.UTC(2026, 0, 1) });
  const snapshots = new Snapshots(tenant);
  let started = performance.now();
  let rows = 0;
  let bytes = 0;
  for (const finding of snapshots.rows(0, { device: 0, line: 0 })) {
    bytes += JSON.stringify(exportFileRow(tenant, finding, 0)).length + 1;
    rows++;
    if (rows % 1_000_000 === 0) console.log(`  generated ${rows.toLocaleString()} rows, RSS ${Math.round(process.memoryUsage().rss / 1048576)} MB`);
  }
  const generateSeconds = (performance.now() - started) / 1000;
  console.log(`  generation: ${rows.toLocaleString()} findings (${(rows / devices).toFixed(1)} per device), ${(bytes / 1048576).toFixed(0)} MB of NDJSON in ${generateSeconds.toFixed(1)} s = ${Math.round(rows / generateSeconds).toLocaleString()} rows/s`);

  const emulator = await startEmulator({ devices, seed: 'bench', startTime: '2026-01-01T00:00:00Z', rateLimits: false });
  const dispatcher = new Agent({ connect: { ca: emulator.caPem } });
  try {
    const tokenResponse = await request(`${emulator.loginUrl}/${emulator.tenantId}/oauth2/v2.0/token`, {
      method: 'POST', dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: emulator.apps.consented.clientId, client_secret: emulator.apps.consented.secretValue, scope: 'https://api.securitycenter.microsoft.com/.default' }).toString(),
    });
    const { access_token: token } = await tokenResponse.body.json() as { access_token: string };
    started = performance.now();
    const exportResponse = await request(`${emulator.apiUrl}/api/machines/SoftwareVulnerabilitiesExport`, { dispatcher, headers: { authorization: `Bearer ${token}` } });
    const { exportFiles } = await exportResponse.body.json() as { exportFiles: string[] };
    let gzipBytes = 0;
    for (const file of exportFiles) {
      const blob = await request(file, { dispatcher });
      for await (const chunk of blob.body) gzipBytes += (chunk as Buffer).length;
    }
    const exportSeconds = (performance.now() - started) / 1000;
    console.log(`  export files: ${exportFiles.length} parts, ${(gzipBytes / 1048576).toFixed(0)} MB gzip, generated and downloaded in ${exportSeconds.toFixed(1)} s = ${Math.round(rows / exportSeconds).toLocaleString()} rows/s`);
    console.log(`  peak RSS: ${peakRssMb()} MB`);
    return {
      devices, findings: rows,
      generateRowsPerSec: Math.round(rows / generateSeconds),
      exportRowsPerSec: Math.round(rows / exportSeconds),
      exportParts: exportFiles.length,
      peakRssMb: peakRssMb(),
    };
  } finally {
    await dispatcher.close();
    await emulator.close();
  }
}
