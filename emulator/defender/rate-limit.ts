// Per application + tenant + endpoint call quotas, enforced as Defender documents them.

import { SlidingWindow, type Quota } from '../../src/defender/quotas.js';
import type { Endpoint } from '../faults.js';

export { DOCUMENTED_QUOTAS as DEFAULT_QUOTAS, type Quota } from '../../src/defender/quotas.js';

export class RateLimiter {
  private readonly window: SlidingWindow;

  constructor(
    private readonly quotas: Partial<Record<Endpoint, Quota>>,
    timeScale: number,
    private readonly now: () => number,
  ) {
    this.window = new SlidingWindow(timeScale);
  }

  /** Records the call and returns 0, or returns the seconds to wait when over quota. */
  take(endpoint: Endpoint, caller: string): number {
    const quota = this.quotas[endpoint];
    if (!quota) return 0;
    const key = `${caller}|${endpoint}`;
    const now = this.now();
    const waitMs = this.window.waitMs(key, quota, now);
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
