/**
 * A real Celery canvas — chain → group → chord — renders as a DAG with the right edges, live.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { applyCanvas, runCeleryPython } from '../test/helpers/celery';
import { getJson, waitFor } from '../test/helpers/celeriac';
import { screenshot } from './browser';
import { useE2e } from './fixture';

const TIMEOUT = 30_000;

interface WorkflowBody {
  nodes: { uuid: string; name: string; state: string; parent_id: string | null }[];
  edges: { from: string; to: string }[];
}

describe('workflow page (real canvas, Redis)', { timeout: 180_000 }, () => {
  // The worker's result backend is db 1 of the same redis-server, known only once that runs.
  const e2e = useE2e({ page: { viewport: { width: 1280, height: 900 } } }, (setup) =>
    setup.startWorker({ nodeName: 'e2e-flow@celeriac', concurrency: 2, sendEvents: true, env: { CELERY_RESULT_BACKEND: setup.redis.url(1) } }),
  );
  let rootId = '';

  it('renders chain → group → chord with the edges Celery created, coloured by live state', async () => {
    rootId = await applyCanvas(e2e.redis.url(0), [
      'from celery import chain, chord, group',
      'from tasks import app, add, tsum',
      `app.conf.result_backend = '${e2e.redis.url(1)}'`,
      // add(1,1) then a group of three adds that each get its result, then a chord over two adds.
      'first = add.s(1, 1)',
      'r = chain(first, group(add.s(10), add.s(20), add.s(30)), tsum.s()).apply_async()',
    ]);
    const body = await waitFor(
      'the whole canvas ran',
      async () => {
        const res = await getJson<WorkflowBody>(e2e.celeriac.url, `/api/celeriac/workflow/${rootId}`);
        return res.status === 200 && res.body.nodes.length >= 5 && res.body.nodes.every((n) => n.state === 'SUCCESS') ? res.body : null;
      },
      TIMEOUT,
    );
    const first = body.nodes.find((n) => n.uuid === rootId);
    assert.equal(first?.name, 'tasks.add');
    const groupMembers = body.nodes.filter((n) => n.parent_id === rootId && n.name === 'tasks.add');
    assert.equal(groupMembers.length, 3, 'the group members are children of the first link');
    const callback = body.nodes.find((n) => n.name === 'tasks.tsum');
    assert.ok(callback, 'the chord callback is in the workflow');
    assert.ok(callback.parent_id !== null && body.nodes.some((n) => n.uuid === callback.parent_id), 'and linked to the task that applied it');

    await e2e.page.goto(`${e2e.celeriac.url}/workflow/${rootId}`);
    const nodes = e2e.page.getByTestId('workflow-node');
    await nodes.first().waitFor({ timeout: TIMEOUT });
    assert.equal(await nodes.count(), body.nodes.length);
    for (const member of groupMembers) {
      assert.equal(await e2e.page.locator(`[data-testid="workflow-edge"][data-from="${rootId}"][data-to="${member.uuid}"]`).count(), 1);
    }
    assert.equal(await e2e.page.locator('[data-testid="workflow-node"][data-state="SUCCESS"]').count(), body.nodes.length);
    await e2e.page.getByTestId('workflow-search').fill('tsum');
    await screenshot(e2e.page, 'workflow');
  });

  it('folds a large group without hiding a failure deep inside it', async () => {
    // chain(add, chord(13 × chain(add, add, add|fail), tsum)): the 13 chain heads are siblings of
    // one name, so they fold into one node; one chain fails at its third step.
    const root = randomUUID();
    await runCeleryPython(
      e2e.redis.url(0),
      [
        'from celery import chain, chord, group',
        'from tasks import app, add, fail, tsum',
        `app.conf.result_backend = '${e2e.redis.url(1)}'`,
        'chains = [chain(add.s(i), add.s(1), add.s(1)) for i in range(12)]',
        'chains.append(chain(add.s(100), add.s(1), fail.s()))',
        `chain(add.s(1, 1).set(task_id='${root}'), chord(group(chains), tsum.s())).apply_async()`,
      ].join('\n'),
    );
    const body = await waitFor(
      'every step of the 13 chains finished',
      async () => {
        const res = await getJson<WorkflowBody>(e2e.celeriac.url, `/api/celeriac/workflow/${root}`);
        if (res.status !== 200 || res.body.nodes.length < 40) return null;
        return res.body.nodes.every((n) => n.state === 'SUCCESS' || n.state === 'FAILURE') ? res.body : null;
      },
      TIMEOUT,
    );
    assert.equal(body.nodes.length, 40, 'the first link and 13 chains of 3');
    const failed = body.nodes.filter((n) => n.state === 'FAILURE');
    assert.equal(failed.length, 1);
    const failedStep = failed[0] as WorkflowBody['nodes'][number];
    assert.equal(failedStep.name, 'tasks.fail');
    const heads = body.nodes.filter((n) => n.parent_id === root);
    assert.equal(heads.length, 13);
    assert.ok(
      heads.every((n) => n.state === 'SUCCESS'),
      'the failure is two levels below the group members',
    );

    await e2e.page.goto(`${e2e.celeriac.url}/workflow/${root}`);
    const group = e2e.page.locator(`[data-testid="workflow-node"][data-id="${root}:tasks.add"]`);
    await group.waitFor({ timeout: TIMEOUT });
    // Folded: the first link and the group are the only nodes drawn.
    assert.equal(await e2e.page.getByTestId('workflow-node').count(), 2);
    // The group counts everything inside it and takes the failure's colour.
    assert.equal(await group.getAttribute('data-state'), 'FAILURE');
    // What is drawn (the SVG text lines), not the tooltip.
    const text = (await group.locator('text').allTextContents()).join(' | ');
    assert.match(text, /\b1 failed\b/, text);
    assert.match(text, /\b39 tasks\b/, text);
    assert.match(text, /\b38 (succeeded|done)\b/, text);
    const colours = await group.evaluate((node) => {
      const probe = document.createElement('span');
      probe.style.color = 'var(--bad)';
      document.body.appendChild(probe);
      const bad = getComputedStyle(probe).color;
      probe.remove();
      const rect = node.querySelector('rect');
      return { bad, stroke: rect ? getComputedStyle(rect).stroke : '' };
    });
    assert.equal(colours.stroke, colours.bad, 'the folded group is drawn in the failure colour');
    assert.match(await e2e.page.getByTestId('workflow').innerText(), /FAILURE 1/);
    // And it is listed, linked, without unfolding.
    const hidden = e2e.page.getByTestId('workflow-hidden-problem');
    assert.equal(await hidden.count(), 1);
    assert.equal(await hidden.getAttribute('href'), `${process.env.CELERIAC_E2E_PREFIX ?? ''}/task/${failedStep.uuid}`);
    await screenshot(e2e.page, 'workflow-folded-failure');

    // Unfolding shows the failed step itself.
    await group.click();
    await e2e.page.locator(`[data-testid="workflow-node"][data-id="${failedStep.uuid}"][data-state="FAILURE"]`).waitFor({ timeout: TIMEOUT });
    assert.equal(await e2e.page.getByTestId('workflow-node').count(), 40);
  });

  it('is reachable from every task of the workflow', async () => {
    await e2e.page.goto(`${e2e.celeriac.url}/task/${rootId}`);
    await e2e.page.getByTestId('task-workflow-link').click();
    await e2e.page.waitForURL(new RegExp(`/workflow/${rootId}$`), { timeout: TIMEOUT });
    await e2e.page.getByTestId('workflow-node').first().waitFor({ timeout: TIMEOUT });
  });
});
