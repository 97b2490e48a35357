/**
 * The metrics layer through its narrow interface (server/metrics/sources.ts), without a broker
 * or HTTP: a real ClusterState fed through a real Ingest, inspections and the queue poll as plain
 * values, wired the way server/server.ts wires them.
 *
 * What a series born between two scrapes holds while nobody scrapes must not grow with the number
 * of events (most users never scrape), and what it held must come out exactly once a scraper
 * arrives.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createLogger } from '../../server/log';
import { DEFAULT_RUNTIME_BUCKETS, METRICS, type MetricFamily } from '../../server/metrics/catalogue';
import { CeleriacMetrics, type MetricsOptions } from '../../server/metrics/metrics';
import type { MetricsQueue, MetricsQueueSnapshot, MetricsSources, MetricsStoreStatus } from '../../server/metrics/sources';
import type { TaskEvent, WorkerEvent } from '../../server/protocol/events';
import { ClusterState } from '../../server/state/cluster-state';
import { Ingest } from '../../server/state/ingest';
import { sample, samples } from '../helpers/exposition';

type Labels = Record<string, string>;

interface Cluster {
  ingest: Ingest;
  metrics: CeleriacMetrics;
  /** An inspection answered for the worker: what it registered and which queues it consumes. */
  inspected(hostname: string, registered: string[], queues?: string[]): void;
  /** What the last queue poll found. */
  polled(snapshot: MetricsQueueSnapshot): void;
  /** The store's status as the store reports it (null: --store memory). */
  stored(status: MetricsStoreStatus | null): void;
  scrape(): Promise<string>;
}

function cluster(options: Partial<MetricsOptions> = {}, maxTasks = 100_000): Cluster {
  const state = new ClusterState({ maxTasks, maxWorkers: 1_000 });
  const ingest = new Ingest(state, createLogger('silent'));
  const inspections = new Map<string, { registered: string[]; queues: string[] }>();
  let queues: MetricsQueueSnapshot = { updatedAt: null, queues: [] };
  let store: MetricsStoreStatus | null = null;
  const sources: MetricsSources = {
    workers: () => state.workers.values(),
    workerCount: () => state.workers.size,
    tasks: () => state.tasks.values(),
    taskCount: () => state.tasks.size,
    taskEvictions: () => state.taskEvictions,
    registered: (hostname) => inspections.get(hostname)?.registered ?? [],
    activeQueues: (hostname) => inspections.get(hostname)?.queues ?? [],
    queueSnapshot: () => queues,
    ingestCounters: () => ingest.counters,
    transportStatus: () => ({ connected: true, connects: 3 }),
    controlCallCounts: () => [
      { action: 'revoke', outcome: 'ok', count: 4 },
      { action: 'revoke', outcome: 'failed', count: 0 },
    ],
    storeStatus: () => store,
  };
  const metrics = new CeleriacMetrics(sources, {
    families: new Set(['flower', 'exporter', 'celeriac']),
    workerLabel: 'full',
    taskWorkerLabel: 'generic',
    maxSeries: 10_000,
    workerExpirySeconds: 3600,
    runtimeBuckets: DEFAULT_RUNTIME_BUCKETS,
    queueWaitBuckets: [1, 10],
    ...options,
  });
  state.addListener({ taskChanged: (task, event) => metrics.taskChanged(task, event) });
  return {
    ingest,
    metrics,
    inspected(hostname, registered, consumed = []) {
      inspections.set(hostname, { registered, queues: consumed });
      metrics.workerInspected(hostname);
    },
    polled(snapshot) {
      queues = snapshot;
    },
    stored(status) {
      store = status;
    },
    scrape: async () => (await metrics.render(undefined)).body,
  };
}

let clock = 0;
const nowSeconds = (): number => Date.now() / 1000;

function taskEvent(type: string, uuid: string, fields: Partial<TaskEvent> = {}, at = nowSeconds()): TaskEvent {
  return { kind: 'task', type, uuid, hostname: 'w1@host', timestamp: at, localReceived: at, clock: ++clock, utcoffset: 0, pid: 1, ...fields };
}

function workerEvent(type: WorkerEvent['type'], hostname: string, fields: Partial<WorkerEvent> = {}, at = nowSeconds()): WorkerEvent {
  return { kind: 'worker', type, hostname, timestamp: at, localReceived: at, clock: ++clock, utcoffset: 0, pid: 1, freq: 2, ...fields };
}

/** The value of the sample of `name` with exactly these labels (undefined: no such series). */
function sampleValue(body: string, name: string, labels: Labels = {}): number | undefined {
  const wanted = Object.entries(labels).sort().join();
  return samples(body, name).find((s) => Object.entries(s.labels).sort().join() === wanted)?.value;
}

/** Label `label` of every series of `name`, sorted. */
function labelValues(body: string, name: string, label: string): string[] {
  return samples(body, name)
    .map((s) => s.labels[label] ?? '')
    .sort();
}

/** The distinct values of label `label` over the series of `name`, sorted. */
function distinctLabelValues(body: string, name: string, label: string): string[] {
  return [...new Set(labelValues(body, name, label))].sort();
}

/** `name{labels}` → value of every series, to compare whole metrics at once. */
function seriesOf(body: string, name: string): Record<string, number> {
  const series: Record<string, number> = {};
  for (const { labels, value } of samples(body, name)) series[JSON.stringify(labels)] = value;
  return series;
}

const series = (...entries: [Labels, number][]): Record<string, number> => Object.fromEntries(entries.map(([labels, value]) => [JSON.stringify(labels), value]));

/** Runtimes spread over every runtime bucket, +Inf included. */
const runtimeOf = (n: number): number => ((n * 7919) % 12_000) / 1000;

function runTasks(c: Cluster, count: number, from = 0): void {
  const now = nowSeconds();
  for (let n = from; n < from + count; n++) {
    c.ingest.event(taskEvent('task-received', `t-${n}`, { name: 'tasks.add' }, now));
    c.ingest.event(taskEvent('task-started', `t-${n}`, {}, now));
    c.ingest.event(taskEvent('task-succeeded', `t-${n}`, { runtime: runtimeOf(n), result: '2' }, now));
  }
}

describe('metrics with nobody scraping', () => {
  it('held-back series keep a fixed-size aggregate, whatever the number of events', () => {
    const c = cluster();
    runTasks(c, 20_000);
    // Same label sets, 20,000 times the events: the held structure must not grow with them
    // (it held one closure per event before, ~1 KB each: the memory leak without a scraper).
    const before = c.metrics.heldBackSize();
    runTasks(c, 20_000, 20_000);
    const after = c.metrics.heldBackSize();
    assert.deepEqual(after, before);
    assert.ok(after.series > 0, 'new series are held until their first scrape');
    assert.ok(after.values < 500, `held values: ${after.values}`);
  });

  it('a scraper arriving later sees zero first, then every count exactly', async () => {
    const c = cluster();
    const tasks = 5_000;
    runTasks(c, tasks);
    const first = await c.scrape();
    const labels = { name: 'tasks.add', hostname: 'generic', queue_name: 'celery' };
    assert.equal(sampleValue(first, 'celery_task_succeeded_total', labels), 0);
    assert.equal(sampleValue(first, 'celery_task_runtime_count', labels), 0);
    assert.equal(c.metrics.heldBackSize().series, 0, 'released by the scrape');

    const second = await c.scrape();
    assert.equal(sampleValue(second, 'celery_task_succeeded_total', labels), tasks);
    assert.equal(sampleValue(second, 'celery_task_received_total', labels), tasks);
    assert.equal(sampleValue(second, 'flower_events_total', { worker: 'generic', type: 'task-succeeded', task: 'tasks.add' }), tasks);
    assert.equal(sampleValue(second, 'celery_task_runtime_count', labels), tasks);
    let expectedSum = 0;
    const runtimes: number[] = [];
    for (let n = 0; n < tasks; n++) runtimes.push(runtimeOf(n));
    for (const r of runtimes) expectedSum += r;
    const sum = sampleValue(second, 'celery_task_runtime_sum', labels) as number;
    assert.ok(Math.abs(sum - expectedSum) < 1e-6 * expectedSum, `sum ${sum} ≈ ${expectedSum}`);
    for (const le of DEFAULT_RUNTIME_BUCKETS) {
      const expected = runtimes.filter((r) => r <= le).length;
      assert.equal(sampleValue(second, 'celery_task_runtime_bucket', { ...labels, le: String(le) }), expected, `bucket le=${le}`);
    }
    assert.equal(sampleValue(second, 'celery_task_runtime_bucket', { ...labels, le: '+Inf' }), tasks);

    // Known series count at once from now on.
    runTasks(c, 10, tasks);
    const third = await c.scrape();
    assert.equal(sampleValue(third, 'celery_task_succeeded_total', labels), tasks + 10);
  });

  it('exports the process metrics and the limits memory is judged against', async () => {
    const body = await cluster().scrape();
    for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds', 'celeriac_heap_limit_bytes']) {
      const value = sample(body, name);
      assert.ok(value !== undefined && value >= 0, `${name} = ${value}`);
    }
    assert.ok((sample(body, 'celeriac_heap_limit_bytes') as number) > 64 * 1024 * 1024);
    assert.match(body, /^# TYPE nodejs_gc_duration_seconds histogram$/m);
  });
});

describe('metrics from task events', () => {
  it('counts events, observes runtimes and queue waits, and tracks the prefetch time', async () => {
    const c = cluster({ taskWorkerLabel: 'full' });
    const t = Math.floor(nowSeconds());
    const add = { name: 'tasks.add' } as const;
    c.ingest.event(taskEvent('task-sent', 'a', { ...add, hostname: 'client@host', queue: 'q1' }, t - 10));
    c.ingest.event(taskEvent('task-received', 'a', add, t - 8));
    c.ingest.event(taskEvent('task-started', 'a', {}, t - 5));
    const started = await c.scrape();
    // Gauges are not held back: the started task waited 3 s at the worker.
    assert.equal(sampleValue(started, 'flower_task_prefetch_time_seconds', { worker: 'w1@host', task: 'tasks.add' }), 3);
    c.ingest.event(taskEvent('task-succeeded', 'a', { runtime: 0.3, result: '3' }, t - 4));
    c.ingest.event(taskEvent('task-sent', 'b', { ...add, hostname: 'client@host', queue: 'q1' }, t - 10));
    c.ingest.event(taskEvent('task-received', 'b', add, t - 8));
    c.ingest.event(taskEvent('task-started', 'b', {}, t - 7));
    c.ingest.event(taskEvent('task-failed', 'b', { exception: "ValueError('bad')" }, t - 6));
    await c.scrape(); // the series born since the first scrape are exposed at zero
    const body = await c.scrape();

    const flower = (worker: string, type: string): number | undefined => sampleValue(body, 'flower_events_total', { worker, type, task: 'tasks.add' });
    assert.equal(flower('client@host', 'task-sent'), 2, 'task-sent is counted for the client that sent it');
    assert.equal(flower('w1@host', 'task-received'), 2);
    assert.equal(flower('w1@host', 'task-started'), 2);
    assert.equal(flower('w1@host', 'task-succeeded'), 1);
    assert.equal(flower('w1@host', 'task-failed'), 1);
    assert.equal(sampleValue(body, 'flower_task_prefetch_time_seconds', { worker: 'w1@host', task: 'tasks.add' }), 0, 'back to 0 once the task finished');
    assert.deepEqual(seriesOf(body, 'flower_task_runtime_seconds_count'), series([{ worker: 'w1@host', task: 'tasks.add' }, 1]));

    const exporter = { name: 'tasks.add', hostname: 'w1@host', queue_name: 'q1' };
    assert.equal(sampleValue(body, 'celery_task_sent_total', { ...exporter, hostname: 'client@host' }), 2);
    assert.equal(sampleValue(body, 'celery_task_received_total', exporter), 2);
    assert.equal(sampleValue(body, 'celery_task_started_total', exporter), 2);
    assert.equal(sampleValue(body, 'celery_task_succeeded_total', exporter), 1);
    assert.deepEqual(
      seriesOf(body, 'celery_task_failed_total'),
      series([{ ...exporter, exception: '' }, 0], [{ ...exporter, exception: 'ValueError' }, 1]),
      'the exception class, and the pre-zeroed series beside it',
    );

    assert.equal(sampleValue(body, 'celery_task_runtime_count', exporter), 1);
    assert.equal(sampleValue(body, 'celery_task_runtime_sum', exporter), 0.3);
    assert.equal(sampleValue(body, 'celery_task_runtime_bucket', { ...exporter, le: '0.25' }), 0);
    assert.equal(sampleValue(body, 'celery_task_runtime_bucket', { ...exporter, le: '0.5' }), 1);
    // Queue waits: started - sent = 5 s and 3 s, in the [1, 10] buckets.
    assert.equal(sampleValue(body, 'celery_task_queue_wait_time_count', exporter), 2);
    assert.equal(sampleValue(body, 'celery_task_queue_wait_time_sum', exporter), 8);
    assert.equal(sampleValue(body, 'celery_task_queue_wait_time_bucket', { ...exporter, le: '1' }), 0);
    assert.equal(sampleValue(body, 'celery_task_queue_wait_time_bucket', { ...exporter, le: '10' }), 2);

    // Known series count at once.
    c.ingest.event(taskEvent('task-sent', 'c', { ...add, hostname: 'client@host', queue: 'q1' }, t - 4));
    c.ingest.event(taskEvent('task-received', 'c', add, t - 3));
    c.ingest.event(taskEvent('task-succeeded', 'c', { runtime: 2 }, t - 1));
    const next = await c.scrape();
    assert.equal(sampleValue(next, 'celery_task_succeeded_total', exporter), 2);
    assert.equal(sampleValue(next, 'celery_task_runtime_bucket', { ...exporter, le: '2.5' }), 2);
    assert.equal(sampleValue(next, 'flower_task_runtime_seconds_count', { worker: 'w1@host', task: 'tasks.add' }), 2);
  });

  it('holds a series born between scrapes as an aggregate and releases it exactly on the scrape', async () => {
    const c = cluster({ runtimeBuckets: [1, 2] });
    await c.scrape();
    const at = nowSeconds();
    for (const [n, runtime] of [0.5, 1, 1.5, 1.75, 3].entries()) {
      c.ingest.event(taskEvent('task-received', `h-${n}`, { name: 'tasks.held' }, at));
      c.ingest.event(taskEvent('task-succeeded', `h-${n}`, { runtime }, at));
    }
    // flower_events_total ×2 types, flower runtime, succeeded/failed/received, celery_task_runtime.
    assert.deepEqual(c.metrics.heldBackSize(), { series: 7, values: 5 + 3 * 3 * 2 });
    const labels = { name: 'tasks.held', hostname: 'generic', queue_name: 'celery' };
    const first = await c.scrape();
    assert.equal(sampleValue(first, 'celery_task_succeeded_total', labels), 0);
    assert.equal(sampleValue(first, 'celery_task_runtime_count', labels), 0);
    assert.equal(sampleValue(first, 'celery_task_runtime_bucket', { ...labels, le: '+Inf' }), 0);
    assert.deepEqual(c.metrics.heldBackSize(), { series: 0, values: 0 });
    const second = await c.scrape();
    assert.equal(sampleValue(second, 'celery_task_received_total', labels), 5);
    assert.equal(sampleValue(second, 'celery_task_succeeded_total', labels), 5);
    assert.equal(sampleValue(second, 'celery_task_failed_total', { ...labels, exception: '' }), 0);
    assert.equal(sampleValue(second, 'celery_task_runtime_bucket', { ...labels, le: '1' }), 2);
    assert.equal(sampleValue(second, 'celery_task_runtime_bucket', { ...labels, le: '2' }), 4);
    assert.equal(sampleValue(second, 'celery_task_runtime_bucket', { ...labels, le: '+Inf' }), 5);
    assert.equal(sampleValue(second, 'celery_task_runtime_count', labels), 5);
    assert.equal(sampleValue(second, 'celery_task_runtime_sum', labels), 7.75);
    assert.equal(sampleValue(second, 'flower_events_total', { worker: 'generic', type: 'task-succeeded', task: 'tasks.held' }), 5);
  });

  it('creates at most --metrics-max-series label sets per metric and counts the rest as dropped', async () => {
    const c = cluster({ maxSeries: 2 });
    for (const [uuid, name] of [
      ['1', 'a'],
      ['2', 'b'],
      ['3', 'c'],
      ['4', 'c'],
    ] as const)
      c.ingest.event(taskEvent('task-received', uuid, { name }));
    const body = await c.scrape();
    assert.deepEqual(labelValues(body, 'flower_events_total', 'task'), ['a', 'b']);
    assert.deepEqual(labelValues(body, 'celery_task_received_total', 'name'), ['a', 'b']);
    assert.deepEqual(labelValues(body, 'celery_task_succeeded_total', 'name'), ['a', 'b']);
    const dropped = (metric: string): number | undefined => sampleValue(body, 'celeriac_metrics_series_dropped_total', { metric });
    // Every refused update counts: tasks.c twice.
    assert.equal(dropped('flower_events_total'), 2);
    assert.equal(dropped('celery_task_received_total'), 2);
    assert.equal(dropped('celery_task_succeeded_total'), 2);
    assert.equal(dropped('celery_task_failed_total'), 2);
    assert.equal(dropped('celery_task_runtime'), 0, 'every metric is listed, at 0 without drops');
  });
});

describe('worker labels', () => {
  /** w1 and w2 on hostA (2 and 3 tasks executing), w3 on hostB (1 executing), w4 on hostB gone offline. */
  function fourWorkers(c: Cluster, at: number): void {
    c.ingest.event(workerEvent('worker-heartbeat', 'w1@hostA', { active: 2 }, at));
    c.ingest.event(workerEvent('worker-heartbeat', 'w2@hostA', { active: 3 }, at + 1));
    c.ingest.event(workerEvent('worker-heartbeat', 'w3@hostB', { active: 1 }, at));
    c.ingest.event(workerEvent('worker-online', 'w4@hostB', { active: 5 }, at - 2));
    c.ingest.event(workerEvent('worker-offline', 'w4@hostB', {}, at - 1));
  }

  it('full: one series per worker', async () => {
    const c = cluster({ workerLabel: 'full' });
    const at = Math.floor(nowSeconds());
    fourWorkers(c, at);
    const body = await c.scrape();
    assert.deepEqual(seriesOf(body, 'celery_worker_up'), series([{ hostname: 'w1@hostA' }, 1], [{ hostname: 'w2@hostA' }, 1], [{ hostname: 'w3@hostB' }, 1], [{ hostname: 'w4@hostB' }, 0]));
    assert.deepEqual(seriesOf(body, 'flower_worker_online'), series([{ worker: 'w1@hostA' }, 1], [{ worker: 'w2@hostA' }, 1], [{ worker: 'w3@hostB' }, 1], [{ worker: 'w4@hostB' }, 0]));
    assert.deepEqual(seriesOf(body, 'celery_worker_tasks_active'), series([{ hostname: 'w1@hostA' }, 2], [{ hostname: 'w2@hostA' }, 3], [{ hostname: 'w3@hostB' }, 1], [{ hostname: 'w4@hostB' }, 0]));
    assert.deepEqual(
      seriesOf(body, 'flower_worker_number_of_currently_executing_tasks'),
      series([{ worker: 'w1@hostA' }, 2], [{ worker: 'w2@hostA' }, 3], [{ worker: 'w3@hostB' }, 1], [{ worker: 'w4@hostB' }, 0]),
    );
    assert.deepEqual(
      seriesOf(body, 'celery_worker_last_heartbeat_timestamp'),
      series([{ hostname: 'w1@hostA' }, at], [{ hostname: 'w2@hostA' }, at + 1], [{ hostname: 'w3@hostB' }, at], [{ hostname: 'w4@hostB' }, at - 1]),
    );
  });

  it('host: workers of a host share a series (up if any is, executing tasks add up)', async () => {
    const c = cluster({ workerLabel: 'host' });
    const at = Math.floor(nowSeconds());
    fourWorkers(c, at);
    const body = await c.scrape();
    assert.deepEqual(seriesOf(body, 'celery_worker_up'), series([{ hostname: 'hostA' }, 1], [{ hostname: 'hostB' }, 1]));
    assert.deepEqual(seriesOf(body, 'flower_worker_online'), series([{ worker: 'hostA' }, 1], [{ worker: 'hostB' }, 1]));
    assert.deepEqual(seriesOf(body, 'celery_worker_tasks_active'), series([{ hostname: 'hostA' }, 5], [{ hostname: 'hostB' }, 1]));
    assert.deepEqual(seriesOf(body, 'celery_worker_last_heartbeat_timestamp'), series([{ hostname: 'hostA' }, at + 1], [{ hostname: 'hostB' }, at]));
  });

  it('generic: one series for the whole cluster', async () => {
    const c = cluster({ workerLabel: 'generic' });
    fourWorkers(c, Math.floor(nowSeconds()));
    const body = await c.scrape();
    assert.deepEqual(seriesOf(body, 'celery_worker_up'), series([{ hostname: 'generic' }, 1]));
    assert.deepEqual(seriesOf(body, 'flower_worker_number_of_currently_executing_tasks'), series([{ worker: 'generic' }, 6]));
  });

  for (const [mode, expected] of [
    ['full', ['w1@hostA', 'w2@hostA', 'w3@hostB']],
    ['host', ['hostA', 'hostB']],
    ['generic', ['generic']],
  ] as const) {
    it(`per-task metrics have their own label mode (--metrics-task-worker-label ${mode})`, async () => {
      const c = cluster({ taskWorkerLabel: mode, workerLabel: 'full' });
      for (const hostname of ['w1@hostA', 'w2@hostA', 'w3@hostB']) c.ingest.event(taskEvent('task-received', `on-${hostname}`, { name: 'tasks.x', hostname }));
      const body = await c.scrape();
      assert.deepEqual(labelValues(body, 'flower_events_total', 'worker'), expected);
      assert.deepEqual(labelValues(body, 'celery_task_received_total', 'hostname'), expected);
      assert.deepEqual(labelValues(body, 'celery_worker_up', 'hostname'), ['w1@hostA', 'w2@hostA', 'w3@hostB'], 'per-worker metrics keep --metrics-worker-label');
    });
  }
});

describe('worker expiry', () => {
  /** Three workers heard at T0; only w2@hostA again 100 s later, past the 60 s expiry of the others. */
  async function quietWorkers(t: TestContext, taskWorkerLabel: MetricsOptions['taskWorkerLabel']): Promise<{ before: string; after: string }> {
    const T0 = 1_795_000_000;
    t.mock.timers.enable({ apis: ['Date'], now: T0 * 1000 });
    const c = cluster({ workerLabel: 'host', taskWorkerLabel, workerExpirySeconds: 60 });
    for (const hostname of ['w1@hostA', 'w2@hostA', 'w3@hostB']) {
      c.ingest.event(workerEvent('worker-heartbeat', hostname, {}, T0));
      c.ingest.event(taskEvent('task-received', `t-${hostname}`, { name: 'tasks.x', hostname }, T0));
      c.ingest.event(taskEvent('task-succeeded', `t-${hostname}`, { hostname, runtime: 1 }, T0));
    }
    const before = await c.scrape();
    t.mock.timers.tick(100_000);
    c.ingest.event(workerEvent('worker-heartbeat', 'w2@hostA', {}, T0 + 100));
    return { before, after: await c.scrape() };
  }

  it("removes a quiet worker's series, counters and histograms included", async (t) => {
    const { before, after } = await quietWorkers(t, 'full');
    assert.deepEqual(distinctLabelValues(before, 'flower_events_total', 'worker'), ['w1@hostA', 'w2@hostA', 'w3@hostB']);
    assert.deepEqual(labelValues(before, 'celery_task_runtime_count', 'hostname'), ['w1@hostA', 'w2@hostA', 'w3@hostB']);
    assert.deepEqual(labelValues(before, 'celery_worker_up', 'hostname'), ['hostA', 'hostB']);
    assert.deepEqual(distinctLabelValues(after, 'flower_events_total', 'worker'), ['w2@hostA']);
    assert.deepEqual(labelValues(after, 'celery_task_received_total', 'hostname'), ['w2@hostA']);
    assert.deepEqual(labelValues(after, 'celery_task_runtime_count', 'hostname'), ['w2@hostA']);
    assert.deepEqual(labelValues(after, 'celery_worker_up', 'hostname'), ['hostA'], 'hostA is still up through w2');
  });

  it('a worker back after its series expired has them created at zero again, pre-zeroed failures included', async (t) => {
    const T0 = 1_795_000_000;
    t.mock.timers.enable({ apis: ['Date'], now: T0 * 1000 });
    const c = cluster({ taskWorkerLabel: 'full', workerExpirySeconds: 60 });
    const failures = { name: 'tasks.x', hostname: 'w1@hostA', queue_name: 'celery', exception: '' };
    c.ingest.event(workerEvent('worker-heartbeat', 'w1@hostA', {}, T0));
    c.ingest.event(taskEvent('task-received', 't1', { name: 'tasks.x', hostname: 'w1@hostA' }, T0));
    assert.equal(sampleValue(await c.scrape(), 'celery_task_failed_total', failures), 0);
    t.mock.timers.tick(100_000);
    assert.equal(sampleValue(await c.scrape(), 'celery_task_failed_total', failures), undefined, 'expired');
    c.ingest.event(workerEvent('worker-heartbeat', 'w1@hostA', {}, T0 + 100));
    c.ingest.event(taskEvent('task-received', 't2', { name: 'tasks.x', hostname: 'w1@hostA' }, T0 + 100));
    const back = await c.scrape();
    assert.equal(sampleValue(back, 'celery_task_failed_total', failures), 0);
    assert.equal(sampleValue(back, 'celery_task_succeeded_total', { name: 'tasks.x', hostname: 'w1@hostA', queue_name: 'celery' }), 0);
  });

  it('keeps the series a quiet worker shares with a live one (collapsed labels)', async (t) => {
    const { after } = await quietWorkers(t, 'host');
    assert.deepEqual(distinctLabelValues(after, 'flower_events_total', 'worker'), ['hostA']);
    assert.equal(sampleValue(after, 'celery_task_received_total', { name: 'tasks.x', hostname: 'hostA', queue_name: 'celery' }), 2);
  });
});

describe('metric families', () => {
  const typed = (body: string): string[] => [...body.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1] as string).sort();
  const namesOf = (family: MetricFamily): string[] =>
    METRICS.filter((spec) => spec.family === family)
      .map((spec) => spec.name)
      .sort();

  for (const family of ['flower', 'exporter'] as const) {
    it(`--metrics ${family} registers exactly that family`, async () => {
      const c = cluster({ families: new Set([family]) });
      assert.equal(c.metrics.enabled, true);
      assert.deepEqual(typed(await c.scrape()), namesOf(family));
    });
  }

  it('--metrics celeriac registers Celeriac health and the process metrics', async () => {
    const names = typed(await cluster({ families: new Set(['celeriac']) }).scrape());
    for (const name of namesOf('celeriac')) assert.ok(names.includes(name), name);
    assert.ok(!names.some((name) => name.startsWith('flower_') || name.startsWith('celery_')), names.join());
  });

  it('--metrics none registers nothing', async () => {
    const c = cluster({ families: new Set() });
    assert.equal(c.metrics.enabled, false);
    c.ingest.event(taskEvent('task-received', 'n', { name: 'tasks.x' }));
    assert.equal((await c.scrape()).trim(), '');
  });
});

describe('pre-zeroed series of registered tasks', () => {
  it('creates every task counter and histogram at zero for each registered task × consumed queue', async () => {
    const c = cluster();
    c.inspected('w1@h', ['tasks.a', 'tasks.b'], ['q1', 'q2']);
    const body = await c.scrape();
    const all = ['tasks.a/q1', 'tasks.a/q2', 'tasks.b/q1', 'tasks.b/q2'];
    for (const counter of ['sent', 'received', 'started', 'succeeded', 'failed', 'rejected', 'revoked', 'retried']) {
      const found = samples(body, `celery_task_${counter}_total`);
      assert.deepEqual(found.map((s) => `${s.labels.name}/${s.labels.queue_name}`).sort(), all, counter);
      assert.ok(
        found.every((s) => s.value === 0 && s.labels.hostname === 'generic'),
        counter,
      );
    }
    assert.deepEqual(
      samples(body, 'celery_task_failed_total').map((s) => s.labels.exception),
      ['', '', '', ''],
    );
    assert.deepEqual(labelValues(body, 'celery_task_runtime_count', 'queue_name'), ['q1', 'q1', 'q2', 'q2']);
    assert.deepEqual(labelValues(body, 'celery_task_queue_wait_time_count', 'queue_name'), ['q1', 'q1', 'q2', 'q2']);
    assert.equal(samples(body, 'flower_events_total').length, 2 * 8, 'every event type of each task, task-sent included');
    assert.deepEqual(labelValues(body, 'flower_task_runtime_seconds_count', 'task'), ['tasks.a', 'tasks.b']);

    // Created before the first events: those count at once.
    c.ingest.event(taskEvent('task-sent', 'x', { name: 'tasks.a', hostname: 'client@h', queue: 'q1' }));
    c.ingest.event(taskEvent('task-received', 'x', { name: 'tasks.a' }));
    const next = await c.scrape();
    assert.equal(sampleValue(next, 'celery_task_sent_total', { name: 'tasks.a', hostname: 'generic', queue_name: 'q1' }), 1);
    assert.equal(sampleValue(next, 'celery_task_received_total', { name: 'tasks.a', hostname: 'generic', queue_name: 'q1' }), 1);
    assert.equal(sampleValue(next, 'flower_events_total', { worker: 'generic', type: 'task-received', task: 'tasks.a' }), 1);
  });

  it("without collapsed clients, task-sent series cannot be foreseen; a worker without queues consumes 'celery'", async () => {
    const c = cluster({ taskWorkerLabel: 'full' });
    c.inspected('w1@h', ['tasks.a']);
    c.inspected('w2@h', []);
    const body = await c.scrape();
    assert.deepEqual(samples(body, 'celery_task_sent_total'), []);
    assert.deepEqual(samples(body, 'celery_task_received_total'), [{ labels: { name: 'tasks.a', hostname: 'w1@h', queue_name: 'celery' }, value: 0 }]);
    assert.deepEqual(labelValues(body, 'flower_events_total', 'type'), ['task-failed', 'task-received', 'task-rejected', 'task-retried', 'task-revoked', 'task-started', 'task-succeeded']);
  });
});

describe('metrics read when scraped', () => {
  const queue = (name: string, fields: Partial<MetricsQueue>): MetricsQueue => ({ name, messages: 0, ready: null, byPriority: null, consumers: null, oldestAgeSeconds: null, exists: true, ...fields });

  it('queue gauges come from the last poll and the queues live workers consume', async () => {
    const c = cluster();
    for (const hostname of ['w1@h', 'w2@h', 'w3@h']) c.ingest.event(workerEvent('worker-heartbeat', hostname));
    c.ingest.event(workerEvent('worker-offline', 'w3@h'));
    c.inspected('w1@h', [], ['q1']);
    c.inspected('w2@h', [], ['q1', 'q3']);
    c.inspected('w3@h', [], ['q1']);
    assert.deepEqual(samples(await c.scrape(), 'celery_queue_length'), [], 'nothing before the first poll');
    c.polled({
      updatedAt: nowSeconds(),
      queues: [
        queue('q1', { messages: 5, byPriority: { 0: 3, 3: 2 }, oldestAgeSeconds: 12 }),
        queue('q2', { consumers: 4 }),
        queue('q3', { messages: 7, ready: 6 }),
        queue('gone', { messages: 9, exists: false }),
      ],
    });
    const body = await c.scrape();
    assert.deepEqual(seriesOf(body, 'celery_queue_length'), series([{ queue_name: 'q1' }, 5], [{ queue_name: 'q2' }, 0], [{ queue_name: 'q3' }, 6]));
    assert.deepEqual(seriesOf(body, 'celery_queue_length_by_priority'), series([{ queue_name: 'q1', priority: '0' }, 3], [{ queue_name: 'q1', priority: '3' }, 2]));
    assert.deepEqual(
      seriesOf(body, 'celery_queue_oldest_message_age_seconds'),
      series([{ queue_name: 'q1' }, 12], [{ queue_name: 'q2' }, 0]),
      'an empty queue waits 0 s; a non-empty one of unknown age has no value',
    );
    assert.deepEqual(seriesOf(body, 'celery_active_consumer_count'), series([{ queue_name: 'q1' }, 2], [{ queue_name: 'q2' }, 4], [{ queue_name: 'q3' }, 1]));
    assert.deepEqual(seriesOf(body, 'celery_active_worker_count'), series([{ queue_name: 'q1' }, 2], [{ queue_name: 'q2' }, 0], [{ queue_name: 'q3' }, 1]));
  });

  it('prefetched tasks: received, not started, without an ETA; every registered task of a live worker at 0', async () => {
    const c = cluster({ taskWorkerLabel: 'full' });
    c.ingest.event(workerEvent('worker-heartbeat', 'w1@h'));
    c.inspected('w1@h', ['tasks.a', 'tasks.b']);
    c.ingest.event(taskEvent('task-received', 'r1', { name: 'tasks.a', hostname: 'w1@h' }));
    c.ingest.event(taskEvent('task-received', 'r2', { name: 'tasks.a', hostname: 'w1@h' }));
    c.ingest.event(taskEvent('task-received', 'eta', { name: 'tasks.a', hostname: 'w1@h', eta: '2030-01-01T00:00:00+00:00' }));
    c.ingest.event(taskEvent('task-received', 's', { name: 'tasks.c', hostname: 'w1@h' }));
    c.ingest.event(taskEvent('task-started', 's', { hostname: 'w1@h' }));
    const body = await c.scrape();
    assert.deepEqual(seriesOf(body, 'flower_worker_prefetched_tasks'), series([{ worker: 'w1@h', task: 'tasks.a' }, 2], [{ worker: 'w1@h', task: 'tasks.b' }, 0]));
  });

  it("Celeriac's health: ingest, broker, retention and control counters", async () => {
    const c = cluster({}, 2);
    for (const uuid of ['a', 'b', 'c']) c.ingest.event(taskEvent('task-received', uuid, { name: 'tasks.x' }));
    c.ingest.event(workerEvent('worker-heartbeat', 'w2@h'));
    c.ingest.drop('bad_json', 'test');
    const body = await c.scrape();
    assert.equal(sampleValue(body, 'celeriac_events_received_total', { type: 'task-received' }), 3);
    assert.equal(sampleValue(body, 'celeriac_events_received_total', { type: 'worker-heartbeat' }), 1);
    assert.equal(sampleValue(body, 'celeriac_events_received_total', { type: 'task-failed' }), 0, 'known types start at 0');
    assert.equal(sampleValue(body, 'celeriac_events_dropped_total', { reason: 'bad_json' }), 1);
    assert.equal(sampleValue(body, 'celeriac_events_dropped_total', { reason: 'oversized' }), 0);
    assert.equal(sampleValue(body, 'celeriac_broker_connected'), 1);
    assert.equal(sampleValue(body, 'celeriac_broker_reconnects_total'), 3);
    assert.equal(sampleValue(body, 'celeriac_tasks_retained'), 2);
    assert.equal(sampleValue(body, 'celeriac_tasks_evicted_total'), 1);
    assert.equal(sampleValue(body, 'celeriac_workers_retained'), 2);
    assert.deepEqual(seriesOf(body, 'celeriac_control_calls_total'), series([{ action: 'revoke', outcome: 'ok' }, 4], [{ action: 'revoke', outcome: 'failed' }, 0]));
    const sinceLast = sampleValue(body, 'celeriac_seconds_since_last_event') as number;
    assert.ok(sinceLast >= 0 && sinceLast < 5, `seconds since last event: ${sinceLast}`);
    assert.equal(sampleValue(body, 'celeriac_ingest_lag_seconds'), 0);
    assert.equal(sampleValue(await cluster().scrape(), 'celeriac_seconds_since_last_event'), -1, 'before the first event');
  });

  it("the store: size, rows, pending changes, writes, drops, failures, degraded, retention — read from the store's status, never queried", async () => {
    const c = cluster();
    const memory = await c.scrape();
    assert.equal(sampleValue(memory, 'celeriac_store_degraded'), 0, '--store memory: nothing is degraded');
    assert.deepEqual(samples(memory, 'celeriac_store_rows'), [], 'no tables');
    assert.deepEqual(samples(memory, 'celeriac_store_pending_changes'), []);
    const writer = { pending: 0, written: 120, dropped: 0, failures: 0, degraded: false, lastError: null };
    c.stored({
      sizeBytes: 4_096_000,
      rows: { tasks: 1_200, workers: 3 },
      pending: 1_500,
      written: 10_000,
      dropped: 25,
      failures: 7,
      degraded: true,
      workers: writer,
      retention: {
        lastRunAt: 1,
        lastRunSeconds: 0.5,
        deleted: { tasks: 300, tasks_failed: 2, size_cap: 0 },
        batches: 4,
        batchRows: 2_000,
        lastBatchMs: 12,
        failures: 1,
        lastError: null,
        maxSizeBytes: 500_000_000,
      },
    });
    const body = await c.scrape();
    assert.equal(sampleValue(body, 'celeriac_store_size_bytes'), 4_096_000);
    assert.equal(sampleValue(body, 'celeriac_store_max_size_bytes'), 500_000_000);
    assert.deepEqual(seriesOf(body, 'celeriac_store_rows'), series([{ table: 'tasks' }, 1_200], [{ table: 'workers' }, 3]));
    assert.deepEqual(seriesOf(body, 'celeriac_store_pending_changes'), series([{ kind: 'tasks' }, 1_500], [{ kind: 'workers' }, 0]));
    assert.deepEqual(seriesOf(body, 'celeriac_store_rows_written_total'), series([{ kind: 'tasks' }, 10_000], [{ kind: 'workers' }, 120]));
    assert.deepEqual(seriesOf(body, 'celeriac_store_changes_dropped_total'), series([{ kind: 'tasks' }, 25], [{ kind: 'workers' }, 0]));
    assert.deepEqual(seriesOf(body, 'celeriac_store_write_failures_total'), series([{ kind: 'tasks' }, 7], [{ kind: 'workers' }, 0]));
    assert.equal(sampleValue(body, 'celeriac_store_degraded'), 1);
    assert.deepEqual(seriesOf(body, 'celeriac_store_retention_deleted_total'), series([{ policy: 'tasks' }, 300], [{ policy: 'tasks_failed' }, 2], [{ policy: 'size_cap' }, 0]));
    assert.equal(sampleValue(body, 'celeriac_store_retention_failures_total'), 1);
  });
});
