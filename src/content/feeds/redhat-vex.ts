// Red Hat CSAF VEX: one document per CVE (`{base}/2024/cve-2024-3094.json`) giving, for every
// product stream and package, fixed (with the RHSA), will not fix, affected with no fix yet, not
// affected or under investigation. Plus the `changes.csv` / `deletions.csv` listings and
// `archive_latest.txt` that incremental and full imports start from.

import { parseCpe22 } from './cpe.js';
import {
  csvFields, FeedFormatError, isoTimestamp, list, notTheFormat, number, object, quote, readJsonObject, readText, SkipLog, string, strings,
  type DocumentInput, type Json,
} from './document.js';
import { parsePurl, type Purl } from './purl.js';
import type {
  RedHatFixState, RedHatListingResult, RedHatPackageState, RedHatStream, RedHatVexResult, RhelRelease,
} from './types.js';

/** Parses `changes.csv` or `deletions.csv`: `"2024/cve-2024-3094.json","2025-06-01T12:00:00+00:00"` per line. */
export function parseRedHatListing(input: DocumentInput, document: string): RedHatListingResult {
  const skip = new SkipLog();
  const entries = [];
  const lines = readText(input, 'redhat', document).split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const fields = csvFields(line.trim());
    const path = fields?.[0] ?? '';
    const file = /^\d{4}\/(cve-\d{4}-\d{4,})\.json$/i.exec(path);
    const changed = isoTimestamp(fields?.[1]);
    if (!fields || fields.length !== 2 || !file || changed === null) {
      skip.add(`line ${i + 1}`, `not a "year/cve-….json","timestamp" row: ${quote(line)}`);
      continue;
    }
    entries.push({ path, cve: file[1].toUpperCase(), changed });
  }
  if (entries.length === 0 && skip.items.length > 0) throw notTheFormat('redhat', document, `none of its ${skip.items.length} lines is a listing row`);
  return { entries, skipped: skip.items };
}

/** Reads `archive_latest.txt`: the file name of the newest full archive (`csaf_vex_2025-06-01.tar.zst`). */
export function parseRedHatArchiveLatest(input: DocumentInput, document = 'archive_latest.txt'): string {
  const name = readText(input, 'redhat', document).trim();
  if (!/^csaf_vex_\d{4}-\d{2}-\d{2}\.tar\.zst$/.test(name)) {
    throw new FeedFormatError('redhat', document, `it names ${quote(name)}, not a csaf_vex_YYYY-MM-DD.tar.zst archive`,
      'Check the redHatVexUrl setting: it must point at the VEX folder (…/csaf/v2/vex/). The knowledge from the previous import is kept.');
  }
  return name;
}

interface Product {
  name: string | null;
  purl: Purl | null;
  cpe: string | null;
}

interface Relationship {
  component: string;
  parent: string;
}

interface Remedies {
  advisory: string | null;
  advisoryUrl: string | null;
  noFixPlanned: string | null;
  noneAvailable: string | null;
  workaround: string | null;
}

const STATUSES: [string, RedHatFixState][] = [
  ['fixed', 'fixed'], ['known_affected', 'no_fix_yet'], ['known_not_affected', 'not_affected'], ['under_investigation', 'under_investigation'],
];

/** Parses one VEX document into package states per product stream. */
export function parseRedHatVex(input: DocumentInput, document: string): RedHatVexResult {
  const root = readJsonObject(input, 'redhat', document);
  const meta = object(root.document);
  if (!meta || !Array.isArray(root.vulnerabilities) || !String(meta.category ?? '').startsWith('csaf')) {
    throw notTheFormat('redhat', document, 'it has no CSAF "document" and "vulnerabilities"');
  }
  const skip = new SkipLog();
  const tracking = object(meta.tracking);
  const first = object(root.vulnerabilities[0]);
  const cve = string(first?.cve) ?? string(tracking?.id) ?? document;
  const deleted = string(tracking?.status) === 'deleted';
  const result: RedHatVexResult = {
    document: {
      cve,
      title: string(meta.title),
      severity: string(object(meta.aggregate_severity)?.text),
      initialReleaseDate: isoTimestamp(tracking?.initial_release_date),
      currentReleaseDate: isoTimestamp(tracking?.current_release_date),
      deleted,
    },
    states: [],
    skipped: skip.items,
  };
  if (deleted) return result;

  const productTree = object(root.product_tree);
  const products = productIndex(productTree?.branches);
  const relationships = new Map<string, Relationship>();
  for (const item of list(productTree?.relationships)) {
    const r = object(item);
    const id = string(object(r?.full_product_name)?.product_id);
    const component = string(r?.product_reference);
    const parent = string(r?.relates_to_product_reference);
    if (id !== null && component !== null && parent !== null) relationships.set(id, { component, parent });
  }

  const tree: ProductTree = { products, relationships, streams: new Map() };
  for (const [v, item] of root.vulnerabilities.entries()) {
    const vulnerability = object(item);
    const vulnerabilityCve = string(vulnerability?.cve);
    if (!vulnerability || vulnerabilityCve === null) skip.add(`vulnerability ${v + 1}`, 'no CVE id');
    else result.states.push(...vulnerabilityStates(vulnerabilityCve, vulnerability, tree, skip));
  }
  return result;
}

interface ProductTree {
  products: Map<string, Product>;
  relationships: Map<string, Relationship>;
  /** Streams built so far, shared by the states of one document. */
  streams: Map<string, RedHatStream>;
}

/** The package states one vulnerability gives, grouped per (stream, package, state, fixed version). */
function vulnerabilityStates(cve: string, vulnerability: Json, tree: ProductTree, skip: SkipLog): RedHatPackageState[] {
  const states = new Map<string, RedHatPackageState>();
  const remedies = remedyIndex(vulnerability.remediations);
  const severities = new Map<string, string>();
  for (const threat of list(vulnerability.threats).map(object)) {
    const details = string(threat?.details);
    if (threat?.category === 'impact' && details !== null) for (const id of strings(threat.product_ids)) severities.set(id, details);
  }
  const scores = new Map<string, { score: number | null; vector: string | null }>();
  for (const s of list(vulnerability.scores).map(object)) {
    const cvss = object(s?.cvss_v3) ?? object(s?.cvss_v4);
    if (cvss) for (const id of strings(s?.products)) scores.set(id, { score: number(cvss.baseScore), vector: string(cvss.vectorString) });
  }
  const status = object(vulnerability.product_status);
  for (const [field, baseState] of STATUSES) {
    for (const id of strings(status?.[field])) {
      const where = `${cve} ${field} ${id}`;
      const resolved = resolve(id, tree);
      if (typeof resolved === 'string') {
        skip.add(where, resolved);
        continue;
      }
      const { component, purl, stream, module } = resolved;
      const remedy = remedies.get(id);
      let state = baseState;
      let reason: string | null = null;
      if (baseState === 'no_fix_yet') {
        state = remedy?.noFixPlanned ? 'will_not_fix' : 'no_fix_yet';
        reason = remedy?.noFixPlanned ?? remedy?.noneAvailable ?? null;
      }
      let fixedVersion: string | null = null;
      let arch: string | null = null;
      if (state === 'fixed') {
        if (purl.version === null) {
          skip.add(where, `a fixed component without a version: ${quote(component.name)}`);
          continue;
        }
        fixedVersion = purl.type === 'rpm' ? rpmEvr(purl.version, purl.qualifiers.epoch) : purl.version;
        arch = purl.qualifiers.arch ?? null;
      }
      const advisory = state === 'fixed' ? remedy?.advisory ?? null : null;
      const key = [stream.productId, purl.type, purl.name, module, state, reason, fixedVersion, advisory].join('\u0000');
      let record = states.get(key);
      if (!record) {
        const score = scores.get(id);
        record = {
          cve, state, reason, stream, package: purl.name, packageType: purl.type, module, fixedVersion,
          nevras: [], arches: [], advisory, advisoryUrl: state === 'fixed' ? remedy?.advisoryUrl ?? null : null,
          workaround: remedy?.workaround ?? null, severity: severities.get(id) ?? null, cvssScore: score?.score ?? null, cvssVector: score?.vector ?? null,
        };
        states.set(key, record);
        if (state === 'fixed' && advisory === null) skip.add(where, 'fixed, but no vendor_fix remediation names the advisory');
      }
      if (arch !== null && !record.arches.includes(arch)) {
        record.arches.push(arch);
        if (purl.type === 'rpm') record.nevras.push(`${purl.name}-${purl.qualifiers.epoch ?? '0'}:${purl.version}.${arch}`);
      }
    }
  }
  return [...states.values()];
}

/** Product id → name, purl and CPE, from the nested branches. */
function productIndex(branches: unknown): Map<string, Product> {
  const products = new Map<string, Product>();
  const walk = (items: unknown): void => {
    for (const item of list(items)) {
      const branch = object(item);
      const product = object(branch?.product);
      const id = string(product?.product_id);
      if (product && id !== null) {
        const helper = object(product.product_identification_helper);
        const purl = string(helper?.purl);
        products.set(id, { name: string(product.name), purl: purl === null ? null : parsePurl(purl), cpe: string(helper?.cpe) });
      }
      walk(branch?.branches);
    }
  };
  walk(branches);
  return products;
}

function remedyIndex(remediations: unknown): Map<string, Remedies> {
  const index = new Map<string, Remedies>();
  for (const item of list(remediations)) {
    const r = object(item);
    const details = string(r?.details);
    const url = string(r?.url);
    for (const id of strings(r?.product_ids)) {
      let remedies = index.get(id);
      if (!remedies) {
        remedies = { advisory: null, advisoryUrl: null, noFixPlanned: null, noneAvailable: null, workaround: null };
        index.set(id, remedies);
      }
      switch (r?.category) {
        case 'vendor_fix':
          remedies.advisory ??= /\b(RH[SBE]A-\d{4}:\d+)\b/.exec(url ?? '')?.[1] ?? null;
          remedies.advisoryUrl ??= url;
          break;
        case 'no_fix_planned':
          remedies.noFixPlanned ??= details ?? 'Will not fix';
          break;
        case 'none_available':
          remedies.noneAvailable ??= details;
          break;
        case 'workaround':
          remedies.workaround ??= details;
          break;
      }
    }
  }
  return index;
}

/**
 * Follows the relationships from a product status id (`stream:component`) down to the package and
 * up to the stream. Modular rpms nest twice: rpm → module → stream. A reason string when it fails.
 */
function resolve(id: string, { products, relationships, streams }: ProductTree):
  { component: Product; purl: Purl; stream: RedHatStream; module: string | null } | string {
  const top = relationships.get(id);
  if (!top) {
    return products.has(id) ? 'it names a whole product, not a package of a product stream' : 'no relationship ties it to a product stream';
  }
  let componentId = top.component;
  let streamId = top.parent;
  let module: string | null = null;
  for (let depth = 0; depth < 5 && relationships.has(componentId); depth++) componentId = relationships.get(componentId)!.component;
  for (let depth = 0; depth < 5 && relationships.has(streamId); depth++) {
    const inner = relationships.get(streamId)!;
    const modular = products.get(inner.component)?.purl;
    if (modular?.type === 'rpmmod') module = moduleStream(modular.name, modular.version);
    streamId = inner.parent;
  }
  const component = products.get(componentId);
  const purl = component?.purl;
  const streamProduct = products.get(streamId);
  if (!component || !purl) return `its component ${quote(componentId)} has no package URL in the product tree`;
  if (!streamProduct) return `its product stream ${quote(streamId)} is not in the product tree`;
  const rpmmod = purl.qualifiers.rpmmod;
  if (rpmmod) module = moduleStream(rpmmod.split(':')[0], rpmmod.split(':').slice(1).join(':'));
  else if (purl.type === 'rpmmod') module = moduleStream(purl.name, purl.version);
  let stream = streams.get(streamId);
  if (!stream) {
    stream = { productId: streamId, name: streamProduct.name, cpe: streamProduct.cpe, rhel: rhelRelease(streamId, streamProduct.cpe) };
    streams.set(streamId, stream);
  }
  return { component, purl, stream, module };
}

/** `nodejs` + `20:8090020231211102435:a75119d5` → `nodejs:20`. */
function moduleStream(name: string, version: string | null): string | null {
  const stream = version?.split(':')[0];
  return stream ? `${name}:${stream}` : null;
}

/** `epoch:version-release` with the epoch omitted when 0, as Defender reports installed rpms. */
function rpmEvr(versionRelease: string, epoch: string | undefined): string {
  return epoch && epoch !== '0' ? `${epoch}:${versionRelease}` : versionRelease;
}

const RHEL_CPE_PRODUCT = /^(enterprise_linux(_(eus|aus|tus|e4s))?|rhel_(eus|aus|tus|e4s|eus_long_life))$/;

/**
 * The RHEL release a stream serves. Product ids carry it for streams (`AppStream-9.4.0.Z.MAIN.EUS`,
 * `BaseOS-9.0.0.Z.EUS`, `7Server-7.4.AUS`); CPEs for the rest (`cpe:/a:redhat:rhel_eus:9.2::appstream`,
 * `cpe:/o:redhat:enterprise_linux:9`). Layered products (Satellite, OpenShift, …) give null.
 */
export function rhelRelease(productId: string, cpe: string | null): RhelRelease | null {
  const name = cpe === null ? null : parseCpe22(cpe);
  if (!name || name.vendor !== 'redhat' || !RHEL_CPE_PRODUCT.test(name.product)) return null;
  const stream = /-(\d+)\.(\d+)(?:\.\d+)?(?:\.Z)?\.(MAIN\.EUS|MAIN|EUS|AUS|TUS|E4S)$/.exec(productId);
  if (stream) return { major: Number(stream[1]), minor: Number(stream[2]), stream: stream[3] };
  const version = /^(\d+)(?:\.(\d+))?/.exec(name.version);
  if (!version) return null;
  return { major: Number(version[1]), minor: version[2] === undefined ? null : Number(version[2]), stream: null };
}
