// The database files hold sealed secrets, accounts and every tenant's exposure: only the account
// SitePatch runs as may read them, whatever the data directory's own mode.

import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/store/database.js';

const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);

describe('The database files', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sitepatch-modes-'));
    chmodSync(dataDir, 0o755);
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  const files = () => ['sitepatch.db', 'findings.db'].flatMap((name) => [name, `${name}-wal`, `${name}-shm`]).map((name) => path.join(dataDir, name));

  it('are created readable by their owner only, in an existing directory open to everyone', async () => {
    const store = await openStore(dataDir);
    try {
      for (const file of files()) {
        assert.ok(existsSync(file), `${path.basename(file)} exists`);
        assert.equal(mode(file), '600', path.basename(file));
      }
    } finally {
      await store.close();
    }
  });

  it('are tightened to their owner only when opened', async () => {
    for (const file of files()) if (existsSync(file)) chmodSync(file, 0o644);
    const store = await openStore(dataDir);
    try {
      for (const file of files()) assert.equal(mode(file), '600', path.basename(file));
    } finally {
      await store.close();
    }
  });
});
