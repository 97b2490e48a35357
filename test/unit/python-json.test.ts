import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pyValueToJson } from '../../server/protocol/python/json';
import { literalEval, parsePythonLiteral } from '../../server/protocol/python/literal';

describe('pyValueToJson', () => {
  test('converts every kind of value', () => {
    assert.deepEqual(pyValueToJson(parsePythonLiteral("([1, (2,)], {'a': {1, 2}}, b'caf\\xc3\\xa9', None, True, 1.5)")), [[1, [2]], { a: [1, 2] }, 'café', null, true, 1.5]);
    assert.deepEqual(pyValueToJson(parsePythonLiteral("{1: 'a', None: 'b', True: 'c', 1.5: 'd', (1, 2): 'e', b'k': 'f'}")), {
      1: 'c',
      null: 'b',
      '1.5': 'd',
      '(1, 2)': 'e',
      k: 'f',
    });
    assert.equal(pyValueToJson(parsePythonLiteral('123456789012345678901234567890')), '123456789012345678901234567890');
    assert.equal(pyValueToJson(9007199254740991n), 9007199254740991);
    assert.deepEqual(pyValueToJson(literalEval('(3.0, ...)')), [3, 'Ellipsis']);
    assert.equal(pyValueToJson({ kind: 'bytes', value: '\xff' }), '\ufffd');
  });

  test("a '__proto__' key stays an ordinary key", () => {
    const json = pyValueToJson(parsePythonLiteral("{'__proto__': {'polluted': 1}}")) as Record<string, unknown>;
    assert.ok(Object.hasOwn(json, '__proto__'));
    assert.equal(Object.getPrototypeOf(json), Object.prototype);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(JSON.stringify(json), '{"__proto__":{"polluted":1}}');
  });
});
