// Request/response plumbing shared by the emulator's services. Handlers return a Reply; the server
// sends it, applying body-level faults (connection reset mid-body, slow trickle) on the way out.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Endpoint, FaultSpec } from './faults.js';

export interface EmulatorRequest {
  method: string;
  url: URL;
  params: Record<string, string | undefined>;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** Query parameters with lower-cased names (Defender treats them case-insensitively). */
  query: Map<string, string>;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer | Readable;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  endpoint?: Endpoint;
  handle: (req: EmulatorRequest) => Reply | Promise<Reply>;
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(value) };
}

export function lowerCaseQuery(url: URL): Map<string, string> {
  const query = new Map<string, string>();
  for (const [key, value] of url.searchParams) query.set(key.toLowerCase(), value);
  return query;
}

export interface BodyFaults {
  reset?: FaultSpec;
  slow?: FaultSpec;
}

/** Cuts the stream after `limit` bytes and destroys the socket, like a dropped connection. */
function resetAfter(limit: number, res: ServerResponse): Transform {
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (sent + chunk.length <= limit) {
        sent += chunk.length;
        done(null, chunk);
        return;
      }
      const head = chunk.subarray(0, Math.max(0, limit - sent));
      sent = limit;
      res.write(head, () => res.socket?.destroy());
      done();
    },
  });
}

function trickle(bytesPerSecond: number): Transform {
  const slice = Math.max(1, Math.floor(bytesPerSecond / 10));
  return new Transform({
    async transform(chunk: Buffer, _enc, done) {
      // A client that went away (or the emulator closing) ends the trickle: no sends into a destroyed stream.
      for (let at = 0; at < chunk.length && !this.destroyed; at += slice) {
        this.push(chunk.subarray(at, at + slice));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      done();
    },
  });
}

export async function sendReply(res: ServerResponse, reply: Reply, faults: BodyFaults): Promise<void> {
  const body = reply.body ?? '';
  const headers = { ...reply.headers };
  const buffer = typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : undefined;
  if (buffer) headers['content-length'] = String(buffer.length);
  res.writeHead(reply.status, headers);
  if (!faults.reset && !faults.slow) {
    if (buffer) res.end(buffer);
    else await pipeline(body as Readable, res);
    return;
  }
  const stages: NodeJS.ReadWriteStream[] = [];
  if (faults.reset) {
    const fullLength = Number(headers['content-length'] ?? 0);
    stages.push(resetAfter(faults.reset.afterBytes ?? (Math.floor(fullLength / 2) || 4096), res));
  }
  if (faults.slow) stages.push(trickle(faults.slow.bytesPerSecond ?? 2048));
  try {
    await pipeline([buffer ? Readable.from([buffer]) : (body as Readable), ...stages, res]);
  } catch {
    // The reset fault ends the response by destroying the socket: an expected "error".
  }
}
