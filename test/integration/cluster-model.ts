/**
 * The end-to-end scenario of issue 2, run once per broker by cluster-redis.test.ts and
 * cluster-amqp.test.ts: real Celery workers, real broker, Celeriac's HTTP API as the only
 * window into Celeriac.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { FlowerTaskDict } from '../../server/state/task-record';
import type { WorkerSummary, WorkersSnapshot } from '../../server/realtime/types';
import type { RunningCeleriac } from '../../server/server';
import { sendTasks, startWorker, type CeleryWorker, type TaskSpec } from '../helpers/celery';
import { getJson, startTestCeleriac, waitFor } from '../helpers/celeriac';

export interface BrokerUnderTest {
  url: string;
  /** Make the broker unreachable (stop it); `resume` brings it back. */
  interrupt(): Promise<void>;
  resume(): Promise<void>;
}

type TaskMap = Record<string, FlowerTaskDict>;

async function tasks(base: string, query = ''): Promise<TaskMap> {
  const res = await getJson<TaskMap>(base, `/api/tasks${query}`);
  assert.equal(res.status, 200, `GET /api/tasks${query} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function workerRow(base: string, hostname: string): Promise<WorkerSummary | undefined> {
  const res = await getJson<WorkersSnapshot>(base, '/api/celeriac/workers');
  return res.body.workers.find((w) => w.hostname === hostname);
}

async function waitForStates(base: string, ids: string[], states: readonly string[], timeoutMs = 30_000): Promise<TaskMap> {
  return waitFor(
    `tasks ${ids.length} to reach ${states.join('/')}`,
    async () => {
      const all = await tasks(base);
      return ids.every((id) => all[id] && states.includes(all[id].state)) ? all : null;
    },
    timeoutMs,
  );
}

/**
 * The worker starts without -E: Celeriac's periodic enable_events must switch its task events
 * on. Probe with a tiny task until one is seen finishing.
 */
async function waitForTaskEvents(base: string, brokerUrl: string): Promise<void> {
  await waitFor(
    'task events from the worker (enable_events broadcast)',
    async () => {
      const [id] = await sendTasks(brokerUrl, [{ task: 'tasks.add', args: [0, 0] }]);
      try {
        await waitForStates(base, [id as string], ['SUCCESS'], 3_000);
        return true;
      } catch {
        return false;
      }
    },
    30_000,
    0,
  );
}

export async function runClusterScenario(broker: BrokerUnderTest, label: string, t: { after(fn: () => Promise<void>): void }): Promise<void> {
  const celeriac: RunningCeleriac = await startTestCeleriac(['--broker', broker.url]);
  const workers: CeleryWorker[] = [];
  t.after(async () => {
    await Promise.allSettled(workers.map((w) => w.kill()));
    await celeriac.close();
  });
  const base = celeriac.url;

  await waitFor('event stream connected', async () => (await getJson(base, '/healthcheck')).status === 200);
  assert.equal((await getJson(base, '/healthcheck')).body, 'OK');

  const w1Name = `w1-${label}@celeriac-test`;
  const w1 = await startWorker({ brokerUrl: broker.url, nodeName: w1Name, concurrency: 2 });
  workers.push(w1);
  await waitFor('w1 online', async () => (await workerRow(base, w1Name))?.status === 'online');
  await waitForTaskEvents(base, broker.url);

  // The workload: known ids so every assertion is exact.
  const ids: { add: string[]; fail: string[]; retry: string; sleep: string } = {
    add: [randomUUID(), randomUUID(), randomUUID()],
    fail: [randomUUID(), randomUUID()],
    retry: randomUUID(),
    sleep: randomUUID(),
  };
  const specs: TaskSpec[] = [
    ...ids.add.map((id, i) => ({ task: 'tasks.add', args: [2, i], id })),
    ...ids.fail.map((id) => ({ task: 'tasks.fail', args: ['boom'], id })),
    { task: 'tasks.retry_then_fail', kwargs: { max_retries: 2 }, id: ids.retry },
    { task: 'tasks.sleep', args: [0.5], id: ids.sleep },
  ];
  await sendTasks(broker.url, specs);
  const all = await waitForStates(base, [...ids.add, ...ids.fail, ids.retry, ids.sleep], ['SUCCESS', 'FAILURE']);

  // Successes: name, args, result, runtime, worker.
  ids.add.forEach((id, i) => {
    const task = all[id] as FlowerTaskDict;
    assert.equal(task.state, 'SUCCESS');
    assert.equal(task.name, 'tasks.add');
    assert.equal(task.args, `[2, ${i}]`);
    assert.equal(task.kwargs, '{}');
    assert.equal(task.result, String(2 + i));
    assert.equal(task.worker, w1Name);
    assert.equal(task.retries, 0);
    assert.ok(typeof task.runtime === 'number' && task.runtime >= 0);
    assert.ok(task.received !== null && task.started !== null && task.succeeded !== null);
    assert.equal(task.exception, null);
    assert.equal(task.root_id, id);
  });
  const sleepTask = all[ids.sleep] as FlowerTaskDict;
  assert.equal(sleepTask.result, '0.5');
  assert.ok((sleepTask.runtime ?? 0) >= 0.5, `sleep runtime ${sleepTask.runtime}`);

  // Failures: exception and traceback.
  for (const id of ids.fail) {
    const task = all[id] as FlowerTaskDict;
    assert.equal(task.state, 'FAILURE');
    assert.equal(task.exception, "ValueError('boom')");
    assert.match(task.traceback ?? '', /ValueError: boom/);
    assert.equal(task.result, null);
  }
  // Retry then fail: the same task id, retried twice, failed on the last attempt.
  const retried = all[ids.retry] as FlowerTaskDict;
  assert.equal(retried.state, 'FAILURE');
  assert.equal(retried.retries, 2);
  assert.ok(retried.retried !== null);
  assert.equal(retried.exception, "RuntimeError('gave up')");
  assert.equal(retried.kwargs, "{'max_retries': 2}");

  // Exact counts per state through the filters.
  const workload = new Set([...ids.add, ...ids.fail, ids.retry, ids.sleep]);
  const countIn = (map: TaskMap): number => Object.keys(map).filter((id) => workload.has(id)).length;
  assert.equal(countIn(await tasks(base, '?state=SUCCESS')), 4);
  assert.equal(countIn(await tasks(base, '?state=FAILURE')), 3);
  assert.equal(countIn(await tasks(base, '?taskname=tasks.fail')), 2);
  assert.equal(countIn(await tasks(base, `?workername=${encodeURIComponent(w1Name)}&taskname=tasks.add`)), 3);
  assert.equal(countIn(await tasks(base, '?search=state:FAILURE%20name:tasks.retry_then_fail')), 1);
  const limited = await tasks(base, '?limit=2&sort_by=-received');
  assert.equal(Object.keys(limited).length, 2);

  // Task info, types, workers.
  const info = await getJson<FlowerTaskDict>(base, `/api/task/info/${ids.fail[0]}`);
  assert.equal(info.status, 200);
  assert.equal(info.body.uuid, ids.fail[0]);
  assert.equal(info.body.state, 'FAILURE');
  assert.equal((await getJson(base, `/api/task/info/${randomUUID()}`)).status, 404);
  const types = await getJson<{ 'task-types': string[] }>(base, '/api/task/types');
  for (const name of ['tasks.add', 'tasks.fail', 'tasks.retry_then_fail', 'tasks.sleep']) assert.ok(types.body['task-types'].includes(name), name);
  assert.deepEqual((await getJson(base, '/api/tasks/types')).body, types.body);
  assert.deepEqual((await getJson(base, '/api/workers?status=1')).body, { [w1Name]: true });

  // Per-worker counters agree with what ran (probes included: count SUCCESS from the API).
  const succeededOnW1 = Object.values(await tasks(base, `?workername=${encodeURIComponent(w1Name)}&state=SUCCESS`)).length;
  await waitFor(
    'worker counters',
    async () => {
      const row = await workerRow(base, w1Name);
      return row && row.succeeded === succeededOnW1 && row.failed === 3 && row.retried === 2;
    },
    5_000,
  );

  // A worker stopped cleanly is offline at once (worker-offline).
  await w1.stop();
  await waitFor('w1 offline after warm shutdown', async () => (await workerRow(base, w1Name))?.status === 'offline', 5_000);
  assert.deepEqual((await getJson(base, '/api/workers?status=1')).body, { [w1Name]: false });

  // A worker killed with SIGKILL sends nothing: offline within freq × 2 plus a small margin.
  const w2Name = `w2-${label}@celeriac-test`;
  const w2 = await startWorker({ brokerUrl: broker.url, nodeName: w2Name, heartbeatInterval: 1 });
  workers.push(w2);
  await waitFor('w2 online', async () => (await workerRow(base, w2Name))?.status === 'online');
  await waitFor('w2 heartbeat freq known', async () => (await workerRow(base, w2Name))?.freq === 1);
  await w2.kill();
  const killedAt = Date.now();
  await waitFor('w2 offline after SIGKILL', async () => (await workerRow(base, w2Name))?.status === 'offline', 10_000, 100);
  const offlineAfterMs = Date.now() - killedAt;
  assert.ok(offlineAfterMs <= 2 * 1000 + 1_500, `SIGKILLed worker took ${offlineAfterMs} ms to show offline (freq 1 s)`);

  // Broker restart mid-run: health turns 503 with a reason, then recovers; new events count.
  const w3Name = `w3-${label}@celeriac-test`;
  const w3 = await startWorker({ brokerUrl: broker.url, nodeName: w3Name, sendEvents: true });
  workers.push(w3);
  await waitFor('w3 online', async () => (await workerRow(base, w3Name))?.status === 'online');
  await broker.interrupt();
  const down = await waitFor(
    'healthcheck 503 while the broker is down',
    async () => {
      const res = await getJson<string>(base, '/healthcheck');
      return res.status === 503 ? res : null;
    },
    20_000,
  );
  assert.match(String(down.body), /event stream down since/);
  const snapshot = await getJson<WorkersSnapshot>(base, '/api/celeriac/workers');
  assert.equal(snapshot.body.stream.connected, false);
  await broker.resume();
  await waitFor('healthcheck 200 after the broker is back', async () => (await getJson(base, '/healthcheck')).status === 200, 60_000);
  const afterIds = [randomUUID(), randomUUID()];
  // The worker reconnects on its own schedule; retry sending until the broker takes the message.
  await waitFor(
    'tasks accepted after the restart',
    async () => {
      await sendTasks(
        broker.url,
        afterIds.map((id) => ({ task: 'tasks.add', args: [1, 1], id })),
      );
      return true;
    },
    30_000,
    1_000,
  );
  const after = await waitForStates(base, afterIds, ['SUCCESS'], 60_000);
  for (const id of afterIds) assert.equal(after[id]?.worker, w3Name);

  const status = await getJson<{ events: { droppedTotal: number }; stream: { connects: number } }>(base, '/api/celeriac/status');
  assert.equal(status.body.events.droppedTotal, 0, 'real Celery traffic must decode without a single drop');
  assert.ok(status.body.stream.connects >= 2, 'the transport reconnected');
}
