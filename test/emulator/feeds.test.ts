// The vendor feeds the emulator serves (MSRC CVRF v3, Red Hat CSAF VEX, Ubuntu OSV, NVD CVE API 2.0,
// CISA KEV): their shapes, and that they describe the same world Defender's data comes from.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { emulatorClient, type EmulatorClient } from '../helpers/emulator-client.js';
import { JSON_ACCEPT, KB, compareDotted } from '../helpers/patch-feeds.js';

describe('vendor feeds', () => {
  let client: EmulatorClient;
  let rows: any[];
  let catalog: Map<string, any>;

  before(async () => {
    client = await emulatorClient({ devices: 300, startTime: '2026-03-01T00:00:00Z', rateLimits: false, seed: 'feeds' });
    const token = await client.token();
    rows = (await client.pages('/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=200000', token)).rows;
    catalog = new Map((await client.pages('/api/vulnerabilities', token)).rows.map((v) => [v.id, v]));
  });
  after(() => client.close());

  describe('MSRC CVRF v3', () => {
    let updates: any[];
    const docs = new Map<string, any>();
    before(async () => {
      updates = (await client.get(`${client.emulator.feeds.msrcCvrfUrl}/updates`)).json().value;
      for (const u of updates.slice(-13)) docs.set(u.ID, (await client.get(u.CvrfUrl, undefined, JSON_ACCEPT)).json());
    });

    it('lists monthly documents released on Patch Tuesday, each served as JSON on request', async () => {
      const listing = (await client.get(`${client.emulator.feeds.msrcCvrfUrl}/updates`)).json();
      assert.match(listing['@odata.context'], /\$metadata#updates$/);
      assert.ok(updates.length >= 12);
      for (const u of updates) {
        assert.deepEqual(Object.keys(u).sort(), ['Alias', 'CurrentReleaseDate', 'CvrfUrl', 'DocumentTitle', 'ID', 'InitialReleaseDate', 'Severity']);
        assert.match(u.ID, /^\d{4}-[A-Z][a-z]{2}$/);
        const released = new Date(u.InitialReleaseDate);
        assert.equal(released.getUTCDay(), 2, `${u.ID} released on a Tuesday`);
        assert.ok(released.getUTCDate() >= 8 && released.getUTCDate() <= 14);
        assert.ok(Date.parse(u.CurrentReleaseDate) >= released.getTime());
      }
      assert.ok(updates.some((u) => Date.parse(u.CurrentReleaseDate) > Date.parse(u.InitialReleaseDate)), 'some documents were revised after release');
      assert.equal((await client.get(updates[0].CvrfUrl)).status, 406, 'the emulator serves JSON only, on Accept: application/json');
      assert.equal((await client.get(`${client.emulator.feeds.msrcCvrfUrl}/cvrf/2099-Jan`, undefined, JSON_ACCEPT)).status, 404);
    });

    it('names products the way Microsoft does, with ids that stay the same from month to month', () => {
      const names = new Map<string, string>();
      for (const doc of docs.values()) {
        for (const p of doc.ProductTree.FullProductName) {
          if (names.has(p.ProductID)) assert.equal(names.get(p.ProductID), p.Value, `product ${p.ProductID} keeps its name`);
          names.set(p.ProductID, p.Value);
        }
      }
      const all = [...names.values()];
      for (const name of ['Windows 11 Version 23H2 for x64-based Systems', 'Windows 11 Version 24H2 for ARM64-based Systems', 'Windows 10 Version 22H2 for 32-bit Systems',
        'Windows Server 2022 (Server Core installation)', 'Windows Server 2019', 'Windows Server 2025', 'Microsoft .NET Framework 4.8.1', 'Microsoft Edge (Chromium-based)']) {
        assert.ok(all.includes(name), name);
      }
    });

    it('describes each CVE with threats, scores, product statuses and remediations carrying KB, build and supersedence', () => {
      const supercedence: string[] = [];
      for (const doc of docs.values()) {
        assert.equal(doc.DocumentTracking.Identification.ID.Value, doc.DocumentTitle && doc.DocumentTracking.Identification.ID.Value);
        const products = new Map(doc.ProductTree.FullProductName.map((p: any) => [p.ProductID, p.Value]));
        for (const v of doc.Vulnerability) {
          assert.match(v.CVE, /^CVE-\d{4}-\d{4,5}$/);
          assert.equal(v.ProductStatuses[0].Type, 3);
          assert.ok(v.ProductStatuses[0].ProductID.every((id: string) => products.has(id)));
          assert.deepEqual(v.Threats.map((t: any) => t.Type).sort(), [0, 1, 3]);
          assert.match(v.Threats.find((t: any) => t.Type === 1).Description.Value, /^Publicly Disclosed:(Yes|No);Exploited:(Yes|No);Latest Software Release:/);
          for (const set of v.CVSSScoreSets) assert.ok(set.Vector.startsWith(catalog.get(v.CVE).cvssVector) && set.BaseScore === catalog.get(v.CVE).cvssV3);
          for (const r of v.Remediations.filter((x: any) => x.Type === 2)) {
            if (r.Description.Value === 'Release Notes') {
              assert.match(r.FixedBuild, /^\d{3}\.0\.\d{4}\.\d+$/, 'Edge is fixed by version');
              continue;
            }
            assert.match(r.Description.Value, /^\d{7}$/);
            assert.equal(r.URL, `https://catalog.update.microsoft.com/v7/site/Search.aspx?q=KB${r.Description.Value}`);
            assert.equal(r.SubType, 'Security Update');
            assert.ok(['Yes', 'Maybe'].includes(r.RestartRequired.Value));
            const name = String(products.get(r.ProductID[0]));
            if (name.startsWith('Windows')) assert.match(r.FixedBuild, /^10\.0\.(19045|22631|26100|17763|20348)\.\d+$/);
            supercedence.push(r.Supercedence);
          }
        }
      }
      assert.ok(supercedence.includes(''), 'empty on some cumulative updates');
      assert.ok(supercedence.some((s) => /\d{7}(; |, |<br>)\d{7}/.test(s)), 'several KBs in one');
      assert.ok(supercedence.some((s) => /^KB\d{7}$/.test(s)), 'a KB prefix');
      assert.ok(supercedence.some((s) => /MS\d\d-\d{3}/.test(s)), 'a legacy bulletin id');
      assert.ok(supercedence.some((s) => /^\d{6}$/.test(s)), 'a truncated id');
    });

    it('chains the updates of .NET Framework and Office by supersedence, per product id and never across branches', () => {
      // KB → product ids, and (product id, KB) → the KBs it supersedes.
      const productsOf = new Map<string, Set<string>>();
      const supersedes = new Map<string, Set<string>>();
      for (const doc of docs.values()) {
        const names = new Map(doc.ProductTree.FullProductName.map((p: any) => [p.ProductID, p.Value as string]));
        for (const v of doc.Vulnerability) {
          for (const r of v.Remediations) {
            if (r.Type !== 2 || !/^\d{7}$/.test(r.Description.Value) || String(names.get(r.ProductID[0])).startsWith('Windows')) continue;
            const kb = r.Description.Value;
            productsOf.set(kb, new Set([...(productsOf.get(kb) ?? []), ...r.ProductID]));
            for (const id of r.ProductID) supersedes.set(`${id}|${kb}`, new Set(String(r.Supercedence).match(KB) ?? []));
          }
        }
      }
      const byProduct = new Map<string, string[]>();
      for (const [kb, ids] of productsOf) for (const id of ids) byProduct.set(id, [...(byProduct.get(id) ?? []), kb]);
      assert.ok(byProduct.size >= 3, '.NET 4.8, 4.8.1 and Office');
      for (const [id, kbs] of byProduct) {
        kbs.sort();
        for (let i = 1; i < kbs.length; i++) {
          const named = supersedes.get(`${id}|${kbs[i]}`)!;
          assert.ok(named.has(kbs[i - 1]), `product ${id}: ${kbs[i]} supersedes ${kbs[i - 1]} (it names ${[...named]})`);
          for (const old of named) if (productsOf.has(old)) assert.ok(productsOf.get(old)!.has(id), `${kbs[i]} supersedes ${old} only within product ${id}`);
        }
      }
    });

    it('agrees with Defender: a finding\'s KB is the remediation of its CVE for the device\'s line, with a later build', () => {
      const windows = rows.filter((r) => /^10\.0\.\d+\.\d+$/.test(r.softwareVersion) && r.recommendedSecurityUpdateId);
      assert.ok(windows.length > 50);
      const remediation = new Map<string, any>();
      for (const doc of docs.values()) for (const v of doc.Vulnerability) for (const r of v.Remediations) if (r.Type === 2) remediation.set(`${v.CVE}|${r.Description.Value}`, r);
      let checked = 0;
      for (const row of windows) {
        const r = remediation.get(`${row.cveId}|${row.recommendedSecurityUpdateId}`);
        if (!r) continue; // fixed in a month older than the documents read here
        checked++;
        const [build] = row.softwareVersion.split('.').slice(2);
        assert.equal(r.FixedBuild.split('.')[2], build, `${row.cveId}: same build line`);
        assert.ok(compareDotted(r.FixedBuild, row.softwareVersion) > 0, `${row.softwareVersion} is older than the fixed build ${r.FixedBuild}`);
      }
      assert.ok(checked > 20, `${checked} checked`);
    });
  });

  describe('Red Hat CSAF VEX', () => {
    it('lists every file in changes.csv, newest first, and withdrawn ones in deletions.csv', async () => {
      const base = client.emulator.feeds.redHatVexUrl;
      const changes = (await client.get(`${base}/changes.csv`)).text.trim().split('\n');
      assert.ok(changes.length > 100);
      const times = changes.map((line) => {
        const m = /^"(\d{4})\/cve-\1-\d{4,5}\.json","(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00)"$/.exec(line);
        assert.ok(m, line);
        return Date.parse(m[2]);
      });
      for (let i = 1; i < times.length; i++) assert.ok(times[i] <= times[i - 1]);
      const deleted = (await client.get(`${base}/deletions.csv`)).text.trim().split('\n');
      assert.ok(deleted.length > 0);
      const path = JSON.parse(`[${deleted[0]}]`)[0];
      assert.equal((await client.get(`${base}/${path}`)).status, 404, 'a withdrawn file is gone');
      assert.ok(!changes.some((line) => line.startsWith(`"${path}"`)));
    });

    it('publishes CSAF 2.0 VEX documents whose fixed components name the RHSA Defender recommends', async () => {
      const base = client.emulator.feeds.redHatVexUrl;
      const redHat = rows.filter((r) => r.softwareVendor === 'red_hat' && r.recommendedSecurityUpdateId);
      assert.ok(redHat.length > 20);
      const categories = new Set<string>();
      for (const row of redHat.slice(0, 40)) {
        const [, year, serial] = row.cveId.split('-');
        const response = await client.get(`${base}/${year}/cve-${year}-${serial}.json`);
        assert.equal(response.status, 200, row.cveId);
        const vex = response.json();
        assert.equal(vex.document.category, 'csaf_vex');
        assert.equal(vex.document.csaf_version, '2.0');
        assert.equal(vex.document.tracking.id, row.cveId);
        const v = vex.vulnerabilities[0];
        const stream = row.osVersion === 'enterprise_linux_9.4' ? 'BaseOS-9.4.0.Z.EUS' : 'BaseOS-9.5.0.Z.MAIN';
        const fixedHere = (v.product_status.fixed ?? []).filter((id: string) => id.startsWith(`${stream}:${row.softwareName}-`));
        assert.ok(fixedHere.length > 0, `${row.cveId}: ${row.softwareName} fixed on ${stream}`);
        for (const id of fixedHere) {
          assert.match(id, /^BaseOS-9\.[45]\.0\.Z\.(EUS|MAIN):[\w-]+-\d+:[\w.~^]+-[\w.]+\.(x86_64|aarch64|src)$/);
          const relation = vex.product_tree.relationships.find((r: any) => r.full_product_name.product_id === id);
          assert.equal(relation.category, 'default_component_of');
          assert.equal(relation.relates_to_product_reference, stream);
        }
        const fix = v.remediations.find((r: any) => r.category === 'vendor_fix' && r.product_ids.includes(fixedHere[0]));
        assert.equal(fix.url, `https://access.redhat.com/errata/${row.recommendedSecurityUpdateId}`);
        for (const r of v.remediations) categories.add(r.category);
        const purls = JSON.stringify(vex.product_tree.branches).match(/pkg:rpm\/redhat\/[^"]+/g) ?? [];
        assert.ok(purls.length > 0 && purls.every((p) => /^pkg:rpm\/redhat\/[\w-]+(@[\w.~^-]+)?\?arch=\w+(&epoch=\d+)?$/.test(p)), purls[0]);
      }
      assert.ok(categories.has('vendor_fix'));
    });

    it('says "Will not fix", "Deferred" or "Affected" for CVEs without a fix', async () => {
      const base = client.emulator.feeds.redHatVexUrl;
      const changes = (await client.get(`${base}/changes.csv`)).text.trim().split('\n');
      const seen = new Set<string>();
      for (let i = 0; i < changes.length; i += 25) {
        const docs = await Promise.all(changes.slice(i, i + 25).map(async (line) => (await client.get(`${base}/${JSON.parse(`[${line}]`)[0]}`)).json()));
        for (const vex of docs) {
          const v = vex.vulnerabilities[0];
          for (const r of v.remediations) if (r.category !== 'vendor_fix' && r.category !== 'workaround') seen.add(`${r.category}:${r.details}`);
          if (v.product_status.known_affected) {
            assert.match(v.product_status.known_affected[0], /^red_hat_enterprise_linux_9:[\w-]+$/);
            assert.ok(v.remediations.some((r: any) => ['no_fix_planned', 'none_available'].includes(r.category)), 'an affected product says why it has no fix');
          }
        }
      }
      assert.ok(seen.has('no_fix_planned:Will not fix'), [...seen].join(', '));
      assert.ok(seen.has('none_available:Deferred') || seen.has('none_available:Affected'), [...seen].join(', '));
    });
  });

  describe('Ubuntu OSV', () => {
    it('lists every record in modified_id.csv as osv.dev does: "<modified>,<id>", newest first', async () => {
      const lines = (await client.get(`${client.emulator.feeds.ubuntuOsvUrl}/modified_id.csv`)).text.trim().split('\n');
      assert.ok(lines.length > 100);
      const parsed = lines.map((line) => {
        const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ),((USN-\d{4,}-\d)|(UBUNTU-CVE-\d{4}-\d{4,5}))$/.exec(line);
        assert.ok(m, line);
        return Date.parse(m[1]);
      });
      for (let i = 1; i < parsed.length; i++) assert.ok(parsed[i] <= parsed[i - 1]);
    });

    it('serves USNs that ship source packages with their binaries, fixed per release, some only through Ubuntu Pro', async () => {
      const base = client.emulator.feeds.ubuntuOsvUrl;
      const ubuntu = rows.filter((r) => r.softwareVendor === 'ubuntu' && r.recommendedSecurityUpdateId);
      assert.ok(!rows.some((r) => r.cveId.startsWith('TVM-') && r.recommendedSecurityUpdateId), 'Defender-only ids have no advisory');
      assert.ok(ubuntu.length > 20);
      const ecosystems = new Set<string>();
      for (const row of ubuntu.slice(0, 40)) {
        const response = await client.get(`${base}/${row.recommendedSecurityUpdateId}.json`);
        assert.equal(response.status, 200, row.recommendedSecurityUpdateId);
        const usn = response.json();
        assert.equal(usn.id, row.recommendedSecurityUpdateId);
        assert.ok(usn.upstream.includes(row.cveId));
        const release = row.osVersion === 'ubuntu_linux_22.04' ? '22.04' : '24.04';
        const affected = usn.affected.find((a: any) => a.package.ecosystem.endsWith(`${release}:LTS`) && a.ecosystem_specific.binaries.some((b: any) => b.binary_name === row.softwareName));
        assert.ok(affected, `${usn.id} ships ${row.softwareName} on ${release}`);
        ecosystems.add(affected.package.ecosystem);
        assert.match(affected.package.purl, /^pkg:deb\/ubuntu\/[\w.+-]+@[^?]+\?arch=source&distro=(esm-apps\/)?(jammy|noble)$/);
        const events = affected.ranges[0].events;
        assert.deepEqual(events[0], { introduced: '0' });
        assert.ok(events[1].fixed);
      }
      const pro = rows.find((r) => r.softwareVendor === 'ubuntu' && r.softwareName === 'imagemagick' && r.recommendedSecurityUpdateId);
      if (pro) {
        const usn = (await client.get(`${base}/${pro.recommendedSecurityUpdateId}.json`)).json();
        assert.ok(usn.affected.every((a: any) => /^Ubuntu:Pro:2[24]\.04:LTS$/.test(a.package.ecosystem) && a.ecosystem_specific.availability.startsWith('Available with Ubuntu Pro')));
      }
      assert.ok(ecosystems.size >= 1);
    });
  });

  describe('NVD CVE API 2.0', () => {
    it('pages with startIndex and resultsPerPage, and states first fixed versions in CPE match ranges', async () => {
      const url = client.emulator.feeds.nvdUrl;
      const first = (await client.get(`${url}?resultsPerPage=2000`)).json();
      assert.equal(first.format, 'NVD_CVE');
      assert.equal(first.version, '2.0');
      assert.equal(first.startIndex, 0);
      assert.ok(first.totalResults > 2000 && first.vulnerabilities.length === 2000);
      const second = (await client.get(`${url}?resultsPerPage=2000&startIndex=2000`)).json();
      assert.equal(second.startIndex, 2000);
      assert.equal(new Set([...first.vulnerabilities, ...second.vulnerabilities].map((v: any) => v.cve.id)).size, first.vulnerabilities.length + second.vulnerabilities.length);
      const tooMany = await client.get(`${url}?resultsPerPage=2001`);
      assert.equal(tooMany.status, 404);
      assert.ok(tooMany.headers.message);

      // A third-party finding's CVE: NVD's versionEndExcluding is above the installed version.
      const chrome = rows.filter((r) => r.softwareName === 'chrome');
      assert.ok(chrome.length > 10);
      let analysed = 0;
      for (const row of chrome.slice(0, 30)) {
        const record = (await client.get(`${url}?cveId=${row.cveId}`)).json().vulnerabilities[0].cve;
        if (!record.configurations) {
          assert.match(record.vulnStatus, /^(Received|Awaiting Analysis)$/);
          continue;
        }
        analysed++;
        const match = record.configurations[0].nodes[0].cpeMatch.find((m: any) => m.criteria === 'cpe:2.3:a:google:chrome:*:*:*:*:*:*:*:*');
        assert.ok(match, row.cveId);
        assert.match(match.matchCriteriaId, /^[0-9A-F-]{36}$/);
        const bound = match.versionEndExcluding ?? match.versionEndIncluding;
        assert.ok(compareDotted(row.softwareVersion, bound) < (match.versionEndExcluding ? 0 : 1), `${row.softwareVersion} vs ${JSON.stringify(match)}`);
      }
      assert.ok(analysed > 0);
    });

    it('filters by last modification within 120 days, both dates or neither, as NVD does', async () => {
      const url = client.emulator.feeds.nvdUrl;
      const onlyStart = await client.get(`${url}?lastModStartDate=2026-01-01T00:00:00.000Z`);
      assert.equal(onlyStart.status, 404);
      assert.ok(onlyStart.headers.message);
      assert.equal(onlyStart.body.length, 0);
      assert.equal((await client.get(`${url}?lastModStartDate=2025-01-01T00:00:00.000Z&lastModEndDate=2025-06-01T00:00:00.000Z`)).status, 404, 'more than 120 days');
      const bad = await client.get(`${url}?lastModStartDate=yesterday&lastModEndDate=today`);
      assert.match(String(bad.headers.message), /ISO 8601/);
      const recent = (await client.get(`${url}?lastModStartDate=2026-02-01T00:00:00.000Z&lastModEndDate=2026-03-01T00:00:00.000Z`)).json();
      assert.ok(recent.totalResults > 0);
      for (const v of recent.vulnerabilities) assert.ok(v.cve.lastModified >= '2026-02-01' && v.cve.lastModified <= '2026-03-01T00:00:00.000');
    });
  });

  it('CISA KEV lists exploited CVEs of the knowledge base with their due dates', async () => {
    const kev = (await client.get(client.emulator.feeds.kevUrl)).json();
    assert.equal(kev.count, kev.vulnerabilities.length);
    assert.match(kev.catalogVersion, /^\d{4}\.\d\d\.\d\d$/);
    assert.ok(kev.count > 10);
    for (const v of kev.vulnerabilities) {
      assert.ok(catalog.has(v.cveID), `${v.cveID} is in Defender's knowledge base`);
      assert.ok(v.dueDate > v.dateAdded && v.dateAdded <= '2026-03-01');
      assert.ok(['Known', 'Unknown'].includes(v.knownRansomwareCampaignUse));
      assert.ok(catalog.get(v.cveID).exploitVerified, `${v.cveID}: Defender knows it is exploited`);
    }
  });

  it('every feed has the fault switches, a truncated body among them', async () => {
    const feeds = client.emulator.feeds;
    const cases: [string, string, Record<string, string>?][] = [
      ['msrcUpdates', `${feeds.msrcCvrfUrl}/updates`], ['redhatChanges', `${feeds.redHatVexUrl}/changes.csv`],
      ['ubuntuModified', `${feeds.ubuntuOsvUrl}/modified_id.csv`], ['nvdCves', `${feeds.nvdUrl}?resultsPerPage=50`], ['kev', feeds.kevUrl],
    ];
    for (const [endpoint, url] of cases) {
      await client.postJson('/_emulator/faults', { kind: 'truncatedBody', endpoint, times: 1 });
      const cut = await client.get(url);
      assert.equal(cut.status, 200);
      assert.equal(Number(cut.headers['content-length']), cut.body.length);
      const whole = await client.get(url);
      assert.equal(cut.body.length, Math.floor(whole.body.length / 2), endpoint);
      await client.postJson('/_emulator/faults', { kind: 'serverError', endpoint, status: 503, times: 1 });
      assert.equal((await client.get(url)).status, 503);
      await client.postJson('/_emulator/faults', { kind: 'throttle', endpoint, times: 1 });
      assert.equal((await client.get(url)).status, endpoint === 'nvdCves' ? 403 : 429, `${endpoint} throttled as its vendor does`);
    }
  });
});

describe('NVD rate limits', () => {
  let client: EmulatorClient;
  before(async () => {
    client = await emulatorClient({ devices: 20, startTime: '2026-03-01T00:00:00Z', timeScale: 0.05 });
  });
  after(() => client.close());

  it('allows 5 requests per rolling 30 seconds without an API key, 50 with one, and answers 403 beyond', async () => {
    const url = `${client.emulator.feeds.nvdUrl}?resultsPerPage=1`;
    for (let i = 0; i < 5; i++) assert.equal((await client.get(url)).status, 200, `request ${i + 1}`);
    const refused = await client.get(url);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.length, 0);
    const apiKey = { apikey: '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0' };
    for (let i = 0; i < 50; i++) assert.equal((await client.get(url, undefined, apiKey)).status, 200, `keyed request ${i + 1}`);
    assert.equal((await client.get(url, undefined, apiKey)).status, 403);
    assert.equal((await client.get(url, undefined, { apikey: 'not-a-key' })).status, 404);
    await sleep(30_000 * 0.05 + 100);
    assert.equal((await client.get(url)).status, 200, 'the window rolls on');
  });
});
