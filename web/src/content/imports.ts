// Patch content imports as the console reads them: the record of an import and each feed's state
// (from the generated API types), and the five feeds in the console's words.

import type { Answer } from '../shared/exposure-types';

export type ContentImport = Answer<'/api/v1/content/imports/{id}'>;
export type ImportSource = ContentImport['source'];
export type Feed = Exclude<ImportSource, 'all'>;
export type ImportStatus = ContentImport['status'];
/** What one import did for one feed it covered (an import of all feeds applies each feed apart). */
export type FeedOutcome = ContentImport['feeds'][number];
/** A record an import did not understand: where it was, and why. */
export type SkippedRecord = NonNullable<ContentImport['skipped']['first']>[number];

export type FeedStates = Answer<'/api/v1/content/feeds'>;
/** A feed's address, its last import, and the last one that succeeded: what the console knows from it now. */
export type FeedState = FeedStates['items'][number];

export const IMPORTS_PATH = '/api/v1/content/imports';
export const FEEDS_PATH = '/api/v1/content/feeds';

export interface FeedDescription {
  id: Feed;
  name: string;
  short: string;
  /** What SitePatch learns from the feed. */
  provides: string;
}

export const FEEDS: FeedDescription[] = [
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
