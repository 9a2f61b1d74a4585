// The Azure Blob host that serves "export via files": gzip NDJSON parts with PascalCase keys,
// reached through SAS links that expire. Parts are generated on first download and cached on disk,
// so repeated downloads are cheap, Content-Length is exact and Range requests (resume) work.

import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip, constants as zlib } from 'node:zlib';
import type { EmulatorRequest, Reply, Route } from '../http.js';
import type { Faults } from '../faults.js';
import { exportFileRow } from '../tenant/records.js';
import type { TenantData } from '../tenant/snapshots.js';

const SAS_VERSION = '2021-08-06';
const PART_PATH = /^\/tvm-export\/(\d{4}-\d{2}-\d{2})\/(\d{4})\/VaExport\/json\/OrgId=([0-9a-f-]{36})\/part-(\d{5})-[0-9a-f-]+\.c000\.json\.gz$/;

export interface ExportFilesOptions {
  cacheDir: string;
  signingKey: Buffer;
  faults: Faults;
  tenants: (tenantId: string) => TenantData | undefined;
  now: () => number;
}

function timePath(time: number): { date: string; hhmm: string } {
  const iso = new Date(time).toISOString();
  return { date: iso.slice(0, 10), hhmm: iso.slice(11, 13) + iso.slice(14, 16) };
}

function azureError(status: number, code: string, message: string, detail?: string): Reply {
  const requestId = randomUUID();
  const body = `\uFEFF<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\nRequestId:${requestId}\nTime:${new Date().toISOString()}</Message>` +
    (detail ? `<AuthenticationErrorDetail>${detail}</AuthenticationErrorDetail>` : '') + '</Error>';
  return { status, headers: { 'content-type': 'application/xml', 'x-ms-request-id': requestId, 'x-ms-error-code': code }, body };
}

/** Azure Storage's answer for a path that names no blob. */
export function blobNotFound(): Reply {
  return azureError(404, 'BlobNotFound', 'The specified blob does not exist.');
}

const AUTH_FAILED = 'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.';

export class ExportFiles {
  private readonly building = new Map<string, Promise<string>>();
  /** Downloads refused because they carried an Authorization header (a client leaking its Defender token). */
  authorizationRefused = 0;

  constructor(private readonly options: ExportFilesOptions) {}

  private sign(blobPath: string, st: string, se: string): string {
    return createHmac('sha256', this.options.signingKey).update(`${blobPath}\n${st}\n${se}`).digest('base64');
  }

  /** SAS download links for every part of snapshot k. */
  links(origin: string, data: TenantData, k: number, validHours: number, expired: boolean): string[] {
    const { date, hhmm } = timePath(data.tenant.snapshotTime(k));
    const now = this.options.now();
    const start = new Date(now - 5 * 60_000);
    const expiry = new Date(expired ? now - 60_000 : now + validHours * 3600_000);
    const [st, se] = [start, expiry].map((d) => d.toISOString().replace(/\.\d+Z$/, 'Z'));
    const run = data.tenant.guid(k);
    return Array.from({ length: data.snapshots.parts }, (_, part) => {
      const blobPath = `/tvm-export/${date}/${hhmm}/VaExport/json/OrgId=${data.tenantId}/part-${String(part).padStart(5, '0')}-${run}.c000.json.gz`;
      const query = new URLSearchParams({ sv: SAS_VERSION, st, se, sr: 'b', sp: 'r', sig: this.sign(blobPath, st, se) });
      return `${origin}${blobPath}?${query}`;
    });
  }

  /** Path of the cached part file, generating it on first use. */
  private partFile(data: TenantData, k: number, part: number): Promise<string> {
    const file = path.join(this.options.cacheDir, data.tenantId, String(k), `part-${part}.json.gz`);
    if (existsSync(file)) return Promise.resolve(file);
    let pending = this.building.get(file);
    if (!pending) {
      pending = this.generate(data, k, part, file).finally(() => this.building.delete(file));
      this.building.set(file, pending);
    }
    return pending;
  }

  private async generate(data: TenantData, k: number, part: number, file: string): Promise<string> {
    mkdirSync(path.dirname(file), { recursive: true });
    const [start, end] = data.snapshots.partRange(part);
    const { tenant, snapshots } = data;
    function* lines(): Generator<string> {
      let batch = '';
      for (const finding of snapshots.rows(k, { device: start, line: 0 }, end)) {
        batch += JSON.stringify(exportFileRow(tenant, finding, k)) + '\n';
        if (batch.length > 1 << 16) {
          yield batch;
          batch = '';
        }
      }
      if (batch) yield batch;
    }
    const temp = `${file}.${process.pid}.tmp`;
    await pipeline(Readable.from(lines()), createGzip({ level: zlib.Z_BEST_SPEED }), createWriteStream(temp));
    renameSync(temp, file);
    return file;
  }

  /** Generates every part of snapshot k ahead of the first download. */
  async prepare(data: TenantData, k: number): Promise<void> {
    for (let part = 0; part < data.snapshots.parts; part++) await this.partFile(data, k, part);
  }

  private async download(req: EmulatorRequest): Promise<Reply> {
    // Azure Storage reads an Authorization header as the request's credentials, even next to a
    // SAS; a Defender token is no storage credential, so the request is refused.
    if (req.headers.authorization !== undefined) {
      this.authorizationRefused++;
      return azureError(403, 'AuthenticationFailed', AUTH_FAILED, 'The Authorization header is not a valid credential for this storage account.');
    }
    const match = PART_PATH.exec(req.url.pathname);
    const data = match && this.options.tenants(match[3]);
    if (!match || !data) return azureError(404, 'BlobNotFound', 'The specified blob does not exist.');
    const st = req.url.searchParams.get('st') ?? '';
    const se = req.url.searchParams.get('se') ?? '';
    const expected = Buffer.from(this.sign(req.url.pathname, st, se));
    const given = Buffer.from(req.url.searchParams.get('sig') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return azureError(403, 'AuthenticationFailed', AUTH_FAILED, 'Signature did not match. String to sign used was r');
    }
    const now = this.options.now();
    if (now < Date.parse(st) || now > Date.parse(se)) {
      const utc = (t: number) => new Date(t).toUTCString();
      return azureError(403, 'AuthenticationFailed', AUTH_FAILED,
        `Signature not valid in the specified time frame: Start [${utc(Date.parse(st))}] - Expiry [${utc(Date.parse(se))}] - Current [${utc(now)}]`);
    }
    const k = data.tenant.snapshotAt(Date.parse(`${match[1]}T${match[2].slice(0, 2)}:${match[2].slice(2)}:00Z`));
    const part = Number(match[4]);
    if (part >= data.snapshots.parts) return azureError(404, 'BlobNotFound', 'The specified blob does not exist.');

    const headers = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      'x-ms-blob-type': 'BlockBlob',
      'x-ms-version': SAS_VERSION,
      'x-ms-request-id': randomUUID(),
      etag: `"0x8DC${data.tenant.guid(k, part).replace(/-/g, '').slice(0, 12).toUpperCase()}"`,
      'last-modified': new Date(data.tenant.snapshotTime(k)).toUTCString(),
    };
    const faults = this.options.faults;
    if (faults.take('emptyBlob', 'exportFile')) return { status: 200, headers, body: '' };
    const file = await this.partFile(data, k, part);
    const size = statSync(file).size;
    const malformed = faults.take('malformedLine', 'exportFile');
    if (malformed) return { status: 200, headers, body: corruptLine(file, malformed.line ?? 2) };
    if (faults.take('bomPrefix', 'exportFile')) return { status: 200, headers, body: withByteOrderMark(file) };
    if (faults.take('truncatedGzip', 'exportFile')) {
      const half = Math.floor(size / 2);
      return { status: 200, headers: { ...headers, 'content-length': String(half) }, body: createReadStream(file, { end: half - 1 }) };
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range) {
      const from = Number(range[1]);
      const to = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (from >= size || from > to) {
        return { status: 416, headers: { 'content-range': `bytes */${size}` }, body: '' };
      }
      return {
        status: 206,
        headers: { ...headers, 'content-range': `bytes ${from}-${to}/${size}`, 'content-length': String(to - from + 1) },
        body: createReadStream(file, { start: from, end: to }),
      };
    }
    return { status: 200, headers: { ...headers, 'content-length': String(size) }, body: createReadStream(file) };
  }

  route(): Route {
    return { method: 'GET', path: '/tvm-export/*', endpoint: 'exportFile', handle: (req) => this.download(req) };
  }
}

/** The part re-compressed with a UTF-8 byte-order mark in front of its first line. */
function withByteOrderMark(file: string): Readable {
  async function* text(): AsyncGenerator<Buffer> {
    yield Buffer.from('\uFEFF');
    yield* createReadStream(file).pipe(createGunzip());
  }
  return Readable.from(text()).pipe(createGzip({ level: zlib.Z_BEST_SPEED }));
}

/** The part re-compressed with one line replaced by broken JSON. */
function corruptLine(file: string, lineNumber: number): Readable {
  async function* lines(): AsyncGenerator<string> {
    let n = 0;
    for await (const line of readline.createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity })) {
      n++;
      yield (n === lineNumber ? line.slice(0, Math.floor(line.length / 2)) + '"Cve' : line) + '\n';
    }
  }
  return Readable.from(lines()).pipe(createGzip({ level: zlib.Z_BEST_SPEED }));
}
