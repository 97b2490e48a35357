/**
 * Typed Celery events, as they exist after decoding at the edge.
 *
 * Field names follow Celery's event bodies (see docs/celery-wire-protocol.md §4)
 * so that a reader can map them to the wire without a glossary. Everything here has already
 * been validated: downstream code (state, metrics, realtime, API) never re-checks types.
 */

/** A JSON value, for the few places where Celery lets arbitrary data through (custom task events). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export const WORKER_EVENT_TYPES = ['worker-online', 'worker-heartbeat', 'worker-offline'] as const;
export type WorkerEventType = (typeof WORKER_EVENT_TYPES)[number];

/** The task events Celery itself defines; any other `task-<x>` is a custom event (custom state `X`). */
export const KNOWN_TASK_EVENT_TYPES = ['task-sent', 'task-received', 'task-started', 'task-succeeded', 'task-failed', 'task-retried', 'task-revoked', 'task-rejected'] as const;

/** Fields every Celery event carries (EventDispatcher.publish). */
interface EventBase {
  /** Sender's node name (`celery@host`; for `task-sent`, the client). */
  readonly hostname: string;
  /** Sender's clock, epoch seconds (float). Kept raw: it is already UTC. */
  readonly timestamp: number;
  /** Celeriac's own clock (epoch seconds) when the event was decoded: liveness is judged on it. */
  readonly localReceived: number;
  /** Lamport clock as sent (0 when absent). */
  readonly clock: number;
  /** Sender's `utcoffset` (hours west of UTC, floored), or null when absent. */
  readonly utcoffset: number | null;
  readonly pid: number | null;
}

export interface TaskEvent extends EventBase {
  readonly kind: 'task';
  /** e.g. `task-received`, or a custom `task-progress`. */
  readonly type: string;
  readonly uuid: string;
  // Descriptive fields: only on task-sent / task-received.
  readonly name?: string;
  readonly args?: string;
  readonly kwargs?: string;
  readonly rootId?: string | null;
  readonly parentId?: string | null;
  readonly retries?: number;
  readonly eta?: string | null;
  readonly expires?: string | null;
  // task-sent only.
  readonly queue?: string;
  readonly exchange?: string;
  readonly routingKey?: string;
  // Outcomes.
  readonly result?: string;
  readonly runtime?: number;
  readonly exception?: string;
  readonly traceback?: string;
  readonly terminated?: boolean;
  readonly signum?: number | string | null;
  readonly expired?: boolean;
  readonly requeue?: boolean;
  /** Fields of custom events (`Task.send_event('task-progress', current=3)`), kept as sent. */
  readonly extra?: Readonly<Record<string, JsonValue>>;
}

export interface WorkerEvent extends EventBase {
  readonly kind: 'worker';
  readonly type: WorkerEventType;
  readonly freq?: number;
  readonly active?: number;
  readonly processed?: number;
  readonly loadavg?: readonly number[];
  readonly swIdent?: string;
  readonly swVer?: string;
  readonly swSys?: string;
}

export type CeleryEvent = TaskEvent | WorkerEvent;

/** Why an inbound message (or one event inside it) was dropped. Each reason is counted. */
export const DROP_REASONS = [
  'bad_envelope', // Redis envelope is not a JSON object of kombu's shape
  'bad_base64', // body_encoding=base64 but body is not base64
  'unsupported_content_type', // pickle, yaml, msgpack, anything not application/json
  'unsupported_content_encoding', // not utf-8
  'unsupported_compression', // compression header we cannot inflate
  'decompress_failed',
  'bad_json', // body is not valid JSON
  'not_an_event', // JSON is not an object (or a list of objects)
  'missing_field', // a required field is absent
  'wrong_type', // a field has the wrong JSON type
  'unknown_event_type', // neither task-* nor a known worker-* event
  'oversized', // message larger than the configured limit
  'backlog_overflow', // a burst outran decoding by more than the in-process backlog allows
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** Events that Celery emits but a monitor deliberately ignores (gossip elections). */
export const IGNORED_EVENT_TYPES: ReadonlySet<string> = new Set(['worker-elect', 'worker-elect-ack']);
