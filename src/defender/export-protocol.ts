// Messages between a parser thread reading its share of a file export and the writer.

export interface ExportWorkerInput {
  urls: string[];
  /** Part indexes to read, in order. */
  parts: number[];
  extraCaPem?: string;
  proxyUrl?: string;
  maxAttempts: number;
  timeScale: number;
  batchRows: number;
}

export type ToWorker = { type: 'credit' } | { type: 'urls'; urls: string[] };

export type FromWorker =
  /** A PackedBatch (packed-records.ts), its texts joined by ROW_SEPARATOR. */
  | { type: 'packed'; entries: Float64Array<ArrayBuffer>; count: number; texts: string }
  | { type: 'partDone'; part: number; lines: number }
  | { type: 'sasExpired'; part: number; url: string }
  | { type: 'wait'; reason: string; seconds: number }
  | { type: 'failed'; code: 'export_file_corrupt' | 'export_file_empty' | 'download_failed'; message: string }
  | { type: 'done' };
