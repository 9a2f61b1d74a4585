// The sync's side of the change reader (changes-worker.ts): a worker thread that parses the delta's
// pages while this thread downloads and writes. It starts with the service and stays between runs,
// so a delta does not wait for a thread to boot; after a failed run it is replaced.

import { Worker } from 'node:worker_threads';
import { DiagnosedError, diagnoseApi } from '../connections/diagnosis.js';
import { IncompleteBody } from '../defender/client.js';
import type { FromChangesReader, ToChangesReader } from './changes-protocol.js';

export interface ChangeReading {
  /** Downloads the pages in order, handing each body to `read`, which answers its next link. */
  download(read: (body: Buffer) => Promise<string | undefined>): Promise<void>;
  /** Writes the lines of a `changes` message. */
  write(lines: string): void;
  /** The API host, for diagnoses. */
  host: string;
}

export class ChangeReader {
  private worker: Worker;
  /** The handlers of the run in progress. */
  private listener?: { message: (message: FromChangesReader) => void; fail: (e: unknown) => void };

  constructor() {
    this.worker = this.startThread();
  }

  private startThread(): Worker {
    // The thread holds a page, and the latest change of each finding (up to a million).
    const worker = new Worker(new URL('./changes-worker.js', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 48 } });
    worker.unref();
    worker.on('message', (message: FromChangesReader) => this.listener?.message(message));
    worker.on('error', (e) => this.listener?.fail(e));
    worker.on('exit', (code) => {
      if (worker === this.worker) this.listener?.fail(new Error(`The change reader stopped unexpectedly (exit code ${code}).`));
    });
    return worker;
  }

  /** Reads one delta; resolves with the time of its latest change (unix seconds, 0 when none). */
  async read({ download, write, host }: ChangeReading): Promise<number> {
    if (this.worker.threadId === -1) this.worker = this.startThread();
    const worker = this.worker;
    const post = (message: ToChangesReader, transfer?: ArrayBuffer[]) => worker.postMessage(message, transfer);
    /** Pages posted to the thread and not yet answered, in order. */
    const answers: { resolve: (nextLink: string | undefined) => void; reject: (e: unknown) => void }[] = [];
    let failed = false;

    const finished = new Promise<number>((resolve, reject) => {
      const fail = (e: unknown) => {
        failed = true;
        for (const answer of answers.splice(0)) answer.reject(e);
        reject(e);
      };
      // Pages are answered at once (the next downloads wait on them); changes are written one
      // message per turn of the event loop, so that downloads keep flowing in between.
      const inbox: FromChangesReader[] = [];
      const writeNext = () => {
        const message = inbox.shift();
        if (!message || failed) return;
        try {
          if (message.type === 'changes') write(message.lines);
          else if (message.type === 'done') resolve(message.latest);
          else if (message.type === 'failed') fail(new DiagnosedError(message.diagnosis));
        } catch (e) {
          fail(e);
        }
        if (inbox.length) setImmediate(writeNext);
      };
      const message = (m: FromChangesReader) => {
        if (m.type === 'page') {
          answers.shift()?.resolve(m.nextLink);
        } else if (m.type === 'unreadablePage') {
          answers.shift()?.reject(m.problem === 'incomplete' ? new IncompleteBody() : new DiagnosedError(diagnoseApi(200, 'the response has no "value" array', host)));
        } else if (inbox.push(m) === 1) {
          setImmediate(writeNext);
        }
      };
      this.listener = { message, fail };
    });
    finished.catch(() => undefined); // awaited below; a failure while pages download rejects the pending page too

    try {
      post({ type: 'begin' });
      await download((body) => new Promise((resolve, reject) => {
        answers.push({ resolve, reject });
        // The page's bytes move to the thread; this one does not read them again.
        const bytes = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body.buffer as ArrayBuffer : body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
        post({ type: 'page', body: bytes }, [bytes]);
      }));
      post({ type: 'end' });
      return await finished;
    } catch (e) {
      // The thread may still be busy with this run's pages: start afresh for the next one.
      failed = true;
      this.worker = this.startThread();
      void worker.terminate();
      throw e;
    } finally {
      this.listener = undefined;
    }
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.listener = undefined;
    await worker.terminate();
  }
}
