// Patch content imports from feeds served on 127.0.0.1 (the fixtures, in the vendors' formats):
// every feed imports, the knowledge answers from it (cumulative Windows lines, Red Hat streams,
// Ubuntu releases, NVD ranges, KEV dates), a truncated or malformed document keeps the previous
// knowledge, files import offline, and the API starts imports and reports them.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createKnowledge, type FixQuery } from '../../src/content/knowledge.js';
import { ApiClient, startTestConsole, type TestConsole } from '../helpers/console.js';
import { serveFeeds, type FeedServer } from '../helpers/feed-server.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/feeds/', import.meta.url));
const fixture = (file: string) => readFileSync(`${FIXTURES}${file}`);

describe('Patch content: imports from the feeds and the answers they give', () => {
  let feedServer: FeedServer;
  let console_: TestConsole;
  let admin: ApiClient;

  before(async () => {
    feedServer = await serveFeeds();
    console_ = await startTestConsole({ ...feedServer.settings, syncTimeScale: 0.001 });
    admin = new ApiClient(console_.running.url);
    assert.equal((await admin.login()).status, 200);
  });
  after(async () => {
    await console_?.close();
    await feedServer?.close();
  });

  async function importNow(source: string) {
    const started = await admin.call('POST', '/api/v1/content/imports', { source });
    assert.equal(started.status, 202, started.text);
    for (;;) {
      const status = await admin.call('GET', `/api/v1/content/imports/${started.body.importId}`);
      assert.equal(status.status, 200);
      if (status.body.status === 'succeeded' || status.body.status === 'failed') return status.body;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const knowledge = () => createKnowledge(console_.running.services.store!.sqlite);
  const ask = (q: Partial<FixQuery> & { vendor: string; name: string; version: string; cveId: string }) =>
    knowledge().fixesFor([{ osVersion: null, recommendedUpdateId: null, recommendedUpdateTitle: null, ...q }])[0];

  it('imports every feed; the record counts documents, records and what was skipped', async () => {
    const done = await importNow('all');
    assert.equal(done.status, 'succeeded', done.error);
    assert.equal(done.source, 'all');
    // KEV's catalog, NVD's page, and a listing and a document of MSRC, Red Hat (two listings read as one) and Ubuntu.
    assert.equal(done.documents, 8);
    assert.ok(done.records > 20, `records ${done.records}`);
    // The fixture's messy Supercedence values (a truncated id, a version, a KB naming itself) are reported.
    assert.ok(done.skipped.count > 0 && done.skipped.first.some((s: any) => /CVE-2024-21433/.test(s.where)), JSON.stringify(done.skipped));
    assert.deepEqual(done.feeds.map((f: any) => [f.feed, f.status]), [['kev', 'succeeded'], ['msrc', 'succeeded'], ['redhat', 'succeeded'], ['ubuntu', 'succeeded'], ['nvd', 'succeeded']]);
    assert.equal(done.feeds.reduce((n: number, f: any) => n + f.records, 0), done.records);
    const list = await admin.call('GET', '/api/v1/content/imports');
    assert.equal(list.status, 200);
    assert.equal(list.body.items[0].importId, done.importId);
    const feeds = await admin.call('GET', '/api/v1/content/feeds');
    assert.ok(feeds.body.items.every((f: any) => f.lastSuccess?.importId === done.importId && f.lastImport.status === 'succeeded'), JSON.stringify(feeds.body));
  });

  it('Windows: the fixing cumulative update of the device\'s build line, and the newest one of that line', () => {
    const server2019 = ask({ vendor: 'microsoft', name: 'windows_server_2019', version: '10.0.17763.5400', cveId: 'CVE-2024-21407' });
    assert.equal(server2019.status, 'update');
    assert.equal(server2019.update?.id, '5035849');
    assert.equal(server2019.fixedVersion, '10.0.17763.5576');
    // CVE-2024-21433 is fixed on that line by an older update; the newest of the line (from another CVE) still deploys it.
    const older = ask({ vendor: 'microsoft', name: 'windows_server_2019', version: '10.0.17763.50', cveId: 'CVE-2024-21433' });
    assert.equal(older.update?.id, '4088875');
    assert.equal(older.deployable?.id, '5035849');
    const win11 = ask({ vendor: 'microsoft', name: 'windows_11', version: '10.0.22631.3155', cveId: 'CVE-2024-21407' });
    assert.equal(win11.update?.id, '5035853');
    assert.equal(win11.fixedVersion, '10.0.22631.3296');
    // A build line the CVE's remediations do not name: no Windows answer (Defender's hint, if any, stands in).
    assert.equal(ask({ vendor: 'microsoft', name: 'windows_10', version: '10.0.19045.4000', cveId: 'CVE-2024-21407' }).status, 'no_known_fix');
    assert.equal(ask({ vendor: 'microsoft', name: 'windows_10', version: '10.0.19045.4000', cveId: 'CVE-2024-21407', recommendedUpdateId: '5035845' }).update?.id, '5035845');
  });

  it('KEV dates come with every answer for a known exploited CVE', () => {
    const catalog = JSON.parse(fixture('kev/known_exploited_vulnerabilities.json').toString()) as { vulnerabilities: { cveID: string; dateAdded: string; dueDate: string }[] };
    const entry = catalog.vulnerabilities.find((v) => /^CVE-\d{4}-\d+$/.test(v.cveID) && /^\d{4}-\d\d-\d\d$/.test(v.dueDate))!;
    const fix = ask({ vendor: 'acme', name: 'widget', version: '1.0', cveId: entry.cveID });
    assert.deepEqual(fix.kev, { dateAdded: entry.dateAdded, dueDate: entry.dueDate });
    assert.equal(ask({ vendor: 'acme', name: 'widget', version: '1.0', cveId: 'CVE-1999-0001' }).kev, null);
  });

  it('Red Hat, Ubuntu and NVD answers come from their feeds\' records', () => {
    const db = console_.running.services.store!.content;
    const rh = db.prepare("SELECT * FROM redhat_state WHERE state = 'fixed' AND rhel_major IS NOT NULL LIMIT 1").get() as any;
    assert.ok(rh, 'a fixed Red Hat package state');
    const rhFix = ask({ vendor: 'red_hat', name: rh.package, version: '0:0.0.1-1.el1', cveId: rh.cve, osVersion: `enterprise_linux_${rh.rhel_major}.${rh.rhel_minor ?? 0}` });
    assert.equal(rhFix.status, 'update');
    assert.equal(rhFix.update?.kind, 'rhsa');
    assert.match(rhFix.update?.id ?? '', /^RH[SBE]A-\d{4}:\d+$/);
    const ub = db.prepare('SELECT * FROM ubuntu_fix WHERE fixed_version IS NOT NULL LIMIT 1').get() as any;
    const ubFix = ask({ vendor: 'ubuntu', name: ub.package, version: '0.1', cveId: ub.cve, osVersion: `ubuntu_linux_${ub.release}` });
    assert.deepEqual([ubFix.status, ubFix.update?.id, ubFix.update?.kind], ['update', ub.advisory, 'usn']);
    const range = db.prepare('SELECT * FROM nvd_range WHERE end_excluding IS NOT NULL AND start_including IS NULL AND start_excluding IS NULL LIMIT 1').get() as any;
    const [vendor, product] = range.product_key.split(':');
    const nvdFix = ask({ vendor, name: product, version: '0.0.1', cveId: range.cve });
    assert.deepEqual([nvdFix.status, nvdFix.fixedVersion], ['version', range.end_excluding]);
    const awaiting = db.prepare('SELECT cve FROM nvd_cve WHERE not_yet_known = 1 LIMIT 1').pluck().get() as string;
    assert.equal(ask({ vendor: 'acme', name: 'widget', version: '1.0', cveId: awaiting }).reason, 'not_analysed');
  });

  it('a truncated or malformed feed fails with a clear error and keeps the previous knowledge', async () => {
    const db = console_.running.services.store!.content;
    const before = db.prepare('SELECT count(*) FROM kev').pluck().get();
    feedServer.documents.set('/kev.json', fixture('kev/known_exploited_vulnerabilities.json').subarray(0, 500));
    const truncated = await importNow('kev');
    assert.equal(truncated.status, 'failed');
    assert.match(truncated.error, /KEV/);
    assert.equal(db.prepare('SELECT count(*) FROM kev').pluck().get(), before);
    const feeds = (await admin.call('GET', '/api/v1/content/feeds')).body.items;
    const kev = feeds.find((f: any) => f.feed === 'kev');
    assert.deepEqual([kev.lastImport.importId, kev.lastImport.status], [truncated.importId, 'failed']);
    assert.notEqual(kev.lastSuccess.importId, truncated.importId, 'the knowledge still comes from the earlier import');
    feedServer.documents.set('/kev.json', fixture('msrc/error-page.html'));
    const html = await importNow('kev');
    assert.equal(html.status, 'failed');
    assert.match(html.error, /web page|HTML/i);
    assert.equal(db.prepare('SELECT count(*) FROM kev').pluck().get(), before);
    // An MSRC document cut short: its month keeps what the previous import stored.
    const fixes = db.prepare("SELECT count(*) FROM msrc_fix WHERE document = '2024-Mar'").pluck().get();
    feedServer.documents.set('/cvrf/v3.0/updates', JSON.stringify({ value: [{ ID: '2024-Mar', InitialReleaseDate: '2024-03-12T07:00:00Z', CurrentReleaseDate: '2024-04-01T07:00:00Z' }] }));
    feedServer.documents.set('/cvrf/v3.0/cvrf/2024-Mar', fixture('msrc/2024-Mar.truncated.json'));
    const msrc = await importNow('msrc');
    assert.equal(msrc.status, 'failed');
    assert.match(msrc.error, /2024-Mar/);
    assert.equal(db.prepare("SELECT count(*) FROM msrc_fix WHERE document = '2024-Mar'").pluck().get(), fixes);
    feedServer.documents.set('/kev.json', fixture('kev/known_exploited_vulnerabilities.json'));
    feedServer.documents.set('/cvrf/v3.0/cvrf/2024-Mar', fixture('msrc/2024-Mar.json'));
  });

  it('NVD\'s bare 403 (over its rate limit) is waited out, and the import goes on', async () => {
    feedServer.refusals.set('/nvd/cves/2.0', 2);
    const done = await importNow('nvd');
    assert.equal(done.status, 'succeeded', done.error);
    assert.equal(feedServer.refusals.get('/nvd/cves/2.0'), 0);
    // Another feed's 403 is a refusal to report, not to retry.
    feedServer.refusals.set('/kev.json', 1);
    const refused = await importNow('kev');
    assert.equal(refused.status, 'failed');
    assert.match(refused.error, /403.*kevUrl/s);
    assert.equal(feedServer.refusals.get('/kev.json'), 0);
  });

  it('an unreachable feed fails after its retries, naming the setting to check', async () => {
    feedServer.documents.delete('/osv/Ubuntu/modified_id.csv');
    const done = await importNow('ubuntu');
    assert.equal(done.status, 'failed');
    assert.match(done.error, /404/);
    assert.match(done.error, /ubuntuOsvUrl/);
  });

  it('imports a downloaded document from a file, and refuses one that is no feed document', async () => {
    const content = console_.running.services.content;
    const done = await content.importFile(`${FIXTURES}redhat/cve-2024-5535.json`, 'test');
    assert.equal(done.status, 'succeeded', done.error ?? '');
    assert.equal(done.source, 'redhat');
    assert.ok(done.records > 0);
    await assert.rejects(content.importFile(`${FIXTURES}redhat/changes.csv`, 'test'), /not a feed document/);
  });

  it('only an operator or an administrator starts an import', async () => {
    const created = await admin.call('POST', '/api/v1/users', { username: 'content-analyst', password: 'harbour-lantern-mosaic-drift', role: 'analyst' });
    assert.equal(created.status, 201, created.text);
    const analyst = new ApiClient(console_.running.url);
    assert.equal((await analyst.login('content-analyst', 'harbour-lantern-mosaic-drift')).status, 200);
    assert.equal((await analyst.call('POST', '/api/v1/content/imports', { source: 'kev' })).status, 403);
    assert.equal((await analyst.call('GET', '/api/v1/content/imports')).status, 200);
    assert.equal((await admin.call('POST', '/api/v1/content/imports', { source: 'everything' })).status, 400);
  });
});
