// Risk exceptions through the API: each scope kind covers the open findings the emulator reports
// for it (counted from its export, not by SitePatch), bad input gets a 400 that names the field,
// changes and removals are audited, a principal scoped to one connection cannot touch another's,
// and an exception expires on its own after its last day, audited once.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { createExceptionService } from '../../src/remediation/exceptions.js';
import { ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';
import { EmulatorClient } from '../helpers/emulator-client.js';
import { connectEmulator, sync } from '../helpers/sync.js';

const PASSWORD = 'harbour-lantern-mosaic-drift';
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe('Risk exceptions', () => {
  let emulator: RunningEmulator;
  let raw: EmulatorClient;
  let console_: TestConsole;
  let admin: ApiClient;
  let connectionId: string;
  let rows: any[];

  before(async () => {
    emulator = await startEmulator({ devices: 60, seed: 'exceptions', timeScale: 0.002, rateLimits: false });
    raw = new EmulatorClient(emulator);
    console_ = await startTestConsole({ extraCaFile: emulator.caFile, syncTimeScale: 0.002 });
    admin = new ApiClient(console_.running.url);
    assert.equal((await admin.login()).status, 200);
    connectionId = await connectEmulator(admin, emulator);
    assert.equal((await sync(admin, connectionId, 'full')).status, 'succeeded');
    rows = (await raw.exportFileRows(await raw.token())).rows;
  });
  after(async () => {
    await console_?.close();
    await raw?.close();
  });

  const create = (body: Record<string, unknown>, client = admin) => client.call('POST', '/api/v1/exceptions', {
    connectionId, justification: 'alternate_mitigation', owner: 'secops@contoso.example', expiresOn: day(30), ...body,
  });

  it('covers the open findings of a finding, a CVE, a software product and an RBAC group, as the emulator lists them', async () => {
    const first = rows[0];
    const cases: [Record<string, unknown>, number][] = [
      [{ kind: 'finding', deviceId: first.DeviceId.toUpperCase(), cveId: first.CveId, softwareVendor: first.SoftwareVendor, softwareName: first.SoftwareName, softwareVersion: first.SoftwareVersion }, 1],
      [{ kind: 'cve', cveId: first.CveId.toLowerCase() }, rows.filter((r) => r.CveId === first.CveId).length],
      [{ kind: 'software', softwareVendor: first.SoftwareVendor, softwareName: first.SoftwareName }, rows.filter((r) => r.SoftwareVendor === first.SoftwareVendor && r.SoftwareName === first.SoftwareName).length],
      [{ kind: 'software', softwareVendor: first.SoftwareVendor, softwareName: first.SoftwareName, softwareVersion: first.SoftwareVersion },
        rows.filter((r) => r.SoftwareVendor === first.SoftwareVendor && r.SoftwareName === first.SoftwareName && r.SoftwareVersion === first.SoftwareVersion).length],
      [{ kind: 'rbac_group', rbacGroupId: first.RbacGroupId }, rows.filter((r) => r.RbacGroupId === first.RbacGroupId).length],
    ];
    for (const [scope, expected] of cases) {
      const created = await create({ scope, comment: 'WAF rule 4711 blocks the vector' });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.status, 'active');
      assert.equal(created.body.openFindings, expected, JSON.stringify(scope));
      assert.equal(created.body.createdBy, 'admin');
    }
    const listed = await admin.call('GET', `/api/v1/exceptions?connectionId=${connectionId}&kind=software`);
    assert.equal(listed.status, 200);
    assert.equal(listed.body.total, 2);
    assert.deepEqual(listed.body.items.map((e: any) => e.scope.kind), ['software', 'software']);
  });

  it('refuses bad input with a 400 that names the field, and stores nothing', async () => {
    const before = (await admin.call('GET', '/api/v1/exceptions?status=all&limit=1000')).body.total;
    const cases: [Record<string, unknown>, string][] = [
      [{ scope: { kind: 'cve', cveId: 'CVE-2025-0001' }, expiresOn: undefined }, 'expiresOn'],
      [{ scope: { kind: 'cve', cveId: 'CVE-2025-0001' }, expiresOn: day(-1) }, 'expiresOn'],
      [{ scope: { kind: 'cve', cveId: 'CVE-2025-0001' }, expiresOn: day(400) }, 'expiresOn'],
      [{ scope: { kind: 'cve', cveId: 'CVE-2025-0001' }, expiresOn: '2026-02-30' }, 'expiresOn'],
      [{ scope: { kind: 'cve', cveId: 'not-a-cve' } }, 'scope.cveId'],
      [{ scope: { kind: 'cve', cveId: 'CVE-2025-0001', deviceId: 'abc' } }, 'scope.deviceId'],
      [{ scope: { kind: 'finding', cveId: 'CVE-2025-0001' } }, 'scope.deviceId'],
      [{ scope: { kind: 'rbac_group' } }, 'scope.rbacGroupId'],
      [{ scope: { kind: 'cve', cveId: 'CVE-2025-0001' }, owner: '  ' }, 'owner'],
    ];
    for (const [body, field] of cases) {
      const answer = await create(body);
      assert.equal(answer.status, 400, `${JSON.stringify(body)}: ${answer.text}`);
      if (answer.body.error.code === 'invalid_parameter') assert.equal(answer.body.error.field, field, answer.text);
      else assert.match(answer.body.error.message, new RegExp(field.split('.').pop()!), answer.text);
    }
    for (const body of [{ justification: 'because' }, { scope: { kind: 'everything' } }]) {
      assert.equal((await create({ scope: { kind: 'cve', cveId: 'CVE-2025-0001' }, ...body })).status, 400, JSON.stringify(body));
    }
    assert.equal((await create({ scope: { kind: 'cve', cveId: 'CVE-2025-0001' }, connectionId: 'no-such-connection' })).status, 404);
    assert.equal((await admin.call('GET', '/api/v1/exceptions?status=all&limit=1000')).body.total, before);
  });

  it('audits changes and removals, keeps the scope fixed, and lets a scoped operator touch only its connection', async () => {
    const created = (await create({ scope: { kind: 'cve', cveId: rows[1].CveId } })).body;
    const changed = await admin.call('PATCH', `/api/v1/exceptions/${created.id}`, { owner: 'ciso@contoso.example', expiresOn: day(60) });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.body.owner, 'ciso@contoso.example');
    assert.equal(changed.body.expiresOn, day(60));
    const moved = await admin.call('PATCH', `/api/v1/exceptions/${created.id}`, { scope: { kind: 'cve', cveId: 'CVE-2025-0002' } });
    assert.equal(moved.status, 400);
    assert.equal(moved.body.error.field, 'scope');

    const other = (await admin.call('POST', '/api/v1/connections?skipCheck=true', {
      name: 'Other tenant', tenantId: '6f1c6a52-0c1e-4a7e-9a3e-2d8f4f0b7c11', clientId: '7d1c6a52-0c1e-4a7e-9a3e-2d8f4f0b7c12', clientSecret: 'abc8Q~other-secret-value-for-the-test',
    })).body.id as string;
    assert.equal((await admin.call('POST', '/api/v1/users', { username: 'olga', password: PASSWORD, role: 'operator', connectionIds: [other] })).status, 201);
    const olga = new ApiClient(console_.running.url);
    assert.equal((await olga.login('olga', PASSWORD)).status, 200);
    assert.equal((await create({ scope: { kind: 'cve', cveId: rows[1].CveId } }, olga)).status, 404, 'not her connection');
    assert.equal((await olga.call('PATCH', `/api/v1/exceptions/${created.id}`, { owner: 'olga' })).status, 404);
    assert.equal((await olga.call('DELETE', `/api/v1/exceptions/${created.id}`)).status, 404);
    assert.equal((await olga.call('GET', '/api/v1/exceptions?status=all')).body.total, 0);
    assert.equal((await create({ scope: { kind: 'cve', cveId: 'CVE-2025-0003' }, connectionId: other }, olga)).status, 201);

    assert.equal((await admin.call('DELETE', `/api/v1/exceptions/${created.id}`)).status, 204);
    assert.equal((await admin.call('GET', `/api/v1/exceptions/${created.id}`)).status, 404);
    const audit = (await admin.call('GET', '/api/v1/audit-events?limit=200')).body.items.filter((e: any) => e.targetId === created.id);
    assert.deepEqual(audit.map((e: any) => e.action).reverse(), ['exception.create', 'exception.update', 'exception.delete']);
    assert.deepEqual(audit.find((e: any) => e.action === 'exception.update').details.changes, {
      owner: { from: 'secops@contoso.example', to: 'ciso@contoso.example' }, expiresOn: { from: day(30), to: day(60) },
    });
  });

  it('expires after its last day: audited once, no longer covering findings, and back when its expiry moves on', async () => {
    let clock = new Date();
    const { db, audit } = console_.running.services;
    const exceptions = createExceptionService({ db, audit, now: () => clock });
    const created = (await exceptions.create({
      connectionId, scope: { kind: 'cve', cveId: rows[0].CveId }, justification: 'risk_accepted', owner: 'secops', expiresOn: day(7),
    }, 'tester', null))!;
    assert.ok(created.openFindings > 0);
    clock = new Date(Date.now() + 7 * 86_400_000);
    assert.equal((await exceptions.get(created.id, null))!.status, 'active', 'it applies through its last day');
    clock = new Date(Date.now() + 8 * 86_400_000);
    assert.equal(await exceptions.expireDue(), 1);
    assert.equal(await exceptions.expireDue(), 0, 'audited once');
    const expired = (await exceptions.get(created.id, null))!;
    assert.equal(expired.status, 'expired');
    assert.equal(expired.openFindings, 0);
    assert.ok((await exceptions.list(null, { status: 'expired', limit: 50 })).items.some((e) => e.id === created.id));
    assert.ok(!(await exceptions.list(null, { status: 'active', limit: 50 })).items.some((e) => e.id === created.id));
    const entries = (await audit.list(200)).items.filter((e) => e.targetId === created.id);
    assert.deepEqual(entries.map((e) => [e.action, e.actor]).reverse(), [['exception.create', 'tester'], ['exception.expire', 'system']]);

    const renewed = (await exceptions.update(created.id, { expiresOn: day(20) }, 'tester', null))!;
    assert.equal(renewed.status, 'active');
    assert.equal(renewed.openFindings, created.openFindings);
  });
});
