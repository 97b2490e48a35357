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
  /**
   * Fire-and-forget remote-control broadcast (no reply wanted): `enable_events`, `heartbeat`.
   * Resolves false, without throwing, when the broker is unreachable.
   */
  broadcast(method: string, args?: Record<string, JsonValue>, destination?: string[] | null): Promise<boolean>;
  /** Called after each successful (re)connection, once subscribed. */
  onConnected(listener: () => void): void;
  /** Called on every change of status. */
  onStatus(listener: (status: TransportStatus) => void): void;
}

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
