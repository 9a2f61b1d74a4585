// Operations endpoints: liveness, readiness (and its 503 when a migration is missing), request ids
// in the answers and the logs, and the Prometheus metrics of syncs, failures, 429s and requests.
// Counts are checked against the emulator's own state.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../emulator/server.js';
import { SqliteDatabase } from '../../src/store/sqlite-driver.js';
import { ApiClient } from '../helpers/console.js';
import { startSyncFixture, sync, type SyncFixture } from '../helpers/sync.js';

/** The value of one sample of a Prometheus text exposition (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('Operations: health, readiness, request ids and metrics', () => {
  let fixture: SyncFixture;
  let emulator: RunningEmulator;
  let anonymous: ApiClient;

  before(async () => {
    fixture = await startSyncFixture({ devices: 30, seed: 'ops-test', timeScale: 0.002 });
    emulator = fixture.emulator;
    anonymous = new ApiClient(fixture.console.running.url);
  });
  after(() => fixture.close());

  const metrics = async () => {
    const response = await fixture.api.call('GET', '/metrics');
    assert.equal(response.status, 200, response.text.slice(0, 200));
    assert.match(String(response.headers['content-type']), /^text\/plain/);
    return response.text;
  };

  it('answers /health and /ready to anyone, and keeps a proxy\'s request id', async () => {
    const health = await anonymous.call('GET', '/health');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    const ready = await anonymous.call('GET', '/ready', undefined, { 'x-request-id': 'lb-check.42' });
    assert.deepEqual([ready.status, ready.body.status], [200, 'ready']);
    assert.equal(ready.headers['x-request-id'], 'lb-check.42');
    assert.match(fixture.console.log(), /"requestId":"lb-check\.42"/);
    // An id that is not a plain token is replaced, not echoed.
    const odd = await anonymous.call('GET', '/health', undefined, { 'x-request-id': 'two words; <script>' });
    assert.match(String(odd.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('keeps the metrics closed to anonymous callers', async () => {
    const response = await anonymous.call('GET', '/metrics');
    assert.equal(response.status, 401);
    assert.equal(response.body.error.code, 'unauthenticated');
  });

  it('counts sync runs, their rows, failures and Defender\'s 429s', async () => {
    emulator.faults.add({ kind: 'throttle', endpoint: 'softwareVulnerabilitiesExport', times: 2, retryAfter: 1 } as never);
    const full = await sync(fixture.api, fixture.connectionId, 'full');
    assert.equal(full.status, 'succeeded', JSON.stringify(full.error));
    emulator.faults.clear();
    let text = await metrics();
    assert.equal(sample(text, 'sitepatch_sync_duration_seconds_count', { kind: 'full', outcome: 'ok' }), 1);
    assert.equal(sample(text, 'sitepatch_sync_rows_total', { kind: 'full', change: 'added' }), emulator.state().tenants[0].findings);
    assert.equal(sample(text, 'sitepatch_defender_throttled_total'), 2);
    assert.equal(sample(text, 'sitepatch_queue_oldest_job_age_seconds'), 0);

    // Refused every time: the run fails with a diagnosis, counted by its code.
    emulator.faults.add({ kind: 'throttle', endpoint: 'softwareVulnerabilitiesExport', times: 1000, retryAfter: 1 } as never);
    const failed = await sync(fixture.api, fixture.connectionId, 'full');
    emulator.faults.clear();
    assert.equal(failed.status, 'failed');
    text = await metrics();
    assert.equal(sample(text, 'sitepatch_sync_failures_total', { code: failed.error.code }), 1);
    assert.equal(sample(text, 'sitepatch_sync_duration_seconds_count', { kind: 'full', outcome: 'failed' }), 1);
    assert.ok(sample(text, 'sitepatch_defender_throttled_total')! > 2);
  });

  it('times requests by route pattern, not by the URL as sent', async () => {
    await fixture.api.call('GET', `/api/v1/connections/${fixture.connectionId}`);
    await anonymous.call('GET', '/api/v1/no-such-route');
    const text = await metrics();
    assert.ok(sample(text, 'sitepatch_http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/connections/:id', status: '200' })! >= 1);
    assert.ok(sample(text, 'sitepatch_http_request_duration_seconds_count', { route: 'unmatched', status: '404' })! >= 1);
    assert.ok(!text.includes(fixture.connectionId), 'no label holds a connection id');
    assert.ok(sample(text, 'sitepatch_process_resident_memory_bytes')! > 0);
  });

  it('answers /ready 503 when the store lacks a migration of this version', async () => {
    const file = path.join(fixture.console.dataDir, 'content.db');
    const db = new SqliteDatabase(file);
    const last = db.prepare('SELECT name FROM kysely_migration ORDER BY name DESC LIMIT 1').pluck().get() as string;
    db.prepare('DELETE FROM kysely_migration WHERE name = ?').run(last);
    try {
      const ready = await anonymous.call('GET', '/ready');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.error.code, 'not_ready');
      assert.ok(!ready.text.includes(last), 'an anonymous caller learns no migration names');
      assert.match(fixture.console.log(), new RegExp(`content\\.db lacks the migrations ${last}`));
    } finally {
      db.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run(last, new Date().toISOString());
      db.close();
    }
    assert.equal((await anonymous.call('GET', '/ready')).status, 200);
  });
});
