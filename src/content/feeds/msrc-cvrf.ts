// MSRC Security Update Guide, CVRF v3 JSON: the updates listing (`GET {base}/updates`) and one
// monthly document (`GET {base}/cvrf/2024-Mar`, `Accept: application/json`).

import {
  isoTimestamp, list, notTheFormat, number, object, quote, readJsonObject, SkipLog, string, strings, valueText,
  type DocumentInput, type Json,
} from './document.js';
import type {
  MsrcCvrfResult, MsrcCvssScore, MsrcExploitStatus, MsrcFix, MsrcProduct, MsrcProductValue, MsrcRemediation,
  MsrcRemediationKind, MsrcSupersededUpdate, MsrcSupersedence, MsrcUpdatesResult, MsrcVulnerability,
} from './types.js';

/** Parses the updates listing: `{"value": [{"ID": "2024-Mar", "CurrentReleaseDate": …, "CvrfUrl": …}]}`. */
export function parseMsrcUpdates(input: DocumentInput, document = 'updates'): MsrcUpdatesResult {
  const root = readJsonObject(input, 'msrc', document);
  if (!Array.isArray(root.value)) throw notTheFormat('msrc', document, 'the updates listing has no "value" list');
  const skip = new SkipLog();
  const updates = [];
  for (const [i, item] of root.value.entries()) {
    const entry = object(item);
    const id = string(entry?.ID);
    if (!entry || id === null) {
      skip.add(`update ${i + 1}`, `no ID: ${quote(item)}`);
      continue;
    }
    updates.push({
      id,
      alias: string(entry.Alias),
      title: string(entry.DocumentTitle),
      severity: string(entry.Severity),
      initialReleaseDate: timestamp(entry.InitialReleaseDate, `update ${id} InitialReleaseDate`, skip),
      currentReleaseDate: timestamp(entry.CurrentReleaseDate, `update ${id} CurrentReleaseDate`, skip),
      cvrfUrl: string(entry.CvrfUrl),
    });
  }
  return { updates, skipped: skip.items };
}

/** Parses one monthly CVRF document into products, vulnerabilities, vendor fixes and supersedence edges. */
export function parseMsrcCvrf(input: DocumentInput, document: string): MsrcCvrfResult {
  const root = readJsonObject(input, 'msrc', document);
  const tracking = object(root.DocumentTracking);
  if (!tracking && !Array.isArray(root.Vulnerability)) throw notTheFormat('msrc', document, 'it has neither DocumentTracking nor Vulnerability');
  const skip = new SkipLog();
  let id = valueText(object(tracking?.Identification)?.ID);
  if (id === null) {
    skip.add('DocumentTracking', `no Identification.ID; the document is named ${quote(document)} instead`);
    id = document;
  }
  const products = productTree(object(root.ProductTree), skip);
  const vulnerabilities: MsrcVulnerability[] = [];
  for (const [i, item] of list(root.Vulnerability).entries()) {
    const vulnerability = object(item);
    const cve = string(vulnerability?.CVE);
    if (!vulnerability || cve === null) {
      skip.add(`vulnerability ${i + 1}`, 'no CVE id');
      continue;
    }
    vulnerabilities.push(readVulnerability(cve, vulnerability, skip));
  }
  return {
    document: {
      id,
      title: valueText(root.DocumentTitle),
      initialReleaseDate: timestamp(tracking?.InitialReleaseDate, 'DocumentTracking InitialReleaseDate', skip),
      currentReleaseDate: timestamp(tracking?.CurrentReleaseDate, 'DocumentTracking CurrentReleaseDate', skip),
    },
    products,
    vulnerabilities,
    fixes: vendorFixes(vulnerabilities),
    supersedence: supersedenceEdges(vulnerabilities, skip),
    skipped: skip.items,
  };
}

function timestamp(value: unknown, where: string, skip: SkipLog): string | null {
  const iso = isoTimestamp(value);
  if (iso === null && string(value) !== null) skip.add(where, `unreadable date ${quote(value)}`);
  return iso;
}

/** `FullProductName[]`, plus the products nested in `Branch` items (which also give their family). */
function productTree(tree: Json | undefined, skip: SkipLog): MsrcProduct[] {
  const products = new Map<string, MsrcProduct>();
  const add = (item: unknown, family: string | null, where: string): void => {
    const entry = object(item);
    const productId = string(entry?.ProductID);
    const name = string(entry?.Value);
    if (productId === null || name === null) {
      skip.add(where, `a product without ${productId === null ? 'ProductID' : 'name'}: ${quote(item)}`);
      return;
    }
    const known = products.get(productId);
    products.set(productId, { productId, name: known?.name ?? name, family: known?.family ?? family });
  };
  for (const [i, item] of list(tree?.FullProductName).entries()) add(item, null, `product tree FullProductName ${i + 1}`);
  const walk = (branches: unknown, family: string | null, where: string): void => {
    for (const [i, item] of list(branches).entries()) {
      const branch = object(item);
      if (branch && ('Items' in branch || 'Name' in branch) && !('ProductID' in branch)) {
        const isFamily = branch.Type === 1 || branch.Type === 'Product Family';
        walk(branch.Items, isFamily ? string(branch.Name) ?? family : family, `${where} ${i + 1}`);
      } else {
        add(item, family, `${where} ${i + 1}`);
      }
    }
  };
  walk(tree?.Branch, null, 'product tree branch');
  return [...products.values()];
}

// Threat, status and remediation types: numbers in the JSON (the enum order of Microsoft's CVRF
// schema), words in the XML documents.
const THREAT_TYPES: Record<string, 'impact' | 'exploit_status' | 'target_set' | 'severity'> = {
  0: 'impact', 1: 'exploit_status', 2: 'target_set', 3: 'severity',
  Impact: 'impact', 'Exploit Status': 'exploit_status', 'Target Set': 'target_set', Severity: 'severity',
};
const KNOWN_AFFECTED = new Set<unknown>([3, 'Known Affected']);
const REMEDIATION_KINDS: Record<string, MsrcRemediationKind> = {
  0: 'workaround', 1: 'mitigation', 2: 'vendor_fix', 3: 'none_available', 4: 'will_not_fix', 5: 'known_issue',
  // The XML documents have a "Release Notes" type that the published JSON enum stops short of; it
  // takes the next number (inference).
  6: 'release_notes',
  Workaround: 'workaround', Mitigation: 'mitigation', 'Vendor Fix': 'vendor_fix', 'None Available': 'none_available',
  'Will Not Fix': 'will_not_fix', 'Known Issue': 'known_issue', 'Release Notes': 'release_notes',
};

function readVulnerability(cve: string, vulnerability: Json, skip: SkipLog): MsrcVulnerability {
  const severity: MsrcProductValue[] = [];
  const impact: MsrcProductValue[] = [];
  let exploitStatus: MsrcExploitStatus | null = null;
  for (const [i, item] of list(vulnerability.Threats).entries()) {
    const threat = object(item);
    const kind = THREAT_TYPES[String(threat?.Type)];
    const value = valueText(threat?.Description);
    const where = `${cve} threat ${i + 1}`;
    if (!threat || !kind) {
      skip.add(where, `unknown threat type ${quote(threat?.Type)}`);
    } else if (value === null) {
      if (kind !== 'target_set') skip.add(where, 'a threat without a description');
    } else if (kind === 'exploit_status') {
      // Microsoft's own PowerShell module reads the last one when several are given.
      exploitStatus = parseExploitStatus(value, where, skip);
    } else if (kind !== 'target_set') {
      (kind === 'severity' ? severity : impact).push({ value, productIds: strings(threat.ProductID) });
    }
  }
  const knownAffected = list(vulnerability.ProductStatuses)
    .map(object)
    .filter((status) => KNOWN_AFFECTED.has(status?.Type))
    .flatMap((status) => strings(status?.ProductID));
  const cvss: MsrcCvssScore[] = list(vulnerability.CVSSScoreSets).map(object).filter((s): s is Json => s !== undefined).map((s) => ({
    baseScore: number(s.BaseScore),
    temporalScore: number(s.TemporalScore),
    vector: string(s.Vector),
    productIds: strings(s.ProductID),
  }));
  const remediations: MsrcRemediation[] = [];
  for (const [i, item] of list(vulnerability.Remediations).entries()) {
    const remediation = readRemediation(item, `${cve} remediation ${i + 1}`, skip);
    if (remediation) remediations.push(remediation);
  }
  return { cve, title: valueText(vulnerability.Title), knownAffected: [...new Set(knownAffected)], severity, impact, exploitStatus, cvss, remediations };
}

const EXPLOIT_FIELDS: Record<string, keyof MsrcExploitStatus> = {
  'publicly disclosed': 'publiclyDisclosed',
  exploited: 'exploited',
  'latest software release': 'latestSoftwareRelease',
  'older software release': 'olderSoftwareRelease',
  dos: 'denialOfService',
};

/** `Publicly Disclosed:No;Exploited:Yes;Latest Software Release:Exploitation Detected;DOS:N/A` */
function parseExploitStatus(text: string, where: string, skip: SkipLog): MsrcExploitStatus {
  const status: MsrcExploitStatus = {
    publiclyDisclosed: null, exploited: null, latestSoftwareRelease: null, olderSoftwareRelease: null, denialOfService: null,
  };
  for (const part of text.split(';')) {
    if (part.trim() === '') continue;
    const colon = part.indexOf(':');
    const field = colon < 0 ? undefined : EXPLOIT_FIELDS[part.slice(0, colon).trim().toLowerCase()];
    const value = colon < 0 ? '' : part.slice(colon + 1).trim();
    if (!field) {
      skip.add(where, `unknown exploit status part ${quote(part.trim())}`);
    } else if (field === 'publiclyDisclosed' || field === 'exploited') {
      const yes = /^yes$/i.test(value);
      if (!yes && !/^no$/i.test(value)) skip.add(where, `exploit status ${quote(part.trim())} is neither Yes nor No`);
      else status[field] = yes;
    } else {
      status[field] = value === '' ? null : value;
    }
  }
  return status;
}

const KB = /^(?:KB)?(\d{6,7})$/i;

function readRemediation(item: unknown, where: string, skip: SkipLog): MsrcRemediation | null {
  const remediation = object(item);
  const kind = REMEDIATION_KINDS[String(remediation?.Type)];
  if (!remediation || !kind) {
    skip.add(where, `unknown remediation type ${quote(remediation?.Type)}`);
    return null;
  }
  const description = valueText(remediation.Description);
  const kbMatch = description === null ? null : KB.exec(description);
  if (description !== null && !kbMatch && /^(?:KB)?\d+$/i.test(description)) {
    skip.add(where, `Description ${quote(description)} is not a KB number (KB numbers have 6 or 7 digits)`);
  }
  let fixedBuild = string(remediation.FixedBuild);
  if (fixedBuild !== null && /^[a-z]+:\/\//i.test(fixedBuild)) {
    skip.add(where, `FixedBuild ${quote(fixedBuild)} is a link, not a build or version`);
    fixedBuild = null;
  }
  const supersedenceText = string(remediation.Supercedence);
  const parsed = parseSupercedence(supersedenceText ?? '');
  for (const token of parsed.unreadable) skip.add(where, `Supercedence ${quote(supersedenceText)}: ${quote(token)} is neither a KB number nor a bulletin id`);
  return {
    kind,
    subType: string(remediation.SubType),
    kb: kbMatch ? kbMatch[1] : null,
    description,
    url: string(remediation.URL),
    productIds: strings(remediation.ProductID),
    fixedBuild,
    restartRequired: valueText(remediation.RestartRequired),
    supersedes: parsed.supersedes,
    supersedenceText,
  };
}

const BULLETIN = /^MS\d{2}-\d{3}$/i;

/**
 * Reads the `Supercedence` text of a remediation. Real documents separate KBs with `;`, `,` or
 * `<br>` (escaped or not, any case), pair legacy bulletins with their KB (`MS16-016, 3124280;
 * MS16-097, 3178034`), say `None`, repeat themselves, or hold a truncated id (`50185`) or a
 * version (`20.0.1`): those come back as `unreadable`.
 */
export function parseSupercedence(text: string): { supersedes: MsrcSupersededUpdate[]; unreadable: string[] } {
  const supersedes: MsrcSupersededUpdate[] = [];
  const unreadable: string[] = [];
  const seen = new Set<string>();
  const push = (update: MsrcSupersededUpdate): void => {
    const key = `${update.kb}|${update.bulletin}`;
    if (!seen.has(key)) {
      seen.add(key);
      supersedes.push(update);
    }
  };
  const groups = text.replace(/&lt;/gi, '<').replace(/&gt;/gi, '>').split(/;|<\s*br\s*\/?\s*>/i);
  for (const group of groups) {
    const tokens = group.split(/[,\s]+/).filter((t) => t !== '');
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i];
      if (/^none$/i.test(token)) continue;
      if (BULLETIN.test(token)) {
        // A bulletin directly followed by a KB in the same group is that bulletin's KB.
        const next = KB.exec(tokens[i + 1] ?? '');
        if (next) i++;
        push({ kb: next ? next[1] : null, bulletin: token.toUpperCase() });
        continue;
      }
      const kb = KB.exec(token);
      if (kb) push({ kb: kb[1], bulletin: null });
      else unreadable.push(token);
    }
  }
  return { supersedes, unreadable };
}

function vendorFixes(vulnerabilities: MsrcVulnerability[]): MsrcFix[] {
  const fixes: MsrcFix[] = [];
  for (const { cve, remediations } of vulnerabilities) {
    for (const r of remediations) {
      if (r.kind !== 'vendor_fix') continue;
      for (const productId of r.productIds) {
        fixes.push({ cve, productId, kb: r.kb, fixedBuild: r.fixedBuild, subType: r.subType, url: r.url, restartRequired: r.restartRequired });
      }
    }
  }
  return fixes;
}

function supersedenceEdges(vulnerabilities: MsrcVulnerability[], skip: SkipLog): MsrcSupersedence[] {
  const edges = new Map<string, MsrcSupersedence>();
  for (const { cve, remediations } of vulnerabilities) {
    remediations.forEach((r, i) => {
      const where = `${cve} remediation ${i + 1}`;
      const superseded = r.supersedes.filter((s): s is MsrcSupersededUpdate & { kb: string } => s.kb !== null);
      if (superseded.length === 0) return;
      if (r.kb === null) {
        skip.add(where, `Supercedence ${quote(r.supersedenceText)} on a remediation without a KB number (${quote(r.description)}): no edge`);
        return;
      }
      for (const s of superseded) {
        if (s.kb === r.kb) {
          skip.add(where, `Supercedence names the remediation's own KB ${r.kb}`);
          continue;
        }
        for (const productId of r.productIds) {
          const key = `${productId}|${r.kb}|${s.kb}`;
          if (!edges.has(key)) edges.set(key, { productId, kb: r.kb, supersededKb: s.kb, supersededBulletin: s.bulletin });
        }
      }
    });
  }
  return [...edges.values()];
}
