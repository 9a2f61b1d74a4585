// The findings CSV export split into blocks of ids on two workers, each block read in pages of ids
// and written into chunks, gives byte for byte the lines of the same export read in one piece.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findingCsvChunks } from '../../src/exposure/finding-export.js';
import type { FindingFilter, IdRange } from '../../src/exposure/findings.js';
import type { TenantScope } from '../../src/exposure/scope.js';
import { openStore, type Store } from '../../src/store/database.js';

const FINDINGS = 60_000;
/** Longer than a worker's chunk of 1 MB once written: the line gets a chunk of its own. */
const LONG_NAME = `=HYPERLINK("x"),${'y'.repeat(1_100_000)}`;

const tenant = { ref: 1, connectionId: 'c0ffee00-0000-4000-8000-000000000001', name: 'A', cloud: 'commercial', status: 'active', syncIntervalMinutes: 360 };
const scope: TenantScope = { tenants: [tenant], refs: [1], byRef: new Map([[1, tenant]]), all: true };

async function csv(store: Store, filter: FindingFilter, ids: IdRange | null): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of findingCsvChunks({ findingsFile: store.findingsFile }, scope, filter, ids)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('Findings CSV export on workers', () => {
  let dir: string;
  let store: Store;
  const ids: IdRange = [1, FINDINGS + 1];

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-finding-export-'));
    store = await openStore(dir);
    const f = store.findings;
    f.prepare('INSERT INTO tenant (ref, connection_id) VALUES (1, ?)').run(tenant.connectionId);
    const device = f.prepare('INSERT INTO device (ref, tenant_ref, device_id, name, os_platform, rbac_group_name, last_seen) VALUES (?, 1, ?, ?, ?, ?, ?)');
    const finding = f.prepare('INSERT INTO finding (id, device_ref, software_ref, cve_ref, detail_ref, first_seen, opened_at, fixed_at, reopened) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    f.transaction(() => {
      for (let d = 1; d <= 601; d++) device.run(d, `dev-${d}`, d === 601 ? LONG_NAME : d % 5 ? `host-${d}` : `-cmd|${d}, "x"`, d % 2 ? 'Windows11' : null, `@group ${d % 3}`, '2026-12-01T10:00:00Z');
      for (let s = 1; s <= 20; s++) f.prepare('INSERT INTO software (ref, vendor, name, version) VALUES (?, ?, ?, ?)').run(s, 'vendor', s % 4 ? `app ${s}` : `+app,${s}`, `1.${s}`);
      for (let c = 1; c <= 90; c++) f.prepare('INSERT INTO cve (ref, cve_id) VALUES (?, ?)').run(c, `CVE-2026-${1000 + c}`);
      const severities = ['Critical', 'High', 'Medium', 'Low'];
      for (let x = 1; x <= 12; x++) {
        f.prepare('INSERT INTO finding_detail (ref, key, severity, cvss, exploitability, update_title, update_id) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(x, `k${x}`, severities[x % 4], x % 3 ? 9.5 - x / 2 : 7, 'NoExploit', `=Update "${x}"`, x % 2 ? `KB${x}` : null);
      }
      for (let id = 1; id <= FINDINGS; id++) {
        const fixed = id % 7 === 0;
        finding.run(id, id % 10_000 ? 1 + Math.floor((id - 1) / 100) : 601, 1 + (id % 20), 1 + (id % 90), 1 + (id % 12), id % 11 ? 1_790_000_000 + id * 60 : null, 1_796_000_000, fixed ? 1_796_100_000 : null, id % 13 ? 0 : 2);
      }
    })();
  });
  after(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, filter] of [['every finding', {}], ['open Critical and High', { status: 'open', severity: 'Critical,High' }]] as [string, FindingFilter][]) {
    it(`blocks, pages and chunks join into the one-piece export: ${name}`, async () => {
      const whole = await csv(store, filter, null);
      const split = await csv(store, filter, ids);
      assert.ok(whole.length > 2 << 20, `${whole.length} bytes: enough for several chunks per worker`);
      assert.ok(split.equals(whole), 'the split export differs from the one-piece export');
    });
  }

  it('writes every finding once, the long line whole and neutralised', async () => {
    const text = (await csv(store, {}, ids)).toString('utf8');
    const lines = text.split('\r\n');
    assert.equal(lines.pop(), '', 'every line ends in CRLF');
    assert.equal(lines.length, FINDINGS);
    const long = lines.filter((l) => l.includes('y'.repeat(1000)));
    assert.equal(long.length, FINDINGS / 10_000, 'the findings of the device with the long name');
    assert.ok(long.every((l) => l.startsWith(`${tenant.connectionId},dev-601,"'=HYPERLINK(""x""),yyy`)), long[0].slice(0, 120));
    assert.ok(lines.some((l) => l.startsWith(`${tenant.connectionId},dev-5,"'-cmd|5, ""x""",'@group 2,Windows11,vendor,`)), 'neutralised device cells');
    assert.ok(lines.some((l) => l.includes(`,vendor,"'+app,4",1.4,`)), 'neutralised software cells');
    assert.ok(lines.some((l) => l.includes(`,KB1,`)) && lines.some((l) => l.includes(`,"'=Update ""2""",`)), 'the update id, else its neutralised title');
  });
});
