/**
 * Redis transport: events arrive on kombu's fanout pub/sub channels
 * (docs/celery-wire-protocol.md §2); control requests are PUBLISHed on the pidbox
 * channel (§5.4).
 *
 * Two connections, as kombu uses: a subscriber (which can do nothing else once subscribed) and
 * one for commands. The subscriber lives on its own thread (subscriber-thread.ts) so that a
 * burst never backs up into Redis, which would disconnect us and lose everything in flight;
 * this class decodes the raw messages it hands over, in order.
 */
import { randomUUID } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { startTypeScriptWorker } from '../../worker-thread';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { JsonValue } from '../../protocol/events';
import { DEFAULT_DECODE_OPTIONS, decodeRedisEnvelope, decodeRedisMessage, type EventSink } from '../../protocol/decode';
import { encodeRedisEnvelope } from '../../protocol/envelope';
import { PIDBOX_EXCHANGE, PIDBOX_REPLY_EXCHANGE } from '../../protocol/pidbox';
import { fanoutPrefixFor, type TransportOptions } from '../transport-options';
import { BrokerUnavailableError, reconnectDelayMs, TrackedTransport, type BrokerTransport, type OutboundTaskMessage, type QueueStat, type RawReply, type ReplyChannel } from '../transport';
import { NON_TASK_EXCHANGES, RedisKeys } from './keys';
import { errorText } from '../../errors';
import { redisConnectionOptions } from './connection';
import type { FromSubscriber, RedisTarget, SubscriberInit, ToSubscriber } from './subscriber-protocol';

/**
 * Raw payload characters a burst may queue in this process before messages are dropped, unless
 * --event-backlog says otherwise (event payloads are ASCII: a character is a byte).
 */
export const MAX_BACKLOG_CHARS = 256 * 1024 * 1024;

export interface RedisTransportOptions {
  target: RedisTarget;
  transportOptions: TransportOptions;
  sink: EventSink;
  logger: Logger;
  /** Lamport clock source for control requests. */
  clock: () => number;
  /** Override MAX_BACKLOG_CHARS (--event-backlog, tests). */
  maxBacklogChars?: number;
}

export class RedisTransport extends TrackedTransport implements BrokerTransport {
  readonly kind = 'redis' as const;
  /** kombu's Redis consumer polls with BRPOP timeout 1 s; one may still be in flight after a cancel. */
  readonly consumerSettleMs = 1_200;
  private subscriber: Worker | null = null;
  private commands: Redis | null = null;
  private stopped = false;
  /** Patterns subscribed for events, and channels control requests are published on. */
  readonly eventPatterns: string[];
  readonly pidboxChannels: string[];
  readonly keys: RedisKeys;

  constructor(private readonly options: RedisTransportOptions) {
    super();
    const { target, transportOptions } = options;
    this.keys = new RedisKeys(transportOptions);
    const prefix = transportOptions.globalKeyprefix;
    const fanout = fanoutPrefixFor(transportOptions, target.db);
    // kombu binds the receiver with "#" and turns it into "*" (§2.3); without fanout_patterns
    // the routing key is not part of the channel at all.
    const suffix = transportOptions.fanoutPatterns ? '/*' : '';
    this.eventPatterns = [`${prefix}${fanout}celeryev${suffix}`];
    this.pidboxChannels = [`${prefix}${fanout}${PIDBOX_EXCHANGE}`];
    if (target.kind === 'sentinel' && transportOptions.fanoutPrefix === true) {
      // kombu < 5.4 Sentinel channels carry a literal "{db}" (§2.2): listen to and address both forms.
      this.eventPatterns.push(`${prefix}/{db}.celeryev${suffix}`);
      this.pidboxChannels.push(`${prefix}/{db}.${PIDBOX_EXCHANGE}`);
    }
  }

  start(): void {
    const { logger } = this.options;
    const commands = new Redis({ ...redisConnectionOptions(this.options.target, this.options.transportOptions), connectionName: 'celeriac-commands' });
    this.commands = commands;
    commands.on('error', (error: Error) => logger.debug({ err: errorText(error) }, 'redis command connection error'));
    commands.connect().catch(() => undefined);
    this.startSubscriber();
  }

  /** The event subscription runs on its own thread (see subscriber-thread.ts for why). */
  private startSubscriber(): void {
    const { logger, sink } = this.options;
    const init: SubscriberInit = {
      target: this.options.target,
      transportOptions: this.options.transportOptions,
      patterns: this.eventPatterns,
      maxBacklogChars: this.options.maxBacklogChars ?? MAX_BACKLOG_CHARS,
      // The same limit decodeRedisMessage applies, enforced while reading.
      maxMessageBytes: DEFAULT_DECODE_OPTIONS.maxMessageBytes,
    };
    const worker = startTypeScriptWorker(new URL('./subscriber-thread.ts', import.meta.url), init);
    this.subscriber = worker;
    const ack = (message: ToSubscriber): void => worker.postMessage(message);
    let warnedCannotReach = false;
    worker.on('message', (message: FromSubscriber) => {
      switch (message.kind) {
        case 'batch':
          for (const payload of message.payloads) decodeRedisMessage(payload, message.receivedAt, sink);
          ack({ kind: 'ack', chars: message.chars });
          break;
        case 'up':
          if (message.reconnected) logger.info('reconnected to Redis; event stream resumed');
          else logger.info({ patterns: this.eventPatterns }, 'subscribed to Celery events on Redis');
          warnedCannotReach = false;
          this.tracker.up();
          break;
        case 'down':
          if (this.stopped) break;
          if (message.wasUp) logger.warn({ reason: message.reason }, 'lost the Redis event connection; reconnecting (events published meanwhile are lost: Redis pub/sub has no replay)');
          else if (!warnedCannotReach && this.tracker.get().connects === 0) {
            warnedCannotReach = true;
            logger.warn({ reason: message.reason }, 'cannot reach the Redis broker yet; retrying with backoff');
          }
          this.tracker.down(message.reason);
          break;
        case 'overflow':
          for (let i = 0; i < message.messages; i++) sink.drop('backlog_overflow', 'event backlog over its memory limit');
          break;
      }
    });
    worker.on('error', (error: Error) => {
      logger.error({ err: error.stack }, 'redis subscriber thread failed; restarting it');
    });
    worker.on('exit', () => {
      if (this.stopped) return;
      this.tracker.down('subscriber thread exited');
      const timer = setTimeout(() => this.startSubscriber(), reconnectDelayMs(2));
      timer.unref();
    });
  }

  private ready(): Redis {
    const commands = this.commands;
    if (commands?.status !== 'ready') throw new BrokerUnavailableError(this.tracker.get().reason ?? 'not connected to Redis');
    return commands;
  }

  /** PUBLISH on the pidbox channel(s) (§5.4 step 3); resolves how many subscribers got it. */
  async publishControl(body: unknown, headers: Record<string, JsonValue>): Promise<number> {
    const commands = this.ready();
    const payload = encodeRedisEnvelope({ body, headers, exchange: PIDBOX_EXCHANGE, routingKey: '' });
    let receivers = 0;
    for (const channel of this.pidboxChannels) receivers += await commands.publish(channel, payload);
    return receivers;
  }

  /**
   * kombu's reply queue (§5.4): bind `<oid>.reply.celery.pidbox` in the reply exchange's binding
   * SET *before* publishing (workers look routes up there), BRPOP its lists on a connection of
   * its own, then unbind and delete.
   */
  async openReplyChannel(): Promise<ReplyChannel> {
    const commands = this.ready();
    const oid = randomUUID();
    const queue = `${oid}.reply.celery.pidbox`;
    const bindingSet = this.keys.bindingSet(PIDBOX_REPLY_EXCHANGE);
    const member = this.keys.bindingMember(oid, queue);
    const lists = this.keys.queueLists(queue);
    const blocking = commands.duplicate({ connectionName: 'celeriac-replies' });
    // Without a listener ioredis prints every failed reconnect as an unhandled error; and a
    // channel that failed to open must not leave this connection retrying for ever.
    blocking.on('error', (error: Error) => this.options.logger.debug({ err: errorText(error) }, 'redis reply connection error'));
    try {
      await blocking.connect();
      await commands.sadd(bindingSet, member);
    } catch (error) {
      blocking.disconnect();
      throw error;
    }
    return {
      replyTo: oid,
      next: async (timeoutMs: number): Promise<RawReply | null> => {
        const popped = await blocking.brpop(...lists, Math.max(timeoutMs, 1) / 1000);
        if (!popped) return null;
        const decoded = decodeRedisEnvelope(popped[1]);
        if (!decoded.ok) return { ticket: null, body: null };
        return { ticket: typeof decoded.headers.ticket === 'string' ? decoded.headers.ticket : null, body: decoded.body };
      },
      close: async (): Promise<void> => {
        blocking.disconnect();
        await commands
          .pipeline()
          .srem(bindingSet, member)
          .del(...lists)
          .exec()
          .catch(() => undefined);
      },
    };
  }

  /** LPUSH a task message on its queue's priority list (§7.4, §7.5). */
  async publishTask(message: OutboundTaskMessage): Promise<void> {
    const commands = this.ready();
    const payload = encodeRedisEnvelope({
      body: message.body,
      headers: message.headers,
      exchange: '',
      routingKey: message.queue,
      priority: message.priority,
      deliveryMode: 2,
      properties: { correlation_id: message.correlationId, reply_to: '', ...(message.expiration !== null ? { expiration: message.expiration } : {}) },
    });
    await commands.lpush(this.keys.queueList(message.queue, this.keys.stepFor(message.priority)), payload);
  }

  /** Σ LLEN over every priority list (§6.1), and the id of the oldest waiting task. */
  async queueStats(names: readonly string[]): Promise<QueueStat[]> {
    const commands = this.ready();
    if (names.length === 0) return [];
    const lists = names.map((name) => this.keys.queueLists(name));
    const pipeline = commands.pipeline();
    for (const keys of lists) for (const key of keys) pipeline.llen(key);
    const lengths = ((await pipeline.exec()) ?? []).map(([error, value]) => (error ? 0 : Number(value)));
    // Workers pop lists in priority order from the right: the next message out is the tail of
    // the first non-empty list. Its task id lets the state tell how long it has waited.
    const heads = commands.pipeline();
    const headIndex: number[] = [];
    let offset = 0;
    lists.forEach((keys, queueIndex) => {
      const firstNonEmpty = keys.findIndex((_key, i) => (lengths[offset + i] ?? 0) > 0);
      if (firstNonEmpty !== -1) {
        heads.lindex(keys[firstNonEmpty] as string, -1);
        headIndex.push(queueIndex);
      }
      offset += keys.length;
    });
    const headIds = new Map<number, string>();
    if (headIndex.length > 0) {
      const results = (await heads.exec()) ?? [];
      results.forEach(([error, value], i) => {
        if (error || typeof value !== 'string') return;
        const id = taskIdOfEnvelope(value);
        if (id !== null) headIds.set(headIndex[i] as number, id);
      });
    }
    offset = 0;
    return names.map((name, queueIndex) => {
      const keys = lists[queueIndex] as string[];
      const byPriority: Record<string, number> = {};
      let total = 0;
      const steps = this.keys.steps();
      keys.forEach((_key, i) => {
        const count = lengths[offset + i] ?? 0;
        byPriority[String(steps[i])] = count;
        total += count;
      });
      offset += keys.length;
      return { name, messages: total, byPriority, consumers: null, oldestTaskId: headIds.get(queueIndex) ?? null, exists: true };
    });
  }

  /** Queues bound in kombu's binding tables (so a queue nobody consumes is still found, §6.1). */
  async discoverQueues(): Promise<string[]> {
    const commands = this.ready();
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await commands.scan(cursor, 'MATCH', this.keys.bindingScanPattern(), 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        if (NON_TASK_EXCHANGES.has(this.keys.exchangeOfBindingKey(key))) continue;
        for (const member of await commands.smembers(key)) {
          const queue = this.keys.queueOfBinding(member);
          if (queue !== null && !queue.endsWith('.reply.celery.pidbox')) found.add(queue);
        }
      }
    } while (cursor !== '0');
    return [...found].sort();
  }

  /** kombu's `_purge`: LLEN + DEL on every priority list, atomically; bindings untouched (§8). */
  async purgeQueue(name: string): Promise<number> {
    const commands = this.ready();
    const multi = commands.multi();
    const lists = this.keys.queueLists(name);
    for (const key of lists) multi.llen(key).del(key);
    const results = (await multi.exec()) ?? [];
    let removed = 0;
    results.forEach(([error, value], i) => {
      if (!error && i % 2 === 0) removed += Number(value);
    });
    return removed;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const worker = this.subscriber;
    this.subscriber = null;
    if (worker) {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ kind: 'stop' } satisfies ToSubscriber);
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref());
      await Promise.race([exited, timeout]);
      await worker.terminate();
    }
    const commands = this.commands;
    this.commands = null;
    if (commands) await commands.quit().catch(() => commands.disconnect());
    this.tracker.down('stopped');
  }
}

/** The task id in a queued task message's headers, without decoding its body. */
function taskIdOfEnvelope(payload: string): string | null {
  try {
    const envelope: unknown = JSON.parse(payload);
    if (typeof envelope !== 'object' || envelope === null) return null;
    const headers = (envelope as { headers?: unknown }).headers;
    if (typeof headers !== 'object' || headers === null) return null;
    const id = (headers as { id?: unknown }).id;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}
