// The sync's side of a delta's change reader (change-parser.ts), which runs on the first parser
// thread: the reader downloads and parses the pages, this thread writes what it makes of them and
// lends it access tokens.

import { DiagnosedError } from '../connections/diagnosis.js';
import type { TokenSource } from '../entra/token.js';
import type { ChangesDownload, FromChangesReader } from './changes-protocol.js';
import type { ParserThreads } from './parser-threads.js';

export interface ChangeReading {
  download: ChangesDownload;
  tokens: TokenSource;
  /** Writes the lines of a `changes` message. */
  write(lines: string): void;
  onWait(reason: string, seconds: number): void;
  onThrottled?: () => void;
  signal?: AbortSignal;
}

/** Reads one delta; resolves with the time of its latest change (unix seconds, 0 when none). */
export async function readChanges(threads: ParserThreads, { download, tokens, write, onWait, onThrottled, signal }: ChangeReading): Promise<number> {
  let done!: { resolve: (latest: number) => void; reject: (e: unknown) => void };
  const finished = new Promise<number>((resolve, reject) => { done = { resolve, reject }; });
  let failed = false;
  const fail = (e: unknown) => {
    if (failed) return;
    failed = true;
    done.reject(e);
  };

  // Changes are written one message per turn of the event loop, so that token requests and
  // progress are answered in between.
  const inbox: FromChangesReader[] = [];
  const writeNext = () => {
    const message = inbox.shift();
    if (!message || failed) return;
    try {
      if (message.type === 'changes') write(message.lines);
      else if (message.type === 'done') done.resolve(message.latest);
      else if (message.type === 'failed') fail(new DiagnosedError(message.diagnosis));
    } catch (e) {
      fail(e);
    }
    if (inbox.length) setImmediate(writeNext);
  };
  const thread = threads.attach<FromChangesReader>(0, (message) => {
    if (message.type === 'token') {
      tokens.get(message.fresh).then(
        (token) => thread.post({ type: 'token', id: message.id, token }),
        (e: unknown) => (e instanceof DiagnosedError ? thread.post({ type: 'tokenFailed', id: message.id, diagnosis: e.diagnosis }) : fail(e)));
    } else if (message.type === 'wait') {
      onWait(message.reason, message.seconds);
    } else if (message.type === 'throttled') {
      onThrottled?.();
    } else if (inbox.push(message) === 1) {
      setImmediate(writeNext);
    }
  }, fail);

  const stop = () => fail(signal!.reason);
  signal?.addEventListener('abort', stop, { once: true });
  try {
    if (signal?.aborted) throw signal.reason;
    thread.post({ type: 'begin', download });
    const latest = await finished;
    thread.release();
    return latest;
  } catch (e) {
    // The reader may still be downloading this delta's pages.
    thread.discard();
    throw e;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}
