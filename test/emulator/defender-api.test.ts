import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { emulatorClient, type EmulatorClient } from '../helpers/emulator-client.js';

const PERMISSION_MESSAGE = 'The application does not have any of the required application permissions (Vulnerability.Read.All) to access the resource.';

function assertDefenderError(response: { status: number; json: () => any; text: string }, status: number, code: string): any {
  assert.equal(response.status, status, response.text);
  const { error } = response.json();
  assert.equal(error.code, code);
  assert.equal(typeof error.message, 'string');
  assert.match(error.target, /^[0-9a-f-]{36}$/);
  return error;
}

/** Rows keyed by finding id, with the fields that identify and describe a finding, whatever the casing. */
function normalise(row: Record<string, unknown>): string {
  const lower = Object.fromEntries(Object.entries(row).map(([k, v]) => [k.toLowerCase(), v]));
  const severity = lower.vulnerabilityseveritylevel || null;
  return JSON.stringify([lower.id, lower.deviceid, lower.devicename, lower.osplatform, lower.osversion, lower.rbacgroupid, lower.rbacgroupname,
    lower.softwarevendor, lower.softwarename, lower.softwareversion, lower.cveid, lower.cvssscore, severity,
    lower.recommendedsecurityupdateid, lower.firstseentimestamp, lower.lastseentimestamp, lower.exploitabilitylevel, lower.securityupdateavailable]);
}

describe('Defender API', () => {
  let client: EmulatorClient;
  let token: string;

  before(async () => {
    client = await emulatorClient({ devices: 40, devicesPerPart: 15, startTime: '2026-03-01T00:00:00Z', rateLimits: false });
    token = await client.token();
  });
  after(() => client.close());

  it('rejects a missing, tampered or foreign-audience bearer with 401', async () => {
    assertDefenderError(await client.get('/api/vulnerabilities'), 401, 'Unauthorized');
    const [h, p, s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), roles: ['Vulnerability.Read.All', 'Admin'] })).toString('base64url');
    assertDefenderError(await client.get('/api/vulnerabilities', `${h}.${forged}.${s}`), 401, 'Unauthorized');
    const graph = (await client.tokenRequest({ clientId: client.emulator.apps.consented.clientId, secret: client.emulator.apps.consented.secretValue },
      { scope: 'https://graph.microsoft.com/.default' })).json().access_token;
    const error = assertDefenderError(await client.get('/api/vulnerabilities', graph), 401, 'Unauthorized');
    assert.match(error.message, /audience/);
  });

  it('answers 403 with the documented message when admin consent is missing', async () => {
    const noConsent = await client.token(client.emulator.apps.noConsent);
    const error = assertDefenderError(await client.get('/api/machines/SoftwareVulnerabilitiesByMachine', noConsent), 403, 'Forbidden');
    assert.equal(error.message, PERMISSION_MESSAGE);
  });

  it('answers 401 once a token has expired', async () => {
    await client.postJson('/_emulator/faults', { kind: 'shortTokens', lifetimeSeconds: 1, times: 1 });
    const shortLived = await client.token();
    assert.equal((await client.get('/api/vulnerabilities?$top=1', shortLived)).status, 200);
    await sleep(2100);
    const error = assertDefenderError(await client.get('/api/vulnerabilities?$top=1', shortLived), 401, 'Unauthorized');
    assert.match(error.message, /expired/);
  });

  it('matches paths case-insensitively and accepts the /api/v1.0 prefix', async () => {
    const a = await client.get('/api/Vulnerabilities?$top=3', token);
    const b = await client.get('/API/V1.0/vulnerabilities?$top=3', token);
    assert.equal(a.status, 200);
    assert.deepEqual(a.json().value, b.json().value);
    assertDefenderError(await client.get('/api/machine', token), 404, 'ResourceNotFound');
  });

  it('pages SoftwareVulnerabilitiesByMachine with $skiptoken to exactly the snapshot row count', async () => {
    const state = (await client.get('/_emulator/state')).json();
    const findings = state.tenants[0].findings;
    assert.ok(findings > 1000);
    const { rows, links } = await client.pages('/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=700', token);
    assert.equal(rows.length, findings);
    assert.equal(new Set(rows.map((r) => r.id)).size, findings, 'no row twice');
    assert.equal(links.length, Math.ceil(findings / 700) - 1);
    for (const link of links) assert.match(link, /pagesize=700&\$skiptoken=/);
    const cursor = JSON.parse(Buffer.from(new URL(links[0]).searchParams.get('$skiptoken')!, 'base64').toString());
    assert.deepEqual(Object.keys(cursor), ['ExportDefinition', 'ExportFileIndex', 'LineStoppedAt']);
    const topped = (await client.get('/api/machines/SoftwareVulnerabilitiesByMachine?$top=5', token)).json();
    assert.equal(topped.value.length, 5);
    assert.equal(topped['@odata.nextLink'], undefined, '$top suppresses the next link');
    assertDefenderError(await client.get('/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=200001', token), 400, 'InvalidInput');
  });

  it('pages machinesVulnerabilities with $skip to the same findings', async () => {
    const json = await client.pages('/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=200000', token);
    const { rows, links } = await client.pages('/api/vulnerabilities/machinesVulnerabilities', token);
    assert.equal(rows.length, json.rows.length);
    assert.equal(links.length, Math.ceil(rows.length / 10000) - 1);
    if (links.length) assert.match(links[0], /\$skip=10000/);
    const key = (machine: string, cve: string, vendor: string, name: string, version: string) => [machine, cve, vendor, name, version].join('|');
    assert.deepEqual(
      new Set(rows.map((r) => key(r.machineId, r.cveId, r.productVendor, r.productName, r.productVersion))),
      new Set(json.rows.map((r) => key(r.deviceId, r.cveId, r.softwareVendor, r.softwareName, r.softwareVersion))),
    );
    const filtered = await client.pages(`/api/vulnerabilities/machinesVulnerabilities?$filter=machineId eq '${rows[0].machineId}'`, token);
    assert.equal(filtered.rows.length, rows.filter((r) => r.machineId === rows[0].machineId).length);
  });

  it('pages /api/vulnerabilities with $skip and filters on the documented fields', async () => {
    const all = await client.pages('/api/vulnerabilities', token);
    assert.ok(all.rows.length > 100);
    const critical = await client.pages("/api/vulnerabilities?$filter=severity eq 'Critical' and cvssV3 ge 9", token);
    assert.ok(critical.rows.length > 0);
    assert.equal(critical.rows.length, all.rows.filter((r) => r.severity === 'Critical').length);
    const since = '2026-02-25T00:00:00Z';
    const recent = await client.pages(`/api/vulnerabilities?$filter=updatedOn gt ${since}`, token);
    assert.equal(recent.rows.length, all.rows.filter((r) => Date.parse(r.updatedOn) > Date.parse(since)).length);
    assert.ok(all.rows.some((r) => r.exposedMachines > 0) && all.rows.some((r) => r.exposedMachines === 0));
    assertDefenderError(await client.get("/api/vulnerabilities?$filter=colour eq 'red'", token), 400, 'ODataError');
    assertDefenderError(await client.get('/api/vulnerabilities?$top=8001', token), 400, 'InvalidInput');

    const one = all.rows.find((r) => r.exposedMachines > 0);
    const entity = (await client.get(`/api/vulnerabilities/${one.id}`, token)).json();
    assert.equal(entity.id, one.id);
    const refs = (await client.get(`/api/vulnerabilities/${one.id}/machineReferences`, token)).json();
    assert.equal(refs.value.length, one.exposedMachines);
    const machine = refs.value[0].id;
    const perMachine = (await client.get(`/api/machines/${machine}/vulnerabilities`, token)).json();
    assert.ok(perMachine.value.some((v: { id: string }) => v.id === one.id));
    assertDefenderError(await client.get('/api/vulnerabilities/CVE-1999-0001', token), 404, 'ResourceNotFound');
    assertDefenderError(await client.get(`/api/machines/${'0'.repeat(40)}/vulnerabilities`, token), 404, 'ResourceNotFound');
  });

  it('serves export files whose union equals the JSON export, in PascalCase', async () => {
    const files = await client.exportFileRows(token);
    assert.ok(files.files.length >= 2, 'split into several parts');
    assert.match(files.files[0], /\/tvm-export\/\d{4}-\d{2}-\d{2}\/\d{4}\/VaExport\/json\/OrgId=.+\/part-00000-.+\.c000\.json\.gz\?sv=.+&se=.+&sig=/);
    assert.ok('DeviceId' in files.rows[0] && 'CveId' in files.rows[0] && !('deviceId' in files.rows[0]));
    const json = await client.pages('/api/machines/SoftwareVulnerabilitiesByMachine', token);
    assert.deepEqual(files.rows.map(normalise).sort(), json.rows.map(normalise).sort());
    const resumed = await client.get(files.files[0], undefined, { range: 'bytes=10-' });
    assert.equal(resumed.status, 206);
    assert.equal((await client.get(files.files[0])).body.subarray(10).compare(resumed.body), 0, 'a range request resumes the same bytes');
  });

  it('answers an expired SAS link with Azure Storage 403 AuthenticationFailed XML', async () => {
    await client.postJson('/_emulator/faults', { kind: 'expiredSas', times: 1 });
    const { exportFiles } = (await client.get('/api/machines/SoftwareVulnerabilitiesExport', token)).json();
    const blob = await client.get(exportFiles[0]);
    assert.equal(blob.status, 403);
    assert.match(String(blob.headers['content-type']), /xml/);
    assert.match(blob.text, /<Error><Code>AuthenticationFailed<\/Code><Message>Server failed to authenticate the request\./);
    assert.match(blob.text, /<AuthenticationErrorDetail>Signature not valid in the specified time frame: Start \[.+\] - Expiry \[.+\] - Current \[.+\]<\/AuthenticationErrorDetail>/);
    const tampered = exportFiles[0].replace(/sig=[^&]+/, 'sig=AAAA');
    assert.equal((await client.get(tampered)).status, 403);
  });

  it('reports, after an advance, exactly the difference between the two snapshots', async () => {
    const before = await client.pages('/api/machines/SoftwareVulnerabilitiesByMachine', token);
    const sinceTime = (await client.get('/_emulator/state')).json().snapshotTime;
    const advanced = (await client.postJson('/_emulator/advance', { hours: 6 })).json();
    assert.equal(Date.parse(advanced.snapshotTime) - Date.parse(sinceTime), 6 * 3600_000);
    const afterRows = await client.pages('/api/machines/SoftwareVulnerabilitiesByMachine', token);
    const delta = await client.pages(`/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=${sinceTime}&pageSize=40`, token);
    const statuses = new Set(delta.rows.map((r) => r.status));
    assert.ok(statuses.has('New') && statuses.has('Fixed'), `changes of both kinds: ${[...statuses]}`);
    for (const row of delta.rows) assert.equal(row.eventTimestamp, advanced.snapshotTime.replace('T', ' ').replace('.000Z', ''));

    // Apply the changes, in order, to the old snapshot: the result is the new snapshot.
    const state = new Map(before.rows.map((r) => [r.id, r]));
    for (const row of delta.rows) {
      if (row.status === 'Fixed') {
        assert.ok(state.has(row.id), `Fixed ${row.id} was open`);
        state.delete(row.id);
      } else {
        if (row.status === 'Updated') assert.ok(state.has(row.id), `Updated ${row.id} was open`);
        const { status: _s, eventTimestamp: _e, isOnboarded: _o, ...finding } = row;
        state.set(row.id, finding);
      }
    }
    const tracked = (r: Record<string, unknown>) => JSON.stringify([r.id, r.rbacGroupId, r.vulnerabilitySeverityLevel, r.cvssScore,
      r.exploitabilityLevel, r.recommendedSecurityUpdateId, r.securityUpdateAvailable, r.firstSeenTimestamp]);
    assert.deepEqual([...state.values()].map(tracked).sort(), afterRows.rows.map(tracked).sort());

    // Unchanged findings are not reported.
    const changedIds = new Set(delta.rows.map((r) => r.id));
    assert.ok(changedIds.size < afterRows.rows.length / 2);
  });

  it('reports an RBAC group move as Fixed in the old group and New in the new one', async () => {
    const groupsBefore = new Map((await client.pages('/api/machines/SoftwareVulnerabilitiesByMachine', token)).rows.map((r) => [r.deviceId, r.rbacGroupId]));
    let moved: string | undefined;
    for (let step = 0; step < 400 && !moved; step++) {
      client.emulator.advance(6);
      const rows = (await client.pages('/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=200000', token)).rows;
      moved = rows.find((r) => groupsBefore.has(r.deviceId) && groupsBefore.get(r.deviceId) !== r.rbacGroupId)?.deviceId;
      if (!moved) for (const r of rows) groupsBefore.set(r.deviceId, r.rbacGroupId);
    }
    assert.ok(moved, 'some device moved group');
    const state = (await client.get('/_emulator/state')).json();
    const lastBatch = new Date(Date.parse(state.snapshotTime) - 6 * 3600_000).toISOString();
    const delta = (await client.pages(`/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=${lastBatch}`, token)).rows.filter((r) => r.deviceId === moved);
    const fixed = delta.filter((r) => r.status === 'Fixed' && r.rbacGroupId === groupsBefore.get(moved));
    const added = delta.filter((r) => r.status === 'New' && r.rbacGroupId !== groupsBefore.get(moved));
    const both = fixed.filter((f) => added.some((n) => n.id === f.id));
    assert.ok(both.length > 0, 'the same finding shows up twice: Fixed in the old group, New in the new one');
  });

  it('validates sinceTime: required, and at most 14 days back', async () => {
    assertDefenderError(await client.get('/api/machines/SoftwareVulnerabilityChangesByMachine', token), 400, 'MissingRequiredParameter');
    const state = (await client.get('/_emulator/state')).json();
    const tooOld = new Date(Date.parse(state.snapshotTime) - 15 * 24 * 3600_000).toISOString();
    assertDefenderError(await client.get(`/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=${tooOld}`, token), 400, 'InvalidInput');
    assertDefenderError(await client.get('/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=yesterday', token), 400, 'InvalidInput');
  });
});

describe('Defender API rate limits', () => {
  let client: EmulatorClient;
  before(async () => { client = await emulatorClient({ timeScale: 0.02 }); });
  after(() => client.close());

  it('answers 429 TooManyRequests with Retry-After past the per-minute quota, then recovers', async () => {
    const token = await client.token();
    for (let call = 0; call < 5; call++) assert.equal((await client.get('/api/machines/SoftwareVulnerabilitiesExport', token)).status, 200);
    const throttled = await client.get('/api/machines/SoftwareVulnerabilitiesExport', token);
    assertDefenderError(throttled, 429, 'TooManyRequests');
    const retryAfter = Number(throttled.headers['retry-after']);
    assert.ok(retryAfter >= 1, 'Retry-After in whole seconds');
    // Quotas are per app and tenant: the other endpoints still answer.
    assert.equal((await client.get('/api/vulnerabilities?$top=1', token)).status, 200);
    await sleep(retryAfter * 1000);
    assert.equal((await client.get('/api/machines/SoftwareVulnerabilitiesExport', token)).status, 200);
  });
});
