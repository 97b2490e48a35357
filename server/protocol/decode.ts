/**
 * The edge: untrusted broker bytes in, typed Celery events out.
 *
 * Order of operations is kombu's (docs/celery-wire-protocol.md §1):
 * transport body encoding (base64 on Redis) → decompress (headers.compression) → text
 * (content-encoding) → JSON → one event or a list of events (task.multi batches, §4.3).
 *
 * Nothing here throws. Every message or event that cannot be used is reported to the sink
 * with a reason so it is counted, and decoding continues with the next one.
 *
 * This is the hot path (tens of thousands of events a second): plain typeof guards, no schema
 * library, no intermediate arrays.
 */
import { brotliDecompressSync, inflateSync } from 'node:zlib';
import { IGNORED_EVENT_TYPES, KNOWN_TASK_EVENT_TYPES, type CeleryEvent, type DropReason, type JsonValue, type TaskEvent, type WorkerEvent, type WorkerEventType } from './events';

export interface EventSink {
  event(event: CeleryEvent): void;
  /** `detail` is for logs only (never shown to API users verbatim with payload data). */
  drop(reason: DropReason, detail: string): void;
  /** A well-formed event Celery uses internally and a monitor deliberately ignores (gossip). */
  ignored(type: string): void;
}

export interface DecodeOptions {
  /** Largest message accepted, in bytes of the raw payload. */
  maxMessageBytes: number;
}

export const DEFAULT_DECODE_OPTIONS: DecodeOptions = { maxMessageBytes: 8 * 1024 * 1024 };

/** Fields of kombu's envelope that decoding needs, whatever transport carried them. */
interface MessageParts {
  contentType: unknown;
  contentEncoding: unknown;
  headers: unknown;
}

/** Where a decoding failure is reported (the EventSink, or a collector for control replies). */
export interface DropSink {
  drop(reason: DropReason, detail: string): void;
}

const FAILED: unique symbol = Symbol('decode failed');

/**
 * What the Redis subscriber hands over instead of a pub/sub payload over the size limit, which it
 * discards while reading (../broker/redis/resp-scanner.ts): this prefix, then the payload's size in
 * bytes. The NUL makes it unmistakable for an envelope (JSON cannot start with one); a producer
 * that publishes the marker itself only gets its message counted as oversized instead of
 * bad_envelope.
 */
export const OVERSIZED_MARKER_PREFIX = '\u0000celeriac:oversized:';

/** The size carried by an oversized marker, or null if `payload` is not one. */
export function oversizedMarkerBytes(payload: string): number | null {
  if (payload.charCodeAt(0) !== 0 || !payload.startsWith(OVERSIZED_MARKER_PREFIX)) return null;
  const bytes = Number(payload.slice(OVERSIZED_MARKER_PREFIX.length));
  return Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : null;
}

/**
 * Decode one message published on Redis: a JSON envelope whose `body` is base64 (§1.2).
 * `localReceived` is Celeriac's receive time in epoch seconds.
 */
export function decodeRedisMessage(payload: string, localReceived: number, sink: EventSink, options: DecodeOptions = DEFAULT_DECODE_OPTIONS): void {
  const message = unwrapRedisEnvelope(payload, options, sink);
  if (!message) return;
  const value = parseJsonBody(message.body, message.parts, options, sink);
  if (value !== FAILED) emitEvents(value, localReceived, sink);
}

/** Decode one AMQP message: the body is the serialized bytes, content type in the basic properties (§1.3). */
export function decodeAmqpMessage(
  content: Buffer,
  properties: { contentType?: unknown; contentEncoding?: unknown; headers?: unknown },
  localReceived: number,
  sink: EventSink,
  options: DecodeOptions = DEFAULT_DECODE_OPTIONS,
): void {
  const value = decodeAmqpBody(content, properties, options, sink);
  if (value !== FAILED) emitEvents(value, localReceived, sink);
}

/** A decoded kombu message of any kind (control replies, task messages): headers and JSON body. */
export type DecodedMessage = { ok: true; headers: Record<string, unknown>; body: unknown } | { ok: false; reason: DropReason; detail: string };

class FirstDrop implements DropSink {
  reason: DropReason | null = null;
  detail = '';
  drop(reason: DropReason, detail: string): void {
    if (this.reason === null) {
      this.reason = reason;
      this.detail = detail;
    }
  }
}

/** Decode a kombu envelope read from a Redis list (control replies, queued task messages). */
export function decodeRedisEnvelope(payload: string, options: DecodeOptions = DEFAULT_DECODE_OPTIONS): DecodedMessage {
  const failure = new FirstDrop();
  const message = unwrapRedisEnvelope(payload, options, failure);
  const value = message ? parseJsonBody(message.body, message.parts, options, failure) : FAILED;
  if (value === FAILED || !message) return { ok: false, reason: failure.reason ?? 'bad_envelope', detail: failure.detail };
  return { ok: true, headers: isRecord(message.parts.headers) ? message.parts.headers : {}, body: value };
}

/** Decode an AMQP message of any kind. */
export function decodeAmqpEnvelope(
  content: Buffer,
  properties: { contentType?: unknown; contentEncoding?: unknown; headers?: unknown },
  options: DecodeOptions = DEFAULT_DECODE_OPTIONS,
): DecodedMessage {
  const failure = new FirstDrop();
  const value = decodeAmqpBody(content, properties, options, failure);
  if (value === FAILED) return { ok: false, reason: failure.reason ?? 'bad_envelope', detail: failure.detail };
  return { ok: true, headers: isRecord(properties.headers) ? properties.headers : {}, body: value };
}

function unwrapRedisEnvelope(payload: string, options: DecodeOptions, sink: DropSink): { body: Buffer; parts: MessageParts } | null {
  // Cheap first: only a marker starts with NUL (a JSON envelope never does).
  if (payload.charCodeAt(0) === 0) {
    const bytes = oversizedMarkerBytes(payload);
    if (bytes !== null) {
      sink.drop('oversized', `redis message of ${bytes} bytes (discarded while reading)`);
      return null;
    }
  }
  // String length is a lower bound of the byte size; exact enough to refuse absurd payloads.
  if (payload.length > options.maxMessageBytes) {
    sink.drop('oversized', `redis message of ${payload.length} chars`);
    return null;
  }
  let envelope: unknown;
  try {
    envelope = JSON.parse(payload);
  } catch {
    sink.drop('bad_envelope', 'redis message is not JSON');
    return null;
  }
  if (!isRecord(envelope) || typeof envelope.body !== 'string') {
    sink.drop('bad_envelope', 'redis message is not a kombu envelope (no string body)');
    return null;
  }
  const properties = isRecord(envelope.properties) ? envelope.properties : {};
  const bodyEncoding = properties.body_encoding;
  let body: Buffer;
  if (bodyEncoding === 'base64') {
    const text = envelope.body;
    body = Buffer.from(text, 'base64');
    // Node's decoder skips characters outside the alphabet instead of failing, so clean base64
    // is exactly the text whose decoded length matches its encoded length (cheaper than a regex).
    const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
    if (text.length % 4 !== 0 || body.length !== (text.length / 4) * 3 - padding) {
      sink.drop('bad_base64', 'body_encoding is base64 but body is not');
      return null;
    }
  } else if (bodyEncoding === undefined || bodyEncoding === null) {
    body = Buffer.from(envelope.body, 'utf8');
  } else {
    sink.drop('bad_envelope', `unsupported body_encoding ${String(bodyEncoding).slice(0, 40)}`);
    return null;
  }
  return { body, parts: { contentType: envelope['content-type'], contentEncoding: envelope['content-encoding'], headers: envelope.headers } };
}

function decodeAmqpBody(content: Buffer, properties: { contentType?: unknown; contentEncoding?: unknown; headers?: unknown }, options: DecodeOptions, sink: DropSink): unknown {
  if (content.length > options.maxMessageBytes) {
    sink.drop('oversized', `amqp message of ${content.length} bytes`);
    return FAILED;
  }
  return parseJsonBody(content, { contentType: properties.contentType, contentEncoding: properties.contentEncoding, headers: properties.headers }, options, sink);
}

/** Content checks, decompression and JSON parsing; FAILED (already reported) when unusable. */
function parseJsonBody(body: Buffer, parts: MessageParts, options: DecodeOptions, sink: DropSink): unknown {
  // Celery accepts only JSON by default; pickle must never be parsed (§1.1).
  if (parts.contentType !== 'application/json') {
    sink.drop('unsupported_content_type', `content-type ${describe(parts.contentType)}`);
    return FAILED;
  }
  const encoding = parts.contentEncoding;
  if (encoding !== undefined && encoding !== null && encoding !== 'utf-8' && encoding !== 'utf8') {
    sink.drop('unsupported_content_encoding', `content-encoding ${describe(encoding)}`);
    return FAILED;
  }
  const compression = isRecord(parts.headers) ? parts.headers.compression : undefined;
  if (compression !== undefined && compression !== null) {
    const inflated = decompress(body, compression, options, sink);
    if (!inflated) return FAILED;
    body = inflated;
  }
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    sink.drop('bad_json', 'body is not valid JSON');
    return FAILED;
  }
}

/** One event or a list of events (task.multi batches, §4.3). */
function emitEvents(value: unknown, localReceived: number, sink: EventSink): void {
  if (Array.isArray(value)) {
    for (const item of value) decodeEvent(item, localReceived, sink);
  } else {
    decodeEvent(value, localReceived, sink);
  }
}

function decompress(body: Buffer, compression: unknown, options: DecodeOptions, sink: DropSink): Buffer | null {
  try {
    // kombu's "application/x-gzip" is a zlib stream (RFC 1950), not a gzip file.
    if (compression === 'application/x-gzip' || compression === 'zlib') {
      return inflateSync(body, { maxOutputLength: options.maxMessageBytes });
    }
    if (compression === 'application/x-brotli') {
      return brotliDecompressSync(body, { maxOutputLength: options.maxMessageBytes });
    }
  } catch (error) {
    const tooLarge = error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    sink.drop(tooLarge ? 'oversized' : 'decompress_failed', `compression ${describe(compression)}`);
    return null;
  }
  sink.drop('unsupported_compression', `compression ${describe(compression)}`);
  return null;
}

/** Fields handled explicitly for task events; anything else on a custom event goes to `extra`. */
const COMMON_FIELDS = new Set(['type', 'hostname', 'timestamp', 'clock', 'utcoffset', 'pid', 'uuid', 'local_received']);
const TASK_FIELDS = new Set([
  'name',
  'args',
  'kwargs',
  'root_id',
  'parent_id',
  'retries',
  'eta',
  'expires',
  'queue',
  'exchange',
  'routing_key',
  'result',
  'runtime',
  'exception',
  'traceback',
  'terminated',
  'signum',
  'expired',
  'requeue',
]);

/** Turn one parsed JSON value into a typed event, or report why not. Exported for tests. */
export function decodeEvent(raw: unknown, localReceived: number, sink: EventSink): void {
  if (!isRecord(raw)) {
    sink.drop('not_an_event', 'event is not a JSON object');
    return;
  }
  const type = raw.type;
  if (typeof type !== 'string') {
    sink.drop(type === undefined ? 'missing_field' : 'wrong_type', 'event field "type"');
    return;
  }
  const hostname = raw.hostname;
  const timestamp = raw.timestamp;
  if (hostname === undefined || timestamp === undefined) {
    sink.drop('missing_field', `${type}: ${hostname === undefined ? 'hostname' : 'timestamp'}`);
    return;
  }
  if (typeof hostname !== 'string' || hostname === '' || typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
    sink.drop('wrong_type', `${type}: hostname or timestamp`);
    return;
  }
  const clock = raw.clock;
  const utcoffset = raw.utcoffset;
  const pid = raw.pid;
  if (
    (clock !== undefined && clock !== null && !isFiniteNumber(clock)) ||
    (utcoffset !== undefined && utcoffset !== null && !isFiniteNumber(utcoffset)) ||
    (pid !== undefined && pid !== null && !isFiniteNumber(pid))
  ) {
    sink.drop('wrong_type', `${type}: clock, utcoffset or pid`);
    return;
  }
  const base = {
    hostname,
    timestamp,
    localReceived,
    clock: typeof clock === 'number' ? clock : 0,
    utcoffset: typeof utcoffset === 'number' ? utcoffset : null,
    pid: typeof pid === 'number' ? pid : null,
  };

  if (type.startsWith('task-')) {
    const task = decodeTaskFields(type, raw, base, sink);
    if (task) sink.event(task);
    return;
  }
  if (type === 'worker-online' || type === 'worker-heartbeat' || type === 'worker-offline') {
    const worker = decodeWorkerFields(type, raw, base, sink);
    if (worker) sink.event(worker);
    return;
  }
  if (IGNORED_EVENT_TYPES.has(type)) {
    sink.ignored(type);
    return;
  }
  sink.drop('unknown_event_type', `type ${type.slice(0, 60)}`);
}

type Base = Pick<TaskEvent, 'hostname' | 'timestamp' | 'localReceived' | 'clock' | 'utcoffset' | 'pid'>;

function decodeTaskFields(type: string, raw: Record<string, unknown>, base: Base, sink: EventSink): TaskEvent | null {
  const uuid = raw.uuid;
  if (uuid === undefined) {
    sink.drop('missing_field', `${type}: uuid`);
    return null;
  }
  if (typeof uuid !== 'string' || uuid === '') {
    sink.drop('wrong_type', `${type}: uuid`);
    return null;
  }
  // Every optional field is checked for its JSON type; one wrong field drops the event rather
  // than letting a mistyped value reach the state (where it would corrupt sorting and metrics).
  const bad =
    !optString(raw.name) ||
    !optString(raw.args) ||
    !optString(raw.kwargs) ||
    !optStringOrNull(raw.root_id) ||
    !optStringOrNull(raw.parent_id) ||
    !optNumber(raw.retries) ||
    !optStringOrNull(raw.eta) ||
    !optStringOrNull(raw.expires) ||
    !optString(raw.queue) ||
    !optString(raw.exchange) ||
    !optString(raw.routing_key) ||
    !optString(raw.exception) ||
    !optString(raw.traceback) ||
    !optNumber(raw.runtime) ||
    !optBoolean(raw.terminated) ||
    !optBoolean(raw.expired) ||
    !optBoolean(raw.requeue) ||
    !(raw.signum === undefined || raw.signum === null || typeof raw.signum === 'string' || isFiniteNumber(raw.signum));
  if (bad) {
    sink.drop('wrong_type', `${type}: a task field has the wrong type`);
    return null;
  }
  const event: { -readonly [K in keyof TaskEvent]: TaskEvent[K] } = { kind: 'task', type, uuid, ...base };
  if (raw.name !== undefined) event.name = raw.name as string;
  if (raw.args !== undefined) event.args = raw.args as string;
  if (raw.kwargs !== undefined) event.kwargs = raw.kwargs as string;
  if (raw.root_id !== undefined) event.rootId = raw.root_id as string | null;
  if (raw.parent_id !== undefined) event.parentId = raw.parent_id as string | null;
  if (raw.retries !== undefined) event.retries = raw.retries as number;
  if (raw.eta !== undefined) event.eta = raw.eta as string | null;
  if (raw.expires !== undefined) event.expires = raw.expires as string | null;
  if (raw.queue !== undefined) event.queue = raw.queue as string;
  if (raw.exchange !== undefined) event.exchange = raw.exchange as string;
  if (raw.routing_key !== undefined) event.routingKey = raw.routing_key as string;
  if (raw.result !== undefined) {
    // Celery always sends a repr string; a custom sender may send JSON. Keep it displayable.
    event.result = typeof raw.result === 'string' ? raw.result : JSON.stringify(raw.result);
  }
  if (raw.runtime !== undefined) event.runtime = raw.runtime as number;
  if (raw.exception !== undefined) event.exception = raw.exception as string;
  if (raw.traceback !== undefined) event.traceback = raw.traceback as string;
  if (raw.terminated !== undefined) event.terminated = raw.terminated as boolean;
  if (raw.signum !== undefined) event.signum = raw.signum as number | string | null;
  if (raw.expired !== undefined) event.expired = raw.expired as boolean;
  if (raw.requeue !== undefined) event.requeue = raw.requeue as boolean;
  if (!isKnownTaskType(type)) {
    let extra: Record<string, JsonValue> | undefined;
    for (const key in raw) {
      if (COMMON_FIELDS.has(key) || TASK_FIELDS.has(key)) continue;
      extra ??= {};
      extra[key] = raw[key] as JsonValue; // JSON.parse output is JSON by construction
    }
    if (extra) event.extra = extra;
  }
  return event;
}

function decodeWorkerFields(type: WorkerEventType, raw: Record<string, unknown>, base: Base, sink: EventSink): WorkerEvent | null {
  const loadavg = raw.loadavg;
  const bad =
    !optNumber(raw.freq) ||
    !optNumber(raw.active) ||
    !optNumber(raw.processed) ||
    !optString(raw.sw_ident) ||
    !optString(raw.sw_ver) ||
    !optString(raw.sw_sys) ||
    !(loadavg === undefined || loadavg === null || (Array.isArray(loadavg) && loadavg.every(isFiniteNumber)));
  if (bad) {
    sink.drop('wrong_type', `${type}: a worker field has the wrong type`);
    return null;
  }
  const event: { -readonly [K in keyof WorkerEvent]: WorkerEvent[K] } = { kind: 'worker', type, ...base };
  if (typeof raw.freq === 'number' && raw.freq > 0) event.freq = raw.freq;
  if (raw.active !== undefined) event.active = raw.active as number;
  if (raw.processed !== undefined) event.processed = raw.processed as number;
  if (Array.isArray(loadavg)) event.loadavg = loadavg as number[];
  if (raw.sw_ident !== undefined) event.swIdent = raw.sw_ident as string;
  if (raw.sw_ver !== undefined) event.swVer = raw.sw_ver as string;
  if (raw.sw_sys !== undefined) event.swSys = raw.sw_sys as string;
  return event;
}

const KNOWN_TASK_TYPES: ReadonlySet<string> = new Set(KNOWN_TASK_EVENT_TYPES);

function isKnownTaskType(type: string): boolean {
  return KNOWN_TASK_TYPES.has(type);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

const optString = (v: unknown): boolean => v === undefined || typeof v === 'string';
const optStringOrNull = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string';
const optNumber = (v: unknown): boolean => v === undefined || isFiniteNumber(v);
const optBoolean = (v: unknown): boolean => v === undefined || typeof v === 'boolean';

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : String(value);
}
