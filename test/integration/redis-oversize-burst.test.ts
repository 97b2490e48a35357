/**
 * A broken producer publishes three ~11 MB event messages in a row on a private Redis with the
 * default `client-output-buffer-limit pubsub 32mb 8mb 60`, while valid task events are published
 * before, during and after. Celeriac must stay subscribed (no reconnect), receive every valid
 * event, and count the three as `oversized` — discarded while read (the subscriber's RESP scanner),
 * whatever their encoding: one of them is non-ASCII JSON, 11 MB of bytes but 5.5 M characters.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { startRedisServer } from '../helpers/brokers';
import { getJson, startTestCeleriac, waitFor } from '../helpers/celeriac';
import { redisEnvelope } from '../helpers/collecting-sink';

const CHANNEL = '/0.celeryev/task.received';
const BIG_BYTES = 11 * 1024 * 1024;

interface Status {
  stream: { connected: boolean; connects: number };
  events: { received: number; dropped: Record<string, number>; droppedTotal: number };
  state: { tasks: number };
}

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

test('three 11 MB messages in a row cost no other event and no reconnect', { timeout: 120_000 }, async () => {
  const redis = await startRedisServer();
  cleanups.push(() => redis.stop());
  const admin = new Redis(redis.url(0));
  cleanups.push(() => admin.quit());
  assert.deepEqual(await admin.config('GET', 'client-output-buffer-limit'), ['client-output-buffer-limit', 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60']);

  const celeriac = await startTestCeleriac(['--broker', redis.url(0), '--no-enable-events']);
  cleanups.push(() => celeriac.close());
  const status = async (): Promise<Status> => (await getJson<Status>(celeriac.url, '/api/celeriac/status')).body;
  await waitFor('subscribed', async () => (await status()).stream.connected);
  const connectsBefore = (await status()).stream.connects;

  // Two producers, as in a real cluster: the broken one, and workers emitting events meanwhile.
  const broken = new Redis(redis.url(0));
  const workers = new Redis(redis.url(0));
  cleanups.push(() => Promise.all([broken.quit(), workers.quit()]));
  let sent = 0;
  const valid = (): string =>
    redisEnvelope({ hostname: 'w1@host', timestamp: 1_700_000_000 + sent, type: 'task-received', uuid: `valid-${sent++}`, name: 'tasks.add', args: '(2, 3)', kwargs: '{}', clock: sent });
  const publishValid = async (n: number): Promise<void> => {
    const pipeline = workers.pipeline();
    for (let i = 0; i < n; i++) pipeline.publish(CHANNEL, valid());
    await pipeline.exec();
  };

  await publishValid(200); // before

  // During: workers keep publishing every 2 ms until the burst is over (and a little after).
  let bursting = true;
  const during = (async () => {
    while (bursting) {
      await publishValid(10);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();

  const bigs = [
    // garbage text
    'x'.repeat(BIG_BYTES),
    // a well-formed kombu envelope whose base64 body makes it 11 MB
    redisEnvelope(JSON.stringify({ hostname: 'w1@host', timestamp: 1, type: 'task-received', uuid: 'huge', args: 'a'.repeat((BIG_BYTES * 3) / 4) })),
    // non-ASCII JSON: 11 MB of UTF-8, 5.5 M characters
    JSON.stringify({ body: 'é'.repeat(BIG_BYTES / 2) }),
  ];
  assert.ok(bigs.every((m) => Buffer.byteLength(m) >= BIG_BYTES));
  // One PUBLISH after the other, each waiting for Redis's reply, as kombu publishes.
  for (const message of bigs) await broken.publish(CHANNEL, message);
  await new Promise((r) => setTimeout(r, 300));
  bursting = false;
  await during;

  await publishValid(200); // after

  const final = await waitFor(
    () => `${sent} valid events`,
    async () => {
      const s = await status();
      return s.events.received === sent && s.events.droppedTotal >= 3 ? s : null;
    },
    20_000,
  ).catch(async (error: unknown) => {
    const s = await status();
    throw new Error(`${String(error)}; status: received ${s.events.received} of ${sent}, connects ${s.stream.connects}, dropped ${JSON.stringify(s.events.dropped)}`);
  });
  assert.equal(final.stream.connects, connectsBefore, 'the subscriber was never disconnected');
  assert.equal(final.stream.connected, true);
  assert.equal(final.events.dropped.oversized, 3);
  assert.equal(final.events.droppedTotal, 3);
  assert.equal(final.state.tasks, sent);
  // Every valid task is there with its fields, the huge one is not.
  const tasks = (await getJson<Record<string, { name: string; state: string; args: string }>>(celeriac.url, '/api/tasks?limit=100000')).body;
  for (let i = 0; i < sent; i++) {
    const task = tasks[`valid-${i}`];
    assert.ok(task, `valid-${i}`);
    assert.equal(task.state, 'RECEIVED');
    assert.equal(task.name, 'tasks.add');
    assert.equal(task.args, '(2, 3)');
  }
  assert.equal(tasks.huge, undefined);
});
