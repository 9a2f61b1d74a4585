// A parser thread's share of a file export: downloads each part (resuming after a dropped
// connection with a Range request), gunzips, splits lines and parses them, and hands the records
// to the writer in packed batches (packed-records.ts). Flow control: at most a few batches are in
// flight, so memory stays flat.

import { setTimeout as sleep } from 'node:timers/promises';
import { StringDecoder } from 'node:string_decoder';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { request } from 'undici';
import { sharedDispatcher } from '../net/dispatcher.js';
import { RecordPacker } from './packed-records.js';
import { RecordError, ROW_SEPARATOR } from './records.js';
import type { ExportWorkerInput, FromWorker, ToWorker } from './export-protocol.js';

const MAX_IN_FLIGHT = 16;

const fileName = (url: string) => decodeURIComponent(new URL(url).pathname.split('/').pop() ?? url);

class PartError extends Error {
  constructor(readonly code: 'export_file_corrupt' | 'export_file_empty' | 'download_failed', message: string) {
    super(message);
  }
}

/** Reads this thread's parts of a file export; messages from the writer go to `receive`. */
export function startExportJob(input: ExportWorkerInput, post: (message: FromWorker, transfer?: ArrayBuffer[]) => void): { receive(message: ToWorker): void } {
  const dispatcher = sharedDispatcher(input);
  let credits = MAX_IN_FLIGHT;
  const waiting: (() => void)[] = [];
  let awaitingUrls: (() => void) | undefined;

  // One packer for all of this thread's parts: the writer keeps its numbering for the whole job.
  const packer = new RecordPacker();

  async function send(): Promise<void> {
    if (credits === 0) await new Promise<void>((resolve) => waiting.push(resolve));
    credits--;
    const { entries, count, texts } = packer.take();
    post({ type: 'packed', entries, count, texts: texts.join(ROW_SEPARATOR) }, [entries.buffer]);
  }

  const backoff = (attempt: number) => Math.min(30_000, 1000 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2) * input.timeScale;

  /** The compressed bytes of one part, resuming with Range requests after a dropped connection. */
  async function* download(part: number): AsyncGenerator<Buffer> {
    let url = input.urls[part];
    let received = 0;
    let total: number | undefined;
    for (let attempt = 1; ; attempt++) {
      let failure: string;
      try {
        const response = await request(url, {
          dispatcher, headersTimeout: 120_000, bodyTimeout: 120_000,
          headers: received > 0 ? { range: `bytes=${received}-` } : {},
        });
        if (response.statusCode === 403) {
          const body = await response.body.text();
          if (/AuthenticationFailed/.test(body) && attempt <= input.maxAttempts) {
            // The SAS link expired: ask for the export again and continue from the same byte.
            post({ type: 'sasExpired', part, url });
            await new Promise<void>((resolve) => { awaitingUrls = resolve; });
            url = input.urls[part];
            continue;
          }
          throw new PartError('download_failed', `the download of ${fileName(url)} was refused (403): ${body.slice(0, 200)}`);
        }
        if (response.statusCode === 200 || response.statusCode === 206) {
          const length = Number(response.headers['content-length']);
          if (response.statusCode === 200) {
            if (received > 0) throw new PartError('download_failed', `the blob host ignored the resume request for ${fileName(url)}`);
            total = Number.isFinite(length) ? length : undefined;
          }
          for await (const chunk of response.body) {
            received += (chunk as Buffer).length;
            yield chunk as Buffer;
          }
          if (received === 0) {
            failure = `${fileName(url)} arrived empty`;
            if (attempt >= input.maxAttempts) throw new PartError('export_file_empty', `${failure} ${attempt} times`);
          } else if (total !== undefined && received < total) {
            failure = `the download of ${fileName(url)} stopped at byte ${received} of ${total}`;
          } else {
            return;
          }
        } else {
          await response.body.dump();
          failure = `the blob host answered ${response.statusCode} for ${fileName(url)}`;
          if (response.statusCode < 500 && response.statusCode !== 429) throw new PartError('download_failed', failure);
        }
      } catch (e) {
        if (e instanceof PartError) throw e;
        failure = `the connection dropped after ${received} bytes of ${fileName(url)} (${(e as Error).message})`;
      }
      if (attempt >= input.maxAttempts) throw new PartError('download_failed', `${failure}; gave up after ${attempt} tries`);
      const delay = backoff(attempt);
      post({ type: 'wait', reason: `${failure}; resuming`, seconds: Math.ceil(delay / 1000) });
      await sleep(delay);
    }
  }

  async function readPart(part: number): Promise<void> {
    const name = fileName(input.urls[part]);
    // Large output chunks: fewer round trips to zlib's thread pool, fewer line-splitting passes.
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    Readable.from(download(part)).on('error', (e) => gunzip.destroy(e)).pipe(gunzip);
    const decoder = new StringDecoder('utf8');
    // A file may start with a UTF-8 byte-order mark: it is no part of the first line.
    let atStart = true;
    let rest = '';
    let line = 0;
    const handle = (text: string) => {
      line++;
      if (text.length === 0) return;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new PartError('export_file_corrupt', `line ${line} of ${name} is not valid JSON: ${text.slice(0, 80)}…`);
      }
      try {
        packer.pack(record);
      } catch (e) {
        if (e instanceof RecordError) throw new PartError('export_file_corrupt', `line ${line} of ${name}: ${e.message}`);
        throw e;
      }
    };
    try {
      for await (const chunk of gunzip) {
        let text = decoder.write(chunk as Buffer);
        if (atStart && text) {
          atStart = false;
          if (text[0] === '\uFEFF') text = text.slice(1);
        }
        const lines = (rest + text).split('\n');
        rest = lines.pop()!;
        for (const text of lines) handle(text);
        if (packer.size >= input.batchRows) await send();
      }
    } catch (e) {
      if (e instanceof PartError) throw e;
      throw new PartError('export_file_corrupt', `${name} is not a complete gzip file (${(e as Error).message}) after line ${line}`);
    }
    rest += decoder.end();
    if (rest) handle(rest);
    if (packer.size) await send();
    post({ type: 'partDone', part, lines: line });
  }

  async function run(): Promise<void> {
    try {
      for (const part of input.parts) await readPart(part);
      // Let the writer drain every batch before reporting the end.
      while (credits < MAX_IN_FLIGHT) await new Promise<void>((resolve) => waiting.push(resolve));
      post({ type: 'done' });
    } catch (e) {
      const code = e instanceof PartError ? e.code : 'download_failed';
      post({ type: 'failed', code, message: (e as Error).message });
    }
  }
  void run();

  return {
    receive(message: ToWorker): void {
      if (message.type === 'credit') {
        credits++;
        waiting.shift()?.();
      } else if (message.type === 'urls') {
        // Fresh SAS links for every part; the rest of the export uses them too.
        input.urls = message.urls;
        awaitingUrls?.();
      }
    },
  };
}
