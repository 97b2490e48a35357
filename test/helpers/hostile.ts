/**
 * Hostile and valid event traffic for the hostile-input tests, for both transports.
 *
 * Valid traffic is the envelopes captured from real Celery 5.2.6 workers
 * (test/fixtures/envelopes/), replayed many times with the task ids rewritten per replay, so
 * every replay is a fresh set of six tasks whose final state is known exactly.
 *
 * Hostile traffic: a dozen and more kinds of bad input, each one message that must end as exactly
 * one drop under a known reason.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import type { DropReason } from '../../server/protocol/events';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/envelopes');
/** The fixture's task ids are this prefix followed by 1…6. */
const FIXTURE_ID_PREFIX = 'c0ffee00-0000-4000-8000-00000000000';

export interface AmqpMessage {
  routingKey: string;
  content: Buffer;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  headers: Record<string, unknown>;
}

/** The id of fixture task `n` (1…6) in replay `replay`. */
export const replayTaskId = (replay: number, n: number): string => `replay${replay}-task${n}`;

function rewriteIds(text: string, replay: number): string {
  return text.replaceAll(FIXTURE_ID_PREFIX, `replay${replay}-task`);
}

interface RedisFixture {
  channel: string;
  payload: string;
}
interface AmqpFixture {
  routingKey: string;
  properties: { contentType: string; contentEncoding: string; headers: Record<string, unknown> };
  bodyBase64: string;
}

function fixtureFiles(folder: string): unknown[] {
  const dir = path.join(FIXTURES, folder);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as unknown);
}

/** The captured Redis messages of one replay, ids rewritten (the envelope is kept byte for byte but for its body). */
export function redisReplay(replay: number): { channel: string; payload: string }[] {
  return (fixtureFiles('redis') as RedisFixture[]).map(({ channel, payload }) => {
    const envelope = JSON.parse(payload) as { body: string };
    const body = rewriteIds(Buffer.from(envelope.body, 'base64').toString('utf8'), replay);
    return { channel, payload: JSON.stringify({ ...envelope, body: Buffer.from(body, 'utf8').toString('base64') }) };
  });
}

export function amqpReplay(replay: number): AmqpMessage[] {
  return (fixtureFiles('amqp') as AmqpFixture[]).map(({ routingKey, properties, bodyBase64 }) => ({
    routingKey,
    content: Buffer.from(rewriteIds(Buffer.from(bodyBase64, 'base64').toString('utf8'), replay), 'utf8'),
    contentType: properties.contentType,
    contentEncoding: properties.contentEncoding,
    headers: properties.headers,
  }));
}

/** One kind of hostile input: how often, what it must be counted as, how to make the i-th one. */
export interface HostileKind<M> {
  name: string;
  reason: DropReason;
  /** Relative frequency; expensive kinds (bombs, oversize) are rare. */
  weight: number;
  make(i: number): M;
}

const event = (i: number, fields: Record<string, unknown>): string => JSON.stringify({ hostname: 'hostile@host', timestamp: 1_800_000_000 + i / 1000, uuid: `hostile-${i}`, clock: i, ...fields });
// A zlib stream that inflates to 16 MiB of spaces (twice the 8 MiB limit) from ~16 KB.
const BOMB = deflateSync(Buffer.alloc(16 * 1024 * 1024, 0x20), { level: 9 });
// A pickle (protocol 4) of {'type': 'task-sent'}: must never be parsed.
const PICKLE = Buffer.from('gASVGQAAAAAAAAB9lIwEdHlwZZSMCXRhc2stc2VudJRzLg==', 'base64');
const OVERSIZE_BYTES = 9 * 1000 * 1000; // over the 8 MiB (8,388,608 B) limit

function envelope(body: Buffer | string, fields: Record<string, unknown> = {}, properties: Record<string, unknown> = {}): string {
  return JSON.stringify({
    body: (typeof body === 'string' ? Buffer.from(body, 'utf8') : body).toString('base64'),
    'content-encoding': 'utf-8',
    'content-type': 'application/json',
    headers: { hostname: 'hostile@host' },
    properties: { delivery_mode: 1, delivery_info: { exchange: 'celeryev', routing_key: 'task.sent' }, priority: 0, body_encoding: 'base64', delivery_tag: 'x' },
    ...fields,
    ...(Object.keys(properties).length ? { properties: { body_encoding: 'base64', ...properties } } : {}),
  });
}

/** Hostile Redis payloads (each published as one message on the event channel). */
export const REDIS_HOSTILE: HostileKind<string>[] = [
  { name: 'pickle', reason: 'unsupported_content_type', weight: 10, make: () => envelope(PICKLE, { 'content-type': 'application/x-python-serialize', 'content-encoding': 'binary' }) },
  { name: 'yaml', reason: 'unsupported_content_type', weight: 10, make: (i) => envelope(`type: task-sent\nuuid: hostile-${i}\n`, { 'content-type': 'application/x-yaml' }) },
  {
    name: 'msgpack',
    reason: 'unsupported_content_type',
    weight: 5,
    make: () => envelope(Buffer.from([0x81, 0xa4, 0x74, 0x79, 0x70, 0x65]), { 'content-type': 'application/x-msgpack', 'content-encoding': 'binary' }),
  },
  {
    name: 'bad base64',
    reason: 'bad_base64',
    weight: 10,
    make: (i) => JSON.stringify({ body: `@@not base64 ${i}@@`, 'content-type': 'application/json', 'content-encoding': 'utf-8', headers: {}, properties: { body_encoding: 'base64' } }),
  },
  { name: 'bad JSON', reason: 'bad_json', weight: 10, make: (i) => envelope(`{"type": "task-sent", "uuid": "hostile-${i}", `) },
  { name: 'missing field', reason: 'missing_field', weight: 10, make: (i) => envelope(JSON.stringify({ type: 'task-received', hostname: 'hostile@host', uuid: `hostile-${i}` })) },
  { name: 'wrong type', reason: 'wrong_type', weight: 10, make: (i) => envelope(event(i, { type: 'task-received', timestamp: 'yesterday' })) },
  { name: 'wrong field type', reason: 'wrong_type', weight: 5, make: (i) => envelope(event(i, { type: 'task-received', retries: 'three', name: ['tasks.add'] })) },
  { name: 'unknown event type', reason: 'unknown_event_type', weight: 10, make: (i) => envelope(event(i, { type: 'celeriac-pwn' })) },
  { name: 'non-object body', reason: 'not_an_event', weight: 10, make: (i) => envelope(i % 3 === 0 ? '42' : i % 3 === 1 ? '"task-sent"' : 'null') },
  {
    name: 'truncated envelope',
    reason: 'bad_envelope',
    weight: 10,
    make: (i) => {
      const whole = envelope(event(i, { type: 'task-sent' }));
      return whole.slice(0, whole.length >> 1);
    },
  },
  // 0xFF first: never valid JSON, never the subscriber's oversize marker.
  { name: 'binary garbage', reason: 'bad_envelope', weight: 10, make: () => Buffer.concat([Buffer.from([0xff]), randomBytes(200)]).toString('latin1') },
  { name: 'envelope not an object', reason: 'bad_envelope', weight: 5, make: (i) => JSON.stringify([i, 'body']) },
  { name: 'unknown body encoding', reason: 'bad_envelope', weight: 5, make: (i) => envelope(event(i, { type: 'task-sent' }), {}, { body_encoding: 'rot13' }) },
  { name: 'binary content-encoding', reason: 'unsupported_content_encoding', weight: 5, make: (i) => envelope(event(i, { type: 'task-sent' }), { 'content-encoding': 'binary' }) },
  { name: 'bz2 compression', reason: 'unsupported_compression', weight: 5, make: (i) => envelope(event(i, { type: 'task-sent' }), { headers: { compression: 'application/x-bz2' } }) },
  { name: 'corrupt zlib', reason: 'decompress_failed', weight: 5, make: () => envelope(randomBytes(64), { headers: { compression: 'application/x-gzip' } }) },
  { name: 'decompression bomb', reason: 'oversized', weight: 0.2, make: () => envelope(BOMB, { headers: { compression: 'application/x-gzip' } }) },
  { name: 'oversize', reason: 'oversized', weight: 0.02, make: (i) => envelope(event(i, { type: 'task-sent', args: 'A'.repeat(OVERSIZE_BYTES) })) },
];

const amqp = (content: Buffer | string, contentType: string | undefined = 'application/json', extra: Partial<AmqpMessage> = {}): AmqpMessage => ({
  routingKey: 'task.sent',
  content: typeof content === 'string' ? Buffer.from(content, 'utf8') : content,
  contentType,
  contentEncoding: 'utf-8',
  headers: { hostname: 'hostile@host' },
  ...extra,
});

/** Hostile AMQP messages (published on the celeryev exchange). AMQP has no envelope or base64 stage. */
export const AMQP_HOSTILE: HostileKind<AmqpMessage>[] = [
  { name: 'pickle', reason: 'unsupported_content_type', weight: 10, make: () => amqp(PICKLE, 'application/x-python-serialize', { contentEncoding: 'binary' }) },
  { name: 'yaml', reason: 'unsupported_content_type', weight: 10, make: (i) => amqp(`type: task-sent\nuuid: hostile-${i}\n`, 'application/x-yaml') },
  { name: 'no content type', reason: 'unsupported_content_type', weight: 5, make: (i) => amqp(event(i, { type: 'task-sent' }), 'application/json', { contentType: undefined }) },
  { name: 'bad JSON', reason: 'bad_json', weight: 10, make: (i) => amqp(`{"type": "task-sent", "uuid": "hostile-${i}", `) },
  { name: 'missing field', reason: 'missing_field', weight: 10, make: (i) => amqp(JSON.stringify({ type: 'task-received', hostname: 'hostile@host', uuid: `hostile-${i}` })) },
  { name: 'wrong type', reason: 'wrong_type', weight: 10, make: (i) => amqp(event(i, { type: 'task-received', timestamp: 'yesterday' })) },
  { name: 'unknown event type', reason: 'unknown_event_type', weight: 10, make: (i) => amqp(event(i, { type: 'celeriac-pwn' })) },
  { name: 'non-object body', reason: 'not_an_event', weight: 10, make: (i) => amqp(i % 2 === 0 ? '42' : '"task-sent"') },
  {
    name: 'truncated body',
    reason: 'bad_json',
    weight: 10,
    make: (i) => {
      const whole = event(i, { type: 'task-sent' });
      return amqp(whole.slice(0, whole.length >> 1));
    },
  },
  { name: 'binary garbage', reason: 'bad_json', weight: 10, make: () => amqp(Buffer.concat([Buffer.from([0xff]), randomBytes(200)])) },
  { name: 'binary content-encoding', reason: 'unsupported_content_encoding', weight: 5, make: (i) => amqp(event(i, { type: 'task-sent' }), 'application/json', { contentEncoding: 'binary' }) },
  { name: 'bz2 compression', reason: 'unsupported_compression', weight: 5, make: (i) => amqp(event(i, { type: 'task-sent' }), 'application/json', { headers: { compression: 'application/x-bz2' } }) },
  { name: 'corrupt zlib', reason: 'decompress_failed', weight: 5, make: () => amqp(randomBytes(64), 'application/json', { headers: { compression: 'application/x-gzip' } }) },
  { name: 'decompression bomb', reason: 'oversized', weight: 0.2, make: () => amqp(BOMB, 'application/json', { headers: { compression: 'application/x-gzip' } }) },
  { name: 'oversize', reason: 'oversized', weight: 0.02, make: (i) => amqp(event(i, { type: 'task-sent', args: 'A'.repeat(OVERSIZE_BYTES) })) },
];

/**
 * `count` hostile messages, kinds in proportion to their weights, deterministically interleaved
 * (every kind appears; the rare ones are spread over the run). Returns the kind index of each.
 */
export function hostileSchedule<M>(kinds: HostileKind<M>[], count: number): number[] {
  const total = kinds.reduce((sum, k) => sum + k.weight, 0);
  const quota = kinds.map((k) => Math.max(1, Math.round((k.weight / total) * count)));
  // Fix rounding so the quotas add up to exactly `count` (adjust the most frequent kind).
  const most = quota.indexOf(Math.max(...quota));
  quota[most] = (quota[most] as number) + count - quota.reduce((a, b) => a + b, 0);
  // Spread each kind evenly: the j-th of n messages of a kind is due at (j + 0.5) / n.
  const due: { at: number; kind: number }[] = [];
  quota.forEach((n, kind) => {
    for (let j = 0; j < n; j++) due.push({ at: (j + 0.5) / n, kind });
  });
  due.sort((a, b) => a.at - b.at || a.kind - b.kind);
  return due.map((d) => d.kind);
}
