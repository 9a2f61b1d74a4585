// Microsoft's Security Update Guide API, CVRF v3.0 (api.msrc.microsoft.com/cvrf/v3.0): the list of
// monthly documents and each document in the JSON shape Microsoft serves with Accept:
// application/json. Enumerations are numbers as in the real documents (ProductStatuses Type 3 =
// known affected; Threats Type 0 impact, 1 exploit status, 3 severity; Remediations Type 2 vendor
// fix, 5 known issue). `Supercedence` carries the mess real documents do: several KBs split by ";",
// "," or "<br>", a "KB" prefix, legacy bulletin ids, truncated ids, and nothing at all on some
// cumulative updates. Documents are revised after release (new out-of-band updates, Edge fixes,
// exploitation detected), and their CurrentReleaseDate moves with each revision.

import { DAY_MS, MONTH_NAMES, cvrfMonthId, monthIndex, monthOfCvrfId, monthStart, patchTuesday } from '../world/calendar.js';
import { hash, unit } from '../world/random.js';
import type { Cve, Line, World } from '../world/world.js';
import { json, type Route } from '../http.js';
import type { FeedContext } from './feed.js';

const BASE = '/cvrf/v3.0';
const SALT = 7301;

/** CVRF's own date format: no zone (the times are UTC). */
const cvrfDate = (ms: number) => new Date(ms).toISOString().slice(0, 19);
const listingDate = (ms: number) => `${cvrfDate(ms)}Z`;

/** Documents carry the Patch Tuesday date at 08:00 UTC (midnight in Redmond). */
function documentDate(month: number): number {
  const tuesday = patchTuesday(month);
  return tuesday - (tuesday % DAY_MS) + 8 * 3600_000;
}

function documentTitle(month: number): string {
  return `${MONTH_NAMES[((month % 12) + 12) % 12]} ${1970 + Math.floor(month / 12)} Security Updates`;
}

function msrcLines(world: World): Line[] {
  return world.lines.filter((line) => line.stream.msrc);
}

/** Microsoft's severity rating for a CVE. */
function msrcSeverity(cve: Cve): string {
  if (cve.impact === 'Remote Code Execution' && cve.cvss >= 8.1) return 'Critical';
  if (cve.cvss >= 7 || cve.impact === 'Elevation of Privilege') return 'Important';
  return cve.cvss >= 4 ? 'Moderate' : 'Low';
}

/**
 * The month of the document that lists a CVE: the latest one released when Microsoft first fixed
 * it (Edge fixes between two Patch Tuesdays are added to the earlier month's document).
 */
function documentMonthOf(world: World, cve: Cve): number | undefined {
  const fix = firstMicrosoftFix(world, cve);
  if (fix === undefined) return undefined;
  const month = monthIndex(fix);
  return documentDate(month) <= fix ? month : month - 1;
}

/** The CVEs month M's document lists at time t: those fixed while it was the latest document, once public. */
function documentCves(world: World, month: number, t: number): Cve[] {
  const cves: Cve[] = [];
  const families = new Set(msrcLines(world).map((line) => line.component.family));
  for (const family of families) {
    const events = family.events;
    const end = Math.min(documentDate(month + 1), t + DAY_MS);
    for (let e = Math.max(family.firstEvent, events.firstAtOrAfter(documentDate(month) - 35 * DAY_MS)); events.time(e) < end; e++) {
      for (const cve of world.eventCves(family, e)) {
        // Defender-only TVM ids are in no vendor's documents.
        if (!cve.id.startsWith('CVE-') || documentMonthOf(world, cve) !== month || cve.publishedAt > t) continue;
        if ((firstMicrosoftFix(world, cve) ?? Infinity) <= t) cves.push(cve);
      }
    }
  }
  return cves;
}

function firstMicrosoftFix(world: World, cve: Cve): number | undefined {
  let first: number | undefined;
  for (const line of cve.family.lines) {
    if (!line.stream.msrc) continue;
    const at = world.fixTime(cve, line);
    if (at !== undefined && (first === undefined || at < first)) first = at;
  }
  return first;
}

/** Times at which month M's document changes, up to t. */
function revisions(world: World, month: number, cves: Cve[], t: number): { at: number; note: string }[] {
  const initial = documentDate(month);
  const out: { at: number; note: string }[] = [{ at: initial, note: 'Information published.' }];
  const seen = new Set<number>([initial]);
  const add = (at: number | null | undefined, note: string) => {
    if (at === null || at === undefined || at <= initial || at > t || at > documentDate(month + 2) || seen.has(at)) return;
    seen.add(at);
    out.push({ at, note });
  };
  for (const cve of cves) {
    const fix = firstMicrosoftFix(world, cve);
    if (fix !== undefined && fix > patchTuesday(month)) add(fix, `Added ${cve.id} (${cve.family.spec.product}).`);
    const detected = cve.kev?.dateAdded ?? cve.exploitStages[1];
    if (detected !== null && detected !== undefined && detected < patchTuesday(month) + 45 * DAY_MS) add(detected, `Updated the exploitability assessment of ${cve.id}.`);
  }
  const h = hash(world.seed, SALT, month);
  if (unit(h) < 0.3) add(initial + (1 + (h >>> 8) % 20) * DAY_MS, 'Updated FAQs and acknowledgments.');
  return out.sort((a, b) => a.at - b.at);
}

const SEPARATORS = ['; ', ', ', '<br>'];

/** Supercedence as Microsoft writes it for release j of a line. */
function supercedence(world: World, line: Line, j: number): string {
  const previous = world.previousSecurityRelease(line, j);
  if (previous === undefined) return '';
  const kb = world.kb(line, previous);
  const before = world.previousSecurityRelease(line, previous);
  const older = before === undefined ? undefined : world.kb(line, before);
  const h = hash(world.seed, SALT + 1, line.index, j);
  const roll = unit(h);
  const sep = SEPARATORS[(h >>> 8) % SEPARATORS.length];
  if (line.component.spec.cumulative) {
    // A cumulative update contains everything before it: Microsoft often leaves the field empty or odd.
    if (roll < 0.65) return kb;
    if (roll < 0.77) return '';
    if (roll < 0.85 && older) return `${kb}${sep}${older}`;
    if (roll < 0.9) return `KB${kb}`;
    if (roll < 0.95) return kb.slice(0, 6);
    return `${kb} `;
  }
  // Other products are fixed by the update or any that supersedes it: the chain is always there, in varied spellings.
  if (roll < 0.6) return kb;
  if (roll < 0.8 && older) return `${kb}${sep}${older}`;
  if (roll < 0.9) return `MS16-${String(100 + ((h >>> 12) % 60)).padStart(3, '0')}${sep}${kb}`;
  return `KB${kb}`;
}

function exploitStatus(world: World, cve: Cve, t: number): string {
  const level = world.exploitLevel(cve, t);
  const exploited = (cve.kev !== null && cve.kev.dateAdded <= t) || level === 'ExploitIsVerified' || level === 'ExploitIsInKit';
  const disclosed = level !== 'NoExploit' || cve.publishedAt < (world.earliestFix(cve) ?? Infinity);
  const likelihood = exploited ? 'Exploitation Detected' : cve.cvss >= 7.8 ? 'Exploitation More Likely' : 'Exploitation Less Likely';
  return `Publicly Disclosed:${disclosed ? 'Yes' : 'No'};Exploited:${exploited ? 'Yes' : 'No'};Latest Software Release:${likelihood};Older Software Release:${likelihood};DOS:N/A`;
}

/** CVSS 3.1 temporal score: exploit code maturity from the exploit level, official fix, confirmed report. */
function temporal(world: World, cve: Cve, t: number): { score: number; suffix: string } {
  const level = world.exploitLevel(cve, t);
  const [code, weight] = level === 'ExploitIsInKit' ? ['H', 1] : level === 'ExploitIsVerified' ? ['F', 0.97] : level === 'ExploitIsPublic' ? ['P', 0.94] : ['U', 0.91];
  const raw = Math.round(cve.cvss * (weight as number) * 0.95 * 100000);
  const score = raw % 10000 === 0 ? raw / 100000 : (Math.floor(raw / 10000) + 1) / 10;
  return { score, suffix: `/E:${code}/RL:O/RC:C` };
}

function vulnerability(world: World, cve: Cve, t: number, ordinal: number): Record<string, unknown> {
  const lines = cve.family.lines.filter((line) => line.stream.msrc && world.fixTime(cve, line) !== undefined && world.fixTime(cve, line)! <= t);
  const productIds = lines.flatMap((line) => line.stream.msrc!.products.map((p) => p.id));
  const remediations: Record<string, unknown>[] = [];
  for (const line of lines) {
    const fix = cve.fixes[line.familyLine];
    const ids = line.stream.msrc!.products.map((p) => p.id);
    const version = world.version(line, fix);
    if (line.component.spec.update !== 'kb') {
      // Edge is fixed by version: the remediation names the release notes and the fixed build.
      remediations.push({
        Description: { Value: 'Release Notes' }, URL: 'https://learn.microsoft.com/en-us/deployedge/microsoft-edge-relnotes-security',
        ProductID: ids, Type: 2, DateSpecified: false, AffectedFiles: [], RestartRequired: { Value: 'No' }, SubType: 'Security Update', FixedBuild: version,
      });
      continue;
    }
    const kb = world.kb(line, fix);
    remediations.push({
      Description: { Value: kb }, URL: `https://catalog.update.microsoft.com/v7/site/Search.aspx?q=KB${kb}`, Supercedence: supercedence(world, line, fix),
      ProductID: ids, Type: 2, DateSpecified: false, AffectedFiles: [], RestartRequired: { Value: line.component.spec.cumulative ? 'Yes' : 'Maybe' },
      SubType: 'Security Update', FixedBuild: version,
    });
    if (unit(hash(world.seed, SALT + 2, line.index, fix)) < 0.2) {
      remediations.push({ Description: { Value: kb }, URL: `https://support.microsoft.com/help/${kb}`, ProductID: ids, Type: 5, DateSpecified: false, AffectedFiles: [] });
    }
  }
  const chromium = cve.family.spec.key === 'chromium';
  const { score, suffix } = temporal(world, cve, t);
  return {
    Title: { Value: chromium ? `Chromium: ${cve.id} ${cve.title.replace(/ Vulnerability$/, '')}` : cve.title },
    Notes: [
      { Title: cve.title.split(' ').slice(0, 2).join(' '), Type: 7, Ordinal: '20', Value: cve.title.replace(/ (Remote Code Execution|Elevation of Privilege|Information Disclosure|Denial of Service|Spoofing|Security Feature Bypass) Vulnerability$/, '') },
      { Title: chromium ? 'Chrome' : 'Microsoft', Type: 8, Ordinal: '30', Value: chromium ? 'Chrome' : 'Microsoft' },
      { Title: 'FAQ', Type: 4, Ordinal: '10', Value: `<p>${cve.description || 'No further information.'}</p>` },
    ],
    DiscoveryDateSpecified: false,
    ReleaseDateSpecified: false,
    CVE: cve.id,
    ProductStatuses: [{ ProductID: productIds, Type: 3 }],
    Threats: [
      { Description: { Value: cve.impact }, ProductID: productIds, Type: 0, DateSpecified: false },
      { Description: { Value: msrcSeverity(cve) }, ProductID: productIds, Type: 3, DateSpecified: false },
      { Description: { Value: exploitStatus(world, cve, t) }, ProductID: [], Type: 1, DateSpecified: false },
    ],
    CVSSScoreSets: cve.vector ? [{ BaseScore: cve.cvss, TemporalScore: score, Vector: `${cve.vector}${suffix}`, ProductID: productIds }] : [],
    Remediations: remediations,
    Acknowledgments: [{ Name: [{ Value: unit(hash(world.seed, SALT + 3, cve.event)) < 0.5 ? 'Anonymous' : 'Microsoft Offensive Research &amp; Security Engineering (MORSE)' }], URL: [''] }],
    Ordinal: String(ordinal),
    RevisionHistory: [{ Number: '1.0', Date: cvrfDate(Math.max(cve.publishedAt, firstMicrosoftFix(world, cve) ?? cve.publishedAt)), Description: { Value: '<p>Information published.</p>\n' } }],
  };
}

function productTree(world: World, month: number): Record<string, unknown> {
  const end = monthStart(month + 1);
  const groups = new Map<string, { ProductID: string; Value: string }[]>();
  const names: { ProductID: string; Value: string }[] = [];
  for (const line of msrcLines(world)) {
    if (Number.isFinite(line.gaSlot) && line.component.schedule.time(line.gaSlot) >= end) continue;
    const group = line.component.spec.cumulative ? 'Windows' : line.component.family.spec.key === 'office' ? 'Microsoft Office' : line.component.family.spec.key === 'chromium' ? 'Browser' : 'Developer Tools';
    for (const p of line.stream.msrc!.products) {
      const product = { ProductID: p.id, Value: p.name };
      names.push(product);
      groups.set(group, [...(groups.get(group) ?? []), product]);
    }
  }
  return {
    Branch: [{ Items: [...groups].map(([Name, Items]) => ({ Items, Type: 2, Name })), Type: 0, Name: 'Microsoft' }],
    FullProductName: names,
  };
}

/** Months with a document at time t, oldest first. */
function documentMonths(world: World, t: number): number[] {
  const months: number[] = [];
  for (let m = monthIndex(world.catalogStart); m <= monthIndex(t); m++) if (documentDate(m) <= t) months.push(m);
  return months;
}

export function createMsrcRoutes(ctx: FeedContext): Route[] {
  const cache = new Map<string, { cves: Cve[]; revisions: { at: number; note: string }[] }>();
  function month(m: number, t: number) {
    const key = `${m}|${t}`;
    let entry = cache.get(key);
    if (!entry) {
      const cves = documentCves(ctx.world, m, t);
      entry = { cves, revisions: revisions(ctx.world, m, cves, t) };
      if (cache.size > 64) cache.clear();
      cache.set(key, entry);
    }
    return entry;
  }

  return [
    {
      method: 'GET', path: `${BASE}/updates`, endpoint: 'msrcUpdates', handle: (req) => {
        const t = ctx.time();
        const value = documentMonths(ctx.world, t).map((m) => {
          const id = cvrfMonthId(m);
          const current = month(m, t).revisions.at(-1)!.at;
          return {
            ID: id, Alias: id, DocumentTitle: documentTitle(m), Severity: null,
            InitialReleaseDate: listingDate(documentDate(m)), CurrentReleaseDate: listingDate(current),
            CvrfUrl: `${req.url.origin}${BASE}/cvrf/${id}`,
          };
        });
        return json(200, { '@odata.context': `${req.url.origin}${BASE}/$metadata#updates`, value });
      },
    },
    {
      method: 'GET', path: `${BASE}/cvrf/:id`, endpoint: 'msrcDocument', handle: (req) => {
        const t = ctx.time();
        const m = monthOfCvrfId(req.params.id ?? '');
        if (m === undefined || !documentMonths(ctx.world, t).includes(m)) {
          return json(404, { error: { code: 'NotFound', message: `No document found for id '${req.params.id}'.` } });
        }
        if (!/json/i.test(String(req.headers.accept ?? ''))) {
          return { status: 406, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'The emulator serves CVRF documents as JSON only: send Accept: application/json.' };
        }
        const { cves, revisions: history } = month(m, t);
        const id = cvrfMonthId(m);
        return json(200, {
          DocumentTitle: { Value: documentTitle(m) },
          DocumentType: { Value: 'Security Update' },
          DocumentPublisher: { ContactDetails: { Value: 'secure@microsoft.com' }, IssuingAuthority: { Value: 'The Microsoft Security Response Center (MSRC) identifies, monitors, resolves, and responds to security incidents and Microsoft software security vulnerabilities. For more information, see http://www.microsoft.com/security/msrc.' }, Type: 0 },
          DocumentTracking: {
            Identification: { ID: { Value: id }, Alias: { Value: id } },
            Status: 2,
            Version: `${history.length}.0`,
            RevisionHistory: history.map((r, i) => ({ Number: `${i + 1}.0`, Date: cvrfDate(r.at), Description: { Value: r.note } })),
            InitialReleaseDate: cvrfDate(documentDate(m)),
            CurrentReleaseDate: cvrfDate(history.at(-1)!.at),
          },
          DocumentNotes: [{ Title: 'Release Notes', Audience: 'Public', Type: 1, Ordinal: '1', Value: `<p>The ${documentTitle(m)} address vulnerabilities in Microsoft products.</p>` }],
          ProductTree: productTree(ctx.world, m),
          Vulnerability: cves.map((cve, i) => vulnerability(ctx.world, cve, t, i)),
        });
      },
    },
  ];
}
