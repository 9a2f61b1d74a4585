// The delta: SoftwareVulnerabilityChangesByMachine since the last checkpoint, read whole (RBAC moves
// are told apart from fixes across the whole set), then applied in time order.

import { DiagnosedError } from '../connections/diagnosis.js';
import type { DefenderClient } from '../defender/client.js';
import { apiRecord, D, decodeLine, encodeApiRecord, readFindingLine, RecordEncoder } from '../defender/records.js';
import { productKey, unixSeconds, type FindingWriter } from './finding-writer.js';

/** A delta larger than this is cheaper as a full snapshot (and would hold too much in memory). */
const DELTA_MAX_ROWS = 2_000_000;
const SOURCE = 'the changes since the last sync';

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
  let installationKey = '';
  let group = '';
  for await (const page of client.pages<unknown>(`/api/machines/SoftwareVulnerabilityChangesByMachine?sinceTime=${encodeURIComponent(since)}&pageSize=${pageSize}`, 'softwareVulnerabilityChangesByMachine')) {
    for (const item of page) {
      const record = apiRecord(item, SOURCE);
      const status = record.status ?? record.Status;
      if (status !== 'New' && status !== 'Fixed' && status !== 'Updated') continue;
      lines.length = 0;
      encodeApiRecord(encoder, record, lines, SOURCE);
      for (const line of lines) {
        if (line[0] === 'D') {
          device = line;
          const d = decodeLine(line);
          deviceId = d[D.deviceId];
          group = d[D.rbacGroupId];
        } else if (line[0] === 'S') {
          software = line;
          const sw = decodeLine(line);
          installationKey = `${deviceId}|${productKey(sw)}`;
        } else {
          events.push({
            status, at: String(record.eventTimestamp ?? record.EventTimestamp ?? ''), device, software, finding: line,
            key: `${installationKey}|${readFindingLine(line).cveId}`, group,
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
export function deltaPageSize(snapshotRows: number | null): number {
  return Math.min(20_000, Math.max(2_500, Math.round((snapshotRows ?? 0) / 400)));
}

export async function delta(client: DefenderClient, writer: FindingWriter, since: string, pageSize: number, progress: (phase?: string, force?: boolean) => void): Promise<void> {
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

/** Delta event times come as `yyyy-MM-dd HH:mm:ss[.fffffff]` UTC. */
function toIso(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(text);
  return m ? `${m[1]}T${m[2]}Z` : new Date().toISOString();
}
