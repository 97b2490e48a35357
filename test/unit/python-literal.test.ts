import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { literalEval, MAX_LITERAL_DEPTH, parsePythonLiteral, PythonLiteralError, tryParsePythonLiteral, type PythonLiteralErrorReason } from '../../server/protocol/python/literal';
import type { PyValue } from '../../server/protocol/python/value';

function tuple(...items: PyValue[]): PyValue {
  return { kind: 'tuple', items };
}
function set(...items: PyValue[]): PyValue {
  return { kind: 'set', items };
}
function dict(...entries: [PyValue, PyValue][]): PyValue {
  return { kind: 'dict', entries };
}
function bytes(value: string): PyValue {
  return { kind: 'bytes', value };
}

function parses(text: string, expected: PyValue): void {
  assert.deepEqual(parsePythonLiteral(text), expected, `parsing ${JSON.stringify(text)}`);
}

function refuses(text: string, reason: PythonLiteralErrorReason, message?: RegExp): PythonLiteralError {
  let caught: unknown;
  try {
    parsePythonLiteral(text);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof PythonLiteralError, `expected PythonLiteralError for ${JSON.stringify(text.slice(0, 80))}, got ${String(caught)}`);
  assert.equal(caught.reason, reason, `reason for ${JSON.stringify(text.slice(0, 80))}: ${caught.message}`);
  if (message) assert.match(caught.message, message);
  return caught;
}

/** Each text is refused for `reason`; one given with a pattern also with a message that matches it. */
function refusesEach(reason: PythonLiteralErrorReason, texts: readonly (string | readonly [string, RegExp])[]): void {
  for (const text of texts) {
    if (typeof text === 'string') refuses(text, reason);
    else refuses(text[0], reason, text[1]);
  }
}

describe('parsePythonLiteral: scalars', () => {
  test('ints', () => {
    parses('0', 0);
    parses('42', 42);
    parses('-7', -7);
    parses('+7', 7);
    parses('- 7', -7);
    parses('1_000_000', 1000000);
    parses('0x1F', 31);
    parses('0X_ff', 255);
    parses('0o17', 15);
    parses('0b1_01', 5);
    parses('00', 0);
    parses('0_0', 0);
    parses('-0', 0);
    assert.ok(Object.is(parsePythonLiteral('-0'), 0), 'int -0 is 0, not -0');
  });

  test('ints beyond the safe range become bigint', () => {
    parses('9007199254740991', Number.MAX_SAFE_INTEGER);
    parses('9007199254740992', 9007199254740992n);
    parses('-9007199254740992', -9007199254740992n);
    parses('123456789012345678901234567890', 123456789012345678901234567890n);
    parses('0xffffffffffffffffff', 0xffffffffffffffffffn);
  });

  test('floats', () => {
    parses('1.5', 1.5);
    parses('-2.25', -2.25);
    parses('.5', 0.5);
    parses('5.', 5);
    parses('1e3', 1000);
    parses('1E+3', 1000);
    parses('2.5e-3', 0.0025);
    parses('1.e2', 100);
    parses('1_0.0_1', 10.01);
    parses('012.5', 12.5);
    parses('1e400', Infinity);
    parses('-1e400', -Infinity);
    assert.ok(Object.is(parsePythonLiteral('-0.0'), -0));
  });

  test('True, False, None', () => {
    parses('True', true);
    parses('False', false);
    parses('None', null);
  });

  test('strings with every quote style', () => {
    parses("'abc'", 'abc');
    parses('"abc"', 'abc');
    parses("'''a\nb'''", 'a\nb');
    parses('"""a\n"b"\n"""', 'a\n"b"\n');
    parses("''", '');
    parses("''''''", '');
    parses('"O\'Brien"', "O'Brien");
    parses('\'say "hi"\'', 'say "hi"');
    parses("'''a\r\nb'''", 'a\nb');
  });

  test('string escapes', () => {
    parses("'a\\nb\\tc\\\\d\\'e\\\"f'", 'a\nb\tc\\d\'e"f');
    parses("'\\a\\b\\f\\r\\v'", '\x07\b\f\r\v');
    parses("'\\x41\\x7e'", 'A~');
    parses("'\\u00e9\\u20AC'", 'é€');
    parses("'\\U0001F600'", '😀');
    parses("'\\101\\0\\777'", 'A\0\u01ff');
    parses("'\\d\\q'", '\\d\\q');
    parses("'a\\\nb'", 'ab');
    parses("'\\ud800'", '\ud800');
    parses("'é 😀 ☃'", 'é 😀 ☃');
  });

  test('string prefixes and implicit concatenation', () => {
    parses("u'x'", 'x');
    parses("U'x'", 'x');
    parses("r'\\n\\d'", '\\n\\d');
    parses("R'\\''", "\\'");
    parses("'a' 'b'", 'ab');
    parses("'a' \"b\" '''c''' r'\\d'", 'abc\\d');
    parses("('a'\n 'b')", 'ab');
  });

  test('bytes are tagged values holding one char per byte', () => {
    parses("b'abc'", bytes('abc'));
    parses("b'\\x00\\xff\\n'", bytes('\x00\xff\n'));
    parses("B'\\u1234'", bytes('\\u1234'));
    parses("rb'\\x00'", bytes('\\x00'));
    parses("Br'a'", bytes('a'));
    parses("b'a' b'b'", bytes('ab'));
    parses("b'\\777'", bytes('\xff'));
    refuses("b'é'", 'syntax', /ASCII/);
    refuses("'a' b'b'", 'syntax', /mix bytes/);
  });
});

describe('parsePythonLiteral: containers', () => {
  test('tuples', () => {
    parses('()', tuple());
    parses('(1,)', tuple(1));
    parses('(1, 2)', tuple(1, 2));
    parses('(1, 2,)', tuple(1, 2));
    parses('( 1 , )', tuple(1));
    parses('(2, 3)', tuple(2, 3));
    parses('1, 2', tuple(1, 2));
    parses('1,', tuple(1));
    parses('(1)', 1);
    parses('((1,))', tuple(1));
    parses('-(1)', -1);
  });

  test('lists', () => {
    parses('[]', []);
    parses('[1]', [1]);
    parses('[1, 2.5, None, True, (1,)]', [1, 2.5, null, true, tuple(1)]);
    parses('[1,]', [1]);
    parses('[\n  1,\n  2,  # comment\n]', [1, 2]);
    parses('[[]]', [[]]);
  });

  test('dicts', () => {
    parses('{}', dict());
    parses("{'y': 3, 'name': \"O'Brien\"}", dict(['y', 3], ['name', "O'Brien"]));
    parses('{1: 2,}', dict([1, 2]));
    parses("{(1, 'a'): [None]}", dict([tuple(1, 'a'), [null]]));
    parses("{'a': {'b': {'c': ()}}}", dict(['a', dict(['b', dict(['c', tuple()])])]));
  });

  test('dict keys follow Python equality: first key kept, last value wins', () => {
    parses("{1: 'a', True: 'b', 1.0: 'c'}", dict([1, 'c']));
    parses("{'a': 1, \"a\": 2, 'b': 3}", dict(['a', 2], ['b', 3]));
  });

  test('sets', () => {
    parses('{1, 2}', set(1, 2));
    parses('{1,}', set(1));
    parses('{1, True, 1.0, 2}', set(1, 2));
    parses('set()', set());
    parses('set ( )', set());
    parses("{'a', (1, 2)}", set('a', tuple(1, 2)));
  });

  test('unhashable dict keys and set items are refused like literal_eval does', () => {
    refuses('{[1]: 2}', 'not_a_literal', /unhashable type: 'list'/);
    refuses('{{1}}', 'not_a_literal', /unhashable type: 'set'/);
    refuses('{(1, [2]): 3}', 'not_a_literal', /unhashable/);
    refuses('{{}: 1}', 'not_a_literal', /unhashable type: 'dict'/);
  });

  test('nested combinations from real task reprs', () => {
    parses("([1, 2], {'a': (3, 4.5), 'b': {None, False}}, 'x', b'y', -5)", tuple([1, 2], dict(['a', tuple(3, 4.5)], ['b', set(null, false)]), 'x', bytes('y'), -5));
    parses("{'ids': [1, 2, 3], 'options': {'retry': True, 'countdown': 1.5}}", dict(['ids', [1, 2, 3]], ['options', dict(['retry', true], ['countdown', 1.5])]));
  });

  test('whitespace around the value', () => {
    parses('  (1, 2)  \n', tuple(1, 2));
    parses('\n1', 1);
    parses('1 # trailing comment', 1);
    parses('1\\\n', 1);
  });
});

describe('parsePythonLiteral: truncated reprs', () => {
  test("Celery's ', ...' marker", () => {
    const error = refuses('(1, 2, 3, ...)', 'truncated', /truncated/);
    assert.equal(error.position, 10);
    refuses("{'a': 'xxx', ...}", 'truncated');
    refuses("['abc...', ...]", 'truncated');
    refuses("('aaaa...', ...,)", 'truncated');
    refuses('...', 'truncated');
  });

  test("saferepr's depth marker ([...], {...})", () => {
    refuses('[[[...]]]', 'truncated');
    refuses("{'a': {...}}", 'truncated');
    refuses('(1, ..., 2)', 'truncated');
  });

  test("a 1034-character string repr ending in ...'", () => {
    const repr = "'" + 'a'.repeat(1029) + "...'";
    assert.equal(repr.length, 1034);
    refuses(repr, 'truncated', /cut by Celery/);
    refuses('b' + repr, 'truncated');
    // Short strings that just end in dots are ordinary values.
    parses("'Loading...'", 'Loading...');
    parses("['" + 'a'.repeat(1200) + "...']", ['a'.repeat(1200) + '...']);
    // The threshold is configurable.
    assert.equal(parsePythonLiteral(repr, { truncatedStringLength: Infinity }), 'a'.repeat(1029) + '...');
    assert.throws(() => parsePythonLiteral("'abc...'", { truncatedStringLength: 5 }), PythonLiteralError);
  });

  test('unterminated strings', () => {
    refuses("'aaaa...", 'truncated', /inside a string literal/);
    refuses("('abc', 'de", 'truncated');
    refuses("'''abc\ndef", 'truncated');
    refuses("'abc\\", 'truncated');
    refuses("'\\x4", 'truncated');
    refuses("'\\U0001F6", 'truncated');
  });

  test('input that stops inside a container or after a sign', () => {
    refuses('[1, 2', 'truncated');
    refuses('(1, 2,', 'truncated');
    refuses("{'a': ", 'truncated');
    refuses("{'a'", 'truncated');
    refuses('-', 'truncated');
    refuses('[', 'truncated');
  });
});

describe('parsePythonLiteral: non-literals', () => {
  test('calls, names and object reprs', () => {
    const error = refuses("(datetime.datetime(2024, 1, 2, 3, 4, 5), Decimal('1.5'))", 'not_a_literal', /datetime\.datetime\(\.\.\.\)' is a function call/);
    assert.equal(error.position, 1);
    refuses("Decimal('1.5')", 'not_a_literal', /'Decimal\(\.\.\.\)' is a function call/);
    refuses('foo', 'not_a_literal', /name 'foo'/);
    refuses('[1, foo.bar]', 'not_a_literal', /name 'foo\.bar'/);
    refuses('inf', 'not_a_literal');
    refuses('nan', 'not_a_literal');
    refuses('true', 'not_a_literal');
    refuses('null', 'not_a_literal');
    refuses('<object object at 0x7f3e2c1b0f00>', 'not_a_literal', /object repr/);
    refuses("[<Foo: 1>, 'x']", 'not_a_literal', /object repr/);
    refuses("UUID('0b1c1a9e-8f3a-4a6b-9a33-5b1f3c2f8e11')", 'not_a_literal');
    refuses('set([1, 2])', 'not_a_literal', /only 'set\(\)'/);
    refuses('frozenset()', 'not_a_literal');
  });

  test('lambdas, operators and other expressions', () => {
    refusesEach('not_a_literal', [
      ['lambda x: x', /lambda/],
      ['1+2', /operator '\+'/],
      '(1 * 2)',
      '2 ** 8',
      '[1 == 1]',
      ['1 if True else 2', /'if'/],
      '[x for x in y]',
      ['--1', /unary/],
      ['-True', /unary/],
      "-'a'",
      '-(1,)',
      '~1',
      '(1)(2)',
      '[1][0]',
      'True.real',
      "'abc'.upper()",
      '[*a]',
      '{**a}',
      ["f'x{y}'", /f-string/],
      ['1j', /complex/],
      '1+2j',
    ]);
  });
});

describe('parsePythonLiteral: syntax errors', () => {
  test('malformed input', () => {
    refusesEach('syntax', [
      ['', /empty/],
      '   ',
      '(,)',
      '[,]',
      '{,}',
      '[1 2]',
      '1 2',
      '1,\n2',
      '(1]',
      ['{1: 2, 3}', /':' expected/],
      '{1: 2 3}',
      ')',
      ['01', /leading zeros/],
      '1__0',
      '1_',
      '0x',
      ['0b102', /binary/],
      '0o8',
      '1abc',
      '1.__class__',
      ["'\\x4g'", /\\xXX/],
      ["'\\U00110000'", /illegal Unicode/],
      ["'\\N{EM DASH}'", /\\N/],
      ["'a\nb'", /line break/],
      ["'a\0b'", /NUL/],
      ["ur'x'", /prefix/],
      '1 = 2',
      '@',
      '\u00a01',
      '1 ; 2',
    ]);
  });

  test('nesting is limited to 100 levels', () => {
    assert.equal(MAX_LITERAL_DEPTH, 100);
    const ok = '['.repeat(100) + ']'.repeat(100);
    let value: PyValue = parsePythonLiteral(ok);
    for (let i = 0; i < 99; i++) {
      assert.ok(Array.isArray(value));
      value = value[0] ?? null;
    }
    assert.deepEqual(value, []);
    refuses('['.repeat(101) + ']'.repeat(101), 'syntax', /nesting deeper than 100/);
    refuses('('.repeat(101) + '1' + ')'.repeat(101), 'syntax', /nesting/);
    refuses('{1: '.repeat(101) + '1' + '}'.repeat(101), 'syntax', /nesting/);
  });
});

describe('parsePythonLiteral: hostile input', () => {
  test('100k opening brackets give a clean error, not a stack overflow', () => {
    for (const ch of ['[', '(', '{']) {
      const error = refuses(ch.repeat(100_000), 'syntax', /nesting/);
      assert.equal(error.position, 100);
    }
    refuses('-'.repeat(100_000) + '1', 'not_a_literal');
    refuses('-('.repeat(50_000) + '1', 'not_a_literal');
    refuses('-' + '('.repeat(100_000) + '1', 'syntax', /nesting/);
    assert.equal(parsePythonLiteral("'a' ".repeat(50_000)), 'a'.repeat(50_000));
    refuses("'a' ".repeat(50_000) + 'x', 'syntax');
  });

  test('large inputs parse in linear time', () => {
    const bigList = '[' + Array.from({ length: 200_000 }, (_, i) => String(i)).join(', ') + ']';
    const bigString = "'" + 'ab\\n'.repeat(250_000) + "'";
    const manyKeys = '{' + Array.from({ length: 50_000 }, (_, i) => `'k${i}': ${i}`).join(', ') + '}';
    const started = performance.now();
    const list = parsePythonLiteral(bigList);
    assert.ok(Array.isArray(list) && list.length === 200_000);
    assert.equal(parsePythonLiteral(bigString), 'ab\n'.repeat(250_000));
    const d = parsePythonLiteral(manyKeys);
    assert.ok(d !== null && typeof d === 'object' && !Array.isArray(d) && d.kind === 'dict' && d.entries.length === 50_000);
    refuses('1' + '0'.repeat(5000), 'syntax', /4300 digits/);
    assert.ok(performance.now() - started < 5000);
  });

  test('never throws anything but PythonLiteralError', () => {
    const alphabet = [
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      ',',
      ':',
      "'",
      '"',
      '\\',
      'b',
      'r',
      'u',
      'f',
      'x',
      'N',
      '0',
      '1',
      '9',
      '.',
      'e',
      'j',
      '_',
      '-',
      '+',
      ' ',
      '\n',
      '#',
      'True',
      'None',
      'set',
      '...',
      '\u00e9',
      '\ud800',
      '😀',
      '\0',
      'U',
      '<',
      '*',
    ];
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      const length = random(24);
      for (let j = 0; j < length; j++) text += alphabet[random(alphabet.length)];
      try {
        parsePythonLiteral(text);
        literalEval(text);
      } catch (error) {
        assert.ok(error instanceof PythonLiteralError, `${JSON.stringify(text)} threw ${String(error)}`);
      }
    }
    // Not even for a non-string at runtime.
    assert.throws(() => parsePythonLiteral(null as unknown as string), PythonLiteralError);
  });
});

describe('tryParsePythonLiteral', () => {
  test('wraps results and errors', () => {
    assert.deepEqual(tryParsePythonLiteral('(2, 3)'), { ok: true, value: tuple(2, 3) });
    const failed = tryParsePythonLiteral('(1, 2, 3, ...)');
    assert.equal(failed.ok, false);
    if (!failed.ok) {
      assert.ok(failed.error instanceof PythonLiteralError);
      assert.equal(failed.error.reason, 'truncated');
      assert.equal(failed.error.name, 'PythonLiteralError');
    }
  });
});

describe('literalEval (exact ast.literal_eval semantics)', () => {
  test('keeps floats apart from ints and accepts Ellipsis', () => {
    assert.deepEqual(literalEval('3.0'), { kind: 'float', value: 3 });
    assert.equal(literalEval('3'), 3);
    assert.deepEqual(literalEval('(1, 2, 3, ...)'), { kind: 'tuple', items: [1, 2, 3, { kind: 'ellipsis' }] });
    assert.equal(literalEval("'" + 'a'.repeat(1029) + "...'"), 'a'.repeat(1029) + '...');
    assert.throws(() => literalEval("{'a': 1, ...}"), PythonLiteralError);
  });
});
