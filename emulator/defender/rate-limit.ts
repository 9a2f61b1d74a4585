// Per application + tenant + endpoint call quotas, enforced as Defender documents them
// (shared/reference/defender-api.md §4). The emulator keeps its own copy of the numbers: an emulator
// that shares the product's code shares its mistakes.

import type { Endpoint } from '../faults.js';
import { SlidingWindow } from '../sliding-window.js';

export interface Quota {
  perMinute: number;
  perHour: number;
}

/** The documented quotas; the four marked "assumed" are undocumented and take the general machine-API quota. */
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

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export class RateLimiter {
  private readonly window: SlidingWindow;

  constructor(
    private readonly quotas: Partial<Record<Endpoint, Quota>>,
    timeScale: number,
    private readonly now: () => number,
  ) {
    this.window = new SlidingWindow(timeScale, HOUR);
  }

  /** Records the call and returns 0, or returns the seconds to wait when over quota. */
  take(endpoint: Endpoint, caller: string): number {
    const quota = this.quotas[endpoint];
    if (!quota) return 0;
    const key = `${caller}|${endpoint}`;
    const now = this.now();
    const waitMs = this.window.waitMs(key, [{ count: quota.perMinute, windowMs: MINUTE }, { count: quota.perHour, windowMs: HOUR }], now);
    if (waitMs > 0) return Math.max(1, Math.ceil(waitMs / 1000));
    this.window.record(key, now);
    return 0;
  }

  reset(): void {
    this.window.reset();
  }
}

export function parseQuota(text: string): [Endpoint, Quota] {
  const match = /^(\w+)=(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw new Error(`Invalid rate limit '${text}': use endpoint=perMinute/perHour, e.g. softwareVulnerabilitiesExport=5/20.`);
  return [match[1] as Endpoint, { perMinute: Number(match[2]), perHour: Number(match[3]) }];
}
