/**
 * One task as Celery's `events.state.Task` models it, merged from all of its events.
 *
 * A class with every field initialised in the constructor keeps all records on one V8 hidden
 * class: fast property access on the hot path and a compact, predictable size per task
 * (the store keeps up to --max-tasks of these; see bench/ for the measured bytes per task).
 */
import type { JsonValue, TaskEvent } from '../protocol/events';
import { TaskTimeline } from './task-timeline';

/** Celery's `states.PRECEDENCE`, index 0 = latest in the lifecycle; `null` stands for any custom state. */
export const PRECEDENCE: readonly (string | null)[] = ['SUCCESS', 'FAILURE', null, 'REVOKED', 'STARTED', 'RECEIVED', 'REJECTED', 'RETRY', 'PENDING'];
const PRECEDENCE_INDEX: ReadonlyMap<string, number> = new Map(PRECEDENCE.flatMap((state, index) => (state === null ? [] : [[state, index] as const])));
const CUSTOM_PRECEDENCE = PRECEDENCE.indexOf(null);

export function precedence(state: string): number {
  return PRECEDENCE_INDEX.get(state) ?? CUSTOM_PRECEDENCE;
}

export const READY_STATES: ReadonlySet<string> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);
/** States no further event normally changes: Celery's ready states, and a rejection. */
export const FINISHED_STATES: ReadonlySet<string> = new Set([...READY_STATES, 'REJECTED']);

/** Celery's TASK_EVENT_TO_STATE, keyed by event type. */
const EVENT_TO_STATE: ReadonlyMap<string, string> = new Map([
  ['task-sent', 'PENDING'],
  ['task-received', 'RECEIVED'],
  ['task-started', 'STARTED'],
  ['task-succeeded', 'SUCCESS'],
  ['task-failed', 'FAILURE'],
  ['task-retried', 'RETRY'],
  ['task-revoked', 'REVOKED'],
  ['task-rejected', 'REJECTED'],
]);

/** State a task event moves to: Celery's mapping, or the upper-cased subject for custom events. */
export function stateForEvent(type: string): string {
  return EVENT_TO_STATE.get(type) ?? type.slice('task-'.length).toUpperCase();
}

/**
 * A revocation Celeriac sent for a task. Celery workers only remember a revoked id: they discard
 * the task when they take it, and a running task finishes unless it is terminated. So a revoke
 * is a request until a worker reports `task-revoked`; this is what the UI shows meanwhile.
 */
export interface RevokeRequest {
  /** Celeriac's clock (epoch seconds) when the revocation was sent. */
  at: number;
  terminate: boolean;
  /** The signal sent with terminate, else null. */
  signal: string | null;
  /** Workers that acknowledged the broadcast: only they (and workers syncing from them at start) know the id. */
  workers: number;
}

/**
 * - `pending`: sent, and the task has not reached a final state (no worker reported it revoked);
 * - `revoked`: a worker reported it (REVOKED);
 * - `too-late`: the task finished anyway (SUCCESS or FAILURE).
 */
export type RevocationStatus = 'pending' | 'revoked' | 'too-late';

/** The revocation as Celeriac's own APIs and the live views show it. */
export interface RevocationView {
  status: RevocationStatus;
  requestedAt: number;
  terminate: boolean;
  signal: string | null;
  workers: number;
}

/** Flower/Celery `Task.as_dict()` field order, for API responses. */
export interface FlowerTaskDict {
  uuid: string;
  name: string | null;
  state: string;
  received: number | null;
  sent: number | null;
  started: number | null;
  rejected: number | null;
  succeeded: number | null;
  failed: number | null;
  retried: number | null;
  revoked: number | null;
  args: string | null;
  kwargs: string | null;
  eta: string | null;
  expires: string | null;
  retries: number | null;
  worker: string | null;
  result: string | null;
  exception: string | null;
  timestamp: number | null;
  runtime: number | null;
  traceback: string | null;
  exchange: string | null;
  routing_key: string | null;
  clock: number;
  client: string | null;
  root: string | null;
  root_id: string | null;
  parent: string | null;
  parent_id: string | null;
  children: string[];
}

/** The time field each of Celery's task events records (custom events record none). A Map: event types come off the wire. */
const TIME_FIELD_OF_EVENT: ReadonlyMap<string, 'sent' | 'received' | 'started' | 'succeeded' | 'failed' | 'retried' | 'revoked' | 'rejected'> = new Map([
  ['task-sent', 'sent'],
  ['task-received', 'received'],
  ['task-started', 'started'],
  ['task-succeeded', 'succeeded'],
  ['task-failed', 'failed'],
  ['task-retried', 'retried'],
  ['task-revoked', 'revoked'],
  ['task-rejected', 'rejected'],
] as const);

export class TaskRecord {
  readonly uuid: string;
  name: string | null = null;
  state = 'PENDING';
  // Times (epoch seconds) at which each kind of event happened, as the sender stamped them.
  sent: number | null = null;
  received: number | null = null;
  started: number | null = null;
  succeeded: number | null = null;
  failed: number | null = null;
  retried: number | null = null;
  revoked: number | null = null;
  rejected: number | null = null;
  /** Timestamp of the event that set the current state (Celery semantics, see merge()). */
  timestamp: number | null = null;
  args: string | null = null;
  kwargs: string | null = null;
  eta: string | null = null;
  expires: string | null = null;
  retries: number | null = null;
  worker: string | null = null;
  client: string | null = null;
  result: string | null = null;
  exception: string | null = null;
  traceback: string | null = null;
  runtime: number | null = null;
  exchange: string | null = null;
  routingKey: string | null = null;
  queue: string | null = null;
  clock = 0;
  rootId: string | null = null;
  parentId: string | null = null;
  terminated: boolean | null = null;
  signum: number | string | null = null;
  expired: boolean | null = null;
  requeue: boolean | null = null;
  /**
   * The last revocation Celeriac sent for this task, or null. Kept on the record (not in a side
   * map) so it is bounded by --max-tasks and evicted with the task.
   */
  revokeRequest: RevokeRequest | null = null;
  /** Fields of custom events (e.g. task-progress `current`/`total`), latest by timestamp wins. */
  extra: Record<string, JsonValue> | null = null;
  /** Timestamp of the newest custom event merged into `extra` (an older one arriving late does not win). */
  extraAt = Number.NEGATIVE_INFINITY;
  /** Every event in arrival order (bounded): the times above keep only the last of each kind. */
  timeline = new TaskTimeline();
  /**
   * The record holds everything known of the task: it began with the task's task-sent or
   * task-received (which carry its name and arguments), or came back from the store. A record
   * that began with a later event — Celeriac started mid-task, or memory had evicted it — is
   * partial: the store merges it into the row it has rather than replacing the row
   * (server/store/task-row.ts).
   */
  complete = false;

  constructor(uuid: string) {
    this.uuid = uuid;
  }

  /**
   * Apply one event with `celery.events.state.Task.event` semantics
   * (docs/celery-wire-protocol.md §4.9):
   * - the per-kind time (`received`, `started`, …) is always recorded;
   * - an event that logically happened *before* the current state (higher precedence index,
   *   and neither state is RETRY) does not change `state`: a late `task-received` only
   *   contributes its descriptive fields, any other late event its fields (Celery copies them,
   *   including `timestamp`);
   * - otherwise the event's fields are copied and `state`/`timestamp` follow the event.
   */
  apply(event: TaskEvent, intern: (s: string) => string): void {
    const newState = stateForEvent(event.type);
    const timeField = TIME_FIELD_OF_EVENT.get(event.type);
    if (timeField !== undefined) this[timeField] = event.timestamp;
    const happenedBefore = newState !== 'RETRY' && this.state !== 'RETRY' && precedence(newState) > precedence(this.state);
    if (happenedBefore && newState === 'RECEIVED') {
      this.copyDescriptive(event, intern);
      return;
    }
    this.copyDescriptive(event, intern);
    this.copyOutcome(event);
    this.timestamp = event.timestamp;
    this.clock = event.clock;
    if (!happenedBefore) this.state = intern(newState);
  }

  /** The fields Celery's merge rule keeps from a late `task-received`. */
  private copyDescriptive(event: TaskEvent, intern: (s: string) => string): void {
    if (event.name !== undefined) this.name = intern(event.name);
    if (event.args !== undefined) this.args = event.args;
    if (event.kwargs !== undefined) this.kwargs = event.kwargs;
    // A retry is re-sent with parent_id = its own id; a task is never its own parent, and the
    // original parent link must survive the retry.
    if (event.parentId !== undefined && event.parentId !== this.uuid) this.parentId = event.parentId;
    if (event.rootId !== undefined) this.rootId = event.rootId;
    if (event.retries !== undefined) this.retries = event.retries;
    if (event.eta !== undefined) this.eta = event.eta;
    if (event.expires !== undefined) this.expires = event.expires;
  }

  private copyOutcome(event: TaskEvent): void {
    if (event.result !== undefined) this.result = event.result;
    if (event.runtime !== undefined) this.runtime = event.runtime;
    if (event.exception !== undefined) this.exception = event.exception;
    if (event.traceback !== undefined) this.traceback = event.traceback;
    if (event.exchange !== undefined) this.exchange = event.exchange;
    if (event.routingKey !== undefined) this.routingKey = event.routingKey;
    if (event.queue !== undefined) this.queue = event.queue;
    if (event.terminated !== undefined) this.terminated = event.terminated;
    if (event.signum !== undefined) this.signum = event.signum;
    if (event.expired !== undefined) this.expired = event.expired;
    if (event.requeue !== undefined) this.requeue = event.requeue;
    if (event.extra !== undefined) {
      // Progress events can arrive out of order across batches: an older one must not
      // overwrite newer values, but may fill in fields not seen yet.
      if (event.timestamp >= this.extraAt) {
        this.extra = { ...(this.extra ?? {}), ...event.extra };
        this.extraAt = event.timestamp;
      } else {
        this.extra = { ...event.extra, ...(this.extra ?? {}) };
      }
    }
  }

  /**
   * Remember a revocation Celeriac sent. A later one replaces it, except that a terminate already
   * sent stays sent: workers do not forget it when a plain revoke follows.
   */
  requestRevoke(request: RevokeRequest): void {
    const previous = this.revokeRequest;
    this.revokeRequest = previous?.terminate && !request.terminate ? { ...request, terminate: true, signal: previous.signal } : request;
  }

  /** Where a revocation Celeriac sent stands, from the task's state; null if none was sent. */
  revocationStatus(): RevocationStatus | null {
    if (this.revokeRequest === null) return null;
    if (this.state === 'REVOKED') return 'revoked';
    if (this.state === 'SUCCESS' || this.state === 'FAILURE') return 'too-late';
    return 'pending';
  }

  revocationView(): RevocationView | null {
    const request = this.revokeRequest;
    const status = this.revocationStatus();
    if (request === null || status === null) return null;
    return { status, requestedAt: request.at, terminate: request.terminate, signal: request.signal, workers: request.workers };
  }

  /** Flower's API shape (`Task.as_dict()` with `worker` as the hostname). */
  toFlowerDict(children: readonly string[]): FlowerTaskDict {
    return {
      uuid: this.uuid,
      name: this.name,
      state: this.state,
      received: this.received,
      sent: this.sent,
      started: this.started,
      rejected: this.rejected,
      succeeded: this.succeeded,
      failed: this.failed,
      retried: this.retried,
      revoked: this.revoked,
      args: this.args,
      kwargs: this.kwargs,
      eta: this.eta,
      expires: this.expires,
      retries: this.retries,
      worker: this.worker,
      result: this.result,
      exception: this.exception,
      timestamp: this.timestamp,
      runtime: this.runtime,
      traceback: this.traceback,
      exchange: this.exchange,
      routing_key: this.routingKey,
      clock: this.clock,
      client: this.client,
      root: this.rootId,
      root_id: this.rootId,
      parent: this.parentId,
      parent_id: this.parentId,
      children: [...children],
    };
  }
}
