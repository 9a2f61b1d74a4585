// The emulator's patch world, read from its own model: release calendars, update identifiers,
// version schemes, the CVE knowledge base's facts, and the devices that run it all.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportRow } from '../../emulator/tenant/records.js';
import { Snapshots } from '../../emulator/tenant/snapshots.js';
import { Tenant, type Finding } from '../../emulator/tenant/tenant.js';
import { DAY_MS, isoDate, monthIndex, patchTuesday } from '../../emulator/world/calendar.js';
import { baseScore, parseVector } from '../../emulator/world/cvss.js';
import { World, type Cve, type Line } from '../../emulator/world/world.js';
import { decodeJwt, emulatorClient, type EmulatorClient } from '../helpers/emulator-client.js';
import { compareDotted } from '../helpers/patch-feeds.js';

const START = Date.UTC(2026, 0, 1);
const SEED = 4242;

/** Release slots of a line from months before the start to months after it. */
function releases(world: World, line: Line, fromMs: number, toMs: number): number[] {
  const schedule = line.component.schedule;
  const out: number[] = [];
  for (let j = schedule.firstAtOrAfter(fromMs); schedule.time(j) <= toMs; j = schedule.back(j, -1)) {
    if (world.lineExists(line, j)) out.push(j);
  }
  return out;
}

describe('patch world: calendars, updates and versions', () => {
  const world = new World({ seed: SEED, startTime: START });
  const windowsLines = world.lines.filter((l) => l.component.spec.cumulative);

  it('ships Windows cumulative updates on Patch Tuesday, the second Tuesday of the month (UTC), and out-of-band ones after it', () => {
    for (const [month, day] of [['2024-12', '2024-12-10'], ['2025-01', '2025-01-14'], ['2025-10', '2025-10-14'], ['2026-12', '2026-12-08']]) {
      assert.equal(isoDate(patchTuesday(monthIndex(Date.parse(`${month}-01T00:00:00Z`)))), day);
    }
    let outOfBand = 0;
    for (const line of windowsLines) {
      for (const j of releases(world, line, START - 400 * DAY_MS, START + 200 * DAY_MS)) {
        const at = new Date(world.releaseTime(line.component, j));
        const tuesday = patchTuesday(monthIndex(at.getTime()));
        if (line.component.schedule.outOfBand(j)) {
          outOfBand++;
          assert.ok(at.getTime() > tuesday && monthIndex(at.getTime()) === monthIndex(tuesday), `${line.key} out-of-band ${at.toISOString()}`);
        } else {
          assert.equal(at.getUTCDay(), 2, `${line.key} ${at.toISOString()} is a Tuesday`);
          assert.ok(at.getUTCDate() >= 8 && at.getUTCDate() <= 14, `${line.key} ${at.toISOString()} is the second Tuesday`);
        }
      }
    }
    assert.ok(outOfBand > 0, 'some out-of-band updates');
  });

  it('numbers KBs with 7 digits, increasing in release order and unique across lines; UBRs increase on each line', () => {
    const kbs: { time: number; kb: string; line: string }[] = [];
    for (const line of world.lines.filter((l) => l.component.spec.update === 'kb')) {
      let previousBuild: string | undefined;
      for (const j of releases(world, line, START - 700 * DAY_MS, START + 300 * DAY_MS)) {
        kbs.push({ time: world.releaseTime(line.component, j), kb: world.kb(line, j), line: line.key });
        const version = world.version(line, j);
        if (line.component.spec.cumulative) {
          assert.match(version, new RegExp(`^10\\.0\\.${line.stream.msrc!.build}\\.\\d+$`));
          if (previousBuild) assert.ok(compareDotted(version, previousBuild) > 0, `${line.key}: ${version} after ${previousBuild}`);
          previousBuild = version;
        }
      }
    }
    assert.ok(kbs.every((k) => /^\d{7}$/.test(k.kb)));
    assert.equal(new Set(kbs.map((k) => k.kb)).size, kbs.length, 'unique');
    kbs.sort((a, b) => a.time - b.time || Number(a.kb) - Number(b.kb));
    for (let i = 1; i < kbs.length; i++) {
      if (kbs[i].time > kbs[i - 1].time) assert.ok(Number(kbs[i].kb) > Number(kbs[i - 1].kb), `${kbs[i].kb} (${kbs[i].line}) after ${kbs[i - 1].kb}`);
    }
    const server2025 = world.component('windows_server_2025').lines[0];
    const win11 = world.component('windows_11').lines.find((l) => l.stream.key === '24H2')!;
    const j = world.latestRelease(server2025.component, START);
    assert.equal(world.version(server2025, j), world.version(win11, j), 'Server 2025 and Windows 11 24H2 share build 26100');
    assert.notEqual(world.kb(server2025, j), world.kb(win11, j), 'with their own KBs');
  });

  it('numbers RHSAs and USNs in release order', () => {
    const rhsas = world.lines.filter((l) => l.stream.redhat).flatMap((line) => releases(world, line, START - 300 * DAY_MS, START)
      .map((j) => ({ time: world.releaseTime(line.component, j), id: world.rhsa(line, j) })));
    assert.ok(rhsas.every((r) => /^RHSA-\d{4}:\d{4,5}$/.test(r.id)));
    assert.equal(new Set(rhsas.map((r) => r.id)).size, rhsas.length);
    const order = (id: string) => Number(id.slice(5, 9)) * 1e6 + Number(id.slice(10));
    rhsas.sort((a, b) => a.time - b.time);
    for (let i = 1; i < rhsas.length; i++) if (rhsas[i].time > rhsas[i - 1].time) assert.ok(order(rhsas[i].id) > order(rhsas[i - 1].id));

    const usns = world.components.filter((c) => c.spec.update === 'usn').flatMap((c) => releases(world, c.lines[0], START - 300 * DAY_MS, START)
      .map((j) => ({ time: world.releaseTime(c, j), id: world.usn(c, j) })));
    assert.ok(usns.every((u) => /^USN-\d{4}-\d$/.test(u.id)));
    assert.equal(new Set(usns.map((u) => u.id)).size, usns.length);
    usns.sort((a, b) => a.time - b.time);
    for (let i = 1; i < usns.length; i++) if (usns[i].time > usns[i - 1].time) assert.ok(Number(usns[i].id.split('-')[1]) > Number(usns[i - 1].id.split('-')[1]));
  });

  it('gives each product its vendor\'s version scheme, increasing release after release', () => {
    const schemes: Record<string, RegExp> = {
      chrome: /^\d{3}\.0\.\d{4}\.\d{2,3}$/, edge: /^\d{3}\.0\.\d{4}\.\d{2,3}$/, firefox: /^\d{3}\.0(\.\d)?$/,
      acrobat_reader: /^\d{2}\.\d{3}\.\d{5}$/, jre: /^8u\d{3}$/, jdk: /^17\.0\.\d{1,2}$/, '7-zip': /^\d{2}\.\d{2}$/,
      zoom: /^\d\.\d\.\d{1,2}\.\d{5}$/, macos: /^1[45]\.\d(\.\d)?$/, dotnet: /^4\.8\.\d{4}\.0$/,
      'rhel:openssl': /^1:3\.\d\.\d-\d+\.el9_[45]$/, 'rhel:kernel': /^5\.14\.0-\d+\.\d+\.1\.el9_[45]$/,
      'ubuntu:openssl': /^3\.0\.\d+-0ubuntu\d+\.\d+$/, 'ubuntu:imagemagick': /^8:6\.9\.\d+\.\d+\+dfsg.*\+esm\d+$/,
    };
    for (const [key, scheme] of Object.entries(schemes)) {
      for (const line of world.component(key).lines) {
        const js = releases(world, line, START - 200 * DAY_MS, START + 200 * DAY_MS);
        assert.ok(js.length >= 1, key);
        const versions = js.map((j) => world.version(line, j));
        for (const v of versions) assert.match(v, scheme, `${line.key} ${v}`);
        if (/^[\d.]+$/.test(versions[0])) for (let i = 1; i < versions.length; i++) assert.ok(compareDotted(versions[i], versions[i - 1]) > 0, `${line.key}: ${versions[i]} after ${versions[i - 1]}`);
      }
    }
    const at = (key: string) => { const line = world.component(key).lines[0]; return world.version(line, world.latestRelease(line.component, START)); };
    assert.equal(at('chrome'), '131.0.6778.86');
    assert.equal(at('firefox'), '133.0.3');
    assert.equal(at('jre'), '8u431');
    assert.equal(at('7-zip'), '24.09');
    assert.equal(at('zoom'), '6.3.0.52884');
  });

  it('is deterministic from the seed: the same seed gives the same knowledge base, another seed another', () => {
    const ids = (w: World) => [...w.catalog(START)].map((c) => `${c.id}|${c.cvss}|${c.publishedAt}|${c.epss}`);
    const once = ids(world);
    assert.deepEqual(ids(new World({ seed: SEED, startTime: START })), once);
    assert.notDeepEqual(ids(new World({ seed: SEED + 1, startTime: START })), once);
  });
});

describe('patch world: the CVE knowledge base', () => {
  const world = new World({ seed: SEED, startTime: START });
  const catalog: Cve[] = [...world.catalog(START)];

  it('holds more CVEs than one /api/vulnerabilities page, with unique 4- or 5-digit ids, each in one family', () => {
    assert.ok(catalog.length > 8000, `${catalog.length} CVEs`);
    const ids = new Set(catalog.map((c) => c.id));
    assert.equal(ids.size, catalog.length, 'one family per id');
    for (const cve of catalog) assert.match(cve.id, /^(CVE|TVM)-\d{4}-\d{4,5}$/);
    assert.ok(catalog.some((c) => c.id.startsWith('TVM-')));
  });

  it('scores CVSS from the vector with the 3.1 formula, clustering where NVD\'s scores do', () => {
    const known: [string, number][] = [
      ['AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', 9.8], ['AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', 7.5], ['AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H', 7.8],
      ['AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N', 6.1], ['AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N', 6.4], ['AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H', 10],
      ['AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N', 3.1], ['AV:L/AC:L/PR:H/UI:N/S:U/C:N/I:N/A:N', 0],
    ];
    for (const [vector, score] of known) assert.equal(baseScore(parseVector(`CVSS:3.1/${vector}`)!), score, vector);
    const counts = new Map<number, number>();
    for (const cve of catalog) {
      if (cve.vector) assert.equal(baseScore(parseVector(cve.vector)!), cve.cvss, `${cve.id} ${cve.vector}`);
      assert.equal(cve.severity, cve.cvss >= 9 ? 'Critical' : cve.cvss >= 7 ? 'High' : cve.cvss >= 4 ? 'Medium' : 'Low');
      counts.set(cve.cvss, (counts.get(cve.cvss) ?? 0) + 1);
    }
    const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([score]) => score);
    for (const score of [9.8, 8.8, 7.8, 7.5]) assert.ok(top.includes(score), `${score} among the most frequent scores ${top}`);
  });

  it('skews EPSS towards 0, higher for CVEs exploited in the wild', () => {
    const epss = catalog.map((c) => c.epss).sort((a, b) => a - b);
    assert.ok(epss[Math.floor(epss.length / 2)] < 0.01, `median ${epss[Math.floor(epss.length / 2)]}`);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const kev = catalog.filter((c) => c.kev);
    const quiet = catalog.filter((c) => c.exploitStages[0] === null);
    assert.ok(kev.length > 0);
    assert.ok(mean(kev.map((c) => c.epss)) > 10 * mean(quiet.map((c) => c.epss)));
    for (const cve of kev) assert.ok(cve.exploitStages[1] !== null && cve.exploitStages[1] <= cve.kev!.dateAdded + DAY_MS, `${cve.id}: verified by the day it is added to KEV`);
  });

  it('fixes a CVE once per line, and every later release of the line still has the fix', () => {
    let checked = 0;
    for (const cve of catalog.slice(0, 3000)) {
      cve.family.lines.forEach((line, i) => {
        const fix = cve.fixes[i];
        if (Number.isNaN(fix)) return;
        checked++;
        const later = line.component.schedule.back(fix, -3);
        // Exposure is "fixed by a later release": releases at or after the fix are not exposed.
        assert.ok(![...world.exposures(line, fix, START + 400 * DAY_MS)].some((e) => e.cve === cve));
        assert.ok(![...world.exposures(line, later, START + 400 * DAY_MS)].some((e) => e.cve === cve));
      });
    }
    assert.ok(checked > 1000);
  });
});

describe('patch world: devices', () => {
  const tenant = new Tenant({ seed: 99, devices: 2000, startTime: START });
  const snapshots = new Snapshots(tenant);
  let rows: Finding[];
  before(() => {
    rows = [...snapshots.rows(0, { device: 0, line: 0 })];
  });

  it('keeps about 50 findings per device', () => {
    const perDevice = rows.length / tenant.deviceCount;
    assert.ok(perDevice > 35 && perDevice < 75, `${perDevice.toFixed(1)} findings per device`);
  });

  it('reports a finding exactly when the device runs an older release of its line than the fix', () => {
    for (const f of rows) assert.ok(f.release < f.fix, `${f.cve.id} on ${f.line.key} ${f.version}`);
    // And the converse, for the Windows lines: a device whose build is at least the fixed build has no finding.
    const open = new Set(rows.map((f) => `${f.device.id}|${f.cve.id}`));
    const world = tenant.world;
    let checked = 0;
    for (let i = 0; i < 400; i++) {
      const device = tenant.device(i);
      if (!tenant.present(device, 0) || device.os.family !== 'windows') continue;
      const component = world.component(device.os.component!);
      const line = tenant.lineOf(device, component, 0);
      const release = tenant.release(i, component, 0);
      const build = world.version(line, release);
      for (const cve of world.catalog(START)) {
        const fix = cve.fixes[line.familyLine];
        if (cve.family !== component.family || Number.isNaN(fix)) continue;
        const fixedBuild = world.version(line, fix);
        assert.equal(open.has(`${device.id}|${cve.id}`), compareDotted(build, fixedBuild) < 0, `${device.id} ${build} vs ${cve.id} fixed in ${fixedBuild}`);
        checked++;
      }
    }
    assert.ok(checked > 1000);
  });

  it("fills Defender's fields the way the feeds join them", () => {
    const kinds = new Map<string, Set<string>>();
    for (const f of rows) {
      const row = exportRow(tenant, f, 0);
      const id = row.recommendedSecurityUpdateId as string | null;
      const kind = id === null ? 'none' : /^\d{7}$/.test(id) ? 'kb' : /^RHSA-\d{4}:\d{4,5}$/.test(id) ? 'rhsa' : /^USN-\d{4}-\d$/.test(id) ? 'usn' : `odd ${id}`;
      const platform = `${row.osPlatform}`;
      if (!kinds.has(platform)) kinds.set(platform, new Set());
      kinds.get(platform)!.add(`${f.vendor}:${kind}`);
      if (f.component.spec.cumulative) assert.equal(row.softwareVersion, row.osVersion, 'a Windows build line reports the OS build');
      if (row.osPlatform === 'Linux') assert.match(String(row.osVersion), /^(enterprise_linux_9\.[45]|ubuntu_linux_2[24]\.04)$/);
    }
    assert.ok([...kinds.get('Windows11')!].includes('microsoft:kb'));
    assert.ok([...kinds.get('Linux')!].includes('red_hat:rhsa') && [...kinds.get('Linux')!].includes('ubuntu:usn'));
    assert.ok([...kinds.get('Windows10')!].includes('google:none'), 'third-party rows often carry no update id');
    for (const set of kinds.values()) for (const k of set) assert.doesNotMatch(k, /odd/);
  });

  it('moves RHEL devices from 9.4 to 9.5: their dist tags change with them', () => {
    const world = tenant.world;
    const openssl = world.component('rhel:openssl');
    const mover = Array.from({ length: tenant.deviceCount }, (_, i) => tenant.device(i))
      .find((d) => d.line.key === 'rhel-9.4' && d.moveAt !== null && d.moveAt > 0 && d.moveAt < 400 && d.components.includes(openssl.index));
    assert.ok(mover, 'a RHEL 9.4 device moves to 9.5');
    const before = tenant.deviceAt(mover.index, mover.moveAt! - 1);
    const after = tenant.deviceAt(mover.index, mover.moveAt!);
    assert.equal(before.osVersion, 'enterprise_linux_9.4');
    assert.equal(after.osVersion, 'enterprise_linux_9.5');
    assert.match(tenant.componentState(mover.index, openssl, mover.moveAt! - 1).version, /\.el9_4$/);
    assert.match(tenant.componentState(mover.index, openssl, mover.moveAt!).version, /\.el9_5$/);
  });

  it('puts devices in RBAC groups of different sizes, and lets them onboard, go quiet and offboard', () => {
    const sizes = new Map<string, number>();
    for (let i = 0; i < tenant.deviceCount; i++) {
      const name = tenant.deviceAt(i, 0).rbacGroupName;
      sizes.set(name, (sizes.get(name) ?? 0) + 1);
    }
    const counts = [...sizes.values()].sort((a, b) => a - b);
    assert.ok(counts[counts.length - 1] > 5 * counts[0], `group sizes ${[...sizes]}`);
    const present = (k: number) => Array.from({ length: tenant.deviceCount }, (_, i) => tenant.present(tenant.device(i), k)).filter(Boolean).length;
    assert.ok(present(600) > present(0), 'devices keep onboarding');
    const leaver = Array.from({ length: tenant.deviceCount }, (_, i) => tenant.device(i)).find((d) => d.offboardAt !== null && d.offboardAt > d.onboardAt && d.offboardAt > 0);
    assert.ok(leaver && tenant.present(leaver, leaver.offboardAt! - 1) && !tenant.present(leaver, leaver.offboardAt!));
    assert.equal([...tenant.deviceFindings(leaver.index, leaver.offboardAt!)].length, 0, 'an offboarded device reports nothing');
    const quiet = Array.from({ length: tenant.deviceCount }, (_, i) => tenant.device(i)).find((d) => d.quiet && d.quiet.from > 0 && d.onboardAt < 0 && d.offboardAt === null);
    assert.ok(quiet);
    assert.equal(tenant.deviceAt(quiet.index, quiet.quiet!.from + 2).lastSeen, tenant.deviceAt(quiet.index, quiet.quiet!.from - 1).lastSeen, 'a quiet device is not seen');
    assert.ok(tenant.deviceAt(quiet.index, quiet.quiet!.until).lastSeen > tenant.deviceAt(quiet.index, quiet.quiet!.from - 1).lastSeen);
  });
});

describe('patch world: what Defender serves of it', () => {
  let client: EmulatorClient;
  let token: string;

  before(async () => {
    client = await emulatorClient({ devices: 120, tenants: 2, devicesPerPart: 40, startTime: '2026-02-01T00:00:00Z', rateLimits: false, seed: 'served' });
    token = await client.token();
  });
  after(() => client.close());

  it('lists the whole knowledge base in /api/vulnerabilities, paged, most CVEs exposing no device', async () => {
    const first = (await client.get('/api/vulnerabilities', token)).json();
    assert.equal(first.value.length, 8000);
    assert.match(first['@odata.nextLink'], /\$skip=8000/);
    assert.equal(first.value[0]['@odata.type'], '#microsoft.windowsDefenderATP.api.PublicVulnerabilityDto');
    const all = (await client.pages('/api/vulnerabilities', token)).rows;
    assert.ok(all.length > 8000);
    assert.ok(all.filter((v) => v.exposedMachines === 0).length > all.length / 2);
  });

  it('gives a CVE id the same facts in every tenant', async () => {
    const other = client.emulator.tenants[1];
    const otherToken = await client.token(other.apps.consented!, other.tenantId);
    const mine = new Map((await client.pages('/api/vulnerabilities', token)).rows.map((v) => [v.id, v]));
    const theirs = (await client.pages('/api/vulnerabilities', otherToken)).rows;
    assert.equal(theirs.length, mine.size);
    for (const v of theirs) {
      const m = mine.get(v.id);
      assert.deepEqual([v.severity, v.cvssV3, v.cvssVector, v.publishedOn, v.epss], [m.severity, m.cvssV3, m.cvssVector, m.publishedOn, m.epss], v.id);
    }
  });

  it('rejects pageSize=0 instead of paging forever', async () => {
    for (const path of ['/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=0', '/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=2026-01-31T00:00:00Z&pageSize=0']) {
      const response = await client.get(path, token);
      assert.equal(response.status, 400, path);
      assert.equal(response.json().error.code, 'InvalidInput');
    }
  });

  it('serves export files from another origin, with fields SitePatch does not know, and sometimes none at all', async () => {
    const { rows, files } = await client.exportFileRows(token);
    assert.ok(files.every((f) => f.startsWith(`${client.emulator.blobUrl}/tvm-export/`)));
    assert.notEqual(new URL(client.emulator.blobUrl).origin, new URL(client.emulator.apiUrl).origin);
    assert.equal((await client.get(`${client.emulator.apiUrl}${new URL(files[0]).pathname}${new URL(files[0]).search}`)).status, 404, 'the API host serves no blobs');
    assert.ok(rows.every((r) => 'CveBatchTitle' in r && 'CveBatchUrl' in r));
    assert.ok(rows.some((r) => /^\d{4}-[A-Z][a-z]{2} Security Updates$/.test(r.CveBatchTitle ?? '')));
    await client.postJson('/_emulator/faults', { kind: 'noExportFiles', times: 1 });
    const empty = (await client.get('/api/machines/SoftwareVulnerabilitiesExport', token)).json();
    assert.deepEqual(empty.exportFiles, []);
    assert.ok(Date.parse(empty.generatedTime));
  });

  it('moves its clock with advance(): tokens, SAS links and timestamps never lie in the future', async () => {
    // Past the wall clock by a week or so.
    const ahead = Date.now() + 7 * 86_400_000 - Date.parse(client.emulator.state().snapshotTime);
    client.emulator.advance(Math.ceil(ahead / (6 * 3600_000)) * 6);
    const state = client.emulator.state();
    assert.ok(Date.parse(state.snapshotTime) > Date.now(), 'the snapshot is ahead of the wall clock');
    assert.ok(Date.parse(state.clock) >= Date.parse(state.snapshotTime));
    const fresh = await client.token();
    const { payload } = decodeJwt(fresh);
    const clock = (payload.iat + 300) * 1000;
    assert.ok(Math.abs(clock - Date.parse(state.clock)) < 60_000, 'tokens are issued by the emulator\'s clock');
    const exported = (await client.get('/api/machines/SoftwareVulnerabilitiesExport', fresh)).json();
    assert.ok(Date.parse(exported.generatedTime) <= clock);
    const sas = new URL(exported.exportFiles[0]);
    assert.ok(Date.parse(sas.searchParams.get('st')!) <= clock && Date.parse(sas.searchParams.get('se')!) > clock);
    assert.equal((await client.get(exported.exportFiles[0])).status, 200, 'the SAS is valid by the emulator\'s clock');
    const rows = (await client.pages('/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=200000', fresh)).rows;
    const changes = (await client.pages(`/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=${encodeURIComponent(new Date(Date.parse(state.snapshotTime) - 86_400_000).toISOString())}`, fresh)).rows;
    const utc = (text: string) => Date.parse(`${text.slice(0, 10)}T${text.slice(11, 19)}Z`);
    for (const r of rows) assert.ok(utc(r.lastSeenTimestamp) <= clock && utc(r.firstSeenTimestamp) <= clock);
    for (const c of changes) assert.ok(utc(c.eventTimestamp) <= clock);
    assert.ok(changes.length > 0);
  });
});
