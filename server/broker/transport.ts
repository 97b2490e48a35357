/**
 * The one small interface every broker transport implements. The rest of Celeriac never
 * knows which broker it talks to: it gets decoded events through the EventSink and a
 * connection status it can show.
 */
import type { JsonValue } from '../protocol/events';

export interface TransportStatus {
  /** True while connected *and* subscribed to the event stream. */
  connected: boolean;
  /** Why not, while disconnected (e.g. "connect ECONNREFUSED 127.0.0.1:6379"). */
  reason: string | null;
  /** Epoch seconds since which `connected` has had its current value. */
  since: number;
  /** Completed (re)connections, for logs and metrics. */
  connects: number;
}

export interface EventTransport {
  readonly kind: 'redis' | 'amqp';
  /** Start connecting in the background; reconnects forever with capped backoff. Never throws. */
  start(): void;
  stop(): Promise<void>;
  status(): TransportStatus;
  /** Called after each successful (re)connection, once subscribed. */
  onConnected(listener: () => void): void;
  /** Called on every change of status. */
  onStatus(listener: (status: TransportStatus) => void): void;
}

/** The broker cannot be reached right now (HTTP routes answer 503 with this). */
export class BrokerUnavailableError extends Error {}

/** Capped exponential backoff with jitter, shared by the transports. */
export function reconnectDelayMs(attempt: number, capMs = 10_000): number {
  const base = Math.min(capMs, 250 * 2 ** Math.min(attempt, 16));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/** Status bookkeeping shared by the transports, so both report changes the same way. */
export class StatusTracker {
  private current: TransportStatus = { connected: false, reason: 'not connected yet', since: Date.now() / 1000, connects: 0 };
  private readonly statusListeners: ((status: TransportStatus) => void)[] = [];
  private readonly connectedListeners: (() => void)[] = [];

  get(): TransportStatus {
    return { ...this.current };
  }

  onStatus(listener: (status: TransportStatus) => void): void {
    this.statusListeners.push(listener);
  }

  onConnected(listener: () => void): void {
    this.connectedListeners.push(listener);
  }

  up(): void {
    this.current = { connected: true, reason: null, since: Date.now() / 1000, connects: this.current.connects + 1 };
    for (const l of this.statusListeners) l(this.get());
    for (const l of this.connectedListeners) l();
  }

  down(reason: string): void {
    if (!this.current.connected && this.current.reason === reason) return;
    const since = this.current.connected ? Date.now() / 1000 : this.current.since;
    this.current = { connected: false, reason, since, connects: this.current.connects };
    for (const l of this.statusListeners) l(this.get());
  }
}

/** Base of both transports: status reporting delegated to one StatusTracker. */
export abstract class TrackedTransport {
  protected readonly tracker = new StatusTracker();

  status(): TransportStatus {
    return this.tracker.get();
  }

  onConnected(listener: () => void): void {
    this.tracker.onConnected(listener);
  }

  onStatus(listener: (status: TransportStatus) => void): void {
    this.tracker.onStatus(listener);
  }
}

/** One reply to a control request, as it came off the reply queue (before per-node decoding). */
export interface RawReply {
  ticket: string | null;
  /** Decoded JSON body: `{"<nodename>": <value>}` from a worker. */
  body: unknown;
}

/** A per-call reply queue (kombu's `<oid>.reply.celery.pidbox`). */
export interface ReplyChannel {
  /** The routing key workers must reply to. */
  readonly replyTo: string;
  /** The next reply, or null after `timeoutMs` without one. */
  next(timeoutMs: number): Promise<RawReply | null>;
  /** Unbind and delete the queue. */
  close(): Promise<void>;
}

/** A task message ready to publish (Celery task protocol v2, docs/celery-wire-protocol.md §7). */
export interface OutboundTaskMessage {
  /** Queue name: published to the default exchange "" with this routing key. */
  queue: string;
  headers: Record<string, JsonValue>;
  /** `[args, kwargs, embed]`. */
  body: [JsonValue[], Record<string, JsonValue>, Record<string, JsonValue>];
  correlationId: string;
  priority: number;
  /** AMQP per-message TTL in ms (from `expires`), as a string like Celery sends. */
  expiration: string | null;
}

/** What the broker says about one queue. */
export interface QueueStat {
  name: string;
  /** Ready messages (Redis: Σ LLEN over priority lists; RabbitMQ: passive declare). */
  messages: number;
  /** Redis only: ready messages per priority step. */
  byPriority: Record<string, number> | null;
  /** RabbitMQ only: consumers attached (passive declare). */
  consumers: number | null;
  /** Redis only: id of the task at the head of the queue (oldest ready message), if any. */
  oldestTaskId: string | null;
  /** Whether the queue exists on the broker (Redis: always true; a missing list is an empty queue). */
  exists: boolean;
}

/** Everything Celeriac does with a broker beyond consuming events. */
export interface BrokerTransport extends EventTransport {
  /**
   * How long a worker may still take messages after acknowledging cancel_consumer. On Redis,
   * kombu's consumer keeps a BRPOP (1 s timeout) in flight that still names the queue.
   */
  readonly consumerSettleMs: number;
  openReplyChannel(): Promise<ReplyChannel>;
  /**
   * Publish a control request on the pidbox. Resolves the number of subscribers that received it
   * where the broker tells (Redis PUBLISH), else null. Rejects when the broker is unreachable.
   */
  publishControl(body: unknown, headers: Record<string, JsonValue>): Promise<number | null>;
  publishTask(message: OutboundTaskMessage): Promise<void>;
  queueStats(names: readonly string[]): Promise<QueueStat[]>;
  /** Task queues the broker itself knows about (Redis: kombu binding sets); [] where it cannot tell. */
  discoverQueues(): Promise<string[]>;
  /** Remove every ready message from a queue; resolves how many were removed. */
  purgeQueue(name: string): Promise<number>;
}
