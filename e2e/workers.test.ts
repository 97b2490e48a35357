/**
 * The workers page in a real browser, against Celeriac with real Celery workers on Redis:
 * everything must change live, without a reload.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shutdownRedis } from '../test/helpers/brokers';
import { sendTasks } from '../test/helpers/celery';
import { screenshot } from './browser';
import { useE2e } from './fixture';

const TIMEOUT = 20_000;

describe('workers page (live, real workers, Redis)', { timeout: 180_000 }, () => {
  const e2e = useE2e({ page: { viewport: { width: 1280, height: 800 } }, openLive: '/workers' });

  const row = (hostname: string) => e2e.page.locator(`[data-testid="worker-row"][data-hostname="${hostname}"]`);

  it('shows a new worker online without a reload', async () => {
    assert.equal(await e2e.page.getByTestId('worker-row').count(), 0);
    await e2e.startWorker({ nodeName: 'e2e-one@celeriac', concurrency: 2 });
    await row('e2e-one@celeriac').and(e2e.page.locator('[data-status="online"]')).waitFor({ timeout: TIMEOUT });
    // Queues and pool size come from inspection, which follows the worker's arrival.
    await row('e2e-one@celeriac').locator('[data-testid="worker-queues"]', { hasText: 'celery' }).waitFor({ timeout: TIMEOUT });
    await row('e2e-one@celeriac').locator('[data-testid="worker-pool"][data-value="2"]').waitFor({ timeout: TIMEOUT });
    await screenshot(e2e.page, 'workers-online');
  });

  it('updates task counters live as the worker runs tasks', async () => {
    // The worker runs without -E: Celeriac's enable_events broadcast turns task events on within 5 s.
    const deadline = Date.now() + 30_000;
    let sent = 0;
    for (;;) {
      await sendTasks(e2e.redis.url(0), [
        { task: 'tasks.add', args: [1, 2] },
        { task: 'tasks.add', args: [3, 4] },
        { task: 'tasks.fail', args: ['boom'] },
      ]);
      sent++;
      try {
        await row('e2e-one@celeriac').locator('[data-testid="worker-failed"][data-value="1"]').waitFor({ timeout: 3_000 });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
    // Tasks that ran before events were enabled are unseen; the page must agree with the model.
    const r = row('e2e-one@celeriac');
    const worker = encodeURIComponent('e2e-one@celeriac');
    const count = async (state: string): Promise<number> => Object.keys((await (await fetch(`${e2e.celeriac.url}/api/tasks?workername=${worker}&state=${state}`)).json()) as object).length;
    const succeeded = await count('SUCCESS');
    const failed = await count('FAILURE');
    assert.ok(succeeded >= 2 && failed >= 1, `succeeded ${succeeded}, failed ${failed}`);
    await r.locator(`[data-testid="worker-succeeded"][data-value="${succeeded}"]`).waitFor({ timeout: TIMEOUT });
    await r.locator(`[data-testid="worker-failed"][data-value="${failed}"]`).waitFor({ timeout: TIMEOUT });
    await r.locator(`[data-testid="worker-processed"][data-value="${succeeded + failed}"]`).waitFor({ timeout: TIMEOUT });
    assert.ok(sent >= 1);
    await screenshot(e2e.page, 'workers-counters');
  });

  it('renders hostile worker names as text', async () => {
    const name = '<img src=x onerror="window.__pwned=1">@e2e';
    const worker = await e2e.startWorker({ nodeName: name });
    const evil = e2e.page.locator('[data-testid="worker-row"]').filter({ hasText: '<img src=x' });
    await evil.waitFor({ timeout: TIMEOUT });
    assert.equal(await e2e.page.evaluate(() => (window as { __pwned?: number }).__pwned), undefined);
    assert.equal(await e2e.page.locator('[data-testid="workers-table"] img').count(), 0);
    await worker.stop();
  });

  it('turns a SIGKILLed worker offline without any event', async () => {
    const worker = await e2e.startWorker({ nodeName: 'e2e-killed@celeriac', heartbeatInterval: 1 });
    await row('e2e-killed@celeriac').and(e2e.page.locator('[data-status="online"]')).waitFor({ timeout: TIMEOUT });
    await worker.kill();
    await row('e2e-killed@celeriac').and(e2e.page.locator('[data-status="offline"]')).waitFor({ timeout: TIMEOUT });
  });

  it('shows a banner while the broker is down, and clears it when it is back', async () => {
    await shutdownRedis(e2e.redis);
    await e2e.page.getByTestId('stream-banner').waitFor({ state: 'visible', timeout: TIMEOUT });
    await screenshot(e2e.page, 'workers-broker-down');
    await e2e.redis.restart();
    await e2e.page.getByTestId('stream-banner').waitFor({ state: 'detached', timeout: 30_000 });
    await row('e2e-one@celeriac').and(e2e.page.locator('[data-status="online"]')).waitFor({ timeout: 30_000 });
    await screenshot(e2e.page, 'workers-after-broker-restart');
  });

  it('renders from the server without JavaScript', async () => {
    const context = await e2e.browser.newContext({ javaScriptEnabled: false });
    const plain = await context.newPage();
    await plain.goto(`${e2e.celeriac.url}/workers`);
    assert.ok((await plain.locator('[data-testid="worker-row"][data-hostname="e2e-one@celeriac"]').count()) === 1);
    await context.close();
  });
});
