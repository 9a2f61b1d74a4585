import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FeedFormatError } from '../../src/content/feeds/document.js';
import type { FeedName } from '../../src/content/feeds/types.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/feeds');

/** A feed document from test/fixtures/feeds/{feed}/, as bytes, the way a download arrives. */
export function fixture(feed: FeedName, name: string): Buffer {
  return readFileSync(path.join(FIXTURES, feed, name));
}

/** Asserts that `parse` refuses the document with a FeedFormatError whose message matches every pattern. */
export function assertFeedFormatError(parse: () => unknown, feed: FeedName, document: string, ...patterns: RegExp[]): void {
  assert.throws(parse, (e: unknown) => {
    assert.ok(e instanceof FeedFormatError, `expected a FeedFormatError, got ${String(e)}`);
    assert.equal(e.feed, feed);
    assert.equal(e.document, document);
    assert.ok(e.message.includes(document), e.message);
    for (const pattern of patterns) assert.match(e.message, pattern);
    return true;
  });
}
