// Access control, route by route: no route answers an anonymous caller whatever the spelling of
// its URL, and every route answers each role and each connection-scoped principal exactly what it
// may see. The ground truth for counts comes from the emulator's own state.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { ApiClient, startTestConsole, type ApiResponse, type TestConsole } from '../helpers/console.js';
import { entraSignInSettings } from '../helpers/entra-sign-in.js';
import { connectEmulator, sync } from '../helpers/sync.js';

type Access = 'public' | 'analyst' | 'operator' | 'admin';
interface RouteRule {
  access: Access;
  /** The {id} in the path is a connection: one the caller may not see answers 404. */
  connection?: boolean;
  /** Only a browser session, never an API token. */
  sessionOnly?: boolean;
  /** Not probed in the matrix (it would end the caller's session); tested on its own below. */
  destructive?: boolean;
  /** The request the matrix sends; its answer shows whether the gate let it through. */
  body?: unknown;
  /** It covers every connection: a caller limited to some is refused (403). */
  allConnections?: boolean;
}

/** Every route of the API. A route the OpenAPI document lists but this table lacks fails the test. */
const ROUTES: Record<string, RouteRule> = {
  'GET /api/v1/health': { access: 'public' },
  'GET /health': { access: 'public' },
  'GET /ready': { access: 'public' },
  'GET /metrics': { access: 'admin', allConnections: true },
  'GET /api/v1/openapi.json': { access: 'analyst' },
  'POST /api/v1/auth/login': { access: 'public' },
  'GET /api/v1/auth/session': { access: 'public' },
  'POST /api/v1/auth/setup': { access: 'public' },
  'GET /api/v1/auth/entra/start': { access: 'public' },
  'GET /api/v1/auth/entra/callback': { access: 'public' },
  'POST /api/v1/auth/logout': { access: 'analyst', sessionOnly: true, destructive: true },
  'POST /api/v1/auth/password': { access: 'analyst', sessionOnly: true, body: { currentPassword: 'not the current one', newPassword: 'whatever-it-would-be' } },
  'GET /api/v1/auth/sessions': { access: 'analyst', sessionOnly: true },
  'DELETE /api/v1/auth/sessions/{id}': { access: 'analyst', sessionOnly: true },
  'POST /api/v1/auth/sessions/end-all': { access: 'analyst', sessionOnly: true, destructive: true },
  'POST /api/v1/auth/mfa/totp': { access: 'analyst', sessionOnly: true },
  'POST /api/v1/auth/mfa/totp/confirm': { access: 'analyst', sessionOnly: true, body: { code: '000000' } },
  'DELETE /api/v1/auth/mfa/totp': { access: 'analyst', sessionOnly: true, body: { password: 'not the password' } },
  'GET /api/v1/users': { access: 'admin' },
  'POST /api/v1/users': { access: 'admin', body: { username: 'probe', password: 'short', role: 'analyst' } },
  'PATCH /api/v1/users/{id}': { access: 'admin', body: {} },
  'DELETE /api/v1/users/{id}': { access: 'admin' },
  'GET /api/v1/tokens': { access: 'analyst' },
  'POST /api/v1/tokens': { access: 'analyst', sessionOnly: true, body: { name: '' } },
  'DELETE /api/v1/tokens/{id}': { access: 'analyst' },
  'GET /api/v1/settings/security': { access: 'admin' },
  'PATCH /api/v1/settings/security': { access: 'admin', body: {} },
  'GET /api/v1/settings/risk': { access: 'analyst' },
  'PATCH /api/v1/settings/risk': { access: 'admin', body: {} },
  'GET /api/v1/connections': { access: 'analyst' },
  'POST /api/v1/connections': { access: 'admin', body: {} },
  'GET /api/v1/connections/{id}': { access: 'analyst', connection: true },
  'PATCH /api/v1/connections/{id}': { access: 'admin', connection: true, body: { syncIntervalMinutes: 1 } },
  'DELETE /api/v1/connections/{id}': { access: 'admin', connection: true },
  'POST /api/v1/connections/{id}/test': { access: 'operator', connection: true },
  'POST /api/v1/connections/{id}/sync': { access: 'operator', connection: true, body: { kind: 'auto' } },
  'GET /api/v1/connections/{id}/sync-runs': { access: 'analyst', connection: true },
  'GET /api/v1/sync-runs/{runId}': { access: 'analyst' },
  'GET /api/v1/findings': { access: 'analyst' },
  'GET /api/v1/exposure/summary': { access: 'analyst' },
  'GET /api/v1/exposure/trend': { access: 'analyst' },
  'GET /api/v1/exposure/facets': { access: 'analyst' },
  'GET /api/v1/vulnerabilities': { access: 'analyst' },
  'GET /api/v1/vulnerabilities/{id}': { access: 'analyst' },
  'GET /api/v1/devices': { access: 'analyst' },
  'GET /api/v1/devices/{id}': { access: 'analyst' },
  'GET /api/v1/software': { access: 'analyst' },
  'GET /api/v1/software/{id}': { access: 'analyst' },
  'GET /api/v1/tenants': { access: 'analyst' },
  'GET /api/v1/exceptions': { access: 'analyst' },
  'POST /api/v1/exceptions': { access: 'operator' },
  'GET /api/v1/exceptions/{id}': { access: 'analyst' },
  'PATCH /api/v1/exceptions/{id}': { access: 'operator', body: {} },
  'DELETE /api/v1/exceptions/{id}': { access: 'operator' },
  'GET /api/v1/sla': { access: 'analyst' },
  'GET /api/v1/remediations': { access: 'analyst' },
  'GET /api/v1/remediations/{id}': { access: 'analyst' },
  'GET /api/v1/remediations/{id}/devices': { access: 'analyst' },
  'GET /api/v1/coverage-gaps': { access: 'analyst' },
  'GET /api/v1/content/imports': { access: 'analyst' },
  'GET /api/v1/content/feeds': { access: 'analyst' },
  'GET /api/v1/content/imports/{id}': { access: 'analyst' },
  'POST /api/v1/content/imports': { access: 'operator' },
  'GET /api/v1/audit-events': { access: 'admin' },
  'GET /api/v1/audit-events.csv': { access: 'admin' },
};

const RANK: Record<Access, number> = { public: -1, analyst: 0, operator: 1, admin: 2 };

interface Caller {
  name: string;
  client: ApiClient;
  role: 'analyst' | 'operator' | 'admin';
  scope: 'all' | 'A';
  via: 'session' | 'token';
  /** The account it acts for. */
  username: string;
}

/** A raw HTTP/1.1 request, so that the request target is sent exactly as written (absolute form, odd escapes). */
function rawRequest(port: number, method: string, target: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => { data += chunk; });
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), text: data }));
    const lines = [`${method} ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

/** Ways to spell the same path that a router decoding %-escapes (or an absolute-form target) maps to it. */
function spellings(path: string, port: number): string[] {
  // The first segment (api, metrics) with one letter, then each, %-escaped; a later letter in upper-case hex.
  const [, first, rest] = /^\/([^/]+)(.*)$/.exec(path)!;
  const hex = (c: string) => `%${c.charCodeAt(0).toString(16)}`;
  const escapedAt = (i: number) => `/${first.slice(0, i)}${hex(first[i])}${first.slice(i + 1)}${rest}`;
  const allEscaped = `/${[...first].map(hex).join('')}`;
  return [
    path,
    escapedAt(0), escapedAt(1), escapedAt(2), `${allEscaped}${rest}`, `${allEscaped}${rest.replace('/v1', '/%76%31')}`,
    `/${first}${rest.replace(/[a-z]/, (c) => hex(c).toUpperCase())}`,
    `http://127.0.0.1:${port}${path}`, `http://evil.example${path}`, `HTTP://127.0.0.1:${port}${escapedAt(0)}`,
  ];
}

describe('Access control, route by route', () => {
  let emulator: RunningEmulator;
  let console_: TestConsole;
  let admin: ApiClient;
  let port: number;
  let connectionA: string;
  let connectionB: string;
  let runA: string;
  let runB: string;
  let callers: Caller[];
  const findingsOf: Record<string, number> = {};

  before(async () => {
    emulator = await startEmulator({ devices: 12, tenants: 2, seed: 'access-test', timeScale: 0.01 });
    console_ = await startTestConsole({ ...entraSignInSettings(emulator), syncTimeScale: 0.01 });
    port = Number(new URL(console_.running.url).port);
    admin = new ApiClient(console_.running.url);
    assert.equal((await admin.login()).status, 200);
    connectionA = await connectEmulator(admin, emulator, { name: 'Tenant A' });
    const second = emulator.tenants.find((t) => t.tenantId !== emulator.tenantId && t.defenderProvisioned)!;
    connectionB = await connectEmulator(admin, emulator, { name: 'Tenant B', tenantId: second.tenantId, clientId: second.apps.consented!.clientId, clientSecret: second.apps.consented!.secretValue });
    const [syncA, syncB] = [await sync(admin, connectionA, 'full'), await sync(admin, connectionB, 'full')];
    assert.equal(syncA.status, 'succeeded');
    assert.equal(syncB.status, 'succeeded');
    runA = syncA.runId;
    runB = syncB.runId;
    for (const t of emulator.state().tenants) findingsOf[t.tenantId] = t.findings;
    findingsOf[connectionA] = findingsOf[emulator.tenantId];
    findingsOf[connectionB] = findingsOf[second.tenantId];

    const password = 'harbour-lantern-mosaic-drift';
    const user = async (username: string, role: Caller['role'], scope: Caller['scope']): Promise<ApiClient> => {
      const created = await admin.call('POST', '/api/v1/users', { username, password, role, connectionIds: scope === 'A' ? [connectionA] : null });
      assert.equal(created.status, 201, created.text);
      const client = new ApiClient(console_.running.url);
      assert.equal((await client.login(username, password)).status, 200);
      return client;
    };
    const token = async (role: Caller['role'], scope: Caller['scope']) => {
      const created = await admin.call('POST', '/api/v1/tokens', { name: `${role}-${scope}`, role, connectionIds: scope === 'A' ? [connectionA] : null });
      assert.equal(created.status, 201, created.text);
      return new ApiClient(console_.running.url, created.body.token);
    };
    callers = [
      { name: 'admin', client: admin, role: 'admin', scope: 'all', via: 'session', username: 'admin' },
      { name: 'operator', client: await user('olivia', 'operator', 'all'), role: 'operator', scope: 'all', via: 'session', username: 'olivia' },
      { name: 'analyst', client: await user('arthur', 'analyst', 'all'), role: 'analyst', scope: 'all', via: 'session', username: 'arthur' },
      { name: 'scoped operator', client: await user('sofia', 'operator', 'A'), role: 'operator', scope: 'A', via: 'session', username: 'sofia' },
      { name: 'scoped analyst', client: await user('samuel', 'analyst', 'A'), role: 'analyst', scope: 'A', via: 'session', username: 'samuel' },
      { name: 'admin token, read-only', client: await token('analyst', 'all'), role: 'analyst', scope: 'all', via: 'token', username: 'admin' },
      { name: 'admin token, tenant A only', client: await token('admin', 'A'), role: 'admin', scope: 'A', via: 'token', username: 'admin' },
    ];
  });
  after(async () => {
    await console_.close();
    await emulator.close();
  });

  async function documentedRoutes(): Promise<string[]> {
    const openapi = (await admin.call('GET', '/api/v1/openapi.json')).body;
    return Object.entries(openapi.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
  }

  it('lists every route of the API in this test, and the OpenAPI document says who may call each', async () => {
    assert.deepEqual((await documentedRoutes()).sort(), Object.keys(ROUTES).sort());
    const openapi = (await admin.call('GET', '/api/v1/openapi.json')).body;
    for (const [route, rule] of Object.entries(ROUTES)) {
      const [method, path] = route.split(' ');
      const operation = openapi.paths[path][method.toLowerCase()];
      assert.equal(operation.security?.length === 0, rule.access === 'public', route);
      assert.match(operation.description, rule.access === 'public' ? /Open to anyone/ : new RegExp(`Needs the ${rule.access} role`), route);
    }
  });

  it('answers no closed route to an anonymous caller, however its URL is spelled', async () => {
    let probes = 0;
    for (const route of await documentedRoutes()) {
      if (ROUTES[route].access === 'public') continue;
      const [method, template] = route.split(' ');
      const path = template.replace('{id}', connectionA).replace('{runId}', runA);
      for (const target of spellings(path, port)) {
        const response = await rawRequest(port, method, target, method === 'GET' ? {} : { 'content-type': 'application/json', 'content-length': '2' });
        probes++;
        assert.equal(response.status, 401, `${method} ${target} answered ${response.status}: ${response.text.slice(0, 300)}`);
        assert.match(response.text, /"code":"unauthenticated"/);
      }
    }
    assert.ok(probes > 200, `${probes} probes`);
    // An unknown route is just not found: it serves nothing either way.
    assert.equal((await rawRequest(port, 'GET', '/%61pi/v1/not-a-route')).status, 404);
  });

  it('answers every route for every role and scope: allowed, forbidden (403) or not found (404)', async () => {
    const throwaway = async () => (await admin.call('POST', '/api/v1/users', { username: `victim${Math.random().toString(36).slice(2, 8)}`, password: 'harbour-lantern-mosaic-drift', role: 'analyst' })).body.id as number;
    let probes = 0;
    for (const [route, rule] of Object.entries(ROUTES)) {
      if (rule.access === 'public' || rule.destructive) continue;
      const [method, template] = route.split(' ');
      for (const caller of callers) {
        for (const target of rule.connection ? [connectionA, connectionB] : ['-']) {
          let id: string = target;
          const roleOk = RANK[caller.role] >= RANK[rule.access];
          const sessionOk = !rule.sessionOnly || caller.via === 'session';
          const visible = !rule.connection || caller.scope === 'all' || target === connectionA;
          const scopeOk = !rule.allConnections || caller.scope === 'all';
          if (route === 'DELETE /api/v1/connections/{id}' && roleOk && visible) {
            if (caller.scope === 'A') continue; // it would remove tenant A, which the other probes read
            id = (await admin.call('POST', '/api/v1/connections?skipCheck=true', { name: `Doomed ${probes}`, tenantId: randomUUID(), clientId: randomUUID(), clientSecret: 'abc8Q~doomed-secret-value-for-probing' })).body.id;
          }
          if (template.includes('/users/{id}')) id = String(await throwaway());
          if (template.includes('/sessions/{id}') || template.includes('/tokens/{id}')) id = '999999';
          const path = template.replace('{id}', id).replace('{runId}', runA);
          const response: ApiResponse = await caller.client.call(method, path, rule.body ?? (method === 'GET' || method === 'DELETE' ? undefined : {}));
          probes++;
          const code = response.body?.error?.code;
          const label = `${caller.name}: ${method} ${path} → ${response.status} ${response.text.slice(0, 200)}`;
          if (!roleOk || !scopeOk) {
            assert.equal(response.status, 403, label);
            assert.equal(code, 'forbidden', label);
          } else if (!sessionOk) {
            assert.equal(response.status, 403, label);
            assert.equal(code, 'session_required', label);
          } else if (!visible) {
            assert.equal(response.status, 404, label);
            assert.equal(code, 'not_found', label);
          } else {
            assert.ok(!['unauthenticated', 'forbidden', 'session_required', 'csrf_failed'].includes(code), label);
            assert.ok(!(rule.connection && code === 'not_found'), label);
          }
        }
      }
    }
    assert.ok(probes > 150, `${probes} probes`);
  });

  it('lists, counts and reads only the connections each principal may see', async () => {
    for (const caller of callers) {
      const visible = caller.scope === 'all' ? [connectionA, connectionB] : [connectionA];
      const hidden = caller.scope === 'all' ? [] : [connectionB];
      const connections = (await caller.client.call('GET', '/api/v1/connections')).body;
      assert.deepEqual(connections.items.map((c: { id: string }) => c.id).filter((id: string) => [connectionA, connectionB].includes(id)).sort(), [...visible].sort(), caller.name);
      assert.equal(connections.total, connections.items.length);

      const all = (await caller.client.call('GET', '/api/v1/findings?status=open&limit=1000')).body;
      assert.equal(all.total, visible.reduce((sum, id) => sum + findingsOf[id], 0), `${caller.name}: total`);
      assert.ok(all.items.every((f: { connectionId: string }) => visible.includes(f.connectionId)), `${caller.name}: a finding of another tenant`);
      const csv = await caller.client.call('GET', '/api/v1/findings?status=open&format=csv');
      assert.equal(csv.status, 200, csv.text.slice(0, 200));
      const lines = csv.text.replace(/^\uFEFF/, '').trim().split('\n');
      assert.match(lines[0], /^connectionId,deviceId,deviceName,/);
      assert.equal(lines.length - 1, all.total, `${caller.name}: CSV rows`);
      assert.ok(lines.slice(1).every((line) => visible.some((id) => line.startsWith(`${id},`))), `${caller.name}: a CSV row of another tenant`);
      for (const id of hidden) {
        const other = (await caller.client.call('GET', `/api/v1/findings?connectionId=${id}&limit=10`)).body;
        assert.deepEqual([other.total, other.items.length], [0, 0], `${caller.name}: findings of ${id}`);
        assert.equal((await caller.client.call('GET', `/api/v1/sync-runs/${runB}`)).status, 404, `${caller.name}: run of B`);
        assert.equal((await caller.client.call('GET', `/api/v1/connections/${id}/sync-runs`)).status, 404);
      }
      assert.equal((await caller.client.call('GET', `/api/v1/sync-runs/${runA}`)).status, 200, caller.name);

      const tokens = (await caller.client.call('GET', '/api/v1/tokens')).body;
      if (caller.role !== 'admin') assert.ok(tokens.items.every((t: { username: string }) => t.username === caller.username), `${caller.name} sees another user's tokens`);
    }
  });

  it('makes a removed connection\'s findings and runs unreadable at once, then purges them', async () => {
    const before = (await admin.call('GET', `/api/v1/findings?connectionId=${connectionB}&limit=1`)).body.total;
    assert.equal(before, findingsOf[connectionB]);
    assert.equal((await admin.call('DELETE', `/api/v1/connections/${connectionB}`)).status, 204);
    assert.equal((await admin.call('GET', `/api/v1/findings?connectionId=${connectionB}&limit=1`)).body.total, 0);
    assert.equal((await admin.call('GET', '/api/v1/findings?limit=1')).body.total, findingsOf[connectionA]);
    assert.equal((await admin.call('GET', `/api/v1/sync-runs/${runB}`)).status, 404);
    const findingsDb = console_.running.services.store!.findings;
    for (let i = 0; i < 600 && findingsDb.prepare('SELECT 1 FROM tenant WHERE connection_id = ?').get(connectionB); i++) await sleep(50);
    assert.equal(findingsDb.prepare('SELECT 1 FROM tenant WHERE connection_id = ?').get(connectionB), undefined, 'purged from findings.db');
    assert.equal((findingsDb.prepare('SELECT count(*) AS n FROM finding').get() as { n: number }).n, findingsOf[connectionA]);
    for (const table of ['cve_exposure', 'software_exposure', 'software_cve', 'tenant_exposure', 'exposure_day']) {
      const orphans = findingsDb.prepare(`SELECT count(*) AS n FROM ${table} WHERE tenant_ref NOT IN (SELECT ref FROM tenant)`).get() as { n: number };
      assert.equal(orphans.n, 0, `${table} keeps rows of the purged connection`);
    }
    assert.equal((await admin.call('GET', '/api/v1/exposure/summary')).body.openFindings, findingsOf[connectionA]);
  });
});
