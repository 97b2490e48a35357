/**
 * The worker page with a real worker: pausing it from its page makes its queue length grow on
 * the queues page, resuming drains it; pool controls show the worker's answer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sendTasks } from '../test/helpers/celery';
import { waitFor } from '../test/helpers/celeriac';
import { screenshot } from './browser';
import { startE2eCeleriac, useE2e } from './fixture';

const TIMEOUT = 20_000;
const NAME = 'e2e-detail@celeriac';

describe('worker page (real worker, Redis)', { timeout: 180_000 }, () => {
  const e2e = useE2e(
    {
      celeriacArgs: ['--queue-poll-interval', '0.5'],
      worker: { nodeName: NAME, concurrency: 2, sendEvents: true },
      page: { viewport: { width: 1280, height: 900 } },
    },
    (setup) => waitFor('worker inspected', async () => Boolean(setup.celeriac.monitor.inspector.get(NAME)?.stats)),
  );

  it('opens from the workers list and shows Flower’s tabs with inspect data', async () => {
    await e2e.page.goto(`${e2e.celeriac.url}/workers`);
    await e2e.page.locator(`[data-testid="worker-row"][data-hostname="${NAME}"] [data-testid="worker-link"]`).click();
    await e2e.page.getByTestId('worker-name').filter({ hasText: NAME }).waitFor({ timeout: TIMEOUT });
    await e2e.page.getByTestId('worker-pool').getByText('max-concurrency').waitFor({ timeout: TIMEOUT });
    await e2e.page.getByTestId('worker-tab-queues').click();
    await e2e.page.getByTestId('worker-queues').getByText('celery').first().waitFor({ timeout: TIMEOUT });
    await e2e.page.getByTestId('worker-tab-limits').click();
    await e2e.page.getByTestId('worker-registered').getByText('tasks.add').waitFor({ timeout: TIMEOUT });
    await screenshot(e2e.page, 'worker-page');
  });

  it('pool grow is confirmed and shows the worker’s answer', async () => {
    await e2e.page.getByTestId('pool-grow').click();
    await e2e.page.getByTestId('confirm-action').waitFor({ timeout: TIMEOUT });
    await e2e.page.getByTestId('confirm-yes').click();
    const outcome = e2e.page.getByTestId('action-outcome');
    await outcome.filter({ hasText: 'pool will grow' }).waitFor({ timeout: TIMEOUT });
    assert.equal(await outcome.getAttribute('data-ok'), 'true');
  });

  it('pausing from the worker page makes the queue grow on the queues page; resuming drains it', async () => {
    await e2e.page.getByTestId('worker-pause').click();
    await e2e.page.getByTestId('confirm-yes').click();
    await e2e.page.getByTestId('worker-paused').waitFor({ timeout: TIMEOUT });
    await sendTasks(e2e.redis.url(0), [
      { task: 'tasks.add', args: [1, 1] },
      { task: 'tasks.add', args: [2, 2] },
      { task: 'tasks.add', args: [3, 3] },
    ]);
    const queues = await e2e.browser.newPage({ viewport: { width: 1280, height: 900 } });
    await queues.goto(`${e2e.celeriac.url}/queues`);
    const celeryRow = queues.locator('[data-testid="queue-row"][data-queue="celery"]');
    await celeryRow.and(queues.locator('[data-messages="3"]')).waitFor({ timeout: TIMEOUT });
    await screenshot(queues, 'queues-while-worker-paused');
    await e2e.page.getByTestId('worker-resume').click();
    await e2e.page.getByTestId('confirm-yes').click();
    await celeryRow.and(queues.locator('[data-messages="0"]')).waitFor({ timeout: 30_000 });
    assert.equal(await e2e.page.getByTestId('worker-paused').count(), 0);
    await queues.close();
  });

  it('hides every control in read-only mode', async () => {
    const readOnly = await startE2eCeleriac(['--broker', e2e.redis.url(0), '--read-only']);
    try {
      await waitFor('worker known to the read-only instance', async () => readOnly.monitor.state.workers.get(NAME) !== undefined);
      const ro = await e2e.browser.newPage();
      await ro.goto(`${readOnly.url}/worker/${encodeURIComponent(NAME)}`);
      await ro.getByTestId('worker-name').waitFor({ timeout: TIMEOUT });
      assert.equal(await ro.getByTestId('worker-controls').count(), 0);
      await ro.close();
    } finally {
      await readOnly.close();
    }
  });
});
