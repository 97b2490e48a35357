import type { EventSink } from '../../server/protocol/decode';
import type { CeleryEvent, DropReason } from '../../server/protocol/events';

/** An EventSink that records what the decoder produced, for assertions. */
export class CollectingSink implements EventSink {
  readonly events: CeleryEvent[] = [];
  readonly drops: { reason: DropReason; detail: string }[] = [];
  readonly ignoredTypes: string[] = [];

  event(event: CeleryEvent): void {
    this.events.push(event);
  }

  drop(reason: DropReason, detail: string): void {
    this.drops.push({ reason, detail });
  }

  ignored(type: string): void {
    this.ignoredTypes.push(type);
  }

  dropReasons(): DropReason[] {
    return this.drops.map((d) => d.reason);
  }
}

/** A kombu Redis envelope around `body` (JSON-serialised, base64), as Celery publishes it. */
export function redisEnvelope(body: unknown, overrides: Record<string, unknown> = {}): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return JSON.stringify({
    body: Buffer.from(text, 'utf8').toString('base64'),
    'content-encoding': 'utf-8',
    'content-type': 'application/json',
    headers: { hostname: 'w1@testhost' },
    properties: {
      delivery_mode: 1,
      delivery_info: { exchange: 'celeryev', routing_key: 'worker.heartbeat' },
      priority: 0,
      body_encoding: 'base64',
      delivery_tag: '073fe5f1-df16-4b8a-8a21-36dc21f0feaf',
    },
    ...overrides,
  });
}
