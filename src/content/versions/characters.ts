// Character classes and digit-run arithmetic shared by the comparators. They work on char codes
// and index ranges, so that comparing two versions allocates nothing.

export const TILDE = 0x7e;
export const CARET = 0x5e;
export const COLON = 0x3a;
export const HYPHEN = 0x2d;
export const ZERO = 0x30;

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** ASCII letters only, like rpm's risalpha and dpkg's c_isalpha: other scripts count as separators. */
export function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** Sign of a - b for two runs of decimal digits, of any length, read as numbers. */
export function compareDigitRuns(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): -1 | 0 | 1 {
  while (aStart < aEnd && a.charCodeAt(aStart) === ZERO) aStart++;
  while (bStart < bEnd && b.charCodeAt(bStart) === ZERO) bStart++;
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  if (aLength !== bLength) return aLength > bLength ? 1 : -1;
  for (let k = 0; k < aLength; k++) {
    const diff = a.charCodeAt(aStart + k) - b.charCodeAt(bStart + k);
    if (diff !== 0) return diff > 0 ? 1 : -1;
  }
  return 0;
}

/** Sign of a byte-wise comparison of two ranges, as C's strcmp on ASCII: a proper prefix sorts first. */
export function compareRanges(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): -1 | 0 | 1 {
  const length = Math.min(aEnd - aStart, bEnd - bStart);
  for (let k = 0; k < length; k++) {
    const diff = a.charCodeAt(aStart + k) - b.charCodeAt(bStart + k);
    if (diff !== 0) return diff > 0 ? 1 : -1;
  }
  const rest = aEnd - aStart - (bEnd - bStart);
  return rest === 0 ? 0 : rest > 0 ? 1 : -1;
}
