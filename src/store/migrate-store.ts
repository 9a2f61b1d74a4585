// `sitepatch migrate-store --to postgres://…`: copies an embedded install (its data directory)
// into an empty PostgreSQL database: the control plane (accounts, sessions, tokens, connections and
// their sealed secrets, audit, sync runs, settings, risk exceptions) and the exposure copy with its
// read models. The source is opened read-only and left as it was. Everything is copied with COPY
// in one transaction, the row counts of every table are compared before it commits, and a copy
// that fails leaves the target as empty as it was.
//
// Not copied, because the PostgreSQL store does not keep them yet (issue 15): the patch knowledge
// (content.db; import the feeds again once it does) and the remediation and SLA read models.

import path from 'node:path';
import { existsSync } from 'node:fs';
import type SQLite from 'better-sqlite3';
import pg from 'pg';
import { findingsMigrations } from './findings-migrations.js';
import { migrationProblems } from './database.js';
import { migrations } from './migrations.js';
import { BUMP_DATA_VERSION, partitionStatements } from './postgres/findings-schema.js';
import { openPostgresStore } from './postgres/store.js';
import { copySqliteRows } from './postgres/copy-sqlite.js';
import { SqliteDatabase } from './sqlite-driver.js';

/** A table to copy: its target, and the source query (columns named as the target's). */
interface TableCopy {
  target: string;
  source: 'main' | 'findings';
  /** The source table whose rows it copies (their count is verified). */
  table: string;
  /** A query for tables whose rows need more than their own columns (a finding's tenant). */
  select?: { columns: string[]; sql: string };
}

const plain = (source: TableCopy['source'], table: string, schema = ''): TableCopy => ({ source, table, target: `${schema}${table === 'user' ? '"user"' : table}` });

/** In the order their references need. */
const TABLES: TableCopy[] = [
  ...['user', 'connection', 'setting', 'session', 'api_token', 'token_connection', 'user_connection', 'audit_event', 'content_import',
    'login_throttle', 'oidc_request', 'risk_exception', 'sync_run'].map((t) => plain('main', t)),
  ...['tenant', 'device', 'software', 'installation', 'cve', 'finding_detail', 'vulnerability', 'sync_state'].map((t) => plain('findings', t, 'vuln.')),
  {
    source: 'findings', table: 'finding', target: 'vuln.finding',
    select: {
      columns: ['tenant_ref', 'id', 'device_ref', 'software_ref', 'cve_ref', 'detail_ref', 'first_seen', 'opened_at', 'fixed_at', 'reopened'],
      sql: `SELECT d.tenant_ref, f.id, f.device_ref, f.software_ref, f.cve_ref, f.detail_ref, f.first_seen, f.opened_at, f.fixed_at, f.reopened
        FROM finding f JOIN device d ON d.ref = f.device_ref`,
    },
  },
  {
    source: 'findings', table: 'finding_event', target: 'vuln.finding_event',
    select: {
      columns: ['tenant_ref', 'finding_id', 'at', 'event', 'run_id'],
      sql: 'SELECT d.tenant_ref, e.finding_id, e.at, e.event, e.run_id FROM finding_event e JOIN finding f ON f.id = e.finding_id JOIN device d ON d.ref = f.device_ref',
    },
  },
  ...['cve_exposure', 'software_exposure', 'software_cve', 'tenant_exposure', 'exposure_day'].map((t) => plain('findings', t, 'vuln.')),
];

export interface MigrateProgress {
  table: string;
  /** Rows copied so far, of all tables. */
  copied: number;
  total: number;
}

export interface MigrationReport {
  tables: { table: string; rows: number }[];
  seconds: number;
}

export async function migrateStore({ dataDir, targetUrl, onProgress }: { dataDir: string; targetUrl: string; onProgress?: (p: MigrateProgress) => void }): Promise<MigrationReport> {
  const started = performance.now();
  const files = { main: path.join(dataDir, 'sitepatch.db'), findings: path.join(dataDir, 'findings.db') };
  for (const file of Object.values(files)) {
    if (!existsSync(file)) throw new Error(`${file} does not exist: --data-dir (or SITEPATCH_DATA_DIR) must name the embedded install to copy.`);
  }
  const sources: Record<TableCopy['source'], SQLite.Database> = {
    main: new SqliteDatabase(files.main, { readonly: true, fileMustExist: true }),
    findings: new SqliteDatabase(files.findings, { readonly: true, fileMustExist: true }),
  };
  try {
    const problems = [...migrationProblems('sitepatch.db', sources.main, migrations), ...migrationProblems('findings.db', sources.findings, findingsMigrations)];
    if (problems.length) throw new Error(`The embedded install is not this version's: ${problems.join('; ')}.`);
    // One consistent view of each file while it is read.
    for (const source of Object.values(sources)) source.exec('BEGIN');
    const counts = TABLES.map((t) => Number(sources[t.source].prepare(`SELECT count(*) FROM ${t.table === 'user' ? '"user"' : t.table}`).pluck().get()));
    const total = counts.reduce((a, b) => a + b, 0);

    // Migrated to this version first (in their own transactions: the schema stays if the copy fails).
    const store = await openPostgresStore(targetUrl, 1);
    await store.close();
    const client = new pg.Client({ connectionString: targetUrl });
    await client.connect();
    try {
      const { rows: [held] } = await client.query<{ n: number }>('SELECT (SELECT count(*) FROM "user") + (SELECT count(*) FROM connection) + (SELECT count(*) FROM vuln.tenant) AS n');
      if (Number(held.n) > 0) throw new Error('The target database already holds an install (users, connections or synced tenants): migrate-store copies into an empty database only.');
      await client.query('BEGIN');
      for (const ref of sources.findings.prepare('SELECT ref FROM tenant ORDER BY ref').pluck().all() as number[]) {
        for (const table of ['finding', 'finding_event'] as const) for (const statement of partitionStatements(table, ref)) await client.query(statement);
      }
      let copied = 0;
      const tables: MigrationReport['tables'] = [];
      for (const [i, copy] of TABLES.entries()) {
        onProgress?.({ table: copy.table, copied, total });
        const rows = await copyTable(client, sources[copy.source], copy, (n) => onProgress?.({ table: copy.table, copied: copied + n, total }));
        const [schema, name] = copy.target.includes('.') ? copy.target.split('.') : ['public', copy.target.replace(/"/g, '')];
        const { rows: [stored] } = await client.query<{ n: number }>(`SELECT count(*) AS n FROM ${schema}.${name === 'user' ? '"user"' : name}`);
        if (rows !== counts[i] || Number(stored.n) !== counts[i]) {
          throw new Error(`${copy.table}: the embedded store holds ${counts[i].toLocaleString()} rows, but ${Number(stored.n).toLocaleString()} arrived; nothing was copied.`);
        }
        copied += rows;
        tables.push({ table: copy.table, rows });
      }
      onProgress?.({ table: '', copied, total });
      // The numbering of rows the copy brought goes on after them.
      const { rows: identities } = await client.query<{ table_schema: string; table_name: string; column_name: string }>(`SELECT table_schema, table_name, column_name
        FROM information_schema.columns WHERE is_identity = 'YES' AND table_schema IN (current_schema(), 'vuln')`);
      for (const c of identities) {
        const table = `${pg.escapeIdentifier(c.table_schema)}.${pg.escapeIdentifier(c.table_name)}`;
        await client.query(`SELECT setval(pg_get_serial_sequence($1, $2), coalesce((SELECT max(${pg.escapeIdentifier(c.column_name)}) FROM ${table}), 0) + 1, false)`,
          [table, c.column_name]);
      }
      await client.query(BUMP_DATA_VERSION);
      await client.query('COMMIT');
      return { tables, seconds: (performance.now() - started) / 1000 };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      await client.end();
    }
  } finally {
    for (const source of Object.values(sources)) source.close();
  }
}

/** Copies one table's rows; answers how many it sent. */
async function copyTable(client: pg.Client, source: SQLite.Database, copy: TableCopy, onRows: (n: number) => void): Promise<number> {
  if (copy.select) return copySqliteRows(client, source, copy.select.sql, copy.select.columns, copy.target, onRows);
  // The columns both stores have (the embedded store keeps a few of its own read models on rows).
  const [schema, name] = copy.target.includes('.') ? copy.target.split('.') : [null, copy.target.replace(/"/g, '')];
  const { rows } = await client.query<{ column_name: string }>(
    'SELECT column_name FROM information_schema.columns WHERE table_schema = coalesce($1, current_schema()) AND table_name = $2', [schema, name]);
  const target = new Set(rows.map((r) => r.column_name));
  const columns = (source.prepare(`PRAGMA table_info(${pg.escapeIdentifier(copy.table)})`).all() as { name: string }[]).map((c) => c.name).filter((c) => target.has(c));
  return copySqliteRows(client, source, `SELECT ${columns.map((c) => pg.escapeIdentifier(c)).join(', ')} FROM ${pg.escapeIdentifier(copy.table)}`, columns, copy.target, onRows);
}
