/**
 * History beyond memory, with real Celery workers: Celeriac retains only 4 tasks in memory
 * (--max-tasks 4) while a worker runs 14, a chain among them. Every list, filter, search, task
 * page, workflow and task name still covers all 14, because the read model answers history from
 * the store — on SQLite and on PostgreSQL, and again after a restart.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { RunningCeleriac } from '../../server/server';
import type { CeleriacStatus, FlowerTaskDict, TaskDetail, TaskRow, WorkflowView } from '../../server/views/types';
import type { PrivateRedisServer } from '../helpers/brokers';
import { applyCanvas, sendTasks } from '../helpers/celery';
import { getJson, startTestCeleriac, waitFor } from '../helpers/celeriac';
import { TEST_STORES } from '../helpers/postgres';
import { TestResources } from '../helpers/resources';

interface Page {
  total: number;
  tasks: TaskRow[];
}

const resources = new TestResources();
after(() => resources.stopAll());

const FINISHED = new Set(['SUCCESS', 'FAILURE']);

describe('history beyond memory (real workers)', { timeout: 240_000 }, () => {
  let redis: PrivateRedisServer;

  it('starts a broker and a worker', async () => {
    redis = await resources.redis();
    await resources.worker({ brokerUrl: redis.url(0), nodeName: 'history@beyond', concurrency: 2, sendEvents: true });
  });

  for (const store of TEST_STORES) {
    it(`${store.name}: lists, filters, search, task pages and workflows cover tasks memory no longer holds`, async () => {
      const args = ['--broker', redis.url(0), '--store', await store.url(resources), '--max-tasks', '4'];
      let celeriac: RunningCeleriac = await startTestCeleriac(args);
      try {
        await waitFor('worker online', async () => (await getJson<Record<string, boolean>>(celeriac.url, '/api/workers?status=1')).body['history@beyond'] === true);
        const rootId = await applyCanvas(redis.url(0), ['from celery import chain', 'from tasks import add', 'r = chain(add.s(1, 1), add.s(10), add.s(100)).apply_async()']);
        const sent = await sendTasks(redis.url(0), [
          ...Array.from({ length: 8 }, (_, i) => ({ task: 'tasks.add', args: [i, 1000] })),
          { task: 'tasks.fail', args: ['needle-in-history'] },
          { task: 'tasks.fail', args: ['second failure'] },
          { task: 'tasks.echo', args: [{ colour: 'teal' }] },
        ]);
        const firstAdd = sent[0] ?? '';
        const check = async (label: string): Promise<void> => {
          const all = await waitFor(
            `${label}: 14 tasks finished`,
            async () => {
              const page = (await getJson<Page>(celeriac.url, '/api/celeriac/tasks?limit=100')).body;
              return page.total === 14 && page.tasks.every((t) => FINISHED.has(t.state)) ? page : null;
            },
            60_000,
          );
          assert.equal(all.tasks.length, 14, `${label}: the page holds every stored task`);
          const status = (await getJson<CeleriacStatus>(celeriac.url, '/api/celeriac/status')).body;
          assert.ok(status.state.tasks <= 4, `${label}: memory retains at most 4 tasks (${status.state.tasks})`);

          // Flower's /api/tasks with its filters, over the store.
          const failures = (await getJson<Record<string, FlowerTaskDict>>(celeriac.url, '/api/tasks?state=FAILURE')).body;
          assert.deepEqual(
            Object.values(failures).map((t) => t.state),
            ['FAILURE', 'FAILURE'],
            label,
          );
          const adds = (await getJson<Record<string, FlowerTaskDict>>(celeriac.url, '/api/tasks?taskname=tasks.add&limit=50')).body;
          assert.equal(Object.keys(adds).length, 11, `${label}: 8 adds and the chain's 3`);
          // Search in the store: Flower's query language, args and free text.
          const found = (await getJson<Page>(celeriac.url, `/api/celeriac/tasks?search=${encodeURIComponent('args:needle-in')}`)).body;
          assert.deepEqual(
            found.tasks.map((t) => t.args),
            ["['needle-in-history']"],
            label,
          );
          const teal = (await getJson<Page>(celeriac.url, `/api/celeriac/tasks?search=${encodeURIComponent('kwargs:colour=teal OR teal')}`)).body;
          assert.equal(teal.total, 1, `${label}: free text finds the echo's argument`);
          // Paging is exact over the store, with the total.
          const pages = [0, 5, 10].map((offset) => getJson<Page>(celeriac.url, `/api/celeriac/tasks?limit=5&offset=${offset}&sort_by=received`));
          const uuids = (await Promise.all(pages)).flatMap((p) => p.body.tasks.map((t) => t.uuid));
          assert.equal(new Set(uuids).size, 14, `${label}: three pages hold each task once`);

          // One task memory evicted long ago: its page, Flower's task info, its result.
          const detail = (await getJson<TaskDetail>(celeriac.url, `/api/celeriac/task/${firstAdd}`)).body;
          assert.deepEqual([detail.state, detail.result], ['SUCCESS', '1000'], label);
          const info = await getJson<FlowerTaskDict>(celeriac.url, `/api/task/info/${firstAdd}`);
          assert.equal(info.status, 200, label);
          // The chain: every member and its edges, and the root's children.
          const workflow = (await getJson<WorkflowView>(celeriac.url, `/api/celeriac/workflow/${rootId}`)).body;
          assert.equal(workflow.nodes.length, 3, label);
          assert.equal(workflow.edges.length, 2, label);
          const root = (await getJson<TaskDetail>(celeriac.url, `/api/celeriac/task/${rootId}`)).body;
          assert.equal(root.children.length, 1, `${label}: the root's child is known from the store`);
          // Export: the list's filter as CSV and NDJSON, every stored task it matches.
          const csv = await fetch(`${celeriac.url}/api/celeriac/tasks/export?format=csv&state=FAILURE&sort_by=received`);
          assert.equal(csv.status, 200, label);
          assert.match(csv.headers.get('content-disposition') ?? '', /attachment; filename="celeriac-tasks-.*\.csv"/);
          const lines = (await csv.text()).trimEnd().split('\r\n');
          assert.equal(lines[0]?.split(',')[0], 'uuid', label);
          assert.equal(lines.length, 3, `${label}: a header and the two failures`);
          assert.ok(
            lines.some((line) => line.includes("['needle-in-history']")),
            label,
          );
          const ndjson = await fetch(`${celeriac.url}/api/celeriac/tasks/export?format=ndjson&search=${encodeURIComponent('name:tasks.add')}`);
          const exported = (await ndjson.text())
            .trimEnd()
            .split('\n')
            .map((line) => JSON.parse(line) as { uuid: string; name: string });
          assert.equal(exported.length, 11, `${label}: every stored add, memory holding 4`);
          assert.ok(exported.every((t) => t.name === 'tasks.add'));
          assert.equal((await fetch(`${celeriac.url}/api/celeriac/tasks/export?format=xml`)).status, 400);
          const types = (await getJson<{ 'task-types': string[] }>(celeriac.url, '/api/task/types')).body;
          assert.deepEqual(types['task-types'], ['tasks.add', 'tasks.echo', 'tasks.fail'], label);
        };
        await check('running');
        await celeriac.close();
        celeriac = await startTestCeleriac(args);
        await check('after a restart');
      } finally {
        await celeriac.close();
      }
    });
  }
});
