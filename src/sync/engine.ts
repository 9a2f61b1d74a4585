// One sync run: a full snapshot (export via files, or the paged JSON export), or a delta since the
// last checkpoint, plus the CVE catalog; all applied in one transaction at the end.

import type SQLite from 'better-sqlite3';
import type { Dispatcher } from 'undici';
import { DiagnosedError, type Diagnosis } from '../connections/diagnosis.js';
import type { ConnectionFields } from '../connections/input.js';
import { createDefenderClient, type DefenderClient } from '../defender/client.js';
import { readExportFiles } from '../defender/export-files.js';
import { D, decodeLine, readFindingLine, RecordEncoder, S } from '../defender/records.js';
import { endpointsFor } from '../entra/clouds.js';
import { createTokenSource } from '../entra/token.js';
import type { SyncStateTable } from '../store/schema.js';
import { applyCatalog, fetchCatalog } from './catalog.js';
import { Bitmap, FindingWriter, type WriteCounts } from './finding-writer.js';
import type { RunLog, SyncKind } from './runs.js';

const DAY = 24 * 3600_000;
/** Defender keeps 14 days of changes; stay clear of the edge. */
const DELTA_MAX_AGE = 13.5 * DAY;
/** A full snapshot at least this often, even when deltas keep working. */
const FULL_EVERY = 7 * DAY;
/** A delta larger than this is cheaper as a full snapshot (and would hold too much in memory). */
const DELTA_MAX_ROWS = 2_000_000;
/** JSON pages are parsed whole: keep them to ~10-20 MB. */
const JSON_PAGE_SIZE = 20_000;

export interface EngineContext {
  findings: SQLite.Database;
  /** Called once a run's data is committed (the store checkpoints its log). */
  afterCommit: () => void;
  runs: RunLog;
  dispatcher: Dispatcher;
  extraCaPem?: string;
  proxyUrl?: string;
  /** Scales waits (quota windows, backoff): 1 in production. */
  timeScale: number;
  maxAttempts: number;
}

export interface RunRequest {
  runId: string;
  connectionId: string;
  requested: SyncKind;
  credentials: ConnectionFields & { clientSecret: string };
  signal?: AbortSignal;
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
  const writer = new FindingWriter(ctx.findings, connectionId, runId);
  const state = ctx.findings.prepare('SELECT * FROM sync_state WHERE tenant_ref = ?').get(writer.tenant) as SyncStateTable | undefined;
  let { kind, note } = chooseKind(request.requested, state, Date.now());
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
  const client = createDefenderClient({
    apiUrl: endpointsFor(credentials.cloud, credentials).apiUrl, tokens, dispatcher: ctx.dispatcher, proxyUrl: ctx.proxyUrl,
    timeScale: ctx.timeScale, maxAttempts: ctx.maxAttempts, signal: request.signal,
    onWait: (reason, seconds) => progress(`waiting ${seconds} s: ${reason}`, true),
  });

  try {
    // The catalog downloads while the findings do; it is applied in the same transaction.
    const catalog = fetchCatalog(client, state?.catalog_checkpoint ?? undefined);
    catalog.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    const full = () => fullSnapshot(ctx, client, writer, credentials.exportMethod, (p) => { parts = p; progress(); }, progress);
    if (kind === 'full') {
      await full();
    } else {
      try {
        await delta(client, writer, state!.delta_checkpoint!, deltaPageSize(state!.snapshot_rows), progress);
      } catch (e) {
        // Defender refuses a checkpoint it no longer has (400): read a full snapshot instead.
        if (!(e instanceof DiagnosedError && e.diagnosis.httpStatus === 400)) throw e;
        writer.rollback();
        kind = 'full';
        void ctx.runs.progress(runId, { kind, phase: 'full: Defender refused the delta checkpoint, so a full snapshot runs instead' });
        await full();
      }
    }
    progress('saving the CVE catalog', true);
    const catalogCheckpoint = applyCatalog(ctx.findings, writer.tenant, (await catalog).rows);
    writer.saveState({ catalogCheckpoint: catalogCheckpoint ?? undefined });
    progress('committing', true);
    writer.commit();
    ctx.afterCommit();
    return { ok: true, kind, counts: writer.counts };
  } catch (e) {
    writer.rollback();
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
  ctx: EngineContext, client: DefenderClient, writer: FindingWriter, method: 'files' | 'json',
  onParts: (parts: { done: number; total: number }) => void, progress: (phase?: string, force?: boolean) => void,
): Promise<void> {
  let files: { exportFiles: string[]; generatedTime: string } | undefined;
  if (method === 'files') {
    progress('requesting the file export', true);
    files = await requestExport(client);
    // An empty list may be a glitch rather than an empty tenant: ask the JSON export instead.
    if (files.exportFiles.length === 0) files = undefined;
  }
  writer.begin();
  const maxId = writer.maxId();
  const seen = new Bitmap(maxId);
  const at = files?.generatedTime ?? new Date().toISOString();
  const atSeconds = unixSeconds(at);
  const add = (line: string) => {
    const id = writer.line(line, atSeconds);
    if (id > 0 && id <= maxId) seen.add(id);
  };

  if (files) {
    const { generatedTime } = files;
    let done = 0;
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
      extraCaPem: ctx.extraCaPem, proxyUrl: ctx.proxyUrl, maxAttempts: ctx.maxAttempts, timeScale: ctx.timeScale,
      onRows: (rows) => {
        for (const row of rows) add(row);
        progress();
      },
      onPartDone: () => onParts({ done: ++done, total: files!.exportFiles.length }),
      onWait: (reason, seconds) => progress(`waiting ${seconds} s: ${reason}`, true),
    });
  } else {
    progress('reading the JSON export', true);
    const encoder = new RecordEncoder();
    for await (const page of client.pages<Record<string, unknown>>(`/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=${JSON_PAGE_SIZE}`, 'softwareVulnerabilitiesByMachine')) {
      const lines: string[] = [];
      for (const record of page) encoder.encode(record, lines);
      for (const line of lines) add(line);
      progress();
    }
  }
  progress('closing findings that are no longer reported', true);
  writer.closeUnseen(seen, maxId, atSeconds);
  writer.saveState({ snapshotTime: at, snapshotRows: writer.counts.read, deltaCheckpoint: at, fullAt: at });
}

interface DeltaEvent {
  status: 'New' | 'Fixed' | 'Updated';
  at: string;
  /** The record's D, S and F lines; events of one device share their D and S line strings. */
  device: string;
  software: string;
  finding: string;
  /** device|vendor|name|version|cve */
  key: string;
  group: string;
}

/** The change events of every page since the checkpoint, as lines the writer reads. */
async function readChanges(client: DefenderClient, since: string, pageSize: number, progress: (phase?: string, force?: boolean) => void): Promise<DeltaEvent[]> {
  const events: DeltaEvent[] = [];
  // One encoder for the whole stream: it repeats a D or S line only when the device or product
  // changes, and each event keeps the latest of each.
  const encoder = new RecordEncoder();
  const lines: string[] = [];
  let device = '';
  let software = '';
  let deviceId = '';
  let productKey = '';
  let group = '';
  for await (const page of client.pages<Record<string, unknown>>(`/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=${encodeURIComponent(since)}&pageSize=${pageSize}`, 'softwareVulnerabilityChangesByMachine')) {
    for (const record of page) {
      const status = record.status ?? record.Status;
      if (status !== 'New' && status !== 'Fixed' && status !== 'Updated') continue;
      lines.length = 0;
      encoder.encode(record, lines);
      for (const line of lines) {
        if (line[0] === 'D') {
          device = line;
          const d = decodeLine(line);
          deviceId = d[D.deviceId];
          group = d[D.rbacGroupId];
        } else if (line[0] === 'S') {
          software = line;
          const sw = decodeLine(line);
          productKey = `${deviceId}|${sw[S.vendor]}|${sw[S.name]}|${sw[S.version]}`;
        } else {
          events.push({
            status, at: String(record.eventTimestamp ?? record.EventTimestamp ?? ''), device, software, finding: line,
            key: `${productKey}|${readFindingLine(line).cveId}`, group,
          });
        }
      }
    }
    if (events.length > DELTA_MAX_ROWS) {
      throw new DiagnosedError({ code: 'export_unavailable', step: 'network', message: `More than ${DELTA_MAX_ROWS.toLocaleString()} changes since the last sync.`, fix: 'Run a full sync: it is faster for this many changes.' });
    }
    progress(`reading changes since ${since} (${events.length.toLocaleString()} so far)`);
  }
  return events;
}

/**
 * Delta page size: about a quarter of a typical 6-hour delta (1% of the findings), so the first
 * page arrives soon and later pages download while earlier ones are read. Kept within 2,500 (the
 * endpoint allows 30 requests a minute) and 20,000 (pages are parsed whole).
 */
function deltaPageSize(snapshotRows: number | null): number {
  return Math.min(20_000, Math.max(2_500, Math.round((snapshotRows ?? 0) / 400)));
}

async function delta(client: DefenderClient, writer: FindingWriter, since: string, pageSize: number, progress: (phase?: string, force?: boolean) => void): Promise<void> {
  progress(`reading changes since ${since}`, true);
  const events = await readChanges(client, since, pageSize, progress);

  // A device that moved between RBAC groups shows up as Fixed (old group) + New (new group) of the
  // same finding at the same time: that is a move, not a fix followed by a reopening.
  const newGroups = new Map<string, string>();
  for (const e of events) if (e.status === 'New') newGroups.set(`${e.key}@${e.at}`, e.group);
  const applied = events.filter((e) => {
    if (e.status !== 'Fixed') return true;
    const group = newGroups.get(`${e.key}@${e.at}`);
    return group === undefined || group === e.group;
  });

  progress(`applying ${applied.length.toLocaleString()} changes`, true);
  writer.begin();
  let checkpoint = since;
  let [device, software] = ['', ''];
  for (const e of applied.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))) {
    const at = toIso(e.at);
    const atSeconds = unixSeconds(at);
    if (at > checkpoint) checkpoint = at;
    if (e.status === 'Fixed') {
      // A fix does not rewrite the device or the installed product: its lines may predate a move.
      writer.locate(e.device, e.software);
      // The writer now points at this event's device and software; neither line is written.
      if (e.device !== device) device = '';
      software = '';
      writer.fixed(e.finding, atSeconds);
      continue;
    }
    // Write a device or installation line only when it differs from the previous event's.
    if (e.device !== device) {
      device = e.device;
      software = '';
      writer.line(device, atSeconds);
    }
    if (e.software !== software) {
      software = e.software;
      writer.line(software, atSeconds);
    }
    writer.line(e.finding, atSeconds);
  }
  writer.saveState({ deltaCheckpoint: checkpoint });
}

const unixSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** Delta event times come as `yyyy-MM-dd HH:mm:ss[.fffffff]` UTC. */
function toIso(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(text);
  return m ? `${m[1]}T${m[2]}Z` : new Date().toISOString();
}
