import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { casefold, codePointLength, hasNonAscii, isPrintable, isPySpace, pyStrip } from '../../server/protocol/python/str';

describe('Python str semantics', () => {
  test("codePointLength is Python's len(): code points, a lone surrogate counts as one", () => {
    const lengths: [string, number][] = [
      ['', 0],
      ['abc', 3],
      ['😀😀', 2],
      ['a\ud800b', 3],
      ['\udc00\ud800', 2],
    ];
    for (const [text, length] of lengths) assert.equal(codePointLength(text), length, JSON.stringify(text));
  });

  test('isPrintable is str.isprintable() of one code point', () => {
    for (const printable of [' ', 'a', 'é', '😀', '日']) assert.equal(isPrintable(printable.codePointAt(0) ?? 0), true, printable);
    for (const hidden of ['\n', '\x7f', '\u00a0', '\u200b', '\u2028', '\ud800', '\u3000']) {
      assert.equal(isPrintable(hidden.codePointAt(0) ?? 0), false, JSON.stringify(hidden));
    }
  });

  test('isPySpace and pyStrip follow str.isspace() and str.strip(), not JavaScript', () => {
    for (const space of ' \t\n\v\f\r\x1c\x1f\x85\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000') {
      assert.ok(isPySpace(space.charCodeAt(0)), JSON.stringify(space));
    }
    // U+FEFF is whitespace to JavaScript but not to Python; U+200B is neither.
    for (const other of 'a\x00\x1b\u180e\u200b\ufeff') assert.ok(!isPySpace(other.charCodeAt(0)), JSON.stringify(other));
    assert.equal(pyStrip('\u3000 a b\u00a0\n\x1c'), 'a b');
    assert.equal(pyStrip('\ufeffa\ufeff'), '\ufeffa\ufeff');
    assert.equal(pyStrip(' \t '), '');
  });

  test('casefold is str.casefold(): more than lower-casing', () => {
    const folds: [string, string][] = [
      ['ABC', 'abc'],
      ['ΣΑΣ', 'σασ'],
      ['ß', 'ss'],
      ['Straße', 'strasse'],
      ['ﬁ', 'fi'],
      ['ﬅ', 'st'],
      ['İ', 'i̇'],
      ['ſ', 's'],
      ['µ', 'μ'],
      ['ǅ', 'ǆ'],
      ['ᾈ', 'ἀι'],
      ['ᲀ', 'в'],
      // Cherokee folds to its capitals.
      ['Ꭰ', 'Ꭰ'],
      ['ꭰ', 'Ꭰ'],
    ];
    for (const [text, folded] of folds) assert.equal(casefold(text), folded, text);
    assert.ok(hasNonAscii('abcé') && !hasNonAscii('abc\x7f'));
  });
});
