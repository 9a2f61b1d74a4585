// Windows OS builds, `major.minor.build.UBR` (10.0.22631.4890): Defender's OSVersion and the
// version of its windows_* software rows, and MSRC's FixedBuild. Cumulative updates raise the
// UBR (update build revision) within one build line, `major.minor.build`.

import { isDigit } from './characters.js';
import { failed, parsed, type ParseResult } from './parse-result.js';

export interface WindowsBuild {
  major: number;
  minor: number;
  build: number;
  /** 0 when the text stops at `major.minor.build`: the line's release build. */
  ubr: number;
}

const MAX_FIELD_DIGITS = 9;

/** Reads up to four dot-separated numbers into `fields`; answers how many, or 0 when the text is not a build. */
function scanBuild(text: string, fields: Int32Array): number {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) <= 0x20) start++;
  while (end > start && text.charCodeAt(end - 1) <= 0x20) end--;
  let count = 0;
  let k = start;
  while (k < end) {
    const fieldStart = k;
    let value = 0;
    while (k < end && isDigit(text.charCodeAt(k))) value = value * 10 + text.charCodeAt(k++) - 0x30;
    if (k === fieldStart || k - fieldStart > MAX_FIELD_DIGITS || count === 4) return 0;
    fields[count++] = value;
    if (k < end && (text.charCodeAt(k) !== 0x2e || k === end - 1)) return 0;
    k++;
  }
  return count >= 3 ? count : 0;
}

const aFields = new Int32Array(4);
const bFields = new Int32Array(4);

/** `major.minor.build[.UBR]`, each field plain digits; anything else is an error. */
export function parseWindowsBuild(text: string): ParseResult<WindowsBuild> {
  const fields = new Int32Array(4);
  const count = scanBuild(text, fields);
  if (count === 0) return failed(`"${text}" is not a Windows build (major.minor.build.UBR)`);
  return parsed({ major: fields[0], minor: fields[1], build: fields[2], ubr: count === 4 ? fields[3] : 0 });
}

/** The build line, `major.minor.build` (`10.0.22631`), or null when the text is not a build. */
export function windowsBuildLine(version: string): string | null {
  const count = scanBuild(version, aFields);
  return count === 0 ? null : `${aFields[0]}.${aFields[1]}.${aFields[2]}`;
}

/**
 * The order of two builds of one line by UBR: -1, 0 or 1. null when they are not comparable:
 * different lines (a 22631 build says nothing about a 26100 one), or a text that is not a build.
 * Lines that share their updates, such as 19044 and 19045 or 22621 and 22631, are still different
 * lines here: MSRC names a FixedBuild per line.
 */
export function compareWindowsBuild(a: string, b: string): -1 | 0 | 1 | null {
  const aCount = scanBuild(a, aFields);
  const bCount = scanBuild(b, bFields);
  if (aCount === 0 || bCount === 0) return null;
  if (aFields[0] !== bFields[0] || aFields[1] !== bFields[1] || aFields[2] !== bFields[2]) return null;
  const aUbr = aCount === 4 ? aFields[3] : 0;
  const bUbr = bCount === 4 ? bFields[3] : 0;
  return aUbr === bUbr ? 0 : aUbr > bUbr ? 1 : -1;
}
