// The console's API types are generated from the OpenAPI document: the committed file must match
// the route schemas, or the pages type-check against an API that no longer exists.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

it('web/src/api-types.ts is generated from the current route schemas', () => {
  const check = spawnSync(process.execPath, [path.join(root, 'web/scripts/api-types.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
});
