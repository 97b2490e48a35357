import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { codePointLength, isPrintable } from '../../server/protocol/python/str';

describe('Python str semantics', () => {
  test("codePointLength is Python's len(): code points, a lone surrogate counts as one", () => {
    assert.equal(codePointLength(''), 0);
    assert.equal(codePointLength('abc'), 3);
    assert.equal(codePointLength('😀😀'), 2);
    assert.equal(codePointLength('a\ud800b'), 3);
    assert.equal(codePointLength('\udc00\ud800'), 2);
  });

  test('isPrintable is str.isprintable() of one code point', () => {
    for (const printable of [' ', 'a', 'é', '😀', '日']) assert.equal(isPrintable(printable.codePointAt(0) ?? 0), true, printable);
    for (const hidden of ['\n', '\x7f', '\u00a0', '\u200b', '\u2028', '\ud800', '\u3000']) {
      assert.equal(isPrintable(hidden.codePointAt(0) ?? 0), false, JSON.stringify(hidden));
    }
  });
});
