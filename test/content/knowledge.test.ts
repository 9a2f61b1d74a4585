// The answers of the patch knowledge, from rows put straight into content.db: Windows cumulative
// lines, supersedence of non-cumulative updates, Red Hat streams (EUS and main), Ubuntu releases
// and Pro, NVD ranges on several branches (a range naming only its last vulnerable version names no fix), and the version that fixes all of an installation's CVEs.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createKnowledge, type FixQuery } from '../../src/content/knowledge.js';
import { openStore, type Store } from '../../src/store/database.js';

describe('Patch knowledge answers', () => {
  let dir: string;
  let store: Store;
  const ask = (q: Partial<FixQuery> & Pick<FixQuery, 'vendor' | 'name' | 'version' | 'cveId'>) =>
    createKnowledge(store.sqlite).fixesFor([{ osVersion: null, recommendedUpdateId: null, recommendedUpdateTitle: null, ...q }])[0];

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-knowledge-'));
    store = await openStore(dir);
    const c = store.content;
    c.prepare('INSERT INTO msrc_product VALUES (?, ?, ?)').run('12243', 'Windows 11 Version 23H2 for x64-based Systems', 'Windows');
    c.prepare('INSERT INTO msrc_product VALUES (?, ?, ?)').run('11951', 'Microsoft .NET Framework 4.8', 'Developer Tools');
    const fix = c.prepare('INSERT INTO msrc_fix (document, cve, product_id, kb, fixed_build, sub_type, url, released) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)');
    // Windows 11 23H2: January fixes CVE-A; February and March are later cumulative updates; a hotpatch is not deployable here.
    fix.run('2025-Jan', 'CVE-2025-1000', '12243', '5050021', '10.0.22631.4751', 'Security Update');
    fix.run('2025-Feb', 'CVE-2025-2000', '12243', '5051989', '10.0.22631.4890', 'Security Update');
    fix.run('2025-Mar', 'CVE-2025-3000', '12243', '5053602', '10.0.22631.5039', 'Security Update');
    fix.run('2025-Apr', 'CVE-2025-4000', '12243', '5055999', '10.0.22631.5100', 'Security Hotpatch Update');
    // .NET: KB1 superseded by KB2, which KB3 supersedes (not cumulative across products).
    fix.run('2025-Jan', 'CVE-2025-5000', '11951', '5040001', null, 'Security Update');
    const edge = c.prepare('INSERT INTO msrc_supersedence (document, product_id, kb, superseded_kb) VALUES (?, ?, ?, ?)');
    edge.run('2025-Feb', '11951', '5040002', '5040001');
    edge.run('2025-Mar', '11951', '5040003', '5040002');
    edge.run('2025-Mar', '99999', '5049999', '5040003'); // another product's chain does not apply
    const rh = c.prepare('INSERT INTO redhat_state (cve, package, stream, rhel_major, rhel_minor, stream_kind, state, reason, fixed_version, advisory) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    rh.run('CVE-2025-6000', 'openssl', 'AppStream-9.4.0.Z.EUS', 9, 4, 'EUS', 'fixed', null, '1:3.0.7-28.el9_4', 'RHSA-2025:0100');
    rh.run('CVE-2025-6000', 'openssl', 'AppStream-9.5.0.Z.MAIN', 9, 5, 'MAIN', 'fixed', null, '1:3.0.7-29.el9_5', 'RHSA-2025:0101');
    rh.run('CVE-2025-6001', 'openssl', 'red_hat_enterprise_linux_9', 9, null, null, 'will_not_fix', 'Will not fix', null, null);
    rh.run('CVE-2025-6002', 'openssl', 'AppStream-9.5.0.Z.MAIN', 9, 5, 'MAIN', 'fixed', null, '1:3.0.7-31.el9_5', 'RHSA-2025:0200');
    const ub = c.prepare('INSERT INTO ubuntu_fix (advisory, cve, release, package, source_package, fixed_version, pro_required, published) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)');
    ub.run('USN-7001-1', 'CVE-2025-7000', '22.04', 'libssl3', 'openssl', '3.0.2-0ubuntu1.19', 0);
    ub.run('USN-7002-1', 'CVE-2025-7001', '16.04', 'imagemagick', 'imagemagick', '8:6.8.9.9-7ubuntu5.16+esm1', 1);
    ub.run('UBUNTU-CVE-2025-7002', 'CVE-2025-7002', '22.04', 'libssl3', 'openssl', null, 0);
    const nvd = c.prepare('INSERT INTO nvd_range (cve, product_key, version, start_including, start_excluding, end_including, end_excluding) VALUES (?, ?, NULL, ?, NULL, ?, ?)');
    // Java on two branches: 17 fixed in 17.0.13, 21 fixed in 21.0.5.
    nvd.run('CVE-2025-8000', 'oracle:jdk', '17.0.0', null, '17.0.13');
    nvd.run('CVE-2025-8000', 'oracle:jdk', '21.0.0', null, '21.0.5');
    nvd.run('CVE-2025-8001', 'oracle:jdk', '17.0.0', null, '17.0.14');
    nvd.run('CVE-2025-8002', 'google:chrome', null, '131.0.6778.85', null);
    c.prepare('INSERT INTO nvd_cve VALUES (?, ?, NULL, ?)').run('CVE-2025-8003', 'Awaiting Analysis', 1);
    c.prepare('INSERT INTO kev VALUES (?, ?, ?, 1, NULL, NULL, NULL)').run('CVE-2025-1000', '2025-01-14', '2025-02-04');
  });
  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Windows: the line\'s fixing update and its newest cumulative update (builds compared, hotpatches left out)', () => {
    const fix = ask({ vendor: 'microsoft', name: 'windows_11', version: '10.0.22631.4700', cveId: 'CVE-2025-1000' });
    assert.deepEqual([fix.status, fix.update?.id, fix.fixedVersion, fix.deployable?.id], ['update', '5050021', '10.0.22631.4751', '5053602']);
    assert.match(fix.deployable!.title!, /^2025-03 Cumulative Update for Windows 11 Version 23H2 for x64-based Systems \(KB5053602\)$/);
    assert.deepEqual(fix.kev, { dateAdded: '2025-01-14', dueDate: '2025-02-04' });
    // Another build line (Windows 11 24H2) gets nothing from 23H2's updates.
    assert.equal(ask({ vendor: 'microsoft', name: 'windows_11', version: '10.0.26100.3000', cveId: 'CVE-2025-1000' }).status, 'no_known_fix');
  });

  it('non-cumulative Microsoft updates: the newest KB that supersedes the fix on the same product', () => {
    const fix = ask({ vendor: 'microsoft', name: '.net_framework', version: '4.8.4690', cveId: 'CVE-2025-5000' });
    assert.deepEqual([fix.status, fix.update?.id, fix.deployable?.id], ['update', '5040001', '5040003']);
  });

  it('Red Hat: the stream of the device\'s minor release (EUS for 9.4, main for 9.5), will not fix, the newest advisory', () => {
    const eus = ask({ vendor: 'red_hat', name: 'openssl', version: '1:3.0.7-27.el9_4', cveId: 'CVE-2025-6000', osVersion: 'enterprise_linux_9.4' });
    assert.deepEqual([eus.update?.id, eus.fixedVersion], ['RHSA-2025:0100', '1:3.0.7-28.el9_4']);
    const main = ask({ vendor: 'red_hat', name: 'openssl', version: '1:3.0.7-28.el9_5', cveId: 'CVE-2025-6000', osVersion: 'enterprise_linux_9.5' });
    assert.deepEqual([main.update?.id, main.fixedVersion, main.deployable?.id], ['RHSA-2025:0101', '1:3.0.7-29.el9_5', 'RHSA-2025:0200']);
    const wontFix = ask({ vendor: 'red_hat', name: 'openssl', version: '1:3.0.7-28.el9_5', cveId: 'CVE-2025-6001', osVersion: 'enterprise_linux_9.5' });
    assert.deepEqual([wontFix.status, wontFix.reason], ['no_known_fix', 'will_not_fix']);
  });

  it('Ubuntu: the release\'s notice under the binary name, Ubuntu Pro, and "affected, no fix yet"', () => {
    const fix = ask({ vendor: 'ubuntu', name: 'libssl3', version: '3.0.2-0ubuntu1.18', cveId: 'CVE-2025-7000', osVersion: 'ubuntu_linux_22.04' });
    assert.deepEqual([fix.status, fix.update?.id, fix.fixedVersion, fix.requiresUbuntuPro], ['update', 'USN-7001-1', '3.0.2-0ubuntu1.19', false]);
    assert.equal(ask({ vendor: 'ubuntu', name: 'libssl3', version: '3.0.2-0ubuntu1.18', cveId: 'CVE-2025-7000', osVersion: 'ubuntu_linux_24.04' }).status, 'no_known_fix');
    const pro = ask({ vendor: 'ubuntu', name: 'imagemagick', version: '8:6.8.9.9-7ubuntu5.15', cveId: 'CVE-2025-7001', osVersion: 'ubuntu_linux_16.04' });
    assert.deepEqual([pro.status, pro.update?.id, pro.requiresUbuntuPro, pro.reason], ['update', 'USN-7002-1', true, null]);
    const affected = ask({ vendor: 'ubuntu', name: 'libssl3', version: '3.0.2-0ubuntu1.18', cveId: 'CVE-2025-7002', osVersion: 'ubuntu_linux_22.04' });
    assert.deepEqual([affected.status, affected.reason], ['no_known_fix', 'no_fix_released']);
  });

  it('third-party: the fixed version of the branch the installed version is on; not analysed; no fix named', () => {
    assert.equal(ask({ vendor: 'oracle', name: 'jdk', version: '17.0.12', cveId: 'CVE-2025-8000' }).fixedVersion, '17.0.13');
    assert.equal(ask({ vendor: 'oracle', name: 'jdk', version: '21.0.4', cveId: 'CVE-2025-8000' }).fixedVersion, '21.0.5');
    assert.deepEqual([ask({ vendor: 'google', name: 'chrome', version: '131.0.6778.80', cveId: 'CVE-2025-8002' }).reason], ['no_fix_released']);
    assert.deepEqual([ask({ vendor: 'google', name: 'chrome', version: '131.0.6778.80', cveId: 'CVE-2025-8003' }).reason], ['not_analysed']);
    assert.deepEqual([ask({ vendor: 'acme', name: 'widget', version: '1', cveId: 'CVE-2025-9999' }).reason], ['not_covered']);
  });

  it('an installation\'s CVEs: the lowest version that fixes them all, and those no version fixes', () => {
    const q = (cveId: string): FixQuery => ({ vendor: 'oracle', name: 'jdk', version: '17.0.12', cveId, osVersion: null, recommendedUpdateId: null, recommendedUpdateTitle: null });
    const knowledge = createKnowledge(store.sqlite);
    assert.deepEqual(knowledge.versionFixingAll([q('CVE-2025-8000'), q('CVE-2025-8001')]), { version: '17.0.14', unfixed: [] });
    assert.deepEqual(knowledge.versionFixingAll([q('CVE-2025-8000'), q('CVE-2025-9999')]), { version: '17.0.13', unfixed: ['CVE-2025-9999'] });
  });

  it('answers change when an import commits (the cache follows content.db)', () => {
    const knowledge = createKnowledge(store.sqlite);
    const query: FixQuery = { vendor: 'acme', name: 'widget', version: '1.0', cveId: 'CVE-2025-9998', osVersion: null, recommendedUpdateId: null, recommendedUpdateTitle: null };
    assert.equal(knowledge.fixesFor([query])[0].status, 'no_known_fix');
    store.content.prepare('INSERT INTO nvd_range (cve, product_key, version, start_including, start_excluding, end_including, end_excluding) VALUES (?, ?, NULL, NULL, NULL, NULL, ?)').run('CVE-2025-9998', 'acme:widget', '1.1');
    assert.deepEqual([knowledge.fixesFor([query])[0].status, knowledge.fixesFor([query])[0].fixedVersion], ['version', '1.1']);
  });
});
