/**
 * Sending tasks the way Celery's own client does (task message protocol v2,
 * docs/celery-wire-protocol.md §7). Reading Flower's request bodies into TaskSendOptions is the
 * HTTP layer's (server/http/apply-request.ts).
 *
 * `buildTaskMessage` reproduces `celery.app.amqp.AMQP.as_task_v2` + `Celery.send_task` of Celery
 * 5.2–5.6: the same headers in the same order, the same body, the same `eta`/`expires` text and
 * the same `argsrepr`/`kwargsrepr` (server/protocol/python/saferepr.ts, a port of
 * `celery.utils.saferepr`, quirks included, because that text is what every monitor shows for the
 * task). The only header set is the 5.2 one: the 5.3+ additions (`replaced_task_nesting`,
 * `stamped_headers`, `stamps`) are read with defaults by newer workers and ignored by older ones.
 */
import { randomUUID } from 'node:crypto';
import type { OutboundTaskMessage } from '../broker/transport';
import type { JsonValue } from '../protocol/events';
import { jsonToPython, saferepr } from '../protocol/python/saferepr';

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
    argsrepr: saferepr({ kind: 'tuple', items: options.args.map((arg) => jsonToPython(arg)) }, REPR_MAXSIZE),
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
      for (const [i, item] of value.entries()) pending.push({ value: item, depth: depth + 1, path: `${path}[${i}]` });
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
