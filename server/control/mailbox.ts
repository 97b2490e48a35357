/**
 * Celery's remote-control mailbox (docs/celery-wire-protocol.md §5), on either broker.
 *
 * Each call gets its own reply queue, so concurrent calls never see each other's replies.
 * Collection follows Celery (§5.6): the timeout is the wait for the *next* reply, restarted after
 * every reply; with a destination list, collection stops once every named worker answered. On
 * Redis, PUBLISH says how many workers' mailboxes received the request, which also ends
 * collection early when all of them have answered. A hard cap bounds the total wait.
 */
import type { BrokerTransport } from '../broker/transport';
import type { JsonValue } from '../protocol/events';
import { buildControlRequest } from '../protocol/pidbox';

export interface ControlCall {
  method: string;
  arguments?: Record<string, JsonValue>;
  /** Node names; null or empty = every worker. */
  destination?: string[] | null;
  /** Wait for the next reply (ms). */
  timeoutMs: number;
}

export interface ControlResult {
  /** Replies by node name, in arrival order. */
  replies: Map<string, JsonValue>;
  /** Named in `destination` but did not answer in time. */
  noReply: string[];
}

/** Replies whose ticket is not ours, or that are not `{node: value}` objects, are counted here. */
export interface MailboxStats {
  calls: number;
  casts: number;
  strayReplies: number;
}

const HARD_CAP_FACTOR = 10;

export class Mailbox {
  readonly stats: MailboxStats = { calls: 0, casts: 0, strayReplies: 0 };

  constructor(
    private readonly transport: BrokerTransport,
    private readonly clock: () => number,
  ) {}

  /** Send a command and collect every reply. Rejects with BrokerUnavailableError when the broker is down. */
  async call(call: ControlCall): Promise<ControlResult> {
    this.stats.calls++;
    const destination = call.destination && call.destination.length > 0 ? [...new Set(call.destination)] : null;
    const channel = await this.transport.openReplyChannel();
    const replies = new Map<string, JsonValue>();
    try {
      const request = buildControlRequest(call.method, call.arguments ?? {}, {
        destination,
        clock: this.clock(),
        replyTo: channel.replyTo,
        timeoutSeconds: call.timeoutMs / 1000,
      });
      const receivers = await this.transport.publishControl(request.body, request.headers);
      const expected = destination ? destination.length : receivers;
      const deadline = Date.now() + call.timeoutMs * HARD_CAP_FACTOR;
      while (expected === null || replies.size < expected) {
        const wait = Math.min(call.timeoutMs, deadline - Date.now());
        if (wait <= 0) break;
        const reply = await channel.next(wait);
        if (!reply) break;
        if (reply.ticket !== request.body.ticket || typeof reply.body !== 'object' || reply.body === null || Array.isArray(reply.body)) {
          this.stats.strayReplies++;
          continue;
        }
        for (const [node, value] of Object.entries(reply.body as Record<string, JsonValue>)) {
          if (destination && !destination.includes(node)) continue;
          replies.set(node, value);
        }
      }
      return { replies, noReply: destination ? destination.filter((node) => !replies.has(node)) : [] };
    } finally {
      await channel.close();
    }
  }

  /** Fire-and-forget (shutdown never replies; revoke is broadcast like Flower does). */
  async cast(method: string, args: Record<string, JsonValue> = {}, destination: string[] | null = null): Promise<number | null> {
    this.stats.casts++;
    const request = buildControlRequest(method, args, { destination: destination && destination.length > 0 ? destination : null, clock: this.clock() });
    return this.transport.publishControl(request.body, request.headers);
  }
}

/** Celery's reply convention: `{"ok": text}` or `{"error": text}`; anything else is data. */
export function replyOutcome(value: JsonValue | undefined): { ok: boolean; message: string } {
  if (value === undefined) return { ok: false, message: 'no reply' };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    if (typeof value.error === 'string') return { ok: false, message: value.error };
    if (typeof value.ok === 'string') return { ok: true, message: value.ok };
  }
  return { ok: true, message: JSON.stringify(value) };
}
