import { startEmulator } from './dist/emulator/server.js';
import { RecordEncoder, decodeLine, readFindingLine, D, S } from './dist/src/defender/records.js';
import { Agent, request } from 'undici';
import fs from 'node:fs';
const file = '/tmp/exp/delta.json';
if (!fs.existsSync(file)) {
  const emu = await startEmulator({ devices: 20000, seed: 'bench', rateLimits: false, patchCadence: 300, devicesPerPart: 2000 });
  const dispatcher = new Agent({ connect: { ca: emu.caPem } });
  const tr = await request(`${emu.loginUrl}/${emu.tenantId}/oauth2/v2.0/token`, { method: 'POST', dispatcher, headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: emu.apps.consented.clientId, client_secret: emu.apps.consented.secretValue, scope: 'https://api.securitycenter.microsoft.com/.default' }).toString() });
  const { access_token } = await tr.body.json();
  const since = new Date(emu.state().snapshotTime ?? Date.now()).toISOString();
  const st = emu.state(); console.log(JSON.stringify(st).slice(0, 300));
  emu.advance(6);
  const r = await request(`${emu.apiUrl}/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=${encodeURIComponent(st.tenants?.[0]?.snapshotTime ?? st.snapshotTime)}&pageSize=20000`, { dispatcher, headers: { authorization: `Bearer ${access_token}` } });
  fs.writeFileSync(file, await r.body.text());
  await emu.close(); await dispatcher.close();
  process.exit(0);
}
const text = fs.readFileSync(file, 'utf8');
for (let it = 0; it < 4; it++) {
  let t = performance.now();
  const page = JSON.parse(text).value;
  const t1 = performance.now();
  const events = [];
  for (const record of page) {
    const status = String(record.status ?? record.Status);
    if (!['New', 'Fixed', 'Updated'].includes(status)) continue;
    const lines = [];
    new RecordEncoder().encode(record, lines);
    if (lines.length !== 3) continue;
    const [d, sw] = lines.map(decodeLine);
    events.push({ status, at: String(record.eventTimestamp ?? record.EventTimestamp ?? ''), lines,
      key: `${d[D.deviceId]}|${sw[S.vendor]}|${sw[S.name]}|${sw[S.version]}|${readFindingLine(lines[2]).cveId}`, group: d[D.rbacGroupId] });
  }
  const t2 = performance.now();
  let n = 0; const enc = new RecordEncoder(); const out = [];
  for (const record of page) { enc.encode(record, out); }
  const t3 = performance.now();
  console.log(page.length, 'parse', (t1 - t).toFixed(0), 'process', (t2 - t1).toFixed(0), 'encode only', (t3 - t2).toFixed(0));
}
