// CSV cells: RFC 4180 quoting, and formulas neutralised (OWASP CSV injection).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvCell } from '../../src/server/csv.js';

describe('CSV cells', () => {
  it('quote what must be quoted and leave the rest', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
    assert.equal(csvCell('cr\rhere'), '"cr\rhere"');
    assert.equal(csvCell(null), '');
    assert.equal(csvCell(undefined), '');
    assert.equal(csvCell(9.3), '9.3');
    assert.equal(csvCell(-1), '-1', 'a number is not a formula');
    assert.equal(csvCell(false), 'false');
    assert.equal(csvCell({ a: 1 }), '"{""a"":1}"');
    assert.equal(csvCell('Zürich – ✓'), 'Zürich – ✓');
  });

  it('neutralise cells a spreadsheet would run as a formula', () => {
    for (const text of ['=1+2', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) {
      const cell = csvCell(text);
      assert.ok(cell.replace(/^"/, '').startsWith("'"), `${JSON.stringify(text)} → ${JSON.stringify(cell)}`);
    }
    assert.equal(csvCell('=HYPERLINK("http://evil.example")'), `"'=HYPERLINK(""http://evil.example"")"`);
  });
});
