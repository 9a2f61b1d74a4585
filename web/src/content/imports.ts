// Patch content imports as the console reads them: the record of an import (from the generated API
// types), the five feeds in the console's words, and what an import says about one feed.

import { api, type List } from '../api';
import type { Answer } from '../shared/exposure-types';

/**
 * `T` with every property present. The content routes' schema lists no property as required, so
 * the generated types make all of them optional, though the server always sends every one (null
 * where there is nothing). Where the schema does list them, this changes nothing.
 */
type Complete<T> = T extends (infer E)[] ? Complete<E>[] : T extends object ? { [K in keyof T]-?: Complete<Exclude<T[K], undefined>> } : T;

export type ContentImport = Complete<Answer<'/api/v1/content/imports/{id}'>>;
export type ImportSource = ContentImport['source'];
export type Feed = Exclude<ImportSource, 'all'>;
export type ImportStatus = ContentImport['status'];

export const IMPORTS_PATH = '/api/v1/content/imports';

export const FEEDS: { id: Feed; name: string; short: string; provides: string }[] = [
  { id: 'msrc', name: 'Microsoft Security Response Center', short: 'MSRC', provides: 'Security updates (KB) for Windows and the other Microsoft products, and the builds they bring.' },
  { id: 'redhat', name: 'Red Hat security data', short: 'Red Hat', provides: 'Fixed packages and advisories (RHSA) for each Red Hat Enterprise Linux release.' },
  { id: 'ubuntu', name: 'Ubuntu security notices', short: 'Ubuntu', provides: 'Fixed packages and notices (USN) for each Ubuntu release.' },
  { id: 'nvd', name: 'National Vulnerability Database', short: 'NVD', provides: 'The versions that fix third-party software, from NIST\'s analysis of each CVE.' },
  { id: 'kev', name: 'CISA Known Exploited Vulnerabilities', short: 'CISA KEV', provides: 'The CVEs exploited in the wild, and the date by which CISA asks agencies to fix them.' },
];

export function sourceLabel(source: ImportSource): string {
  return source === 'all' ? 'All feeds' : FEEDS.find((f) => f.id === source)?.short ?? source;
}

export function originLabel(i: Pick<ContentImport, 'origin' | 'actor'>): string {
  const how = i.origin === 'schedule' ? 'Scheduled' : i.origin === 'file' ? 'From a file' : 'Import now';
  return i.actor ? `${how} by ${i.actor}` : how;
}

export function isActive(i: Pick<ContentImport, 'status'>): boolean {
  return i.status === 'queued' || i.status === 'running';
}

/** Seconds from start to finish (to now while it runs), as a short text; empty before it starts. */
export function duration(i: Pick<ContentImport, 'startedAt' | 'finishedAt'>): string {
  if (!i.startedAt) return '';
  const seconds = ((i.finishedAt ? Date.parse(i.finishedAt) : Date.now()) - Date.parse(i.startedAt)) / 1000;
  return seconds < 90 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds / 60)} min`;
}

/** What one import says about one feed it covered: its status there, and the feed's own error. */
export interface FeedOutcome {
  status: ImportStatus;
  error: string | null;
}

/**
 * An import of all feeds applies each feed in its own transaction, and its error has one line per
 * feed that failed, `<feed>: <message>` (src/content/imports.ts): a feed without a line there
 * succeeded, even when the import as a whole failed.
 */
export function outcomeFor(i: ContentImport, feed: Feed): FeedOutcome {
  if (i.source !== 'all' || i.status !== 'failed') return { status: i.status, error: i.error };
  const prefix = `${feed}: `;
  const line = (i.error ?? '').split('\n').find((l) => l.startsWith(prefix));
  return line ? { status: 'failed', error: line.slice(prefix.length) } : { status: 'succeeded', error: null };
}

export interface FeedState {
  feed: Feed;
  /** The newest import that covered the feed (of it alone, or of all feeds). */
  last: ContentImport | null;
  outcome: FeedOutcome | null;
  /** The newest import that brought the feed's knowledge in: what the console knows from it now. */
  lastSucceeded: ContentImport | null;
}

const HISTORY_PAGE = 100;

/** Each feed's last import and last successful one, reading the history (newest first) only as far back as it must. */
export async function loadFeedStates(): Promise<FeedState[]> {
  const states = FEEDS.map(({ id }): FeedState => ({ feed: id, last: null, outcome: null, lastSucceeded: null }));
  const complete = () => states.every((s) => s.last && s.lastSucceeded);
  let cursor: string | null = null;
  do {
    const page: List<ContentImport> = await api('GET', `${IMPORTS_PATH}?limit=${HISTORY_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const i of page.items) {
      for (const state of states) {
        if (i.source !== state.feed && i.source !== 'all') continue;
        const outcome = outcomeFor(i, state.feed);
        if (!state.last) Object.assign(state, { last: i, outcome });
        if (!state.lastSucceeded && outcome.status === 'succeeded') state.lastSucceeded = i;
      }
    }
    cursor = page.nextCursor;
  } while (cursor && !complete());
  return states;
}
