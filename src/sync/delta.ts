// The delta: SoftwareVulnerabilityChangesByMachine since the last checkpoint, written as it
// arrives. A parser thread downloads and parses the pages; this thread only writes.

import { ROW_SEPARATOR } from '../defender/records.js';
import type { TokenSource } from '../entra/token.js';
import type { ChangesDownload } from './changes-protocol.js';
import { readChanges } from './changes-reader.js';
import type { ParserThreads } from './parser-threads.js';
import { unixSeconds } from './finding-writer.js';
import type { RunWriter } from './run-writer.js';

/**
 * Delta page size: about a quarter of a typical 6-hour delta (1% of the findings), so that writing
 * starts early. At least 2,500 (the endpoint allows 30 requests a minute); at most 5,000, since a
 * page is parsed whole and a few are in memory at once.
 */
export function deltaPageSize(snapshotRows: number | null): number {
  return Math.min(5_000, Math.max(2_500, Math.round((snapshotRows ?? 0) / 400)));
}

/** Writes the reader's lines; T lines give the time of the lines after them. */
function write(writer: RunWriter, lines: string, time: { at: number }): void {
  for (const line of lines.split(ROW_SEPARATOR)) {
    if (line[0] === 'T') time.at = Number(line.slice(2));
    else if (line[0] === 'X' || line[0] === 'U') writer.fixLine(line, time.at);
    else writer.line(line, time.at);
  }
}

/** The connection a delta reads from, and how. */
export interface DeltaSource extends Omit<ChangesDownload, 'url'> {
  apiUrl: string;
  tokens: TokenSource;
  onWait: (reason: string, seconds: number) => void;
  onThrottled?: () => void;
  signal?: AbortSignal;
}

export async function delta(
  source: DeltaSource, threads: ParserThreads, writer: RunWriter, since: string, pageSize: number, progress: (phase?: string, force?: boolean) => void,
): Promise<void> {
  progress(`reading changes since ${since}`, true);
  await writer.begin();
  const { apiUrl, tokens, onWait, onThrottled, signal, ...network } = source;
  const url = `${apiUrl.replace(/\/+$/, '')}/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=${encodeURIComponent(since)}&pageSize=${pageSize}`;
  const time = { at: 0 };
  const latest = await readChanges(threads, {
    download: { url, ...network }, tokens, onWait, onThrottled, signal,
    write: (lines) => {
      write(writer, lines, time);
      progress(`reading and applying changes since ${since} (${writer.counts.read.toLocaleString()} so far)`);
    },
  });
  // The checkpoint: the latest change, or where this delta started when nothing changed.
  const checkpoint = latest > unixSeconds(since) ? new Date(latest * 1000).toISOString().replace('.000Z', 'Z') : since;
  await writer.endDelta();
  await writer.saveState({ deltaCheckpoint: checkpoint });
}
