import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openStore } from '../../src/store/database.js';

describe('findings.db write-ahead log', () => {
  it('is folded into the database by a background thread after a commit, not by the commit', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-checkpoint-'));
    const store = await openStore(dataDir);
    try {
      const sizeBefore = statSync(store.findingsFile).size;
      const insert = store.findings.prepare('INSERT INTO cve (cve_id) VALUES (?)');
      store.findings.transaction(() => {
        for (let i = 0; i < 20_000; i++) insert.run(`CVE-2026-${String(i).padStart(5, '0')}`);
      })();
      assert.equal(statSync(store.findingsFile).size, sizeBefore, 'the commit leaves the rows in the log');

      await store.checkpointFindings();
      assert.ok(statSync(store.findingsFile).size > sizeBefore, 'the checkpoint copied the rows into findings.db');
      assert.equal((store.findings.prepare('SELECT count(*) AS n FROM cve').get() as { n: number }).n, 20_000);
    } finally {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
