// Debian version comparison (Debian Policy §5.6.12), restated from dpkg's lib/dpkg/version.c
// (verrevcmp, dpkg_version_compare) and lib/dpkg/parsehelp.c (parseversion).

import { HYPHEN, TILDE, ZERO, compareDigitRuns, isAlpha, isDigit } from './characters.js';
import { failed, parsed, type ParseResult } from './parse-result.js';

/** A Debian `[epoch:]upstream_version[-debian_revision]`; `revision` is '' when there is none. */
export interface DpkgVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

/** Where a text's parts lie; revisionStart is -1 when there is no revision. */
interface DpkgBounds {
  start: number;
  epochEnd: number;
  upstreamStart: number;
  upstreamEnd: number;
  revisionStart: number;
  end: number;
}

const aBounds: DpkgBounds = { start: 0, epochEnd: 0, upstreamStart: 0, upstreamEnd: 0, revisionStart: -1, end: 0 };
const bBounds: DpkgBounds = { start: 0, epochEnd: 0, upstreamStart: 0, upstreamEnd: 0, revisionStart: -1, end: 0 };

/** dpkg trims spaces and tabs; we also take CR and LF as blanks, which only ever come from sloppy input. */
function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/**
 * Splits as dpkg does for valid versions: blanks trimmed, the epoch before the first colon, the
 * revision after the last hyphen. A text dpkg would refuse still splits: when the part before the
 * first colon is not all digits it has no epoch and the colon stays in the upstream version.
 */
function splitDpkg(text: string, bounds: DpkgBounds): DpkgBounds {
  let start = 0;
  let end = text.length;
  while (start < end && isBlank(text.charCodeAt(start))) start++;
  while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
  bounds.start = start;
  bounds.end = end;
  const colon = text.indexOf(':', start);
  let epochDigits = colon > start && colon < end;
  for (let k = start; epochDigits && k < colon; k++) epochDigits = isDigit(text.charCodeAt(k));
  bounds.epochEnd = epochDigits ? colon : start;
  bounds.upstreamStart = epochDigits ? colon + 1 : start;
  const hyphen = text.lastIndexOf('-', end - 1);
  const hasRevision = hyphen >= bounds.upstreamStart;
  bounds.upstreamEnd = hasRevision ? hyphen : end;
  bounds.revisionStart = hasRevision ? hyphen + 1 : -1;
  return bounds;
}

/**
 * dpkg's order of two version texts: -1, 0 or 1. Epochs compare as numbers (missing = 0), then the
 * upstream versions, then the revisions (missing = ''), each by verrevcmp. Never throws: a text that
 * parseDpkgVersion refuses compares by the same rules after splitDpkg's lenient split.
 */
export function compareDpkg(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const x = splitDpkg(a, aBounds);
  const y = splitDpkg(b, bBounds);
  const epochOrder = compareDigitRuns(a, x.start, x.epochEnd, b, y.start, y.epochEnd);
  if (epochOrder !== 0) return epochOrder;
  const upstreamOrder = verrevcmp(a, x.upstreamStart, x.upstreamEnd, b, y.upstreamStart, y.upstreamEnd);
  if (upstreamOrder !== 0) return upstreamOrder;
  const aRevision = x.revisionStart < 0 ? x.end : x.revisionStart;
  const bRevision = y.revisionStart < 0 ? y.end : y.revisionStart;
  return verrevcmp(a, aRevision, x.end, b, bRevision, y.end);
}

/** Compares two parsed versions, as dpkg_version_compare does. */
export function compareDpkgVersions(a: DpkgVersion, b: DpkgVersion): -1 | 0 | 1 {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? 1 : -1;
  const upstreamOrder = verrevcmp(a.upstream, 0, a.upstream.length, b.upstream, 0, b.upstream.length);
  if (upstreamOrder !== 0) return upstreamOrder;
  return verrevcmp(a.revision, 0, a.revision.length, b.revision, 0, b.revision.length);
}

/** The weight of a non-digit character: `~` first, then the end of the part, then letters, then the rest. */
function order(c: number): number {
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === TILDE) return -1;
  return c === 0 ? 0 : c + 256;
}

/** Alternating non-digit runs (character by character, by `order`) and digit runs (as numbers). */
function verrevcmp(a: string, i: number, aEnd: number, b: string, j: number, bEnd: number): -1 | 0 | 1 {
  while (i < aEnd || j < bEnd) {
    while ((i < aEnd && !isDigit(a.charCodeAt(i))) || (j < bEnd && !isDigit(b.charCodeAt(j)))) {
      const ac = order(i < aEnd ? a.charCodeAt(i) : 0);
      const bc = order(j < bEnd ? b.charCodeAt(j) : 0);
      if (ac !== bc) return ac > bc ? 1 : -1;
      i++;
      j++;
    }
    let aDigitsEnd = i;
    let bDigitsEnd = j;
    while (aDigitsEnd < aEnd && isDigit(a.charCodeAt(aDigitsEnd))) aDigitsEnd++;
    while (bDigitsEnd < bEnd && isDigit(b.charCodeAt(bDigitsEnd))) bDigitsEnd++;
    const digitOrder = compareDigitRuns(a, i, aDigitsEnd, b, j, bDigitsEnd);
    if (digitOrder !== 0) return digitOrder;
    i = aDigitsEnd;
    j = bDigitsEnd;
  }
  return 0;
}

const INT_MAX = 2147483647;
const PLUS = 0x2b;

/**
 * Parses a Debian version as dpkg's parseversion does. `error` for what dpkg refuses (empty,
 * embedded blanks, a bad epoch, an empty upstream version or revision), with dpkg's messages.
 * What dpkg only warns about and accepts in its lax mode (an upstream version that does not start
 * with a digit, characters outside Policy's set) parses with that `warning`. Unlike dpkg, whose
 * strtol takes a signed epoch (`+1:0`, `-0:1`), we refuse any sign: the epoch must be plain digits.
 */
export function parseDpkgVersion(text: string): ParseResult<DpkgVersion> {
  let start = 0;
  while (start < text.length && isBlank(text.charCodeAt(start))) start++;
  if (start === text.length) return failed('version string is empty');
  let end = start;
  while (end < text.length && !isBlank(text.charCodeAt(end))) end++;
  for (let k = end; k < text.length; k++) {
    if (!isBlank(text.charCodeAt(k))) return failed('version string has embedded spaces');
  }

  let epoch = 0;
  let upstreamStart = start;
  const colon = text.indexOf(':', start);
  if (colon >= 0 && colon < end) {
    const first = text.charCodeAt(start);
    const negative = first === HYPHEN;
    const digitsStart = negative || first === PLUS ? start + 1 : start;
    let digitsEnd = digitsStart;
    while (digitsEnd < colon && isDigit(text.charCodeAt(digitsEnd))) digitsEnd++;
    if (digitsEnd === digitsStart) return failed('epoch in version is empty');
    if (digitsEnd !== colon) return failed('epoch in version is not number');
    if (negative) return failed('epoch in version is negative');
    let significant = digitsStart;
    while (significant < colon - 1 && text.charCodeAt(significant) === ZERO) significant++;
    const value = colon - significant > 10 ? Infinity : Number(text.slice(significant, colon));
    if (value > INT_MAX) return failed('epoch in version is too big');
    // dpkg looks for "nothing after the colon" before trimming: `1: ` fails later, as an empty version.
    if (colon + 1 === text.length) return failed('nothing after colon in version number');
    if (first === PLUS) return failed('epoch in version has a sign');
    epoch = value;
    upstreamStart = colon + 1;
  }

  const hyphen = text.lastIndexOf('-', end - 1);
  const hasRevision = hyphen >= upstreamStart;
  if (hasRevision && hyphen + 1 === end) return failed('revision number is empty');
  const upstream = text.slice(upstreamStart, hasRevision ? hyphen : end);
  const revision = hasRevision ? text.slice(hyphen + 1, end) : '';
  if (upstream === '') return failed('version number is empty');
  return parsed({ epoch, upstream, revision }, policyWarning(upstream, revision));
}

const UPSTREAM_PUNCTUATION = '.-+~:';
const REVISION_PUNCTUATION = '.+~';

/** The first thing dpkg would warn about, or null. */
function policyWarning(upstream: string, revision: string): string | null {
  if (!isDigit(upstream.charCodeAt(0))) return 'version number does not start with digit';
  if (!allowed(upstream, UPSTREAM_PUNCTUATION)) return 'invalid character in version number';
  if (!allowed(revision, REVISION_PUNCTUATION)) return 'invalid character in revision number';
  return null;
}

function allowed(part: string, punctuation: string): boolean {
  for (let k = 0; k < part.length; k++) {
    const c = part.charCodeAt(k);
    if (!isDigit(c) && !isAlpha(c) && !punctuation.includes(part[k])) return false;
  }
  return true;
}

/** `[epoch:]upstream[-revision]`; the epoch is left out when it is 0 and the upstream version has no colon to protect. */
export function formatDpkgVersion(version: DpkgVersion): string {
  const epoch = version.epoch !== 0 || version.upstream.includes(':') ? `${version.epoch}:` : '';
  return `${epoch}${version.upstream}${version.revision === '' ? '' : `-${version.revision}`}`;
}
