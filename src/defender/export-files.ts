// Reads every part of a file export through parser worker threads and hands the rows to `onRows`
// (the writer, on this thread). Parsing and writing run in parallel; parts are dealt round-robin to
// the workers, and each worker reads its parts in order.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DiagnosedError } from '../connections/diagnosis.js';
import type { ExportWorkerInput, FromWorker, ToWorker } from './export-protocol.js';
import { ROW_SEPARATOR } from './records.js';

export interface ExportFilesOptions {
  urls: string[];
  /** Requests the export again (for fresh SAS links); must list the same parts. */
  refreshUrls: () => Promise<string[]>;
  extraCaPem?: string;
  proxyUrl?: string;
  maxAttempts: number;
  timeScale: number;
  onRows: (rows: string[], part: number) => void;
  onPartDone: (part: number, lines: number) => void;
  onWait: (reason: string, seconds: number) => void;
  signal?: AbortSignal;
}

const KEEP = 'The previous copy of the data is kept unchanged.';
/** Parsing (JSON.parse) costs more than writing a row: two parsers keep one writer busy. */
const PARSERS = Math.max(1, Math.min(2, availableParallelism()));

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
  const count = Math.min(PARSERS, options.urls.length);
  const workers = Array.from({ length: count }, (_, w) => {
    const workerData: ExportWorkerInput = {
      urls: options.urls, parts: options.urls.map((_, i) => i).filter((i) => i % count === w),
      extraCaPem: options.extraCaPem, proxyUrl: options.proxyUrl, maxAttempts: options.maxAttempts, timeScale: options.timeScale, batchRows: 1000,
    };
    // A small heap is plenty for a streaming parser, and keeps the process's memory flat.
    return new Worker(new URL('./export-worker.js', import.meta.url), { workerData, resourceLimits: { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 48 } });
  });
  const broadcast = (message: ToWorker) => workers.forEach((w) => w.postMessage(message));
  let currentUrls = options.urls;
  let refreshing: Promise<string[]> | undefined;

  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finished = new Set<Worker>();
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      for (const w of workers) void w.terminate();
      reject(error);
    };
    options.signal?.addEventListener('abort', () => fail(options.signal!.reason), { once: true });
    for (const worker of workers) {
      worker.on('message', (message: FromWorker) => {
        if (settled) return;
        try {
          switch (message.type) {
            case 'rows':
              options.onRows(message.data.split(ROW_SEPARATOR), message.part);
              worker.postMessage({ type: 'credit' } satisfies ToWorker);
              break;
            case 'partDone':
              options.onPartDone(message.part, message.lines);
              break;
            case 'wait':
              options.onWait(message.reason, message.seconds);
              break;
            case 'sasExpired':
              if (currentUrls[message.part] !== message.url) {
                // Another worker already fetched fresh links.
                worker.postMessage({ type: 'urls', urls: currentUrls } satisfies ToWorker);
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
              finished.add(worker);
              void worker.terminate();
              if (finished.size === workers.length) {
                settled = true;
                resolve();
              }
              break;
          }
        } catch (e) {
          fail(e);
        }
      });
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (!finished.has(worker)) fail(new Error(`An export worker stopped unexpectedly (exit code ${code}).`));
      });
    }
  });
}
