/**
 * A real Celery canvas — chain → group → chord — renders as a DAG with the right edges, live.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { RunningCeleriac } from '../server/server';
import { startRedisServer, type PrivateRedisServer } from '../test/helpers/brokers';
import { runCeleryPython, startWorker, type CeleryWorker } from '../test/helpers/celery';
import { getJson, startTestCeleriac, waitFor } from '../test/helpers/celeriac';
import { launchBrowser, screenshot } from './browser';

const TIMEOUT = 30_000;
const prefixArgs = process.env.CELERIAC_E2E_PREFIX ? ['--url-prefix', process.env.CELERIAC_E2E_PREFIX] : [];

interface WorkflowBody { nodes: { uuid: string; name: string; state: string; parent_id: string | null }[]; edges: { from: string; to: string }[] }

describe('workflow page (real canvas, Redis)', { timeout: 180_000 }, () => {
  let redis: PrivateRedisServer;
  let celeriac: RunningCeleriac;
  let browser: Browser;
  let page: Page;
  let worker: CeleryWorker;
  let rootId = '';

  before(async () => {
    redis = await startRedisServer();
    celeriac = await startTestCeleriac(['--broker', redis.url(0), ...prefixArgs], { ui: true });
    worker = await startWorker({ brokerUrl: redis.url(0), nodeName: 'e2e-flow@celeriac', concurrency: 2, sendEvents: true, env: { CELERY_RESULT_BACKEND: redis.url(1) } });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  after(async () => {
    await worker?.kill();
    await browser?.close();
    await celeriac?.close();
    await redis?.stop();
  });

  it('renders chain → group → chord with the edges Celery created, coloured by live state', async () => {
    const out = await runCeleryPython(redis.url(0), [
      'from celery import chain, chord, group',
      'from tasks import app, add, tsum',
      `app.conf.result_backend = '${redis.url(1)}'`,
      // add(1,1) then a group of three adds that each get its result, then a chord over two adds.
      'first = add.s(1, 1)',
      'r = chain(first, group(add.s(10), add.s(20), add.s(30)), tsum.s()).apply_async()',
      'root = r',
      'while root.parent is not None: root = root.parent',
      'print(root.id)',
    ].join('\n'));
    rootId = out.trim().split('\n').pop() as string;
    const body = await waitFor('the whole canvas ran', async () => {
      const res = await getJson<WorkflowBody>(celeriac.url, `/api/celeriac/workflow/${rootId}`);
      return res.status === 200 && res.body.nodes.length >= 5 && res.body.nodes.every((n) => n.state === 'SUCCESS') ? res.body : null;
    }, TIMEOUT);
    const first = body.nodes.find((n) => n.uuid === rootId);
    assert.equal(first?.name, 'tasks.add');
    const groupMembers = body.nodes.filter((n) => n.parent_id === rootId && n.name === 'tasks.add');
    assert.equal(groupMembers.length, 3, 'the group members are children of the first link');
    const callback = body.nodes.find((n) => n.name === 'tasks.tsum');
    assert.ok(callback, 'the chord callback is in the workflow');
    assert.ok(callback.parent_id !== null && body.nodes.some((n) => n.uuid === callback.parent_id), 'and linked to the task that applied it');

    await page.goto(`${celeriac.url}/workflow/${rootId}`);
    const nodes = page.getByTestId('workflow-node');
    await nodes.first().waitFor({ timeout: TIMEOUT });
    assert.equal(await nodes.count(), body.nodes.length);
    for (const member of groupMembers) {
      assert.equal(await page.locator(`[data-testid="workflow-edge"][data-from="${rootId}"][data-to="${member.uuid}"]`).count(), 1);
    }
    assert.equal(await page.locator('[data-testid="workflow-node"][data-state="SUCCESS"]').count(), body.nodes.length);
    await page.getByTestId('workflow-search').fill('tsum');
    await screenshot(page, 'workflow');
  });

  it('is reachable from every task of the workflow', async () => {
    await page.goto(`${celeriac.url}/task/${rootId}`);
    await page.getByTestId('task-workflow-link').click();
    await page.waitForURL(new RegExp(`/workflow/${rootId}$`), { timeout: TIMEOUT });
    await page.getByTestId('workflow-node').first().waitFor({ timeout: TIMEOUT });
  });
});
