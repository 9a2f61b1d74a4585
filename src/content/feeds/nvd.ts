// NVD CVE API 2.0 (`GET {base}?startIndex=…&resultsPerPage=…`, `lastModStartDate`/`lastModEndDate`
// for incremental sync): the CPE match ranges whose `versionEndExcluding` is the first fixed
// version of a third-party product, plus the paging and date-window arithmetic of the queries.

import { cpeProductKey, parseCpe23 } from './cpe.js';
import { FeedFormatError, isoTimestamp, list, notTheFormat, number, object, quote, readJsonObject, SkipLog, string, type DocumentInput, type Json } from './document.js';
import type { NvdCve, NvdCvss, NvdModifiedWindow, NvdPage, NvdPageResult, NvdPaging, NvdProductRanges, NvdVulnerableRange } from './types.js';

export { cpeProductKey, defenderCpeKeys, parseCpe23 } from './cpe.js';

/** NVD's statuses for CVEs it has not analysed yet. */
const NOT_YET_ANALYSED = new Set(['Received', 'Awaiting Analysis', 'Undergoing Analysis']);

/** Parses one response page into CVEs and per-product vulnerable ranges. */
export function parseNvdPage(input: DocumentInput, document: string): NvdPageResult {
  const root = readJsonObject(input, 'nvd', document);
  const startIndex = number(root.startIndex);
  const resultsPerPage = number(root.resultsPerPage);
  const totalResults = number(root.totalResults);
  if (!Array.isArray(root.vulnerabilities) || startIndex === null || resultsPerPage === null || totalResults === null) {
    throw notTheFormat('nvd', document, 'it lacks vulnerabilities, startIndex, resultsPerPage or totalResults');
  }
  const skip = new SkipLog();
  const cves: NvdCve[] = [];
  const products: NvdProductRanges[] = [];
  for (const [i, item] of root.vulnerabilities.entries()) {
    const cve = object(object(item)?.cve);
    const id = string(cve?.id);
    if (!cve || id === null) {
      skip.add(`vulnerability ${i + 1}`, 'no cve.id');
      continue;
    }
    const configurations = list(cve.configurations);
    const vulnStatus = string(cve.vulnStatus);
    const metrics = object(cve.metrics);
    cves.push({
      cve: id,
      published: isoTimestamp(cve.published),
      lastModified: isoTimestamp(cve.lastModified),
      vulnStatus,
      description: englishDescription(cve.descriptions),
      cvssV31: primaryCvss(metrics?.cvssMetricV31),
      cvssV40: primaryCvss(metrics?.cvssMetricV40),
      fixedVersionNotYetKnown: configurations.length === 0 && vulnStatus !== null && NOT_YET_ANALYSED.has(vulnStatus),
    });
    products.push(...productRanges(id, configurations, skip));
  }
  return {
    page: { startIndex, resultsPerPage, totalResults, returned: root.vulnerabilities.length, timestamp: isoTimestamp(root.timestamp) },
    cves,
    products,
    skipped: skip.items,
  };
}

function englishDescription(descriptions: unknown): string | null {
  const all = list(descriptions).map(object);
  return string((all.find((d) => d?.lang === 'en') ?? all[0])?.value);
}

/** NVD's own (`Primary`) score when there is one, else the first. */
function primaryCvss(metrics: unknown): NvdCvss | null {
  const all = list(metrics).map(object).filter((m): m is Json => m !== undefined);
  const metric = all.find((m) => m.type === 'Primary') ?? all[0];
  const data = object(metric?.cvssData);
  if (!data) return null;
  return { baseScore: number(data.baseScore), vector: string(data.vectorString), severity: string(data.baseSeverity) };
}

function productRanges(cve: string, configurations: unknown[], skip: SkipLog): NvdProductRanges[] {
  const byProduct = new Map<string, NvdProductRanges>();
  for (const [c, item] of configurations.entries()) {
    const configuration = object(item);
    const where = `${cve} configuration ${c + 1}`;
    if (configuration?.negate === true) {
      skip.add(where, 'a negated configuration is not interpreted');
      continue;
    }
    const vulnerable: { match: Json; criteria: string; where: string }[] = [];
    const runningOn: string[] = [];
    for (const [n, nodeItem] of list(configuration?.nodes).entries()) {
      const node = object(nodeItem);
      if (node?.negate === true) {
        skip.add(`${where} node ${n + 1}`, 'a negated node is not interpreted');
        continue;
      }
      for (const [m, matchItem] of list(node?.cpeMatch).entries()) {
        const match = object(matchItem);
        const criteria = string(match?.criteria);
        if (!match || criteria === null) continue;
        if (match.vulnerable === true) vulnerable.push({ match, criteria, where: `${where} node ${n + 1} match ${m + 1}` });
        else runningOn.push(criteria);
      }
    }
    for (const { match, criteria, where: at } of vulnerable) {
      const name = parseCpe23(criteria);
      if (!name || !name.part || !name.vendor || !name.product) {
        skip.add(at, `criteria ${quote(criteria)} is not a CPE 2.3 name with a part, vendor and product`);
        continue;
      }
      const endExcluding = string(match.versionEndExcluding);
      const range: NvdVulnerableRange = {
        criteria,
        matchCriteriaId: string(match.matchCriteriaId),
        version: name.version,
        update: name.update,
        targetSw: name.targetSw,
        startIncluding: string(match.versionStartIncluding),
        startExcluding: string(match.versionStartExcluding),
        endIncluding: string(match.versionEndIncluding),
        endExcluding,
        fixedVersion: endExcluding,
        runningOn,
      };
      const key = `${name.part}:${cpeProductKey(name.vendor, name.product)}`;
      let product = byProduct.get(key);
      if (!product) {
        product = { cve, part: name.part, vendor: name.vendor, product: name.product, ranges: [], fixedVersions: [], fixNamed: true };
        byProduct.set(key, product);
      }
      product.ranges.push(range);
      if (endExcluding === null) product.fixNamed = false;
      else if (!product.fixedVersions.includes(endExcluding)) product.fixedVersions.push(endExcluding);
    }
  }
  return [...byProduct.values()];
}

/**
 * Where the next request starts. NVD pages by offset; a page that returns nothing before the end
 * would make the query loop, so it is refused.
 */
export function nvdNextPage(page: NvdPage, pageSize = page.resultsPerPage): NvdPaging {
  const next = page.startIndex + page.returned;
  if (next >= page.totalResults) return { nextStartIndex: null, pagesLeft: 0 };
  if (page.returned === 0) {
    throw new FeedFormatError('nvd', `startIndex=${page.startIndex}`, `the page holds no CVEs although ${page.totalResults} match and only ${page.startIndex} came before`,
      'Run the import again later; NVD sometimes serves short pages while it updates. The knowledge from the previous import is kept.');
  }
  return { nextStartIndex: next, pagesLeft: Math.ceil((page.totalResults - next) / Math.max(1, pageSize)) };
}

const DAY = 24 * 60 * 60 * 1000;

/** NVD's date form: milliseconds and an explicit offset (NVD refuses dates without one), `2025-07-22T07:18:39.324+00:00`. */
export function nvdTimestamp(date: Date): string {
  return date.toISOString().replace(/Z$/, '+00:00');
}

/**
 * Splits "modified since `since`, up to `until`" into consecutive `lastModStartDate` /
 * `lastModEndDate` windows of at most `maxDays` (NVD allows 120). Adjacent windows share their
 * boundary instant, so nothing modified exactly then is missed. Send them with URLSearchParams so
 * the `+` of the offset is encoded.
 */
export function nvdModifiedWindows(since: Date, until: Date, maxDays = 120): NvdModifiedWindow[] {
  const start = since.getTime();
  const end = until.getTime();
  if (Number.isNaN(start) || Number.isNaN(end)) throw new RangeError('nvdModifiedWindows needs two valid dates');
  if (!(maxDays > 0)) throw new RangeError('nvdModifiedWindows needs a positive window length');
  const windows: NvdModifiedWindow[] = [];
  for (let from = start; from < end; from += maxDays * DAY) {
    const to = Math.min(from + maxDays * DAY, end);
    windows.push({ lastModStartDate: nvdTimestamp(new Date(from)), lastModEndDate: nvdTimestamp(new Date(to)) });
  }
  return windows;
}
