// Prometheus metrics (prom-client), served at GET /metrics: the sync's durations, rows and
// failures, the job queue, the API's latency by route, and Defender's 429s, plus the process
// metrics prom-client collects (CPU, memory, event loop lag, GC). One registry per process's
// services, so that several consoles in one process (the tests) keep apart. No label carries a
// tenant, a user or a request's address: only route patterns, kinds and diagnosis codes.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunResult } from '../sync/engine.js';

/** What the job queue holds now. */
export interface QueueStats {
  /** Queued jobs by kind (sync, purge, remap, rescore, backfill). */
  queued: Record<string, number>;
  /** Age in seconds of the oldest queued job, 0 when none waits. */
  oldestQueuedSeconds: number;
  /** How long the longest-running job has run, 0 when none runs. */
  runningSeconds: number;
}

const CHANGES = ['read', 'added', 'updated', 'reopened', 'fixed'] as const;

/** `queue` is read when Prometheus scrapes (a worker asks the database: it may answer later). */
export function createMetrics(queue: () => QueueStats | Promise<QueueStats>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sitepatch_' });
  const registers = [registry];

  const httpDuration = new Histogram({
    name: 'sitepatch_http_request_duration_seconds', help: 'API and console request latency, by route pattern',
    labelNames: ['method', 'route', 'status'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
  });
  const syncDuration = new Histogram({
    name: 'sitepatch_sync_duration_seconds', help: 'Sync runs, by the kind that ran (full or delta; the requested one when it failed) and outcome',
    labelNames: ['kind', 'outcome'], buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200], registers,
  });
  const syncRows = new Counter({
    name: 'sitepatch_sync_rows_total', help: 'Findings the sync runs read and wrote, by change (read, added, updated, reopened, fixed)',
    labelNames: ['kind', 'change'], registers,
  });
  const syncFailures = new Counter({ name: 'sitepatch_sync_failures_total', help: 'Failed sync runs, by diagnosis code', labelNames: ['code'], registers });
  const throttled = new Counter({ name: 'sitepatch_defender_throttled_total', help: 'Answers 429 (throttled) from the Defender API', registers });

  new Gauge({
    name: 'sitepatch_queue_depth', help: 'Jobs waiting in the queue (syncs, purges, remediation jobs), by kind', labelNames: ['kind'], registers,
    async collect() {
      this.reset();
      for (const [kind, count] of Object.entries((await queue()).queued)) this.set({ kind }, count);
    },
  });
  new Gauge({
    name: 'sitepatch_queue_oldest_job_age_seconds', help: 'Age of the oldest job waiting in the queue', registers,
    async collect() {
      this.set((await queue()).oldestQueuedSeconds);
    },
  });
  new Gauge({
    name: 'sitepatch_queue_running_job_seconds', help: 'How long the longest-running job has run', registers,
    async collect() {
      this.set((await queue()).runningSeconds);
    },
  });

  return {
    registry,
    /** A request answered; `route` is the matched pattern (never the URL as sent). */
    requestAnswered(method: string, route: string, status: number, seconds: number): void {
      httpDuration.observe({ method, route, status: String(status) }, seconds);
    },
    syncFinished(requested: string, result: RunResult, seconds: number): void {
      const kind = result.ok ? result.kind : requested;
      syncDuration.observe({ kind, outcome: result.ok ? 'ok' : 'failed' }, seconds);
      for (const change of CHANGES) if (result.counts[change]) syncRows.inc({ kind, change }, result.counts[change]);
      if (!result.ok) syncFailures.inc({ code: result.diagnosis.code });
    },
    defenderThrottled(): void {
      throttled.inc();
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
