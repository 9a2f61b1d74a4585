// Messages between the delta (the sync's thread) and its change reader (a parser thread), which
// downloads and parses the pages of SoftwareVulnerabilityChangesByMachine.
//
// The reader sends the changes as writer lines, in the order Defender lists them: D, S and F lines
// for New and Updated changes, X lines for Fixed ones, U lines to take back the fix of a device's
// RBAC move (whose New half came after its Fixed half), and a T line (`T`, unix seconds) whenever
// the time of the changes that follow changes. Access tokens stay with the sync's thread, which
// answers the reader's token requests.

import type { Diagnosis } from '../connections/diagnosis.js';

/** Where and how the reader downloads the pages. */
export interface ChangesDownload {
  /** The first page. */
  url: string;
  extraCaPem?: string;
  proxyUrl?: string;
  maxAttempts: number;
  timeScale: number;
}

export type ToChangesReader =
  | { type: 'begin'; download: ChangesDownload }
  /** The answer to a token request. */
  | { type: 'token'; id: number; token: string }
  | { type: 'tokenFailed'; id: number; diagnosis: Diagnosis };

export type FromChangesReader =
  /** `fresh`: the API refused the last token (401), so the cache must be bypassed. */
  | { type: 'token'; id: number; fresh: boolean }
  /** The reader waits (quota, Retry-After, backoff): for progress displays. */
  | { type: 'wait'; reason: string; seconds: number }
  /** Defender answered 429: for the metrics. */
  | { type: 'throttled' }
  | { type: 'changes'; lines: string }
  /** The last message: the time of the latest change (unix seconds; 0 when there was none). */
  | { type: 'done'; latest: number }
  | { type: 'failed'; diagnosis: Diagnosis };
