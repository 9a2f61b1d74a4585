// `sitepatch serve --demo`: shows the sync through the demo tenant's past on the terminal (a bar
// on a terminal, a line every 15 days otherwise), and the one-line summary after it.

import cliProgress from 'cli-progress';
import type { DemoPastProgress, DemoPastResult } from './past.js';

const say = (line: string) => process.stderr.write(`${line}\n`);
const day = (iso: string) => iso.slice(0, 10);

export function demoProgressPrinter(): (progress: DemoPastProgress) => void {
  let bar: cliProgress.SingleBar | undefined;
  let lastLine = 0;
  return (p) => {
    const detail = p.run ? `${p.run.kind} | ${(p.run.counts.added).toLocaleString()} new, ${p.run.counts.fixed.toLocaleString()} fixed` : 'starting';
    if (p.done === 0) {
      say(p.firstStart
        ? `Demo: first start, so the console syncs the emulated tenant's last ${Math.max(0, p.total - 1)} days, one snapshot a day from ${day(p.snapshotTime)}…`
        : `Demo: catching up the emulated tenant from ${day(p.snapshotTime)} (${p.total} snapshot${p.total === 1 ? '' : 's'})…`);
      if (process.stderr.isTTY && p.total > 1) {
        bar = new cliProgress.SingleBar({
          format: 'demo history [{bar}] {value}/{total} snapshots | {day} | {detail}', hideCursor: true, clearOnComplete: true, stream: process.stderr,
        }, cliProgress.Presets.shades_classic);
        bar.start(p.total, 0, { day: day(p.snapshotTime), detail });
      }
      return;
    }
    if (bar) {
      bar.update(p.done, { day: day(p.snapshotTime), detail });
      if (p.done === p.total) bar.stop();
    } else if (p.done === p.total || p.done - lastLine >= 15) {
      lastLine = p.done;
      say(`… ${p.done}/${p.total} snapshots synced, up to ${day(p.snapshotTime)} (${detail})`);
    }
  };
}

/** The summary line after the replay, or nothing when there was nothing to catch up. */
export function demoPastSummary(result: DemoPastResult): string {
  const { counts } = result;
  if (result.failed) {
    const error = result.failed.error;
    const message = (error?.message ?? 'the sync failed').replace(/\.?$/, '.');
    return `Demo: syncing the tenant's past stopped at ${result.synced + 1}/${result.total}: ${message} The next start goes on from ${result.to ? day(result.to) : 'where it began'}.`;
  }
  if (!result.total) return '';
  return `Demo: ${result.synced} snapshot${result.synced === 1 ? '' : 's'} synced${result.from ? ` from ${day(result.from)} to ${day(result.to!)}` : ''} in ${result.seconds.toFixed(1)} s ` +
    `(${counts.added.toLocaleString()} findings opened, ${counts.fixed.toLocaleString()} fixed, ${counts.reopened.toLocaleString()} reopened).`;
}
