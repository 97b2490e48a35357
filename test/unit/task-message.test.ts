/**
 * Task messages against what Celery 5.2.6 itself sends (docs/celery-wire-protocol.md
 * §7.5, §7.6), argsrepr/kwargsrepr as saferepr of the arguments (saferepr itself against Celery's
 * output: python-saferepr.test.ts), and every way a Flower apply request can be refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseApplyRequest } from '../../server/http/apply-request';
import { RequestError } from '../../server/errors';
import type { JsonValue } from '../../server/protocol/events';
import { buildTaskMessage, isoFromEpochMicros, REPR_MAXSIZE, type TaskSendOptions } from '../../server/control/task-message';
import { saferepr } from '../../server/protocol/python/saferepr';

const NOW = new Date('2026-11-21T11:46:51.096Z');

function options(overrides: Partial<TaskSendOptions> = {}): TaskSendOptions {
  return { args: [], kwargs: {}, queue: 'celery', countdown: null, eta: null, expires: null, priority: 0, ...overrides };
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** §7.5: Celery 5.2.6 `add.apply_async((2, 3), priority=5)` as LPUSHed on Redis. */
const CAPTURED_REDIS = {
  body: 'W1syLCAzXSwge30sIHsiY2FsbGJhY2tzIjogbnVsbCwgImVycmJhY2tzIjogbnVsbCwgImNoYWluIjogbnVsbCwgImNob3JkIjogbnVsbH1d',
  headers: {
    lang: 'py',
    task: 'tasks.add',
    id: '63d9fdac-39da-430e-8f2e-70fe4dc5b83c',
    shadow: null,
    eta: null,
    expires: null,
    group: null,
    group_index: null,
    retries: 0,
    timelimit: [null, null],
    root_id: '63d9fdac-39da-430e-8f2e-70fe4dc5b83c',
    parent_id: null,
    argsrepr: '(2, 3)',
    kwargsrepr: '{}',
    origin: 'gen12102@vm',
    ignore_result: false,
  },
  properties: { correlation_id: '63d9fdac-39da-430e-8f2e-70fe4dc5b83c', priority: 5 },
} as const;

/** §7.6: Celery 5.2.6 `send_task('tasks.add', (2,), {'y': 3}, queue='captureq', priority=7, countdown=10, expires=60)` on AMQP. */
const CAPTURED_AMQP = {
  headers: {
    lang: 'py',
    task: 'tasks.add',
    id: 'b260f110-…',
    eta: '2026-11-21T11:47:01.096717+00:00',
    expires: '2026-11-21T11:47:51.096717+00:00',
    retries: 0,
    timelimit: [null, null],
    root_id: 'b260f110-…',
    parent_id: null,
    argsrepr: '(2,)',
    kwargsrepr: "{'y': 3}",
    origin: 'gen13952@vm',
    ignore_result: false,
    shadow: null,
    group: null,
    group_index: null,
  },
  body: [[2], { y: 3 }, { callbacks: null, errbacks: null, chain: null, chord: null }],
  expiration: '60000',
  priority: 7,
} as const;

describe('buildTaskMessage: the message Celery sends', () => {
  it('matches the captured Redis message (§7.5): same header keys in the same order, same types, same body', () => {
    const message = buildTaskMessage('tasks.add', options({ args: [2, 3], priority: 5 }), 'celeriac@host', NOW);
    assert.deepEqual(Object.keys(message.headers), Object.keys(CAPTURED_REDIS.headers));
    for (const [key, value] of Object.entries(CAPTURED_REDIS.headers)) {
      assert.equal(kind(message.headers[key]), kind(value), `type of header ${key}`);
    }
    const id = message.headers.id;
    assert.match(String(id), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual({ ...message.headers, id: null, root_id: null, origin: null }, { ...CAPTURED_REDIS.headers, id: null, root_id: null, origin: null });
    assert.equal(message.headers.root_id, id);
    assert.equal(message.headers.origin, 'celeriac@host');
    // Celery's body text is Python's json.dumps (", " separators); the values must be identical.
    assert.deepEqual(message.body, JSON.parse(Buffer.from(CAPTURED_REDIS.body, 'base64').toString('utf8')));
    assert.equal(message.correlationId, id);
    assert.equal(message.priority, CAPTURED_REDIS.properties.priority);
    assert.equal(message.expiration, null);
    assert.equal(message.queue, 'celery');
  });

  it('matches the captured AMQP message (§7.6): countdown → eta, expires → header and expiration', () => {
    const message = buildTaskMessage(
      'tasks.add',
      options({ args: [2], kwargs: { y: 3 }, queue: 'captureq', priority: 7, countdown: 10, expires: new Date(NOW.getTime() + 60_000) }),
      'gen13952@vm',
      NOW,
    );
    assert.deepEqual(new Set(Object.keys(message.headers)), new Set(Object.keys(CAPTURED_AMQP.headers)));
    for (const [key, value] of Object.entries(CAPTURED_AMQP.headers)) {
      assert.equal(kind(message.headers[key]), kind(value), `type of header ${key}`);
    }
    assert.equal(message.headers.eta, '2026-11-21T11:47:01.096000+00:00');
    assert.equal(message.headers.expires, '2026-11-21T11:47:51.096000+00:00');
    // Same format as Celery's isoformat(): microseconds and an explicit +00:00 offset.
    const isoRe = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00$/;
    assert.match(CAPTURED_AMQP.headers.eta, isoRe);
    assert.match(String(message.headers.eta), isoRe);
    assert.equal(message.headers.argsrepr, CAPTURED_AMQP.headers.argsrepr);
    assert.equal(message.headers.kwargsrepr, CAPTURED_AMQP.headers.kwargsrepr);
    assert.deepEqual(message.body, CAPTURED_AMQP.body);
    assert.equal(message.expiration, CAPTURED_AMQP.expiration);
    assert.equal(message.priority, CAPTURED_AMQP.priority);
    assert.equal(message.queue, 'captureq');
  });

  it('uses the given task, parent and root ids; an empty root id falls back to the task id', () => {
    const given = buildTaskMessage('t', options({ taskId: 'my-id', parentId: 'p', rootId: 'r' }), 'o', NOW);
    assert.equal(given.headers.id, 'my-id');
    assert.equal(given.correlationId, 'my-id');
    assert.equal(given.headers.parent_id, 'p');
    assert.equal(given.headers.root_id, 'r');
    const emptyRoot = buildTaskMessage('t', options({ taskId: 'x', rootId: '' }), 'o', NOW);
    assert.equal(emptyRoot.headers.root_id, 'x');
    const fresh = [1, 2, 3].map(() => buildTaskMessage('t', options(), 'o', NOW).headers.id);
    assert.equal(new Set(fresh).size, 3);
  });

  it('argsrepr shows every argument in full, whatever its position', () => {
    // Array.map passes the index as a second argument: it once reached jsonToPython's depth, so
    // containers from the fifth argument on were shown as [] and {} (Celery shows them in full).
    const message = buildTaskMessage('t', options({ args: [0, 0, 0, 0, 0, [1, 2], { a: 1 }] }), 'o', NOW);
    assert.equal(message.headers.argsrepr, "(0, 0, 0, 0, 0, [1, 2], {'a': 1})");
  });

  it('never emits kombu type tags: objects with __type__/__value__ keys are refused', () => {
    assert.throws(() => buildTaskMessage('t', options({ args: [{ __type__: 'datetime', __value__: '2024-01-02T03:04:05' }] }), 'o', NOW), TypeError);
    assert.throws(() => buildTaskMessage('t', options({ kwargs: { when: { nested: [{ __value__: 1 }] } } }), 'o', NOW), TypeError);
  });
});

describe('buildTaskMessage: eta, countdown, expires', () => {
  it('countdown keeps microseconds like timedelta; a whole second has no fraction, like isoformat()', () => {
    const whole = new Date('2026-01-02T03:04:05.000Z');
    assert.equal(buildTaskMessage('t', options({ countdown: 2 }), 'o', whole).headers.eta, '2026-01-02T03:04:07+00:00');
    assert.equal(buildTaskMessage('t', options({ countdown: 1.5 }), 'o', whole).headers.eta, '2026-01-02T03:04:06.500000+00:00');
    assert.equal(buildTaskMessage('t', options({ countdown: 0.000123 }), 'o', whole).headers.eta, '2026-01-02T03:04:05.000123+00:00');
    assert.equal(buildTaskMessage('t', options({ countdown: -1 }), 'o', whole).headers.eta, '2026-01-02T03:04:04+00:00');
  });

  it('a non-zero countdown replaces eta; countdown 0 keeps it (Celery: `if countdown:`)', () => {
    const eta = new Date('2030-05-06T07:08:09.010Z');
    assert.equal(buildTaskMessage('t', options({ eta }), 'o', NOW).headers.eta, '2030-05-06T07:08:09.010000+00:00');
    assert.equal(buildTaskMessage('t', options({ eta, countdown: 0 }), 'o', NOW).headers.eta, '2030-05-06T07:08:09.010000+00:00');
    assert.equal(buildTaskMessage('t', options({ eta, countdown: 10 }), 'o', NOW).headers.eta, '2026-11-21T11:47:01.096000+00:00');
  });

  it('expiration is the milliseconds left as text, "0" once expires is past, null without expires', () => {
    const at = (ms: number): string | null => buildTaskMessage('t', options({ expires: new Date(NOW.getTime() + ms) }), 'o', NOW).expiration;
    assert.equal(at(60_000), '60000');
    assert.equal(at(1_234), '1234');
    assert.equal(at(0), '0');
    assert.equal(at(-5_000), '0');
    assert.equal(buildTaskMessage('t', options(), 'o', NOW).expiration, null);
    const past = buildTaskMessage('t', options({ expires: new Date(NOW.getTime() - 5_000) }), 'o', NOW);
    assert.equal(past.headers.expires, '2026-11-21T11:46:46.096000+00:00');
  });

  it('isoFromEpochMicros renders years 1–9999 only', () => {
    assert.equal(isoFromEpochMicros(Date.parse('0001-01-01T00:00:00Z') * 1000), '0001-01-01T00:00:00+00:00');
    assert.throws(() => isoFromEpochMicros(Date.UTC(10000, 0, 1) * 1000), RangeError);
  });

  it('refuses priorities outside 0–9 and invalid dates', () => {
    for (const priority of [-1, 10, 1.5, Number.NaN]) {
      assert.throws(() => buildTaskMessage('t', options({ priority }), 'o', NOW), RangeError, `priority ${priority}`);
    }
    for (const priority of [0, 9]) assert.equal(buildTaskMessage('t', options({ priority }), 'o', NOW).priority, priority);
    assert.throws(() => buildTaskMessage('t', options({ eta: new Date(Number.NaN) }), 'o', NOW), RangeError);
    assert.throws(() => buildTaskMessage('t', options({ countdown: Number.POSITIVE_INFINITY }), 'o', NOW), RangeError);
    assert.throws(() => buildTaskMessage('', options(), 'o', NOW), TypeError);
  });
});

describe('argsrepr/kwargsrepr: saferepr of the args tuple and of the kwargs', () => {
  const reprs = (args: JsonValue[], kwargs: Record<string, JsonValue>): [JsonValue | undefined, JsonValue | undefined] => {
    const message = buildTaskMessage('t', options({ args, kwargs }), 'o', NOW);
    return [message.headers.argsrepr, message.headers.kwargsrepr];
  };

  it('renders args as a tuple: (), (2,), (2, 3)', () => {
    assert.deepEqual(reprs([], {}), ['()', '{}']);
    assert.deepEqual(reprs([2], {}), ['(2,)', '{}']);
    assert.deepEqual(reprs([2, 3], { y: 3 }), ['(2, 3)', "{'y': 3}"]);
  });

  it("cuts both at Celery's argsrepr_maxsize/kwargsrepr_maxsize (REPR_MAXSIZE)", () => {
    assert.equal(REPR_MAXSIZE, 1024);
    const long = 'word '.repeat(300);
    assert.deepEqual(reprs([long], { k: long }), [saferepr({ kind: 'tuple', items: [long] }, REPR_MAXSIZE), saferepr({ kind: 'dict', entries: [['k', long]] }, REPR_MAXSIZE)]);
    assert.ok(String(reprs([long], {})[0]).endsWith("word...', ..."), 'the args are cut');
  });
});

describe('parseApplyRequest: Flower-compatible bodies', () => {
  it('defaults: no body means no args, queue "celery", priority 0', () => {
    for (const body of [undefined, null, '', '  ', {}, Buffer.from('')]) {
      assert.deepEqual(parseApplyRequest(body, {}, NOW), options(), `body ${JSON.stringify(body)}`);
    }
  });

  it('reads args, kwargs, queue, priority and task_id', () => {
    const parsed = parseApplyRequest({ args: [1, 'two', { three: [3] }], kwargs: { y: 3 }, queue: 'q1', priority: 6, task_id: 'abc-123' }, {}, NOW);
    assert.deepEqual(parsed, options({ args: [1, 'two', { three: [3] }], kwargs: { y: 3 }, queue: 'q1', priority: 6, taskId: 'abc-123' }));
  });

  it('takes routing_key as the queue when queue is absent; queue wins when both are given', () => {
    assert.equal(parseApplyRequest({ routing_key: 'rk' }, {}, NOW).queue, 'rk');
    assert.equal(parseApplyRequest({ routing_key: 'rk', queue: 'q' }, {}, NOW).queue, 'q');
  });

  it("reads countdown, eta and expires in Flower's formats and ISO 8601 (no offset = UTC)", () => {
    assert.equal(parseApplyRequest({ countdown: 2.5 }, {}, NOW).countdown, 2.5);
    assert.equal(parseApplyRequest({ countdown: '10' }, {}, NOW).countdown, 10);
    const eta = (text: string): string | undefined => parseApplyRequest({ eta: text }, {}, NOW).eta?.toISOString();
    assert.equal(eta('2030-01-02 03:04:05.123456'), '2030-01-02T03:04:05.123Z');
    assert.equal(eta('2030-1-2 3:4:5.5'), '2030-01-02T03:04:05.500Z');
    assert.equal(eta('2030-01-02 03:04:05'), '2030-01-02T03:04:05.000Z');
    assert.equal(eta('2030-01-02T03:04:05Z'), '2030-01-02T03:04:05.000Z');
    assert.equal(eta('2030-01-02T03:04:05.25+02:00'), '2030-01-02T01:04:05.250Z');
    assert.equal(eta('2030-01-02T03:04'), '2030-01-02T03:04:00.000Z');
    assert.equal(eta('2024-02-29 00:00:00'), '2024-02-29T00:00:00.000Z');
    const expires = (value: unknown): string | undefined => parseApplyRequest({ expires: value }, {}, NOW).expires?.toISOString();
    assert.equal(expires(60), new Date(NOW.getTime() + 60_000).toISOString());
    assert.equal(expires('1.5'), new Date(NOW.getTime() + 1_500).toISOString());
    assert.equal(expires(-5), new Date(NOW.getTime() - 5_000).toISOString());
    assert.equal(expires('2030-01-02 03:04:05.000001'), '2030-01-02T03:04:05.000Z');
  });

  it("expires in seconds gives Celery's exact expiration when the same `now` builds the message", () => {
    const parsed = parseApplyRequest({ args: [2], kwargs: { y: 3 }, expires: 60, countdown: 10 }, {}, NOW);
    const message = buildTaskMessage('tasks.add', parsed, 'o', NOW);
    assert.equal(message.expiration, '60000');
    assert.equal(message.headers.expires, '2026-11-21T11:47:51.096000+00:00');
    assert.equal(message.headers.eta, '2026-11-21T11:47:01.096000+00:00');
  });

  it('null means "not given"; unknown keys are ignored (Flower passes them to apply_async)', () => {
    assert.deepEqual(parseApplyRequest({ queue: null, countdown: null, eta: null, expires: null, priority: null, task_id: null, kwargs: null }, {}, NOW), options());
    assert.deepEqual(parseApplyRequest({ args: [1], shadow: 'x', time_limit: 3, exchange: 'e', retry: true }, {}, NOW), options({ args: [1] }));
  });

  it('accepts the body as JSON text or bytes (Flower decodes the body whatever its Content-Type)', () => {
    assert.deepEqual(parseApplyRequest('{"args": [1, 2]}', {}, NOW).args, [1, 2]);
    assert.deepEqual(parseApplyRequest(Buffer.from('{"kwargs": {"a": 1}}'), {}, NOW).kwargs, { a: 1 });
  });

  it('takes scalar options from the query string too; the body wins', () => {
    const parsed = parseApplyRequest({ queue: 'from-body' }, { queue: 'from-query', priority: '3', countdown: '1.5', task_id: ['first', 'last'] }, NOW);
    assert.equal(parsed.queue, 'from-body');
    assert.equal(parsed.priority, 3);
    assert.equal(parsed.countdown, 1.5);
    assert.equal(parsed.taskId, 'last');
  });

  const refused: [string, unknown, Record<string, unknown>, RegExp][] = [
    ['an array body', [1, 2], {}, /must be a JSON object/],
    ['a JSON array text body', '[1, 2]', {}, /must be a JSON object/],
    ['a number body', 5, {}, /must be a JSON object/],
    ['invalid JSON text', '{"args": [1,', {}, /not valid JSON/],
    ['args not an array', { args: { a: 1 } }, {}, /'args'.*must be an array/],
    ['args a string', { args: '1, 2' }, {}, /'args'.*must be an array/],
    ['kwargs an array', { kwargs: [1] }, {}, /'kwargs'.*must be an object/],
    ['kwargs a string', { kwargs: 'a=1' }, {}, /'kwargs'.*must be an object/],
    ['a kombu type tag in args', { args: [{ __type__: 'datetime', __value__: '2024-01-02' }] }, {}, /'args'.*__type__/],
    ['a __value__ key deep in kwargs', { kwargs: { a: [{ b: { __value__: 1 } }] } }, {}, /'kwargs'.*\["a"\]\[0\]\["b"\].*__value__/],
    ['arguments nested too deeply', { args: [JSON.parse('['.repeat(70) + ']'.repeat(70)) as JsonValue] }, {}, /nested more than 64/],
    ['an empty queue', { queue: '' }, {}, /'queue'.*must not be empty/],
    ['a non-string queue', { queue: 5 }, {}, /'queue'.*expected a queue name/],
    ['a queue longer than 255 bytes', { queue: 'é'.repeat(128) }, {}, /'queue'.*255 bytes/],
    ['a queue with control characters', { queue: 'a\nb' }, {}, /'queue'.*control characters/],
    ['an invalid routing_key', { routing_key: '' }, {}, /'routing_key'.*must not be empty/],
    ['a non-numeric countdown', { countdown: 'soon' }, {}, /'countdown'.*number of seconds/],
    ['countdown "inf"', { countdown: 'inf' }, {}, /'countdown'/],
    ['countdown true', { countdown: true }, {}, /'countdown'/],
    ['countdown overflowing "1e400"', { countdown: '1e400' }, {}, /'countdown'.*finite/],
    ['countdown past year 9999', { countdown: 1e12 }, {}, /'countdown'.*years 1–9999/],
    ['eta in an unknown format', { eta: '02/01/2030' }, {}, /'eta'.*expected "YYYY-MM-DD HH:MM:SS/],
    ['eta as a number', { eta: 1700000000 }, {}, /'eta'.*date-time string/],
    ['eta on February 30th', { eta: '2030-02-30 00:00:00' }, {}, /'eta'/],
    ['eta on February 29th of a non-leap year', { eta: '2023-02-29 00:00:00' }, {}, /'eta'/],
    ['eta at 24:00', { eta: '2030-01-01 24:00:00' }, {}, /'eta'/],
    ['eta with a dangling fraction dot', { eta: '2030-01-01 00:00:00.' }, {}, /'eta'/],
    ['eta with a time zone name', { eta: '2030-01-01 00:00:00 CET' }, {}, /'eta'/],
    ['eta with a bad offset', { eta: '2030-01-01T00:00:00+25:00' }, {}, /'eta'/],
    ['expires as an object', { expires: { seconds: 5 } }, {}, /'expires'/],
    ['expires as text that is neither', { expires: 'tomorrow' }, {}, /'expires'/],
    ['priority 10', { priority: 10 }, {}, /'priority'.*0 to 9/],
    ['priority -1', { priority: -1 }, {}, /'priority'.*0 to 9/],
    ['priority 1.5', { priority: 1.5 }, {}, /'priority'.*0 to 9/],
    ['priority "high"', { priority: 'high' }, {}, /'priority'.*0 to 9/],
    ['priority 10 in the query', {}, { priority: '10' }, /'priority'.*0 to 9/],
    ['a task_id with spaces', { task_id: 'not an id' }, {}, /'task_id'/],
    ['a task_id with a slash', { task_id: '../x' }, {}, /'task_id'/],
    ['a too long task_id', { task_id: 'a'.repeat(256) }, {}, /'task_id'/],
    ['a numeric task_id', { task_id: 42 }, {}, /'task_id'/],
    ['link', { link: 'tasks.add' }, {}, /'link' is not supported/],
    ['link_error', { link_error: [] }, {}, /'link_error' is not supported/],
    ['headers', { headers: { x: 1 } }, {}, /'headers' is not supported/],
    ['serializer', { serializer: 'pickle' }, {}, /'serializer' is not supported/],
    ['compression', { compression: 'zlib' }, {}, /'compression' is not supported/],
    ['link in the query', {}, { link: 'x' }, /'link' is not supported/],
    ['args in the query', {}, { args: '[1]' }, /'args' must be sent in the JSON request body/],
    ['kwargs in the query', {}, { kwargs: '{}' }, /'kwargs' must be sent in the JSON request body/],
    ['an invalid countdown in the query', {}, { countdown: 'x' }, /'countdown'/],
  ];
  for (const [what, body, query, message] of refused) {
    it(`400 for ${what}`, () => {
      assert.throws(
        () => parseApplyRequest(body, query, NOW),
        (error: unknown) => error instanceof RequestError && error.status === 400 && message.test(error.message),
      );
    });
  }
});
