// rpm version comparison, restated from rpm's rpmio/rpmvercmp.cc (rpmvercmp) and rpmio/rpmver.cc
// (parseEVR, rpmverCmp), and the parsing of the package ids Red Hat's CSAF feeds use.

import { CARET, COLON, TILDE, compareDigitRuns, compareRanges, isAlpha, isDigit } from './characters.js';
import { failed, parsed, type ParseResult } from './parse-result.js';

/** An rpm `[epoch:]version[-release]`. `epoch` and `release` are null when the text leaves them out. */
export interface Evr {
  epoch: number | null;
  version: string;
  release: string | null;
}

/** A package as `name-[epoch:]version-release[.arch]`; `arch` is null when the text names none. */
export interface Nevra extends Evr {
  name: string;
  arch: string | null;
}

/**
 * rpm's comparison of one version or release string: -1, 0 or 1. Runs of ASCII digits or letters
 * compare in turn (digits as numbers, leading zeros ignored; a digit run beats a letter run); other
 * characters only separate; `~` sorts before anything, even the end; `^` sorts after the end but
 * before any further segment; when all runs are equal the string with characters left wins.
 */
export function rpmvercmp(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  return compareSegment(a, 0, a.length, b, 0, b.length);
}

function compareSegment(a: string, i: number, aEnd: number, b: string, j: number, bEnd: number): -1 | 0 | 1 {
  while (i < aEnd || j < bEnd) {
    while (i < aEnd && isSeparator(a.charCodeAt(i))) i++;
    while (j < bEnd && isSeparator(b.charCodeAt(j))) j++;
    const ca = i < aEnd ? a.charCodeAt(i) : 0;
    const cb = j < bEnd ? b.charCodeAt(j) : 0;

    if (ca === TILDE || cb === TILDE) {
      if (ca !== TILDE) return 1;
      if (cb !== TILDE) return -1;
      i++;
      j++;
      continue;
    }
    // Like the tilde, except that a version which has ended sorts before one that goes on with `^`.
    if (ca === CARET || cb === CARET) {
      if (i >= aEnd) return -1;
      if (j >= bEnd) return 1;
      if (ca !== CARET) return 1;
      if (cb !== CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (i >= aEnd || j >= bEnd) break;

    let aRunEnd = i;
    let bRunEnd = j;
    const numeric = isDigit(ca);
    if (numeric) {
      while (aRunEnd < aEnd && isDigit(a.charCodeAt(aRunEnd))) aRunEnd++;
      while (bRunEnd < bEnd && isDigit(b.charCodeAt(bRunEnd))) bRunEnd++;
    } else {
      while (aRunEnd < aEnd && isAlpha(a.charCodeAt(aRunEnd))) aRunEnd++;
      while (bRunEnd < bEnd && isAlpha(b.charCodeAt(bRunEnd))) bRunEnd++;
    }
    // The runs are of different kinds: numbers are newer than letters.
    if (bRunEnd === j) return numeric ? 1 : -1;

    const order = numeric ? compareDigitRuns(a, i, aRunEnd, b, j, bRunEnd) : compareRanges(a, i, aRunEnd, b, j, bRunEnd);
    if (order !== 0) return order;
    i = aRunEnd;
    j = bRunEnd;
  }
  if (i >= aEnd && j >= bEnd) return 0;
  return i >= aEnd ? -1 : 1;
}

function isSeparator(c: number): boolean {
  return !isDigit(c) && !isAlpha(c) && c !== TILDE && c !== CARET;
}

/** Where rpm's parseEVR splits a text; -1 marks an absent epoch or release. */
interface EvrBounds {
  epochEnd: number;
  versionStart: number;
  versionEnd: number;
  releaseStart: number;
}

const aBounds: EvrBounds = { epochEnd: -1, versionStart: 0, versionEnd: 0, releaseStart: -1 };
const bBounds: EvrBounds = { epochEnd: -1, versionStart: 0, versionEnd: 0, releaseStart: -1 };

/** rpm's parseEVR: an epoch is the leading digits when a colon follows them; the release follows the last hyphen. */
function splitEvr(text: string, bounds: EvrBounds): EvrBounds {
  let s = 0;
  while (s < text.length && isDigit(text.charCodeAt(s))) s++;
  const hasEpoch = s < text.length && text.charCodeAt(s) === COLON;
  bounds.epochEnd = hasEpoch ? s : -1;
  bounds.versionStart = hasEpoch ? s + 1 : 0;
  const hyphen = text.lastIndexOf('-');
  const hasRelease = hyphen >= bounds.versionStart;
  bounds.versionEnd = hasRelease ? hyphen : text.length;
  bounds.releaseStart = hasRelease ? hyphen + 1 : -1;
  return bounds;
}

/**
 * rpm's total order on `[epoch:]version[-release]` texts (rpmverCmp): -1, 0 or 1. The epoch compares
 * as a number (missing = 0), then the version and the release with rpmvercmp. A missing release
 * sorts before any release: `1.0` < `1.0-1`. Never throws; any text splits somehow, as in rpm.
 *
 * `compareRpm(installed, fixed) >= 0` is the "is it fixed" test. A fix stated without release
 * ("fixed in 3.0.7") then covers every 3.0.7-N, as in rpm's dependency checks (rpmverOverlap). Those
 * checks would also let an installed 3.0.7 without release satisfy "3.0.7-28"; we do not: nothing
 * proves it fixed, and a false "fixed" hides a vulnerable device.
 */
export function compareRpm(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const x = splitEvr(a, aBounds);
  const y = splitEvr(b, bBounds);
  // An empty epoch (`:1.0`) counts as 0, as in rpm; so does a missing one.
  const epochOrder = compareDigitRuns(a, 0, Math.max(x.epochEnd, 0), b, 0, Math.max(y.epochEnd, 0));
  if (epochOrder !== 0) return epochOrder;
  const versionOrder = compareSegment(a, x.versionStart, x.versionEnd, b, y.versionStart, y.versionEnd);
  if (versionOrder !== 0) return versionOrder;
  return compareReleases(a, x, b, y);
}

function compareReleases(a: string, x: EvrBounds, b: string, y: EvrBounds): -1 | 0 | 1 {
  if (x.releaseStart < 0 || y.releaseStart < 0) {
    if (x.releaseStart === y.releaseStart) return 0;
    return x.releaseStart < 0 ? -1 : 1;
  }
  return compareSegment(a, x.releaseStart, a.length, b, y.releaseStart, b.length);
}

/** An epoch's digits as a number ('' is 0, as in rpm), or null when not plain digits or beyond rpm's uint32. */
function epochNumber(digits: string): number | null {
  if (digits.length > 10) return null;
  for (let k = 0; k < digits.length; k++) if (!isDigit(digits.charCodeAt(k))) return null;
  const epoch = Number(digits);
  return epoch > 0xffffffff ? null : epoch;
}

/** Splits `[epoch:]version[-release]` as rpm does. Fails only on an empty text, an empty version or an epoch beyond uint32. */
export function parseEvr(text: string): ParseResult<Evr> {
  if (text.length === 0) return failed('empty version');
  const bounds = splitEvr(text, { epochEnd: -1, versionStart: 0, versionEnd: 0, releaseStart: -1 });
  let epoch: number | null = null;
  if (bounds.epochEnd >= 0) {
    const digits = text.slice(0, bounds.epochEnd);
    epoch = epochNumber(digits);
    if (epoch === null) return failed(`epoch ${digits} is too big`);
  }
  const version = text.slice(bounds.versionStart, bounds.versionEnd);
  if (version === '') return failed(`no version in "${text}"`);
  const release = bounds.releaseStart < 0 ? null : text.slice(bounds.releaseStart);
  return parsed({ epoch, version, release });
}

/** `[epoch:]version[-release]`, the form compareRpm reads. */
export function formatEvr(evr: Evr): string {
  return `${evr.epoch === null ? '' : `${evr.epoch}:`}${evr.version}${evr.release === null ? '' : `-${evr.release}`}`;
}

/** rpm's architectures, which tell a trailing `.arch` apart from the last part of a release such as `28.el9_4`. */
const RPM_ARCHES = new Set([
  'noarch', 'src', 'nosrc', 'x86_64', 'x86_64_v2', 'x86_64_v3', 'x86_64_v4', 'amd64', 'i386', 'i486', 'i586', 'i686', 'athlon',
  'aarch64', 'arm64', 'armv7hl', 'armv7hnl', 'armv7l', 'armv6hl', 'armhfp', 'ppc', 'ppc64', 'ppc64le', 'ppc64p7', 's390', 's390x',
  'ia64', 'riscv64', 'loongarch64', 'mips', 'mipsel', 'mips64', 'mips64el', 'sparc', 'sparc64', 'alpha',
]);

const RPM_PURL_PREFIX = 'pkg:rpm/';

/**
 * A package from a NEVRA (`openssl-1:3.0.7-28.el9_4.x86_64`, also `1:openssl-3.0.7-28.el9_4.x86_64`
 * and without arch) or from an rpm purl (`pkg:rpm/redhat/openssl@3.0.7-28.el9_4?arch=x86_64&epoch=1`).
 * A CSAF product id's stream prefix (`AppStream-9.4.0.Z.MAIN.EUS:`) is the caller's to remove.
 */
export function parseNevra(text: string): ParseResult<Nevra> {
  const trimmed = text.trim();
  if (trimmed.slice(0, RPM_PURL_PREFIX.length).toLowerCase() === RPM_PURL_PREFIX) return parseRpmPurl(trimmed);
  return parseNevraText(trimmed);
}

function parseNevraText(text: string): ParseResult<Nevra> {
  let rest = text;
  let leadingEpoch: string | null = null;
  let digits = 0;
  while (digits < rest.length && isDigit(rest.charCodeAt(digits))) digits++;
  if (digits > 0 && rest.charCodeAt(digits) === COLON) {
    leadingEpoch = rest.slice(0, digits);
    rest = rest.slice(digits + 1);
  }
  let arch: string | null = null;
  const dot = rest.lastIndexOf('.');
  if (dot >= 0 && RPM_ARCHES.has(rest.slice(dot + 1))) {
    arch = rest.slice(dot + 1);
    rest = rest.slice(0, dot);
  }
  const releaseHyphen = rest.lastIndexOf('-');
  const versionHyphen = releaseHyphen > 0 ? rest.lastIndexOf('-', releaseHyphen - 1) : -1;
  if (versionHyphen <= 0) return failed(`"${text}" is not name-version-release`);
  const name = rest.slice(0, versionHyphen);
  const evr = parseEvr(rest.slice(versionHyphen + 1));
  if (!evr.ok) return failed(`"${text}": ${evr.error}`);
  if (evr.value.release === '') return failed(`"${text}" has an empty release`);
  if (leadingEpoch !== null && evr.value.epoch !== null) return failed(`"${text}" gives its epoch twice`);
  const epoch = leadingEpoch === null ? evr.value.epoch : epochNumber(leadingEpoch);
  if (epoch === null && leadingEpoch !== null) return failed(`epoch ${leadingEpoch} is too big`);
  return parsed({ name, epoch, version: evr.value.version, release: evr.value.release, arch });
}

function parseRpmPurl(text: string): ParseResult<Nevra> {
  const hash = text.indexOf('#');
  const body = hash >= 0 ? text.slice(0, hash) : text;
  const question = body.indexOf('?');
  const path = question >= 0 ? body.slice(RPM_PURL_PREFIX.length, question) : body.slice(RPM_PURL_PREFIX.length);
  const at = path.lastIndexOf('@');
  if (at < 0) return failed(`purl "${text}" has no version`);
  const name = decodePurlPart(path.slice(path.lastIndexOf('/', at) + 1, at));
  const versionRelease = decodePurlPart(path.slice(at + 1));
  if (!name || !versionRelease) return failed(`purl "${text}" has an empty or badly encoded name or version`);
  let arch: string | null = null;
  let epochText: string | null = null;
  if (question >= 0) {
    for (const pair of body.slice(question + 1).split('&')) {
      const equals = pair.indexOf('=');
      const key = (equals >= 0 ? pair.slice(0, equals) : pair).toLowerCase();
      const value = equals >= 0 ? decodePurlPart(pair.slice(equals + 1)) : '';
      if (value === null) return failed(`purl "${text}" has a badly encoded qualifier ${key}`);
      if (key === 'arch') arch = value || null;
      if (key === 'epoch') epochText = value;
    }
  }
  const evr = parseEvr(versionRelease);
  if (!evr.ok) return failed(`purl "${text}": ${evr.error}`);
  let epoch = evr.value.epoch;
  if (epochText !== null) {
    if (epoch !== null) return failed(`purl "${text}" gives its epoch twice`);
    epoch = epochNumber(epochText);
    if (epoch === null) return failed(`purl "${text}" has a bad epoch "${epochText}"`);
  }
  return parsed({ name, epoch, version: evr.value.version, release: evr.value.release, arch });
}

function decodePurlPart(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}
