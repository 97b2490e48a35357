/**
 * Queue lengths through Celeriac's HTTP API, against real brokers with messages sent by real
 * Celery (and drained by a real worker): Redis priority lists and kombu binding sets (plain and
 * with global_keyprefix), RabbitMQ passive declares and the management API, and a dead broker.
 * A last group drives QueueMonitor's scheduling against a scripted broker (timing, staleness).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import type { BrokerTransport, QueueStat } from '../../server/broker/transport';
import { BrokerUnavailableError } from '../../server/broker/transport';
import { parseBrokerUrl } from '../../server/broker/url';
import { QueueMonitor, type QueueMonitorOptions, type QueueSnapshot } from '../../server/control/queue-monitor';
import type { QueuesSnapshot } from '../../server/views/types';
import { createLogger } from '../../server/log';
import type { RunningCeleriac } from '../../server/server';
import { deleteRabbitVhost, ensureRabbitVhost, freePort, type PrivateRedisServer } from '../helpers/brokers';
import { runCeleryPython, sendTasks } from '../helpers/celery';
import { getJson, waitFor } from '../helpers/celeriac';
import { TestResources } from '../helpers/resources';
import { IN_CI } from '../helpers/tools';

const MANAGEMENT_API = 'http://guest:guest@127.0.0.1:15672/api/';

const resources = new TestResources();
/** Stop what the tests started, newest first (each group calls it, so nothing outlives its broker). */
const cleanUp = (): Promise<void> => resources.stopAll();
after(cleanUp);

interface QueueApi {
  celeriac: RunningCeleriac;
  /** Base URL serving /api/queues/length and /api/celeriac/queues. */
  base: string;
}

/** Start Celeriac; its queue routes answer at its URL. */
async function startWithQueueApi(args: string[]): Promise<QueueApi> {
  const celeriac = await resources.celeriac(args);
  return { celeriac, base: celeriac.url };
}

async function snapshot(base: string): Promise<QueuesSnapshot> {
  const res = await getJson<QueuesSnapshot>(base, '/api/celeriac/queues');
  assert.equal(res.status, 200, `GET /api/celeriac/queues: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** One queue as the API serves it. */
type ApiQueue = QueuesSnapshot['queues'][number];

async function queue(base: string, name: string): Promise<ApiQueue | undefined> {
  return (await snapshot(base)).queues.find((q) => q.name === name);
}

/** Wait until the queue satisfies `check`; returns it. */
function queueWhere(base: string, name: string, what: string, check: (q: ApiQueue) => boolean, timeoutMs = 20_000): Promise<ApiQueue> {
  return waitFor(
    `${name}: ${what}`,
    async () => {
      const q = await queue(base, name);
      return q && check(q) ? q : null;
    },
    timeoutMs,
  );
}

/** Declare a queue as Celery does for `queue=<name>` (direct exchange of the same name), so its kombu binding exists. */
function declareQueue(brokerUrl: string, name: string, transportOptions?: Record<string, unknown>): Promise<string> {
  return runCeleryPython(brokerUrl, `from tasks import app\nq = app.amqp.queues[${JSON.stringify(name)}]\nwith app.connection_for_write() as conn:\n    q.bind(conn.default_channel).declare()`, {
    transportOptions,
  });
}

/** `app.send_task('tasks.add', …, priority=p)` for each priority, in order; resolves the task ids. */
async function sendWithPriorities(brokerUrl: string, queueName: string, priorities: number[], transportOptions?: Record<string, unknown>): Promise<string[]> {
  const out = await runCeleryPython(
    brokerUrl,
    [
      'import json',
      'from tasks import app',
      'ids = []',
      'with app.connection_for_write() as conn:',
      `    for p in ${JSON.stringify(priorities)}:`,
      `        ids.append(app.send_task('tasks.add', (1, 2), queue=${JSON.stringify(queueName)}, priority=p, connection=conn).id)`,
      'print(json.dumps(ids))',
    ].join('\n'),
    { transportOptions },
  );
  return JSON.parse(out.trim().split('\n').pop() ?? '[]') as string[];
}

async function streamUp(base: string): Promise<void> {
  await waitFor('event stream connected', async () => (await getJson(base, '/healthcheck')).status === 200);
}

describe('Redis queue lengths', { timeout: 120_000 }, () => {
  after(cleanUp);
  let server: PrivateRedisServer;
  let api: QueueApi;
  let sentBefore = 0;
  let ids: string[] = [];

  before(async () => {
    server = await resources.redis();
    // The queue exists on the broker (its kombu binding) before Celeriac starts, as in production;
    // nothing else names it: no --queues, no worker.
    await declareQueue(server.url(0), 'q-unconsumed');
    api = await startWithQueueApi(['--broker', server.url(0), '--queue-poll-interval', '0.5']);
    await streamUp(api.celeriac.url);
    sentBefore = Date.now() / 1000;
    // Steps 0–2 → 0, 3–5 → 3, 6–8 → 6, 9 → 9 (kombu's default priority_steps).
    ids = await sendWithPriorities(server.url(0), 'q-unconsumed', [0, 0, 2, 3, 5, 6, 8, 9]);
  });

  it('counts a queue nobody consumes, split by priority, found through its kombu binding', async () => {
    assert.equal(ids.length, 8);
    const q = await queueWhere(api.base, 'q-unconsumed', '8 messages', (x) => x.messages === 8);
    assert.deepEqual(q.byPriority, { 0: 3, 3: 2, 6: 2, 9: 1 });
    assert.deepEqual(q.sources, ['broker']);
    assert.equal(q.exists, true);
    assert.equal(q.ready, 8);
    assert.equal(q.unacked, null);
    assert.equal(q.consumers, null);
    const snap = await snapshot(api.base);
    assert.deepEqual(
      snap.queues.map((x) => x.name),
      ['q-unconsumed'],
      'no event, pidbox or reply queues',
    );
    assert.equal(snap.stale, false);
    assert.equal(snap.error, null);
    assert.ok(snap.updatedAt !== null && Math.abs(snap.updatedAt - Date.now() / 1000) < 5);

    const flower = await getJson<{ active_queues: unknown[] }>(api.base, '/api/queues/length');
    assert.equal(flower.status, 200);
    assert.deepEqual(flower.body, { active_queues: [{ name: 'q-unconsumed', messages: 8 }] });
  });

  it('ages the head message from its task-sent event, and the age grows', async () => {
    // The head (next out) is the oldest priority-0 message: ids[0].
    const first = await queueWhere(api.base, 'q-unconsumed', 'an oldest age', (x) => x.oldestAgeSeconds !== null);
    const age = first.oldestAgeSeconds as number;
    assert.ok(age >= 0 && age <= Date.now() / 1000 - sentBefore + 1, `age ${age} fits the time since sending`);
    const sent = (await getJson<{ sent: number | null }>(api.celeriac.url, `/api/task/info/${ids[0]}`)).body.sent;
    assert.ok(sent !== null && Math.abs(Date.now() / 1000 - sent - age) < 3, "age is measured from the head task's task-sent");
    const later = await queueWhere(api.base, 'q-unconsumed', 'the age to grow by 1 s', (x) => (x.oldestAgeSeconds ?? 0) >= age + 1, 10_000);
    assert.equal(later.messages, 8);
  });

  it('drops to 0 once a worker consumes the queue', async () => {
    const w = await resources.worker({ brokerUrl: server.url(0), nodeName: 'queues-drain@test', queues: ['q-unconsumed'], pool: 'solo' });
    const q = await queueWhere(api.base, 'q-unconsumed', 'drained', (x) => x.messages === 0, 30_000);
    assert.deepEqual(q.byPriority, { 0: 0, 3: 0, 6: 0, 9: 0 });
    assert.equal(q.oldestAgeSeconds, null);
    assert.ok(q.sources.includes('broker'));
    await w.stop();
  });
});

describe('Redis queue lengths with global_keyprefix', { timeout: 120_000 }, () => {
  after(cleanUp);
  it('reads the prefixed lists and binding sets', async () => {
    const server = await resources.redis();
    const prefixed = { global_keyprefix: 'pfx:' };
    const url = server.url(2);
    await declareQueue(url, 'q-prefixed', prefixed);
    const api = await startWithQueueApi(['--broker', url, '--broker-transport-option', 'global_keyprefix=pfx:', '--queue-poll-interval', '0.5']);
    await streamUp(api.celeriac.url);
    await sendWithPriorities(url, 'q-prefixed', [1, 4, 4, 9], prefixed);

    // What is really on the wire: every key prefixed, binding members not.
    const client = new Redis(url);
    try {
      const keys = (await client.keys('*')).sort();
      assert.deepEqual(keys, ['pfx:_kombu.binding.q-prefixed', 'pfx:q-prefixed', 'pfx:q-prefixed\x06\x163', 'pfx:q-prefixed\x06\x169']);
      assert.deepEqual(await client.smembers('pfx:_kombu.binding.q-prefixed'), ['q-prefixed\x06\x16\x06\x16q-prefixed']);
    } finally {
      client.disconnect();
    }

    const q = await queueWhere(api.base, 'q-prefixed', '4 messages', (x) => x.messages === 4);
    assert.deepEqual(q.byPriority, { 0: 1, 3: 2, 6: 0, 9: 1 });
    assert.deepEqual(q.sources, ['broker']);
    await queueWhere(api.base, 'q-prefixed', 'an oldest age (prefixed event channel)', (x) => x.oldestAgeSeconds !== null);
    assert.deepEqual((await getJson(api.base, '/api/queues/length')).body, { active_queues: [{ name: 'q-prefixed', messages: 4 }] });

    const w = await resources.worker({ brokerUrl: url, nodeName: 'queues-pfx@test', queues: ['q-prefixed'], pool: 'solo', transportOptions: prefixed });
    await queueWhere(api.base, 'q-prefixed', 'drained by a prefixed worker', (x) => x.messages === 0, 30_000);
    await w.stop();
  });
});

/**
 * The management plugin is enabled by scripts/ensure-services.sh. Run by hand without it, the
 * test is skipped (saying so); under CI=true it fails instead.
 */
async function skipWithoutManagementApi(t: TestContext): Promise<boolean> {
  if (await managementApiUp()) return false;
  const hint = 'RabbitMQ management plugin is not enabled: rabbitmq-plugins enable rabbitmq_management (or bash scripts/ensure-services.sh)';
  if (IN_CI) throw new Error(hint);
  t.skip(hint);
  return true;
}

async function managementApiUp(): Promise<boolean> {
  try {
    const res = await fetch('http://127.0.0.1:15672/api/overview', { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` }, signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

describe('RabbitMQ queue lengths', { timeout: 120_000 }, () => {
  const vhost = 'celeriac-test-queues';
  let url = '';

  before(async () => {
    await deleteRabbitVhost(vhost); // leftovers of an interrupted run
    url = await ensureRabbitVhost(vhost);
    // Celery declares q-listed (durable, direct exchange of the same name) as it sends.
    await sendTasks(
      url,
      Array.from({ length: 4 }, () => ({ task: 'tasks.add', args: [1, 2], queue: 'q-listed' })),
    );
  });
  after(async () => {
    await cleanUp();
    await deleteRabbitVhost(vhost);
  });

  it('passive declares: ready and consumers of --queues; a missing queue does not break the others', async () => {
    // "q-does-not-exist" sorts first: its 404 closes the channel before q-listed is read.
    const api = await startWithQueueApi(['--broker', url, '--queues', 'q-listed,q-does-not-exist', '--queue-poll-interval', '0.5']);
    const listed = await queueWhere(api.base, 'q-listed', '4 messages', (x) => x.messages === 4);
    assert.deepEqual(listed, { name: 'q-listed', messages: 4, byPriority: null, consumers: 0, ready: 4, unacked: null, oldestAgeSeconds: null, sources: ['config'], exists: true, paused: false });
    const snap = await snapshot(api.base);
    assert.deepEqual(
      snap.queues.map((q) => q.name),
      ['q-does-not-exist', 'q-listed'],
      'without --broker-api nothing is discovered',
    );
    const missing = snap.queues[0] as ApiQueue;
    assert.equal(missing.exists, false);
    assert.equal(missing.messages, 0);
    assert.equal(snap.stale, false);
    // Later polls still work (the closed channel was replaced).
    await delay(1_200);
    const again = await snapshot(api.base);
    assert.equal(again.stale, false);
    assert.ok((again.updatedAt ?? 0) > (snap.updatedAt ?? 0));
    assert.deepEqual((await getJson(api.base, '/api/queues/length')).body, { active_queues: [{ name: 'q-listed', messages: 4, consumers: 0 }] });
  });

  it('--broker-api: ready/unacked/consumers from the management API, and queues nobody listed', async (t) => {
    if (await skipWithoutManagementApi(t)) return;
    await sendTasks(
      url,
      Array.from({ length: 5 }, () => ({ task: 'tasks.add', args: [3, 4], queue: 'q-discovered' })),
    );
    // A consumer that holds 2 messages unacknowledged, and an exclusive queue of its session
    // (neither it nor Celeriac's own celeryev.* queue is a task queue).
    const connection = await amqp.connect(url);
    resources.defer(() => connection.close());
    const channel = await connection.createChannel();
    await channel.prefetch(2);
    await channel.consume('q-discovered', () => undefined, { noAck: false });
    const exclusive = await channel.assertQueue('', { exclusive: true });

    const api = await startWithQueueApi(['--broker', url, '--broker-api', MANAGEMENT_API, '--queues', 'q-listed,q-does-not-exist', '--queue-poll-interval', '0.5']);
    // Management counters are sampled every few seconds: poll.
    const discovered = await queueWhere(api.base, 'q-discovered', '3 ready + 2 unacked, 1 consumer', (x) => x.ready === 3 && x.unacked === 2 && x.consumers === 1, 30_000);
    assert.equal(discovered.messages, 5);
    assert.deepEqual(discovered.sources, ['broker']);
    assert.equal(discovered.exists, true);

    // A queue's first sample can predate its messages: wait for one taken since.
    const listed = await queueWhere(api.base, 'q-listed', 'sampled with its 4 messages', (x) => x.ready === 4 && x.unacked !== null, 30_000);
    assert.deepEqual([listed.messages, listed.ready, listed.unacked, listed.consumers, listed.sources], [4, 4, 0, 0, ['config', 'broker']]);
    const snap = await snapshot(api.base);
    assert.deepEqual(
      snap.queues.map((q) => q.name),
      ['q-discovered', 'q-does-not-exist', 'q-listed'],
    );
    assert.ok(!snap.queues.some((q) => q.name === exclusive.queue));
    const missing = snap.queues.find((q) => q.name === 'q-does-not-exist') as ApiQueue;
    assert.deepEqual([missing.exists, missing.messages], [false, 0]);

    // Flower's shape: RabbitMQ's own objects, for the known queues that exist.
    const flower = await getJson<{ active_queues: Record<string, unknown>[] }>(api.base, '/api/queues/length');
    assert.equal(flower.status, 200);
    const objects = flower.body.active_queues;
    assert.deepEqual(
      objects.map((o) => o.name),
      ['q-discovered', 'q-listed'],
    );
    const raw = objects[0] as Record<string, unknown>;
    assert.equal(raw.vhost, vhost);
    assert.equal(raw.messages_ready, 3);
    assert.equal(raw.messages_unacknowledged, 2);
    assert.equal(raw.durable, true);
    assert.ok('idle_since' in raw || 'state' in raw, 'the raw management object, not a summary');
  });

  it('--broker-api with wrong credentials: 503 with the reason, never 500', async (t) => {
    if (await skipWithoutManagementApi(t)) return;
    const api = await startWithQueueApi(['--broker', url, '--broker-api', 'http://guest:wrong@127.0.0.1:15672/api/', '--queue-poll-interval', '0.5']);
    const res = await waitFor('503 naming the 401', async () => {
      const r = await getJson<{ error: string }>(api.base, '/api/celeriac/queues');
      return r.status === 503 && /HTTP 401/.test(r.body.error) ? r : null;
    });
    assert.ok(!res.body.error.includes('wrong'), 'no password in the error');
    assert.match(res.body.error, /127\.0\.0\.1:15672\/api\/queues\/celeriac-test-queues/);
  });
});

describe('queue lengths with the broker down', { timeout: 60_000 }, () => {
  after(cleanUp);
  it('answers 503 JSON (never 500) and keeps running', async () => {
    const deadPort = await freePort();
    const api = await startWithQueueApi(['--broker', `redis://127.0.0.1:${deadPort}/0`, '--queues', 'a,b', '--queue-poll-interval', '0.2']);
    const first = await waitFor('503 with the broker error', async () => {
      const r = await getJson<{ error: string }>(api.base, '/api/celeriac/queues');
      return r.status === 503 && /^Broker unavailable: /.test(r.body.error) ? r : null;
    });
    assert.match(first.body.error, /ECONNREFUSED|not connected/);
    await delay(1_000);
    for (const path of ['/api/celeriac/queues', '/api/queues/length']) {
      const res = await fetch(`${api.base}${path}`);
      assert.equal(res.status, 503, path);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      const body = (await res.json()) as { error: string };
      assert.match(body.error, /^Broker unavailable: /);
    }
    assert.equal((await getJson(api.celeriac.url, '/healthcheck')).status, 503, 'the process is alive and still reporting');
  });
});

// ---------------------------------------------------------------------------------------------
// Scheduling, against a scripted broker: what real brokers cannot be made to do on cue.
// ---------------------------------------------------------------------------------------------

class ScriptedBroker {
  polls = 0;
  concurrent = 0;
  maxConcurrent = 0;
  scans = 0;
  statDelayMs = 0;
  failWith: Error | null = null;
  messages = 1;
  discovered = ['found-by-scan'];
  readonly transport: BrokerTransport;

  constructor() {
    const unused = (): never => {
      throw new Error('not used by QueueMonitor');
    };
    this.transport = {
      kind: 'redis',
      consumerSettleMs: 0,
      start: () => undefined,
      stop: async () => undefined,
      status: () => ({ connected: true, reason: null, since: 0, connects: 1 }),
      onConnected: () => undefined,
      onStatus: () => undefined,
      openReplyChannel: unused,
      publishControl: unused,
      publishTask: unused,
      purgeQueue: unused,
      discoverQueues: async () => {
        this.scans++;
        return [...this.discovered];
      },
      queueStats: async (names: readonly string[]): Promise<QueueStat[]> => {
        this.polls++;
        this.concurrent++;
        this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
        try {
          if (this.statDelayMs > 0) await delay(this.statDelayMs);
          if (this.failWith) throw this.failWith;
          return names.map((name) => ({ name, messages: this.messages, byPriority: { 0: this.messages }, consumers: null, oldestTaskId: 'head', exists: true }));
        } finally {
          this.concurrent--;
        }
      },
    };
  }
}

describe('QueueMonitor scheduling (scripted broker)', () => {
  const config = { queuePollInterval: 0.05, queues: ['from-config'], brokerApi: null, brokerTarget: parseBrokerUrl('redis://127.0.0.1:1/0') };
  const logger = createLogger('silent');
  /** A poller of the scripted broker with no tasks to look up and no worker queues. */
  const idleMonitor = (broker: ScriptedBroker, options?: QueueMonitorOptions): QueueMonitor =>
    new QueueMonitor(
      broker.transport,
      config,
      () => undefined,
      () => [],
      logger,
      options,
    );

  it('merges sources, keeps the last good numbers on errors (stale, with the reason) and recovers', async () => {
    const broker = new ScriptedBroker();
    const monitor = new QueueMonitor(
      broker.transport,
      config,
      (id) => (id === 'head' ? { sent: Date.now() / 1000 - 7, received: null } : undefined),
      () => ['from-config', 'from-workers'],
      logger,
    );
    const updates: QueueSnapshot[] = [];
    monitor.onUpdate((s) => updates.push(s));
    await monitor.refresh();
    const good = monitor.snapshot();
    assert.deepEqual(
      good.queues.map((q) => [q.name, q.sources]),
      [
        ['found-by-scan', ['broker']],
        ['from-config', ['workers', 'config']],
        ['from-workers', ['workers']],
      ],
    );
    assert.ok(Math.abs((good.queues[0]?.oldestAgeSeconds ?? 0) - 7) < 1);

    broker.failWith = new BrokerUnavailableError('connect ECONNREFUSED 127.0.0.1:1');
    await monitor.refresh();
    const stale = monitor.snapshot();
    assert.deepEqual([stale.stale, stale.error, stale.updatedAt, stale.queues], [true, 'connect ECONNREFUSED 127.0.0.1:1', good.updatedAt, good.queues]);

    broker.failWith = null;
    broker.messages = 2;
    await monitor.refresh();
    assert.deepEqual([monitor.snapshot().stale, monitor.snapshot().error, monitor.snapshot().queues[0]?.messages], [false, null, 2]);
    assert.equal(updates.length, 3);
  });

  it('never runs two polls at once; refresh() during a poll runs one more after it, shared by its callers', async () => {
    const broker = new ScriptedBroker();
    broker.statDelayMs = 100;
    const monitor = idleMonitor(broker);
    const first = monitor.refresh();
    const second = monitor.refresh();
    const third = monitor.refresh();
    assert.notEqual(first, second);
    assert.equal(second, third);
    await Promise.all([first, second, third]);
    assert.deepEqual([broker.polls, broker.maxConcurrent], [2, 1]);
  });

  it('polls on its own every interval without overlapping, however slow the broker, and stops', async () => {
    const broker = new ScriptedBroker();
    broker.statDelayMs = 120; // longer than the 50 ms interval
    const monitor = idleMonitor(broker);
    monitor.start();
    void monitor.refresh();
    await delay(700);
    await monitor.stop();
    assert.equal(broker.maxConcurrent, 1);
    assert.ok(broker.polls >= 4, `polled ${broker.polls} times`);
    const stoppedAt = broker.polls;
    await delay(200);
    assert.equal(broker.polls, stoppedAt, 'no poll after stop()');
  });

  it('rescans the broker for queues at most every 30 s', async () => {
    const broker = new ScriptedBroker();
    let clock = 1_000_000;
    const monitor = idleMonitor(broker, { now: () => clock });
    for (let i = 0; i < 5; i++) {
      await monitor.refresh();
      clock += 5_000;
    }
    assert.equal(broker.scans, 1);
    broker.discovered = ['found-later'];
    clock += 10_000; // 35 s after the first scan
    await monitor.refresh();
    assert.equal(broker.scans, 2);
    // A queue no source names any more stays watched, marked `earlier` (paused queues must not vanish).
    assert.deepEqual(
      monitor.snapshot().queues.map((q) => [q.name, q.sources]),
      [
        ['found-by-scan', ['earlier']],
        ['found-later', ['broker']],
        ['from-config', ['config']],
      ],
    );
  });

  it('reports a poll that hangs as stale without starting another one', async () => {
    const broker = new ScriptedBroker();
    const monitor = idleMonitor(broker, { pollTimeoutMs: 100 });
    await monitor.refresh();
    broker.statDelayMs = 400;
    const hung = monitor.refresh();
    await delay(250);
    assert.equal(monitor.snapshot().stale, true);
    assert.match(monitor.snapshot().error ?? '', /has not finished/);
    assert.equal(broker.concurrent, 1);
    await hung;
    assert.equal(monitor.snapshot().stale, false, 'the late answer is still used');
  });
});
