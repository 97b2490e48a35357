/**
 * saferepr against `celery.utils.saferepr` output captured from Celery 5.2.6: task arguments as a
 * worker decodes them from JSON (jsonToPython), the args rendered as a tuple and the kwargs as a
 * dict, cut at Celery's argsrepr/kwargsrepr size, as in a task message's `argsrepr`/`kwargsrepr`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonValue } from '../../server/protocol/events';
import { jsonToPython, saferepr } from '../../server/protocol/python/saferepr';

/** Celery's `AMQP.argsrepr_maxsize`/`kwargsrepr_maxsize`, with which the outputs were captured. */
const CAPTURE_MAXSIZE = 1024;

describe('saferepr: exactly celery.utils.saferepr (outputs captured from Celery 5.2.6)', () => {
  const reprs = (args: JsonValue[], kwargs: Record<string, JsonValue>): [string, string] => [
    saferepr({ kind: 'tuple', items: args.map((arg) => jsonToPython(arg)) }, CAPTURE_MAXSIZE),
    saferepr(jsonToPython(kwargs), CAPTURE_MAXSIZE),
  ];

  it('cuts nesting at three levels with [...]/{...}', () => {
    assert.deepEqual(reprs([{ a: [1, [2, [3, [4]]]], b: { c: { d: { e: 1 } } } }, [[[[]]]]], { deep: { x: [[1]] } }), [
      "({'a': [1, [...]], 'b': {'c': {...}}}, [[[...]]])",
      "{'deep': {'x': [[...]]}}",
    ]);
  });

  it("single-quotes every string and escapes only ' (not repr(): no \\n, \\\\ or \\u escapes)", () => {
    assert.deepEqual(reprs(["O'Brien", 'say "hi"', 'it\'s "x"', 'back\\slash', 'line\nbreak\ttab'], { "it's": "O'Brien" }), [
      "('O\\'Brien', 'say \"hi\"', 'it\\'s \"x\"', 'back\\slash', 'line\nbreak\ttab')",
      "{'it\\'s': 'O\\'Brien'}",
    ]);
  });

  it('keeps unicode as is', () => {
    assert.deepEqual(reprs(['ünï 😀', '日本語', '\u2028'], { clé: 'värde 😀' }), ["('ünï 😀', '日本語', '\u2028')", "{'clé': 'värde 😀'}"]);
  });

  it('renders scalars as the worker will decode them: ints, floats, True/False/None', () => {
    assert.deepEqual(reprs([true, false, null, 1.5, 0.1, 1e300, -7, 0, 1e-5, 2 ** 53 - 1], { t: true, n: null }), [
      '(True, False, None, 1.5, 0.1, 1e+300, -7, 0, 1e-05, 9007199254740991)',
      "{'t': True, 'n': None}",
    ]);
    // Beyond 2**53 a JS number is sent as JSON.stringify prints it — integer digits, so the worker
    // decodes an int — and the repr shows that int (Python, given 2**60 itself, would show
    // 1152921504606846976 and 1e+16 for the float 1e16).
    assert.deepEqual(reprs([2 ** 60, 1e16], {}), ['(1152921504606847000, 10000000000000000)', '{}']);
    // JSON has no float/int distinction once parsed in JS: 123.0 arrives as 123 and is sent as 123.
    assert.deepEqual(reprs([123.0, -0], {}), ['(123, 0)', '{}']);
  });

  it('truncates a long string back to a space and drops the closing bracket, as saferepr does', () => {
    assert.deepEqual(reprs(['word '.repeat(300)], { k: 'x'.repeat(1100) }), ["('" + 'word '.repeat(203) + "word...', ...", "{'k': '" + 'x'.repeat(1018) + "...', ..."]);
  });

  it('truncates long containers with ", ..." and closes the brackets still open', () => {
    const kwargs: Record<string, JsonValue> = {};
    for (let i = 0; i < 200; i++) kwargs[`k${i}`] = i;
    assert.deepEqual(reprs([Array.from({ length: 400 }, (_, i) => i)], kwargs), [
      '([' + Array.from({ length: 226 }, (_, i) => i).join(', ') + ', 22..., ...],)',
      '{' + Array.from({ length: 94 }, (_, i) => `'k${i}': ${i}`).join(', ') + ", 'k94': 94..., ...}",
    ]);
  });

  it('counts length in code points, like Python', () => {
    // 1100 astral characters: 2200 UTF-16 units but 1100 Python characters.
    const [argsrepr] = reprs(['😀'.repeat(1100)], {});
    assert.equal(argsrepr, "('" + '😀'.repeat(1023) + "...', ...");
  });

  it('never walks into containers nested past the depth limit (hostile nesting costs nothing)', () => {
    let deep: JsonValue = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.deepEqual(reprs([deep], { deep }), ['([[[...]]],)', "{'deep': [[[...]]]}"]);
  });

  it('saferepr handles the other Python values Celery might render', () => {
    assert.equal(saferepr({ kind: 'set', items: [] }), 'set()');
    assert.equal(saferepr({ kind: 'set', items: [1, 2] }), '{1, 2}');
    assert.equal(
      saferepr({
        kind: 'tuple',
        items: [
          { kind: 'bytes', value: 'ab' },
          { kind: 'bytes', value: '\xff\x00' },
        ],
      }),
      "(b'ab', b'ff00')",
    );
    assert.equal(saferepr({ kind: 'tuple', items: [12345] }, 3), '(12..., ...');
    assert.equal(saferepr({ kind: 'tuple', items: ['a b c d e f'] }, 8), "('a b c...', ...");
  });
});
