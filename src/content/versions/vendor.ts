// Versions of third-party products as vendors write them and as NVD's CPE ranges repeat them:
// Chrome 131.0.6778.86, Acrobat Reader 24.005.20320, Zoom 6.3.0.52884, 7-Zip 24.09, OpenSSH 8.7p1,
// Java 8u431 and 17.0.13.
//
// A version reads as a sequence of tokens: runs of digits (numbers) and runs of ASCII letters
// (words); everything else separates. Tokens compare in turn, and a version that has run out reads
// as zeros, so 133.0 = 133.0.0. At one position the kinds rank:
//   pre-release word  <  0  <  other word  <  any number above 0
// Pre-release words (dev, ea, alpha, beta, pre, preview, rc, and a or b directly followed by a
// digit, as in Firefox 133.0b9) sort before the release they lead to: 3.13.0rc1 < 3.13.0. Other
// words are post-release suffixes that sort after the release and before the next number:
// OpenSSL 1.1.1w > 1.1.1, OpenSSH 8.7 < 8.7p1 < 8.8. That ranking is a total order, so sorting
// and "lowest fixed version" stay consistent.
//
// Numbers compare as numbers, whatever their leading zeros: 24.005 = 24.5. 7-Zip means it that way
// too: its minor version is a number shown with two digits (7zVersion.h has MY_VER_MINOR 9 for
// "24.09"), so 24.1 is 24.01, and 24.09 > 24.1.
//
// Java 8 and before have three spellings of one release: 8u431, 1.8.0_431 and 1.8.0.431; a build
// suffix (-b10) does not make another release. They read as 1.8.0.431, which also sorts below
// Java 9 and later (17.0.13). A leading v (v1.2.3) is decoration and is skipped.

import { compareDigitRuns, isAlpha, isDigit, ZERO } from './characters.js';

const END = 0;
const NUMBER = 1;
const WORD = 2;

const PRE_RELEASE = 0;
const NUMBER_ZERO = 1;
const POST_RELEASE = 2;
const NUMBER_POSITIVE = 3;

/** The token found by the last `scanToken` call; `compareVendorVersion` copies it before scanning again. */
let tokenKind = END;
let tokenStart = 0;
let tokenEnd = 0;

/** Finds the next token at or after `position`; returns where scanning goes on. */
function scanToken(text: string, position: number): number {
  const end = text.length;
  while (position < end) {
    const c = text.charCodeAt(position);
    if (isDigit(c) || isAlpha(c)) break;
    position++;
  }
  tokenStart = position;
  if (position >= end) {
    tokenKind = END;
    tokenEnd = position;
    return position;
  }
  const numeric = isDigit(text.charCodeAt(position));
  tokenKind = numeric ? NUMBER : WORD;
  while (position < end && (numeric ? isDigit(text.charCodeAt(position)) : isAlpha(text.charCodeAt(position)))) position++;
  tokenEnd = position;
  return position;
}

function isZero(text: string, start: number, end: number): boolean {
  for (let k = start; k < end; k++) if (text.charCodeAt(k) !== ZERO) return false;
  return true;
}

/** Pre-release words, in their order: a preview before an rc, an alpha before a beta. */
const PRE_RELEASE_WORDS = ['dev', 'ea', 'alpha', 'beta', 'pre', 'preview', 'rc'];
const ALPHA_RANK = PRE_RELEASE_WORDS.indexOf('alpha');
const BETA_RANK = PRE_RELEASE_WORDS.indexOf('beta');

/** The pre-release rank of a word, or -1 when it is a post-release suffix. */
function preReleaseRank(text: string, start: number, end: number): number {
  const length = end - start;
  if (length === 1) {
    if (end >= text.length || !isDigit(text.charCodeAt(end))) return -1;
    const letter = text.charCodeAt(start) | 0x20;
    return letter === 0x61 ? ALPHA_RANK : letter === 0x62 ? BETA_RANK : -1;
  }
  for (let rank = 0; rank < PRE_RELEASE_WORDS.length; rank++) {
    if (equalsIgnoringCase(text, start, end, PRE_RELEASE_WORDS[rank])) return rank;
  }
  return -1;
}

function equalsIgnoringCase(text: string, start: number, end: number, lowerWord: string): boolean {
  if (end - start !== lowerWord.length) return false;
  for (let k = 0; k < lowerWord.length; k++) {
    if ((text.charCodeAt(start + k) | 0x20) !== lowerWord.charCodeAt(k)) return false;
  }
  return true;
}

function compareIgnoringCase(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): -1 | 0 | 1 {
  const length = Math.min(aEnd - aStart, bEnd - bStart);
  for (let k = 0; k < length; k++) {
    const diff = (a.charCodeAt(aStart + k) | 0x20) - (b.charCodeAt(bStart + k) | 0x20);
    if (diff !== 0) return diff > 0 ? 1 : -1;
  }
  const rest = aEnd - aStart - (bEnd - bStart);
  return rest === 0 ? 0 : rest > 0 ? 1 : -1;
}

function tokenClass(text: string, kind: number, start: number, end: number): number {
  if (kind === WORD) return preReleaseRank(text, start, end) >= 0 ? PRE_RELEASE : POST_RELEASE;
  if (kind === END || isZero(text, start, end)) return NUMBER_ZERO;
  return NUMBER_POSITIVE;
}

function compareTokens(a: string, aKind: number, aStart: number, aEnd: number, b: string, bKind: number, bStart: number, bEnd: number): -1 | 0 | 1 {
  const aClass = tokenClass(a, aKind, aStart, aEnd);
  const bClass = tokenClass(b, bKind, bStart, bEnd);
  if (aClass !== bClass) return aClass > bClass ? 1 : -1;
  if (aClass === NUMBER_POSITIVE) return compareDigitRuns(a, aStart, aEnd, b, bStart, bEnd);
  if (aClass === NUMBER_ZERO) return 0;
  if (aClass === PRE_RELEASE) {
    // Spellings of one stage are equal: 1.0a1 = 1.0alpha1.
    const rankOrder = preReleaseRank(a, aStart, aEnd) - preReleaseRank(b, bStart, bEnd);
    return rankOrder === 0 ? 0 : rankOrder > 0 ? 1 : -1;
  }
  return compareIgnoringCase(a, aStart, aEnd, b, bStart, bEnd);
}

/** 8u431 and 1.8.0_431, each with an optional -bNN build: Java 8 and before. */
const JAVA_UPDATE = /^\s*(?:(\d)u|1\.(\d)\.0_)(\d+)(?:-b\d+)?\s*$/;

/** The text compareVendorVersion reads: Java's legacy spellings as 1.N.0.U, a leading v dropped. */
function canonical(text: string): string {
  if (text.includes('u') || text.includes('_')) {
    const java = JAVA_UPDATE.exec(text);
    if (java) return `1.${java[1] ?? java[2]}.0.${java[3]}`;
  }
  const first = text.charCodeAt(0) | 0x20;
  if (first === 0x76 && isDigit(text.charCodeAt(1))) return text.slice(1);
  return text;
}

/** The order of two vendor versions, -1, 0 or 1, by the rules above. Never throws; any text reads as some tokens. */
export function compareVendorVersion(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const x = canonical(a);
  const y = canonical(b);
  let aPosition = 0;
  let bPosition = 0;
  for (;;) {
    aPosition = scanToken(x, aPosition);
    const aKind = tokenKind;
    const aStart = tokenStart;
    const aEnd = tokenEnd;
    bPosition = scanToken(y, bPosition);
    if (aKind === END && tokenKind === END) return 0;
    const order = compareTokens(x, aKind, aStart, aEnd, y, tokenKind, tokenStart, tokenEnd);
    if (order !== 0) return order;
  }
}
