// The delta's change reader, on a parser thread: downloads the pages of
// SoftwareVulnerabilityChangesByMachine and turns their records into writer lines (see
// changes-protocol.ts), so the sync's thread only writes.

import { setImmediate } from 'node:timers/promises';
import { diagnoseApi, DiagnosedError } from '../connections/diagnosis.js';
import { bodyText, createDefenderClient, IncompleteBody } from '../defender/client.js';
import { apiRecord, FIELD_SEPARATOR, identityOf, normaliseTimestamp, RecordEncoder, RecordError, ROW_SEPARATOR, sourceRecord, unreadableRecord } from '../defender/records.js';
import { tokenExpiry } from '../entra/token.js';
import { sharedDispatcher } from '../net/dispatcher.js';
import type { ChangesDownload, FromChangesReader, ToChangesReader } from './changes-protocol.js';

const SOURCE = 'the changes since the last sync';
/** A delta larger than this is cheaper as a full snapshot (and would hold too much in memory). */
const DELTA_MAX_ROWS = 1_000_000;
/** A token is renewed this long before it expires, as MSAL does. */
const RENEW_BEFORE_MS = 5 * 60_000;
/** Lines per message: small enough that writing starts early in a page. */
const CHUNK = 500;

/** A change's eventTimestamp in unix seconds; now when it is absent or unreadable. */
function eventSeconds(value: unknown): number {
  let iso = '';
  try {
    iso = normaliseTimestamp(value);
  } catch {
    // unreadable: now
  }
  return Math.floor((iso ? Date.parse(iso) : Date.now()) / 1000);
}

/** One delta's pages, in order. */
class ChangeParser {
  // One encoder for the whole stream: it makes a new D or S line only when the device (or its
  // RBAC group) or the product changes.
  private readonly encoder = new RecordEncoder();
  private readonly encoded: string[] = [];
  private count = 0;
  private latest = 0;
  // The changes of one 6-hour batch share their time: read it once.
  private timeText: unknown;
  private time = 0;
  /** The latest change of each finding (device, product and CVE), with its device's RBAC group. */
  private readonly lastChange = new Map<string, { at: number; status: string; group: string }>();
  /**
   * X lines of this page not sent yet: the New half of a move often follows its Fixed half
   * closely, and then neither the fix nor its undoing needs writing.
   */
  private readonly pendingFixes = new Map<string, number>();

  // The lines sent so far left the writer on this device and software, at this time.
  private out: string[] = [];
  private outDevice = '';
  private outSoftware = '';
  private outTime = NaN;

  constructor(
    private readonly post: (message: FromChangesReader) => void,
    /** The API host, for diagnoses. */
    private readonly host: string,
  ) {}

  /** The time of the latest change read (unix seconds; 0 when none). */
  get latestChange(): number {
    return this.latest;
  }

  private flush(): void {
    if (this.out.length) this.post({ type: 'changes', lines: this.out.join(ROW_SEPARATOR) });
    this.out = [];
  }

  private send(line: string, at = this.time): void {
    if (at !== this.outTime) {
      this.out.push(`T${FIELD_SEPARATOR}${at}`);
      this.outTime = at;
    }
    this.out.push(line);
    if (this.out.length >= CHUNK) this.flush();
  }

  private sendFix(key: string): void {
    const at = this.pendingFixes.get(key);
    if (at === undefined) return;
    this.pendingFixes.delete(key);
    this.send(`X${FIELD_SEPARATOR}${key}`, at);
  }

  private sendPresent(finding: string): void {
    const { deviceLine, softwareLine } = this.encoder;
    if (deviceLine !== this.outDevice) {
      this.send(deviceLine);
      this.outDevice = deviceLine;
      this.outSoftware = '';
    }
    if (softwareLine !== this.outSoftware) {
      this.send(softwareLine);
      this.outSoftware = softwareLine;
    }
    this.send(finding);
  }

  private readRecord(item: unknown): void {
    const record = apiRecord(item, SOURCE);
    const status = record.status ?? record.Status;
    if (status !== 'New' && status !== 'Fixed' && status !== 'Updated') return;
    const source = sourceRecord(record);
    const identity = identityOf(source);
    if (!identity) return;
    if (++this.count > DELTA_MAX_ROWS) {
      throw new DiagnosedError({ code: 'export_unavailable', step: 'network', message: `More than ${DELTA_MAX_ROWS.toLocaleString()} changes since the last sync.`, fix: 'Run a full sync: it is faster for this many changes.' });
    }
    const eventTimestamp = record.eventTimestamp ?? record.EventTimestamp;
    if (eventTimestamp !== this.timeText) {
      this.timeText = eventTimestamp;
      this.time = eventSeconds(eventTimestamp);
      if (this.time > this.latest) this.latest = this.time;
    }
    const { time } = this;
    const key = identity.deviceId + FIELD_SEPARATOR + identity.product + FIELD_SEPARATOR + identity.cveId;
    const group = identity.rbacGroupId;
    const last = this.lastChange.get(key);
    // Batches come in time order; should one not, an older change must not overwrite a newer one.
    if (last && last.at > time) return;
    // A device that moved between RBAC groups shows up as Fixed (old group) + New (new group) of
    // the same finding at the same time: that is a move, not a fix followed by a reopening.
    const moved = last !== undefined && last.at === time && last.group !== group;
    if (status === 'Fixed') {
      // A fix needs only the finding's key: its other fields are not read.
      if (moved && last.status === 'New') return;
      this.pendingFixes.set(key, time);
    } else {
      if (moved && last.status === 'Fixed') {
        // Still pending: nothing to take back.
        if (!this.pendingFixes.delete(key)) this.send(`U${FIELD_SEPARATOR}${key}`);
      } else {
        this.sendFix(key);
      }
      this.encoded.length = 0;
      this.encoder.encodeIdentified(source, identity, this.encoded);
      this.sendPresent(this.encoded[this.encoded.length - 1]);
    }
    this.lastChange.set(key, { at: time, status, group });
  }

  /**
   * Reads one page and sends its changes; answers its next link. Throws IncompleteBody for a body
   * cut short, a DiagnosedError for a page or change that cannot be read.
   */
  readPage(body: Buffer): string | undefined {
    let page: unknown;
    try {
      page = JSON.parse(bodyText(body));
    } catch {
      throw new IncompleteBody();
    }
    const { value, '@odata.nextLink': next } = (page ?? {}) as { value?: unknown; '@odata.nextLink'?: unknown };
    if (!Array.isArray(value)) throw new DiagnosedError(diagnoseApi(200, 'the response has no "value" array', this.host));
    try {
      for (const item of value) this.readRecord(item);
    } catch (e) {
      throw e instanceof RecordError ? unreadableRecord(SOURCE, e.message) : e;
    }
    for (const key of this.pendingFixes.keys()) this.sendFix(key);
    this.flush();
    return typeof next === 'string' && next ? next : undefined;
  }
}

/**
 * Downloads and reads one delta on this thread; `receive` takes the sync thread's answers to
 * token requests. Ends with a `done` or `failed` message.
 */
export function startChangesJob(download: ChangesDownload, post: (message: FromChangesReader) => void): { receive(message: ToChangesReader): void } {
  const host = new URL(download.url).host;
  const tokenRequests = new Map<number, { resolve: (token: string) => void; reject: (e: Error) => void }>();
  let lastRequest = 0;
  // The token is kept here while it is good, so that a page can be requested without waiting for
  // the sync's thread (busy writing).
  let kept: { token: string; renewAt: number } | undefined;
  const tokens = {
    async get(fresh = false) {
      if (!fresh && kept && Date.now() < kept.renewAt) return kept.token;
      const token = await new Promise<string>((resolve, reject) => {
        tokenRequests.set(++lastRequest, { resolve, reject });
        post({ type: 'token', id: lastRequest, fresh });
      });
      kept = { token, renewAt: (tokenExpiry(token) ?? 0) - RENEW_BEFORE_MS };
      return token;
    },
  };
  const client = createDefenderClient({
    // The first page is on the connection's API base URL: the token follows next links only to its API hosts.
    apiUrl: new URL(download.url).origin, tokens,
    dispatcher: sharedDispatcher(download), proxyUrl: download.proxyUrl, maxAttempts: download.maxAttempts, timeScale: download.timeScale,
    onWait: (reason, seconds) => post({ type: 'wait', reason, seconds }),
    onThrottled: () => post({ type: 'throttled' }),
  });
  const parser = new ChangeParser(post, host);
  const read = async (body: Buffer) => {
    // A turn of the event loop first, so that the next page's early request leaves before this one is parsed.
    await setImmediate();
    return parser.readPage(body);
  };
  client.readPages(download.url, 'softwareVulnerabilityChangesByMachine', read).then(
    () => post({ type: 'done', latest: parser.latestChange }),
    (e: unknown) => {
      // Anything else is a bug: it crashes the thread, and the sync reports it.
      if (!(e instanceof DiagnosedError)) throw e;
      post({ type: 'failed', diagnosis: e.diagnosis });
    });
  return {
    receive(message) {
      if (message.type !== 'token' && message.type !== 'tokenFailed') return;
      const request = tokenRequests.get(message.id);
      tokenRequests.delete(message.id);
      if (message.type === 'token') request?.resolve(message.token);
      else request?.reject(new DiagnosedError(message.diagnosis));
    },
  };
}
