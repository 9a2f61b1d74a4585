// Downloads a feed document: the server's answer checked (status, a body cut short against its
// content-length, a size cap), Retry-After honoured on 429 and 503 (NVD's 403 waits out its window), a bounded backoff on other
// 5xx and dropped connections, and an error that says what to check when the feed stays unreachable.

import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import type { FeedName } from './feeds/types.js';

/** A feed that could not be read; the knowledge of earlier imports stays as it was. */
export class FeedFetchError extends Error {
  constructor(readonly feed: FeedName, readonly url: string, problem: string, action: string) {
    super(`${problem} (${url}). ${action} The knowledge from the previous import is kept.`);
    this.name = 'FeedFetchError';
  }
}

export interface FetchOptions {
  dispatcher: Dispatcher;
  feed: FeedName;
  /** The setting that names the feed's address, for the error message. */
  setting: string;
  headers?: Record<string, string>;
  /** Scales waits between retries (tests run the feeds emulated, with short waits). */
  timeScale?: number;
  signal?: AbortSignal;
  /** Largest document accepted (bytes). */
  maxBytes?: number;
}

const ATTEMPTS = 5;
const MAX_WAIT_MS = 60_000;
const NVD_WINDOW_MS = 30_000;

export async function fetchDocument(url: string, options: FetchOptions): Promise<Buffer> {
  const { feed, setting, timeScale = 1, maxBytes = 512 * 1024 * 1024 } = options;
  let lastProblem = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let waitMs = Math.min(MAX_WAIT_MS, 1000 * 2 ** (attempt - 1));
    try {
      const response = await request(url, {
        dispatcher: options.dispatcher, signal: options.signal, headersTimeout: 60_000, bodyTimeout: 120_000,
        headers: { accept: 'application/json', 'user-agent': 'SitePatch', ...options.headers },
      });
      const { statusCode } = response;
      if (statusCode === 200) return await readBody(response, url, options, maxBytes);
      await response.body.dump().catch(() => undefined);
      // NVD answers a client over its rate limit (a rolling 30 s window) with a bare 403.
      const throttled = statusCode === 429 || (feed === 'nvd' && statusCode === 403);
      if (throttled && feed === 'nvd') waitMs = NVD_WINDOW_MS;
      if (throttled || statusCode === 503 || statusCode >= 500) {
        const after = Number(response.headers['retry-after']);
        if (Number.isFinite(after) && after >= 0) waitMs = Math.min(MAX_WAIT_MS, after * 1000);
        lastProblem = `the feed answered HTTP ${statusCode}${throttled ? ' (too many requests)' : ''}`;
      } else {
        throw new FeedFetchError(feed, url, `The feed answered HTTP ${statusCode}`, statusCode === 404
          ? `Check the ${setting} setting: it must be the base address the vendor documents.`
          : statusCode === 401 || statusCode === 403 ? `The feed refused the request: check the ${setting} setting (and an API key, for NVD).`
            : `Check the ${setting} setting.`);
      }
    } catch (error) {
      if (error instanceof FeedFetchError || options.signal?.aborted) throw error;
      lastProblem = `the feed could not be reached: ${(error as Error).message}`;
    }
    if (attempt < ATTEMPTS) await sleep(waitMs * timeScale, undefined, { signal: options.signal });
  }
  throw new FeedFetchError(feed, url, `After ${ATTEMPTS} attempts ${lastProblem}`,
    `Check the ${setting} setting, the network path to it (proxy: HTTPS_PROXY; TLS inspection: the extra CA setting), and try again.`);
}

async function readBody(response: Dispatcher.ResponseData, url: string, options: FetchOptions, maxBytes: number): Promise<Buffer> {
  const expected = Number(response.headers['content-length']);
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > maxBytes) {
        await response.body.dump().catch(() => undefined);
        throw new FeedFetchError(options.feed, url, `The document is larger than ${Math.round(maxBytes / 1048576)} MB`, `Check the ${options.setting} setting.`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof FeedFetchError) throw error;
    throw new FeedFetchError(options.feed, url, `The download broke off after ${length.toLocaleString()} bytes: ${(error as Error).message}`, 'Try again.');
  }
  if (Number.isFinite(expected) && expected !== length) {
    throw new FeedFetchError(options.feed, url, `The download is truncated: ${length.toLocaleString()} of ${expected.toLocaleString()} bytes`, 'Try again.');
  }
  return Buffer.concat(chunks, length);
}
