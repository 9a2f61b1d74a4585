// The demo tenant's past. The emulated tenant's timeline begins 90 days before the first start of a
// data directory (its snapshot 0, kept in the emulator's state directory so the timeline continues
// across restarts). On the first start the console syncs that tenant day by day from there to now:
// the emulator publishes the snapshot of each day, the console syncs it, and every finding is
// opened, fixed and counted at that snapshot's own time, so the history has one point per day.
// Later starts only catch up from the console's last synced snapshot (nothing when it is recent),
// so the past is never replayed twice; then the emulator follows the wall clock.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { RunningEmulator } from '../../emulator/server.js';
import { SNAPSHOT_HOURS, SNAPSHOT_MS } from '../../emulator/tenant/tenant.js';
import type { Database } from '../store/schema.js';
import type { SyncRunView } from '../sync/runs.js';
import type { SyncService } from '../sync/service.js';
import type { RunLog } from '../sync/runs.js';

export const DEMO_PAST_DAYS = 90;
const DAY = 24 * 3600_000;
const SNAPSHOTS_PER_DAY = DAY / SNAPSHOT_MS;
const CLOCK_FILE = 'clock.json';
export const DEMO_HISTORY_TRIGGER = 'demo history';

/**
 * Time of the demo tenant's snapshot 0: read from its state directory, or (first start) 90 days
 * before the current 6-hour period, and written there.
 */
export function demoEpoch(stateDir: string, now = Date.now()): number {
  const file = path.join(stateDir, CLOCK_FILE);
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { firstSnapshot?: unknown };
    const time = Date.parse(String(saved.firstSnapshot));
    if (Number.isFinite(time) && time % SNAPSHOT_MS === 0 && time <= now) return time;
  } catch {
    // Missing or unreadable: a new timeline.
  }
  const epoch = Math.floor(now / SNAPSHOT_MS) * SNAPSHOT_MS - DEMO_PAST_DAYS * DAY;
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify({ firstSnapshot: new Date(epoch).toISOString() })}\n`, { mode: 0o600 });
  renameSync(temp, file);
  return epoch;
}

/** The snapshot time of the connection's last committed sync (its delta checkpoint), if any. */
export async function lastSyncedTime(db: Kysely<Database>, connectionId: string): Promise<number | undefined> {
  const row = await db.selectFrom('vuln.sync_state as s').innerJoin('vuln.tenant as t', 't.ref', 's.tenant_ref')
    .select(['s.delta_checkpoint', 's.snapshot_time']).where('t.connection_id', '=', connectionId).executeTakeFirst();
  const time = Date.parse(row?.delta_checkpoint ?? row?.snapshot_time ?? '');
  return Number.isNaN(time) ? undefined : time;
}

export interface DemoPastPlan {
  epoch: number;
  /** Where the console's copy stands: the snapshot to publish before any sync runs. */
  position: number;
  /** Snapshots to publish and sync, oldest first (indexes on the demo tenant's timeline). */
  snapshots: number[];
  /** True when the console has none of the tenant yet: the plan starts 90 days back. */
  firstStart: boolean;
}

/**
 * Which snapshots to sync: with nothing synced yet, one a day over the last 90 days and the current
 * one; otherwise one a day after the last synced snapshot, and the current one.
 */
export function planDemoPast(epoch: number, lastSynced: number | undefined, now = Date.now()): DemoPastPlan {
  const current = Math.floor((now - epoch) / SNAPSHOT_MS);
  const firstStart = lastSynced === undefined;
  const position = firstStart
    ? Math.max(0, current - DEMO_PAST_DAYS * SNAPSHOTS_PER_DAY)
    : Math.min(current, Math.max(0, Math.floor((lastSynced - epoch) / SNAPSHOT_MS)));
  const snapshots: number[] = [];
  for (let k = firstStart ? position : position + SNAPSHOTS_PER_DAY; k <= current; k += SNAPSHOTS_PER_DAY) snapshots.push(k);
  if ((snapshots.at(-1) ?? position) < current) snapshots.push(current);
  return { epoch, position, snapshots, firstStart };
}

/** Moves the just-started emulator (at snapshot 0) to the plan's position. Call it before any sync can run. */
export function positionDemo(demo: RunningEmulator, plan: DemoPastPlan): void {
  const behind = plan.position - demo.state().snapshot;
  if (behind > 0) demo.advance(behind * SNAPSHOT_HOURS);
}

export interface DemoPastProgress {
  /** Snapshots synced so far, of `total`. */
  done: number;
  total: number;
  firstStart: boolean;
  /** Time of the snapshot just synced (or, at 0, of the first to sync). */
  snapshotTime: string;
  /** The run that synced it. */
  run?: SyncRunView;
}

export interface DemoPastResult {
  firstStart: boolean;
  synced: number;
  total: number;
  from?: string;
  to?: string;
  seconds: number;
  counts: { read: number; added: number; fixed: number; reopened: number };
  /** The run that failed; the next start goes on from the last synced snapshot. */
  failed?: SyncRunView;
}

export interface DemoPastDeps {
  demo: RunningEmulator;
  sync: SyncService;
  runs: RunLog;
  connectionId: string;
  onProgress?: (progress: DemoPastProgress) => void;
}

/** Waits for a run's outcome. */
async function finished({ sync, runs }: DemoPastDeps, runId: string): Promise<SyncRunView> {
  let done = false;
  let wake: (() => void) | undefined;
  const unsubscribe = sync.onFinished((id) => {
    if (id !== runId) return;
    done = true;
    wake?.();
  });
  try {
    for (;;) {
      const run = await runs.get(runId);
      if (!run) throw new Error(`The sync run ${runId} disappeared.`);
      if (run.status === 'succeeded' || run.status === 'failed') return run;
      // Listeners hear every finished run; one that crashed is only seen in the run log.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, done ? 50 : 1000);
        wake = () => { clearTimeout(timer); resolve(); };
      });
    }
  } finally {
    unsubscribe();
  }
}

/** Waits until the connection has no run queued or running (the scheduler's, a retry after an interruption). */
async function idle(deps: DemoPastDeps): Promise<void> {
  for (let active = await deps.runs.active(deps.connectionId); active; active = await deps.runs.active(deps.connectionId)) await finished(deps, active.runId);
}

/** Runs one sync of the current snapshot through the console's queue and waits for its outcome. */
async function syncOnce(deps: DemoPastDeps, now: number): Promise<SyncRunView> {
  // A delta where the engine can (the last 13 days: it runs a full snapshot for a checkpoint older
  // than Defender's 14 days of changes, or none), rather than the weekly full of 'auto': quicker.
  // A run queued meanwhile by the scheduler syncs the same snapshot: request() then answers with it.
  return finished(deps, await deps.sync.request(deps.connectionId, 'delta', DEMO_HISTORY_TRIGGER, { now }));
}

/**
 * Publishes and syncs the plan's snapshots in order, then lets the emulator follow the wall clock.
 * Stops at the first failed sync, with the emulator left there (the next start goes on from the last
 * snapshot that was synced).
 */
export async function replayDemoPast(deps: DemoPastDeps, plan: DemoPastPlan): Promise<DemoPastResult> {
  const { demo, onProgress } = deps;
  const started = Date.now();
  const time = (k: number) => new Date(plan.epoch + k * SNAPSHOT_MS).toISOString();
  const total = plan.snapshots.length;
  const counts = { read: 0, added: 0, fixed: 0, reopened: 0 };
  const result = (synced: number, failed?: SyncRunView): DemoPastResult => ({
    firstStart: plan.firstStart, synced, total, counts, failed,
    from: total ? time(plan.snapshots[0]) : undefined, to: synced ? time(plan.snapshots[synced - 1]) : undefined,
    seconds: (Date.now() - started) / 1000,
  });
  if (total) onProgress?.({ done: 0, total, firstStart: plan.firstStart, snapshotTime: time(plan.snapshots[0]) });
  for (let i = 0; i < total; i++) {
    const k = plan.snapshots[i];
    // No run may read across a new snapshot: one the scheduler or a retry started finishes first.
    await idle(deps);
    const behind = k - demo.state().snapshot;
    if (behind > 0) demo.advance(behind * SNAPSHOT_HOURS);
    // A day passes between two of these syncs: Defender's per-minute and per-hour quotas have long reset.
    demo.resetRateLimits();
    const run = await syncOnce(deps, plan.epoch + k * SNAPSHOT_MS + 3600_000);
    if (run.status !== 'succeeded') return result(i, run);
    counts.read += run.counts.read;
    counts.added += run.counts.added;
    counts.fixed += run.counts.fixed;
    counts.reopened += run.counts.reopened;
    onProgress?.({ done: i + 1, total, firstStart: plan.firstStart, snapshotTime: time(k), run });
  }
  // Caught up: from here on the tenant publishes a snapshot every 6 hours, and scheduled syncs read them.
  demo.followWallClock();
  return result(total);
}
