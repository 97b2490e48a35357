/**
 * RabbitMQ transport (AMQP 0-9-1): events are consumed from an exclusive, auto-delete queue
 * bound to the `celeryev` topic exchange with "#", declared exactly as Celery's EventReceiver
 * does, including its TTL and expiry arguments (docs/celery-wire-protocol.md §3.2).
 * Control requests go to the `celery.pidbox` fanout exchange (§5.5).
 *
 * amqplib does not reconnect by itself in the way we need, so this class owns the loop:
 * connect → declare → consume; on any close, wait (capped backoff) and start again.
 */
import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger } from 'pino';
import type { JsonValue } from '../../protocol/events';
import { decodeAmqpEnvelope, decodeAmqpMessage, type EventSink } from '../../protocol/decode';
import { PIDBOX_EXCHANGE, PIDBOX_REPLY_EXCHANGE } from '../../protocol/pidbox';
import { BrokerUnavailableError, reconnectDelayMs, TrackedTransport, type BrokerTransport, type OutboundTaskMessage, type QueueStat, type RawReply, type ReplyChannel } from '../transport';
import type { BrokerTarget } from '../url';
import { errorText } from '../../errors';
import { toAmqpTable } from './field-table';

type AmqpTarget = Extract<BrokerTarget, { kind: 'amqp' }>;

export const EVENT_EXCHANGE = 'celeryev';
/** Celery's event_queue_ttl (5 s) and event_queue_expires (60 s), in milliseconds. */
const EVENT_QUEUE_ARGUMENTS = { 'x-message-ttl': 5_000, 'x-expires': 60_000 };
/** Celery's control_queue_ttl (300 s) and control_queue_expires (10 s), for reply queues (§5.1). */
const REPLY_QUEUE_ARGUMENTS = { 'x-message-ttl': 300_000, 'x-expires': 10_000 };

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

export class AmqpTransport extends TrackedTransport implements BrokerTransport {
  readonly kind = 'amqp' as const;
  /** basic.cancel stops deliveries at once (messages already prefetched stay with the worker). */
  readonly consumerSettleMs = 0;
  private connection: ChannelModel | null = null;
  private channel: Channel | null = null;
  /** Publishes tasks with publisher confirms, so "sent" means the broker has it. */
  private confirmChannel: ConfirmChannel | null = null;
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
      const confirmChannel = await connection.createConfirmChannel();
      confirmChannel.on('error', (error: unknown) => logger.warn({ err: errorText(error) }, 'amqp publish channel error'));
      this.connection = connection;
      this.channel = channel;
      this.confirmChannel = confirmChannel;
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
    this.confirmChannel = null;
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

  private ready(): ChannelModel {
    const connection = this.connection;
    if (!connection || !this.channel) throw new BrokerUnavailableError(this.tracker.get().reason ?? 'not connected to RabbitMQ');
    return connection;
  }

  /** Publish on the `celery.pidbox` fanout exchange (§5.5); RabbitMQ does not say how many got it. */
  async publishControl(body: unknown, headers: Record<string, JsonValue>): Promise<null> {
    this.ready();
    const channel = this.channel as Channel;
    channel.publish(PIDBOX_EXCHANGE, '', Buffer.from(JSON.stringify(body)), {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      headers: toAmqpTable(headers),
      deliveryMode: 2,
      priority: 0,
    });
    return null;
  }

  /** A reply queue of its own per call, on its own channel, declared as kombu does (§5.1, §5.5). */
  async openReplyChannel(): Promise<ReplyChannel> {
    const connection = this.ready();
    const channel = await connection.createChannel();
    channel.on('error', () => undefined); // surfaced through the pending operation
    const oid = randomUUID();
    const queue = `${oid}.reply.celery.pidbox`;
    const buffered: RawReply[] = [];
    let waiter: ((reply: RawReply | null) => void) | null = null;
    try {
      await channel.assertExchange(PIDBOX_REPLY_EXCHANGE, 'direct', { durable: false, autoDelete: false });
      await channel.assertQueue(queue, { durable: false, autoDelete: true, exclusive: true, arguments: REPLY_QUEUE_ARGUMENTS });
      await channel.bindQueue(queue, PIDBOX_REPLY_EXCHANGE, oid);
      await channel.consume(
        queue,
        (message) => {
          if (!message) return;
          const decoded = decodeAmqpEnvelope(message.content, message.properties);
          const reply: RawReply = decoded.ok ? { ticket: typeof decoded.headers.ticket === 'string' ? decoded.headers.ticket : null, body: decoded.body } : { ticket: null, body: null };
          if (waiter) {
            const resolve = waiter;
            waiter = null;
            resolve(reply);
          } else {
            buffered.push(reply);
          }
        },
        { noAck: true },
      );
    } catch (error) {
      await channel.close().catch(() => undefined);
      throw error;
    }
    return {
      replyTo: oid,
      next: (timeoutMs: number) => {
        const ready = buffered.shift();
        if (ready) return Promise.resolve(ready);
        return new Promise<RawReply | null>((resolve) => {
          const timer = setTimeout(() => {
            waiter = null;
            resolve(null);
          }, timeoutMs);
          waiter = (reply) => {
            clearTimeout(timer);
            resolve(reply);
          };
        });
      },
      // Closing the channel cancels the consumer; the auto-delete queue goes with it.
      close: () => channel.close().catch(() => undefined),
    };
  }

  /** basic.publish to the default exchange, routing key = queue (§7.4), with a publisher confirm. */
  async publishTask(message: OutboundTaskMessage): Promise<void> {
    this.ready();
    const channel = this.confirmChannel;
    if (!channel) throw new BrokerUnavailableError('RabbitMQ publish channel is not open');
    channel.publish('', message.queue, Buffer.from(JSON.stringify(message.body)), {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      headers: toAmqpTable(message.headers),
      deliveryMode: 2,
      priority: message.priority,
      correlationId: message.correlationId,
      replyTo: '',
      ...(message.expiration !== null ? { expiration: message.expiration } : {}),
    });
    await channel.waitForConfirms();
  }

  /** Passive declares on a throw-away channel: a missing queue (404) closes the channel (§6.2). */
  async queueStats(names: readonly string[]): Promise<QueueStat[]> {
    const connection = this.ready();
    const stats: QueueStat[] = [];
    let channel: Channel | null = null;
    try {
      for (const name of names) {
        if (!channel) {
          channel = await connection.createChannel();
          channel.on('error', () => undefined); // a 404 closes it; handled below
        }
        try {
          const ok = await channel.checkQueue(name);
          stats.push({ name, messages: ok.messageCount, byPriority: null, consumers: ok.consumerCount, oldestTaskId: null, exists: true });
        } catch (error) {
          if (!/NOT_FOUND|404/.test(errorText(error))) throw error;
          channel = null; // closed by the broker
          stats.push({ name, messages: 0, byPriority: null, consumers: 0, oldestTaskId: null, exists: false });
        }
      }
    } finally {
      if (channel) await channel.close().catch(() => undefined);
    }
    return stats;
  }

  /** RabbitMQ's own queue list needs the management API (--broker-api); the poller asks it. */
  async discoverQueues(): Promise<string[]> {
    return [];
  }

  async purgeQueue(name: string): Promise<number> {
    const connection = this.ready();
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      const ok = await channel.purgeQueue(name);
      return ok.messageCount;
    } catch (error) {
      if (/NOT_FOUND|404/.test(errorText(error))) throw new Error(`queue '${name}' does not exist on the broker`);
      throw error;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const connection = this.connection;
    this.connection = null;
    this.channel = null;
    this.confirmChannel = null;
    if (connection) await connection.close().catch(() => undefined);
    this.tracker.down('stopped');
  }
}
