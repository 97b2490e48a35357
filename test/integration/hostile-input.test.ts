/**
 * Bad input at a rate the process can handle loses nothing: 100,000 hostile messages of 19 kinds
 * (Redis; 15 on RabbitMQ, which has no envelope/base64 stage) at 5,000 messages/s, interleaved
 * with real Celery envelopes replayed as fresh tasks, against a real broker. Every valid task must
 * end exactly as the same replay does with no hostile traffic around it, and every hostile message
 * must be counted under its drop reason: the drop counters add up to the hostile messages sent.
 *
 * HOSTILE_COUNT overrides the count (the RabbitMQ run uses a third of it).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import amqplib from 'amqplib';
import { Redis } from 'ioredis';
import { decodeAmqpMessage, decodeRedisMessage } from '../../server/protocol/decode';
import type { DropReason } from '../../server/protocol/events';
import type { RunningCeleriac } from '../../server/server';
import { deleteRabbitVhost, ensureRabbitVhost, startRedisServer } from '../helpers/brokers';
import { getJson, startTestCeleriac, waitFor } from '../helpers/celeriac';
import { CollectingSink } from '../helpers/collecting-sink';
import { AMQP_HOSTILE, amqpReplay, hostileSchedule, REDIS_HOSTILE, redisReplay, replayTaskId, type AmqpMessage, type HostileKind } from '../helpers/hostile';

const HOSTILE_COUNT = Number(process.env.HOSTILE_COUNT ?? 100_000);
const RATE = 5_000; // hostile messages per second
const VALID_EVERY = 5; // one valid message per this many hostile ones
const TICK_MS = 10;

interface Status {
  stream: { connected: boolean; connects: number };
  events: { received: number; dropped: Record<DropReason, number>; droppedTotal: number };
}

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

interface Run<M, V> {
  celeriac: RunningCeleriac;
  kinds: HostileKind<M>[];
  count: number;
  replay(replay: number): V[];
  /** Events the decoder makes of one valid message (counted with the real decoder, offline). */
  eventsIn(message: V): number;
  publish(hostile: M[], valid: V[]): Promise<void>;
}

async function runHostile<M, V>(run: Run<M, V>): Promise<void> {
  const { celeriac, kinds, count } = run;
  const status = async (): Promise<Status> => (await getJson<Status>(celeriac.url, '/api/celeriac/status')).body;
  await waitFor('subscribed', async () => (await status()).stream.connected);
  const connectsBefore = (await status()).stream.connects;
  type Tasks = Record<string, Record<string, unknown>>;
  const tasks = async (): Promise<Tasks> => (await getJson<Tasks>(celeriac.url, '/api/tasks?limit=1000000')).body;

  // Replay 0 alone: the reference for what every replay's tasks must look like.
  let expectedEvents = 0;
  const clean = run.replay(0);
  for (const message of clean) expectedEvents += run.eventsIn(message);
  await run.publish([], clean);
  await waitFor('clean replay', async () => (await status()).events.received === expectedEvents);
  const reference = await tasks();
  const normalised = (task: Record<string, unknown> | undefined, replay: number): string => JSON.stringify(task ?? null).replaceAll(`replay${replay}-task`, 'replayN-task');
  const expectedTask = [1, 2, 3, 4, 5, 6].map((n) => normalised(reference[replayTaskId(0, n)], 0));
  assert.ok(expectedTask.every((t) => t !== 'null'));

  // The hostile run: at RATE, one valid message every VALID_EVERY hostile ones.
  const schedule = hostileSchedule(kinds, count);
  const expectedDrops = new Map<DropReason, number>();
  for (const kind of schedule) {
    const reason = (kinds[kind] as HostileKind<M>).reason;
    expectedDrops.set(reason, (expectedDrops.get(reason) ?? 0) + 1);
  }
  let replay = 1;
  let pendingValid: V[] = [];
  const nextValid = (): V => {
    if (pendingValid.length === 0) {
      pendingValid = run.replay(replay++);
      for (const message of pendingValid) expectedEvents += run.eventsIn(message);
    }
    return pendingValid.shift() as V;
  };
  const started = Date.now();
  let sent = 0;
  let validSent = 0;
  while (sent < schedule.length) {
    const due = Math.min(schedule.length, Math.floor(((Date.now() - started) / 1000) * RATE));
    const hostile: M[] = [];
    const valid: V[] = [];
    for (; sent < due; sent++) {
      const kind = kinds[schedule[sent] as number] as HostileKind<M>;
      hostile.push(kind.make(sent));
      if (sent % VALID_EVERY === 0) valid.push(nextValid());
    }
    validSent += valid.length;
    if (hostile.length > 0) await run.publish(hostile, valid);
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  // Finish the replay in progress so every replay's tasks are complete.
  if (pendingValid.length > 0) {
    validSent += pendingValid.length;
    await run.publish([], pendingValid);
    pendingValid = [];
  }
  const seconds = (Date.now() - started) / 1000;
  const replays = replay - 1;

  const final = await waitFor(
    () => `${count} drops and ${expectedEvents} events`,
    async () => {
      const s = await status();
      return s.events.droppedTotal >= count && s.events.received >= expectedEvents ? s : null;
    },
    30_000,
  ).catch(async (error: unknown) => {
    const s = await status();
    throw new Error(`${String(error)}; received ${s.events.received} of ${expectedEvents} events, dropped ${s.events.droppedTotal} of ${count}: ${JSON.stringify(s.events.dropped)}`);
  });
  const rate = Math.round(count / seconds);
  console.log(`# ${count} hostile messages in ${seconds.toFixed(1)} s (${rate}/s) with ${validSent} valid messages (${replays} replays of 6 tasks)`);
  assert.ok(rate >= RATE * 0.9, `published at ${rate}/s`);
  assert.equal(final.stream.connects, connectsBefore, 'never reconnected');
  assert.equal(final.events.received, expectedEvents, 'every valid event applied');
  assert.equal(final.events.droppedTotal, count, 'every hostile message counted once');
  for (const [reason, n] of Object.entries(final.events.dropped)) {
    assert.equal(n, expectedDrops.get(reason as DropReason) ?? 0, `drops counted as ${reason}`);
  }
  const all = await tasks();
  for (let r = 1; r <= replays; r++) {
    for (let n = 1; n <= 6; n++) {
      assert.equal(normalised(all[replayTaskId(r, n)], r), expectedTask[n - 1], `task ${n} of replay ${r}`);
    }
  }
  // No hostile message became a task.
  assert.equal(Object.keys(all).length, (replays + 1) * 6);
}

describe('hostile input at 5,000 messages/s loses nothing', { timeout: 180_000 }, () => {
  it('Redis: every valid task intact, every hostile message counted under its reason', async () => {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const celeriac = await startTestCeleriac(['--broker', redis.url(0), '--no-enable-events', '--log-level', 'error']);
    cleanups.push(() => celeriac.close());
    const publisher = new Redis(redis.url(0));
    cleanups.push(() => publisher.quit());
    const CHANNEL = '/0.celeryev/task.sent';
    let i = 0;
    await runHostile<string, { channel: string; payload: string }>({
      celeriac,
      kinds: REDIS_HOSTILE,
      count: HOSTILE_COUNT,
      replay: redisReplay,
      eventsIn: (message) => {
        const sink = new CollectingSink();
        decodeRedisMessage(message.payload, 1, sink);
        assert.deepEqual(sink.drops, []);
        return sink.events.length;
      },
      publish: async (hostile, valid) => {
        // Interleaved in one stream, in order: valid messages spread among the hostile ones.
        const pipeline = publisher.pipeline();
        const every = valid.length > 0 ? Math.max(1, Math.floor(hostile.length / valid.length)) : 0;
        let v = 0;
        hostile.forEach((payload, k) => {
          pipeline.publish(CHANNEL, payload);
          if (every > 0 && k % every === 0 && v < valid.length) pipeline.publish((valid[v] as { channel: string }).channel, (valid[v++] as { payload: string }).payload);
        });
        for (; v < valid.length; v++) pipeline.publish((valid[v] as { channel: string }).channel, (valid[v] as { payload: string }).payload);
        i += hostile.length + valid.length;
        await pipeline.exec();
      },
    });
    assert.ok(i > HOSTILE_COUNT);
  });

  it('RabbitMQ: the same, over AMQP (a third of the count)', async () => {
    const vhost = 'celeriac-test-hostile';
    const url = await ensureRabbitVhost(vhost);
    cleanups.push(() => deleteRabbitVhost(vhost));
    const celeriac = await startTestCeleriac(['--broker', url, '--no-enable-events', '--log-level', 'error']);
    cleanups.push(() => celeriac.close());
    const connection = await amqplib.connect(url);
    cleanups.push(() => connection.close());
    const channel = await connection.createConfirmChannel();
    const send = (message: AmqpMessage): boolean =>
      channel.publish('celeryev', message.routingKey, message.content, {
        contentType: message.contentType,
        contentEncoding: message.contentEncoding,
        headers: message.headers,
        deliveryMode: 1,
      });
    await runHostile<AmqpMessage, AmqpMessage>({
      celeriac,
      kinds: AMQP_HOSTILE,
      count: Math.round(HOSTILE_COUNT / 3),
      replay: amqpReplay,
      eventsIn: (message) => {
        const sink = new CollectingSink();
        decodeAmqpMessage(message.content, { contentType: message.contentType, contentEncoding: message.contentEncoding, headers: message.headers }, 1, sink);
        assert.deepEqual(sink.drops, []);
        return sink.events.length;
      },
      publish: async (hostile, valid) => {
        const every = valid.length > 0 ? Math.max(1, Math.floor(hostile.length / valid.length)) : 0;
        let v = 0;
        hostile.forEach((message, k) => {
          send(message);
          if (every > 0 && k % every === 0 && v < valid.length) send(valid[v++] as AmqpMessage);
        });
        for (; v < valid.length; v++) send(valid[v] as AmqpMessage);
        await channel.waitForConfirms();
      },
    });
  });
});
