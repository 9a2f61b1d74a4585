// CPE names: the 2.3 formatted strings NVD matches on, the 2.2 URIs Red Hat labels streams with,
// and the join from Defender's lower-case `vendor/product` to CPE's `vendor:product`.

import type { Cpe23 } from './types.js';

const CPE23_FIELDS = ['part', 'vendor', 'product', 'version', 'update', 'edition', 'language', 'swEdition', 'targetSw', 'targetHw', 'other'] as const;

/**
 * Parses a CPE 2.3 formatted string (`cpe:2.3:a:notepad-plus-plus:notepad\+\+:8.6:*:*:*:*:*:*:*`).
 * Backslash quotes the next character (`\:` is a colon inside a value, `\+` a plus); an unquoted
 * `*` alone is ANY (null) and `-` alone is NA (empty string). Null when it is not such a string.
 */
export function parseCpe23(text: string): Cpe23 | null {
  const values: (string | null)[] = [];
  let value = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      if (i + 1 >= text.length) return null;
      value += text[++i];
      quoted = true;
    } else if (c === ':') {
      values.push(fieldValue(value, quoted));
      value = '';
      quoted = false;
    } else {
      value += c;
    }
  }
  values.push(fieldValue(value, quoted));
  if (values.length !== 13 || values[0] !== 'cpe' || values[1] !== '2.3') return null;
  const cpe = {} as Cpe23;
  CPE23_FIELDS.forEach((field, i) => { cpe[field] = values[i + 2]; });
  return cpe;
}

function fieldValue(value: string, quoted: boolean): string | null {
  if (quoted) return value;
  if (value === '*') return null;
  if (value === '-') return '';
  return value;
}

/** A CPE 2.2 URI (`cpe:/o:redhat:enterprise_linux:9::baseos`): part, vendor, product, version, update, edition. */
export interface Cpe22 {
  part: string;
  vendor: string;
  product: string;
  version: string;
  update: string;
  edition: string;
}

export function parseCpe22(text: string): Cpe22 | null {
  if (!text.startsWith('cpe:/')) return null;
  const parts = text.slice(5).split(':').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const [part = '', vendor = '', product = '', version = '', update = '', edition = ''] = parts;
  if (!/^[aoh]$/.test(part) || vendor === '' || product === '') return null;
  return { part, vendor, product, version, update, edition };
}

/** `vendor:product`, the key NVD ranges are stored under. */
export function cpeProductKey(vendor: string, product: string): string {
  return `${vendor.toLowerCase()}:${product.toLowerCase()}`;
}

/**
 * Defender names third-party software after CPE's vendor and product, lower-cased
 * (`google/chrome` is `google:chrome`, `7-zip/7-zip` is `7-zip:7-zip`, `mozilla/firefox_esr`,
 * `notepad-plus-plus/notepad++` is CPE's `notepad\+\+` unescaped). The exceptions, where
 * Defender's name differs from the CPE NVD files the CVEs under, or NVD uses more than one:
 */
const DEFENDER_CPE_ALIASES: Record<string, string[]> = {
  // Defender's inventory and recommendations say `edge_chromium-based`; NVD's CPE is `edge_chromium`.
  'microsoft/edge_chromium-based': ['microsoft:edge_chromium'],
  // Oracle's Java CVEs are filed under `jre`/`jdk` and, since Oracle's Java SE rename, `java_se`
  // (`cpe:2.3:a:oracle:java_se:1.8.0:update400`, `…:java_se:21.0.5`).
  'oracle/jre': ['oracle:jre', 'oracle:java_se'],
  'oracle/jdk': ['oracle:jdk', 'oracle:java_se'],
};

/** The CPE `vendor:product` keys whose NVD ranges apply to a Defender `vendor/product`. */
export function defenderCpeKeys(vendor: string, product: string): string[] {
  const name = `${vendor.toLowerCase()}/${product.toLowerCase()}`;
  return DEFENDER_CPE_ALIASES[name] ?? [cpeProductKey(vendor, product)];
}
