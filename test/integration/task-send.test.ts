/**
 * Tasks published by Celeriac (buildTaskMessage + BrokerTransport.publishTask) against real
 * Celery 5.2.6 workers, on a private Redis and on a RabbitMQ vhost, with results read back from a
 * private Redis result backend (RedisResultBackend). What the worker reports (task events) and
 * stores (results) is the proof; where it matters the message is also compared on the wire with
 * one Celery's own client (send.py) published.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { createTransport } from '../../server/broker/index';
import type { BrokerTransport, OutboundTaskMessage } from '../../server/broker/transport';
import { DEFAULT_TRANSPORT_OPTIONS } from '../../server/broker/transport-options';
import { parseBrokerUrl } from '../../server/broker/url';
import { isReady, RedisResultBackend, type TaskResult } from '../../server/control/result-backend';
import { buildTaskMessage, type TaskSendOptions } from '../../server/control/task-message';
import { createLogger } from '../../server/log';
import type { JsonValue, TaskEvent } from '../../server/protocol/events';
import { deleteRabbitVhost, ensureRabbitVhost, startRedisServer } from '../helpers/brokers';
import { sendTasks, startWorker, type CeleryWorker } from '../helpers/celery';
import { waitFor } from '../helpers/celeriac';
import { CollectingSink } from '../helpers/collecting-sink';

const ORIGIN = 'celeriac-test@task-send';
const SPECIAL_QUEUE = 'special';

interface Rig {
  kind: 'redis' | 'amqp';
  brokerUrl: string;
  resultUrl: string;
  transport: BrokerTransport;
  sink: CollectingSink;
  backend: RedisResultBackend;
  defaultWorker: string;
  specialWorker: string;
}

/** A spec for send.py (test/fixtures/celery_app/send.py), including the fields added for this suite. */
interface SendPySpec {
  task: string;
  args?: JsonValue[];
  kwargs?: Record<string, JsonValue>;
  id?: string;
  queue?: string;
  priority?: number;
  expires?: number;
  args_tuple?: boolean;
}

function sendOptions(overrides: Partial<TaskSendOptions>): TaskSendOptions {
  return { args: [], kwargs: {}, queue: 'celery', countdown: null, eta: null, expires: null, priority: 0, ...overrides };
}

async function publish(rig: Rig, task: string, overrides: Partial<TaskSendOptions>, now = new Date()): Promise<OutboundTaskMessage> {
  const message = buildTaskMessage(task, sendOptions(overrides), ORIGIN, now);
  await rig.transport.publishTask(message);
  return message;
}

function idOf(message: OutboundTaskMessage): string {
  return message.correlationId;
}

function taskEvents(sink: CollectingSink, uuid: string): TaskEvent[] {
  return sink.events.filter((event): event is TaskEvent => event.kind === 'task' && event.uuid === uuid);
}

function eventOf(sink: CollectingSink, uuid: string, type: string, timeoutMs = 20_000): Promise<TaskEvent> {
  return waitFor(`${type} of ${uuid}`, async () => taskEvents(sink, uuid).find((event) => event.type === type) ?? null, timeoutMs, 50);
}

async function resultOf(rig: Rig, id: string): Promise<TaskResult> {
  const result = await rig.backend.waitFor(id, 30_000);
  assert.ok(result && isReady(result), `task ${id} not ready: ${JSON.stringify(result)}`);
  return result;
}

function jsonType(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Arguments whose rendering differs most between repr() and Celery's saferepr. */
const REPR_CASES: { args: JsonValue[]; kwargs: Record<string, JsonValue> }[] = [
  { args: [2, 3], kwargs: {} },
  { args: [{ name: "O'Brien", quote: 'say "hi"', both: `it's "x"`, uni: 'ünï 😀 日本', nl: 'a\nb\\c' }], kwargs: {} },
  { args: [[1, [2, [3, [4, [5]]]]]], kwargs: {} },
  { args: [{ f: 1.5, big: 1e300, t: true, n: null, neg: -7 }], kwargs: {} },
  { args: ['word '.repeat(300)], kwargs: {} },
  { args: [Array.from({ length: 400 }, (_, i) => i)], kwargs: {} },
  { args: [], kwargs: { value: { k: "it's", list: [[[['deep']]]], s: 'x'.repeat(1100) } } },
];

function defineSuite(kind: 'redis' | 'amqp'): void {
  describe(`sending tasks over ${kind === 'redis' ? 'Redis' : 'RabbitMQ'} to real Celery workers`, { timeout: 240_000 }, () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    let rig: Rig;
    let workersStarted: Promise<void> | null = null;
    const workers: CeleryWorker[] = [];

    /** Workers start on first use, so a test can look at the queues before anyone consumes them. */
    function ensureWorkers(): Promise<void> {
      workersStarted ??= (async () => {
        const common = { brokerUrl: rig.brokerUrl, sendEvents: true, concurrency: 2, env: { CELERY_RESULT_BACKEND: rig.resultUrl } };
        const started = await Promise.all([startWorker({ ...common, nodeName: rig.defaultWorker }), startWorker({ ...common, nodeName: rig.specialWorker, queues: [SPECIAL_QUEUE] })]);
        workers.push(...started);
        for (const worker of started) cleanups.push(() => worker.kill());
      })();
      return workersStarted;
    }

    before(async () => {
      let brokerUrl: string;
      let resultUrl: string;
      if (kind === 'redis') {
        const server = await startRedisServer();
        cleanups.push(() => server.stop());
        brokerUrl = server.url(0);
        resultUrl = server.url(1);
      } else {
        const vhost = 'celeriac-test-task-send';
        await deleteRabbitVhost(vhost);
        brokerUrl = await ensureRabbitVhost(vhost);
        cleanups.push(() => deleteRabbitVhost(vhost));
        const results = await startRedisServer();
        cleanups.push(() => results.stop());
        resultUrl = results.url(0);
      }
      const sink = new CollectingSink();
      const transport = createTransport(parseBrokerUrl(brokerUrl), DEFAULT_TRANSPORT_OPTIONS, sink, createLogger('silent'), () => 0);
      transport.start();
      cleanups.push(() => transport.stop());
      await waitFor(`${kind} transport connected`, async () => transport.status().connected, 30_000, 50);
      const backend = new RedisResultBackend(resultUrl, createLogger('silent'));
      cleanups.push(() => backend.close());
      rig = {
        kind,
        brokerUrl,
        resultUrl,
        transport,
        sink,
        backend,
        defaultWorker: `default-${kind}@task-send`,
        specialWorker: `special-${kind}@task-send`,
      };
    });

    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    });

    if (kind === 'redis') {
      it('priority 6 lands in celery\\x06\\x166, in the same envelope shape Celery itself sends', async () => {
        const redis = new Redis(rig.brokerUrl);
        try {
          const ours = await publish(rig, 'tasks.add', { args: [2, 3], priority: 6, expires: new Date(Date.now() + 600_000) });
          const spec: SendPySpec = { task: 'tasks.add', args: [2, 3], args_tuple: true, priority: 6, expires: 600 };
          const [theirId] = await sendTasks(rig.brokerUrl, [spec]);
          assert.equal(await redis.llen('celery\x06\x166'), 2);
          assert.equal(await redis.llen('celery'), 0);
          assert.equal(await redis.llen('celery\x06\x163'), 0);

          const envelopes = (await redis.lrange('celery\x06\x166', 0, -1)).map((raw) => JSON.parse(raw) as Record<string, Record<string, unknown>>);
          const byId = (id: string): Record<string, Record<string, unknown>> => {
            const found = envelopes.find((e) => e.headers?.id === id);
            assert.ok(found, `no envelope for ${id}`);
            return found;
          };
          const mine = byId(idOf(ours));
          const celerys = byId(theirId as string);
          assert.deepEqual(Object.keys(mine).sort(), Object.keys(celerys).sort());
          assert.deepEqual(Object.keys(mine.headers as object), Object.keys(celerys.headers as object), 'same headers in the same order');
          for (const [key, value] of Object.entries(celerys.headers as object)) {
            assert.equal(jsonType(mine.headers?.[key]), jsonType(value), `type of header ${key}`);
          }
          assert.deepEqual(new Set(Object.keys(mine.properties as object)), new Set(Object.keys(celerys.properties as object)));
          for (const [key, value] of Object.entries(celerys.properties as object)) {
            assert.equal(jsonType(mine.properties?.[key]), jsonType(value), `type of property ${key}`);
          }
          for (const key of ['argsrepr', 'kwargsrepr', 'lang', 'task', 'retries', 'timelimit', 'ignore_result']) {
            assert.deepEqual(mine.headers?.[key], celerys.headers?.[key], `header ${key}`);
          }
          for (const key of ['priority', 'delivery_mode', 'delivery_info', 'body_encoding']) {
            assert.deepEqual(mine.properties?.[key], celerys.properties?.[key], `property ${key}`);
          }
          // Both expire in 600 s (sent a moment apart): expiration text within a few seconds.
          assert.ok(Math.abs(Number(mine.properties?.expiration) - Number(celerys.properties?.expiration)) < 5_000);
          const body = (e: Record<string, unknown>): unknown => JSON.parse(Buffer.from(String(e.body), 'base64').toString('utf8'));
          assert.deepEqual(body(mine), body(celerys));
          assert.equal(mine['content-type'], celerys['content-type']);
          assert.equal(mine['content-encoding'], celerys['content-encoding']);

          await ensureWorkers();
          for (const id of [idOf(ours), theirId as string]) {
            const result = await resultOf(rig, id);
            assert.equal(result.state, 'SUCCESS');
            assert.equal(result.result, 5);
          }
        } finally {
          redis.disconnect();
        }
      });
    } else {
      it('the AMQP message matches the one Celery itself publishes (properties and header types)', async () => {
        const connection = await amqp.connect(rig.brokerUrl);
        try {
          const channel = await connection.createChannel();
          // Declared as kombu declares a missing queue (durable, no arguments); nobody consumes it.
          await channel.assertQueue('parity', { durable: true });
          const ours = await publish(rig, 'tasks.add', { args: [2], kwargs: { y: 3 }, queue: 'parity', priority: 7, countdown: 10, expires: new Date(Date.now() + 60_000) });
          const spec: SendPySpec & { countdown: number } = { task: 'tasks.add', args: [2], args_tuple: true, kwargs: { y: 3 }, queue: 'parity', priority: 7, countdown: 10, expires: 60 };
          const [theirId] = await sendTasks(rig.brokerUrl, [spec]);
          const got: amqp.GetMessage[] = [];
          await waitFor(
            'both parity messages',
            async () => {
              const message = await channel.get('parity', { noAck: true });
              if (message) got.push(message);
              return got.length === 2;
            },
            10_000,
            50,
          );
          const mine = got.find((m) => m.properties.correlationId === idOf(ours));
          const celerys = got.find((m) => m.properties.correlationId === theirId);
          assert.ok(mine && celerys);
          for (const key of ['contentType', 'contentEncoding', 'deliveryMode', 'priority'] as const) {
            assert.equal(mine.properties[key], celerys.properties[key], `property ${key}`);
          }
          for (const key of ['correlationId', 'replyTo', 'expiration', 'headers'] as const) {
            assert.equal(jsonType(mine.properties[key]), jsonType(celerys.properties[key]), `type of property ${key}`);
          }
          assert.ok(Math.abs(Number(mine.properties.expiration) - Number(celerys.properties.expiration)) < 5_000);
          const myHeaders = mine.properties.headers as Record<string, unknown>;
          const theirHeaders = celerys.properties.headers as Record<string, unknown>;
          assert.deepEqual(new Set(Object.keys(myHeaders)), new Set(Object.keys(theirHeaders)));
          for (const [key, value] of Object.entries(theirHeaders)) assert.equal(jsonType(myHeaders[key]), jsonType(value), `type of header ${key}`);
          for (const key of ['argsrepr', 'kwargsrepr', 'lang', 'task', 'retries', 'timelimit', 'ignore_result']) {
            assert.deepEqual(myHeaders[key], theirHeaders[key], `header ${key}`);
          }
          assert.deepEqual(JSON.parse(mine.content.toString('utf8')), JSON.parse(celerys.content.toString('utf8')));
          await channel.deleteQueue('parity');
          await channel.close();
        } finally {
          await connection.close();
        }
      });
    }

    it('tasks.add with args runs and its result is read back from the result backend', async () => {
      await ensureWorkers();
      const message = await publish(rig, 'tasks.add', { args: [2, 3] });
      const result = await resultOf(rig, idOf(message));
      assert.equal(result.state, 'SUCCESS');
      assert.equal(result.result, 5);
      assert.equal(result.traceback, null);
      assert.match(String(result.dateDone), /^\d{4}-\d{2}-\d{2}T/);
      assert.deepEqual(result.children, []);
      const received = await eventOf(rig.sink, idOf(message), 'task-received');
      assert.equal(received.hostname, rig.defaultWorker);
      assert.equal(received.name, 'tasks.add');
      assert.equal(received.args, '(2, 3)');
      assert.equal(received.rootId, idOf(message));
    });

    it('kwargs reach the task', async () => {
      await ensureWorkers();
      const message = await publish(rig, 'tasks.add', { kwargs: { x: 20, y: 22 } });
      const result = await resultOf(rig, idOf(message));
      assert.deepEqual([result.state, result.result], ['SUCCESS', 42]);
      assert.equal((await eventOf(rig.sink, idOf(message), 'task-received')).kwargs, "{'x': 20, 'y': 22}");
    });

    it('a task for a non-default queue runs on the worker consuming that queue', async () => {
      await ensureWorkers();
      const message = await publish(rig, 'tasks.echo', { args: ['routed'], queue: SPECIAL_QUEUE });
      const result = await resultOf(rig, idOf(message));
      assert.deepEqual([result.state, result.result], ['SUCCESS', 'routed']);
      const received = await eventOf(rig.sink, idOf(message), 'task-received');
      assert.equal(received.hostname, rig.specialWorker);
      assert.ok(taskEvents(rig.sink, idOf(message)).every((event) => event.hostname === rig.specialWorker));
    });

    for (const how of ['countdown', 'eta'] as const) {
      it(`${how} delays execution: task-received carries the eta and task-started comes ≈2 s later`, async () => {
        await ensureWorkers();
        const now = new Date();
        const delay = how === 'countdown' ? { countdown: 2 } : { eta: new Date(now.getTime() + 2_000) };
        const message = await publish(rig, 'tasks.add', { args: [1, 1], ...delay }, now);
        const id = idOf(message);
        const received = await eventOf(rig.sink, id, 'task-received');
        // The worker parsed our header and reports it back in its own isoformat(): the same text.
        assert.equal(received.eta, message.headers.eta);
        const started = await eventOf(rig.sink, id, 'task-started');
        const waited = started.timestamp - received.timestamp;
        // Upper bound is loose on purpose: a 5.2.6 worker on RabbitMQ starts ETA tasks up to ~2 s
        // late (its event loop is not woken when the timer entry is added; Celery's own
        // countdown tasks are just as late), while on Redis it is on time to a few ms.
        assert.ok(waited >= 1.5 && waited < 6, `waited ${waited.toFixed(3)} s between received and started`);
        assert.ok(started.timestamp >= now.getTime() / 1000 + 1.9, 'started before the eta');
        assert.equal((await resultOf(rig, id)).result, 2);
      });
    }

    it('an already expired task is revoked by the worker (task-revoked, expired)', async () => {
      await ensureWorkers();
      const now = new Date();
      const message = await publish(rig, 'tasks.add', { args: [1, 2], expires: new Date(now.getTime() - 10_000) }, now);
      assert.equal(message.expiration, '0');
      const id = idOf(message);
      // On RabbitMQ expiration "0" drops a message that cannot be delivered at once; the idle
      // worker (free prefetch) takes it at once, so there too the worker is the one expiring it.
      const revoked = await eventOf(rig.sink, id, 'task-revoked');
      assert.equal(revoked.expired, true);
      assert.equal(revoked.terminated, false);
      assert.equal(
        taskEvents(rig.sink, id).find((event) => event.type === 'task-started'),
        undefined,
      );
      const result = await resultOf(rig, id);
      assert.equal(result.state, 'REVOKED');
    });

    it('tasks.fail gives FAILURE with the exception in the result backend', async () => {
      await ensureWorkers();
      const message = await publish(rig, 'tasks.fail', { args: ['boom'] });
      const result = await resultOf(rig, idOf(message));
      assert.equal(result.state, 'FAILURE');
      assert.deepEqual(result.result, { exc_type: 'ValueError', exc_message: ['boom'], exc_module: 'builtins' });
      assert.match(String(result.traceback), /ValueError: boom/);
      const failed = await eventOf(rig.sink, idOf(message), 'task-failed');
      assert.equal(failed.exception, "ValueError('boom')");
    });

    it('argsrepr/kwargsrepr in task-received are exactly what Celery shows for the same arguments', async () => {
      await ensureWorkers();
      const ours = await Promise.all(REPR_CASES.map((c) => publish(rig, 'tasks.echo', { args: c.args, kwargs: c.kwargs })));
      const specs: SendPySpec[] = REPR_CASES.map((c) => ({ task: 'tasks.echo', args: c.args, kwargs: c.kwargs, args_tuple: true }));
      const theirs = await sendTasks(rig.brokerUrl, specs);
      for (let i = 0; i < REPR_CASES.length; i++) {
        const mine = await eventOf(rig.sink, idOf(ours[i] as OutboundTaskMessage), 'task-received');
        const celerys = await eventOf(rig.sink, theirs[i] as string, 'task-received');
        assert.equal(mine.args, celerys.args, `args of case ${i}`);
        assert.equal(mine.kwargs, celerys.kwargs, `kwargs of case ${i}`);
        assert.equal(mine.args, ours[i]?.headers.argsrepr);
        assert.equal(mine.kwargs, ours[i]?.headers.kwargsrepr);
      }
      // And the task got the values themselves.
      const echoed = await resultOf(rig, idOf(ours[1] as OutboundTaskMessage));
      assert.deepEqual(echoed.result, REPR_CASES[1]?.args[0]);
    });

    it('a worker log shows no decoding trouble', () => {
      for (const worker of workers) {
        assert.doesNotMatch(worker.log(), /Received and deleted unknown message|ContentDisallowed|Couldn't convert|invalid (eta|expires) value/i, worker.nodeName);
      }
    });
  });
}

defineSuite('redis');
defineSuite('amqp');
