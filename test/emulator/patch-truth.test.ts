// The emulator's ground truth for patch knowledge (emulator/tenant/patch-truth.ts), served at
// /_emulator/tenants/{tenant}/patch-truth: each answer must be what the emulator's own feeds say, as
// an importer reads them over HTTP, for the finding Defender reports.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { emulatorClient, type EmulatorClient } from '../helpers/emulator-client.js';
import { JSON_ACCEPT, KB, compareDotted } from '../helpers/patch-feeds.js';

const key = (r: { deviceId: string; softwareVendor: string; softwareName: string; softwareVersion: string; cveId: string }) =>
  `${r.deviceId}|${r.softwareVendor}|${r.softwareName}|${r.softwareVersion}|${r.cveId}`;

describe('patch truth', () => {
  let client: EmulatorClient;
  let token: string;
  // Two days before Patch Tuesday (10 March 2026).
  const start = '2026-03-08T00:00:00Z';

  before(async () => {
    client = await emulatorClient({ devices: 300, startTime: start, rateLimits: false, seed: 'truth' });
    token = await client.token();
  });
  after(() => client.close());

  async function read() {
    const truth = (await client.get(`/_emulator/tenants/${client.emulator.tenantId}/patch-truth`)).json();
    const rows = (await client.pages('/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=200000', token)).rows;
    return { truth, rows: new Map(rows.map((r) => [key(r), r])) };
  }

  /** Remediations of every MSRC document, by CVE and KB, and each KB's product ids and FixedBuild. */
  async function msrc() {
    const updates = (await client.get(`${client.emulator.feeds.msrcCvrfUrl}/updates`)).json().value;
    const remediations = new Map<string, any>();
    const kbs = new Map<string, { products: Set<string>; build: string; supersedes: Map<string, Set<string>> }>();
    for (const u of updates) {
      const doc = (await client.get(u.CvrfUrl, undefined, JSON_ACCEPT)).json();
      for (const v of doc.Vulnerability) {
        for (const r of v.Remediations) {
          if (r.Type !== 2) continue;
          remediations.set(`${v.CVE}|${r.Description.Value}`, r);
          const entry = kbs.get(r.Description.Value) ?? { products: new Set<string>(), build: r.FixedBuild, supersedes: new Map() };
          for (const id of r.ProductID) {
            entry.products.add(id);
            entry.supersedes.set(id, new Set(String(r.Supercedence ?? '').match(KB) ?? []));
          }
          kbs.set(r.Description.Value, entry);
        }
      }
    }
    return { remediations, kbs };
  }

  it('answers for every finding Defender reports, from the feeds as an importer reads them', async () => {
    const { truth, rows } = await read();
    assert.equal(truth.value.length, rows.size, 'one answer per finding');
    const { remediations, kbs } = await msrc();
    const statuses = new Map<string, number>();
    const nvd = new Map<string, any>();
    let vexChecked = 0;
    let osvChecked = 0;
    for (const t of truth.value) {
      const row = rows.get(key(t));
      assert.ok(row, `${key(t)} is a Defender finding`);
      const { fix } = t;
      statuses.set(`${fix.status}:${fix.update?.kind ?? fix.reason ?? (row.softwareVendor === 'microsoft' ? 'msrc' : 'nvd')}`, (statuses.get(`${fix.status}:${fix.update?.kind ?? fix.reason ?? (row.softwareVendor === 'microsoft' ? 'msrc' : 'nvd')}`) ?? 0) + 1);
      if (fix.status === 'update') {
        assert.equal(fix.update.id, row.recommendedSecurityUpdateId, 'Defender recommends the update that fixes it');
        assert.ok(fix.deployable && fix.fixedVersion);
        if (fix.update.kind === 'kb') {
          const r = remediations.get(`${t.cveId}|${fix.update.id}`);
          assert.ok(r, `${t.cveId}: CVRF has KB${fix.update.id}`);
          assert.equal(r.FixedBuild, fix.fixedVersion);
          const newest = kbs.get(fix.deployable.id)!;
          const products = [...kbs.get(fix.update.id)!.products];
          assert.ok(products.every((p) => newest.products.has(p)), 'the deployable update is for the same products');
          if (/^10\.0\./.test(fix.fixedVersion)) {
            assert.equal(newest.build.split('.')[2], fix.fixedVersion.split('.')[2]);
            assert.ok(compareDotted(newest.build, fix.fixedVersion) >= 0, 'the newest cumulative update has at least the fixed build');
          } else {
            // Not cumulative: the deployable update reaches the fixing one through Supercedence, per product id.
            const reach = (kb: string, seen = new Set<string>()): boolean => kb === fix.update.id || [...(kbs.get(kb)?.supersedes.get(products[0]) ?? [])].some((old) => !seen.has(old) && (seen.add(old), reach(old, seen)));
            assert.ok(reach(fix.deployable.id), `KB${fix.deployable.id} supersedes KB${fix.update.id} on product ${products[0]}`);
          }
        } else if (fix.update.kind === 'rhsa' && vexChecked < 60) {
          vexChecked++;
          const [, year, serial] = t.cveId.split('-');
          const vex = (await client.get(`${client.emulator.feeds.redHatVexUrl}/${year}/cve-${year}-${serial}.json`)).json().vulnerabilities[0];
          const stream = row.osVersion === 'enterprise_linux_9.4' ? 'BaseOS-9.4.0.Z.EUS' : 'BaseOS-9.5.0.Z.MAIN';
          const [epochless] = [fix.fixedVersion.includes(':') ? fix.fixedVersion : `0:${fix.fixedVersion}`];
          const id = vex.product_status.fixed.find((p: string) => p.startsWith(`${stream}:${t.softwareName}-${epochless}.`));
          assert.ok(id, `${t.cveId}: VEX fixes ${t.softwareName} ${fix.fixedVersion} on ${stream}`);
          assert.equal(vex.remediations.find((r: any) => r.category === 'vendor_fix' && r.product_ids.includes(id)).url, `https://access.redhat.com/errata/${fix.update.id}`);
        } else if (fix.update.kind === 'usn' && osvChecked < 60) {
          osvChecked++;
          const release = row.osVersion === 'ubuntu_linux_22.04' ? '22.04' : '24.04';
          for (const id of [fix.update.id, fix.deployable.id]) {
            const usn = (await client.get(`${client.emulator.feeds.ubuntuOsvUrl}/${id}.json`)).json();
            const affected = usn.affected.find((a: any) => a.package.ecosystem.endsWith(`${release}:LTS`) && a.ecosystem_specific.binaries.some((b: any) => b.binary_name === t.softwareName));
            assert.ok(affected, `${id} ships ${t.softwareName} on ${release}`);
            if (id === fix.update.id) assert.equal(affected.ranges[0].events[1].fixed, fix.fixedVersion);
            assert.equal(affected.package.ecosystem.includes(':Pro:'), fix.requiresUbuntuPro);
          }
        }
      } else if (fix.status === 'version') {
        assert.equal(fix.update, null);
        if (row.softwareName === 'edge_chromium-based') {
          assert.ok([...remediations].some(([k, r]) => k.startsWith(`${t.cveId}|`) && r.FixedBuild === fix.fixedVersion), `${t.cveId}: MSRC fixes Edge in ${fix.fixedVersion}`);
        } else {
          if (!nvd.has(t.cveId)) nvd.set(t.cveId, (await client.get(`${client.emulator.feeds.nvdUrl}?cveId=${t.cveId}`)).json().vulnerabilities[0].cve);
          const ends = nvd.get(t.cveId).configurations[0].nodes[0].cpeMatch.map((m: any) => m.versionEndExcluding);
          assert.ok(ends.includes(fix.fixedVersion), `${t.cveId}: NVD names ${fix.fixedVersion} (${ends})`);
        }
      } else {
        assert.ok(['no_fix_released', 'will_not_fix', 'not_analysed', 'not_covered'].includes(fix.reason));
        assert.equal(fix.fixedVersion, null);
        if (t.cveId.startsWith('TVM-')) assert.equal(fix.reason, 'not_covered');
      }
    }
    for (const expected of ['update:kb', 'update:rhsa', 'update:usn', 'version:msrc', 'version:nvd', 'no_known_fix:not_covered', 'no_known_fix:no_fix_released']) {
      assert.ok(statuses.has(expected), `${expected} among ${[...statuses]}`);
    }
  });

  it('names the KEV entry of exploited CVEs, as the KEV feed does', async () => {
    const { truth } = await read();
    const kev = new Map((await client.get(client.emulator.feeds.kevUrl)).json().vulnerabilities.map((v: any) => [v.cveID, v]));
    let listed = 0;
    for (const t of truth.value) {
      const entry: any = kev.get(t.cveId);
      assert.deepEqual(t.fix.kev, entry ? { dateAdded: entry.dateAdded, dueDate: entry.dueDate } : null, t.cveId);
      if (entry) listed++;
    }
    assert.ok(listed > 0);
  });

  it('answers for one device, and moves on to the new cumulative update after Patch Tuesday', async () => {
    const before = (await read()).truth.value;
    const windows = before.filter((t: any) => t.fix.update?.kind === 'kb' && /^10\.0\./.test(t.fix.fixedVersion));
    const device = windows[0].deviceId;
    const one = (await client.get(`/_emulator/tenants/${client.emulator.tenantId}/patch-truth?deviceId=${device}`)).json();
    assert.deepEqual(one.value, before.filter((t: any) => t.deviceId === device));
    assert.equal((await client.get(`/_emulator/tenants/${client.emulator.tenantId}/patch-truth?snapshot=1`)).status, 400);

    client.emulator.advance(72);
    const afterTuesday = (await read()).truth.value;
    const deployableBefore = new Map(windows.map((t: any) => [t.softwareVersion.split('.')[2] + '|' + t.softwareName, t.fix.deployable.id]));
    let moved = 0;
    for (const t of afterTuesday) {
      if (t.fix.update?.kind !== 'kb' || !/^10\.0\./.test(t.fix.fixedVersion)) continue;
      const line = t.softwareVersion.split('.')[2] + '|' + t.softwareName;
      const old = deployableBefore.get(line);
      if (old === undefined) continue;
      assert.ok(Number(t.fix.deployable.id) > Number(old), `${line}: KB${t.fix.deployable.id} after KB${old}`);
      moved++;
    }
    assert.ok(moved > 0, 'open Windows findings now point at the new cumulative update');
  });
});
