/**
 * Messages between the Redis transport (main thread) and its subscriber thread.
 * Everything here crosses a worker_threads port, so it is plain structured-clonable data.
 */
import type { TransportOptions } from '../transport-options';
import type { BrokerTarget } from '../url';

export type RedisTarget = Extract<BrokerTarget, { kind: 'redis' | 'sentinel' }>;

export interface SubscriberInit {
  target: RedisTarget;
  transportOptions: TransportOptions;
  /** Channel patterns to PSUBSCRIBE. */
  patterns: string[];
  /** Payload characters that may wait for the main thread before new messages are dropped. */
  maxBacklogChars: number;
  /** Payloads larger than this (bytes) are discarded while they are read and handed over as a marker. */
  maxMessageBytes: number;
}

export type FromSubscriber =
  /** Raw kombu envelopes, in arrival order, all received at `receivedAt` (epoch seconds). */
  | { kind: 'batch'; receivedAt: number; payloads: string[]; chars: number }
  | { kind: 'up'; reconnected: boolean }
  | { kind: 'down'; reason: string; wasUp: boolean }
  /** Messages dropped because the main thread was this far behind. */
  | { kind: 'overflow'; messages: number };

export type ToSubscriber =
  /** The main thread finished decoding a batch of this many characters. */
  { kind: 'ack'; chars: number } | { kind: 'stop' };
