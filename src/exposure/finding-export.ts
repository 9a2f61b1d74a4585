// Streams the findings CSV from export workers (finding-export-worker.ts). An export in id order
// of more than one block of ids is split: block b goes to worker b mod WORKERS, and the blocks are
// sent in order, so two cores format it and memory stays a few chunks per worker. At most
// EXPORTS_AT_ONCE exports run per process; more wait for a free slot.

import { Worker } from 'node:worker_threads';
import type { FindingFilter, IdRange } from './findings.js';
import type { FindingExportJob, FindingExportMessage } from './finding-export-worker.js';
import type { TenantScope } from './scope.js';

const EXPORTS_AT_ONCE = 2;
const WORKERS = 2;
/**
 * Ids per block: at most about as many rows as a worker's chunks ahead hold when every finding
 * matches, and at least eight blocks, so that both workers share even a small export.
 */
const blockIds = (ids: IdRange) => Math.min(20_000, Math.max(1_000, Math.ceil((ids[1] - ids[0]) / 8)));

let running = 0;
const waiting: (() => void)[] = [];

async function takeSlot(): Promise<void> {
  if (running < EXPORTS_AT_ONCE) running++;
  else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot passes on as it is
}

function releaseSlot(): void {
  const next = waiting.shift();
  if (next) next();
  else running--;
}

/** A worker's messages, read one at a time. */
class ExportWorker {
  private readonly worker: Worker;
  private readonly inbox: FindingExportMessage[] = [];
  private arrived?: () => void;

  constructor(job: FindingExportJob) {
    // A small young generation: the worker's garbage is short-lived strings, and a large one only adds to the server's memory.
    this.worker = new Worker(new URL('./finding-export-worker.js', import.meta.url), { workerData: job, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    this.worker.on('message', (message: FindingExportMessage) => this.receive(message));
    this.worker.on('error', (error) => this.receive({ error: error.message }));
    this.worker.on('exit', (code) => this.receive({ error: `the export worker exited (code ${code})` }));
  }

  private receive(message: FindingExportMessage): void {
    this.inbox.push(message);
    this.arrived?.();
  }

  /** The chunks up to the end of the worker's current block (or of its whole job). */
  async *chunks(): AsyncGenerator<Uint8Array> {
    for (;;) {
      while (!this.inbox.length) await new Promise<void>((resolve) => { this.arrived = resolve; });
      const message = this.inbox.shift()!;
      if ('blockDone' in message || 'done' in message) return;
      if ('error' in message) throw new Error(`The findings export stopped: ${message.error}`);
      this.worker.postMessage(1); // the worker may format one more page
      yield message.chunk;
    }
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/**
 * The CSV lines (UTF-8) of every finding the filter selects; check the filter first
 * (FindingQueries.check). `ids` is the range of finding ids when the filter is in id order.
 */
export async function* findingCsvChunks(source: FindingExportJob['source'], scope: TenantScope, filter: FindingFilter, ids: IdRange | null): AsyncGenerator<Uint8Array> {
  await takeSlot();
  const blocks: IdRange[] = [];
  if (ids) for (let first = ids[0], size = blockIds(ids); first < ids[1]; first += size) blocks.push([first, Math.min(first + size, ids[1])]);
  const split = blocks.length > 1;
  const workers = split
    ? Array.from({ length: WORKERS }, (_, w) => new ExportWorker({ source, scope, filter, blocks: blocks.filter((_, b) => b % WORKERS === w) }))
    : [new ExportWorker({ source, scope, filter, blocks: null })];
  try {
    if (!split) yield* workers[0].chunks();
    else for (let b = 0; b < blocks.length; b++) yield* workers[b % WORKERS].chunks();
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    releaseSlot();
  }
}
