/**
 * Trends on both stores, with a real Celery worker: tasks run, and /api/celeriac/trends answers
 * the counts that ran, by task name, with runtime and wait percentiles; Celeriac restarts (SIGTERM's
 * path) in the middle of a minute and the minute adds up exactly; inserted history with old
 * timestamps is read back from the hourly roll-up; bad parameters are 400s. And with
 * `--store memory` the answer says it only covers what this process saw.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { RunningCeleriac } from '../../server/server';
import { bucketOf, percentile } from '../../server/store/trend-histogram';
import type { QueueHistoryView, TrendsView } from '../../server/views/trend-types';
import type { CeleriacStatus, TaskRow } from '../../server/views/types';
import type { PrivateRedisServer } from '../helpers/brokers';
import { sendTasks } from '../helpers/celery';
import { getJson, startTestCeleriac, waitFor } from '../helpers/celeriac';
import { TEST_STORES } from '../helpers/postgres';
import { TestResources } from '../helpers/resources';

const resources = new TestResources();
after(() => resources.stopAll());

const WORKER = 'trends@integration';

async function finished(celeriac: RunningCeleriac, count: number): Promise<void> {
  await waitFor(
    `${count} tasks finished`,
    async () => {
      const page = (await getJson<{ total: number; tasks: TaskRow[] }>(celeriac.url, '/api/celeriac/tasks?limit=100')).body;
      return page.total === count && page.tasks.every((t) => t.state === 'SUCCESS' || t.state === 'FAILURE');
    },
    30_000,
  );
}

async function trends(celeriac: RunningCeleriac, query: string): Promise<TrendsView> {
  const { status, body } = await getJson<TrendsView>(celeriac.url, `/api/celeriac/trends?${query}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

/** The histogram the samples make, and its percentiles: what a merged read must give. */
function expectedPercentiles(samples: readonly number[]): { p50: number | null; p95: number | null; p99: number | null } {
  const counts = new Map<number, number>();
  for (const s of samples) counts.set(bucketOf(s), (counts.get(bucketOf(s)) ?? 0) + 1);
  return { p50: percentile(counts, 0.5), p95: percentile(counts, 0.95), p99: percentile(counts, 0.99) };
}

describe('trends (real worker, both stores)', { timeout: 300_000 }, () => {
  let redis: PrivateRedisServer;

  it('starts a broker and a worker', async () => {
    redis = await resources.redis();
    await resources.worker({ brokerUrl: redis.url(0), nodeName: WORKER, concurrency: 2, sendEvents: true });
  });

  for (const store of TEST_STORES) {
    it(`${store.name}: the API counts what ran, and a restart in the middle of a minute adds up exactly`, async () => {
      const storeUrl = await store.url(resources);
      const args = ['--broker', redis.url(0), '--store', storeUrl];
      // An old minute both instances add to: 3 days ago, 30 s into the minute.
      const oldMinute = Math.floor((Date.now() / 1000 - 3 * 86_400) / 60) * 60;
      const firstRuntimes = [0.1, 0.2, 0.3, 5];
      const secondRuntimes = [0.15, 0.25, 7, 9, 11];
      const first = await startTestCeleriac(args);
      let second: RunningCeleriac | null = null;
      try {
        await waitFor('worker online', async () => (await getJson<Record<string, boolean>>(first.url, '/api/workers?status=1')).body[WORKER] === true);
        await sendTasks(redis.url(0), [
          ...[1, 2, 3, 4, 5].map((n) => ({ task: 'tasks.add', args: [n, n] })),
          { task: 'tasks.fail', args: ['trend failure'] },
          { task: 'tasks.fail', args: ['trend failure'] },
        ]);
        await finished(first, 7);
        await first.trends.insert([{ at: oldMinute + 10, name: 'tasks.old', queue: 'celery', succeeded: 4, failed: 1, runtimes: firstRuntimes, waits: [1, 2] }]);

        const now = await trends(first, 'range=1h');
        assert.equal(now.totals.succeeded, 5);
        assert.equal(now.totals.failed, 2);
        assert.equal(now.totals.finished, 7);
        assert.equal(now.totals.runtime.count, 7);
        assert.equal(now.totals.wait.count, 7);
        assert.ok((now.totals.runtime.p50 ?? -1) >= 0);
        const byName = new Map(now.names.map((n) => [n.name, n]));
        assert.deepEqual([byName.get('tasks.add')?.succeeded, byName.get('tasks.add')?.failed], [5, 0]);
        assert.deepEqual([byName.get('tasks.fail')?.failed, byName.get('tasks.fail')?.failureRatio], [2, 1]);
        const named = await trends(first, 'range=1h&name=tasks.fail');
        assert.deepEqual([named.totals.succeeded, named.totals.failed, named.name], [0, 2, 'tasks.fail']);
        assert.equal(named.names.length >= 2, true, 'the names table ignores the name filter');
        await first.close(); // SIGTERM's path: the open minutes are written

        second = await startTestCeleriac(args);
        await waitFor('worker online again', async () => (await getJson<Record<string, boolean>>(second?.url ?? '', '/api/workers?status=1')).body[WORKER] === true);
        await sendTasks(
          redis.url(0),
          [1, 2, 3].map((n) => ({ task: 'tasks.add', args: [n, 1] })),
        );
        await finished(second, 10);
        await second.trends.insert([{ at: oldMinute + 40, name: 'tasks.old', queue: 'celery', succeeded: 5, runtimes: secondRuntimes, waits: [3] }]);

        const after = await trends(second, 'range=1h');
        assert.deepEqual([after.totals.succeeded, after.totals.failed, after.totals.runtime.count], [8, 2, 10]);
        // The old minute, from the hourly roll-up (7 d), is the sum of both instances' writes.
        const week = await trends(second, 'range=7d&name=tasks.old');
        assert.deepEqual([week.totals.succeeded, week.totals.failed, week.totals.runtime.count, week.totals.wait.count], [9, 1, 9, 3]);
        const { p50, p95, p99 } = week.totals.runtime;
        assert.deepEqual({ p50, p95, p99 }, expectedPercentiles([...firstRuntimes, ...secondRuntimes]));
        assert.equal(week.totals.runtime.mean, [...firstRuntimes, ...secondRuntimes].reduce((a, b) => a + b, 0) / 9);
        const point = week.series.find((p) => p.succeeded > 0);
        assert.equal(point?.t, Math.floor(oldMinute / 3_600) * 3_600);
        // The previous period of 1 h is empty; of 7 d it holds nothing either (3 days ago is inside).
        assert.equal(week.previous.totals.succeeded, 0);
        assert.equal(week.memoryOnlySeconds, null);
      } finally {
        await first.close();
        await second?.close();
      }
    });
  }

  it('refuses bad parameters with a 400 that says what is accepted', async () => {
    const celeriac = await startTestCeleriac(['--broker', redis.url(0), '--store', 'memory']);
    try {
      for (const [query, message] of [
        ['range=2d', /'range'.*one of 1h, 24h, 7d, 30d/],
        ['range=1h&bogus=1', /Unknown parameter 'bogus'/],
        [`name=${'x'.repeat(600)}`, /longer than 500/],
      ] as const) {
        const { status, body } = await getJson<{ error: string }>(celeriac.url, `/api/celeriac/trends?${query}`);
        assert.equal(status, 400, query);
        assert.match(body.error, message);
      }
      const queueBad = await getJson<{ error: string }>(celeriac.url, '/api/celeriac/queues/history?range=1y');
      assert.equal(queueBad.status, 400);
      const memory = await trends(celeriac, 'range=24h');
      assert.equal(memory.memoryOnlySeconds, 86_400);
      assert.equal(memory.series.length, 96);
      assert.equal(memory.previous.series.length, 96);
    } finally {
      await celeriac.close();
    }
  });

  it('an unreachable store: trends wait in memory, the API says 503, the status counts them', async () => {
    const celeriac = await startTestCeleriac(['--broker', redis.url(0), '--store', 'postgresql://root@127.0.0.1:1/celeriac']);
    try {
      await assert.rejects(celeriac.trends.insert([{ at: Date.now() / 1000, name: 'tasks.add', succeeded: 2 }]), /trends not written/);
      const { status, body } = await getJson<{ error: string }>(celeriac.url, '/api/celeriac/trends?range=1h');
      assert.equal(status, 503);
      assert.match(body.error, /store cannot answer trends/);
      const store = (await getJson<CeleriacStatus>(celeriac.url, '/api/celeriac/status')).body.store;
      assert.equal(store?.degraded, true);
      assert.ok((store?.trends.pending ?? 0) >= 1 && (store?.trends.failures ?? 0) >= 1, JSON.stringify(store?.trends));
    } finally {
      await celeriac.close();
    }
  });

  it('keeps queue lengths per minute (max and last)', async () => {
    const storeUrl = await TEST_STORES[0]?.url(resources);
    const celeriac = await startTestCeleriac(['--broker', redis.url(0), '--store', storeUrl ?? 'memory', '--queue-poll-interval', '0.5']);
    try {
      const history = await waitFor('a polled queue length in the history', async () => {
        const { body } = await getJson<QueueHistoryView>(celeriac.url, '/api/celeriac/queues/history?range=1h&queue=celery');
        return body.points.length > 0 ? body : null;
      });
      assert.equal(history.queue, 'celery');
      assert.deepEqual(Object.keys(history.points[0]?.queues ?? {}), ['celery']);
      assert.equal(typeof history.points[0]?.queues.celery?.max, 'number');
    } finally {
      await celeriac.close();
    }
  });
});
