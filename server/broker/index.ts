/** Picks the transport for a broker URL. The only place that knows both transports exist. */
import type { Logger } from 'pino';
import type { EventSink } from '../protocol/decode';
import type { TransportOptions } from './transport-options';
import type { BrokerTransport } from './transport';
import type { BrokerTarget } from './url';
import { RedisTransport } from './redis/redis-transport';
import { AmqpTransport } from './amqp/amqp-transport';

export function createTransport(target: BrokerTarget, transportOptions: TransportOptions, sink: EventSink, logger: Logger, clock: () => number, maxBacklogBytes?: number): BrokerTransport {
  // RabbitMQ needs no backlog of Celeriac's: unread events wait in the broker's queue (5 s TTL).
  if (target.kind === 'amqp') return new AmqpTransport({ target, sink, logger, clock });
  return new RedisTransport({ target, transportOptions, sink, logger, clock, ...(maxBacklogBytes !== undefined ? { maxBacklogChars: maxBacklogBytes } : {}) });
}
