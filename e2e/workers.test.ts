/**
 * The workers page in a real browser, against Celeriac with real Celery workers on Redis:
 * everything must change live, without a reload.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { RunningCeleriac } from '../server/server';
import { shutdownRedis, type PrivateRedisServer } from '../test/helpers/brokers';
import { sendTasks } from '../test/helpers/celery';
import { screenshot } from './browser';
import { startE2e, type E2eSetup } from './fixture';

const TIMEOUT = 20_000;

describe('workers page (live, real workers, Redis)', { timeout: 180_000 }, () => {
  let e2e: E2eSetup;
  let redis: PrivateRedisServer;
  let celeriac: RunningCeleriac;
  let browser: Browser;
  let page: Page;

  before(async () => {
    e2e = await startE2e({ page: { viewport: { width: 1280, height: 800 } }, openLive: '/workers' });
    ({ redis, celeriac, browser, page } = e2e);
  });

  after(() => e2e?.stop());

  const row = (hostname: string) => page.locator(`[data-testid="worker-row"][data-hostname="${hostname}"]`);

  it('shows a new worker online without a reload', async () => {
    assert.equal(await page.getByTestId('worker-row').count(), 0);
    await e2e.startWorker({ nodeName: 'e2e-one@celeriac', concurrency: 2 });
    await row('e2e-one@celeriac').and(page.locator('[data-status="online"]')).waitFor({ timeout: TIMEOUT });
    // Queues and pool size come from inspection, which follows the worker's arrival.
    await row('e2e-one@celeriac').locator('[data-testid="worker-queues"]', { hasText: 'celery' }).waitFor({ timeout: TIMEOUT });
    await row('e2e-one@celeriac').locator('[data-testid="worker-pool"][data-value="2"]').waitFor({ timeout: TIMEOUT });
    await screenshot(page, 'workers-online');
  });

  it('updates task counters live as the worker runs tasks', async () => {
    // The worker runs without -E: Celeriac's enable_events broadcast turns task events on within 5 s.
    const deadline = Date.now() + 30_000;
    let sent = 0;
    for (;;) {
      await sendTasks(redis.url(0), [{ task: 'tasks.add', args: [1, 2] }, { task: 'tasks.add', args: [3, 4] }, { task: 'tasks.fail', args: ['boom'] }]);
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
    const count = async (state: string): Promise<number> =>
      Object.keys((await (await fetch(`${celeriac.url}/api/tasks?workername=${worker}&state=${state}`)).json()) as object).length;
    const succeeded = await count('SUCCESS');
    const failed = await count('FAILURE');
    assert.ok(succeeded >= 2 && failed >= 1, `succeeded ${succeeded}, failed ${failed}`);
    await r.locator(`[data-testid="worker-succeeded"][data-value="${succeeded}"]`).waitFor({ timeout: TIMEOUT });
    await r.locator(`[data-testid="worker-failed"][data-value="${failed}"]`).waitFor({ timeout: TIMEOUT });
    await r.locator(`[data-testid="worker-processed"][data-value="${succeeded + failed}"]`).waitFor({ timeout: TIMEOUT });
    assert.ok(sent >= 1);
    await screenshot(page, 'workers-counters');
  });

  it('renders hostile worker names as text', async () => {
    const name = '<img src=x onerror="window.__pwned=1">@e2e';
    const worker = await e2e.startWorker({ nodeName: name });
    const evil = page.locator('[data-testid="worker-row"]').filter({ hasText: '<img src=x' });
    await evil.waitFor({ timeout: TIMEOUT });
    assert.equal(await page.evaluate(() => (window as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator('[data-testid="workers-table"] img').count(), 0);
    await worker.stop();
  });

  it('turns a SIGKILLed worker offline without any event', async () => {
    const worker = await e2e.startWorker({ nodeName: 'e2e-killed@celeriac', heartbeatInterval: 1 });
    await row('e2e-killed@celeriac').and(page.locator('[data-status="online"]')).waitFor({ timeout: TIMEOUT });
    await worker.kill();
    await row('e2e-killed@celeriac').and(page.locator('[data-status="offline"]')).waitFor({ timeout: TIMEOUT });
  });

  it('shows a banner while the broker is down, and clears it when it is back', async () => {
    await shutdownRedis(redis);
    await page.getByTestId('stream-banner').waitFor({ state: 'visible', timeout: TIMEOUT });
    await screenshot(page, 'workers-broker-down');
    await redis.restart();
    await page.getByTestId('stream-banner').waitFor({ state: 'detached', timeout: 30_000 });
    await row('e2e-one@celeriac').and(page.locator('[data-status="online"]')).waitFor({ timeout: 30_000 });
    await screenshot(page, 'workers-after-broker-restart');
  });

  it('renders from the server without JavaScript', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const plain = await context.newPage();
    await plain.goto(`${celeriac.url}/workers`);
    assert.ok(await plain.locator('[data-testid="worker-row"][data-hostname="e2e-one@celeriac"]').count() === 1);
    await context.close();
  });
});
