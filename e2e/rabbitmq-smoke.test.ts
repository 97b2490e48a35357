/**
 * Smoke run of the UI on RabbitMQ: a real worker on a vhost shows up live, and a task sent from
 * the send-task page runs and appears live on the tasks page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { RunningCeleriac } from '../server/server';
import { waitFor } from '../test/helpers/celeriac';
import { screenshot } from './browser';
import { startE2e, type E2eSetup } from './fixture';

const TIMEOUT = 30_000;
const VHOST = 'celeriac-e2e-smoke';
const NAME = 'e2e-rabbit@celeriac';

describe('UI smoke on RabbitMQ (real worker)', { timeout: 180_000 }, () => {
  let e2e: E2eSetup;
  let celeriac: RunningCeleriac;
  let browser: Browser;
  let page: Page;

  before(async () => {
    e2e = await startE2e({ rabbitVhost: VHOST, page: { viewport: { width: 1280, height: 900 } } });
    ({ celeriac, browser, page } = e2e);
  });

  after(() => e2e?.stop());

  it('a new worker appears online without a reload', async () => {
    await page.goto(`${celeriac.url}/workers`);
    await page.getByTestId('socket-status').and(page.locator('[data-state="live"]')).waitFor({ timeout: TIMEOUT });
    await e2e.startWorker({ nodeName: NAME, sendEvents: true });
    await page.locator(`[data-testid="worker-row"][data-hostname="${NAME}"][data-status="online"]`).waitFor({ timeout: TIMEOUT });
  });

  it('a task sent from the browser runs and shows on the tasks page live', async () => {
    await waitFor('worker inspected', async () => celeriac.monitor.inspector.registered(NAME).includes('tasks.add'));
    const tasks = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await tasks.goto(`${celeriac.url}/tasks`);
    await page.goto(`${celeriac.url}/send`);
    await page.getByTestId('send-name').fill('tasks.add');
    await page.getByTestId('send-args').fill('[40, 2]');
    await page.getByTestId('send-submit').click();
    const result = page.getByTestId('send-result');
    await result.and(page.locator('[data-state="SUCCESS"]')).waitFor({ timeout: TIMEOUT });
    const id = (await result.getAttribute('data-task-id')) as string;
    await tasks.locator(`[data-testid="task-row"][data-uuid="${id}"][data-state="SUCCESS"]`).waitFor({ timeout: TIMEOUT });
    assert.equal(await page.getByTestId('send-result-value').textContent(), '42');
    await screenshot(tasks, 'rabbitmq-tasks');
    await tasks.close();
  });
});
