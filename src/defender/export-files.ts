// Reads every part of a file export on the parser threads and hands their packed batches to
// `onBatch` (the writer, on this thread). Parsing and writing run in parallel; parts are dealt round-robin to the
// threads, and each thread reads its parts in order.

import { DiagnosedError } from '../connections/diagnosis.js';
import type { ExportWorkerInput, FromWorker, ToWorker } from './export-protocol.js';
import type { PackedBatch } from './packed-records.js';
import { ROW_SEPARATOR } from './records.js';

/** A parser thread lent to this export (see sync/parser-threads.ts). */
export interface ExportThread {
  post(message: ToWorker | { type: 'export'; input: ExportWorkerInput }): void;
  release(): void;
  discard(): void;
}

export interface ExportThreads {
  count: number;
  attach(i: number, onMessage: (message: FromWorker) => void, onFailure: (error: Error) => void): ExportThread;
}

export interface ExportFilesOptions {
  urls: string[];
  /** Requests the export again (for fresh SAS links); must list the same parts. */
  refreshUrls: () => Promise<string[]>;
  extraCaPem?: string;
  proxyUrl?: string;
  maxAttempts: number;
  timeScale: number;
  /**
   * A thread's batches arrive in its order; `thread` tells whose numbering they use. When it
   * returns a promise, the thread may send its next batch once that settles (back-pressure).
   */
  onBatch: (batch: PackedBatch, thread: number) => void | Promise<void>;
  onPartDone: (part: number, lines: number) => void;
  onWait: (reason: string, seconds: number) => void;
  signal?: AbortSignal;
  threads: ExportThreads;
}

const KEEP = 'The previous copy of the data is kept unchanged.';

function diagnosis(code: Extract<FromWorker, { type: 'failed' }>['code'], message: string): DiagnosedError {
  if (code === 'download_failed') {
    return new DiagnosedError({ code: 'network_error', step: 'network', message: `An export file could not be downloaded: ${message}.`, fix: `Check that SitePatch can reach the export storage host (*.blob.core.windows.net), then sync again. ${KEEP}` });
  }
  return new DiagnosedError({
    code, step: 'network',
    message: code === 'export_file_empty' ? `An export file stayed empty: ${message}.` : `An export file is damaged: ${message}.`,
    fix: `Sync again; Defender rebuilds its export every 6 hours. If the same file fails again, report its name to Microsoft support. ${KEEP}`,
  });
}

export function readExportFiles(options: ExportFilesOptions): Promise<void> {
  const count = Math.min(options.threads.count, options.urls.length);
  let currentUrls = options.urls;
  let refreshing: Promise<string[]> | undefined;

  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finished = new Set<number>();
    const onAbort = () => fail(options.signal!.reason);
    const settle = () => {
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settle();
      threads.forEach((thread, w) => { if (!finished.has(w)) thread.discard(); });
      reject(error);
    };
    const broadcast = (message: ToWorker) => threads.forEach((t) => t.post(message));
    const onMessage = (w: number, message: FromWorker) => {
      if (settled) return;
      const thread = threads[w];
      try {
        switch (message.type) {
          case 'packed': {
            const taken = options.onBatch({ entries: message.entries, count: message.count, texts: message.texts.split(ROW_SEPARATOR) }, w);
            if (taken) taken.then(() => { if (!settled) thread.post({ type: 'credit' }); }, fail);
            else thread.post({ type: 'credit' });
            break;
          }
          case 'partDone':
            options.onPartDone(message.part, message.lines);
            break;
          case 'wait':
            options.onWait(message.reason, message.seconds);
            break;
          case 'sasExpired':
            if (currentUrls[message.part] !== message.url) {
              // Another thread already fetched fresh links.
              thread.post({ type: 'urls', urls: currentUrls });
            } else if (!refreshing) {
              options.onWait('the download links expired; requesting the export again', 0);
              refreshing = options.refreshUrls().finally(() => { refreshing = undefined; });
              refreshing.then((urls) => { currentUrls = urls; broadcast({ type: 'urls', urls }); }, fail);
            }
            break;
          case 'failed':
            fail(diagnosis(message.code, message.message));
            break;
          case 'done':
            thread.release();
            finished.add(w);
            if (finished.size === threads.length) {
              settle();
              resolve();
            }
            break;
        }
      } catch (e) {
        fail(e);
      }
    };
    const threads = Array.from({ length: count }, (_, w) => options.threads.attach(w, (message) => onMessage(w, message), fail));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    threads.forEach((thread, w) => {
      const input: ExportWorkerInput = {
        urls: options.urls, parts: options.urls.map((_, i) => i).filter((i) => i % count === w),
        extraCaPem: options.extraCaPem, proxyUrl: options.proxyUrl, maxAttempts: options.maxAttempts, timeScale: options.timeScale, batchRows: 1000,
      };
      thread.post({ type: 'export', input });
    });
  });
}
