/**
 * Redis transport: events arrive on kombu's fanout pub/sub channels
 * (../shared/docs/celery-wire-protocol.md §2); control requests are PUBLISHed on the pidbox
 * channel (§5.4).
 *
 * Two connections, as kombu uses: one subscriber (it can do nothing else once subscribed)
 * and one for commands. Redis drops a subscriber whose output buffer grows too large, so the
 * message handler does nothing but decode synchronously into the state.
 */
import { isIP } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { JsonValue } from '../../protocol/events';
import { decodeRedisMessage, type EventSink } from '../../protocol/decode';
import { encodeRedisEnvelope } from '../../protocol/envelope';
import { buildControlRequest, PIDBOX_EXCHANGE } from '../../protocol/pidbox';
import { fanoutPrefixFor, type TransportOptions } from '../transport-options';
import { reconnectDelayMs, TrackedTransport, type EventTransport } from '../transport';
import type { BrokerTarget } from '../url';

type RedisTarget = Extract<BrokerTarget, { kind: 'redis' | 'sentinel' }>;

export interface RedisTransportOptions {
  target: RedisTarget;
  transportOptions: TransportOptions;
  sink: EventSink;
  logger: Logger;
  /** Lamport clock source for control requests. */
  clock: () => number;
}

/** ioredis connection options for a target; also used by the queue-length poller later. */
export function redisConnectionOptions(target: RedisTarget, transportOptions: TransportOptions): RedisOptions {
  const common: RedisOptions = {
    db: target.db,
    username: target.username ?? undefined,
    password: target.password ?? undefined,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    retryStrategy: (times: number) => reconnectDelayMs(times - 1),
  };
  if (target.kind === 'sentinel') {
    if (!transportOptions.masterName) throw new Error('sentinel:// needs --broker-transport-option master_name=<name>');
    return {
      ...common,
      sentinels: target.sentinels,
      name: transportOptions.masterName,
      sentinelPassword: transportOptions.sentinelPassword ?? undefined,
      sentinelRetryStrategy: (times: number) => reconnectDelayMs(times - 1),
    };
  }
  if (target.socketPath) return { ...common, path: target.socketPath };
  return {
    ...common,
    host: target.host,
    port: target.port,
    // SNI takes a host name only (RFC 6066), never an IP address.
    tls: target.tls ? { rejectUnauthorized: target.rejectUnauthorized, servername: isIP(target.host) ? undefined : target.host } : undefined,
  };
}

export class RedisTransport extends TrackedTransport implements EventTransport {
  readonly kind = 'redis' as const;
  private subscriber: Redis | null = null;
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
    const connection = redisConnectionOptions(this.options.target, this.options.transportOptions);
    const { logger, sink } = this.options;
    const subscriber = new Redis({ ...connection, connectionName: 'celeriac-events' });
    const commands = new Redis({ ...connection, connectionName: 'celeriac-commands' });
    this.subscriber = subscriber;
    this.commands = commands;

    subscriber.on('pmessage', (_pattern: string, _channel: string, message: string) => {
      decodeRedisMessage(message, Date.now() / 1000, sink);
    });
    // ioredis re-subscribes by itself after a reconnect; the first subscription is ours.
    let subscribedOnce = false;
    // The 'error' event carries the useful reason (ECONNREFUSED, auth failure…); later
    // generic messages ("Connection is closed.") must not hide it.
    let lastError: string | null = null;
    const subscribe = async (): Promise<void> => {
      try {
        await subscriber.psubscribe(...this.eventPatterns);
        subscribedOnce = true;
        lastError = null;
        logger.info({ patterns: this.eventPatterns }, 'subscribed to Celery events on Redis');
        this.tracker.up();
      } catch (error) {
        this.tracker.down(errorText(error));
      }
    };
    subscriber.on('connect', () => logger.debug('redis event connection established'));
    // 'ready' fires after auto-resubscription on reconnects; mark the stream up then.
    subscriber.on('ready', () => {
      if (subscribedOnce) {
        lastError = null;
        logger.info('reconnected to Redis; event stream resumed');
        this.tracker.up();
      }
    });
    subscriber.on('error', (error: Error) => {
      lastError = errorText(error);
      this.tracker.down(lastError);
      logger.debug({ err: errorText(error) }, 'redis event connection error');
    });
    subscriber.on('close', () => {
      if (this.stopped) return;
      if (this.tracker.get().connected) logger.warn('lost the Redis event connection; reconnecting (events published meanwhile are lost: Redis pub/sub has no replay)');
      this.tracker.down(lastError ?? 'connection closed');
    });
    commands.on('error', (error: Error) => logger.debug({ err: errorText(error) }, 'redis command connection error'));

    subscriber.connect().then(subscribe, (error: unknown) => {
      // ioredis keeps retrying by itself (retryStrategy); subscribe as soon as it is ready.
      this.tracker.down(lastError ?? errorText(error));
      logger.warn({ err: lastError ?? errorText(error) }, 'cannot reach the Redis broker yet; retrying with backoff');
      subscriber.once('ready', () => void subscribe());
    });
    commands.connect().catch(() => undefined);
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
    await Promise.all([this.subscriber, this.commands].map(async (client) => {
      if (!client) return;
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    }));
    this.tracker.down('stopped');
  }
}

export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
