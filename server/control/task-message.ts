/**
 * Sending tasks the way Celery's own client does (task message protocol v2,
 * docs/celery-wire-protocol.md §7). Reading Flower's request bodies into TaskSendOptions is the
 * HTTP layer's (server/http/apply-request.ts).
 *
 * `buildTaskMessage` reproduces `celery.app.amqp.AMQP.as_task_v2` + `Celery.send_task` of Celery
 * 5.2–5.6: the same headers in the same order, the same body, the same `eta`/`expires` text and
 * the same `argsrepr`/`kwargsrepr` (a port of `celery.utils.saferepr`, quirks included, because
 * that text is what every monitor shows for the task). The only header set is the 5.2 one: the
 * 5.3+ additions (`replaced_task_nesting`, `stamped_headers`, `stamps`) are read with defaults by
 * newer workers and ignored by older ones.
 */
import { randomUUID } from 'node:crypto';
import type { OutboundTaskMessage } from '../broker/transport';
import type { JsonValue } from '../protocol/events';
import { pyRepr } from '../protocol/python/repr';
import { codePointLength } from '../protocol/python/str';
import type { PyExactValue } from '../protocol/python/value';

/** What to send: Celery's `apply_async` options that Celeriac supports. */
export interface TaskSendOptions {
  args: JsonValue[];
  kwargs: Record<string, JsonValue>;
  /** Queue name; published to the default exchange with this routing key (§7.4). */
  queue: string;
  /** Seconds from `now`; when non-zero it replaces `eta`, as in Celery (`if countdown:`). */
  countdown: number | null;
  eta: Date | null;
  expires: Date | null;
  /** 0–9 (on Redis 0 is the highest priority, on RabbitMQ 9; §6.1). */
  priority: number;
  /** Default: a fresh uuid4. */
  taskId?: string;
  parentId?: string | null;
  /** Default (also when empty): the task id, as for a top-level task. */
  rootId?: string | null;
}

/** Celery's `AMQP.argsrepr_maxsize` and `kwargsrepr_maxsize`. */
export const REPR_MAXSIZE = 1024;
/** `saferepr`'s default `maxlevels`: containers nested deeper show as `[...]`. */
export const REPR_MAXLEVELS = 3;
/** Deepest nesting accepted in args/kwargs (kombu's JSON decoder and the worker must cope with it). */
export const MAX_ARGUMENT_DEPTH = 64;
export const DEFAULT_QUEUE = 'celery';
/**
 * What a task id may look like when a client chooses it: it becomes part of Redis keys
 * (`celery-task-meta-<id>`) and of URLs (`/api/task/result/<id>`), so only characters that are
 * safe in both. Celery's own ids are uuid4 strings.
 */
export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}$/;

// ---------------------------------------------------------------------------------------------
// The message
// ---------------------------------------------------------------------------------------------

/**
 * The task message Celery would publish for `send_task(taskName, args, kwargs, **options)`.
 * `origin` is the sender's node name (Celery uses `gen<pid>@<host>`). Throws TypeError/RangeError
 * for options no Celery client could send (parseApplyRequest never produces those).
 *
 * `argsrepr` renders `args` as a *tuple* — `(2, 3)`, `(2,)` — as `apply_async((2, 3))` does.
 * (Celery reprs whatever sequence it is given, so `send_task(name, [2, 3])` would show `[2, 3]`;
 * the tuple form is what Celery's documentation and most callers produce, and it keeps one task
 * looking the same whichever Celeriac endpoint sent it.) Nested arrays are lists, objects dicts.
 */
export function buildTaskMessage(taskName: string, options: TaskSendOptions, origin: string, now: Date = new Date()): OutboundTaskMessage {
  if (typeof taskName !== 'string' || taskName === '') throw new TypeError('task name must be a non-empty string');
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError('now is not a valid date');
  if (!Number.isInteger(options.priority) || options.priority < 0 || options.priority > 9) {
    throw new RangeError(`priority must be an integer from 0 to 9, got ${String(options.priority)}`);
  }
  if (!Array.isArray(options.args)) throw new TypeError('args must be an array');
  if (!isPlainObject(options.kwargs)) throw new TypeError('kwargs must be a plain object');
  const problem = sendableJsonProblem(options.args) ?? sendableJsonProblem(options.kwargs);
  if (problem !== null) throw new TypeError(problem);
  if (typeof options.queue !== 'string' || options.queue === '') throw new TypeError('queue must be a non-empty string');

  const id = options.taskId ?? randomUUID();
  // Celery converts a countdown only when it is truthy (`if countdown:`): 0 keeps `eta`.
  let eta: string | null = null;
  if (options.countdown !== null && options.countdown !== 0) {
    if (!Number.isFinite(options.countdown)) throw new RangeError('countdown must be a finite number of seconds');
    // timedelta(seconds=x) keeps microseconds, so the eta does too.
    eta = isoFromEpochMicros(nowMs * 1000 + Math.round(options.countdown * 1e6));
  } else if (options.eta !== null) {
    eta = isoFromEpochMicros(validTime(options.eta, 'eta') * 1000);
  }
  let expires: string | null = null;
  let expiration: string | null = null;
  if (options.expires !== null) {
    const expiresMs = validTime(options.expires, 'expires');
    expires = isoFromEpochMicros(expiresMs * 1000);
    // send_task: str(int(seconds_left * 1000)), and 0 for a date already past (§7.3).
    expiration = String(Math.max(0, Math.trunc(expiresMs - nowMs)));
  }

  const headers: Record<string, JsonValue> = {
    lang: 'py',
    task: taskName,
    id,
    shadow: null,
    eta,
    expires,
    group: null,
    group_index: null,
    retries: 0,
    timelimit: [null, null],
    root_id: options.rootId ? options.rootId : id,
    parent_id: options.parentId ?? null,
    argsrepr: saferepr({ kind: 'tuple', items: options.args.map(jsonToPython) }, REPR_MAXSIZE),
    kwargsrepr: saferepr(jsonToPython(options.kwargs), REPR_MAXSIZE),
    origin,
    ignore_result: false,
  };
  return {
    queue: options.queue,
    headers,
    body: [options.args, options.kwargs, { callbacks: null, errbacks: null, chain: null, chord: null }],
    correlationId: id,
    priority: options.priority,
    expiration,
  };
}

function validTime(date: Date, what: string): number {
  const ms = date instanceof Date ? date.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new RangeError(`${what} is not a valid date`);
  return ms;
}

/** Python's `datetime.isoformat()` of an aware UTC datetime: microseconds only when non-zero. */
export function isoFromEpochMicros(epochMicros: number): string {
  const ms = Math.floor(epochMicros / 1000);
  const micros = Math.round(epochMicros - ms * 1000);
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  if (!Number.isFinite(ms) || year < 1 || year > 9999) throw new RangeError('date is outside the years 1–9999 Python can represent');
  const fraction = date.getUTCMilliseconds() * 1000 + micros;
  const base = date.toISOString().slice(0, 19);
  return `${base}${fraction === 0 ? '' : '.' + String(fraction).padStart(6, '0')}+00:00`;
}

// ---------------------------------------------------------------------------------------------
// JSON → Python values, and Celery's saferepr
// ---------------------------------------------------------------------------------------------

/**
 * The Python value a worker will decode from `JSON.stringify(value)`: what is rendered must be
 * what is received, so a number is an int exactly when its JSON text has no `.`/exponent
 * (2**60 is an int, 1.5 and 1e+300 are floats, -0 is sent as `0`).
 */
function jsonToPython(value: JsonValue, depth = 0): PyExactValue {
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'number') {
    const text = JSON.stringify(value);
    if (/^-?\d+$/.test(text)) return Number.isSafeInteger(value) ? value : BigInt(text);
    return { kind: 'float', value };
  }
  // Past saferepr's depth limit every container prints as `[...]`/`{...}` whatever it holds,
  // so its contents are never looked at (and hostile nesting costs nothing).
  const pruned = depth > REPR_MAXLEVELS + 1;
  if (Array.isArray(value)) return pruned ? [] : value.map((item) => jsonToPython(item, depth + 1));
  return { kind: 'dict', entries: pruned ? [] : Object.entries(value).map(([k, v]) => [k, jsonToPython(v, depth + 1)]) };
}

type Literal = { readonly t: 'lit'; readonly text: string; readonly truncatable: boolean; readonly direction: -1 | 0 | 1 };
/** saferepr's token stream: literal punctuation, dict keys, values, and "container done" marks. */
type Token = Literal | { readonly t: 'key'; readonly value: PyExactValue } | { readonly t: 'value'; readonly value: PyExactValue } | { readonly t: 'dirty' };
/** What reprstream hands to the renderer. */
type Rendered = Literal | { readonly t: 'key'; readonly value: PyExactValue } | { readonly t: 'quoted'; readonly value: string; readonly bytes: boolean } | { readonly t: 'text'; readonly text: string };

const lit = (text: string, truncatable: boolean, direction: -1 | 0 | 1): Literal => ({ t: 'lit', text, truncatable, direction });
const DICT_START = lit('{', false, 1);
const DICT_KVSEP = lit(': ', true, 0);
const DICT_END = lit('}', false, -1);
const LIST_START = lit('[', false, 1);
const LIST_END = lit(']', false, -1);
const LIST_SEP = lit(', ', true, 0);
const TUPLE_START = lit('(', false, 1);
const TUPLE_END = lit(')', false, -1);
const TUPLE_END_SINGLE = lit(',)', false, -1);
const DIRTY: Token = { t: 'dirty' };

/**
 * A port of `celery.utils.saferepr.saferepr(o, maxlen, maxlevels)` (identical in Celery 5.2.6
 * and 5.6.3). It is *not* `repr()`: strings are always single-quoted with only `'` escaped
 * (newlines, backslashes and non-ASCII appear raw); containers nested `maxlevels` deep print as
 * `[...]`; once `maxlen` characters are out it appends `, ...` plus whatever closing brackets
 * are still pending — and the token that hit the limit is dropped even when it was a closing
 * bracket, so `('xxx…', ...` is a faithful rendering. Lengths count code points, as Python does.
 *
 * Iterators are driven by hand (never `for…of` + `break`), because Python's `for … break`
 * leaves an iterator usable and the algorithm relies on continuing it afterwards.
 */
export function saferepr(value: PyExactValue, maxlen: number | null = null, maxlevels = REPR_MAXLEVELS): string {
  const stack: Iterator<Token>[] = [[{ t: 'value', value } as Token][Symbol.iterator]()];
  const out: string[] = [];
  let remaining = maxlen;
  const stream = reprstream(stack, maxlevels);
  for (let step = stream.next(); !step.done; step = stream.next()) {
    const [token, iterator] = step.value;
    if (remaining !== null && remaining <= 0) {
      out.push(', ...');
      stack.push(iterator);
      break;
    }
    let text: string;
    switch (token.t) {
      case 'lit':
        text = token.text;
        break;
      case 'key':
        text = saferepr(token.value, remaining, maxlevels);
        break;
      case 'quoted':
        text = token.bytes ? formatBytes(token.value, remaining) : "'" + truncate(token.value, remaining).replaceAll("'", "\\'") + "'";
        break;
      case 'text':
        text = truncate(token.text, remaining);
        break;
    }
    out.push(text);
    if (remaining !== null) remaining -= codePointLength(text);
  }
  // Out of room: still close every bracket that was opened (but not the one just dropped).
  for (const rest of stack) {
    for (let item = rest.next(); !item.done; item = rest.next()) {
      if (item.value.t === 'lit' && !item.value.truncatable) out.push(item.value.text);
    }
  }
  return out.join('');
}

function* reprstream(stack: Iterator<Token>[], maxlevels: number): Generator<[Rendered, Iterator<Token>]> {
  let level = 0;
  while (stack.length > 0) {
    const iterator = stack.shift() as Iterator<Token>;
    for (let step = iterator.next(); !step.done; step = iterator.next()) {
      const token = step.value;
      if (token.t === 'dirty') continue;
      if (token.t === 'lit') {
        level += token.direction;
        yield [token, iterator];
        continue;
      }
      if (token.t === 'key') {
        yield [token, iterator];
        continue;
      }
      const value = token.value;
      const scalar = scalarToken(value);
      if (scalar !== null) {
        yield [scalar, iterator];
        continue;
      }
      let start: Literal;
      let end: Literal;
      let items: Iterator<Token>;
      if (Array.isArray(value)) {
        [start, end, items] = [LIST_START, LIST_END, chainList(value)];
      } else if (typeof value === 'object' && value !== null && value.kind === 'tuple') {
        [start, end, items] = [TUPLE_START, value.items.length === 1 ? TUPLE_END_SINGLE : TUPLE_END, chainList(value.items)];
      } else if (typeof value === 'object' && value !== null && value.kind === 'set') {
        if (value.items.length === 0) {
          yield [{ t: 'text', text: 'set()' }, iterator];
          continue;
        }
        [start, end, items] = [DICT_START, DICT_END, chainList(value.items)];
      } else if (typeof value === 'object' && value !== null && value.kind === 'dict') {
        [start, end, items] = [DICT_START, DICT_END, chainDict(value.entries)];
      } else {
        throw new TypeError('unreachable: unhandled Python value');
      }
      if (maxlevels && level >= maxlevels) {
        yield [{ t: 'text', text: `${start.text}...${end.text}` }, iterator];
        continue;
      }
      // Continue with the container's tokens, then the rest of the current iterator.
      stack.push(chain([start], items, [DIRTY, end], iterator));
      break;
    }
  }
}

/** Everything that is not a container: numbers via `str()`, strings/bytes quoted, the rest `repr()`. */
function scalarToken(value: PyExactValue): Rendered | null {
  switch (typeof value) {
    case 'string':
      return { t: 'quoted', value, bytes: false };
    case 'number':
    case 'bigint':
      return { t: 'text', text: value.toString() };
    case 'boolean':
      return { t: 'text', text: value ? 'True' : 'False' };
    default:
      break;
  }
  if (value === null) return { t: 'text', text: 'None' };
  if (Array.isArray(value)) return null;
  switch (value.kind) {
    case 'float':
    case 'ellipsis':
      // Python 3's str(float) is its repr.
      return { t: 'text', text: pyRepr(value) };
    case 'bytes':
      return { t: 'quoted', value: value.value, bytes: true };
    default:
      return null;
  }
}

function* chain(...parts: (readonly Token[] | Iterator<Token>)[]): Generator<Token> {
  for (const part of parts) {
    if (Array.isArray(part)) {
      for (const token of part as readonly Token[]) yield token;
    } else {
      const iterator = part as Iterator<Token>;
      for (let step = iterator.next(); !step.done; step = iterator.next()) yield step.value;
    }
  }
}

function* chainList(items: readonly PyExactValue[]): Generator<Token> {
  for (let i = 0; i < items.length; i++) {
    yield { t: 'value', value: items[i] as PyExactValue };
    if (i < items.length - 1) yield LIST_SEP;
  }
}

function* chainDict(entries: readonly [PyExactValue, PyExactValue][]): Generator<Token> {
  for (let i = 0; i < entries.length; i++) {
    const [key, value] = entries[i] as [PyExactValue, PyExactValue];
    yield { t: 'key', value: key };
    yield DICT_KVSEP;
    yield { t: 'value', value };
    if (i < entries.length - 1) yield LIST_SEP;
  }
}

/** `celery.utils.text.truncate`: cut at `maxlen` code points, back to the last space, add `...`. */
function truncate(text: string, maxlen: number | null): string {
  if (!maxlen || maxlen < 0) return text;
  if (codePointLength(text) < maxlen) return text;
  const head = Array.from(text).slice(0, maxlen).join('');
  const space = head.lastIndexOf(' ');
  return (space === -1 ? head : head.slice(0, space)) + '...';
}

/** `_format_binary_bytes`: UTF-8 text when it decodes, hex otherwise; `value` holds one char per byte. */
function formatBytes(value: string, maxlen: number | null): string {
  const cut = maxlen && maxlen > 0 && value.length > maxlen;
  const chunk = cut ? value.slice(0, maxlen) : value;
  const bytes = Uint8Array.from(chunk, (c) => c.charCodeAt(0) & 0xff);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = Buffer.from(bytes).toString('hex');
  }
  return `b'${text}${cut ? '...' : ''}'`;
}

// ---------------------------------------------------------------------------------------------
// Arguments a worker can receive
// ---------------------------------------------------------------------------------------------

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Why `value` cannot go into a task body, or null. Checked without recursion (hostile input
 * cannot exhaust the stack): JSON types only, finite numbers, nesting ≤ MAX_ARGUMENT_DEPTH, and
 * no object with a `__type__` or `__value__` key — kombu ≥ 5.3 decodes `{"__type__", "__value__"}`
 * objects into Python values and refuses unknown tags (newer kombu refuses any object holding
 * either key), so such an argument would reach a worker as something else or not at all.
 */
export function sendableJsonProblem(root: unknown): string | null {
  const pending: { value: unknown; depth: number; path: string }[] = [{ value: root, depth: 0, path: '' }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, depth, path } = next;
    if (value === null || typeof value === 'string' || typeof value === 'boolean') continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return `${where(path)} is not a finite number`;
      continue;
    }
    if (depth >= MAX_ARGUMENT_DEPTH) return `arguments are nested more than ${MAX_ARGUMENT_DEPTH} levels deep`;
    if (Array.isArray(value)) {
      value.forEach((item, i) => pending.push({ value: item, depth: depth + 1, path: `${path}[${i}]` }));
      continue;
    }
    if (!isPlainObject(value)) return `${where(path)} is not a JSON value`;
    if (Object.hasOwn(value, '__type__') || Object.hasOwn(value, '__value__')) {
      return `${where(path)} has a '__type__' or '__value__' key: kombu reserves those for its own JSON type tags`;
    }
    for (const [key, item] of Object.entries(value)) pending.push({ value: item, depth: depth + 1, path: `${path}[${JSON.stringify(key)}]` });
  }
  return null;
}

function where(path: string): string {
  return path === '' ? 'the value' : `the value at ${path}`;
}
