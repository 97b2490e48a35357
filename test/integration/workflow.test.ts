/**
 * Workflows from real Celery canvases: a chain's links are parent → child edges under one root,
 * and the workflow route returns that DAG for any task in it.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { applyCanvas } from '../helpers/celery';
import { getJson, waitFor } from '../helpers/celeriac';
import { TestResources } from '../helpers/resources';

interface Workflow {
  root: string;
  truncated: boolean;
  nodes: { uuid: string; name: string; state: string; parent_id: string | null }[];
  edges: { from: string; to: string }[];
}

test('a real chain becomes a DAG with the right edges', { timeout: 120_000 }, async () => {
  const resources = new TestResources();
  after(() => resources.stopAll());
  const redis = await resources.redis();
  const celeriac = await resources.celeriac(['--broker', redis.url(0)]);
  await resources.worker({ brokerUrl: redis.url(0), nodeName: 'flow@wf', concurrency: 2, sendEvents: true });
  await waitFor('worker online', async () => (await getJson<Record<string, boolean>>(celeriac.url, '/api/workers?status=1')).body['flow@wf'] === true);
  // chain(add(1, 1) | add(2) | add(3)): each link is sent by the task before it.
  const rootId = await applyCanvas(redis.url(0), ['from celery import chain', 'from tasks import add', 'r = chain(add.s(1, 1), add.s(2), add.s(3)).apply_async()']);
  const workflow = await waitFor(
    'three links succeeded',
    async () => {
      const res = await getJson<Workflow>(celeriac.url, `/api/celeriac/workflow/${rootId}`);
      return res.status === 200 && res.body.nodes.length === 3 && res.body.nodes.every((n) => n.state === 'SUCCESS') ? res.body : null;
    },
    30_000,
  );
  assert.equal(workflow.root, rootId);
  assert.equal(workflow.truncated, false);
  const [first, second, third] = workflow.nodes;
  assert.equal(first?.uuid, rootId);
  assert.deepEqual(workflow.edges, [
    { from: first?.uuid, to: second?.uuid },
    { from: second?.uuid, to: third?.uuid },
  ]);
  // Any member leads to the same workflow.
  const fromLeaf = await getJson<Workflow>(celeriac.url, `/api/celeriac/workflow/${third?.uuid}`);
  assert.equal(fromLeaf.body.root, rootId);
  assert.equal((await getJson(celeriac.url, '/api/celeriac/workflow/nope')).status, 404);
  assert.equal((await getJson(celeriac.url, `/api/celeriac/workflow/${rootId}?limit=0`)).status, 400);
});
