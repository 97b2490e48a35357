/**
 * Queues, events and audit pages in a real browser, against Celeriac with a real Celery worker on a
 * private Redis: queue lengths, pauses, purge and the event tail must change live, without a reload.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { sendTasks } from '../test/helpers/celery';
import { waitFor } from '../test/helpers/celeriac';
import { screenshot } from './browser';
import { useE2e } from './fixture';

const TIMEOUT = 20_000;
const WORKER = 'e2e-queues@celeriac';

/** Light and dark, desktop and phone: `<name>-<scheme>-<device>.png` under artifacts/e2e/. */
async function screenshots(page: Page, name: string): Promise<void> {
  const viewport = page.viewportSize();
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    for (const [device, size] of [
      ['desktop', { width: 1280, height: 800 }],
      ['phone', { width: 390, height: 844 }],
    ] as const) {
      await page.setViewportSize(size);
      await page.waitForTimeout(350); // charts resize on the next frame
      await screenshot(page, `${name}-${colorScheme}-${device}`);
    }
  }
  await page.emulateMedia({ colorScheme: null });
  if (viewport) await page.setViewportSize(viewport);
}

describe('queues, events and audit pages (live, real worker, Redis)', { timeout: 600_000 }, () => {
  const e2e = useE2e({
    celeriacArgs: ['--queue-poll-interval', '0.5'],
    worker: { nodeName: WORKER, sendEvents: true, concurrency: 2 },
    page: { viewport: { width: 1280, height: 800 } },
    openLive: '/queues',
  });

  const post = async (path: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${e2e.celeriac.url}${path}`, { method: 'POST' });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const row = (queue: string) => e2e.page.locator(`[data-testid="queue-row"][data-queue="${queue}"]`);
  const waitRow = (queue: string, attrs: string) => e2e.page.locator(`[data-testid="queue-row"][data-queue="${queue}"]${attrs}`).waitFor({ timeout: TIMEOUT });
  const pauseWorker = () => waitFor('the worker to pause', async () => (await post(`/api/worker/pause/${encodeURIComponent(WORKER)}`)).status === 200, TIMEOUT, 500);
  const resumeWorker = async () => assert.equal((await post(`/api/worker/resume/${encodeURIComponent(WORKER)}`)).status, 200);

  it('grows a queue while its worker is paused and drains it on resume, live', async () => {
    await row('celery').waitFor({ timeout: 30_000 });
    await pauseWorker();
    await sendTasks(
      e2e.redis.url(0),
      [1, 2, 3].map((n) => ({ task: 'tasks.add', args: [n, n] })),
    );
    await waitRow('celery', '[data-messages="3"]');
    await e2e.page.getByTestId('queue-chart').locator('.recharts-line').first().waitFor({ timeout: TIMEOUT });
    await screenshots(e2e.page, 'queues-backlog');
    await resumeWorker();
    await waitRow('celery', '[data-messages="0"]');
  });

  it('pauses the celery queue from the page, lists it in the audit log, and resumes it', async () => {
    await row('celery').getByTestId('queue-pause').click();
    const dialog = e2e.page.getByTestId('confirm-dialog');
    await dialog.waitFor({ timeout: TIMEOUT });
    await dialog.getByTestId('confirm-action').click();
    await waitRow('celery', '[data-paused="true"]');
    const outcome = e2e.page.getByTestId('action-outcome');
    await outcome.and(e2e.page.locator('[data-ok="true"]')).waitFor({ timeout: TIMEOUT });
    assert.ok(((await outcome.textContent()) ?? '').includes(WORKER), 'the outcome lists the worker');
    // The pause holds on the broker: new messages wait.
    await sendTasks(e2e.redis.url(0), [{ task: 'tasks.add', args: [5, 5] }]);
    await waitRow('celery', '[data-messages="1"]');
    await screenshots(e2e.page, 'queues-paused');

    const audit = await e2e.browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await audit.goto(`${e2e.celeriac.url}/audit`);
      await audit.locator('[data-testid="audit-row"][data-action="pause-queue"]').first().waitFor({ timeout: TIMEOUT });
      const cells = await audit.locator('[data-testid="audit-row"][data-action="pause-queue"]').first().textContent();
      assert.match(cells ?? '', /celery/);
      await audit.locator('[data-testid="audit-row"] details summary').first().click();
      await screenshots(audit, 'audit');
      // Filter by action.
      await audit.getByTestId('audit-action-filter').selectOption('resume-worker');
      await waitFor(
        'only resume-worker rows',
        async () =>
          (await audit.locator('[data-testid="audit-row"][data-action="pause-queue"]').count()) === 0 && (await audit.locator('[data-testid="audit-row"][data-action="resume-worker"]').count()) > 0,
        TIMEOUT,
      );
    } finally {
      await audit.close();
    }

    await row('celery').getByTestId('queue-resume').click();
    await e2e.page.getByTestId('confirm-dialog').getByTestId('confirm-action').click();
    await waitRow('celery', '[data-paused="false"]');
    await waitRow('celery', '[data-messages="0"]');
  });

  it('purges only after the queue name is typed', async () => {
    await pauseWorker();
    await sendTasks(
      e2e.redis.url(0),
      [1, 2].map((n) => ({ task: 'tasks.add', args: [n, 1] })),
    );
    await waitRow('celery', '[data-messages="2"]');
    await row('celery').getByTestId('queue-purge').click();
    const dialog = e2e.page.getByTestId('confirm-dialog');
    const confirm = dialog.getByTestId('confirm-action');
    assert.equal(await confirm.isDisabled(), true);
    await dialog.getByTestId('purge-confirm-input').fill('celer');
    assert.equal(await confirm.isDisabled(), true);
    await dialog.getByTestId('purge-confirm-input').fill('celery');
    assert.equal(await confirm.isEnabled(), true);
    await screenshot(e2e.page, 'queues-purge-dialog');
    await confirm.click();
    await e2e.page.getByTestId('action-outcome').and(e2e.page.locator('[data-action="purge-queue"][data-ok="true"]')).waitFor({ timeout: TIMEOUT });
    assert.match((await e2e.page.getByTestId('action-outcome').textContent()) ?? '', /Purged 2 messages/);
    await waitRow('celery', '[data-messages="0"]');
    await resumeWorker();
  });

  it('tails task-succeeded events live, and pausing the tail buffers new lines', async () => {
    await e2e.page.goto(`${e2e.celeriac.url}/events`);
    await e2e.page.getByTestId('socket-status').and(e2e.page.locator('[data-state="live"]')).waitFor({ timeout: TIMEOUT });
    await sendTasks(e2e.redis.url(0), [{ task: 'tasks.add', args: [20, 22] }]);
    const succeeded = e2e.page.locator('[data-testid="event-line"][data-type="task-succeeded"]');
    await succeeded.first().waitFor({ timeout: TIMEOUT });
    assert.match((await succeeded.first().textContent()) ?? '', /tasks\.add/);

    // Pause: new events are buffered, not shown; resume applies them.
    await e2e.page.getByTestId('events-pause').click();
    const shownBefore = await succeeded.count();
    await sendTasks(e2e.redis.url(0), [{ task: 'tasks.add', args: [1, 1] }]);
    await waitFor('buffered events', async () => Number(await e2e.page.getByTestId('events-buffered').getAttribute('data-count')) > 0, TIMEOUT);
    await e2e.page.waitForTimeout(1_000);
    assert.equal(await succeeded.count(), shownBefore);
    await e2e.page.getByTestId('events-pause').click();
    await waitFor('the buffered task-succeeded line', async () => (await succeeded.count()) > shownBefore, TIMEOUT);

    // Filters: tasks only, then text.
    await e2e.page.locator('[data-testid="events-type"][data-value="task-"]').click();
    assert.equal(await e2e.page.locator('[data-testid="event-line"][data-type^="worker-"]').count(), 0);
    await e2e.page.getByTestId('events-filter').fill('no-such-thing');
    await e2e.page.getByTestId('events-no-match').waitFor({ timeout: TIMEOUT });
    await e2e.page.getByTestId('events-filter').fill('tasks.add');
    await succeeded.first().waitFor({ timeout: TIMEOUT });
    await e2e.page.locator('[data-testid="events-type"][data-value="all"]').click();
    await e2e.page.getByTestId('events-filter').fill('');
    await screenshots(e2e.page, 'events');
  });
});
