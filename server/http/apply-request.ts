/**
 * Flower's `/api/task/apply|async-apply|send-task` request bodies (docs/flower-reference.md §2.1)
 * → the TaskSendOptions that server/control/task-message.ts turns into a Celery task message.
 * Bad input becomes RequestError(400) with the reason.
 */
import { z } from 'zod';
import { DEFAULT_QUEUE, isPlainObject, sendableJsonProblem, TASK_ID_PATTERN, type TaskSendOptions } from '../control/task-message';
import type { JsonValue } from '../protocol/events';
import { errorText, RequestError } from '../errors';
import { param } from './params';

/** Options Flower would forward to apply_async but Celeriac cannot honour: refused, never dropped silently. */
const REFUSED_OPTIONS: Readonly<Record<string, string>> = {
  link: 'callbacks need Python signatures',
  link_error: 'errbacks need Python signatures',
  headers: 'custom message headers are not supported',
  serializer: 'tasks are always sent as JSON',
  compression: 'tasks are always sent uncompressed',
};

/** Scalar options that may also come from the query string (as text). */
const QUERY_OPTIONS = ['queue', 'routing_key', 'countdown', 'eta', 'expires', 'priority', 'task_id'] as const;

/** Python's float() on text, restricted to finite decimal notation. */
const DECIMAL_RE = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const secondsSchema = z.union([z.number(), z.string().regex(DECIMAL_RE).transform(Number)], { error: 'expected a number of seconds' }).pipe(z.number({ error: 'expected a finite number of seconds' }));
const prioritySchema = z
  .union(
    [
      z.number().int(),
      z
        .string()
        .regex(/^\s*\d+\s*$/)
        .transform(Number),
    ],
    { error: 'expected an integer from 0 to 9' },
  )
  .pipe(z.number().int().min(0, 'expected an integer from 0 to 9').max(9, 'expected an integer from 0 to 9'));
const queueSchema = z
  .string({ error: 'expected a queue name' })
  .min(1, 'must not be empty')
  .refine((s) => Buffer.byteLength(s, 'utf8') <= 255, 'must be at most 255 bytes (AMQP short string)')
  .refine((s) => !/[\p{Cc}]/u.test(s), 'must not contain control characters');
const taskIdSchema = z.string({ error: 'expected a string' }).regex(TASK_ID_PATTERN, 'must be 1–255 characters of letters, digits and - _ . : (starting with a letter or digit)');
const argsSchema = z.array(z.unknown(), { error: 'args must be an array' });
const kwargsSchema = z.record(z.string(), z.unknown(), { error: 'kwargs must be an object' });

/**
 * Flower's `/api/task/apply|async-apply|send-task` body → TaskSendOptions. Throws RequestError(400).
 *
 * Body: a JSON object (or nothing): `args` (array, default []), `kwargs` (object, default {}),
 * `queue` (default "celery"; `routing_key` is used when `queue` is absent), `countdown`
 * (seconds), `eta` (Flower's `%Y-%m-%d %H:%M:%S.%f`, also without `.%f`, or ISO 8601),
 * `expires` (seconds, or a date-time as for `eta`), `priority` (0–9), `task_id`. Date-times
 * without an offset are UTC (Celery's default `enable_utc`). Numbers may be numeric strings, as
 * Flower passes them through `float()`. Other keys are ignored, as Flower hands them to
 * `apply_async` (Celery ignores what it does not know) — except `link`, `link_error`, `headers`,
 * `serializer` and `compression`, which are refused rather than silently not honoured.
 *
 * `query` may carry the scalar options too (body wins); `args`/`kwargs` must be in the body.
 * `now` anchors `expires` given in seconds: pass the same `now` to buildTaskMessage to get
 * Celery's exact `expiration` ("60000" for 60 s).
 */
export function parseApplyRequest(body: unknown, query: Record<string, unknown>, now: Date = new Date()): TaskSendOptions {
  const options = requestObject(body);
  for (const source of [options, query]) {
    for (const key of Object.keys(REFUSED_OPTIONS)) {
      if (Object.hasOwn(source, key)) throw new RequestError(400, `Option '${key}' is not supported by Celeriac (${REFUSED_OPTIONS[key]})`);
    }
  }
  for (const key of ['args', 'kwargs']) {
    if (Object.hasOwn(query, key)) throw new RequestError(400, `'${key}' must be sent in the JSON request body, not in the query string`);
  }
  const raw = (name: (typeof QUERY_OPTIONS)[number]): unknown => {
    const value = Object.hasOwn(options, name) ? options[name] : param(query, name);
    // Python's None, like an absent option, means "Celery's default".
    return value === null ? undefined : value;
  };

  const args = field('args', argsSchema, options.args ?? []);
  const kwargs = field('kwargs', kwargsSchema, options.kwargs ?? {});
  const argsProblem = sendableJsonProblem(args);
  if (argsProblem !== null) throw new RequestError(400, `Invalid 'args': ${argsProblem}`);
  const kwargsProblem = sendableJsonProblem(kwargs);
  if (kwargsProblem !== null) throw new RequestError(400, `Invalid 'kwargs': ${kwargsProblem}`);

  const queueRaw = raw('queue');
  const routingKeyRaw = raw('routing_key');
  const queue = queueRaw !== undefined ? field('queue', queueSchema, queueRaw) : routingKeyRaw !== undefined ? field('routing_key', queueSchema, routingKeyRaw) : DEFAULT_QUEUE;

  const countdownRaw = raw('countdown');
  const countdown = countdownRaw === undefined ? null : field('countdown', secondsSchema, countdownRaw);
  if (countdown !== null) checkYear(new Date(now.getTime() + countdown * 1000), 'countdown');

  const etaRaw = raw('eta');
  let eta: Date | null = null;
  if (etaRaw !== undefined) {
    if (typeof etaRaw !== 'string') throw new RequestError(400, `Invalid 'eta': expected a date-time string like "2026-01-02 03:04:05.000000" or ISO 8601`);
    eta = parseDateTime(etaRaw, 'eta');
  }

  const expiresRaw = raw('expires');
  let expires: Date | null = null;
  if (expiresRaw !== undefined) {
    const seconds = secondsSchema.safeParse(expiresRaw);
    if (seconds.success) expires = checkYear(new Date(now.getTime() + Math.round(seconds.data * 1000)), 'expires');
    else if (typeof expiresRaw === 'string') expires = parseDateTime(expiresRaw, 'expires');
    else throw new RequestError(400, `Invalid 'expires': expected a number of seconds or a date-time string`);
  }

  const priorityRaw = raw('priority');
  const priority = priorityRaw === undefined ? 0 : field('priority', prioritySchema, priorityRaw);
  const taskIdRaw = raw('task_id');

  const parsed: TaskSendOptions = {
    // Validated above as JSON (arrays, plain objects, finite numbers, strings, booleans, null).
    args: args as JsonValue[],
    kwargs: kwargs as Record<string, JsonValue>,
    queue,
    countdown,
    eta,
    expires,
    priority,
  };
  if (taskIdRaw !== undefined) parsed.taskId = field('task_id', taskIdSchema, taskIdRaw);
  return parsed;
}

/** The body as an object: nothing means `{}`; text or bytes are JSON (Flower ignores Content-Type). */
function requestObject(body: unknown): Record<string, unknown> {
  let value = body;
  if (value instanceof Uint8Array) value = Buffer.from(value).toString('utf8');
  if (typeof value === 'string') {
    if (value.trim() === '') return {};
    try {
      value = JSON.parse(value) as unknown;
    } catch (error) {
      throw new RequestError(400, `Request body is not valid JSON: ${errorText(error)}`);
    }
  }
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new RequestError(400, 'Request body must be a JSON object like {"args": [...], "kwargs": {...}}');
  return value;
}

function field<T>(name: string, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const message = result.error.issues[0]?.message ?? 'invalid value';
  const shown = JSON.stringify(value) ?? String(value);
  throw new RequestError(400, `Invalid '${name}': ${message} (got ${shown.length > 100 ? shown.slice(0, 100) + '…' : shown})`);
}

function checkYear(date: Date, name: string): Date {
  const year = date.getUTCFullYear();
  if (!Number.isFinite(date.getTime()) || year < 1 || year > 9999) throw new RequestError(400, `Invalid '${name}': the resulting date is outside the years 1–9999`);
  return date;
}

// Flower: "%Y-%m-%d %H:%M:%S.%f" (strptime: 1–2 digit fields, 1–6 digit fraction); also without %f.
const FLOWER_DATETIME_RE = /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?$/;
const ISO_DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/** A date-time in Flower's format or ISO 8601; no offset means UTC. Throws RequestError(400). */
export function parseDateTime(text: string, name: string): Date {
  const invalid = (): RequestError =>
    new RequestError(400, `Invalid '${name}': expected "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) or ISO 8601, got ${JSON.stringify(text.length > 60 ? text.slice(0, 60) + '…' : text)}`);
  const s = text.trim();
  const match = FLOWER_DATETIME_RE.exec(s) ?? ISO_DATETIME_RE.exec(s);
  if (!match) throw invalid();
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(match[i] ?? '0')) as [number, number, number, number, number, number];
  const fraction = match[7] ?? '';
  const millis = fraction === '' ? 0 : Math.floor(Number(fraction.padEnd(9, '0').slice(0, 9)) / 1e6);
  let offsetMinutes = 0;
  if (match[9] !== undefined) {
    const hours = Number(match[10]);
    const minutes = Number(match[11]);
    if (hours > 23 || minutes > 59) throw invalid();
    offsetMinutes = (match[9] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  if (year < 1 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) throw invalid();
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeap(year) ? 1 : 0);
  if (day < 1 || day > daysInMonth) throw invalid();
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, millis);
  return checkYear(new Date(utc.getTime() - offsetMinutes * 60_000), name);
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
