// Per application + tenant + endpoint call quotas, as Defender documents them. Sliding windows;
// a time scale shrinks the windows so tests can exercise them quickly.

import type { Endpoint } from '../faults.js';

export interface Quota {
  perMinute: number;
  perHour: number;
}

/**
 * Documented quotas. The three marked "assumed" are undocumented: they default to the general
 * machine-API quota and can be changed with `--rate-limit endpoint=perMinute/perHour`.
 */
export const DEFAULT_QUOTAS: Partial<Record<Endpoint, Quota>> = {
  softwareVulnerabilitiesByMachine: { perMinute: 30, perHour: 1000 },
  softwareVulnerabilitiesExport: { perMinute: 5, perHour: 20 },
  softwareVulnerabilityChangesByMachine: { perMinute: 30, perHour: 1000 },
  machineVulnerabilities: { perMinute: 50, perHour: 1500 },
  vulnerabilities: { perMinute: 100, perHour: 1500 }, // assumed
  vulnerability: { perMinute: 100, perHour: 1500 }, // assumed
  machineReferences: { perMinute: 100, perHour: 1500 }, // assumed
  machinesVulnerabilities: { perMinute: 100, perHour: 1500 }, // assumed
};

export class RateLimiter {
  private readonly calls = new Map<string, number[]>();

  constructor(
    private readonly quotas: Partial<Record<Endpoint, Quota>>,
    private readonly timeScale: number,
    private readonly now: () => number,
  ) {}

  /** Records the call and returns 0, or returns the seconds to wait when over quota. */
  take(endpoint: Endpoint, caller: string): number {
    const quota = this.quotas[endpoint];
    if (!quota) return 0;
    const minute = 60_000 * this.timeScale;
    const hour = 3600_000 * this.timeScale;
    const now = this.now();
    const key = `${caller}|${endpoint}`;
    const calls = (this.calls.get(key) ?? []).filter((t) => t > now - hour);
    this.calls.set(key, calls);
    const inMinute = calls.filter((t) => t > now - minute);
    let waitMs = 0;
    if (inMinute.length >= quota.perMinute) waitMs = inMinute[inMinute.length - quota.perMinute] + minute - now;
    if (calls.length >= quota.perHour) waitMs = Math.max(waitMs, calls[calls.length - quota.perHour] + hour - now);
    if (waitMs > 0) return Math.max(1, Math.ceil(waitMs / 1000));
    calls.push(now);
    return 0;
  }

  reset(): void {
    this.calls.clear();
  }
}

export function parseQuota(text: string): [Endpoint, Quota] {
  const match = /^(\w+)=(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw new Error(`Invalid rate limit '${text}': use endpoint=perMinute/perHour, e.g. softwareVulnerabilitiesExport=5/20.`);
  return [match[1] as Endpoint, { perMinute: Number(match[2]), perHour: Number(match[3]) }];
}
