// CVSS 3.1 base scores computed from their vectors with the specification's formula (FIRST,
// CVSS v3.1 Specification Document, section 7), and the vectors real CVEs carry most often, so that
// scores cluster where NVD's do (9.8, 8.8, 7.8, 7.5, 5.5, 6.5).

import { pick, unit, weighted } from './random.js';

const WEIGHTS = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  CIA: { H: 0.56, L: 0.22, N: 0 },
} as const;

/** Rounds up to one decimal as the specification's Roundup does (robust to floating-point error). */
function roundUp(value: number): number {
  const scaled = Math.round(value * 100000);
  return scaled % 10000 === 0 ? scaled / 100000 : (Math.floor(scaled / 10000) + 1) / 10;
}

export interface CvssMetrics {
  AV: 'N' | 'A' | 'L' | 'P';
  AC: 'L' | 'H';
  PR: 'N' | 'L' | 'H';
  UI: 'N' | 'R';
  S: 'U' | 'C';
  C: 'H' | 'L' | 'N';
  I: 'H' | 'L' | 'N';
  A: 'H' | 'L' | 'N';
}

const ORDER = ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'] as const;

export function parseVector(vector: string): CvssMetrics | undefined {
  const parts = vector.split('/');
  if (parts[0] !== 'CVSS:3.1' && parts[0] !== 'CVSS:3.0') return undefined;
  const metrics: Record<string, string> = {};
  for (const part of parts.slice(1)) {
    const [key, value] = part.split(':');
    metrics[key] = value;
  }
  return ORDER.every((key) => metrics[key] !== undefined) ? metrics as unknown as CvssMetrics : undefined;
}

export function vectorString(m: CvssMetrics): string {
  return `CVSS:3.1/${ORDER.map((key) => `${key}:${m[key]}`).join('/')}`;
}

/** The CVSS 3.1 base score of a vector. */
export function baseScore(m: CvssMetrics): number {
  const changed = m.S === 'C';
  const pr = m.PR === 'N' ? 0.85 : m.PR === 'L' ? (changed ? 0.68 : 0.62) : (changed ? 0.5 : 0.27);
  const iss = 1 - (1 - WEIGHTS.CIA[m.C]) * (1 - WEIGHTS.CIA[m.I]) * (1 - WEIGHTS.CIA[m.A]);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 : 6.42 * iss;
  const exploitability = 8.22 * WEIGHTS.AV[m.AV] * WEIGHTS.AC[m.AC] * pr * WEIGHTS.UI[m.UI];
  if (impact <= 0) return 0;
  return roundUp(Math.min(changed ? 1.08 * (impact + exploitability) : impact + exploitability, 10));
}

/** NVD's qualitative rating of a base score. */
export function severityOf(score: number): 'Low' | 'Medium' | 'High' | 'Critical' {
  return score >= 9 ? 'Critical' : score >= 7 ? 'High' : score >= 4 ? 'Medium' : 'Low';
}

const m = (text: string): CvssMetrics => parseVector(`CVSS:3.1/${text}`)!;

/** The vectors seen most often in NVD, weighted roughly by how often they occur. */
const COMMON: readonly (readonly [CvssMetrics, number])[] = [
  [m('AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 14], // 9.8
  [m('AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H'), 14], // 8.8
  [m('AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H'), 6], // 8.8
  [m('AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H'), 18], // 7.8
  [m('AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H'), 9], // 7.8
  [m('AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N'), 6], // 7.5
  [m('AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H'), 8], // 7.5
  [m('AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N'), 6], // 5.5
  [m('AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H'), 4], // 5.5
  [m('AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N'), 4], // 6.5
  [m('AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N'), 3], // 6.1
  [m('AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H'), 4], // 7.0
  [m('AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H'), 3], // 8.1
  [m('AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:L/A:N'), 2], // 4.3
  [m('AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N'), 2], // 5.3
  [m('AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N'), 1], // 3.3
  [m('AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H'), 1], // 9.9
  [m('AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H'), 1], // 10.0
];

/** A vector for a CVE: usually a common one, sometimes one with a metric changed. */
export function vectorFor(h: number, h2: number): CvssMetrics {
  const base = weighted(h, COMMON);
  if (unit(h2) >= 0.15) return base;
  const key = pick(h2 >>> 3, ORDER);
  const values: Record<(typeof ORDER)[number], readonly string[]> = {
    AV: ['N', 'A', 'L', 'P'], AC: ['L', 'H'], PR: ['N', 'L', 'H'], UI: ['N', 'R'], S: ['U', 'C'], C: ['H', 'L', 'N'], I: ['H', 'L', 'N'], A: ['H', 'L', 'N'],
  };
  const changed = { ...base, [key]: pick(h2 >>> 9, values[key]) } as CvssMetrics;
  return baseScore(changed) > 0 ? changed : base;
}
