// The delta: SoftwareVulnerabilityChangesByMachine since the last checkpoint, read whole (RBAC moves
// are told apart from fixes across the whole set), then applied in time order.

import { DiagnosedError } from '../connections/diagnosis.js';
import type { DefenderClient } from '../defender/client.js';
import { apiRecord, D, decodeLine, encodeApiRecord, readFindingLine, RecordEncoder } from '../defender/records.js';
import { unixSeconds, type FindingWriter } from './finding-writer.js';

/** A delta larger than this is cheaper as a full snapshot (and would hold too much in memory). */
const DELTA_MAX_ROWS = 2_000_000;
const SOURCE = 'the changes since the last sync';

interface DeltaEvent {
  status: 'New' | 'Fixed' | 'Updated';
  /** Unix seconds. */
  at: number;
  /** The record's D, S and F lines; events of one device share their D and S line strings. */
  device: string;
  software: string;
  finding: string;
  deviceId: string;
  /** vendor, name and version */
  product: string;
}

/** The change events of every page since the checkpoint, as lines the writer reads. */
async function readChanges(client: DefenderClient, since: string, pageSize: number, progress: (phase?: string, force?: boolean) => void): Promise<DeltaEvent[]> {
  const events: DeltaEvent[] = [];
  // One encoder for the whole stream: it makes a new D or S line only when the device or product
  // changes, so events of one device share them.
  const encoder = new RecordEncoder();
  const lines: string[] = [];
  // The events of one 6-hour batch share their time: read it once.
  let atText: unknown;
  let at = 0;
  for await (const page of client.pages<unknown>(`/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=${encodeURIComponent(since)}&pageSize=${pageSize}`, 'softwareVulnerabilityChangesByMachine')) {
    for (const item of page) {
      const record = apiRecord(item, SOURCE);
      const status = record.status ?? record.Status;
      if (status !== 'New' && status !== 'Fixed' && status !== 'Updated') continue;
      lines.length = 0;
      encodeApiRecord(encoder, record, lines, SOURCE);
      if (lines.length === 0) continue;
      const eventTimestamp = record.eventTimestamp ?? record.EventTimestamp;
      if (eventTimestamp !== atText) {
        atText = eventTimestamp;
        at = unixSeconds(toIso(String(eventTimestamp ?? '')));
      }
      events.push({
        status, at, device: encoder.deviceLine, software: encoder.softwareLine, finding: lines[lines.length - 1],
        deviceId: encoder.deviceId, product: encoder.product,
      });
    }
    if (events.length > DELTA_MAX_ROWS) {
      throw new DiagnosedError({ code: 'export_unavailable', step: 'network', message: `More than ${DELTA_MAX_ROWS.toLocaleString()} changes since the last sync.`, fix: 'Run a full sync: it is faster for this many changes.' });
    }
    progress(`reading changes since ${since} (${events.length.toLocaleString()} so far)`);
  }
  return events;
}

/**
 * A device that moved between RBAC groups shows up as Fixed (old group) + New (new group) of the
 * same finding at the same time: that is a move, not a fix followed by a reopening. Drops the
 * Fixed half of each move.
 */
function withoutMoves(events: DeltaEvent[]): DeltaEvent[] {
  const moveKey = (e: DeltaEvent) => `${e.deviceId}|${e.product}|${readFindingLine(e.finding).cveId}@${e.at}`;
  const newDevices = new Set<string>();
  const newGroups = new Map<string, string>();
  for (const e of events) {
    if (e.status !== 'New') continue;
    newDevices.add(e.deviceId);
    newGroups.set(moveKey(e), decodeLine(e.device)[D.rbacGroupId]);
  }
  return events.filter((e) => {
    if (e.status !== 'Fixed' || !newDevices.has(e.deviceId)) return true;
    const group = newGroups.get(moveKey(e));
    return group === undefined || group === decodeLine(e.device)[D.rbacGroupId];
  });
}

/**
 * Delta page size: about a quarter of a typical 6-hour delta (1% of the findings), so the first
 * page arrives soon and later pages download while earlier ones are read. Kept within 2,500 (the
 * endpoint allows 30 requests a minute) and 20,000 (pages are parsed whole).
 */
export function deltaPageSize(snapshotRows: number | null): number {
  return Math.min(20_000, Math.max(2_500, Math.round((snapshotRows ?? 0) / 400)));
}

export async function delta(client: DefenderClient, writer: FindingWriter, since: string, pageSize: number, progress: (phase?: string, force?: boolean) => void): Promise<void> {
  progress(`reading changes since ${since}`, true);
  const applied = withoutMoves(await readChanges(client, since, pageSize, progress));

  progress(`applying ${applied.length.toLocaleString()} changes`, true);
  writer.begin();
  let latest = unixSeconds(since);
  let [device, software] = ['', ''];
  for (const e of applied.sort((a, b) => a.at - b.at)) {
    if (e.at > latest) latest = e.at;
    if (e.status === 'Fixed') {
      // A fix does not rewrite the device or the installed product: its lines may predate a move.
      writer.locate(e.device, e.software);
      // The writer now points at this event's device and software; neither line is written.
      if (e.device !== device) device = '';
      software = '';
      writer.fixed(e.finding, e.at);
      continue;
    }
    // Write a device or installation line only when it differs from the previous event's.
    if (e.device !== device) {
      device = e.device;
      software = '';
      writer.line(device, e.at);
    }
    if (e.software !== software) {
      software = e.software;
      writer.line(software, e.at);
    }
    writer.line(e.finding, e.at);
  }
  const checkpoint = latest > unixSeconds(since) ? new Date(latest * 1000).toISOString().replace('.000Z', 'Z') : since;
  writer.saveState({ deltaCheckpoint: checkpoint });
}

/** Delta event times come as `yyyy-MM-dd HH:mm:ss[.fffffff]` UTC. */
function toIso(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(text);
  return m ? `${m[1]}T${m[2]}Z` : new Date().toISOString();
}
