/**
 * The worker page with a real worker: pausing it from its page makes its queue length grow on
 * the queues page, resuming drains it; pool controls show the worker's answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { RunningCeleriac } from '../server/server';
import type { PrivateRedisServer } from '../test/helpers/brokers';
import { sendTasks } from '../test/helpers/celery';
import { waitFor } from '../test/helpers/celeriac';
import { screenshot } from './browser';
import { startE2e, startE2eCeleriac, type E2eSetup } from './fixture';

const TIMEOUT = 20_000;
const NAME = 'e2e-detail@celeriac';

describe('worker page (real worker, Redis)', { timeout: 180_000 }, () => {
  let e2e: E2eSetup;
  let redis: PrivateRedisServer;
  let celeriac: RunningCeleriac;
  let browser: Browser;
  let page: Page;

  before(async () => {
    e2e = await startE2e({
      celeriacArgs: ['--queue-poll-interval', '0.5'],
      worker: { nodeName: NAME, concurrency: 2, sendEvents: true },
      page: { viewport: { width: 1280, height: 900 } },
    });
    ({ redis, celeriac, browser, page } = e2e);
    await waitFor('worker inspected', async () => Boolean(celeriac.monitor.inspector.get(NAME)?.stats));
  });

  after(() => e2e?.stop());

  it('opens from the workers list and shows Flower’s tabs with inspect data', async () => {
    await page.goto(`${celeriac.url}/workers`);
    await page.locator(`[data-testid="worker-row"][data-hostname="${NAME}"] [data-testid="worker-link"]`).click();
    await page.getByTestId('worker-name').filter({ hasText: NAME }).waitFor({ timeout: TIMEOUT });
    await page.getByTestId('worker-pool').getByText('max-concurrency').waitFor({ timeout: TIMEOUT });
    await page.getByTestId('worker-tab-queues').click();
    await page.getByTestId('worker-queues').getByText('celery').first().waitFor({ timeout: TIMEOUT });
    await page.getByTestId('worker-tab-limits').click();
    await page.getByTestId('worker-registered').getByText('tasks.add').waitFor({ timeout: TIMEOUT });
    await screenshot(page, 'worker-page');
  });

  it('pool grow is confirmed and shows the worker’s answer', async () => {
    await page.getByTestId('pool-grow').click();
    await page.getByTestId('confirm-action').waitFor({ timeout: TIMEOUT });
    await page.getByTestId('confirm-yes').click();
    const outcome = page.getByTestId('action-outcome');
    await outcome.filter({ hasText: 'pool will grow' }).waitFor({ timeout: TIMEOUT });
    assert.equal(await outcome.getAttribute('data-ok'), 'true');
  });

  it('pausing from the worker page makes the queue grow on the queues page; resuming drains it', async () => {
    await page.getByTestId('worker-pause').click();
    await page.getByTestId('confirm-yes').click();
    await page.getByTestId('worker-paused').waitFor({ timeout: TIMEOUT });
    await sendTasks(redis.url(0), [{ task: 'tasks.add', args: [1, 1] }, { task: 'tasks.add', args: [2, 2] }, { task: 'tasks.add', args: [3, 3] }]);
    const queues = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await queues.goto(`${celeriac.url}/queues`);
    const celeryRow = queues.locator('[data-testid="queue-row"][data-queue="celery"]');
    await celeryRow.and(queues.locator('[data-messages="3"]')).waitFor({ timeout: TIMEOUT });
    await screenshot(queues, 'queues-while-worker-paused');
    await page.getByTestId('worker-resume').click();
    await page.getByTestId('confirm-yes').click();
    await celeryRow.and(queues.locator('[data-messages="0"]')).waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('worker-paused').count(), 0);
    await queues.close();
  });

  it('hides every control in read-only mode', async () => {
    const readOnly = await startE2eCeleriac(['--broker', redis.url(0), '--read-only']);
    try {
      await waitFor('worker known to the read-only instance', async () => readOnly.monitor.state.workers.get(NAME) !== undefined);
      const ro = await browser.newPage();
      await ro.goto(`${readOnly.url}/worker/${encodeURIComponent(NAME)}`);
      await ro.getByTestId('worker-name').waitFor({ timeout: TIMEOUT });
      assert.equal(await ro.getByTestId('worker-controls').count(), 0);
      await ro.close();
    } finally {
      await readOnly.close();
    }
  });
});
