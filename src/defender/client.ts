// The Defender API client: bearer tokens (renewed on 401), the documented per-endpoint quotas,
// Retry-After on 429, bounded exponential backoff with jitter on 5xx and dropped connections, and
// OData next links followed verbatim until they end (a repeating link is an error, not a loop),
// as long as they stay on the connection's API hosts: the token goes nowhere else.

import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { diagnoseApi, diagnoseForeignNextLink, diagnoseTransport, DiagnosedError } from '../connections/diagnosis.js';
import type { TokenSource } from '../entra/token.js';
import { apiHostsOf } from './api-hosts.js';
import { DOCUMENTED_QUOTAS, SlidingWindow, type QuotaEndpoint } from './quotas.js';

export interface DefenderClientOptions {
  /** The connection's API base URL; its next links are followed only on its API hosts (api-hosts.ts). */
  apiUrl: string;
  tokens: TokenSource;
  dispatcher: Dispatcher;
  proxyUrl?: string;
  /** Tries per request before giving up (default 6). */
  maxAttempts?: number;
  /** Scales quota windows and backoff delays (1 = real time). */
  timeScale?: number;
  /** Told about every wait, for progress displays. */
  onWait?: (reason: string, seconds: number) => void;
  /** Told about every 429 (throttled) answer, for the metrics. */
  onThrottled?: () => void;
  signal?: AbortSignal;
}

const BACKOFF_BASE_MS = 1000;
/** Pages readPages requests before the page being read is parsed. */
const PAGES_AHEAD = 2;
const BACKOFF_CAP_MS = 30_000;

export type DefenderClient = ReturnType<typeof createDefenderClient>;

/** A response body that was cut short: it is downloaded again. */
export class IncompleteBody extends Error {}

/** A response body as text, without the UTF-8 byte-order mark some servers put first (JSON.parse refuses it). */
export function bodyText(body: Buffer): string {
  return body.toString('utf8', body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0);
}

/**
 * The @odata.nextLink of an OData page when it is the body's last member (as Defender writes it),
 * read without parsing the whole body.
 */
function trailingNextLink(body: Buffer): string | undefined {
  const tail = body.subarray(Math.max(0, body.length - 8192));
  const at = tail.lastIndexOf('"@odata.nextLink"');
  if (at < 0) return undefined;
  const m = /^"@odata\.nextLink"\s*:\s*("(?:[^"\\]|\\.)*")\s*}\s*$/.exec(tail.toString('utf8', at));
  return m ? (JSON.parse(m[1]) as string) : undefined;
}

export function createDefenderClient(options: DefenderClientOptions) {
  const { tokens, dispatcher } = options;
  const maxAttempts = options.maxAttempts ?? 6;
  const timeScale = options.timeScale ?? 1;
  const quotas = new SlidingWindow(timeScale);
  const base = options.apiUrl.replace(/\/+$/, '');
  const apiHosts = apiHostsOf(base);

  const wait = async (reason: string, ms: number) => {
    options.onWait?.(reason, Math.ceil(ms / 1000));
    await sleep(ms, undefined, { signal: options.signal });
  };
  const backoff = (attempt: number) => Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2) * timeScale;

  async function withinQuota(endpoint: QuotaEndpoint): Promise<void> {
    for (;;) {
      const ms = quotas.waitMs(endpoint, DOCUMENTED_QUOTAS[endpoint], Date.now());
      if (ms === 0) break;
      await wait(`staying within Defender's ${endpoint} quota`, ms);
    }
    quotas.record(endpoint, Date.now());
  }

  /** Throws unless `url` is on the API hosts: every request carries the access token (absolute URLs are next links). */
  function onApiHosts(url: string): void {
    if (!apiHosts.includes(url)) throw new DiagnosedError(diagnoseForeignNextLink(new URL(url).host, apiHosts.description));
  }

  function absolute(pathOrUrl: string): string {
    return /^https?:\/\//i.test(pathOrUrl) ? pathOrUrl : `${base}${pathOrUrl}`;
  }

  /**
   * GET, retrying what is worth retrying, until `accept` takes the body; `accept` throws
   * IncompleteBody for a body that was cut short, which is downloaded again.
   */
  async function get<T>(pathOrUrl: string, endpoint: QuotaEndpoint, accept: (body: Buffer) => T | Promise<T>): Promise<T> {
    const url = absolute(pathOrUrl);
    const host = new URL(url).host;
    onApiHosts(url);
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      await withinQuota(endpoint);
      const token = await tokens.get(renewed && attempt === 1);
      let status: number;
      let retryAfter: string | undefined;
      let body: Buffer;
      try {
        const response = await request(url, {
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          dispatcher, signal: options.signal, headersTimeout: 120_000, bodyTimeout: 120_000,
        });
        status = response.statusCode;
        retryAfter = response.headers['retry-after'] as string | undefined;
        body = Buffer.from(await response.body.arrayBuffer());
      } catch (e) {
        if (options.signal?.aborted) throw e;
        if (attempt >= maxAttempts) throw new DiagnosedError(diagnoseTransport(e as Error, host, options.proxyUrl));
        await wait(`the connection to ${host} failed (${(e as Error).message}); retrying`, backoff(attempt));
        continue;
      }
      if (status === 200) {
        try {
          return await accept(body);
        } catch (e) {
          if (!(e instanceof IncompleteBody)) throw e;
          if (attempt >= maxAttempts) throw new DiagnosedError(diagnoseApi(200, 'the response is not valid JSON', host));
          await wait('Defender returned an incomplete response; retrying', backoff(attempt));
          continue;
        }
      }
      const text = bodyText(body);
      let message = text.slice(0, 300);
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        // not JSON: keep the start of the body
      }
      if (status === 401 && !renewed) {
        // The token may have expired mid-run: renew it once, then retry.
        renewed = true;
        attempt = 0;
        continue;
      }
      const retryable = status === 429 || status >= 500;
      if (!retryable || attempt >= maxAttempts) throw new DiagnosedError(diagnoseApi(status, message, host, retryAfter));
      if (status === 429) options.onThrottled?.();
      const seconds = Number(retryAfter);
      const delay = status === 429 && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : backoff(attempt);
      await wait(status === 429 ? `Defender asked to wait (429, Retry-After ${retryAfter ?? 'absent'})` : `Defender answered ${status}; retrying`, delay);
    }
  }

  /** GET and parse JSON, retrying what is worth retrying. */
  function getJson<T = Record<string, unknown>>(pathOrUrl: string, endpoint: QuotaEndpoint): Promise<T> {
    return get(pathOrUrl, endpoint, (body) => {
      try {
        return JSON.parse(bodyText(body)) as T;
      } catch {
        throw new IncompleteBody();
      }
    });
  }

  /** Throws when `next`, the next link of the page at `url`, cannot be followed. */
  function checkNextLink(next: string, url: string, followed: Set<string>): void {
    if (next === url || followed.has(next)) {
      throw new DiagnosedError({
        code: 'repeating_next_link', step: 'network',
        message: `Defender sent the same next-page link twice (${next.slice(0, 120)}…); reading on would loop forever, so the sync stopped.`,
        fix: 'This is a known Defender paging fault. Sync again later; if it persists, use the file export (the default).',
      });
    }
    if (!/^https:\/\//i.test(next)) throw new DiagnosedError(diagnoseApi(200, `the next-page link is not https: ${next.slice(0, 80)}`, new URL(url).host));
    onApiHosts(next);
  }

  /**
   * Every page of an OData collection, following @odata.nextLink. The next page downloads while
   * the caller works on the current one.
   */
  async function* pages<T>(pathOrUrl: string, endpoint: QuotaEndpoint): AsyncGenerator<T[]> {
    type Page = { value?: T[]; '@odata.nextLink'?: string };
    const followed = new Set<string>();
    let url = absolute(pathOrUrl);
    let pending: Promise<Page> | undefined = getJson<Page>(url, endpoint);
    try {
      while (pending) {
        const page = await pending;
        pending = undefined;
        if (!Array.isArray(page.value)) throw new DiagnosedError(diagnoseApi(200, 'the response has no "value" array', new URL(url).host));
        const next = page['@odata.nextLink'];
        if (next) {
          checkNextLink(next, url, followed);
          followed.add(next);
          url = next;
          pending = getJson<Page>(url, endpoint);
        }
        yield page.value;
      }
    } finally {
      // The caller stopped early: the prefetched page is not needed, nor is its failure.
      pending?.catch(() => undefined);
    }
  }

  /**
   * Every page of an OData collection, read by `read`: it takes a page's body, in page order,
   * parses it and answers the page's next link. It throws IncompleteBody for a body cut short, or a
   * DiagnosedError. So that pages arrive back to back, the next pages (up to PAGES_AHEAD) are
   * requested as soon as their links show at the end of a body, before `read` has parsed it;
   * should `read` answer another link, those early requests are dropped.
   */
  async function readPages(pathOrUrl: string, endpoint: QuotaEndpoint, read: (body: Buffer) => Promise<string | undefined>): Promise<void> {
    const followed = new Set<string>();
    let ahead: { url: string; body: Promise<Buffer> }[] = [];
    const requestAhead = (body: Buffer, pageUrl: string) => {
      const guess = trailingNextLink(body);
      // A link off the API hosts is not requested: when `read` answers it, checkNextLink stops the run.
      if (!guess || guess === pageUrl || followed.has(guess) || ahead.some((e) => e.url === guess) || ahead.length >= PAGES_AHEAD || !apiHosts.includes(guess)) return;
      const entry = { url: guess, body: get(guess, endpoint, (b) => b) };
      ahead.push(entry);
      // A dropped request's failure does not matter; a used one's is awaited.
      entry.body.then((b) => { if (ahead.includes(entry)) requestAhead(b, guess); }, () => undefined);
    };
    let url = absolute(pathOrUrl);
    for (;;) {
      const pageUrl = url;
      const accept = (body: Buffer) => {
        requestAhead(body, pageUrl);
        return read(body);
      };
      const early = ahead[0]?.url === url ? ahead.shift() : undefined;
      if (!early) ahead = [];
      let next: string | undefined;
      try {
        next = early ? await accept(await early.body) : await get(url, endpoint, accept);
      } catch (e) {
        if (!(early && e instanceof IncompleteBody)) throw e;
        next = await get(url, endpoint, accept);
      }
      if (!next) return;
      checkNextLink(next, url, followed);
      followed.add(next);
      url = next;
    }
  }

  return { getJson, pages, readPages };
}
