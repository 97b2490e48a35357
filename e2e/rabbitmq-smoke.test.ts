/**
 * Smoke run of the UI on RabbitMQ: a real worker on a vhost shows up live, and a task sent from
 * the send-task page runs and appears live on the tasks page.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../test/helpers/celeriac';
import { screenshot } from './browser';
import { useE2e } from './fixture';

const TIMEOUT = 30_000;
const VHOST = 'celeriac-e2e-smoke';
const NAME = 'e2e-rabbit@celeriac';

describe('UI smoke on RabbitMQ (real worker)', { timeout: 180_000 }, () => {
  const e2e = useE2e({ rabbitVhost: VHOST, page: { viewport: { width: 1280, height: 900 } } });

  it('a new worker appears online without a reload', async () => {
    await e2e.page.goto(`${e2e.celeriac.url}/workers`);
    await e2e.page.getByTestId('socket-status').and(e2e.page.locator('[data-state="live"]')).waitFor({ timeout: TIMEOUT });
    await e2e.startWorker({ nodeName: NAME, sendEvents: true });
    await e2e.page.locator(`[data-testid="worker-row"][data-hostname="${NAME}"][data-status="online"]`).waitFor({ timeout: TIMEOUT });
  });

  it('a task sent from the browser runs and shows on the tasks page live', async () => {
    await waitFor('worker inspected', async () => e2e.celeriac.monitor.inspector.registered(NAME).includes('tasks.add'));
    const tasks = await e2e.browser.newPage({ viewport: { width: 1280, height: 900 } });
    await tasks.goto(`${e2e.celeriac.url}/tasks`);
    await e2e.page.goto(`${e2e.celeriac.url}/send`);
    await e2e.page.getByTestId('send-name').fill('tasks.add');
    await e2e.page.getByTestId('send-args').fill('[40, 2]');
    await e2e.page.getByTestId('send-submit').click();
    const result = e2e.page.getByTestId('send-result');
    await result.and(e2e.page.locator('[data-state="SUCCESS"]')).waitFor({ timeout: TIMEOUT });
    const id = (await result.getAttribute('data-task-id')) as string;
    await tasks.locator(`[data-testid="task-row"][data-uuid="${id}"][data-state="SUCCESS"]`).waitFor({ timeout: TIMEOUT });
    assert.equal(await e2e.page.getByTestId('send-result-value').textContent(), '42');
    await screenshot(tasks, 'rabbitmq-tasks');
    await tasks.close();
  });
});
