// Records of a file export packed for the writer: a full snapshot carries a million findings or
// more, and the same few thousand CVE ids, details, devices and products over and over. A parser
// thread gives each distinct CVE id and detail a number the first time it meets it, and sends per
// finding four numbers instead of a text line; texts (D and S lines, new CVE ids, new details)
// travel once, in the order the writer needs them. The writer then resolves a finding with array
// lookups, without splitting or hashing strings. The lines are the ones RecordEncoder writes.

import { encodeDetail, encodeDeviceLine, encodeSoftwareLine, FIELD_SEPARATOR, identityOf, sourceRecord, text, timestamp, type SourceRecord } from './records.js';

/** The kinds of entry in a packed batch; each entry is PACKED_WIDTH numbers. */
export const PACKED = { device: 1, software: 2, finding: 3 } as const;
export const PACKED_WIDTH = 4;

/** A batch: entries of PACKED_WIDTH numbers, and the texts they consume, in order. */
export interface PackedBatch {
  entries: Float64Array<ArrayBuffer>;
  /** How many entries `entries` holds (the array may be longer). */
  count: number;
  texts: string[];
}

const digit = (text: string, i: number) => text.charCodeAt(i) - 48;
const twoDigits = (text: string, i: number) => {
  const tens = digit(text, i);
  const ones = digit(text, i + 1);
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : NaN;
};

/**
 * A `yyyy-MM-dd HH:mm:ss[.fffffff]` or ISO-8601 timestamp in unix seconds (NaN when absent), as
 * records.ts reads it, without a regular expression or a Date per row. Anything unusual takes
 * records.ts's own path.
 */
export function timestampSeconds(value: unknown): number {
  if (typeof value === 'string' && value.length >= 19 && value[4] === '-' && value[7] === '-' && (value[10] === ' ' || value[10] === 'T') &&
    value[13] === ':' && value[16] === ':' && (value.length === 19 || value[19] === '.' || value[19] === 'Z')) {
    const year = twoDigits(value, 0) * 100 + twoDigits(value, 2);
    const month = twoDigits(value, 5);
    const day = twoDigits(value, 8);
    const hours = twoDigits(value, 11);
    const minutes = twoDigits(value, 14);
    const seconds = twoDigits(value, 17);
    // Date.UTC reads years below 100 as 19xx, and rolls day 30 of February over as Date.parse does.
    if (year >= 1000 && month >= 1 && month <= 12 && day >= 1 && day <= 31 && hours < 24 && minutes < 60 && seconds < 60) {
      return Date.UTC(year, month - 1, day, hours, minutes, seconds) / 1000;
    }
  }
  const iso = timestamp(value);
  return iso === '' ? NaN : Date.parse(iso) / 1000;
}

/** A detail's fields as they came, to recognise the next finding of a CVE with the same detail. */
interface RawDetail {
  severity: unknown; cvss: unknown; exploitability: unknown; updateTitle: unknown; updateId: unknown; updateUrl: unknown; available: unknown;
  number: number;
}

/** The same device, RBAC group and product, as the fields came. */
const sameSubject = (a: SourceRecord | undefined, r: SourceRecord) => a !== undefined && a.deviceId === r.deviceId && a.rbacGroupId === r.rbacGroupId &&
  a.vendor === r.vendor && a.name === r.name && a.version === r.version;

const sameDetail = (a: RawDetail, r: SourceRecord) => a.severity === r.severity && a.cvss === r.cvss && a.exploitability === r.exploitability &&
  a.updateTitle === r.updateTitle && a.updateId === r.updateId && a.updateUrl === r.updateUrl && a.available === r.available;

/** Packs one stream of export records (a parser thread's share of a file export). */
export class RecordPacker {
  private readonly cveNumbers = new Map<string, number>();
  private readonly detailNumbers = new Map<string, number>();
  /** Per CVE number, the details met with it most recently (a CVE has one or a few). */
  private readonly recentDetails: RawDetail[][] = [];
  /** The last record that had a CVE: the device and product in effect. */
  private subject: SourceRecord | undefined;
  private device = '';
  private product = '';
  private batch = newBatch(1024);

  /** Appends a record; rows without a CVE add nothing. Throws RecordError like RecordEncoder.encode. */
  pack(record: Record<string, unknown>): void {
    const source = sourceRecord(record);
    let cveId: string;
    if (sameSubject(this.subject, source)) {
      // The device and product of the record before: most rows of an export.
      cveId = text(source.cveId);
      if (!cveId) return;
    } else {
      const identity = identityOf(source);
      if (!identity) return;
      this.subject = source;
      cveId = identity.cveId;
      const device = identity.deviceId + FIELD_SEPARATOR + identity.rbacGroupId;
      if (device !== this.device) {
        this.device = device;
        this.product = '';
        this.add(PACKED.device, 0, 0, 0, encodeDeviceLine(source, identity));
      }
      if (identity.product !== this.product) {
        this.product = identity.product;
        this.add(PACKED.software, 0, 0, 0, encodeSoftwareLine(source, identity));
      }
    }
    const firstSeen = timestampSeconds(source.firstSeen);
    let cve = this.cveNumbers.get(cveId);
    if (cve === undefined) {
      cve = this.cveNumbers.size;
      this.cveNumbers.set(cveId, cve);
      this.recentDetails.push([]);
      this.batch.texts.push(cveId);
    }
    this.add(PACKED.finding, cve, this.detailNumber(cve, source), firstSeen);
  }

  /**
   * The batch so far; the next one starts empty. The writer reads one stream's batches in order,
   * and keeps its numbers, device and software from one batch to the next.
   */
  take(): PackedBatch {
    const batch = this.batch;
    this.batch = newBatch(batch.entries.length / PACKED_WIDTH);
    return batch;
  }

  /** Entries in the batch so far. */
  get size(): number {
    return this.batch.count;
  }

  private detailNumber(cve: number, source: SourceRecord): number {
    const recent = this.recentDetails[cve];
    for (const detail of recent) if (sameDetail(detail, source)) return detail.number;
    const text = encodeDetail(source);
    let number = this.detailNumbers.get(text);
    if (number === undefined) {
      number = this.detailNumbers.size;
      this.detailNumbers.set(text, number);
      this.batch.texts.push(text);
    }
    if (recent.length === 4) recent.shift();
    const { severity, cvss, exploitability, updateTitle, updateId, updateUrl, available } = source;
    recent.push({ severity, cvss, exploitability, updateTitle, updateId, updateUrl, available, number });
    return number;
  }

  private add(kind: number, a: number, b: number, c: number, text?: string): void {
    let { entries } = this.batch;
    const at = this.batch.count * PACKED_WIDTH;
    if (at === entries.length) {
      entries = new Float64Array(entries.length * 2);
      entries.set(this.batch.entries);
      this.batch.entries = entries;
    }
    entries[at] = kind;
    entries[at + 1] = a;
    entries[at + 2] = b;
    entries[at + 3] = c;
    this.batch.count++;
    if (text !== undefined) this.batch.texts.push(text);
  }
}

const newBatch = (entries: number): PackedBatch => ({ entries: new Float64Array(entries * PACKED_WIDTH), count: 0, texts: [] });
