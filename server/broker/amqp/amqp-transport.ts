/**
 * RabbitMQ transport (AMQP 0-9-1): events are consumed from an exclusive, auto-delete queue
 * bound to the `celeryev` topic exchange with "#", declared exactly as Celery's EventReceiver
 * does, including its TTL and expiry arguments (../shared/docs/celery-wire-protocol.md §3.2).
 * Control requests go to the `celery.pidbox` fanout exchange (§5.5).
 *
 * amqplib does not reconnect by itself in the way we need, so this class owns the loop:
 * connect → declare → consume; on any close, wait (capped backoff) and start again.
 */
import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import type { Logger } from 'pino';
import type { JsonValue } from '../../protocol/events';
import { decodeAmqpMessage, type EventSink } from '../../protocol/decode';
import { buildControlRequest, PIDBOX_EXCHANGE } from '../../protocol/pidbox';
import { reconnectDelayMs, TrackedTransport, type EventTransport } from '../transport';
import type { BrokerTarget } from '../url';
import { errorText } from '../redis/connection';

type AmqpTarget = Extract<BrokerTarget, { kind: 'amqp' }>;

export const EVENT_EXCHANGE = 'celeryev';
/** Celery's event_queue_ttl (5 s) and event_queue_expires (60 s), in milliseconds. */
const EVENT_QUEUE_ARGUMENTS = { 'x-message-ttl': 5_000, 'x-expires': 60_000 };

export interface AmqpTransportOptions {
  target: AmqpTarget;
  sink: EventSink;
  logger: Logger;
  clock: () => number;
}

/** amqplib connect options for a target; also used by control and queue-length code later. */
export function amqpConnectOptions(target: AmqpTarget): [amqp.Options.Connect, Record<string, unknown>] {
  return [
    {
      protocol: target.tls ? 'amqps' : 'amqp',
      hostname: target.host,
      port: target.port,
      username: target.username,
      password: target.password,
      // amqplib unescapes the vhost it is given.
      vhost: encodeURIComponent(target.vhost),
      heartbeat: 30,
    },
    { timeout: 5_000, rejectUnauthorized: target.rejectUnauthorized, clientProperties: { connection_name: 'celeriac' } },
  ];
}

export class AmqpTransport extends TrackedTransport implements EventTransport {
  readonly kind = 'amqp' as const;
  private connection: ChannelModel | null = null;
  private channel: Channel | null = null;
  private stopped = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Name of the current event queue (a new one per connection, like Celery's receiver). */
  eventQueue: string | null = null;

  constructor(private readonly options: AmqpTransportOptions) {
    super();
  }

  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    const { logger, sink, target } = this.options;
    let connection: ChannelModel | null = null;
    try {
      const [url, socketOptions] = amqpConnectOptions(target);
      connection = await amqp.connect(url, socketOptions);
      if (this.stopped) {
        await connection.close().catch(() => undefined);
        return;
      }
      connection.on('error', (error: unknown) => logger.debug({ err: errorText(error) }, 'amqp connection error'));
      connection.on('close', (error?: unknown) => this.lost(error ? errorText(error) : 'connection closed'));
      const channel = await connection.createChannel();
      channel.on('error', (error: unknown) => logger.warn({ err: errorText(error) }, 'amqp channel error'));
      channel.on('close', () => {
        // A closed channel on a live connection would silently stop events: reconnect fully.
        if (this.channel === channel && !this.stopped) void connection?.close().catch(() => undefined);
      });
      await channel.assertExchange(EVENT_EXCHANGE, 'topic', { durable: true, autoDelete: false });
      await channel.assertExchange(PIDBOX_EXCHANGE, 'fanout', { durable: false, autoDelete: false });
      const queue = `celeryev.${randomUUID()}`;
      await channel.assertQueue(queue, { durable: false, autoDelete: true, exclusive: true, arguments: EVENT_QUEUE_ARGUMENTS });
      await channel.bindQueue(queue, EVENT_EXCHANGE, '#');
      await channel.consume(
        queue,
        (message) => {
          if (message) decodeAmqpMessage(message.content, message.properties, Date.now() / 1000, sink);
        },
        { noAck: true },
      );
      this.connection = connection;
      this.channel = channel;
      this.eventQueue = queue;
      if (this.attempt > 0) logger.info('reconnected to RabbitMQ; event stream resumed');
      else logger.info({ queue }, 'consuming Celery events from RabbitMQ');
      this.attempt = 0;
      this.tracker.up();
    } catch (error) {
      if (connection) await connection.close().catch(() => undefined);
      this.lost(errorText(error));
    }
  }

  private lost(reason: string): void {
    this.connection = null;
    this.channel = null;
    if (this.stopped || this.retryTimer) return;
    const wasConnected = this.tracker.get().connected;
    this.tracker.down(reason);
    const delay = reconnectDelayMs(this.attempt++);
    const log = this.options.logger;
    if (wasConnected) log.warn({ reason }, 'lost the RabbitMQ connection; reconnecting');
    else if (this.attempt === 1 || this.attempt % 10 === 0) log.warn({ reason, retryInMs: delay }, 'cannot reach RabbitMQ yet; retrying with backoff');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }

  async broadcast(method: string, args: Record<string, JsonValue> = {}, destination: string[] | null = null): Promise<boolean> {
    const channel = this.channel;
    if (!channel) return false;
    const request = buildControlRequest(method, args, { destination, clock: this.options.clock() });
    try {
      return channel.publish(PIDBOX_EXCHANGE, '', Buffer.from(JSON.stringify(request.body)), {
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        headers: request.headers,
        deliveryMode: 2,
        priority: 0,
      });
    } catch (error) {
      this.options.logger.debug({ err: errorText(error), method }, 'control broadcast failed');
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const connection = this.connection;
    this.connection = null;
    this.channel = null;
    if (connection) await connection.close().catch(() => undefined);
    this.tracker.down('stopped');
  }
}
