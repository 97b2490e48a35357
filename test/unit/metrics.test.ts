/**
 * The metrics layer without a scraper: what a series born between two scrapes holds while
 * nobody scrapes must not grow with the number of events (most users never scrape), and what it
 * held must come out exactly once a scraper arrives.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../server/log';
import { DEFAULT_RUNTIME_BUCKETS } from '../../server/metrics/catalogue';
import { CeleriacMetrics } from '../../server/metrics/metrics';
import type { TaskEvent } from '../../server/protocol/events';
import { ClusterState } from '../../server/state/cluster-state';
import { Ingest } from '../../server/state/ingest';
import { sample } from '../helpers/exposition';

interface Monitor {
  ingest: Ingest;
  state: ClusterState;
}

function monitor(): Monitor {
  const state = new ClusterState({ maxTasks: 100_000, maxWorkers: 1_000 });
  return { state, ingest: new Ingest(state, createLogger('silent')) };
}

function metricsOf(m: Monitor): CeleriacMetrics {
  const { state, ingest } = m;
  const metrics = new CeleriacMetrics({
    workers: () => state.workers.values(),
    workerCount: () => state.workers.size,
    tasks: () => state.tasks.values(),
    taskCount: () => state.tasks.size,
    taskEvictions: () => state.taskEvictions,
    registered: () => [],
    activeQueues: () => [],
    queueSnapshot: () => ({ updatedAt: null, queues: [] }),
    ingestCounters: () => ingest.counters,
    transportStatus: () => ({ connected: true, connects: 1 }),
    controlCallCounts: () => [],
  }, {
    families: new Set(['flower', 'exporter', 'celeriac']),
    workerLabel: 'full',
    taskWorkerLabel: 'generic',
    maxSeries: 10_000,
    workerExpirySeconds: 3600,
    runtimeBuckets: DEFAULT_RUNTIME_BUCKETS,
    queueWaitBuckets: [1, 10],
  });
  state.addListener({ taskChanged: (task, event) => metrics.taskChanged(task, event) });
  return metrics;
}

/** Runtimes spread over every runtime bucket, +Inf included. */
const runtimeOf = (n: number): number => ((n * 7919) % 12_000) / 1000;

function runTasks(m: Monitor, count: number, from = 0): void {
  const now = Date.now() / 1000;
  for (let n = from; n < from + count; n++) {
    const common = { kind: 'task', uuid: `t-${n}`, hostname: 'w1@host', timestamp: now, localReceived: now, clock: n * 3, utcoffset: 0, pid: 1 } as const;
    m.ingest.event({ ...common, type: 'task-received', name: 'tasks.add' } satisfies TaskEvent);
    m.ingest.event({ ...common, type: 'task-started', clock: n * 3 + 1 } satisfies TaskEvent);
    m.ingest.event({ ...common, type: 'task-succeeded', clock: n * 3 + 2, runtime: runtimeOf(n), result: '2' } satisfies TaskEvent);
  }
}

describe('metrics with nobody scraping', () => {
  it('held-back series keep a fixed-size aggregate, whatever the number of events', () => {
    const m = monitor();
    const large = metricsOf(m);
    runTasks(m, 20_000);
    // Same label sets, 20,000 times the events: the held structure must not grow with them
    // (it held one closure per event before, ~1 KB each: the memory leak without a scraper).
    const before = large.heldBackSize();
    runTasks(m, 20_000, 20_000);
    const after = large.heldBackSize();
    assert.deepEqual(after, before);
    assert.ok(after.series > 0, 'new series are held until their first scrape');
    assert.ok(after.values < 500, `held values: ${after.values}`);
  });

  it('a scraper arriving later sees zero first, then every count exactly', async () => {
    const m = monitor();
    const metrics = metricsOf(m);
    const tasks = 5_000;
    runTasks(m, tasks);
    const first = (await metrics.render(undefined)).body;
    const labels = { name: 'tasks.add', hostname: 'generic', queue_name: 'celery' };
    assert.equal(sample(first, 'celery_task_succeeded_total', labels), 0);
    assert.equal(sample(first, 'celery_task_runtime_count', labels), 0);
    assert.equal(metrics.heldBackSize().series, 0, 'released by the scrape');

    const second = (await metrics.render(undefined)).body;
    assert.equal(sample(second, 'celery_task_succeeded_total', labels), tasks);
    assert.equal(sample(second, 'celery_task_received_total', labels), tasks);
    assert.equal(sample(second, 'flower_events_total', { worker: 'generic', type: 'task-succeeded', task: 'tasks.add' }), tasks);
    assert.equal(sample(second, 'celery_task_runtime_count', labels), tasks);
    let expectedSum = 0;
    const runtimes: number[] = [];
    for (let n = 0; n < tasks; n++) runtimes.push(runtimeOf(n));
    for (const r of runtimes) expectedSum += r;
    const sum = sample(second, 'celery_task_runtime_sum', labels) as number;
    assert.ok(Math.abs(sum - expectedSum) < 1e-6 * expectedSum, `sum ${sum} ≈ ${expectedSum}`);
    for (const le of DEFAULT_RUNTIME_BUCKETS) {
      const expected = runtimes.filter((r) => r <= le).length;
      assert.equal(sample(second, 'celery_task_runtime_bucket', { ...labels, le: String(le) }), expected, `bucket le=${le}`);
    }
    assert.equal(sample(second, 'celery_task_runtime_bucket', { ...labels, le: '+Inf' }), tasks);

    // Known series count at once from now on.
    runTasks(m, 10, tasks);
    const third = (await metrics.render(undefined)).body;
    assert.equal(sample(third, 'celery_task_succeeded_total', labels), tasks + 10);
  });

  it('exports the process metrics and the limits memory is judged against', async () => {
    const body = (await metricsOf(monitor()).render(undefined)).body;
    for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds', 'celeriac_heap_limit_bytes']) {
      const value = sample(body, name);
      assert.ok(value !== undefined && value >= 0, `${name} = ${value}`);
    }
    assert.ok((sample(body, 'celeriac_heap_limit_bytes') as number) > 64 * 1024 * 1024);
    assert.match(body, /^# TYPE nodejs_gc_duration_seconds histogram$/m);
  });
});
