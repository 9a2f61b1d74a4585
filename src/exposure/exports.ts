// The findings export's lines. A finding row carries only integers; each device, software
// version, CVE and detail is read once per export and kept as its CSV cells, so a line is a few
// string joins. Reading every finding's text columns from SQLite alone ran at 144,000 rows a second.

import { sql, type Kysely } from 'kysely';
import { csvCell } from '../server/csv.js';
import type { ArrayRows } from './paging.js';
import type { TenantScope } from './scope.js';
import { isoTime } from './vulnerabilities.js';

/** first_seen, opened_at, fixed_at, reopened, device_ref, software_ref, cve_ref, detail_ref (then the sort's columns). */
export type FindingExportRow = [number | null, number, number | null, number, number, number, number, number, ...unknown[]];

const cells = (values: unknown[]) => values.map(csvCell).join(',');

export class FindingCsvLines {
  /** Per device: its first cells (connection … OS platform) and its last-seen cell. */
  private readonly devices = new Map<number, [string, string]>();
  private readonly software = new Map<number, string>();
  private readonly cves = new Map<number, string>();
  private readonly details = new Map<number, string>();
  private readonly times = new Map<number, string>();

  constructor(private readonly db: Kysely<any>, private readonly arrays: ArrayRows, private readonly scope: TenantScope) {}

  /** The CSV lines of a page of export rows (FINDING_CSV_COLUMNS). */
  async format(rows: FindingExportRow[]): Promise<string[]> {
    await this.load(rows);
    return rows.map(([firstSeen, openedAt, fixedAt, reopened, device, software, cve, detail]) => {
      const [head, lastSeen] = this.devices.get(device)!;
      return `${head},${this.software.get(software)},${this.cves.get(cve)},${this.details.get(detail)},${fixedAt === null ? 'open' : 'fixed'},`
        + `${this.time(firstSeen)},${lastSeen},${this.time(openedAt)},${this.time(fixedAt)},${reopened}`;
    });
  }

  private time(seconds: number | null): string {
    if (seconds === null) return '';
    let text = this.times.get(seconds);
    if (text === undefined) {
      // Findings share few distinct times (snapshot times); bound the cache all the same.
      if (this.times.size > 100_000) this.times.clear();
      this.times.set(seconds, text = isoTime(seconds)!);
    }
    return text;
  }

  /** Reads the devices, software, CVEs and details of `rows` that are not known yet. */
  private async load(rows: FindingExportRow[]): Promise<void> {
    const missing = (map: Map<number, unknown>, column: number) => {
      const refs = new Set<number>();
      for (const row of rows) if (!map.has(row[column] as number)) refs.add(row[column] as number);
      return [...refs];
    };
    const read = async (refs: number[], query: (list: ReturnType<typeof sql.join>) => ReturnType<typeof sql>) =>
      refs.length ? this.arrays(query(sql.join(refs)).compile(this.db)) : [];
    for (const [ref, tenant, ...device] of await read(missing(this.devices, 4), (list) =>
      sql`SELECT ref, tenant_ref, device_id, name, rbac_group_name, os_platform, last_seen FROM vuln.device WHERE ref IN (${list})`)) {
      const lastSeen = device.pop();
      this.devices.set(ref as number, [cells([this.scope.byRef.get(tenant as number)!.connectionId, ...device]), csvCell(lastSeen)]);
    }
    for (const [ref, ...software] of await read(missing(this.software, 5), (list) => sql`SELECT ref, vendor, name, version FROM vuln.software WHERE ref IN (${list})`)) {
      this.software.set(ref as number, cells(software));
    }
    for (const [ref, id] of await read(missing(this.cves, 6), (list) => sql`SELECT ref, cve_id FROM vuln.cve WHERE ref IN (${list})`)) {
      this.cves.set(ref as number, csvCell(id));
    }
    for (const [ref, severity, cvss, exploitability, updateId, updateTitle] of await read(missing(this.details, 7), (list) =>
      sql`SELECT ref, severity, cvss, exploitability, update_id, update_title FROM vuln.finding_detail WHERE ref IN (${list})`)) {
      this.details.set(ref as number, cells([severity, cvss, exploitability, updateId ?? updateTitle]));
    }
  }
}
