// The five vendor feeds served on 127.0.0.1 from a map of path → body that a test changes as it
// goes (adds a document, breaks one, takes one away), with the console's feed settings that point
// at it. The map starts with the fixtures (test/fixtures/feeds) where each vendor serves them.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixture } from '../content/feed-fixtures.js';

export interface FeedSettings {
  msrcCvrfUrl: string;
  redHatVexUrl: string;
  ubuntuOsvUrl: string;
  nvdUrl: string;
  kevUrl: string;
}

export interface FeedServer {
  /** What each path answers, read at every request; a path not in it answers 404. */
  documents: Map<string, Buffer | string>;
  /** How long a path keeps its answer waiting (ms). */
  delays: Map<string, number>;
  /** How many more requests of a path are refused with a bare 403 (as NVD refuses a client over its rate limit). */
  refusals: Map<string, number>;
  /** The console's feed settings for this server. */
  settings: FeedSettings;
  close(): Promise<void>;
}

/**
 * Every feed from the fixtures: MSRC's March 2024 month, one Red Hat VEX document (two listings
 * read as one), one Ubuntu notice, NVD's first page as the whole answer, and the KEV catalog.
 */
function fixtureFeeds(): Map<string, Buffer | string> {
  const nvd = JSON.parse(fixture('nvd', 'cves-page-0.json').toString());
  const usn7264 = fixture('ubuntu', 'modified_id.csv').toString().split('\n').find((line) => line.includes('USN-7264-1'));
  return new Map<string, Buffer | string>([
    ['/cvrf/v3.0/updates', JSON.stringify({
      value: [{ ID: '2024-Mar', Alias: '2024-Mar', DocumentTitle: 'March 2024 Security Updates', InitialReleaseDate: '2024-03-12T07:00:00Z', CurrentReleaseDate: '2024-03-27T07:00:00Z' }],
    })],
    ['/cvrf/v3.0/cvrf/2024-Mar', fixture('msrc', '2024-Mar.json')],
    ['/vex/changes.csv', '"2024/cve-2024-5535.json","2025-01-09T10:12:40+00:00"\n'],
    ['/vex/deletions.csv', ''],
    ['/vex/2024/cve-2024-5535.json', fixture('redhat', 'cve-2024-5535.json')],
    ['/osv/Ubuntu/modified_id.csv', `${usn7264}\n`],
    ['/osv/Ubuntu/USN-7264-1.json', fixture('ubuntu', 'USN-7264-1.json')],
    // One page holding every CVE (the fixture is the first page of a longer answer).
    ['/nvd/cves/2.0', JSON.stringify({ ...nvd, totalResults: nvd.vulnerabilities.length })],
    ['/kev.json', fixture('kev', 'known_exploited_vulnerabilities.json')],
  ]);
}

export function serveFeeds(): Promise<FeedServer> {
  const documents = fixtureFeeds();
  const delays = new Map<string, number>();
  const refusals = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = req.url!.split('?')[0];
    const refuse = refusals.get(path) ?? 0;
    if (refuse > 0) {
      refusals.set(path, refuse - 1);
      return res.writeHead(403).end();
    }
    const body = documents.get(path);
    if (body === undefined) return res.writeHead(404).end('not found');
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(body), delays.get(path) ?? 0);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    resolve({
      documents, delays, refusals,
      settings: { msrcCvrfUrl: `${base}/cvrf/v3.0`, redHatVexUrl: `${base}/vex`, ubuntuOsvUrl: `${base}/osv/Ubuntu`, nvdUrl: `${base}/nvd/cves/2.0`, kevUrl: `${base}/kev.json` },
      // The console's client keeps its connections open: end them, or close waits for them.
      close: () => new Promise<void>((closed) => {
        server.close(() => closed());
        server.closeAllConnections();
      }),
    });
  }));
}
