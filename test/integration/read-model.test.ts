/**
 * One read model: the server-rendered pages (the runtime they read, server/runtime.ts) and the
 * API answer the same question with the same data. Before the read layer the two were written
 * twice and had drifted (the pages' workflow lacked the task timestamps the API returns).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { getRuntime } from '../../server/runtime';
import { startRedisServer } from '../helpers/brokers';
import { applyCanvas, sendTasks, startWorker, type CeleryWorker } from '../helpers/celery';
import { getJson, startTestCeleriac, waitFor } from '../helpers/celeriac';

/** Fields that are the time of asking, not data: equal answers differ only there. */
function withoutClock<T extends { at?: number }>(value: T): Omit<T, 'at'> {
  const { at: _at, ...rest } = value;
  return rest;
}

test('pages and API give the same answers for the same queries', { timeout: 120_000 }, async () => {
  const redis = await startRedisServer();
  const celeriac = await startTestCeleriac(['--broker', redis.url(0)]);
  let worker: CeleryWorker | null = null;
  after(async () => {
    await worker?.kill();
    await celeriac.close();
    await redis.stop();
  });
  worker = await startWorker({ brokerUrl: redis.url(0), nodeName: 'read@model', concurrency: 2, sendEvents: true });
  await waitFor('worker inspected', async () => (await getJson<Record<string, { registered?: unknown }>>(celeriac.url, '/api/workers')).body['read@model']?.registered !== undefined);
  await sendTasks(redis.url(0), [
    { task: 'tasks.add', args: [1, 2] },
    { task: 'tasks.fail', args: ['boom'] },
    { task: 'tasks.echo', args: ['hello'] },
  ]);
  const rootId = await applyCanvas(redis.url(0), ['from celery import chain', 'from tasks import add', 'r = chain(add.s(1, 1), add.s(2)).apply_async()']);
  await waitFor(
    'every task finished',
    async () => {
      const page = await getJson<{ total: number; tasks: { state: string }[] }>(celeriac.url, '/api/celeriac/tasks');
      return page.body.total === 5 && page.body.tasks.every((t) => t.state === 'SUCCESS' || t.state === 'FAILURE');
    },
    30_000,
  );

  const runtime = getRuntime();
  assert.ok(runtime, 'the process registered the pages runtime');

  // The tasks list, unfiltered and with each kind of filter the page sends.
  for (const query of [{}, { state: 'FAILURE' }, { taskname: 'tasks.add', sort_by: '-received' }, { search: 'hello' }, { limit: '2', offset: '1' }, { workername: 'read@model' }] as Record<
    string,
    string
  >[]) {
    const api = await getJson(celeriac.url, `/api/celeriac/tasks?${new URLSearchParams(query).toString()}`);
    assert.equal(api.status, 200);
    assert.deepEqual(await runtime.tasks(query), api.body, `tasks ${JSON.stringify(query)}`);
  }
  // A bad filter is refused by both, with the same message.
  const bad = await getJson<{ error: string }>(celeriac.url, '/api/celeriac/tasks?sort_by=nope');
  assert.equal(bad.status, 400);
  await assert.rejects(runtime.tasks({ sort_by: 'nope' }), (error: Error) => error.message === bad.body.error);

  // One task, with its timeline.
  const tasks = (await getJson<{ tasks: { uuid: string }[] }>(celeriac.url, '/api/celeriac/tasks')).body.tasks;
  for (const { uuid } of tasks) {
    assert.deepEqual(await runtime.task(uuid), (await getJson(celeriac.url, `/api/celeriac/task/${uuid}`)).body, `task ${uuid}`);
  }
  assert.equal(await runtime.task('no-such-task'), null);

  // The workflow, timestamps included (the drift this layer removed).
  const workflow = await runtime.workflow(rootId);
  assert.deepEqual(workflow, (await getJson(celeriac.url, `/api/celeriac/workflow/${rootId}`)).body);
  assert.equal(workflow?.nodes.length, 2);
  assert.ok(
    workflow?.nodes.every((n) => typeof n.succeeded === 'number' && typeof n.received === 'number'),
    'workflow nodes carry their times',
  );

  // The live views: workers, overview, queues (equal but for the time of asking).
  assert.deepEqual(runtime.workersSnapshot(), (await getJson(celeriac.url, '/api/celeriac/workers')).body);
  type Timed = { at: number };
  assert.deepEqual(withoutClock(runtime.overview()), withoutClock((await getJson<Timed>(celeriac.url, '/api/celeriac/overview')).body));
  const worker1 = runtime.worker('read@model');
  assert.ok(worker1?.summary && worker1.inspect, 'the worker page has its row and its inspect data');
  assert.deepEqual(worker1.inspect, (await getJson<Record<string, unknown>>(celeriac.url, '/api/workers?workername=read@model')).body['read@model']);
  assert.deepEqual(
    worker1.summary,
    runtime.workersSnapshot().workers.find((w) => w.hostname === 'read@model'),
  );
  await waitFor('queue lengths polled', async () => (await getJson(celeriac.url, '/api/celeriac/queues')).status === 200);
  assert.deepEqual(withoutClock(runtime.queues()), withoutClock((await getJson<Timed>(celeriac.url, '/api/celeriac/queues')).body));
  // Trends: hourly steps, so the two answers share their window unless an hour turns in between.
  assert.deepEqual(await runtime.trends({ range: '7d', name: 'tasks.add' }), (await getJson(celeriac.url, '/api/celeriac/trends?range=7d&name=tasks.add')).body);
  await assert.rejects(runtime.trends({ range: '2d' }), (error: Error) => /'range'/.test(error.message));
});
