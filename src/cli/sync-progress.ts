// `sitepatch sync` and `sitepatch content update`: run one sync or import in this process and show its progress.

import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import type { ImportSource } from '../content/imports.js';
import type { ConsoleServices } from '../server/runtime.js';
import type { SyncKind, SyncRunView } from '../sync/runs.js';

const say = (line: string) => process.stderr.write(`${line}\n`);

/** Returns the process exit code: 0 when the sync succeeded. */
export async function runSyncWithProgress(services: ConsoleServices, connection: string, kind: SyncKind): Promise<number> {
  const { items } = await services.connections.list();
  const target = items.find((c) => c.id === connection) ?? items.find((c) => c.name.toLowerCase() === connection.toLowerCase());
  if (!target) {
    say(`✗ There is no connection '${connection}'. Connections: ${items.map((c) => `${c.name} (${c.id})`).join(', ') || 'none yet'}.`);
    return 2;
  }
  const before = await services.runs.active(target.id);
  if (before) {
    say(`✗ A sync of '${target.name}' is already ${before.status} (run ${before.runId}, ${before.phase}), probably in a running console. Watch it there, or wait for it to finish.`);
    return 1;
  }
  const runId = await services.sync.request(target.id, kind, 'sitepatch sync');
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({
      format: '{phase} [{bar}] {value}/{total} files | {rows} rows | {rate} rows/s',
      hideCursor: true, clearOnComplete: true, stream: process.stderr,
    }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(1, 0, { phase: 'starting', rows: 0, rate: 0 });
  let run: SyncRunView | undefined;
  let lastPhase = '';
  for (;;) {
    run = await services.runs.get(runId);
    if (!run) throw new Error(`The sync run ${runId} disappeared.`);
    if (bar) {
      bar.setTotal(Math.max(1, run.parts.total));
      bar.update(run.parts.done, { phase: run.phase.slice(0, 48), rows: run.counts.read.toLocaleString(), rate: run.rate.toLocaleString() });
    } else if (run.phase !== lastPhase) {
      say(`… ${run.phase}`);
      lastPhase = run.phase;
    }
    if (run.status === 'succeeded' || run.status === 'failed') break;
    await sleep(250);
  }
  bar?.stop();
  const { counts } = run;
  if (run.status === 'succeeded') {
    say(`✓ ${run.kind} sync of '${target.name}' done: ${counts.read.toLocaleString()} rows read, ${counts.added.toLocaleString()} new, ${counts.fixed.toLocaleString()} fixed, ${counts.updated.toLocaleString()} updated, ${counts.reopened.toLocaleString()} reopened (${run.rate.toLocaleString()} rows/s).`);
    return 0;
  }
  say(`✗ ${run.error?.message ?? 'The sync failed.'}`);
  if (run.error?.fix) say(`  Fix: ${run.error.fix}`);
  say(`  (code ${run.error?.code}; run ${run.runId})`);
  return 1;
}

/** `sitepatch content update`: one import from the feeds, with a progress bar; returns the exit code. */
export async function runContentImportWithProgress(services: ConsoleServices, source: ImportSource): Promise<number> {
  const { importId, finished } = await services.content.start(source, 'manual', 'cli');
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({ format: '{phase} [{bar}] {value}/{total} | {records} records', hideCursor: true, clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(1, 0, { phase: 'starting', records: 0 });
  let lastPhase = '';
  const show = async () => {
    const now = await services.content.get(importId);
    if (!now) return;
    if (bar) {
      bar.setTotal(Math.max(1, now.progress.total ?? now.progress.done));
      bar.update(now.progress.done, { phase: now.phase.slice(0, 48), records: now.records.toLocaleString() });
    } else if (now.phase !== lastPhase) {
      say(`… ${now.phase}`);
      lastPhase = now.phase;
    }
  };
  const ticker = setInterval(() => void show(), 250);
  await finished;
  clearInterval(ticker);
  bar?.stop();
  const done = (await services.content.get(importId))!;
  if (done.status === 'succeeded') {
    say(`✓ ${source} import done: ${done.documents.toLocaleString()} documents, ${done.records.toLocaleString()} records${done.skipped.count ? `, ${done.skipped.count.toLocaleString()} skipped (see GET /api/v1/content/imports/${importId})` : ''}.`);
    return 0;
  }
  say(`✗ ${done.error ?? 'The import failed.'}`);
  return 1;
}
