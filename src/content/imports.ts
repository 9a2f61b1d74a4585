// Patch content imports: from the vendors' feeds (on a schedule, or now), or from a file for sites
// without internet. One import runs at a time. Each source is applied in one transaction of
// content.db: a feed that is unreachable, truncated or malformed rolls back, and the knowledge of
// the previous import stays. Every import leaves a record (sitepatch.db: content_import) with its
// progress while it runs, its counts, what it skipped and why, and its error.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Kysely, Selectable } from 'kysely';
import type { Dispatcher } from 'undici';
import type SQLite from 'better-sqlite3';
import type { ContentImportTable, Database } from '../store/schema.js';
import { readJsonObject } from './feeds/document.js';
import { parseKev } from './feeds/kev.js';
import { parseMsrcCvrf } from './feeds/msrc-cvrf.js';
import { parseNvdPage } from './feeds/nvd.js';
import { parseRedHatVex } from './feeds/redhat-vex.js';
import type { FeedName, Skipped } from './feeds/types.js';
import { parseUbuntuOsv } from './feeds/ubuntu-osv.js';
import { fetchDocument } from './fetch.js';
import type { FeedUrls, ImportContext } from './importers/context.js';
import { applyKev, importKev } from './importers/kev.js';
import { applyMsrcDocument, importMsrc } from './importers/msrc.js';
import { applyNvdPage, importNvd } from './importers/nvd.js';
import { applyRedHatDocument, importRedHat } from './importers/redhat.js';
import { applyUbuntuRecord, importUbuntu } from './importers/ubuntu.js';

export const FEEDS: readonly FeedName[] = ['kev', 'msrc', 'redhat', 'ubuntu', 'nvd'];
export type ImportSource = FeedName | 'all';

const IMPORTERS: Record<FeedName, (ctx: ImportContext) => Promise<void>> = {
  msrc: importMsrc, redhat: importRedHat, ubuntu: importUbuntu, nvd: importNvd, kev: importKev,
};

/** The setting that names each feed's address (for messages). */
export const FEED_SETTINGS: Record<FeedName, keyof FeedUrls> = {
  msrc: 'msrcCvrfUrl', redhat: 'redHatVexUrl', ubuntu: 'ubuntuOsvUrl', nvd: 'nvdUrl', kev: 'kevUrl',
};

const SKIPPED_KEPT = 200;
const PROGRESS_EVERY_MS = 500;

export interface ContentImportView {
  importId: string;
  source: ContentImportTable['source'];
  origin: string;
  actor: string | null;
  status: ContentImportTable['status'];
  phase: string;
  progress: { done: number; total: number | null };
  documents: number;
  records: number;
  skipped: { count: number; first: Skipped[] };
  /** Each feed the import covered, with its own outcome (an import of all feeds applies each apart). */
  feeds: FeedOutcome[];
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface FeedOutcome {
  feed: FeedName;
  status: 'succeeded' | 'failed';
  error: string | null;
  finishedAt: string;
  documents: number;
  records: number;
  skipped: number;
}

/** A feed's address, its last import and the last one that succeeded (what the knowledge holds from it now). */
export interface FeedState {
  feed: FeedName;
  url: string;
  lastImport: { importId: string; status: ContentImportTable['status']; finishedAt: string | null; error: string | null } | null;
  lastSuccess: { importId: string; finishedAt: string; documents: number; records: number; skipped: number } | null;
}

function view(r: Selectable<ContentImportTable>): ContentImportView {
  return {
    importId: r.id, source: r.source, origin: r.origin, actor: r.actor, status: r.status, phase: r.phase, progress: { done: r.done, total: r.total },
    documents: r.documents, records: r.records, skipped: { count: r.skipped, first: JSON.parse(r.skipped_sample) as Skipped[] },
    feeds: JSON.parse(r.feeds) as FeedOutcome[], error: r.error,
    createdAt: r.created_at, startedAt: r.started_at, finishedAt: r.finished_at,
  };
}

export interface ContentServiceDeps {
  /** The control plane (each import's record) and content.db's writer (the knowledge's tables). */
  store: { db: Kysely<Database>; content: SQLite.Database };
  /** A PostgreSQL install: runs an import alone across the install and publishes it (store/postgres/content-replica.ts). */
  exclusively?: (work: () => Promise<void>) => Promise<void>;
  dispatcher: Dispatcher;
  urls: FeedUrls;
  nvdApiKey?: string;
  timeScale?: number;
  /** Called after an import that changed the knowledge (remediations are mapped again). */
  onImported?: () => void;
}

/** A running import's tally, written to its record now and then and at the end. */
class Tally {
  documents = 0;
  records = 0;
  skipped = 0;
  sample: Skipped[] = [];
  phase = 'starting';
  done = 0;
  total: number | null = null;
  feeds: FeedOutcome[] = [];

  count(records: number, skipped: Skipped[]): void {
    this.documents++;
    this.records += records;
    this.skipped += skipped.length;
    for (const s of skipped) if (this.sample.length < SKIPPED_KEPT) this.sample.push(s);
  }

  /** Runs one feed's import and notes its outcome, with the counts it added. */
  async feed(feed: FeedName, work: () => Promise<void>): Promise<void> {
    const before = { documents: this.documents, records: this.records, skipped: this.skipped };
    let error: string | null = null;
    try {
      await work();
    } catch (e) {
      error = (e as Error).message;
    }
    this.feeds.push({
      feed, status: error ? 'failed' : 'succeeded', error, finishedAt: new Date().toISOString(),
      documents: this.documents - before.documents, records: this.records - before.records, skipped: this.skipped - before.skipped,
    });
  }

  row() {
    return {
      documents: this.documents, records: this.records, skipped: this.skipped, skipped_sample: JSON.stringify(this.sample), feeds: JSON.stringify(this.feeds),
      phase: this.phase, done: this.done, total: this.total,
    };
  }
}

export function createContentService(deps: ContentServiceDeps) {
  const { store } = deps;
  const db: Kysely<Database> = store.db;
  const content = store.content;
  let queue: Promise<void> = Promise.resolve();
  const now = () => new Date().toISOString();
  const aborts = new AbortController();
  let timer: NodeJS.Timeout | undefined;

  /** Runs `work` in one transaction of content.db: all of it is applied, or none. */
  async function inTransaction(work: () => Promise<void>): Promise<void> {
    const apply = async () => {
      content.exec('BEGIN IMMEDIATE');
      try {
        await work();
        content.exec('COMMIT');
      } catch (error) {
        if (content.inTransaction) content.exec('ROLLBACK');
        throw error;
      }
    };
    await (deps.exclusively ? deps.exclusively(apply) : apply());
  }

  async function record(id: string, tally: Tally, final?: { status: 'succeeded' | 'failed'; error?: string }): Promise<void> {
    await db.updateTable('content_import').set({ ...tally.row(), ...(final ? { status: final.status, error: final.error ?? null, finished_at: now() } : {}) })
      .where('id', '=', id).execute();
  }

  async function runFeeds(id: string, feeds: readonly FeedName[]): Promise<void> {
    await db.updateTable('content_import').set({ status: 'running', phase: 'starting', started_at: now() }).where('id', '=', id).execute();
    const tally = new Tally();
    let lastWrite = 0;
    for (const feed of feeds) {
      const ctx: ImportContext = {
        content, urls: deps.urls, nvdApiKey: deps.nvdApiKey, timeScale: deps.timeScale ?? 1, signal: aborts.signal,
        fetch: (url, headers) => fetchDocument(url, { dispatcher: deps.dispatcher, feed, setting: FEED_SETTINGS[feed], headers, timeScale: deps.timeScale, signal: aborts.signal }),
        progress: (phase, done, total) => {
          Object.assign(tally, { phase: feeds.length > 1 ? `${feed}: ${phase}` : phase, done, total });
          if (Date.now() - lastWrite > PROGRESS_EVERY_MS) {
            lastWrite = Date.now();
            void record(id, tally);
          }
        },
        counted: (records, skipped) => tally.count(records, skipped),
      };
      await tally.feed(feed, () => inTransaction(() => IMPORTERS[feed](ctx)));
    }
    tally.phase = 'done';
    const failed = tally.feeds.filter((f) => f.error);
    if (failed.length < tally.feeds.length) deps.onImported?.();
    await record(id, tally, failed.length
      ? { status: 'failed', error: failed.map((f) => (feeds.length > 1 ? `${f.feed}: ${f.error}` : f.error)).join('\n') } : { status: 'succeeded' });
  }

  async function create(source: ContentImportTable['source'], origin: string, actor: string | null): Promise<string> {
    const id = randomUUID();
    await db.insertInto('content_import').values({
      id, source, origin, actor, status: 'queued', phase: 'queued', done: 0, total: null, documents: 0, records: 0, skipped: 0,
      skipped_sample: '[]', feeds: '[]', error: null, created_at: now(), started_at: null, finished_at: null,
    }).execute();
    return id;
  }

  /** Queues `work` after the imports before it; settles when it has run. */
  function enqueue(work: () => Promise<void>): Promise<void> {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  }

  return {
    /** Starts an import from the feeds (one, or all of them in turn); answers its id at once. */
    async start(source: ImportSource, origin: 'manual' | 'schedule', actor: string | null): Promise<{ importId: string; finished: Promise<void> }> {
      const id = await create(source, origin, actor);
      const finished = enqueue(() => runFeeds(id, source === 'all' ? FEEDS : [source]));
      return { importId: id, finished };
    },

    /**
     * Imports one downloaded feed document (a CVRF month, a VEX or OSV document, an NVD page, the
     * KEV catalog), recognised by its content. Answers the import's record once it has run.
     */
    async importFile(file: string, actor: string | null): Promise<ContentImportView> {
      const text = readFileSync(file);
      const name = path.basename(file);
      const { feed, apply } = recognise(text, name);
      const id = await create(feed, 'file', actor);
      await enqueue(async () => {
        await db.updateTable('content_import').set({ status: 'running', phase: name, started_at: now() }).where('id', '=', id).execute();
        const tally = new Tally();
        await tally.feed(feed, () => inTransaction(async () => {
          const { records, skipped } = apply(content);
          tally.count(records, skipped);
        }));
        const [outcome] = tally.feeds;
        if (!outcome.error) deps.onImported?.();
        await record(id, tally, outcome.error ? { status: 'failed', error: outcome.error } : { status: 'succeeded' });
      });
      return (await this.get(id))!;
    },

    /** Each feed: its address, its last import and its last successful one. */
    async feeds(): Promise<FeedState[]> {
      const states = new Map<FeedName, FeedState>(FEEDS.map((feed) => [feed, { feed, url: deps.urls[FEED_SETTINGS[feed]], lastImport: null, lastSuccess: null }]));
      const pending = () => [...states.values()].some((s) => !s.lastImport || !s.lastSuccess);
      // Newest first, until every feed has both (a page at a time: the history can be long).
      for (let offset = 0; pending(); offset += 200) {
        const rows = await db.selectFrom('content_import').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(200).offset(offset).execute();
        for (const row of rows) {
          const outcomes = JSON.parse(row.feeds) as FeedOutcome[];
          const covered = row.source === 'all' ? FEEDS : [row.source as FeedName];
          for (const feed of covered) {
            const state = states.get(feed)!;
            const outcome = outcomes.find((o) => o.feed === feed);
            state.lastImport ??= { importId: row.id, status: outcome?.status ?? row.status, finishedAt: outcome?.finishedAt ?? row.finished_at, error: outcome ? outcome.error : row.error };
            if (!state.lastSuccess && outcome?.status === 'succeeded') {
              state.lastSuccess = { importId: row.id, finishedAt: outcome.finishedAt, documents: outcome.documents, records: outcome.records, skipped: outcome.skipped };
            }
          }
        }
        if (rows.length < 200) break;
      }
      return [...states.values()];
    },

    async get(id: string): Promise<ContentImportView | undefined> {
      const row = await db.selectFrom('content_import').selectAll().where('id', '=', id).executeTakeFirst();
      return row && view(row);
    },

    /** The newest imports first, `limit` at a time after `cursor` (an import id). */
    async list(limit: number, cursor?: string): Promise<{ items: ContentImportView[]; total: number; nextCursor: string | null }> {
      let query = db.selectFrom('content_import').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1);
      if (cursor) {
        const at = await db.selectFrom('content_import').select(['created_at', 'id']).where('id', '=', cursor).executeTakeFirst();
        if (at) query = query.where((eb) => eb.or([eb('created_at', '<', at.created_at), eb.and([eb('created_at', '=', at.created_at), eb('id', '<', at.id)])]));
      }
      const rows = await query.execute();
      const { n } = await db.selectFrom('content_import').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const items = rows.slice(0, limit).map(view);
      return { items, total: Number(n), nextCursor: rows.length > limit ? items[items.length - 1].importId : null };
    },

    /**
     * Imports every feed every `hours`: at once when the last scheduled or manual import of them
     * all is older than that (or there is none), then on the interval.
     */
    async schedule(hours: number): Promise<void> {
      if (!(hours > 0)) return;
      const every = hours * 3600_000;
      const lastImport = async () => (await db.selectFrom('content_import').select((eb) => eb.fn.max('created_at').as('at'))
        .where('source', '=', 'all').where('origin', '!=', 'file').executeTakeFirst())?.at;
      const last = await lastImport();
      if (!last || Date.now() - Date.parse(last) >= every) void this.start('all', 'schedule', null);
      // Unless another process of the install (PostgreSQL) imported them all since.
      const due = async () => {
        const latest = await lastImport();
        if (!latest || Date.now() - Date.parse(latest) >= every * 0.9) await this.start('all', 'schedule', null);
      };
      timer = setInterval(() => void due().catch(() => undefined), every);
      timer.unref();
    },

    /** Stops the schedule and waits for the running import to stop (it is abandoned and rolled back). */
    async close(): Promise<void> {
      if (timer) clearInterval(timer);
      aborts.abort();
      await queue;
    },
  };
}

export type ContentService = ReturnType<typeof createContentService>;

/** Which feed a downloaded document belongs to, by its content, and how to apply it. */
function recognise(text: Buffer, name: string): { feed: FeedName; apply: (db: SQLite.Database) => { records: number; skipped: Skipped[] } } {
  let root: Record<string, unknown>;
  try {
    root = readJsonObject(text, 'kev', name);
  } catch {
    throw new Error(`${name} is not a feed document SitePatch reads: expected JSON (an MSRC CVRF month, a Red Hat CSAF VEX document, an Ubuntu OSV record, an NVD CVE API page or the CISA KEV catalog).`);
  }
  const document = root.document as { category?: unknown } | undefined;
  if ('DocumentTracking' in root) {
    const parsed = parseMsrcCvrf(text, name);
    return { feed: 'msrc', apply: (db) => ({ records: applyMsrcDocument(db, parsed), skipped: parsed.skipped }) };
  }
  if ('catalogVersion' in root && Array.isArray(root.vulnerabilities)) {
    const parsed = parseKev(text, name);
    return { feed: 'kev', apply: (db) => ({ records: applyKev(db, parsed), skipped: parsed.skipped }) };
  }
  if (root.format === 'NVD_CVE') {
    const parsed = parseNvdPage(text, name);
    return { feed: 'nvd', apply: (db) => ({ records: applyNvdPage(db, parsed), skipped: parsed.skipped }) };
  }
  if (document && typeof document.category === 'string' && document.category.startsWith('csaf')) {
    const parsed = parseRedHatVex(text, name);
    return { feed: 'redhat', apply: (db) => ({ records: applyRedHatDocument(db, parsed), skipped: parsed.skipped }) };
  }
  if (typeof root.id === 'string' && Array.isArray(root.affected)) {
    const parsed = parseUbuntuOsv(text, name);
    return { feed: 'ubuntu', apply: (db) => ({ records: applyUbuntuRecord(db, parsed), skipped: parsed.skipped }) };
  }
  throw new Error(`${name} is JSON, but not a feed document SitePatch reads (an MSRC CVRF month, a Red Hat CSAF VEX document, an Ubuntu OSV record, an NVD CVE API page or the CISA KEV catalog).`);
}
