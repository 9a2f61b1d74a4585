// Call times per caller in a rolling window, for the quotas the emulated services enforce
// (Defender's per-minute and per-hour quotas, NVD's requests per 30 seconds).

export interface WindowLimit {
  count: number;
  windowMs: number;
}

/** `timeScale` shrinks every window (0.01: a minute lasts 0.6 s), so tests run quotas quickly. */
export class SlidingWindow {
  private readonly calls = new Map<string, number[]>();
  private readonly longestMs: number;

  constructor(private readonly timeScale: number, longestWindowMs: number) {
    this.longestMs = longestWindowMs * timeScale;
  }

  /** Milliseconds until one more call fits every limit (0: now). */
  waitMs(key: string, limits: readonly WindowLimit[], now: number): number {
    const calls = (this.calls.get(key) ?? []).filter((t) => t > now - this.longestMs);
    this.calls.set(key, calls);
    let wait = 0;
    for (const { count, windowMs } of limits) {
      const window = windowMs * this.timeScale;
      const inWindow = calls.filter((t) => t > now - window);
      if (inWindow.length >= count) wait = Math.max(wait, inWindow[inWindow.length - count] + window - now);
    }
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
