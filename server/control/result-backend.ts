/**
 * Reading task results from Celery's Redis result backend (`result_backend = "redis://…"`).
 *
 * Celery (5.2–5.6, `celery/backends/redis.py` `_set`) stores each state change of a task as the
 * JSON text `{"status", "result", "traceback", "children", "date_done", "task_id", …}` under
 * `celery-task-meta-<id>` and, in the same pipeline, PUBLISHes the same text on a channel of the
 * same name. Celery's own `AsyncResult.get()` waits on that channel; so does `waitFor` here:
 * subscribe first, then GET (a result stored between the two is seen either way), and take
 * whichever answers first. A missed publish (the subscriber connection dropped) is covered by
 * a GET after every resubscription and a slow safety GET, never by tight polling.
 *
 * Everything read here is untrusted: a value that is not Celery's JSON shape (pickle, another
 * app's data, garbage) is logged and treated as "no result yet".
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { DEFAULT_TRANSPORT_OPTIONS } from '../broker/transport-options';
import { BrokerUnavailableError } from '../broker/transport';
import { BrokerUrlError, parseBrokerUrl, redactBrokerUrl } from '../broker/url';
import { redisConnectionOptions } from '../broker/redis/connection';
import { errorText } from '../errors';
import type { JsonValue } from '../protocol/events';
import { READY_STATES } from '../state/task-record';

export interface TaskResult {
  taskId: string;
  /** Celery state: SUCCESS, FAILURE, REVOKED, or a non-final STARTED/RETRY/custom state. */
  state: string;
  /** The return value; for FAILURE/RETRY `{"exc_type", "exc_message", "exc_module"}`. */
  result: JsonValue;
  traceback: string | null;
  /** ISO date-time text as Celery wrote it (naive UTC in 5.2, with an offset in 5.6), null until ready. */
  dateDone: string | null;
  /** Results of subtasks, as Celery stores them (nested `[[id, parent], …]` tuples). */
  children: JsonValue[];
}

/** Celery's `states.READY_STATES` (after one of these the task will not change), shared with the event model. */
export { READY_STATES };
/** Celery's `KeyValueStoreBackend.task_keyprefix`. */
export const TASK_META_PREFIX = 'celery-task-meta-';

export function isReady(result: TaskResult | null): boolean {
  return result !== null && READY_STATES.has(result.state);
}

/** How long a command may wait for a (re)connection before the backend counts as unavailable. */
const CONNECT_WAIT_MS = 3_000;
/** Safety GET while waiting, for a publish lost to a subscriber reconnect. */
const SAFETY_POLL_MS = 5_000;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Task ids whose malformed value was already logged (bounded, so logging cannot grow memory). */
const MAX_WARNED_IDS = 1_000;

interface Waiter {
  /** Last non-final record seen, returned if the wait times out. */
  latest: TaskResult | null;
  settle: (outcome: { result: TaskResult | null } | { error: Error }) => void;
}

interface Subscription {
  waiters: Set<Waiter>;
  /** Resolves once Redis confirmed the SUBSCRIBE. */
  ready: Promise<void>;
}

export class RedisResultBackend {
  /** The URL with its password redacted, for messages and logs. */
  readonly description: string;
  private readonly commands: Redis;
  private subscriber: Redis | null = null;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly warnedIds = new Set<string>();
  private lastError: string | null = null;
  private closed = false;

  /** Throws BrokerUrlError for a URL that is not `redis://`, `rediss://` or `redis+socket://`. */
  constructor(
    url: string,
    private readonly logger: Logger,
  ) {
    const target = parseBrokerUrl(url);
    this.description = redactBrokerUrl(url);
    if (target.kind !== 'redis') {
      throw new BrokerUrlError(`result backend ${this.description} is not supported: Celeriac reads Redis result backends (redis://, rediss://, redis+socket://)`);
    }
    this.commands = new Redis({ ...redisConnectionOptions(target, DEFAULT_TRANSPORT_OPTIONS), connectionName: 'celeriac-results' });
    this.watch(this.commands, 'command');
  }

  /** The stored result, or null when there is none (Celery's PENDING) or it is not readable. */
  async get(taskId: string): Promise<TaskResult | null> {
    const client = await this.connected(this.commands);
    let text: string | null;
    try {
      text = await client.get(TASK_META_PREFIX + taskId);
    } catch (error) {
      throw this.unavailable(error);
    }
    return text === null ? null : this.decode(taskId, text);
  }

  /**
   * Resolves with the result once the task is ready (SUCCESS/FAILURE/REVOKED). After
   * `timeoutMs` without that it resolves with the latest non-final record seen (e.g. STARTED,
   * RETRY), or null when nothing is stored: check `isReady()` on what comes back. `abandoned`
   * ends the wait the same way at once (the HTTP client went away: its subscription and timers
   * must not outlive it). Throws BrokerUnavailableError when Redis cannot be reached.
   */
  /** Requests waiting for a result now (each holds a subscription share and two timers). */
  waiting(): number {
    let count = 0;
    for (const subscription of this.subscriptions.values()) count += subscription.waiters.size;
    return count;
  }

  async waitFor(taskId: string, timeoutMs: number, abandoned?: AbortSignal): Promise<TaskResult | null> {
    if (this.closed) throw new BrokerUnavailableError(`result backend ${this.description} is closed`);
    let settle!: Waiter['settle'];
    const outcome = new Promise<{ result: TaskResult | null } | { error: Error }>((resolve) => (settle = resolve));
    let settled = false;
    const waiter: Waiter = {
      latest: null,
      settle: (value) => {
        if (settled) return;
        settled = true;
        settle(value);
      },
    };
    // Node fires a timer set beyond 2**31-1 ms (or NaN) after 1 ms: clamp "wait forever" to ~24 days.
    const waitMs = Number.isFinite(timeoutMs) ? Math.min(Math.max(0, timeoutMs), MAX_TIMER_MS) : MAX_TIMER_MS;
    const timer = setTimeout(() => waiter.settle({ result: waiter.latest }), waitMs);
    const poll = setInterval(() => void this.recheck(taskId, waiter), SAFETY_POLL_MS);
    const abandon = (): void => waiter.settle({ result: waiter.latest });
    if (abandoned?.aborted) abandon();
    abandoned?.addEventListener('abort', abandon, { once: true });
    try {
      // Subscribe before reading, so a result stored in between is published to us.
      await this.join(taskId, waiter);
      await this.recheck(taskId, waiter, true);
      const done = await outcome;
      if ('error' in done) throw done.error;
      return done.result;
    } finally {
      clearTimeout(timer);
      clearInterval(poll);
      abandoned?.removeEventListener('abort', abandon);
      this.leave(taskId, waiter);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closedError = new BrokerUnavailableError(`result backend ${this.description} is closed`);
    for (const subscription of this.subscriptions.values()) for (const waiter of subscription.waiters) waiter.settle({ error: closedError });
    this.subscriptions.clear();
    for (const client of [this.subscriber, this.commands]) {
      if (!client) continue;
      if (client.status === 'ready') await client.quit().catch(() => undefined);
      client.disconnect();
    }
  }

  // -------------------------------------------------------------------------------------------

  /** GET and hand the record to the waiter: settle it when ready, else remember it. */
  private async recheck(taskId: string, waiter: Waiter, propagateErrors = false): Promise<void> {
    try {
      this.offer(waiter, await this.get(taskId));
    } catch (error) {
      if (propagateErrors) throw error;
      this.logger.debug({ backend: this.description, taskId, err: errorText(error) }, 'result backend check failed; still waiting');
    }
  }

  private offer(waiter: Waiter, result: TaskResult | null): void {
    if (result === null) return;
    if (isReady(result)) waiter.settle({ result });
    else waiter.latest = result;
  }

  private async join(taskId: string, waiter: Waiter): Promise<void> {
    const channel = TASK_META_PREFIX + taskId;
    let subscription = this.subscriptions.get(channel);
    if (!subscription) {
      const ready = this.subscribe(channel);
      subscription = { waiters: new Set(), ready };
      this.subscriptions.set(channel, subscription);
      // A failed SUBSCRIBE must not stay cached for later waiters.
      ready.catch(() => {
        if (this.subscriptions.get(channel) === subscription) this.subscriptions.delete(channel);
      });
    }
    subscription.waiters.add(waiter);
    await subscription.ready;
  }

  private leave(taskId: string, waiter: Waiter): void {
    const channel = TASK_META_PREFIX + taskId;
    const subscription = this.subscriptions.get(channel);
    if (!subscription) return;
    subscription.waiters.delete(waiter);
    if (subscription.waiters.size > 0) return;
    this.subscriptions.delete(channel);
    // Only after SUBSCRIBE settled, so UNSUBSCRIBE cannot overtake it.
    void subscription.ready.then(() => this.subscriber?.unsubscribe(channel)).catch(() => undefined);
  }

  private async subscribe(channel: string): Promise<void> {
    const subscriber = await this.connected(this.subscriberClient());
    try {
      await subscriber.subscribe(channel);
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  /** One subscriber connection for all waits, made on first use. */
  private subscriberClient(): Redis {
    if (this.subscriber) return this.subscriber;
    const subscriber = this.commands.duplicate({ connectionName: 'celeriac-results-sub' });
    this.subscriber = subscriber;
    this.watch(subscriber, 'subscriber');
    subscriber.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    let readies = 0;
    subscriber.on('ready', () => {
      // ioredis resubscribes by itself after a reconnect; anything published while we were
      // away is gone (pub/sub has no replay), so read every awaited key once more.
      if (readies++ === 0) return;
      for (const [channel, subscription] of this.subscriptions) {
        const taskId = channel.slice(TASK_META_PREFIX.length);
        for (const waiter of subscription.waiters) void this.recheck(taskId, waiter);
      }
    });
    return subscriber;
  }

  private onMessage(channel: string, message: string): void {
    const subscription = this.subscriptions.get(channel);
    if (!subscription || !channel.startsWith(TASK_META_PREFIX)) return;
    const result = this.decode(channel.slice(TASK_META_PREFIX.length), message);
    for (const waiter of subscription.waiters) this.offer(waiter, result);
  }

  private watch(client: Redis, role: string): void {
    client.on('error', (error: Error) => {
      this.lastError = errorText(error);
      this.logger.debug({ backend: this.description, role, err: this.lastError }, 'result backend connection error');
    });
  }

  /** The client once it is ready; BrokerUnavailableError if it does not get there soon. */
  private async connected(client: Redis): Promise<Redis> {
    if (this.closed) throw new BrokerUnavailableError(`result backend ${this.description} is closed`);
    if (client.status === 'ready') return client;
    await new Promise<void>((resolve, reject) => {
      const done = (error: unknown): void => {
        clearTimeout(timer);
        client.off('ready', onReady);
        client.off('error', onError);
        client.off('end', onEnd);
        if (error === null) resolve();
        else reject(this.unavailable(error));
      };
      const onReady = (): void => done(null);
      // The first failure of this attempt answers the caller; ioredis keeps retrying in the background.
      const onError = (error: Error): void => done(error);
      const onEnd = (): void => done(new Error('connection closed'));
      const timer = setTimeout(() => done(new Error(this.lastError ?? `no connection after ${CONNECT_WAIT_MS} ms`)), CONNECT_WAIT_MS);
      client.on('ready', onReady);
      client.on('error', onError);
      client.on('end', onEnd);
      if (client.status === 'wait' || client.status === 'end') client.connect().catch(() => undefined);
    });
    return client;
  }

  private unavailable(error: unknown): BrokerUnavailableError {
    if (error instanceof BrokerUnavailableError) return error;
    return new BrokerUnavailableError(`result backend ${this.description} is unavailable: ${errorText(error)}`);
  }

  private decode(taskId: string, text: string): TaskResult | null {
    const decoded = decodeTaskMeta(taskId, text);
    if (typeof decoded === 'string') {
      if (!this.warnedIds.has(taskId)) {
        if (this.warnedIds.size >= MAX_WARNED_IDS) this.warnedIds.clear();
        this.warnedIds.add(taskId);
        this.logger.warn({ backend: this.description, taskId, reason: decoded }, 'unreadable entry in the result backend; treating the task as having no result');
      }
      return null;
    }
    return decoded;
  }
}

/**
 * Celery's stored task meta → TaskResult, or the reason it is not one. `task_id`, when present,
 * must be the id asked for; `traceback`/`date_done` are text or null; `children` a list.
 */
export function decodeTaskMeta(taskId: string, text: string): TaskResult | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'not JSON (is result_serializer "json"?)';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'not a JSON object';
  const meta = parsed as Record<string, unknown>;
  const { status, result, traceback, children, date_done: dateDone, task_id: storedId } = meta;
  if (typeof status !== 'string' || status === '') return "missing or non-text 'status'";
  if (storedId !== undefined && storedId !== taskId) return `'task_id' is ${JSON.stringify(storedId)}, not this task`;
  if (traceback !== undefined && traceback !== null && typeof traceback !== 'string') return "'traceback' is not text";
  if (dateDone !== undefined && dateDone !== null && typeof dateDone !== 'string') return "'date_done' is not text";
  if (children !== undefined && children !== null && !Array.isArray(children)) return "'children' is not a list";
  return {
    taskId,
    state: status,
    // JSON.parse only ever produces JSON values.
    result: (result ?? null) as JsonValue,
    traceback: traceback ?? null,
    dateDone: dateDone ?? null,
    children: (children ?? []) as JsonValue[],
  };
}
