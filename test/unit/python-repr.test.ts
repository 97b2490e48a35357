import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { literalEval } from '../../server/protocol/python/literal';
import { pyRepr, pyStr, safeStr } from '../../server/protocol/python/repr';

describe('pyRepr and pyStr', () => {
  test('repr round-trips the way Python prints values', () => {
    const cases: [string, string][] = [
      ['3.0', '3.0'],
      ['1e16', '1e+16'],
      ['1e15', '1000000000000000.0'],
      ['1e-5', '1e-05'],
      ['0.0001', '0.0001'],
      ['-0.0', '-0.0'],
      ['1.5e300', '1.5e+300'],
      ['1e400', 'inf'],
      ['0x10', '16'],
      ['1_00', '100'],
      ["{'a': [1, (2,), {3}], 'b': b'x\\'y', 'c': \"it's\", 'd': None, 'e': set()}", "{'a': [1, (2,), {3}], 'b': b\"x'y\", 'c': \"it's\", 'd': None, 'e': set()}"],
      ["'\\x00\\t\\u200b\\U0001F600\\xe9\\\\'", "'\\x00\\t\\u200b😀é\\\\'"],
      ["'both \\' and \"'", "'both \\' and \"'"],
      ['(...,)', '(Ellipsis,)'],
      ['True', 'True'],
    ];
    for (const [text, repr] of cases) assert.equal(pyRepr(literalEval(text)), repr, text);
  });

  test('pyStr is str(): strings are themselves, the rest their repr', () => {
    assert.equal(pyStr(literalEval("'high'")), 'high');
    assert.equal(pyStr(literalEval('[1, 2]')), '[1, 2]');
    assert.equal(pyStr(literalEval('None')), 'None');
    assert.equal(pyStr(literalEval('2.50')), '2.5');
  });

  test("safeStr is kombu's safe_str(): bytes decoded as UTF-8, the rest str()", () => {
    const texts: [string, string][] = [
      ["b'caf\\xc3\\xa9'", 'café'],
      ["b'\\xff'", '\ufffd'],
      ["'high'", 'high'],
      ["[b'a']", "[b'a']"],
      ['1e16', '1e+16'],
    ];
    for (const [literal, text] of texts) assert.equal(safeStr(literalEval(literal)), text, literal);
  });
});
