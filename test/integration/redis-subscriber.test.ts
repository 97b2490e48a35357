/**
 * The Redis subscriber thread: events flow through it in order, and when the in-process backlog
 * limit is exceeded messages are dropped and counted (never a disconnect, never a crash).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisTransport } from '../../server/broker/redis/redis-transport';
import { parseTransportOptions } from '../../server/broker/transport-options';
import { parseBrokerUrl } from '../../server/broker/url';
import { createLogger } from '../../server/log';
import type { TaskEvent } from '../../server/protocol/events';
import { startRedisServer } from '../helpers/brokers';
import { CollectingSink, redisEnvelope } from '../helpers/collecting-sink';
import { waitFor } from '../helpers/celeriac';

type RedisTarget = Extract<ReturnType<typeof parseBrokerUrl>, { kind: 'redis' }>;

describe('Redis subscriber thread', { timeout: 60_000 }, () => {
  const stops: (() => Promise<void>)[] = [];
  after(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  async function setUp(maxBacklogChars?: number): Promise<{ sink: CollectingSink; publish: (n: number) => Promise<void> }> {
    const server = await startRedisServer();
    stops.push(() => server.stop());
    const sink = new CollectingSink();
    const transport = new RedisTransport({
      target: parseBrokerUrl(server.url(0)) as RedisTarget,
      transportOptions: parseTransportOptions([]),
      sink,
      logger: createLogger('silent'),
      clock: () => 1,
      maxBacklogChars,
    });
    stops.push(() => transport.stop());
    transport.start();
    await waitFor('subscribed', async () => transport.status().connected);
    const client = new Redis(server.url(0));
    stops.push(async () => void (await client.quit()));
    const publish = async (n: number): Promise<void> => {
      const pipeline = client.pipeline();
      for (let i = 0; i < n; i++) {
        const event = { hostname: 'w@h', timestamp: 1, type: 'task-received', uuid: `task-${i}`, name: 'tasks.add', clock: i };
        pipeline.publish('/0.celeryev/task.received', redisEnvelope(event));
      }
      await pipeline.exec();
    };
    return { sink, publish };
  }

  it('delivers every event, in publish order', async () => {
    const { sink, publish } = await setUp();
    await publish(5_000);
    await waitFor('5000 events', async () => sink.events.length === 5_000);
    assert.deepEqual(
      sink.events.slice(0, 3).map((e) => (e as TaskEvent).uuid),
      ['task-0', 'task-1', 'task-2'],
    );
    assert.ok(sink.events.every((e, i) => (e as TaskEvent).uuid === `task-${i}`));
    assert.deepEqual(sink.drops, []);
  });

  it('drops and counts messages beyond the backlog limit instead of falling behind Redis', async () => {
    const { sink, publish } = await setUp(1); // any batch exceeds a one-character backlog
    await publish(50);
    await waitFor('50 overflow drops', async () => sink.drops.length === 50);
    assert.ok(sink.drops.every((d) => d.reason === 'backlog_overflow'));
    assert.equal(sink.events.length, 0);
  });
});
