/**
 * Replays envelopes captured from real Celery 5.2.6 workers (test/fixtures/envelopes/, see its
 * README for the workload) through the decoder into the cluster model.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeAmqpMessage, decodeRedisMessage } from '../../server/protocol/decode';
import { ClusterState } from '../../server/state/cluster-state';
import { Ingest } from '../../server/state/ingest';
import { createLogger } from '../../server/log';
import { RedisTransport } from '../../server/broker/redis/redis-transport';
import { parseTransportOptions } from '../../server/broker/transport-options';
import { parseBrokerUrl } from '../../server/broker/url';
import { CollectingSink } from '../helpers/collecting-sink';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/envelopes');
const ID = (n: number): string => `c0ffee00-0000-4000-8000-00000000000${n}`;

interface RedisFixture {
  channel: string;
  pattern: string;
  payload: string;
}
interface AmqpFixture {
  routingKey: string;
  properties: { contentType: string; contentEncoding: string; headers: Record<string, unknown> };
  bodyBase64: string;
}

type Delivery = (sink: CollectingSink | Ingest, now: number) => void;

function load(folder: string): Delivery[] {
  const dir = path.join(FIXTURES, folder);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const data: unknown = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
      if (folder === 'amqp') {
        const fx = data as AmqpFixture;
        return (sink, now) => decodeAmqpMessage(Buffer.from(fx.bodyBase64, 'base64'), fx.properties, now, sink);
      }
      const fx = data as RedisFixture;
      return (sink, now) => decodeRedisMessage(fx.payload, now, sink);
    });
}

function replay(deliveries: Delivery[]): { state: ClusterState; ingest: Ingest } {
  const state = new ClusterState({ maxTasks: 1000, maxWorkers: 100 });
  const ingest = new Ingest(state, createLogger('silent'));
  for (const [i, deliver] of deliveries.entries()) deliver(ingest, 1_800_000_000 + i * 0.01);
  return { state, ingest };
}

/** Deterministic shuffle (mulberry32), to deliver the same messages in another order. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let a = seed;
  const rand = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function assertFinalModel(state: ClusterState, { retryInOrder }: { retryInOrder: boolean }): void {
  const add = state.getTask(ID(1));
  assert.equal(add?.state, 'SUCCESS');
  assert.equal(add?.name, 'tasks.add');
  assert.equal(add?.args, '[2, 3]');
  assert.equal(add?.result, '5');
  assert.ok(add?.worker?.startsWith('capture-'));
  assert.ok(add?.client?.startsWith('gen'));

  const fail = state.getTask(ID(2));
  assert.equal(fail?.state, 'FAILURE');
  assert.equal(fail?.exception, "ValueError('boom')");
  assert.match(fail?.traceback ?? '', /ValueError: boom\n$/);

  const retry = state.getTask(ID(3));
  assert.equal(retry?.name, 'tasks.retry_then_fail');
  assert.ok(retry?.retried !== null);
  assert.equal(retry?.parentId, null, 'a retry must not make the task its own parent');
  assert.deepEqual(state.childrenOf(ID(3)), []);
  // RETRY always overwrites and each attempt's task-received carries its own `retries` (Celery
  // semantics): only in arrival order are the final state and count guaranteed.
  if (retryInOrder) {
    assert.equal(retry?.state, 'FAILURE');
    assert.equal(retry?.retries, 2);
  }

  const sleep = state.getTask(ID(4));
  assert.equal(sleep?.state, 'SUCCESS');
  assert.ok((sleep?.runtime ?? 0) >= 1);

  const progress = state.getTask(ID(5));
  assert.equal(progress?.state, 'SUCCESS');
  assert.deepEqual(progress?.extra, { current: 2, total: 2 });

  const revoked = state.getTask(ID(6));
  assert.equal(revoked?.state, 'REVOKED');
  assert.equal(revoked?.terminated, false);
  assert.equal(revoked?.args, '[40, 2]');

  assert.deepEqual(state.taskTypes(), ['tasks.add', 'tasks.fail', 'tasks.progress', 'tasks.retry_then_fail', 'tasks.sleep']);
}

for (const folder of ['redis', 'amqp']) {
  describe(`captured ${folder} envelopes from Celery 5.2.6`, () => {
    const deliveries = load(folder);

    it('decode without a single drop', () => {
      const sink = new CollectingSink();
      for (const deliver of deliveries) deliver(sink, 1);
      assert.deepEqual(sink.drops, []);
      assert.ok(sink.events.length > deliveries.length, 'task.multi batches hold several events');
      const types = new Set(sink.events.map((e) => e.type));
      for (const type of [
        'worker-online',
        'worker-heartbeat',
        'worker-offline',
        'task-sent',
        'task-received',
        'task-started',
        'task-succeeded',
        'task-failed',
        'task-retried',
        'task-revoked',
        'task-progress',
      ]) {
        assert.ok(types.has(type), `fixture contains ${type}`);
      }
    });

    it('build the exact model of the workload', () => {
      const { state, ingest } = replay(deliveries);
      assert.equal(ingest.totalDropped(), 0);
      assertFinalModel(state, { retryInOrder: true });
      const [worker] = [...state.workers.values()];
      assert.equal(state.workers.size, 1);
      assert.equal(worker?.isAlive(1_900_000_000), false, 'worker-offline was the last message');
      const summary = worker?.facts(1_800_000_000);
      assert.equal(summary?.succeeded, 3);
      assert.equal(summary?.failed, 2);
      assert.equal(summary?.retried, 2);
      assert.equal(summary?.revoked, 1);
    });

    for (const seed of [1, 2, 3, 42]) {
      it(`build the same model when delivered out of order (seed ${seed})`, () => {
        const { state } = replay(shuffled(deliveries, seed));
        assertFinalModel(state, { retryInOrder: false });
      });
    }
  });
}

describe('captured envelopes with global_keyprefix "pfx:" on db 3', () => {
  it('arrive on exactly the channel pattern Celeriac subscribes to', () => {
    const transport = new RedisTransport({
      target: parseBrokerUrl('redis://127.0.0.1:6379/3') as Extract<ReturnType<typeof parseBrokerUrl>, { kind: 'redis' }>,
      transportOptions: parseTransportOptions(['global_keyprefix=pfx:']),
      sink: new CollectingSink(),
      logger: createLogger('silent'),
      clock: () => 1,
    });
    assert.deepEqual(transport.eventPatterns, ['pfx:/3.celeryev/*']);
    assert.deepEqual(transport.pidboxChannels, ['pfx:/3.celery.pidbox']);
    const dir = path.join(FIXTURES, 'redis-keyprefix');
    const sink = new CollectingSink();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const fx = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as RedisFixture;
      assert.equal(fx.pattern, transport.eventPatterns[0]);
      decodeRedisMessage(fx.payload, 1, sink);
    }
    assert.deepEqual(sink.drops, []);
    assert.ok(sink.events.some((e) => e.type === 'task-succeeded'));
  });
});
