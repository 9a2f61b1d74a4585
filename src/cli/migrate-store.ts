// `sitepatch migrate-store`: the copy of an embedded install into PostgreSQL (store/migrate-store.ts)
// with a progress bar on a terminal (a line per table otherwise), then the row counts it verified
// and what to set on the PostgreSQL install's processes.

import cliProgress from 'cli-progress';
import { masterKeyLocation } from '../connections/secret-box.js';
import type { Settings } from '../config/settings.js';
import { migrateStore, type MigrateProgress } from '../store/migrate-store.js';

const say = (line: string) => process.stderr.write(`${line}\n`);

/** The database's address without its credentials (the URL may hold a password). */
export function redactedDatabaseUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

export async function runMigrateStore(settings: Settings, targetUrl: string): Promise<void> {
  if (!/^postgres(ql)?:\/\//.test(targetUrl)) throw new Error(`--to must be a PostgreSQL URL (postgres://user:password@host:5432/db), not "${targetUrl.split('@').pop()}".`);
  const target = redactedDatabaseUrl(targetUrl);
  say(`Copying the embedded install in ${settings.dataDir} into ${target} (stop its console first: what it writes during the copy is not copied)…`);
  let bar: cliProgress.SingleBar | undefined;
  let table = '';
  const onProgress = (p: MigrateProgress) => {
    if (process.stderr.isTTY) {
      if (!bar) {
        bar = new cliProgress.SingleBar({ format: 'migrate-store [{bar}] {percentage}% | {value}/{total} rows | {table}', hideCursor: true, stream: process.stderr },
          cliProgress.Presets.shades_classic);
        bar.start(p.total, 0, { table: p.table });
      }
      bar.update(p.copied, { table: p.table });
    } else if (p.table !== table && p.table) {
      say(`  ${p.table}… (${p.copied.toLocaleString()} of ${p.total.toLocaleString()} rows copied)`);
    }
    table = p.table;
  };
  try {
    const report = await migrateStore({ dataDir: settings.dataDir, targetUrl, onProgress });
    bar?.stop();
    say(`Copied and verified in ${report.seconds.toFixed(1)} s (rows per table, equal in both stores):`);
    for (const t of report.tables) say(`  ${t.table.padEnd(20)} ${t.rows.toLocaleString().padStart(12)}`);
    const key = masterKeyLocation(settings.dataDir, { key: settings.masterKey, file: settings.masterKeyFile });
    say([
      `The embedded store in ${settings.dataDir} is unchanged. To run on PostgreSQL, set on every process:`,
      `  SITEPATCH_DATABASE_URL=the --to URL (${target}, with its user and password)`,
      key.kind === 'file' ? `  SITEPATCH_MASTER_KEY_FILE=${key.file}   (or its content in SITEPATCH_MASTER_KEY: it opens the copied connections' secrets)`
        : '  SITEPATCH_MASTER_KEY to the key this install uses now (it opens the copied connections\' secrets)',
      'Not copied, as the PostgreSQL store does not keep them yet: the patch knowledge and the remediation and SLA figures.',
    ].join('\n'));
  } catch (e) {
    bar?.stop();
    throw e;
  }
}
