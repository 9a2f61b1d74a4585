// Checkpoints findings.db on a worker thread. After a large snapshot, copying the log into the
// database and flushing it to disk takes a while; on the main thread it would stall the console and
// delay the end of the sync. Checkpoints run one at a time; requests made while one waits to start
// share it. Should the thread fail, the log simply grows until the store closes, which checkpoints
// it too.

import { Worker } from 'node:worker_threads';

export class WalCheckpointer {
  private readonly worker: Worker;
  private tail: Promise<void> = Promise.resolve();
  /** The checkpoint that has not started yet. */
  private queued: Promise<void> | undefined;
  private finished: (() => void) | undefined;
  private failed = false;

  constructor(file: string) {
    this.worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: { file } });
    this.worker.unref();
    this.worker.on('message', () => this.finish());
    this.worker.on('error', () => {
      this.failed = true;
      this.finish();
    });
  }

  /** Settles once a checkpoint that started after this call has ended. */
  request(): Promise<void> {
    if (this.failed) return Promise.resolve();
    this.queued ??= this.tail = this.tail.then(() => {
      this.queued = undefined;
      return this.checkpoint();
    });
    return this.queued;
  }

  private checkpoint(): Promise<void> {
    if (this.failed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.finished = resolve;
      this.worker.postMessage('checkpoint');
    });
  }

  private finish(): void {
    const finished = this.finished;
    this.finished = undefined;
    finished?.();
  }

  async close(): Promise<void> {
    await this.worker.terminate();
    this.failed = true;
    this.finish();
  }
}
