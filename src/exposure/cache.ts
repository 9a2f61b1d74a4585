// Answers that change only when a sync commits (totals, the overview, a CVE's page), kept until
// the exposure copy's data version moves: on SQLite findings.db's data_version, which changes
// whenever another connection (the sync's) commits to it; on PostgreSQL the counter each sync's
// transaction moves (findings-schema.ts).

const ENTRIES = 1000;

export class DataVersionCache {
  private readonly entries = new Map<string, { version: number; value: Promise<unknown> }>();

  constructor(private readonly dataVersion: () => number | Promise<number>) {}

  /** The value for `key` at the current data version, computed once per version (a failure is not kept). */
  async get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const version = await this.dataVersion();
    const hit = this.entries.get(key);
    if (hit && hit.version === version) return hit.value as Promise<T>;
    const value = compute();
    value.catch(() => this.entries.delete(key));
    // Re-inserted last: the Map's order is the eviction order.
    this.entries.delete(key);
    this.entries.set(key, { version, value });
    if (this.entries.size > ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
