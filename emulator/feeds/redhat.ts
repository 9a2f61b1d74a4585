// Red Hat's CSAF VEX files (security.access.redhat.com/data/csaf/v2/vex/): one CSAF 2.0 document
// per CVE, at {year}/cve-{year}-{serial}.json, listed with their last change in changes.csv (newest
// first) and, when withdrawn, in deletions.csv. The shape follows RedHatProductSecurity/
// security-data-guidelines (docs/csaf-vex.md): a product tree whose branches carry CPEs (products)
// and purls (components), `default_component_of` relationships whose product ids are
// "{stream}:{NEVRA}" for fixed components and "red_hat_enterprise_linux_9:{source}" for unfixed
// ones, product_status fixed / known_affected / known_not_affected, and remediations vendor_fix
// (its url names the RHSA), no_fix_planned ("Will not fix") and none_available ("Affected",
// "Deferred").

import { isoSeconds } from '../world/calendar.js';
import { hash } from '../world/random.js';
import type { Cve, Line, World } from '../world/world.js';
import type { Route } from '../http.js';
import { cweOf, redHatSeverity, splitEvr, type FeedContext } from './feed.js';

const BASE = '/data/csaf/v2/vex';
const SALT = 7401;
const RHEL9 = { id: 'red_hat_enterprise_linux_9', name: 'Red Hat Enterprise Linux 9', cpe: 'cpe:/o:redhat:enterprise_linux:9' };
const ARCHES: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

/** CSAF's timestamps: `2024-03-29T16:00:00+00:00`. */
const csafTime = (ms: number) => isoSeconds(ms).replace('Z', '+00:00');

export function vexPath(cve: Cve): string {
  const [, year, serial] = cve.id.split('-');
  return `${year}/cve-${year}-${serial}.json`;
}

/** Whether Red Hat publishes a VEX file for the CVE: one of its families ships on RHEL. */
export function hasVex(cve: Cve): boolean {
  return cve.id.startsWith('CVE-') && cve.family.lines.some((line) => line.stream.redhat);
}

/** The RHEL lines of a CVE's family and, for each, whether and when it is fixed. */
function rhelState(world: World, cve: Cve, t: number) {
  return cve.family.lines.filter((line) => line.stream.redhat).map((line) => {
    const fix = cve.fixes[line.familyLine];
    const affected = !Number.isNaN(fix);
    const at = affected ? world.fixTime(cve, line)! : undefined;
    return { line, fix, affected, fixed: at !== undefined && at <= t, at, delay: cve.delays[line.familyLine] };
  });
}

/** When the CVE's VEX file last changed at time t (its initial release: the CVE's publication). */
export function vexModified(world: World, cve: Cve, t: number): number {
  let last = cve.publishedAt;
  for (const s of rhelState(world, cve, t)) if (s.fixed && s.at! > last) last = s.at!;
  return last;
}

/** The binary RPMs (and the source RPM) of a fixed line, as NEVRAs. */
function nevras(world: World, line: Line, fix: number): { name: string; arch: string; nevra: string; purl: string }[] {
  const evr = world.version(line, fix);
  const { epoch, version, release } = splitEvr(evr);
  const source = line.component.spec.source!;
  const rpms = [...line.stream.packages.map((name) => [name, Object.values(ARCHES)] as const), [source, ['src']] as const];
  const out: { name: string; arch: string; nevra: string; purl: string }[] = [];
  const seen = new Set<string>();
  for (const [name, arches] of rpms) {
    for (const arch of arches) {
      const nevra = `${name}-${epoch}:${version}-${release}.${arch}`;
      if (seen.has(nevra)) continue;
      seen.add(nevra);
      out.push({ name, arch, nevra, purl: `pkg:rpm/redhat/${name}@${version}-${release}?arch=${arch}${epoch ? `&epoch=${epoch}` : ''}` });
    }
  }
  return out;
}

/** One CVE's VEX document as Red Hat publishes it at time t. */
export function vexDocument(world: World, cve: Cve, t: number): Record<string, unknown> {
  const states = rhelState(world, cve, t);
  const source = states[0].line.component.spec.source!;
  const severity = redHatSeverity(cve.cvss);
  const modified = vexModified(world, cve, t);
  const h = hash(world.seed, SALT, cve.family.index, cve.event);
  const bugzilla = String(2_200_000 + (h % 400_000));

  const streams = new Map<string, { id: string; name: string; cpe: string }>();
  const byArch = new Map<string, { category: string; name: string; product: Record<string, unknown> }[]>();
  const relationships: Record<string, unknown>[] = [];
  const fixed: string[] = [];
  const remediations: Record<string, unknown>[] = [];
  for (const s of states.filter((x) => x.fixed)) {
    const stream = s.line.stream.redhat!;
    streams.set(stream.productId, { id: stream.productId, name: stream.productName, cpe: stream.cpe });
    const ids: string[] = [];
    for (const rpm of nevras(world, s.line, s.fix)) {
      const list = byArch.get(rpm.arch) ?? [];
      list.push({ category: 'product_version', name: rpm.nevra, product: { name: rpm.nevra, product_id: rpm.nevra, product_identification_helper: { purl: rpm.purl } } });
      byArch.set(rpm.arch, list);
      const productId = `${stream.productId}:${rpm.nevra}`;
      relationships.push({
        category: 'default_component_of',
        full_product_name: { name: `${rpm.nevra} as a component of ${stream.productName}`, product_id: productId },
        product_reference: rpm.nevra, relates_to_product_reference: stream.productId,
      });
      ids.push(productId);
    }
    fixed.push(...ids);
    const rhsa = world.rhsa(s.line, s.fix);
    remediations.push({
      category: 'vendor_fix',
      details: 'For details on how to apply this update, which includes the changes described in this advisory, refer to:\n\nhttps://access.redhat.com/articles/11258' +
        (source === 'kernel' ? '\n\nThe system must be rebooted for this update to take effect.' : ''),
      product_ids: ids, url: `https://access.redhat.com/errata/${rhsa}`,
    });
  }
  const unfixedId = `${RHEL9.id}:${source}`;
  const pending = states.filter((x) => x.affected && !x.fixed);
  const notAffected = states.every((x) => !x.affected);
  const unfixed: Record<string, unknown>[] = [];
  if (pending.length > 0 || notAffected) {
    unfixed.push({ category: 'product_version', name: source, product: { name: source, product_id: source, product_identification_helper: { purl: `pkg:rpm/redhat/${source}?arch=src` } } });
    relationships.push({
      category: 'default_component_of',
      full_product_name: { name: `${source} as a component of ${RHEL9.name}`, product_id: unfixedId },
      product_reference: source, relates_to_product_reference: RHEL9.id,
    });
  }
  if (pending.length > 0) {
    const delay = pending[0].delay;
    remediations.push(delay === 'will_not_fix'
      ? { category: 'no_fix_planned', details: 'Will not fix', product_ids: [unfixedId] }
      : { category: 'none_available', details: delay === 'deferred' ? 'Deferred' : 'Affected', product_ids: [unfixedId] });
  }
  const allIds = [...fixed, ...(unfixed.length ? [unfixedId] : [])];
  if ((h >>> 3) % 10 < 3) {
    remediations.push({ category: 'workaround', details: "Mitigation for this issue is either not available or the currently available options don't meet the Red Hat Product Security criteria comprising ease of use and deployment, applicability to widespread installation base or stability.", product_ids: allIds });
  }
  const products = [...streams.values()];
  if (unfixed.length) products.push(RHEL9);
  const summary = `${source}: ${cve.title.replace(/ Vulnerability$/, '').toLowerCase()}`;
  const cwe = cweOf(cve.impact, h);
  const m = cve.metrics;
  const word = (v: string, map: Record<string, string>) => map[v];

  return {
    document: {
      aggregate_severity: { namespace: 'https://access.redhat.com/security/updates/classification/', text: severity },
      category: 'csaf_vex',
      csaf_version: '2.0',
      distribution: { text: 'Copyright © Red Hat, Inc. All rights reserved.', tlp: { label: 'WHITE', url: 'https://www.first.org/tlp/' } },
      lang: 'en',
      notes: [{ category: 'legal_disclaimer', text: 'This content is licensed under the Creative Commons Attribution 4.0 International License (https://creativecommons.org/licenses/by/4.0/). If you distribute this content, or a modified version of it, you must provide attribution to Red Hat Inc. and provide a link to the original.', title: 'Terms of Use' }],
      publisher: { category: 'vendor', contact_details: 'https://access.redhat.com/security/team/contact/', issuing_authority: 'Red Hat Product Security is responsible for vulnerability handling across all Red Hat offerings.', name: 'Red Hat Product Security', namespace: 'https://www.redhat.com' },
      references: [{ category: 'self', summary: 'Canonical URL', url: `https://security.access.redhat.com/data/csaf/v2/vex/${vexPath(cve)}` }],
      title: summary,
      tracking: {
        current_release_date: csafTime(modified),
        generator: { date: csafTime(modified), engine: { name: 'Red Hat SDEngine', version: '4.5.2' } },
        id: cve.id,
        initial_release_date: csafTime(cve.publishedAt),
        revision_history: [
          { date: csafTime(cve.publishedAt), number: '1', summary: 'Initial version' },
          ...(modified > cve.publishedAt ? [{ date: csafTime(modified), number: '2', summary: 'Current version' }] : []),
        ],
        status: 'final',
        version: modified > cve.publishedAt ? '2' : '1',
      },
    },
    product_tree: {
      branches: [{
        category: 'vendor', name: 'Red Hat',
        branches: [
          { category: 'product_family', name: 'Red Hat Enterprise Linux', branches: products.map((p) => ({ category: 'product_name', name: p.name, product: { name: p.name, product_id: p.id, product_identification_helper: { cpe: p.cpe } } })) },
          ...[...byArch].map(([arch, list]) => ({ category: 'architecture', name: arch, branches: list })),
          ...unfixed,
        ],
      }],
      relationships,
    },
    vulnerabilities: [{
      cve: cve.id,
      cwe,
      discovery_date: csafTime(cve.publishedAt - 3 * 86_400_000),
      ids: [{ system_name: 'Red Hat Bugzilla ID', text: bugzilla }],
      notes: [
        { category: 'description', text: cve.description || `A flaw was found in ${source}.`, title: 'Vulnerability description' },
        { category: 'summary', text: summary, title: 'Vulnerability summary' },
        { category: 'general', text: "The CVSS score(s) listed for this vulnerability do not reflect the associated product's status, and are included for informational purposes to better understand the severity of this vulnerability.", title: 'CVSS score applicability' },
      ],
      product_status: {
        ...(fixed.length ? { fixed } : {}),
        ...(pending.length ? { known_affected: [unfixedId] } : {}),
        ...(notAffected ? { known_not_affected: [unfixedId] } : {}),
      },
      references: [
        { category: 'self', summary: 'Canonical URL', url: `https://access.redhat.com/security/cve/${cve.id}` },
        { category: 'external', summary: `RHBZ#${bugzilla}`, url: `https://bugzilla.redhat.com/show_bug.cgi?id=${bugzilla}` },
        { category: 'external', summary: `https://www.cve.org/CVERecord?id=${cve.id}`, url: `https://www.cve.org/CVERecord?id=${cve.id}` },
        { category: 'external', summary: `https://nvd.nist.gov/vuln/detail/${cve.id}`, url: `https://nvd.nist.gov/vuln/detail/${cve.id}` },
      ],
      release_date: csafTime(cve.publishedAt),
      remediations,
      scores: cve.vector ? [{
        cvss_v3: {
          attackComplexity: word(m.AC, { L: 'LOW', H: 'HIGH' }), attackVector: word(m.AV, { N: 'NETWORK', A: 'ADJACENT_NETWORK', L: 'LOCAL', P: 'PHYSICAL' }),
          availabilityImpact: word(m.A, { H: 'HIGH', L: 'LOW', N: 'NONE' }), baseScore: cve.cvss, baseSeverity: cve.severity.toUpperCase(),
          confidentialityImpact: word(m.C, { H: 'HIGH', L: 'LOW', N: 'NONE' }), integrityImpact: word(m.I, { H: 'HIGH', L: 'LOW', N: 'NONE' }),
          privilegesRequired: word(m.PR, { N: 'NONE', L: 'LOW', H: 'HIGH' }), scope: m.S === 'C' ? 'CHANGED' : 'UNCHANGED',
          userInteraction: m.UI === 'R' ? 'REQUIRED' : 'NONE', vectorString: cve.vector, version: '3.1',
        },
        products: allIds,
      }] : [],
      threats: [{ category: 'impact', details: severity, product_ids: allIds }],
      title: summary,
    }],
  };
}

/** Every VEX file at time t with its last change, newest first (changes.csv's order). */
function changes(world: World, t: number): { path: string; modified: number }[] {
  const rows: { path: string; modified: number }[] = [];
  for (const cve of world.catalog(t)) if (hasVex(cve)) rows.push({ path: vexPath(cve), modified: vexModified(world, cve, t) });
  return rows.sort((a, b) => b.modified - a.modified || (a.path < b.path ? -1 : 1));
}

/** Documents Red Hat published and withdrew (rejected CVEs): a few a month, with ids no CVE of the world has. */
function deletions(world: World, t: number): { path: string; deleted: number }[] {
  const rows: { path: string; deleted: number }[] = [];
  for (let n = 0; ; n++) {
    const deleted = world.catalogStart + (n + 0.5) * 11 * 86_400_000;
    if (deleted > t) break;
    const year = new Date(deleted).getUTCFullYear();
    const [, , serial] = world.unusedCveId(year, n).split('-');
    rows.push({ path: `${year}/cve-${year}-${serial}.json`, deleted });
  }
  return rows.reverse();
}

const csvRow = (path: string, at: number) => `"${path}","${csafTime(at)}"`;

export function createRedHatRoutes(ctx: FeedContext): Route[] {
  const csv = (text: string) => ({ status: 200, headers: { 'content-type': 'text/csv; charset=utf-8' }, body: text });
  return [
    { method: 'GET', path: `${BASE}/changes.csv`, endpoint: 'redhatChanges', handle: () => csv(changes(ctx.world, ctx.time()).map((r) => csvRow(r.path, r.modified)).join('\n') + '\n') },
    { method: 'GET', path: `${BASE}/deletions.csv`, endpoint: 'redhatDeletions', handle: () => csv(deletions(ctx.world, ctx.time()).map((r) => csvRow(r.path, r.deleted)).join('\n') + '\n') },
    {
      method: 'GET', path: `${BASE}/:year/:file`, endpoint: 'redhatVex', handle: (req) => {
        const t = ctx.time();
        const m = /^cve-(\d{4})-(\d+)\.json$/.exec(req.params.file ?? '');
        const cve = m && m[1] === req.params.year ? ctx.world.findCve(`CVE-${m[1]}-${m[2]}`, t) : undefined;
        if (!cve || !hasVex(cve)) {
          return { status: 404, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>' };
        }
        return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(vexDocument(ctx.world, cve, t)) };
      },
    },
  ];
}
