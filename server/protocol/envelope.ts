/**
 * Outbound kombu envelopes on Redis (docs/celery-wire-protocol.md §1.2): the body is
 * JSON, base64-encoded, wrapped in a JSON envelope. AMQP needs no envelope (properties carry it).
 */
import { randomUUID } from 'node:crypto';

export interface RedisEnvelopeParts {
  body: unknown;
  headers: Record<string, unknown>;
  exchange: string;
  routingKey: string;
  deliveryMode?: 1 | 2;
  priority?: number;
  /** Extra properties (correlation_id, reply_to, …) for task messages. */
  properties?: Record<string, unknown>;
}

export function encodeRedisEnvelope(parts: RedisEnvelopeParts): string {
  return JSON.stringify({
    body: Buffer.from(JSON.stringify(parts.body), 'utf8').toString('base64'),
    'content-encoding': 'utf-8',
    'content-type': 'application/json',
    headers: parts.headers,
    properties: {
      ...parts.properties,
      delivery_mode: parts.deliveryMode ?? 2,
      delivery_info: { exchange: parts.exchange, routing_key: parts.routingKey },
      priority: parts.priority ?? 0,
      body_encoding: 'base64',
      delivery_tag: randomUUID(),
    },
  });
}
