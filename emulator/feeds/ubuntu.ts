// Canonical's Ubuntu security data in the OSV schema, laid out as osv.dev exports an ecosystem:
// /osv/Ubuntu/{ID}.json for each record and /osv/Ubuntu/modified_id.csv listing every record as
// "<modified RFC 3339>,<ID>", newest first (osv.dev's exporter sorts by modified, descending, then by
// id). Records are USNs (one per release of a source package, covering 22.04 and 24.04) and
// UBUNTU-CVE-… records (one per CVE, affected with or without a fix). `affected[].package.name` is
// the source package; `ecosystem_specific.binaries` the binary packages it builds (what Defender
// reports); universe packages are fixed only in Ubuntu Pro's ESM Apps pocket (`Ubuntu:Pro:…`).

import type { Component, Cve, Line, World } from '../world/world.js';
import type { Route } from '../http.js';
import type { FeedContext } from './feed.js';

const BASE = '/osv/Ubuntu';
const SCHEMA = '1.7.0';

const osvTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function priority(cve: Cve): string {
  return cve.cvss >= 9 ? 'critical' : cve.cvss >= 7 ? 'high' : cve.cvss >= 4 ? 'medium' : 'low';
}

function ecosystem(line: Line): string {
  const { release } = line.stream.ubuntu!;
  return line.component.spec.ubuntuPro ? `Ubuntu:Pro:${release}:LTS` : `Ubuntu:${release}:LTS`;
}

function distro(line: Line): string {
  return `${line.component.spec.ubuntuPro ? 'esm-apps/' : ''}${line.stream.ubuntu!.codename}`;
}

const availability = (line: Line) => (line.component.spec.ubuntuPro ? 'Available with Ubuntu Pro: https://ubuntu.com/pro' : 'No subscription required');

/** A USN: the release j of an Ubuntu component, with the CVEs it fixes on each release of Ubuntu. */
export interface Usn {
  id: string;
  component: Component;
  release: number;
}

function usnCves(world: World, usn: Usn, t: number): Map<Line, Cve[]> {
  const byLine = new Map<Line, Cve[]>();
  for (const line of usn.component.lines) {
    const cves = world.fixesOf(line, usn.release).filter((cve) => cve.publishedAt <= t && cve.id.startsWith('CVE-'));
    if (cves.length) byLine.set(line, cves);
  }
  return byLine;
}

/** Every USN published by time t. */
export function usns(world: World, t: number): Usn[] {
  const out: Usn[] = [];
  for (const component of world.components.filter((c) => c.spec.update === 'usn')) {
    const last = component.schedule.latest(t);
    for (let j = component.schedule.firstAtOrAfter(world.catalogStart); j <= last; j++) {
      if (component.lines.some((line) => world.isSecurityRelease(line, j))) out.push({ id: world.usn(component, j), component, release: j });
    }
  }
  return out;
}

function usnRecord(world: World, usn: Usn, t: number): Record<string, unknown> | undefined {
  const byLine = usnCves(world, usn, t);
  if (byLine.size === 0) return undefined;
  const cves = [...new Map([...byLine.values()].flat().map((c) => [c.id, c])).values()];
  const source = usn.component.spec.source!;
  const published = world.releaseTime(usn.component, usn.release);
  const modified = Math.max(published, ...cves.map((c) => c.publishedAt));
  return {
    schema_version: SCHEMA,
    id: usn.id,
    summary: `${source} ${cves.length > 1 ? 'vulnerabilities' : 'vulnerability'}`,
    details: cves.map((c) => `${c.description || `A security issue was found in ${source}.`} (${c.id})`).join('\n\n') + '\n',
    aliases: [],
    related: cves.map((c) => `UBUNTU-${c.id}`),
    upstream: cves.map((c) => c.id),
    published: osvTime(published),
    modified: osvTime(modified),
    affected: [...byLine].map(([line, fixed]) => {
      const version = world.version(line, usn.release);
      const previous: string[] = [];
      for (let j = line.component.schedule.back(usn.release, 1), n = 0; n < 12 && world.lineExists(line, j); j = line.component.schedule.back(j, 1), n++) previous.unshift(world.version(line, j));
      return {
        package: { ecosystem: ecosystem(line), name: source, purl: `pkg:deb/ubuntu/${source}@${version}?arch=source&distro=${distro(line)}` },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: version }] }],
        versions: previous,
        ecosystem_specific: {
          binaries: line.stream.packages.map((name) => ({ binary_name: name, binary_version: version })),
          availability: availability(line),
        },
        database_specific: {
          cves_map: {
            ecosystem: ecosystem(line),
            cves: fixed.map((c) => ({ id: c.id, severity: [...(c.vector ? [{ type: 'CVSS_V3', score: c.vector }] : []), { type: 'Ubuntu', score: priority(c) }] })),
          },
        },
      };
    }),
    references: [
      { type: 'ADVISORY', url: `https://ubuntu.com/security/notices/${usn.id}` },
      ...cves.map((c) => ({ type: 'REPORT', url: `https://ubuntu.com/security/${c.id}` })),
    ],
  };
}

/** Whether Ubuntu tracks the CVE: one of its families ships on Ubuntu. */
export function onUbuntu(cve: Cve): boolean {
  return cve.id.startsWith('CVE-') && cve.family.lines.some((line) => line.stream.ubuntu);
}

function cveModified(world: World, cve: Cve, t: number): number {
  let last = cve.publishedAt;
  for (const line of cve.family.lines.filter((l) => l.stream.ubuntu)) {
    const at = world.fixTime(cve, line);
    if (at !== undefined && at <= t && at > last) last = at;
  }
  return last;
}

function cveRecord(world: World, cve: Cve, t: number): Record<string, unknown> {
  const lines = cve.family.lines.filter((line) => line.stream.ubuntu && !Number.isNaN(cve.fixes[line.familyLine]));
  const related: string[] = [];
  const affected = lines.map((line) => {
    const fix = cve.fixes[line.familyLine];
    const fixed = world.releaseTime(line.component, fix) <= t;
    if (fixed) related.push(world.usn(line.component, fix));
    const source = line.component.spec.source!;
    return {
      package: { ecosystem: ecosystem(line), name: source, purl: `pkg:deb/ubuntu/${source}?arch=source&distro=${distro(line)}` },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, ...(fixed ? [{ fixed: world.version(line, fix) }] : [])] }],
      ...(fixed ? { ecosystem_specific: { binaries: line.stream.packages.map((name) => ({ binary_name: name, binary_version: world.version(line, fix) })), availability: availability(line) } } : {}),
    };
  });
  return {
    schema_version: SCHEMA,
    id: `UBUNTU-${cve.id}`,
    details: cve.description || `A security issue was found (${cve.id}).`,
    aliases: [],
    related: [...new Set(related)],
    upstream: [cve.id],
    published: osvTime(cve.publishedAt),
    modified: osvTime(cveModified(world, cve, t)),
    severity: [...(cve.vector ? [{ type: 'CVSS_V3', score: cve.vector }] : []), { type: 'Ubuntu', score: priority(cve) }],
    affected,
    references: [{ type: 'REPORT', url: `https://ubuntu.com/security/${cve.id}` }],
  };
}

export function createUbuntuRoutes(ctx: FeedContext): Route[] {
  let index: { until: number; byId: Map<string, Usn> } | undefined;
  const usnById = (t: number) => {
    if (!index || index.until !== t) index = { until: t, byId: new Map(usns(ctx.world, t).map((u) => [u.id, u])) };
    return index.byId;
  };
  const notFound = () => ({ status: 404, headers: { 'content-type': 'application/xml; charset=UTF-8' }, body: "<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>" });
  return [
    {
      method: 'GET', path: `${BASE}/modified_id.csv`, endpoint: 'ubuntuModified', handle: () => {
        const t = ctx.time();
        const rows: [number, string][] = [];
        for (const usn of usnById(t).values()) {
          const record = usnRecord(ctx.world, usn, t);
          if (record) rows.push([Date.parse(record.modified as string), usn.id]);
        }
        for (const cve of ctx.world.catalog(t)) if (onUbuntu(cve)) rows.push([cveModified(ctx.world, cve, t), `UBUNTU-${cve.id}`]);
        rows.sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? -1 : 1));
        return { status: 200, headers: { 'content-type': 'text/csv' }, body: rows.map(([at, id]) => `${osvTime(at)},${id}`).join('\n') + '\n' };
      },
    },
    {
      method: 'GET', path: `${BASE}/:file`, endpoint: 'ubuntuOsv', handle: (req) => {
        const t = ctx.time();
        const id = (req.params.file ?? '').replace(/\.json$/, '');
        let record: Record<string, unknown> | undefined;
        if (id.startsWith('USN-')) {
          const usn = usnById(t).get(id);
          record = usn && usnRecord(ctx.world, usn, t);
        } else if (id.startsWith('UBUNTU-CVE-')) {
          const cve = ctx.world.findCve(id.slice('UBUNTU-'.length), t);
          record = cve && onUbuntu(cve) ? cveRecord(ctx.world, cve, t) : undefined;
        }
        if (!record || !req.params.file?.endsWith('.json')) return notFound();
        return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(record) };
      },
    },
  ];
}
