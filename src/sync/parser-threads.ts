// The parser threads: worker threads that start with the first sync and live as long as the
// service. A full sync's file export is parsed on all of them, a delta's pages on the first, while
// the sync's thread writes. Kept between runs, they boot once and keep their compiled code warm. A
// thread a failed job may have left busy is replaced.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ToParserThread } from './parser-thread.js';

/** Parsing (JSON.parse) costs more than writing a row: two parsers keep one writer busy. */
const PARSERS = Math.max(1, Math.min(2, availableParallelism()));

/** A thread lent to one job. */
export interface ParserThread {
  post(message: ToParserThread, transfer?: ArrayBuffer[]): void;
  /** The job is over and the thread idle: it can take the next one. */
  release(): void;
  /** The job failed and the thread may still be busy with it: replace the thread. */
  discard(): void;
}

interface Job {
  onMessage: (message: unknown) => void;
  onFailure: (error: Error) => void;
}

export class ParserThreads {
  readonly count = PARSERS;
  private readonly threads: (Worker | undefined)[] = [];
  private readonly jobs: (Job | undefined)[] = [];

  private start(i: number): Worker {
    // The heap holds a page of changes and the latest change of each finding (up to a million).
    const worker = new Worker(new URL('./parser-thread.js', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 48 } });
    // An idle thread does not keep the process alive.
    worker.unref();
    // A replaced thread may still post what its last job left: only the current one is heard.
    const current = () => worker === this.threads[i];
    worker.on('message', (message: unknown) => {
      if (current()) this.jobs[i]?.onMessage(message);
    });
    worker.on('error', (e) => {
      if (current()) this.jobs[i]?.onFailure(e);
    });
    worker.on('exit', (code) => {
      if (!current()) return;
      this.threads[i] = this.start(i);
      this.jobs[i]?.onFailure(new Error(`A parser thread stopped unexpectedly (exit code ${code}).`));
    });
    return worker;
  }

  /** Lends thread `i` to a job: its messages go to `onMessage`, and its crash to `onFailure`. */
  attach<M>(i: number, onMessage: (message: M) => void, onFailure: (error: Error) => void): ParserThread {
    this.jobs[i] = { onMessage: onMessage as (message: unknown) => void, onFailure };
    const worker = this.threads[i] ??= this.start(i);
    const detach = () => {
      if (this.threads[i] === worker) this.jobs[i] = undefined;
    };
    return {
      post: (message, transfer) => worker.postMessage(message, transfer),
      release: detach,
      discard: () => {
        detach();
        if (this.threads[i] !== worker) return;
        this.threads[i] = this.start(i);
        void worker.terminate();
      },
    };
  }

  async close(): Promise<void> {
    const threads = this.threads.splice(0);
    this.jobs.length = 0;
    await Promise.all(threads.map((worker) => worker?.terminate()));
  }
}
