/**
 * Celery remote-control (pidbox) requests (docs/celery-wire-protocol.md §5.2).
 * Transport-neutral: the Redis and AMQP transports wrap the body in their own envelope.
 */
import { randomUUID } from 'node:crypto';
import type { JsonValue } from './events';

export const PIDBOX_EXCHANGE = 'celery.pidbox';
export const PIDBOX_REPLY_EXCHANGE = 'reply.celery.pidbox';

export interface ControlRequest {
  /** JSON body, ready to serialize. */
  body: {
    method: string;
    arguments: Record<string, JsonValue>;
    destination: string[] | null;
    pattern: null;
    matcher: null;
    ticket?: string;
    reply_to?: { exchange: string; routing_key: string };
  };
  headers: { clock: number; expires: number };
}

/**
 * Build a request. `replyTo` (the client's reply routing key) makes workers answer;
 * without it the command is fire-and-forget (enable_events, heartbeat, revoke).
 */
export function buildControlRequest(
  method: string,
  args: Record<string, JsonValue>,
  options: { destination?: string[] | null; clock: number; replyTo?: string; timeoutSeconds?: number },
): ControlRequest {
  const body: ControlRequest['body'] = {
    method,
    arguments: args,
    destination: options.destination && options.destination.length > 0 ? options.destination : null,
    pattern: null,
    matcher: null,
  };
  if (options.replyTo !== undefined) {
    body.ticket = randomUUID();
    body.reply_to = { exchange: PIDBOX_REPLY_EXCHANGE, routing_key: options.replyTo };
  }
  const expires = options.timeoutSeconds !== undefined ? Date.now() / 1000 + options.timeoutSeconds : 0;
  return { body, headers: { clock: options.clock, expires } };
}
