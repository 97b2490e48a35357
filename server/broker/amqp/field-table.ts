/**
 * AMQP header tables that py-amqp (Celery's client) reads back correctly.
 *
 * amqplib guesses integer widths: 128–32767 becomes type 's' (int16, per RabbitMQ's errata),
 * but py-amqp reads 's' as a *short string*, so the whole table is misparsed and the worker
 * drops the message with a UnicodeDecodeError (seen with Lamport clocks past 127). Small values
 * become 'b', which py-amqp reads unsigned. So every integer is written explicitly as 'I'
 * (signed 32-bit), or as 'l' (64-bit, which py-amqp reads unsigned) when it does not fit.
 */
import type { JsonValue } from '../../protocol/events';

type AmqpFieldValue = string | number | boolean | null | { '!': string; value: number } | AmqpFieldValue[] | { [key: string]: AmqpFieldValue };

export function toAmqpFieldValue(value: JsonValue): AmqpFieldValue {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return value; // amqplib writes non-integers as 'd' (double)
    if (value >= -0x80000000 && value < 0x80000000) return { '!': 'int', value };
    return value >= 0 ? { '!': 'long', value } : { '!': 'double', value };
  }
  if (Array.isArray(value)) return value.map(toAmqpFieldValue);
  if (value !== null && typeof value === 'object') {
    const table: Record<string, AmqpFieldValue> = {};
    for (const [key, item] of Object.entries(value)) table[key] = toAmqpFieldValue(item);
    return table;
  }
  return value;
}

export function toAmqpTable(headers: Record<string, JsonValue>): Record<string, AmqpFieldValue> {
  return toAmqpFieldValue(headers) as Record<string, AmqpFieldValue>;
}
