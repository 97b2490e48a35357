/**
 * Redis transport: events arrive on kombu's fanout pub/sub channels
 * (../shared/docs/celery-wire-protocol.md §2); control requests are PUBLISHed on the pidbox
 * channel (§5.4).
 *
 * Two connections, as kombu uses: a subscriber (which can do nothing else once subscribed) and
 * one for commands. The subscriber lives on its own thread (subscriber-thread.ts) so that a
 * burst never backs up into Redis, which would disconnect us and lose everything in flight;
 * this class decodes the raw messages it hands over, in order.
 */
import { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { JsonValue } from '../../protocol/events';
import { decodeRedisMessage, type EventSink } from '../../protocol/decode';
import { encodeRedisEnvelope } from '../../protocol/envelope';
import { buildControlRequest, PIDBOX_EXCHANGE } from '../../protocol/pidbox';
import { fanoutPrefixFor, type TransportOptions } from '../transport-options';
import { reconnectDelayMs, TrackedTransport, type EventTransport } from '../transport';
import { errorText, redisConnectionOptions } from './connection';
import type { FromSubscriber, RedisTarget, SubscriberInit, ToSubscriber } from './subscriber-protocol';

/** Raw payload characters a burst may queue in this process before messages are dropped (≈ 512 MB). */
export const MAX_BACKLOG_CHARS = 256 * 1024 * 1024;

export interface RedisTransportOptions {
  target: RedisTarget;
  transportOptions: TransportOptions;
  sink: EventSink;
  logger: Logger;
  /** Lamport clock source for control requests. */
  clock: () => number;
  /** Override MAX_BACKLOG_CHARS (tests). */
  maxBacklogChars?: number;
}

export class RedisTransport extends TrackedTransport implements EventTransport {
  readonly kind = 'redis' as const;
  private subscriber: Worker | null = null;
  private commands: Redis | null = null;
  private stopped = false;
  /** Patterns subscribed for events, and channels control requests are published on. */
  readonly eventPatterns: string[];
  readonly pidboxChannels: string[];

  constructor(private readonly options: RedisTransportOptions) {
    super();
    const { target, transportOptions } = options;
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
    };
    // The thread's entry is TypeScript: a tiny bootstrap registers tsx in the thread (as
    // bin/celeriac.js does for the process) and then loads it.
    const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
      .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./subscriber-thread.ts', import.meta.url).href)}); })`;
    const worker = new Worker(bootstrap, { eval: true, workerData: init });
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

  async broadcast(method: string, args: Record<string, JsonValue> = {}, destination: string[] | null = null): Promise<boolean> {
    const commands = this.commands;
    if (!commands || commands.status !== 'ready') return false;
    const request = buildControlRequest(method, args, { destination, clock: this.options.clock() });
    const payload = encodeRedisEnvelope({ body: request.body, headers: request.headers, exchange: PIDBOX_EXCHANGE, routingKey: '' });
    try {
      for (const channel of this.pidboxChannels) await commands.publish(channel, payload);
      return true;
    } catch (error) {
      this.options.logger.debug({ err: errorText(error), method }, 'control broadcast failed');
      return false;
    }
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
