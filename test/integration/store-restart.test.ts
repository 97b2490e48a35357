/**
 * History survives a restart, with real Celery workers: tasks run, Celeriac stops (SIGTERM's
 * path: close() writes what is pending), starts again on the same store, and every task is back
 * — state, result, traceback — on SQLite and on PostgreSQL. And a store that cannot be reached
 * does not stop monitoring: Celeriac starts in memory and says the store is degraded.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { RunningCeleriac } from '../../server/server';
import type { CeleriacStatus, TaskRow, WorkersSnapshot } from '../../server/views/types';
import type { PrivateRedisServer } from '../helpers/brokers';
import { sendTasks } from '../helpers/celery';
import { getJson, startTestCeleriac, waitFor } from '../helpers/celeriac';
import { TEST_STORES } from '../helpers/postgres';
import { TestResources } from '../helpers/resources';

interface Page {
  total: number;
  tasks: TaskRow[];
}

/** Everything the tests start, stopped newest first. */
const resources = new TestResources();
after(() => resources.stopAll());

async function finishedTasks(celeriac: RunningCeleriac, count: number): Promise<TaskRow[]> {
  return waitFor(
    `${count} tasks finished`,
    async () => {
      const page = (await getJson<Page>(celeriac.url, '/api/celeriac/tasks?limit=100')).body;
      return page.total === count && page.tasks.every((t) => t.state === 'SUCCESS' || t.state === 'FAILURE') ? page.tasks : null;
    },
    30_000,
  );
}

describe('history across a restart (real workers)', { timeout: 180_000 }, () => {
  let redis: PrivateRedisServer;

  it('starts a broker and a worker', async () => {
    redis = await resources.redis();
    await resources.worker({ brokerUrl: redis.url(0), nodeName: 'history@restart', concurrency: 2, sendEvents: true });
  });

  for (const store of TEST_STORES) {
    it(`${store.name}: every task is back after a restart, traceback included`, async () => {
      const storeUrl = await store.url(resources);
      const args = ['--broker', redis.url(0), '--store', storeUrl];
      const first = await startTestCeleriac(args);
      let second: RunningCeleriac | null = null;
      try {
        await waitFor('worker online', async () => (await getJson<Record<string, boolean>>(first.url, '/api/workers?status=1')).body['history@restart'] === true);
        await sendTasks(redis.url(0), [
          { task: 'tasks.add', args: [2, 3] },
          { task: 'tasks.fail', args: ['kept across restarts'] },
          { task: 'tasks.echo', args: [{ nested: ['é', 1] }] },
        ]);
        const before = await finishedTasks(first, 3);
        const statusBefore = (await getJson<CeleriacStatus>(first.url, '/api/celeriac/status')).body;
        assert.equal(statusBefore.store?.ready, true);
        await first.close();

        second = await startTestCeleriac(args);
        const after = (await getJson<Page>(second.url, '/api/celeriac/tasks?limit=100')).body;
        assert.equal(after.total, 3);
        const byId = new Map(after.tasks.map((t) => [t.uuid, t]));
        for (const task of before) assert.deepEqual(byId.get(task.uuid), task, `task ${task.name} is back as it was`);
        const failed = after.tasks.find((t) => t.state === 'FAILURE');
        assert.match(failed?.traceback ?? '', /kept across restarts/);
        // The worker is back with its counters (a heartbeat alone would bring it back at zero).
        const workers = (await getJson<WorkersSnapshot>(second.url, '/api/celeriac/workers')).body.workers;
        const restoredWorker = workers.find((w) => w.hostname === 'history@restart');
        assert.ok(restoredWorker, 'the worker is listed before it is heard from');
        assert.ok(restoredWorker.processed >= 3 && restoredWorker.failed >= 1, JSON.stringify(restoredWorker));
        const status = (await getJson<CeleriacStatus>(second.url, '/api/celeriac/status')).body;
        assert.deepEqual([status.store?.ready, status.store?.degraded, status.store?.backend], [true, false, store.name === 'SQLite' ? 'sqlite' : 'postgresql']);
      } finally {
        await first.close();
        await second?.close();
      }
    });
  }

  it('an unreachable store does not stop monitoring: it is reported as degraded', async () => {
    const celeriac = await startTestCeleriac(['--broker', redis.url(0), '--store', 'postgresql://root@127.0.0.1:1/celeriac']);
    try {
      const health = await waitFor('healthcheck', async () => {
        const res = await fetch(`${celeriac.url}/healthcheck`);
        return res.status === 200 ? res.text() : null;
      });
      assert.match(health, /^OK \(store degraded: /);
      await sendTasks(redis.url(0), [{ task: 'tasks.add', args: [1, 1] }]);
      await finishedTasks(celeriac, 1);
      const status = (await getJson<CeleriacStatus>(celeriac.url, '/api/celeriac/status')).body;
      assert.deepEqual([status.store?.ready, status.store?.degraded], [false, true]);
      assert.match(status.store?.lastError ?? '', /ECONNREFUSED/, 'the reason is said');
      assert.ok((status.store?.pending ?? 0) >= 1, 'the change waits for the store, in memory');
    } finally {
      await celeriac.close();
    }
  });
});
