// Messages between the delta (the sync's thread) and its change reader (a worker thread).
//
// The reader sends the changes as writer lines, in the order Defender lists them: D, S and F lines
// for New and Updated changes, X lines for Fixed ones, U lines to take back the fix of a device's
// RBAC move (whose New half came after its Fixed half), and a T line (`T`, unix seconds) whenever
// the time of the changes that follow changes.

import type { Diagnosis } from '../connections/diagnosis.js';

/** A delta is `begin`, its pages in order, then `end`. */
export type ToChangesReader = { type: 'begin' } | { type: 'page'; body: ArrayBuffer } | { type: 'end' };

export type FromChangesReader =
  /** The answer to each page, once parsed: its next link, or why it cannot be read. */
  | { type: 'page'; nextLink?: string }
  | { type: 'unreadablePage'; problem: 'incomplete' | 'no value array' }
  | { type: 'changes'; lines: string }
  /** After `end`: the time of the latest change (unix seconds; 0 when there was none). */
  | { type: 'done'; latest: number }
  | { type: 'failed'; diagnosis: Diagnosis };
