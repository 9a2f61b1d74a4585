// What a sync run writes through, whichever store holds the exposure copy: findings.db
// (finding-writer.ts, which applies each line as it comes) or PostgreSQL
// (store/postgres/sync-load.ts, which stages the lines with COPY and applies them set-based at the
// end). Everything a run writes is one transaction: commit() makes it visible, rollback() leaves
// nothing of it.

import type { PackedBatch } from '../defender/packed-records.js';
import type { SyncStateTable } from '../store/schema.js';
import type { CatalogEntry } from './catalog.js';

export interface WriteCounts {
  read: number;
  added: number;
  updated: number;
  reopened: number;
  fixed: number;
}

export const noCounts = (): WriteCounts => ({ read: 0, added: 0, updated: 0, reopened: 0, fixed: 0 });

export interface SyncStateUpdate {
  snapshotTime?: string;
  snapshotRows?: number;
  deltaCheckpoint?: string;
  catalogCheckpoint?: string;
  fullAt?: string;
}

/** `Stream` is what the writer keeps of one parser thread's packed batches from one to the next. */
export interface RunWriter<Stream = unknown> {
  readonly counts: WriteCounts;
  /** The tenant's checkpoints before this run. */
  state(): Promise<SyncStateTable | undefined>;
  /** Starts the run's transaction. */
  begin(): Promise<void>;
  /** This run reads a full snapshot: closeUnseen() then closes the open findings it did not list. */
  beginSnapshot(): void;
  newStream(): Stream;
  /** A packed batch of a file export (packed-records.ts); resolves when the writer can take the next. */
  packed(stream: Stream, batch: PackedBatch, at: number): Promise<void> | undefined;
  /** A D, S or F line (records.ts) of a JSON export or a delta. */
  line(line: string, at: number): void;
  /** An X or U line of a delta. */
  fixLine(line: string, at: number): void;
  /** After a full snapshot's last row: closes the open findings it did not list. */
  closeUnseen(at: number): Promise<void>;
  /** After a delta's last change. */
  endDelta(): Promise<void>;
  /** Upserts the CVE catalog's entries; answers the newest updatedOn seen. */
  saveCatalog(rows: CatalogEntry[]): Promise<string | undefined>;
  saveState(state: SyncStateUpdate): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/**
 * The day (YYYY-MM-DD, UTC) whose history point a run's commit writes: that of the data it wrote
 * (`dataTime`; without one, now), but never before the tenant's latest point, so that the latest
 * point is the state after the latest run. (A full snapshot generated before midnight can be
 * applied after a delta that already wrote the new day.)
 */
export function historyDay(dataTime: string | undefined, latestPoint: string | null): string {
  const day = (dataTime ?? new Date().toISOString()).slice(0, 10);
  return latestPoint && latestPoint > day ? latestPoint : day;
}
