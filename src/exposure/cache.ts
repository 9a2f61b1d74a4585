// Answers that change only when a sync commits (totals, the overview, a CVE's page), kept until
// the exposure copy's data version moves: SQLite's data_version of findings.db, which changes
// whenever another connection (the sync's) commits to it.

const ENTRIES = 1000;

export class DataVersionCache {
  private readonly entries = new Map<string, { version: number; value: Promise<unknown> }>();

  constructor(private readonly dataVersion: () => number) {}

  /** The value for `key` at the current data version, computed once per version (a failure is not kept). */
  get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const version = this.dataVersion();
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
