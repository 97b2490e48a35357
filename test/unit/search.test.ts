import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  kwargsPairs,
  MAX_QUERY_DEPTH,
  MAX_QUERY_LENGTH,
  MAX_QUERY_TOKENS,
  parseQueryExpression,
  parseTaskQuery,
  TaskQuerySyntaxError,
  type QueryExpression,
  type SearchableTask,
  type SearchField,
} from '../../server/state/search';

const term = (field: SearchField | null, value: string): QueryExpression => ({ type: 'term', field, value });
const and = (...children: QueryExpression[]): QueryExpression => ({ type: 'and', children });
const or = (...children: QueryExpression[]): QueryExpression => ({ type: 'or', children });

function syntaxError(query: string): TaskQuerySyntaxError {
  let caught: unknown;
  try {
    parseTaskQuery(query);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof TaskQuerySyntaxError, `expected a syntax error for ${JSON.stringify(query.slice(0, 60))}`);
  return caught;
}

interface MutableTask {
  uuid: string;
  name: string | null;
  state: string;
  worker: string | null;
  args: string | null;
  kwargs: string | null;
  result: string | null;
}

function task(uuid: string, name: string | null, state: string, worker: string | null, extra: Partial<MutableTask> = {}): MutableTask {
  return { uuid, name, state, worker, args: '[]', kwargs: '{}', result: null, ...extra };
}

/** Asserts for each query whether it matches the task. */
function expectMatches(t: SearchableTask, expected: Readonly<Record<string, boolean>>): void {
  for (const [query, matches] of Object.entries(expected)) assert.equal(parseTaskQuery(query).matches(t), matches, query);
}

function matching(tasks: readonly SearchableTask[], query: string): Set<string> {
  const compiled = parseTaskQuery(query);
  return new Set(tasks.filter((t) => compiled.matches(t)).map((t) => t.uuid));
}

// Flower's TestTaskSearchEngine fixture. Flower's tasks hold Python objects (args=['customer-123']);
// ours hold the repr strings Celery's events carry, which is what Flower indexes via safe_str().
function flowerTasks(): MutableTask[] {
  return [
    task('1', 'tasks.fetch', 'FAILURE', 'worker-a', { args: "['customer-123']", kwargs: "{'priority': 'high'}", result: 'connection timeout' }),
    task('2', 'tasks.store', 'SUCCESS', 'worker-b', { args: "['customer-456']", kwargs: "{'priority': 'low'}", result: 'stored' }),
    task('3', 'tasks.fetch', 'RETRY', 'worker-a', { args: "['customer-789']", kwargs: "{'priority': 'high'}", result: 'retry timeout' }),
    task('4', 'tasks.report', 'SUCCESS', null, { args: "['hello world']", kwargs: "{'label': 'some value'}", result: null }),
  ];
}

describe("Flower's TestQueryParser", () => {
  test('empty query matches all', () => {
    assert.deepEqual(parseQueryExpression('  '), { type: 'all' });
    assert.deepEqual(parseQueryExpression(''), { type: 'all' });
    const query = parseTaskQuery(' \t ');
    assert.equal(query.text, '');
    assert.equal(query.matches(task('x', null, 'PENDING', null)), true);
  });

  test('operator precedence', () => {
    assert.deepEqual(parseQueryExpression('first OR second third'), or(term(null, 'first'), and(term(null, 'second'), term(null, 'third'))));
  });

  test('parentheses override precedence', () => {
    assert.deepEqual(parseQueryExpression('(first OR second) third'), and(or(term(null, 'first'), term(null, 'second')), term(null, 'third')));
  });

  test('quoted phrase is one term', () => {
    assert.deepEqual(parseQueryExpression('args:"hello world"'), term('args', 'hello world'));
  });

  test('explicit AND matches implicit AND', () => {
    assert.deepEqual(parseQueryExpression('first second'), parseQueryExpression('first AND second'));
  });

  test('qualifiers are case-insensitive', () => {
    assert.deepEqual(parseQueryExpression('NAME:tasks.fetch'), term('name', 'tasks.fetch'));
  });

  test('nested duplicate terms are removed', () => {
    assert.deepEqual(parseQueryExpression('first (first second)'), and(term(null, 'first'), term(null, 'second')));
  });

  test('invalid queries report the position', () => {
    assert.equal(syntaxError('first OR').message, 'OR must be followed by a search term at position 6.');
  });

  test('invalid queries', () => {
    const invalid: Record<string, RegExp> = {
      ab: /at least 3 characters/,
      'name:': /requires a value/,
      'first AND': /AND must be followed/,
      'NOT first': /NOT is not supported/,
      '-first': /Negation with '-' is not supported/,
      '()': /Empty group/,
      '(first': /Missing closing parenthesis/,
      '"first': /Unterminated quoted phrase/,
    };
    for (const [query, message] of Object.entries(invalid)) assert.match(syntaxError(query).message, message, query);
  });

  test('query size and nesting limits', () => {
    assert.match(syntaxError('a'.repeat(2049)).message, /exceeds 2048 characters/);
    assert.match(syntaxError('('.repeat(6) + 'first' + ')'.repeat(6)).message, /exceeds 5 levels/);
  });

  test('token limit counts parentheses', () => {
    assert.match(syntaxError('(first) '.repeat(43)).message, /exceeds 128 tokens/);
  });

  test('state qualifier requires a colon', () => {
    assert.deepEqual(parseQueryExpression('state:STARTED'), term('state', 'STARTED'));
    assert.deepEqual(parseQueryExpression('stateSTARTED'), term(null, 'stateSTARTED'));
  });
});

describe("Flower's TestTaskSearchEngine", () => {
  test('mixed boolean query', () => {
    assert.deepEqual(matching(flowerTasks(), '(state:FAILURE OR state:RETRY) result:timeout'), new Set(['1', '3']));
  });

  test('exact kwargs query is case-insensitive', () => {
    assert.deepEqual(matching(flowerTasks(), 'kwargs:priority=HIGH'), new Set(['1', '3']));
  });

  test('quoted args and kwargs', () => {
    const tasks = flowerTasks();
    assert.deepEqual(matching(tasks, 'args:"hello world"'), new Set(['4']));
    assert.deepEqual(matching(tasks, 'kwargs:label="some value"'), new Set(['4']));
  });

  test('a missing result does not create a false match', () => {
    assert.deepEqual(matching(flowerTasks(), 'result:timeout'), new Set(['1', '3']));
    assert.deepEqual(matching(flowerTasks(), 'result:none'), new Set());
  });

  test('qualified searches are case-insensitive', () => {
    const expected: Record<string, string[]> = {
      'name:FETCH': ['1', '3'],
      'worker:WORKER-A': ['1', '3'],
      'args:CUSTOMER': ['1', '2', '3'],
      'kwargs:PRIORITY': ['1', '2', '3'],
      'result:TIMEOUT': ['1', '3'],
    };
    const tasks = flowerTasks();
    for (const [query, ids] of Object.entries(expected)) assert.deepEqual(matching(tasks, query), new Set(ids), query);
  });

  test('state search is exact', () => {
    assert.deepEqual(matching(flowerTasks(), 'state:FAIL'), new Set());
    assert.deepEqual(matching(flowerTasks(), 'state:failure'), new Set(['1']));
  });

  test('unqualified search includes the uuid', () => {
    const tasks = [...flowerTasks(), task('unique-uuid-123', 'job.execute', 'SUCCESS', 'worker-a')];
    assert.deepEqual(matching(tasks, 'uuid-123'), new Set(['unique-uuid-123']));
  });

  test('a changed task is matched by its new values (stale cache entries are replaced)', () => {
    const tasks = flowerTasks();
    assert.deepEqual(matching(tasks, 'state:FAILURE'), new Set(['1']));
    assert.deepEqual(matching(tasks, 'result:timeout'), new Set(['1', '3']));
    const first = tasks[0];
    assert.ok(first);
    first.state = 'SUCCESS';
    first.result = 'completed';
    assert.deepEqual(matching(tasks, 'state:FAILURE'), new Set());
    assert.deepEqual(matching(tasks, 'result:timeout'), new Set(['3']));
    assert.deepEqual(matching(tasks, 'state:SUCCESS'), new Set(['1', '2', '4']));
    assert.deepEqual(matching(tasks, 'result:completed'), new Set(['1']));
    assert.deepEqual(matching(tasks, 'completed'), new Set(['1']));
  });

  test('queries return the expected tasks', () => {
    const expected: Record<string, string[]> = {
      customer: ['1', '2', '3'],
      'name:fetch': ['1', '3'],
      'state:FAILURE': ['1'],
      'kwargs:priority=high': ['1', '3'],
      'customer result:timeout': ['1', '3'],
      '(state:FAILURE OR state:RETRY) result:timeout': ['1', '3'],
    };
    const tasks = flowerTasks();
    for (const [query, ids] of Object.entries(expected)) assert.deepEqual(matching(tasks, query), new Set(ids), query);
  });
});

describe('query syntax', () => {
  test('OR binds looser than AND, explicit or implicit', () => {
    assert.deepEqual(parseQueryExpression('a1a AND b2b OR c3c d4d'), or(and(term(null, 'a1a'), term(null, 'b2b')), and(term(null, 'c3c'), term(null, 'd4d'))));
    assert.deepEqual(parseQueryExpression('a1a (b2b OR c3c) d4d'), and(term(null, 'a1a'), or(term(null, 'b2b'), term(null, 'c3c')), term(null, 'd4d')));
    assert.deepEqual(parseQueryExpression('a1a OR (b2b OR c3c)'), or(term(null, 'a1a'), term(null, 'b2b'), term(null, 'c3c')));
    assert.deepEqual(parseQueryExpression('(a1a)'), term(null, 'a1a'));
    assert.deepEqual(parseQueryExpression('a1a OR a1a'), term(null, 'a1a'));
    // Only uppercase AND/OR are operators: a lowercase 'or' is a (too short) search term.
    assert.equal(syntaxError('one or two').message, 'Substring search terms must contain at least 3 characters at position 4.');
    assert.deepEqual(parseQueryExpression('one and two'), and(term(null, 'one'), term(null, 'and'), term(null, 'two')));
  });

  test('precedence decides matches', () => {
    const tasks = flowerTasks();
    assert.deepEqual(matching(tasks, 'state:SUCCESS OR state:RETRY worker:worker-a'), new Set(['2', '3', '4']));
    assert.deepEqual(matching(tasks, '(state:SUCCESS OR state:RETRY) worker:worker-a'), new Set(['3']));
    assert.deepEqual(matching(tasks, 'state:SUCCESS AND report OR state:FAILURE'), new Set(['1', '4']));
    assert.deepEqual(matching(tasks, 'fetch (timeout OR stored)'), new Set(['1', '3']));
  });

  test('quoted phrases and escapes', () => {
    assert.deepEqual(parseQueryExpression('"connection refused"'), term(null, 'connection refused'));
    assert.deepEqual(parseQueryExpression('result:"say \\"hi\\""'), term('result', 'say "hi"'));
    assert.deepEqual(parseQueryExpression('back\\\\slash'), term(null, 'back\\slash'));
    assert.deepEqual(parseQueryExpression('keep\\nthis'), term(null, 'keep\\nthis'));
    assert.deepEqual(parseQueryExpression('half"quoted phrase"tail'), term(null, 'halfquoted phrasetail'));
    assert.deepEqual(parseQueryExpression('"(not a group)"'), term(null, '(not a group)'));
    // Quoted words are terms, not operators.
    assert.deepEqual(parseQueryExpression('"AND" "NOT"'), and(term(null, 'AND'), term(null, 'NOT')));
    assert.match(syntaxError('"OR"').message, /at least 3 characters at position 0/);
    // Parentheses end an unquoted term.
    assert.deepEqual(parseQueryExpression('abc(def)'), and(term(null, 'abc'), term(null, 'def')));
  });

  test('a quoted phrase matches as a contiguous substring', () => {
    const tasks = [task('t1', 'x', 'FAILURE', null, { result: "ConnectionError('connection refused')" }), task('t2', 'x', 'FAILURE', null, { result: 'refused connection' })];
    assert.deepEqual(matching(tasks, '"connection refused"'), new Set(['t1']));
    assert.deepEqual(matching(tasks, 'connection refused'), new Set(['t1', 't2']));
    assert.deepEqual(matching([task('t3', 'x', 'S', null, { args: '(\'say "hi"\',)' })], 'args:"say \\"hi\\""'), new Set(['t3']));
  });

  test('qualifiers', () => {
    assert.deepEqual(parseQueryExpression('Worker:celery@host'), term('worker', 'celery@host'));
    assert.deepEqual(parseQueryExpression('RESULT:"x y z"'), term('result', 'x y z'));
    // Unknown qualifiers are part of a bare term.
    assert.deepEqual(parseQueryExpression('uuid:abc'), term(null, 'uuid:abc'));
    assert.deepEqual(parseQueryExpression('foo:bar'), term(null, 'foo:bar'));
    // Only the first colon separates the qualifier.
    assert.deepEqual(parseQueryExpression('name:a:b:c'), term('name', 'a:b:c'));
    // A qualified value may start with '-'.
    assert.deepEqual(parseQueryExpression('args:-42'), term('args', '-42'));
    // Python's casefold() maps the long s to 's'.
    assert.deepEqual(parseQueryExpression('\u017ftate:X'), term('state', 'X'));
  });

  test('short terms: substring terms need 3 characters, exact forms are exempt', () => {
    assert.equal(syntaxError('ab').message, 'Substring search terms must contain at least 3 characters at position 0.');
    assert.equal(syntaxError('abc de').message, 'Substring search terms must contain at least 3 characters at position 4.');
    assert.match(syntaxError('name:ab').message, /at least 3 characters/);
    assert.match(syntaxError('kwargs:ab').message, /at least 3 characters/);
    assert.match(syntaxError('"  ab  "').message, /at least 3 characters/);
    assert.match(syntaxError('😀😀').message, /at least 3 characters/);
    assert.deepEqual(parseQueryExpression('😀😀😀'), term(null, '😀😀😀'));
    assert.deepEqual(parseQueryExpression('abc'), term(null, 'abc'));
    assert.deepEqual(parseQueryExpression('state:x'), term('state', 'x'));
    assert.deepEqual(parseQueryExpression('kwargs:a=1'), term('kwargs', 'a=1'));
    assert.deepEqual(parseQueryExpression('kwargs:=x'), term('kwargs', '=x'));
    // The length is counted after stripping, but the term keeps its spaces.
    assert.match(syntaxError('" ab"').message, /at least 3 characters/);
    assert.deepEqual(parseQueryExpression('" abc"'), term(null, ' abc'));
  });

  test('exact error messages and positions', () => {
    const cases: Record<string, string> = {
      'first OR': 'OR must be followed by a search term at position 6.',
      'first OR OR second': 'OR must be followed by a search term at position 6.',
      'first AND': 'AND must be followed by a search term at position 6.',
      'first AND OR x1x': 'AND must be followed by a search term at position 6.',
      'OR first': 'Expected a search term at position 0.',
      'AND first': 'Expected a search term at position 0.',
      ')': 'Expected a search term at position 0.',
      'first)': "Unexpected ')' at position 5.",
      'first (second) third)': "Unexpected ')' at position 20.",
      '(first OR)': 'OR must be followed by a search term at position 7.',
      'x1x ( )': 'Empty group at position 4.',
      'x1x (first': 'Missing closing parenthesis at position 4.',
      'x1x "first': 'Unterminated quoted phrase at position 4.',
      'x1x abc"first': 'Unterminated quoted phrase at position 4.',
      '""': 'Empty search term at position 0.',
      'x1x "" y1y': 'Empty search term at position 4.',
      'NOT first': 'NOT is not supported at position 0.',
      'x1x -first': "Negation with '-' is not supported at position 4.",
      'name:': 'Search qualifier requires a value at position 0.',
      'name:""': 'Search qualifier requires a value at position 0.',
      '((((((first))))))': 'Query nesting exceeds 5 levels at position 5.',
      '  first OR': 'OR must be followed by a search term at position 6.',
      '😀😀😀 OR': 'OR must be followed by a search term at position 4.',
    };
    for (const [query, message] of Object.entries(cases)) {
      const error = syntaxError(query);
      assert.equal(error.message, message, query);
      assert.ok(error instanceof Error);
      assert.equal(error.name, 'TaskQuerySyntaxError');
    }
    assert.equal(syntaxError('x1x -first').detail, "Negation with '-' is not supported");
    assert.equal(syntaxError('x1x -first').position, 4);
  });

  test('no NOT or -term, but lowercase not and inner dashes are plain text', () => {
    assert.deepEqual(parseQueryExpression('not'), term(null, 'not'));
    assert.deepEqual(parseQueryExpression('worker-a'), term(null, 'worker-a'));
    // Quoting does not hide a leading '-' from the negation check.
    assert.equal(syntaxError('"-first"').message, "Negation with '-' is not supported at position 0.");
  });

  test('nesting: 5 levels are allowed, 6 are not', () => {
    assert.equal(MAX_QUERY_DEPTH, 5);
    assert.deepEqual(parseQueryExpression('(((((first)))))'), term(null, 'first'));
    assert.deepEqual(
      parseQueryExpression('a1a (b2b (c3c (d4d (e5e (f6f OR g7g)))))'),
      and(term(null, 'a1a'), term(null, 'b2b'), term(null, 'c3c'), term(null, 'd4d'), term(null, 'e5e'), or(term(null, 'f6f'), term(null, 'g7g'))),
    );
    assert.match(syntaxError('a1a (b2b (c3c (d4d (e5e (f6f (g7g))))))').message, /Query nesting exceeds 5 levels at position 29\./);
  });

  test('2048-character limit on the stripped query, in code points', () => {
    assert.equal(MAX_QUERY_LENGTH, 2048);
    assert.deepEqual(parseQueryExpression('a'.repeat(2048)), term(null, 'a'.repeat(2048)));
    assert.deepEqual(parseQueryExpression('   ' + 'a'.repeat(2048) + '\n\t '), term(null, 'a'.repeat(2048)));
    assert.equal(syntaxError('a'.repeat(2049)).message, 'Query exceeds 2048 characters.');
    assert.equal(syntaxError('a'.repeat(2049)).position, null);
    // 2048 astral characters are 4096 UTF-16 units but 2048 Python characters.
    assert.deepEqual(parseQueryExpression('😀'.repeat(2048)), term(null, '😀'.repeat(2048)));
    assert.match(syntaxError('😀'.repeat(2049)).message, /exceeds 2048 characters/);
    // A huge query fails fast.
    assert.match(syntaxError('(x '.repeat(1_000_000)).message, /exceeds 2048 characters/);
  });

  test('128-token limit, parentheses included', () => {
    assert.equal(MAX_QUERY_TOKENS, 128);
    assert.doesNotThrow(() => parseTaskQuery('abc '.repeat(128)));
    assert.equal(syntaxError('abc '.repeat(129)).message, 'Query exceeds 128 tokens.');
    assert.doesNotThrow(() => parseTaskQuery('abc OR '.repeat(63) + 'abc abc'));
    assert.match(syntaxError('abc OR '.repeat(63) + 'abc AND abc').message, /exceeds 128 tokens/);
    assert.doesNotThrow(() => parseTaskQuery('(first) '.repeat(42) + 'abc def'));
    assert.match(syntaxError('(first) '.repeat(42) + 'abc def ghi').message, /exceeds 128 tokens/);
    // Checked while tokenizing, before later token errors.
    assert.match(syntaxError('abc '.repeat(129) + '"unterminated').message, /exceeds 128 tokens/);
  });

  test('whitespace as Python sees it', () => {
    assert.deepEqual(parseQueryExpression('first\u3000second\u00a0third'), and(term(null, 'first'), term(null, 'second'), term(null, 'third')));
    assert.deepEqual(parseQueryExpression('\u2003first\u2003'), term(null, 'first'));
    // U+FEFF is whitespace to JavaScript but not to Python.
    assert.deepEqual(parseQueryExpression('first\ufeffsecond'), term(null, 'first\ufeffsecond'));
  });

  test('the compiled query keeps the stripped text', () => {
    assert.equal(parseTaskQuery('  name:fetch  ').text, 'name:fetch');
    assert.equal(parseTaskQuery('name:fetch'), parseTaskQuery('  name:fetch\n'));
  });
});

describe('matching', () => {
  test('a bare term searches uuid, name, state, worker, args, kwargs and result', () => {
    const t = task('8f1e2d3c-uuid', 'proj.tasks.alpha', 'STARTED', 'celery@beta-host', { args: "('gamma-arg',)", kwargs: "{'delta': 'epsilon'}", result: 'zeta-result' });
    for (const needle of ['8F1E2D', 'ALPHA', 'started', 'beta-host', 'gamma', 'delta', 'epsilon', 'zeta']) {
      assert.equal(parseTaskQuery(needle).matches(t), true, needle);
    }
    assert.equal(parseTaskQuery('omega').matches(t), false);
    // Field boundaries are not crossed.
    assert.equal(parseTaskQuery('"alpha\u0000started"').matches(t), true);
    assert.equal(parseTaskQuery('"alphastarted"').matches(t), false);
  });

  test('qualified terms only look at their field', () => {
    const t = task('id-1', 'tasks.alpha', 'SUCCESS', 'worker-1', { args: "('alpha',)", result: 'beta' });
    expectMatches(t, { 'name:alpha': true, 'name:beta': false, 'result:beta': true, 'args:beta': false, 'worker:WORKER': true });
  });

  test('null fields never match substrings', () => {
    const t: SearchableTask = { uuid: 'u-1', name: null, state: 'PENDING', worker: null, args: null, kwargs: null, result: null };
    expectMatches(t, { 'name:null': false, none: false, 'kwargs:a=': false, 'state:pending': true, 'u-1': true });
  });

  test('case folding follows Python casefold()', () => {
    const t = task('u', 'Straße', 'SUCCESS', 'ΣΑΣ', { result: 'ǅ' });
    expectMatches(t, { 'name:STRASSE': true, 'name:strasse': true, 'worker:σας': true, 'worker:σασ': true });
  });

  test('state is exact and case-insensitive', () => {
    const t = task('u', 'x', 'FAILURE', null);
    expectMatches(t, { 'state:failure': true, 'state:FAILUR': false, 'state:"FAILURE "': false });
  });
});

describe('kwargs:key=value', () => {
  test('pairs are normalised like Flower: str() of key and value, casefolded, None → empty', () => {
    const pairs = (kwargs: string): string[] => [...kwargsPairs(kwargs)].sort();
    assert.deepEqual(pairs("{'priority': 'high'}"), ['priority=high']);
    assert.deepEqual(pairs("{'Priority': 'HIGH', 'n': 3.0}"), ['n=3.0', 'priority=high']);
    assert.deepEqual(pairs("{'flag': True, 'k': None}"), ['flag=true', 'k=']);
    assert.deepEqual(pairs("{'lst': [1, 2], 't': (1,)}"), ['lst=[1, 2]', 't=(1,)']);
    assert.deepEqual(pairs("{'b': b'abc', 'e': b'\\xff'}"), ['b=abc', 'e=\ufffd']);
    assert.deepEqual(pairs("{'s': \"it's\", 'd': {'x': 1}}"), ["d={'x': 1}", "s=it's"]);
    assert.deepEqual(pairs("{'k': 1e16, 'j': 1e-5, 'h': 0x10}"), ['h=16', 'j=1e-05', 'k=1e+16']);
    assert.deepEqual(pairs("{1: 'a', True: 'b'}"), ['1=b']);
    // `...` is Ellipsis to literal_eval, so a dict with an elided nested value still has pairs...
    assert.deepEqual(pairs("{'a': (1, ...), 'b': 'x'}"), ['a=(1, ellipsis)', 'b=x']);
    // ...but a dict cut with ', ...' is a syntax error and has none.
    assert.deepEqual(pairs("{'a': 1, ...}"), []);
    assert.deepEqual(pairs('{}'), []);
    assert.deepEqual(pairs('[1, 2]'), []);
    assert.deepEqual(pairs("{'when': datetime.datetime(2024, 1, 2)}"), []);
    assert.deepEqual(pairs("{'a': 'unterminated"), []);
  });

  test('the query pair is casefolded and stripped around =', () => {
    const t = task('u', 'x', 'S', null, { kwargs: "{'Queue': 'Priority', 'n': 3.0, 'label': 'some value'}" });
    for (const q of ['kwargs:queue=priority', 'KWARGS:QUEUE=PRIORITY', 'kwargs:"queue = priority"', 'kwargs:n=3.0', 'kwargs:label="some value"']) {
      assert.equal(parseTaskQuery(q).matches(t), true, q);
    }
    for (const q of ['kwargs:queue=prio', 'kwargs:n=3', 'kwargs:label=some', 'kwargs:queue=priority2']) {
      assert.equal(parseTaskQuery(q).matches(t), false, q);
    }
    // Without '=' it is a substring search over the kwargs repr.
    assert.equal(parseTaskQuery("kwargs:\"'queue': 'priority'\"").matches(t), true);
  });

  test('the parsed kwargs cache follows changes to the kwargs string', () => {
    const t = task('u', 'x', 'S', null, { kwargs: "{'a': 1}" });
    const q = parseTaskQuery('kwargs:a=1');
    assert.equal(q.matches(t), true);
    t.kwargs = "{'a': 2}";
    assert.equal(q.matches(t), false);
    assert.equal(parseTaskQuery('kwargs:a=2').matches(t), true);
    t.kwargs = null;
    assert.equal(parseTaskQuery('kwargs:a=2').matches(t), false);
    t.kwargs = "{'a': 1}";
    assert.equal(q.matches(t), true);
  });

  test('every field cache follows changes', () => {
    const t = task('u-1', 'first.name', 'RECEIVED', 'w1', { args: "('one',)", result: null });
    const all = (query: string): boolean => parseTaskQuery(query).matches(t);
    assert.equal(all('first.name'), true);
    t.name = 'second.name';
    t.args = "('two',)";
    t.worker = 'w2-host';
    t.result = 'done-result';
    t.state = 'SUCCESS';
    assert.equal(all('first.name'), false);
    assert.equal(all('second.name'), true);
    assert.equal(all('name:second'), true);
    assert.equal(all('args:two'), true);
    assert.equal(all('args:one'), false);
    assert.equal(all('w2-host'), true);
    assert.equal(all('done-result state:success'), true);
  });
});

describe('performance', () => {
  test('100,000 tasks per query', () => {
    const tasks: MutableTask[] = [];
    for (let i = 0; i < 100_000; i++) {
      tasks.push(
        task(`uuid-${i}-abcdef`, `proj.tasks.t${i % 50}`, i % 7 === 0 ? 'FAILURE' : 'SUCCESS', `celery@host${i % 5}`, {
          args: `(${i}, 'customer-${i % 1000}')`,
          kwargs: `{'priority': '${i % 3 === 0 ? 'high' : 'low'}', 'n': ${i}}`,
          result: i % 7 === 0 ? "TimeoutError('connection timeout')" : `${i * 2}`,
        }),
      );
    }
    const queries = ['customer-42', 'state:failure', 'kwargs:priority=high', '(state:FAILURE OR kwargs:priority=high) name:t11', 'timeout'];
    const expected = [
      tasks.filter((t) => (t.args ?? '').includes('customer-42')).length,
      tasks.filter((t) => t.state === 'FAILURE').length,
      tasks.filter((t) => (t.kwargs ?? '').includes("'high'")).length,
    ];
    // Warm the per-task caches once, then time.
    for (const q of queries) {
      const compiled = parseTaskQuery(q);
      for (const t of tasks) compiled.matches(t);
    }
    const started = performance.now();
    const counts = queries.map((q) => {
      const compiled = parseTaskQuery(q);
      let n = 0;
      for (const t of tasks) if (compiled.matches(t)) n++;
      return n;
    });
    const elapsed = performance.now() - started;
    assert.deepEqual(counts.slice(0, 3), expected);
    assert.ok(elapsed < 3000, `5 queries over 100k tasks took ${elapsed.toFixed(0)} ms`);
  });
});
