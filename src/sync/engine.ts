// One sync run: a full snapshot (export via files, or the paged JSON export), or a delta since the
// last checkpoint, plus the CVE catalog; all applied in one transaction at the end.

import type { Dispatcher } from 'undici';
import { DiagnosedError, type Diagnosis } from '../connections/diagnosis.js';
import type { ConnectionFields } from '../connections/input.js';
import { createDefenderClient, type DefenderClient } from '../defender/client.js';
import { readExportFiles } from '../defender/export-files.js';
import { encodeApiRecord, RecordEncoder } from '../defender/records.js';
import { endpointsFor } from '../entra/clouds.js';
import { createTokenSource } from '../entra/token.js';
import type { SyncStateTable } from '../store/schema.js';
import { fetchCatalog } from './catalog.js';
import type { ParserThreads } from './parser-threads.js';
import { delta, deltaPageSize } from './delta.js';
import { unixSeconds } from './finding-writer.js';
import type { RunWriter, WriteCounts } from './run-writer.js';
import type { RunLog, SyncKind } from './runs.js';

const DAY = 24 * 3600_000;
/** Defender keeps 14 days of changes; stay clear of the edge. */
const DELTA_MAX_AGE = 13.5 * DAY;
/** A full snapshot at least this often, even when deltas keep working. */
const FULL_EVERY = 7 * DAY;
/** JSON pages are parsed whole: keep them to ~10-20 MB. */
const JSON_PAGE_SIZE = 20_000;

export interface EngineContext {
  /** The writer of a run into the store that holds the exposure copy. */
  openWriter(connectionId: string, runId: string): Promise<RunWriter>;
  /** Called once a run's data is committed (the embedded store checkpoints its log). */
  afterCommit?: () => void;
  runs: RunLog;
  /** Parse export files and delta pages while this thread writes. */
  parserThreads: ParserThreads;
  dispatcher: Dispatcher;
  extraCaPem?: string;
  proxyUrl?: string;
  /** Scales waits (quota windows, backoff): 1 in production. */
  timeScale: number;
  maxAttempts: number;
  /** Told about every 429 answer of the Defender API (the metrics count them). */
  onThrottled?: () => void;
}

export interface RunRequest {
  runId: string;
  connectionId: string;
  requested: SyncKind;
  credentials: ConnectionFields & { clientSecret: string };
  signal?: AbortSignal;
  /** The time checkpoint ages are measured from (default: the clock). */
  now?: number;
}

export type RunResult = { ok: true; kind: 'full' | 'delta'; counts: WriteCounts } | { ok: false; diagnosis: Diagnosis; counts: WriteCounts };

/** Full or delta, and why. */
function chooseKind(requested: SyncKind, state: SyncStateTable | undefined, now: number): { kind: 'full' | 'delta'; note?: string } {
  if (requested === 'full') return { kind: 'full' };
  const checkpoint = state?.delta_checkpoint ? Date.parse(state.delta_checkpoint) : NaN;
  if (Number.isNaN(checkpoint)) return { kind: 'full', note: requested === 'delta' ? 'no full snapshot yet, so a full snapshot runs first' : undefined };
  if (now - checkpoint > DELTA_MAX_AGE) return { kind: 'full', note: 'the last checkpoint is older than the 14 days Defender keeps changes, so a full snapshot runs instead' };
  if (requested === 'auto' && (!state?.last_full_at || now - Date.parse(state.last_full_at) > FULL_EVERY)) return { kind: 'full', note: 'weekly full snapshot' };
  return { kind: 'delta' };
}

export async function executeRun(ctx: EngineContext, request: RunRequest): Promise<RunResult> {
  const { runId, connectionId, credentials } = request;
  const writer = await ctx.openWriter(connectionId, runId);
  const state = await writer.state();
  let { kind, note } = chooseKind(request.requested, state, request.now ?? Date.now());
  await ctx.runs.start(runId, kind);

  let lastProgress = 0;
  let phase = 'starting';
  let parts = { done: 0, total: 0 };
  const progress = (next?: string, force = false) => {
    if (next) phase = next;
    const now = Date.now();
    if (!force && now - lastProgress < 500) return;
    lastProgress = now;
    void ctx.runs.progress(runId, { phase, partsDone: parts.done, partsTotal: parts.total, counts: writer.counts }).catch(() => undefined);
  };
  if (note) progress(`${kind}: ${note}`, true);

  const tokens = createTokenSource(credentials, ctx.dispatcher, ctx.proxyUrl);
  const { apiUrl } = endpointsFor(credentials.cloud, credentials);
  const { extraCaPem, proxyUrl, timeScale, maxAttempts, onThrottled } = ctx;
  const onWait = (reason: string, seconds: number) => progress(`waiting ${seconds} s: ${reason}`, true);
  const client = createDefenderClient({ apiUrl, tokens, dispatcher: ctx.dispatcher, proxyUrl, timeScale, maxAttempts, signal: request.signal, onWait, onThrottled });

  try {
    // The catalog downloads while the findings do; it is applied in the same transaction.
    const catalog = fetchCatalog(client, state?.catalog_checkpoint ?? undefined);
    catalog.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    const full = () => fullSnapshot(ctx, client, writer, credentials.exportMethod, (p) => { parts = p; progress(); }, progress, request.signal);
    if (kind === 'full') {
      await full();
    } else {
      try {
        const source = { apiUrl, tokens, extraCaPem, proxyUrl, timeScale, maxAttempts, onWait, onThrottled, signal: request.signal };
        await delta(source, ctx.parserThreads, writer, state!.delta_checkpoint!, deltaPageSize(state!.snapshot_rows), progress);
      } catch (e) {
        // Defender refuses a checkpoint it no longer has (400): read a full snapshot instead.
        if (!(e instanceof DiagnosedError && e.diagnosis.httpStatus === 400)) throw e;
        await writer.rollback();
        kind = 'full';
        void ctx.runs.progress(runId, { kind, phase: 'full: Defender refused the delta checkpoint, so a full snapshot runs instead' });
        await full();
      }
    }
    progress('saving the CVE catalog', true);
    const catalogCheckpoint = await writer.saveCatalog((await catalog).rows);
    await writer.saveState({ catalogCheckpoint: catalogCheckpoint ?? undefined });
    progress('committing', true);
    await writer.commit();
    ctx.afterCommit?.();
    return { ok: true, kind, counts: writer.counts };
  } catch (e) {
    await writer.rollback();
    const diagnosis = e instanceof DiagnosedError ? e.diagnosis : {
      code: 'api_error' as const, step: 'network' as const,
      message: `The sync failed unexpectedly: ${(e as Error).message}`, fix: 'Sync again; if it keeps failing, the server log has the details. The previous data is kept unchanged.',
    };
    return { ok: false, diagnosis, counts: writer.counts };
  }
}

async function requestExport(client: DefenderClient): Promise<{ exportFiles: string[]; generatedTime: string }> {
  const response = await client.getJson<{ exportFiles?: string[]; generatedTime?: string }>('/api/machines/SoftwareVulnerabilitiesExport?sasValidHours=6', 'softwareVulnerabilitiesExport');
  if (!Array.isArray(response.exportFiles) || Number.isNaN(Date.parse(response.generatedTime ?? ''))) {
    throw new DiagnosedError({ code: 'export_unavailable', step: 'network', message: 'Defender answered the export request without exportFiles and a valid generatedTime.', fix: 'Sync again later, or switch this connection to the JSON export.' });
  }
  return { exportFiles: response.exportFiles, generatedTime: response.generatedTime! };
}

async function fullSnapshot(
  ctx: EngineContext, client: DefenderClient, writer: RunWriter, method: 'files' | 'json',
  onParts: (parts: { done: number; total: number }) => void, progress: (phase?: string, force?: boolean) => void, signal?: AbortSignal,
): Promise<void> {
  let files: { exportFiles: string[]; generatedTime: string } | undefined;
  if (method === 'files') {
    progress('requesting the file export', true);
    files = await requestExport(client);
    // An empty list may be a glitch rather than an empty tenant: ask the JSON export instead.
    if (files.exportFiles.length === 0) files = undefined;
  }
  await writer.begin();
  writer.beginSnapshot();
  const at = files?.generatedTime ?? new Date().toISOString();
  const atSeconds = unixSeconds(at);

  if (files) {
    const { generatedTime } = files;
    let done = 0;
    const streams: unknown[] = [];
    onParts({ done, total: files.exportFiles.length });
    progress(`downloading and loading ${files.exportFiles.length} export files`, true);
    await readExportFiles({
      urls: files.exportFiles,
      refreshUrls: async () => {
        const again = await requestExport(client);
        if (again.generatedTime !== generatedTime || again.exportFiles.length !== files!.exportFiles.length) {
          throw new DiagnosedError({ code: 'export_unavailable', step: 'network', message: 'Defender published a new snapshot while the previous one was downloading.', fix: 'Sync again: the next run reads the new snapshot from the start. The previous data is kept unchanged.' });
        }
        return again.exportFiles;
      },
      extraCaPem: ctx.extraCaPem, proxyUrl: ctx.proxyUrl, maxAttempts: ctx.maxAttempts, timeScale: ctx.timeScale, threads: ctx.parserThreads, signal,
      onBatch: (batch, thread) => {
        const taken = writer.packed(streams[thread] ??= writer.newStream(), batch, atSeconds);
        progress();
        return taken;
      },
      onPartDone: () => onParts({ done: ++done, total: files!.exportFiles.length }),
      onWait: (reason, seconds) => progress(`waiting ${seconds} s: ${reason}`, true),
    });
  } else {
    progress('reading the JSON export', true);
    const encoder = new RecordEncoder();
    for await (const page of client.pages<unknown>(`/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=${JSON_PAGE_SIZE}`, 'softwareVulnerabilitiesByMachine')) {
      const lines: string[] = [];
      for (const item of page) encodeApiRecord(encoder, item, lines, 'the JSON export');
      for (const line of lines) writer.line(line, atSeconds);
      progress();
    }
  }
  progress('closing findings that are no longer reported', true);
  await writer.closeUnseen(atSeconds);
  await writer.saveState({ snapshotTime: at, snapshotRows: writer.counts.read, deltaCheckpoint: at, fullAt: at });
}
