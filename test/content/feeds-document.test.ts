import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvFields, FeedFormatError, isoTimestamp, readJsonObject } from '../../src/content/feeds/document.js';
import { parsePurl } from '../../src/content/feeds/purl.js';
import { assertFeedFormatError } from './feed-fixtures.js';

describe('Reading a feed document', () => {
  it('decodes bytes, including a view into a larger buffer, and drops a byte order mark', () => {
    const whole = Buffer.from('xx\ufeff{"a":1}yy', 'utf8');
    assert.deepEqual(readJsonObject(whole.subarray(2, whole.length - 2), 'kev', 'doc'), { a: 1 });
    assert.deepEqual(readJsonObject('\ufeff {"a":[]} \n', 'kev', 'doc'), { a: [] });
  });

  it('tells a truncated download from text that is not JSON', () => {
    for (const text of ['{"a":1', '{"a":"unterminated', '{"a":[1,2', '{"a":tru', '{"a":1,']) {
      assertFeedFormatError(() => readJsonObject(text, 'nvd', 'p'), 'nvd', 'p', /cut short/);
    }
    assertFeedFormatError(() => readJsonObject('{"a":1 "b":2}', 'nvd', 'p'), 'nvd', 'p', /is not JSON/, /nvdUrl/);
    assertFeedFormatError(() => readJsonObject('Service Unavailable', 'nvd', 'p'), 'nvd', 'p', /is not JSON/);
    assertFeedFormatError(() => readJsonObject('[1,2]', 'nvd', 'p'), 'nvd', 'p', /top level is an array/);
    assertFeedFormatError(() => readJsonObject('', 'nvd', 'p'), 'nvd', 'p', /empty/);
  });

  it('tells an error page, even one with an XML prolog, from an XML document', () => {
    assertFeedFormatError(() => readJsonObject('<?xml version="1.0"?>\n<!DOCTYPE html><html><body>Gateway Timeout</body></html>', 'kev', 'd'), 'kev', 'd', /web page \(HTML\)/);
    assertFeedFormatError(() => readJsonObject('  <?xml version="1.0"?><feed/>', 'kev', 'd'), 'kev', 'd', /XML, not JSON/, /kevUrl/);
    assert.throws(() => readJsonObject('<?xml version="1.0"?><feed/>', 'kev', 'd'), (e: unknown) => e instanceof FeedFormatError && !e.message.includes('Accept'));
  });

  it('keeps what happened and what to do apart in the error', () => {
    try {
      readJsonObject('<html><body>Bad gateway</body></html>', 'ubuntu', 'Ubuntu/USN-1-1.json');
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof FeedFormatError);
      assert.equal(e.name, 'FeedFormatError');
      assert.match(e.problem, /web page \(HTML\)/);
      assert.match(e.action, /ubuntuOsvUrl/);
      assert.equal(e.message, `Ubuntu OSV document Ubuntu/USN-1-1.json: ${e.problem}. ${e.action}`);
    }
  });
});

describe('Feed field readers', () => {
  it('reads timestamps with or without a zone as UTC', () => {
    assert.equal(isoTimestamp('2024-03-12T07:00:00'), '2024-03-12T07:00:00Z');
    assert.equal(isoTimestamp('2024-01-05T12:00:00.000'), '2024-01-05T12:00:00Z');
    assert.equal(isoTimestamp('2025-06-01T12:00:00+00:00'), '2025-06-01T12:00:00Z');
    assert.equal(isoTimestamp('2025-06-01T14:00:00+02:00'), '2025-06-01T12:00:00Z');
    assert.equal(isoTimestamp('2023-02-01T12:00:00.123456789Z'), '2023-02-01T12:00:00Z');
    assert.equal(isoTimestamp('2024-02-13'), '2024-02-13T00:00:00Z');
    assert.equal(isoTimestamp('soon'), null);
    assert.equal(isoTimestamp(null), null);
  });

  it('splits CSV lines with quotes and escaped quotes', () => {
    assert.deepEqual(csvFields('"2024/cve-2024-3094.json","2025-06-01T12:00:00+00:00"'), ['2024/cve-2024-3094.json', '2025-06-01T12:00:00+00:00']);
    assert.deepEqual(csvFields('2025-02-11T15:21:08Z,USN-7264-1'), ['2025-02-11T15:21:08Z', 'USN-7264-1']);
    assert.deepEqual(csvFields('"a ""quoted"" value",b,'), ['a "quoted" value', 'b', '']);
    assert.equal(csvFields('"unterminated,b'), null);
    assert.equal(csvFields('"a"b'), null);
  });

  it('reads package URLs', () => {
    assert.deepEqual(parsePurl('pkg:rpm/redhat/nodejs@20.16.0-1.module%2Bel8.10.0?arch=x86_64&epoch=1&rpmmod=nodejs:20:8100020240807161023:a75119d5'), {
      type: 'rpm', namespace: 'redhat', name: 'nodejs', version: '20.16.0-1.module+el8.10.0',
      qualifiers: { arch: 'x86_64', epoch: '1', rpmmod: 'nodejs:20:8100020240807161023:a75119d5' },
    });
    assert.deepEqual(parsePurl('pkg:rpm/redhat/openssl'), { type: 'rpm', namespace: 'redhat', name: 'openssl', version: null, qualifiers: {} });
    assert.equal(parsePurl('pkg:oci/ose-console-rhel9@sha256:fb32?arch=amd64&tag=v4.16.0')?.version, 'sha256:fb32');
    assert.equal(parsePurl('openssl-1.0'), null);
  });
});
