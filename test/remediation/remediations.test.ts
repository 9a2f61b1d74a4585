// Remediations against the emulator's ground truth (/_emulator/tenants/{id}/patch-truth, computed
// from its own model): every open finding is in exactly one remediation or coverage gap, findings
// fold into the newest deployable update (superseded KBs, cumulative updates, advisories), each
// product update names the highest fixed version its findings need, the ranking follows the
// documented formula, and after an advance and a delta the counts follow Defender's.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../../emulator/server.js';
import { ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';
import { EmulatorClient } from '../helpers/emulator-client.js';
import { connectEmulator, importContent, sync } from '../helpers/sync.js';

/** Dotted numeric versions (Windows builds, Chrome-like), compared field by field: the test's own reading. */
function compareDotted(a: string, b: string): number {
  const x = a.split(/[.]/).map(Number);
  const y = b.split(/[.]/).map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** The remediation a truth row belongs to, by what the admin deploys. */
function expectedGroup(t: any): string {
  const fix = t.fix;
  const product = `${t.softwareVendor}/${t.softwareName}`;
  if (fix.status === 'no_known_fix') return `gap:${product}:${fix.reason}`;
  if (fix.status === 'version') return `product:${product}`;
  if (fix.update.kind === 'kb' && /^windows_(\d|server)/.test(t.softwareName)) return `update:${fix.deployable.id}`;
  return `update:${fix.deployable.id}`;
}

describe('Remediations: every open finding in exactly one, folded into the newest update, ranked by the formula', () => {
  let emulator: RunningEmulator;
  let raw: EmulatorClient;
  let console_: TestConsole;
  let admin: ApiClient;
  let connectionId: string;

  before(async () => {
    emulator = await startEmulator({ devices: 400, seed: 'remediations', timeScale: 0.002, rateLimits: false, devicesPerPart: 200 });
    raw = new EmulatorClient(emulator);
    console_ = await startTestConsole({ extraCaFile: emulator.caFile, syncTimeScale: 0.002, ...emulator.feeds });
    admin = new ApiClient(console_.running.url);
    assert.equal((await admin.login()).status, 200);
    connectionId = await connectEmulator(admin, emulator);
  });
  after(async () => {
    await console_?.close();
    await raw?.close();
  });

  async function all(path: string): Promise<any[]> {
    const items: any[] = [];
    for (let cursor: string | null = ''; cursor !== null;) {
      const page = await admin.call('GET', `${path}${path.includes('?') ? '&' : '?'}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(page.status, 200, page.text);
      items.push(...page.body.items);
      cursor = page.body.nextCursor;
    }
    return items;
  }

  /** Remediations and gaps answer the truth's open findings, grouped as the truth's updates and versions say. */
  async function compareWithTruth(): Promise<void> {
    const truth = ((await raw.get(`/_emulator/tenants/${emulator.tenantId}/patch-truth`)).json() as { value: any[] }).value;
    const expected = new Map<string, { findings: number; devices: Set<string>; versions: string[] }>();
    for (const t of truth) {
      const group = expectedGroup(t);
      const g = expected.get(group) ?? { findings: 0, devices: new Set(), versions: [] };
      g.findings++;
      g.devices.add(t.deviceId);
      if (t.fix.fixedVersion) g.versions.push(t.fix.fixedVersion);
      expected.set(group, g);
    }
    const remediations = await all('/api/v1/remediations?status=open,in_progress');
    const gaps = await admin.call('GET', '/api/v1/coverage-gaps?limit=1000');
    assert.equal(gaps.status, 200, gaps.text);
    const got = new Map<string, { findings: number; devices: number }>();
    const add = (group: string, findings: number, devices: number) => {
      assert.ok(!got.has(group), `${group} is one remediation`);
      got.set(group, { findings, devices });
    };
    for (const r of remediations) {
      const detail = (await admin.call('GET', `/api/v1/remediations/${r.id}`)).body;
      if (r.kind === 'product_update') {
        const product = detail.product as string;
        add(`product:${product}`, r.openFindings, r.devices);
        const want = expected.get(`product:${product}`);
        assert.ok(want, `product:${product} is in the truth`);
        // "Update to ≥ V": V is the highest version any of its findings needs.
        const minimum = detail.versions.find((v: any) => v.product === product)?.minimumVersion;
        if (!['red_hat', 'ubuntu'].includes(product.split('/')[0])) {
          assert.equal(minimum, want.versions.sort(compareDotted).at(-1), `${r.title}: the highest fixed version`);
        }
        assert.match(r.title, new RegExp(`≥ ${minimum.replace(/[.+]/g, '\\$&')}$`));
      } else {
        add(`update:${detail.update.id}`, r.openFindings, r.devices);
        if (r.kind === 'windows_update') {
          // The build to reach is the highest fixed build of its findings, on the line of the deployed update.
          const want = expected.get(`update:${detail.update.id}`)!.versions.sort(compareDotted).at(-1);
          assert.deepEqual(detail.versions.map((v: any) => v.minimumVersion), [want], r.title);
        }
      }
      // Why this score: the documented formula over the factors shown.
      const w = detail.whyThisScore;
      const weight = { none: 1, public: 1.25, verified: 1.5, inKit: 1.75, kev: 2 }[w.exploitLevel as string]!;
      assert.equal(w.devices, r.devices);
      assert.equal(w.criticality, 1, 'no RBAC group criticality is set yet');
      assert.equal(r.riskScore, Math.round(w.cvss * weight * (1 + w.epss) * Math.log10(10 + w.devices) * 10) / 10, r.title);
      assert.equal(detail.cveIds.length, r.cves);
    }
    for (const g of gaps.body.items) add(`gap:${g.product}:${g.reason}`, g.openFindings, g.devices);
    const report: string[] = [];
    for (const [group, want] of expected) {
      const have = got.get(group);
      if (!have || have.findings !== want.findings || have.devices !== want.devices.size) {
        report.push(`${group}: SitePatch ${JSON.stringify(have)}, truth ${want.findings} findings on ${want.devices.size} devices`);
      }
    }
    for (const group of got.keys()) if (!expected.has(group)) report.push(`${group}: not in the truth`);
    assert.deepEqual(report, []);
    assert.equal(gaps.body.totalFindings, [...expected].filter(([k]) => k.startsWith('gap:')).reduce((n, [, g]) => n + g.findings, 0));
    // Ranked highest first.
    const ranked = await all('/api/v1/remediations');
    for (let i = 1; i < ranked.length; i++) assert.ok(ranked[i - 1].riskScore >= ranked[i].riskScore, 'ranked by riskScore');
    for (const kind of ['windows_update', 'microsoft_update', 'linux_advisory', 'product_update']) {
      assert.ok(remediations.some((r) => r.kind === kind), `a ${kind} remediation`);
    }
  }

  it('after a full sync, once the content is imported (the findings are mapped again)', async () => {
    assert.equal((await sync(admin, connectionId, 'full')).status, 'succeeded');
    await importContent(admin);
    // The import maps the findings again on the sync queue; a sync after it runs behind it.
    assert.equal((await sync(admin, connectionId, 'delta')).status, 'succeeded');
    await compareWithTruth();
  });

  it('after an advance and a delta: fixed findings leave, completed remediations carry Defender\'s time', async () => {
    const before = await all('/api/v1/remediations');
    assert.equal((await raw.postJson('/_emulator/advance', { hours: 24 * 10 })).status, 200);
    await importContent(admin);
    assert.equal((await sync(admin, connectionId, 'auto')).status, 'succeeded');
    await compareWithTruth();
    const state = (await raw.get('/_emulator/state')).json() as { snapshotTime: string };
    const now = await all('/api/v1/remediations?status=complete');
    for (const r of now) {
      assert.equal(r.openFindings, 0);
      assert.ok(r.completedAt && r.completedAt <= state.snapshotTime, `${r.title} completed at ${r.completedAt}`);
      const detail = (await admin.call('GET', `/api/v1/remediations/${r.id}`)).body;
      assert.equal(detail.confirmation, `Confirmed by Defender at ${r.completedAt}`);
      const devices = await admin.call('GET', `/api/v1/remediations/${r.id}/devices`);
      assert.equal(devices.body.total, 0);
    }
    assert.ok(before.length > 0);
  });

  it('scores again with the weights and RBAC group criticality set in the risk settings', async () => {
    const bad = await admin.call('PATCH', '/api/v1/settings/risk', { exploitWeights: { kev: 1.5 } });
    assert.equal(bad.status, 422, bad.text);
    assert.equal(bad.body.error.field, 'exploitWeights.kev', 'KEV may not weigh less than in kit');
    // The emulator's devices and their RBAC groups: one group is made three times as critical.
    const rows = (await raw.exportFileRows(await raw.token())).rows;
    const groupOf = new Map(rows.map((r: any) => [r.DeviceId, r.RbacGroupId as number]));
    const critical = rows[0].RbacGroupId as number;
    const weights = { none: 1, public: 1.5, verified: 2, inKit: 2.5, kev: 4 };
    const changed = await admin.call('PATCH', '/api/v1/settings/risk', { exploitWeights: weights, groupCriticality: [{ connectionId, rbacGroupId: critical, criticality: 3 }] });
    assert.equal(changed.status, 200, changed.text);
    assert.match(changed.body.formula, /criticality/);
    // The scores are computed again on the sync queue: a sync queued now runs after it.
    assert.equal((await sync(admin, connectionId, 'delta')).status, 'succeeded');
    const remediations = await all('/api/v1/remediations?status=open,in_progress');
    let raised = 0;
    for (const r of remediations) {
      const w = (await admin.call('GET', `/api/v1/remediations/${r.id}`)).body.whyThisScore;
      const devices = (await all(`/api/v1/remediations/${r.id}/devices`)).map((d) => groupOf.get(d.deviceId));
      const criticality = devices.includes(critical) ? 3 : 1;
      if (criticality > 1) raised++;
      assert.equal(w.criticality, criticality, r.title);
      assert.equal(w.exploitWeight, weights[w.exploitLevel as keyof typeof weights], r.title);
      assert.equal(r.riskScore, Math.round(w.cvss * w.exploitWeight * (1 + w.epss) * Math.log10(10 + w.devices) * criticality * 10) / 10, r.title);
    }
    assert.ok(raised > 0 && raised < remediations.length, `${raised} of ${remediations.length} remediations have a device in the critical group`);
    const audit = (await admin.call('GET', '/api/v1/audit-events?limit=20')).body.items.find((e: any) => e.action === 'settings.update' && e.targetId === 'risk');
    assert.deepEqual(audit.details.changes.exploitWeights.to, weights);
  });

  it('hands off a remediation\'s devices as CSV, and refuses bad parameters', async () => {
    const [top] = await all('/api/v1/remediations?status=open,in_progress');
    const csv = await admin.call('GET', `/api/v1/remediations/${top.id}/devices?format=csv`);
    assert.equal(csv.status, 200);
    const lines = csv.text.replace(/^\uFEFF/, '').trim().split('\r\n');
    assert.equal(lines[0], 'deviceName,deviceId,osPlatform,osVersion,rbacGroupName,lastSeen,openFindings');
    assert.equal(lines.length - 1, top.devices);
    for (const bad of ['/api/v1/remediations?kind=nope', '/api/v1/remediations?sort=nope', '/api/v1/remediations?bogus=1', '/api/v1/coverage-gaps?limit=0']) {
      const answer = await admin.call('GET', bad);
      assert.equal(answer.status, 400, bad);
      assert.ok(answer.body.error.code, bad);
    }
    assert.equal((await admin.call('GET', '/api/v1/remediations/999999')).status, 404);
  });
});
