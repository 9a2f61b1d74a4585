// NVD's CVE API 2.0 (services.nvd.nist.gov/rest/json/cves/2.0): offset paging with startIndex and
// resultsPerPage (at most 2,000), lastModStartDate + lastModEndDate (together, at most 120 days
// apart), cveId; rate limited per rolling 30 seconds (5 requests without an apiKey header, 50 with).
// Errors come as NVD sends them: an empty body and the reason in a `message` header (404 for a bad
// parameter); a caller over its rate limit gets 403. Configurations carry CPE match ranges whose
// versionEndExcluding is the first fixed version; CVEs NVD has not analysed yet ("Received",
// "Awaiting Analysis") have none. Each analysis states what was true then: before a fix ships it
// names the last vulnerable version (versionEndIncluding), and NVD analyses the CVE again once one
// has shipped.

import { SNAPSHOT_MS } from '../world/calendar.js';
import { OTHER_PRODUCTS } from '../world/catalog.js';
import { guid, hash } from '../world/random.js';
import type { Cve, Line, World } from '../world/world.js';
import type { EmulatorRequest, Reply, Route } from '../http.js';
import { SlidingWindow } from '../sliding-window.js';
import { cweOf, type FeedContext } from './feed.js';
import { vulnerabilityName } from './kev.js';

const PATH = '/rest/json/cves/2.0';
const MAX_PAGE = 2000;
const MAX_RANGE_MS = 120 * 86_400_000;
const WINDOW_MS = 30_000;
const SALT = 7501;

/** NVD's timestamps: milliseconds, no zone (UTC). */
const nvdTime = (ms: number) => new Date(ms).toISOString().slice(0, 23);

const SOURCES: Record<string, string> = {
  windows: 'secure@microsoft.com', dotnet: 'secure@microsoft.com', office: 'secure@microsoft.com', chromium: 'chrome-cve-admin@google.com',
  firefox: 'security@mozilla.org', thunderbird: 'security@mozilla.org', acrobat: 'psirt@adobe.com', java8: 'secalert_us@oracle.com',
  java17: 'secalert_us@oracle.com', macos: 'product-security@apple.com', zoom: 'security@zoom.us', python: 'cna@python.org',
};

/** Which CVEs NVD serves: every CVE of the knowledge base but Defender-only ids, and not VMware's (their feed is not emulated). */
export function inNvd(cve: Cve): boolean {
  return cve.id.startsWith('CVE-') && !cve.family.components.some((c) => c.spec.feed === 'none');
}

/** The analysis in effect at time t, or undefined while NVD has not analysed the CVE. */
export function nvdAnalysis(cve: Cve, t: number): number | undefined {
  if (cve.nvdReanalysedAt !== null && cve.nvdReanalysedAt <= t) return cve.nvdReanalysedAt;
  if (cve.nvdAnalysedAt !== null && cve.nvdAnalysedAt <= t) return cve.nvdAnalysedAt;
  return undefined;
}

/** What an NVD analysis at time `at` says about one line: the first fixed version, or the last vulnerable one. */
export function nvdRange(world: World, cve: Cve, line: Line, at: number): { endExcluding?: string; endIncluding?: string } | undefined {
  const fix = cve.fixes[line.familyLine];
  if (Number.isNaN(fix)) return undefined;
  if (world.releaseTime(line.component, fix) <= at) return { endExcluding: world.version(line, fix) };
  return { endIncluding: world.version(line, world.latestRelease(line.component, at)) };
}

function cpeMatches(world: World, cve: Cve, at: number): Record<string, unknown>[] {
  const id = (n: number) => guid(world.seed, SALT, cve.family.index * 4096 + n, cve.event).toUpperCase();
  if (cve.otherProduct !== undefined) {
    const { vendor, product, version } = OTHER_PRODUCTS[cve.otherProduct];
    const h = hash(world.seed, SALT + 1, cve.event, cve.publishedAt % 100_000);
    return [{ vulnerable: true, criteria: `cpe:2.3:a:${vendor}:${product}:*:*:*:*:*:*:*:*`, versionStartIncluding: version, versionEndExcluding: `${version}.${1 + (h % 30)}`, matchCriteriaId: id(0) }];
  }
  const matches: Record<string, unknown>[] = [];
  cve.family.lines.forEach((line, n) => {
    const range = nvdRange(world, cve, line, at);
    if (!range) return;
    if (line.stream.nvd) {
      matches.push({
        vulnerable: true, criteria: line.stream.nvd.criteria,
        ...(line.stream.nvd.startIncluding ? { versionStartIncluding: line.stream.nvd.startIncluding } : {}),
        ...(range.endExcluding ? { versionEndExcluding: range.endExcluding } : { versionEndIncluding: range.endIncluding }),
        matchCriteriaId: id(n),
      });
    } else if (line.component.spec.cumulative) {
      // NVD describes Windows fixes by build: the product's CPE up to the fixed build.
      const client = !line.component.spec.key.startsWith('windows_server');
      const product = `${line.component.spec.key}${client ? `_${line.stream.key.toLowerCase()}` : ''}`;
      for (const arch of ['x64', 'arm64']) {
        if (!line.stream.msrc!.products.some((p) => p.architecture === arch || (!p.architecture && arch === 'x64'))) continue;
        matches.push({
          vulnerable: true, criteria: `cpe:2.3:o:microsoft:${product}:*:*:*:*:*:*:${arch}:*`,
          ...(range.endExcluding ? { versionEndExcluding: range.endExcluding } : { versionEndIncluding: range.endIncluding }),
          matchCriteriaId: id(n * 2 + (arch === 'x64' ? 0 : 1)),
        });
      }
    } else if (line.stream.redhat || line.stream.ubuntu) {
      const criteria = line.stream.redhat ? 'cpe:2.3:o:redhat:enterprise_linux:9.0:*:*:*:*:*:*:*' : `cpe:2.3:o:canonical:ubuntu_linux:${line.stream.ubuntu!.release}:*:*:*:lts:*:*:*`;
      if (!matches.some((m) => m.criteria === criteria)) matches.push({ vulnerable: true, criteria, matchCriteriaId: id(n) });
    }
  });
  return matches;
}

function lastModified(cve: Cve, t: number): number {
  let last = cve.publishedAt;
  for (const at of [cve.nvdAnalysedAt, cve.nvdReanalysedAt, cve.kev?.dateAdded ?? null]) if (at !== null && at <= t && at > last) last = at;
  return last;
}

const WORDS = {
  AV: { N: 'NETWORK', A: 'ADJACENT_NETWORK', L: 'LOCAL', P: 'PHYSICAL' }, AC: { L: 'LOW', H: 'HIGH' }, PR: { N: 'NONE', L: 'LOW', H: 'HIGH' },
  UI: { N: 'NONE', R: 'REQUIRED' }, S: { U: 'UNCHANGED', C: 'CHANGED' }, CIA: { H: 'HIGH', L: 'LOW', N: 'NONE' },
} as const;

function metric(cve: Cve, source: string, type: 'Primary' | 'Secondary'): Record<string, unknown> {
  const m = cve.metrics;
  return {
    source, type,
    cvssData: {
      version: '3.1', vectorString: cve.vector, baseScore: cve.cvss, baseSeverity: cve.severity.toUpperCase(),
      attackVector: WORDS.AV[m.AV], attackComplexity: WORDS.AC[m.AC], privilegesRequired: WORDS.PR[m.PR], userInteraction: WORDS.UI[m.UI],
      scope: WORDS.S[m.S], confidentialityImpact: WORDS.CIA[m.C], integrityImpact: WORDS.CIA[m.I], availabilityImpact: WORDS.CIA[m.A],
    },
  };
}

export function nvdRecord(world: World, cve: Cve, t: number): Record<string, unknown> {
  const analysis = nvdAnalysis(cve, t);
  const source = SOURCES[cve.family.spec.key] ?? (cve.family.lines.some((l) => l.stream.redhat) ? 'secalert@redhat.com' : 'cve@mitre.org');
  const status = analysis === undefined
    ? (t - cve.publishedAt < SNAPSHOT_MS ? 'Received' : 'Awaiting Analysis')
    : analysis === cve.nvdReanalysedAt ? 'Modified' : 'Analyzed';
  const h = hash(world.seed, SALT + 2, cve.family.index, cve.event);
  const kev = world.kevEntry(cve, t);
  return {
    cve: {
      id: cve.id,
      sourceIdentifier: source,
      published: nvdTime(cve.publishedAt),
      lastModified: nvdTime(lastModified(cve, t)),
      vulnStatus: status,
      cveTags: [],
      ...(kev ? { cisaExploitAdd: kev.dateAdded, cisaActionDue: kev.dueDate, cisaRequiredAction: 'Apply mitigations per vendor instructions or discontinue use of the product if mitigations are unavailable.', cisaVulnerabilityName: vulnerabilityName(cve) } : {}),
      descriptions: [{ lang: 'en', value: cve.description || `${cve.title} in ${cve.product}.` }],
      metrics: cve.vector ? { cvssMetricV31: [...(analysis !== undefined ? [metric(cve, 'nvd@nist.gov', 'Primary')] : []), metric(cve, source, 'Secondary')] } : {},
      weaknesses: [{ source, type: 'Secondary', description: [{ lang: 'en', value: cweOf(cve.impact, h).id }] }],
      ...(analysis !== undefined ? { configurations: [{ nodes: [{ operator: 'OR', negate: false, cpeMatch: cpeMatches(world, cve, analysis) }] }] } : {}),
      references: [{ url: `https://www.cve.org/CVERecord?id=${cve.id}`, source, tags: (h >>> 4) % 2 ? ['Vendor Advisory'] : [] }],
    },
  };
}

/** Every CVE NVD serves at time t, in NVD's order (by publication). */
function records(world: World, t: number): Cve[] {
  return [...world.catalog(t)].filter(inNvd).sort((a, b) => a.publishedAt - b.publishedAt || (a.id < b.id ? -1 : 1));
}

/** NVD's error: an empty body, the reason in a `message` header. */
function nvdError(status: number, message?: string): Reply {
  return { status, headers: message ? { message } : {}, body: '' };
}

function parseIntParam(req: EmulatorRequest, name: string, fallback: number, max: number): number | Reply {
  const text = req.url.searchParams.get(name);
  if (text === null) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > max) return nvdError(404, `Invalid ${name} parameter: ${text}`);
  return value;
}

export interface NvdOptions {
  /** Multiplies the rate-limit window (0.01: 30 s last 0.3 s). */
  timeScale: number;
  rateLimits: boolean;
  now: () => number;
}

export function createNvdRoutes(ctx: FeedContext, options: NvdOptions): { routes: Route[]; resetRateLimits: () => void } {
  const window = new SlidingWindow(options.timeScale, WINDOW_MS);
  let cached: { t: number; list: Cve[] } | undefined;
  const list = (t: number) => {
    if (!cached || cached.t !== t) cached = { t, list: records(ctx.world, t) };
    return cached.list;
  };

  function handle(req: EmulatorRequest): Reply {
    const apiKey = req.headers.apikey;
    if (apiKey !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(String(apiKey))) return nvdError(404, 'Invalid apiKey.');
    if (options.rateLimits) {
      const caller = apiKey === undefined ? 'public' : `key:${apiKey}`;
      const now = options.now();
      if (window.waitMs(caller, [{ count: apiKey === undefined ? 5 : 50, windowMs: WINDOW_MS }], now) > 0) return nvdError(403);
      window.record(caller, now);
    }
    const t = ctx.time();
    const startIndex = parseIntParam(req, 'startIndex', 0, Number.MAX_SAFE_INTEGER);
    if (typeof startIndex !== 'number') return startIndex;
    const perPage = parseIntParam(req, 'resultsPerPage', MAX_PAGE, MAX_PAGE);
    if (typeof perPage !== 'number') return perPage;
    const start = req.url.searchParams.get('lastModStartDate');
    const end = req.url.searchParams.get('lastModEndDate');
    if ((start === null) !== (end === null)) return nvdError(404, 'Both lastModStartDate and lastModEndDate are required when either is present.');
    let selected = list(t);
    if (start !== null && end !== null) {
      const from = Date.parse(start);
      const to = Date.parse(end);
      if (Number.isNaN(from) || Number.isNaN(to)) return nvdError(404, 'Invalid ISO 8601 date/time format, see documentation.');
      if (to < from || to - from > MAX_RANGE_MS) return nvdError(404, 'The lastModStartDate and lastModEndDate parameters must be within 120 days of each other, the start first.');
      selected = selected.filter((cve) => { const at = lastModified(cve, t); return at >= from && at <= to; });
    }
    const cveId = req.url.searchParams.get('cveId');
    if (cveId !== null) {
      if (!/^CVE-\d{4}-\d{4,}$/i.test(cveId)) return nvdError(404, `Invalid cveId parameter: ${cveId}`);
      selected = selected.filter((cve) => cve.id === cveId.toUpperCase());
    }
    const page = selected.slice(startIndex, startIndex + perPage);
    const body = JSON.stringify({
      resultsPerPage: page.length, startIndex, totalResults: selected.length, format: 'NVD_CVE', version: '2.0',
      timestamp: nvdTime(t), vulnerabilities: page.map((cve) => nvdRecord(ctx.world, cve, t)),
    });
    return { status: 200, headers: { 'content-type': 'application/json' }, body };
  }

  return { routes: [{ method: 'GET', path: PATH, endpoint: 'nvdCves', handle }], resetRateLimits: () => window.reset() };
}
