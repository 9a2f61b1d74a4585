// The sync's side of a delta's change parser (change-parser.ts), which runs on the first parser
// thread: this thread downloads the pages and writes what the parser makes of them.

import { DiagnosedError, diagnoseApi } from '../connections/diagnosis.js';
import { IncompleteBody } from '../defender/client.js';
import type { FromChangesReader } from './changes-protocol.js';
import type { ParserThreads } from './parser-threads.js';

export interface ChangeReading {
  /** Downloads the pages in order, handing each body to `read`, which answers its next link. */
  download(read: (body: Buffer) => Promise<string | undefined>): Promise<void>;
  /** Writes the lines of a `changes` message. */
  write(lines: string): void;
  /** The API host, for diagnoses. */
  host: string;
}

/** Reads one delta; resolves with the time of its latest change (unix seconds, 0 when none). */
export async function readChanges(threads: ParserThreads, { download, write, host }: ChangeReading): Promise<number> {
  /** Pages posted to the parser and not yet answered, in order. */
  const answers: { resolve: (nextLink: string | undefined) => void; reject: (e: unknown) => void }[] = [];
  let done!: { resolve: (latest: number) => void; reject: (e: unknown) => void };
  const finished = new Promise<number>((resolve, reject) => { done = { resolve, reject }; });
  finished.catch(() => undefined); // awaited below; a failure while pages download rejects the pending page too
  let failed = false;
  const fail = (e: unknown) => {
    if (failed) return;
    failed = true;
    for (const answer of answers.splice(0)) answer.reject(e);
    done.reject(e);
  };

  // Pages are answered at once (the next downloads wait on them); changes are written one message
  // per turn of the event loop, so that downloads keep flowing in between.
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
    if (message.type === 'page') {
      answers.shift()?.resolve(message.nextLink);
    } else if (message.type === 'unreadablePage') {
      answers.shift()?.reject(message.problem === 'incomplete' ? new IncompleteBody() : new DiagnosedError(diagnoseApi(200, 'the response has no "value" array', host)));
    } else if (inbox.push(message) === 1) {
      setImmediate(writeNext);
    }
  }, fail);

  try {
    thread.post({ type: 'begin' });
    await download((body) => new Promise((resolve, reject) => {
      answers.push({ resolve, reject });
      // The page's bytes move to the parser; this thread does not read them again.
      const bytes = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body.buffer as ArrayBuffer : body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
      thread.post({ type: 'page', body: bytes }, [bytes]);
    }));
    thread.post({ type: 'end' });
    const latest = await finished;
    thread.release();
    return latest;
  } catch (e) {
    failed = true;
    // The parser may still be busy with this delta's pages.
    thread.discard();
    throw e;
  }
}
