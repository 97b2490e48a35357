/**
 * The real process (bin/celeriac.js) on a store, killed two ways with real Celery workers: after
 * SIGTERM every task is back; after SIGKILL every task that finished more than a second before
 * the kill is back (the writer writes every 0.5 s) — on SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { TaskRow } from '../../server/views/types';
import { freePort, type PrivateRedisServer } from '../helpers/brokers';
import { sendTasks } from '../helpers/celery';
import { getJson, waitFor } from '../helpers/celeriac';
import { TEST_STORES } from '../helpers/postgres';
import { TestResources } from '../helpers/resources';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** Everything the tests start, stopped newest first. */
const resources = new TestResources();
after(() => resources.stopAll());

interface CeleriacProcess {
  url: string;
  child: ChildProcess;
}

async function startProcess(broker: string, store: string): Promise<CeleriacProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/celeriac.js'), '--broker', broker, '--store', store, '--port', String(port), '--no-ui', '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  resources.defer(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('Celeriac listening', async () => (await fetch(`${url}/healthcheck`).catch(() => null))?.status === 200, 30_000);
  return { url, child };
}

async function stop(celeriac: CeleriacProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const exited = once(celeriac.child, 'exit');
  celeriac.child.kill(signal);
  await exited;
}

async function tasksOf(url: string): Promise<TaskRow[]> {
  return (await getJson<{ tasks: TaskRow[] }>(url, '/api/celeriac/tasks?limit=1000')).body.tasks;
}

describe('history when the process is stopped or killed (real process, real workers)', { timeout: 240_000 }, () => {
  let redis: PrivateRedisServer;

  it('starts a broker and a worker', async () => {
    redis = await resources.redis();
    await resources.worker({ brokerUrl: redis.url(0), nodeName: 'history@kill', concurrency: 4, sendEvents: true });
  });

  for (const store of TEST_STORES) {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      it(`${store.name}, ${signal}: the finished tasks are back`, async () => {
        const storeUrl = await store.url(resources);
        const first = await startProcess(redis.url(0), storeUrl);
        await waitFor('worker online', async () => (await getJson<Record<string, boolean>>(first.url, '/api/workers?status=1')).body['history@kill'] === true);
        await sendTasks(
          redis.url(0),
          Array.from({ length: 40 }, (_, n) => ({ task: n % 10 === 0 ? 'tasks.fail' : 'tasks.add', args: n % 10 === 0 ? [`boom ${n}`] : [n, 1] })),
        );
        const before = await waitFor(
          '40 tasks finished',
          async () => {
            const tasks = await tasksOf(first.url);
            return tasks.length === 40 && tasks.every((t) => t.state === 'SUCCESS' || t.state === 'FAILURE') ? tasks : null;
          },
          60_000,
        );
        // More than a write interval after the last change: what a SIGKILL may lose is gone by now.
        if (signal === 'SIGKILL') await new Promise((resolve) => setTimeout(resolve, 1_000));
        await stop(first, signal);

        const second = await startProcess(redis.url(0), storeUrl);
        const back = await tasksOf(second.url);
        assert.equal(back.length, 40);
        const states = new Map(back.map((t) => [t.uuid, t.state]));
        for (const task of before) assert.equal(states.get(task.uuid), task.state, `${task.uuid} (${task.name})`);
        await stop(second, 'SIGTERM');
      });
    }
  }
});
