// Checkpoints findings.db on a worker thread. After a large snapshot, copying the log into the
// database and flushing it to disk takes a while; on the main thread it would stall the console and
// delay the end of the sync. Requests made while a checkpoint runs fold into one more. Should the
// thread fail, the log simply grows until the store closes, which checkpoints it too.

import { Worker } from 'node:worker_threads';

export class WalCheckpointer {
  private readonly worker: Worker;
  private running = false;
  private again = false;
  private failed = false;

  constructor(file: string) {
    this.worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: { file } });
    this.worker.unref();
    this.worker.on('message', () => {
      this.running = false;
      if (this.again) this.request();
    });
    this.worker.on('error', () => {
      this.failed = true;
    });
  }

  request(): void {
    if (this.failed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.again = false;
    this.worker.postMessage('checkpoint');
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
