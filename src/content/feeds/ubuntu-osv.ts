// Ubuntu's OSV records (USNs, Ubuntu CVE records, Livepatch notices) as osv.dev's bucket serves them
// (`{base}/Ubuntu/USN-6701-1.json`, all of them in `{base}/Ubuntu/all.zip`), and the bucket's
// `modified_id.csv` listing that incremental imports start from.

import {
  csvFields, isoTimestamp, list, notTheFormat, object, quote, readJsonObject, readText, SkipLog, string, strings,
  type DocumentInput, type Json,
} from './document.js';
import type {
  OsvModifiedResult, UbuntuAdvisoryKind, UbuntuBinary, UbuntuOsvResult, UbuntuPackageFix, UbuntuRelease,
} from './types.js';

/**
 * Parses a `modified_id.csv` listing: one `<modified RFC 3339>,<id>` row per record, newest first.
 * osv.dev's exporter writes no header (a `modified,id` header is tolerated); the bucket-wide listing
 * prefixes ids with their ecosystem (`Ubuntu/USN-7241-1`).
 */
export function parseOsvModifiedIndex(input: DocumentInput, document = 'modified_id.csv'): OsvModifiedResult {
  const skip = new SkipLog();
  const entries = [];
  const lines = readText(input, 'ubuntu', document).split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    const text = line.trim();
    if (text === '' || (i === 0 && /^modified,id$/i.test(text))) continue;
    const fields = csvFields(text);
    const modified = isoTimestamp(fields?.[0]);
    const path = string(fields?.[1]);
    if (!fields || fields.length !== 2 || modified === null || path === null) {
      skip.add(`line ${i + 1}`, `not a "modified,id" row: ${quote(line)}`);
      continue;
    }
    const slash = path.lastIndexOf('/');
    entries.push({ id: path.slice(slash + 1), ecosystem: slash < 0 ? null : path.slice(0, slash), modified });
  }
  if (entries.length === 0 && skip.items.length > 0) throw notTheFormat('ubuntu', document, `none of its ${skip.items.length} lines is a listing row`);
  return { entries, skipped: skip.items };
}

/** `Ubuntu:22.04:LTS`, `Ubuntu:25.04`, `Ubuntu:Pro:16.04:LTS`, `Ubuntu:Pro:FIPS-updates:20.04:LTS`, `Ubuntu:Pro:24.04:LTS:Realtime:Kernel`. */
export function parseUbuntuEcosystem(ecosystem: string): UbuntuRelease | null {
  const tokens = ecosystem.split(':');
  const at = tokens.findIndex((t) => /^\d{2}\.\d{2}$/.test(t));
  if (tokens[0] !== 'Ubuntu' || at < 0) return null;
  const pro = tokens[1] === 'Pro';
  const after = tokens.slice(at + 1);
  const lts = after[0] === 'LTS';
  const channel = [...tokens.slice(pro ? 2 : 1, at), ...after.slice(lts ? 1 : 0)].join(':');
  return { version: tokens[at], lts, pro, channel: channel === '' ? null : channel, ecosystem };
}

function advisoryKind(id: string): UbuntuAdvisoryKind {
  if (id.startsWith('USN-')) return 'usn';
  if (id.startsWith('UBUNTU-CVE-')) return 'ubuntu_cve';
  if (id.startsWith('LSN-')) return 'lsn';
  return 'other';
}

/** CVE ids among `upstream`/`aliases`; Ubuntu's own `UBUNTU-CVE-2024-1234` is CVE-2024-1234. */
function cveIds(...lists: unknown[]): string[] {
  const cves = lists.flatMap(strings).map((id) => id.replace(/^UBUNTU-/, '')).filter((id) => /^CVE-\d{4}-\d{4,}$/.test(id));
  return [...new Set(cves)];
}

/** Parses one OSV record into what it says per (release, source package). */
export function parseUbuntuOsv(input: DocumentInput, document: string): UbuntuOsvResult {
  const root = readJsonObject(input, 'ubuntu', document);
  const id = string(root.id);
  if (id === null || !('affected' in root || 'modified' in root)) throw notTheFormat('ubuntu', document, 'it has no OSV "id" and "affected"');
  const skip = new SkipLog();
  const kind = advisoryKind(id);
  const cves = cveIds(root.upstream, root.aliases);
  const withdrawn = isoTimestamp(root.withdrawn);
  const result: UbuntuOsvResult = {
    advisory: {
      id, kind, summary: string(root.summary), cves, related: strings(root.related),
      published: isoTimestamp(root.published), modified: isoTimestamp(root.modified), withdrawn,
    },
    fixes: [],
    skipped: skip.items,
  };
  if (withdrawn !== null) return result;
  for (const [i, item] of list(root.affected).entries()) {
    const fix = readAffected(object(item), id, kind, cves, `${id} affected ${i + 1}`, skip);
    if (fix) result.fixes.push(fix);
  }
  return result;
}

function readAffected(affected: Json | undefined, advisory: string, kind: UbuntuAdvisoryKind, cves: string[], where: string, skip: SkipLog): UbuntuPackageFix | null {
  const pkg = object(affected?.package);
  const ecosystem = string(pkg?.ecosystem);
  const name = string(pkg?.name);
  const release = ecosystem === null ? null : parseUbuntuEcosystem(ecosystem);
  if (!affected || name === null || release === null) {
    skip.add(where, `not an Ubuntu package: ${quote(pkg ?? affected)}`);
    return null;
  }
  const fixed: string[] = [];
  const ranges = list(affected.ranges);
  let versionRanges = 0;
  for (const [r, item] of ranges.entries()) {
    const range = object(item);
    if (range?.type !== 'ECOSYSTEM') {
      skip.add(`${where} range ${r + 1}`, `range type ${quote(range?.type)} is not ECOSYSTEM`);
      continue;
    }
    versionRanges++;
    for (const event of list(range.events).map(object)) {
      const version = string(event?.fixed);
      if (version !== null) fixed.push(version);
    }
  }
  // Without a range of package versions the entry cannot say whether a fix exists.
  if (ranges.length > 0 && versionRanges === 0) return null;
  if (fixed.length > 1) skip.add(where, `several fixed versions ${quote(fixed.join(', '))}: the last one is taken`);
  const specific = object(affected.ecosystem_specific);
  const binaries: UbuntuBinary[] = [];
  for (const [b, item] of list(specific?.binaries).entries()) {
    const binary = object(item);
    const binaryName = string(binary?.binary_name);
    const version = string(binary?.binary_version);
    if (binaryName === null || version === null) skip.add(`${where} binary ${b + 1}`, `no binary_name or binary_version: ${quote(item)}`);
    else binaries.push({ name: binaryName, version });
  }
  const availability = string(specific?.availability);
  const cvesMap = object(object(affected.database_specific)?.cves_map);
  const releaseCves = Array.isArray(cvesMap?.cves) ? cveIds(cvesMap.cves.map((c) => object(c)?.id)) : cves;
  return {
    advisory,
    kind,
    cves: releaseCves,
    release,
    package: name,
    fixedVersion: fixed.at(-1) ?? null,
    binaries,
    // "No subscription required" is the free archive; anything else (Ubuntu Pro, Livepatch) needs a subscription.
    proRequired: release.pro || (availability !== null && !/^no subscription required$/i.test(availability)),
    availability,
    affectedVersions: strings(affected.versions),
  };
}
