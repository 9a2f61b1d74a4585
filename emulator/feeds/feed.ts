// What every vendor feed of the emulator shares: the world it describes, at which time, and small
// helpers for the vendors' formats.

import type { World } from '../world/world.js';

export interface FeedContext {
  world: World;
  /** The moment the feeds describe: the emulator's latest published snapshot (ms). */
  time: () => number;
}

/** Red Hat's and NVD's severity words for a CVSS score. */
export function redHatSeverity(cvss: number): 'Critical' | 'Important' | 'Moderate' | 'Low' {
  return cvss >= 9 ? 'Critical' : cvss >= 7 ? 'Important' : cvss >= 4 ? 'Moderate' : 'Low';
}

/** CWE of a CVE, from its impact: what the vendors' records carry. */
export function cweOf(impact: string, h: number): { id: string; name: string } {
  const choices: Record<string, readonly { id: string; name: string }[]> = {
    'Remote Code Execution': [{ id: 'CWE-416', name: 'Use After Free' }, { id: 'CWE-787', name: 'Out-of-bounds Write' }, { id: 'CWE-122', name: 'Heap-based Buffer Overflow' }],
    'Elevation of Privilege': [{ id: 'CWE-269', name: 'Improper Privilege Management' }, { id: 'CWE-416', name: 'Use After Free' }, { id: 'CWE-362', name: 'Race Condition' }],
    'Information Disclosure': [{ id: 'CWE-200', name: 'Exposure of Sensitive Information to an Unauthorized Actor' }, { id: 'CWE-125', name: 'Out-of-bounds Read' }],
    'Denial of Service': [{ id: 'CWE-400', name: 'Uncontrolled Resource Consumption' }, { id: 'CWE-476', name: 'NULL Pointer Dereference' }],
    Spoofing: [{ id: 'CWE-79', name: "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')" }],
    'Security Feature Bypass': [{ id: 'CWE-693', name: 'Protection Mechanism Failure' }],
  };
  const list = choices[impact] ?? choices['Security Feature Bypass'];
  return list[((h % list.length) + list.length) % list.length];
}

/** Splits an RPM EVR (`1:3.0.7-28.el9_4`) into its parts; a missing epoch is 0. */
export function splitEvr(evr: string): { epoch: number; version: string; release: string } {
  const colon = evr.indexOf(':');
  const epoch = colon >= 0 ? Number(evr.slice(0, colon)) : 0;
  const rest = colon >= 0 ? evr.slice(colon + 1) : evr;
  const dash = rest.lastIndexOf('-');
  return { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) };
}
