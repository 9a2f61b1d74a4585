// Defender's documented per-app, per-tenant call quotas, and a sliding-window counter that both
// the client (to stay within them) and the emulator (to enforce them) use.

export type QuotaEndpoint =
  | 'vulnerabilities' | 'vulnerability' | 'machineReferences' | 'machinesVulnerabilities' | 'machineVulnerabilities'
  | 'softwareVulnerabilitiesByMachine' | 'softwareVulnerabilitiesExport' | 'softwareVulnerabilityChangesByMachine';

export interface Quota {
  perMinute: number;
  perHour: number;
}

/**
 * From the Defender docs. The four marked "assumed" are undocumented; they default to the general
 * machine-API quota.
 */
export const DOCUMENTED_QUOTAS: Record<QuotaEndpoint, Quota> = {
  softwareVulnerabilitiesByMachine: { perMinute: 30, perHour: 1000 },
  softwareVulnerabilitiesExport: { perMinute: 5, perHour: 20 },
  softwareVulnerabilityChangesByMachine: { perMinute: 30, perHour: 1000 },
  machineVulnerabilities: { perMinute: 50, perHour: 1500 },
  vulnerabilities: { perMinute: 100, perHour: 1500 }, // assumed
  vulnerability: { perMinute: 100, perHour: 1500 }, // assumed
  machineReferences: { perMinute: 100, perHour: 1500 }, // assumed
  machinesVulnerabilities: { perMinute: 100, perHour: 1500 }, // assumed
};

/** Call times per key within the last hour; `timeScale` shrinks the windows (0.01: a minute is 0.6 s). */
export class SlidingWindow {
  private readonly calls = new Map<string, number[]>();

  constructor(private readonly timeScale = 1) {}

  /** Milliseconds to wait before another call fits the quota (0: now). */
  waitMs(key: string, quota: Quota, now: number): number {
    const minute = 60_000 * this.timeScale;
    const hour = 3600_000 * this.timeScale;
    const calls = (this.calls.get(key) ?? []).filter((t) => t > now - hour);
    this.calls.set(key, calls);
    let wait = 0;
    const inMinute = calls.filter((t) => t > now - minute);
    if (inMinute.length >= quota.perMinute) wait = inMinute[inMinute.length - quota.perMinute] + minute - now;
    if (calls.length >= quota.perHour) wait = Math.max(wait, calls[calls.length - quota.perHour] + hour - now);
    return Math.max(0, wait);
  }

  record(key: string, now: number): void {
    const calls = this.calls.get(key) ?? [];
    calls.push(now);
    this.calls.set(key, calls);
  }

  reset(): void {
    this.calls.clear();
  }
}
