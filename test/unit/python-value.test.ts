import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { literalEval, parsePythonLiteral } from '../../server/protocol/python/literal';
import { decodePyBytes, isSafeBigInt, normalisePyValue } from '../../server/protocol/python/value';

describe('normalisePyValue', () => {
  const same = (a: string, b: string): void => assert.equal(normalisePyValue(parsePythonLiteral(a)), normalisePyValue(parsePythonLiteral(b)), `${a} == ${b}`);
  const different = (a: string, b: string): void => assert.notEqual(normalisePyValue(parsePythonLiteral(a)), normalisePyValue(parsePythonLiteral(b)), `${a} != ${b}`);

  test('follows Python equality', () => {
    same('3', '3.0');
    same('1', 'True');
    same('0', 'False');
    same('0', '-0.0');
    same("'a'", '"a"');
    same("'a'", "u'a'");
    same('1e20', '100000000000000000000');
    same('0x10', '16');
    same('{1, 2}', '{2, 1}');
    same("{'a': 1, 'b': 2}", "{'b': 2, 'a': 1.0}");
    same('[1, (2, 3)]', '[1.0, (2, 3)]');
    different("'1'", '1');
    different("b'a'", "'a'");
    different('(1, 2)', '[1, 2]');
    different('None', 'False');
    different('set()', '{}');
    different('[1, 2]', '[2, 1]');
    different('1.5', '1');
    assert.equal(normalisePyValue(literalEval('3.0')), normalisePyValue(3));
  });
});

describe('decodePyBytes and isSafeBigInt', () => {
  test('bytes (one char per byte) decode as UTF-8, invalid sequences as U+FFFD', () => {
    const decoded: [string, string][] = [
      ['caf\xc3\xa9', 'café'],
      ['\xff a', '\ufffd a'],
      ['', ''],
    ];
    for (const [bytes, text] of decoded) assert.equal(decodePyBytes(bytes), text, JSON.stringify(bytes));
  });

  test('an int is a safe JS number exactly within ±(2**53 - 1)', () => {
    for (const safe of [0n, 9007199254740991n, -9007199254740991n]) assert.ok(isSafeBigInt(safe), String(safe));
    for (const unsafe of [9007199254740992n, -9007199254740992n, 10n ** 30n]) assert.ok(!isSafeBigInt(unsafe), String(unsafe));
  });
});
