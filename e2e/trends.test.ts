/**
 * The Trends page in a real browser, on the default SQLite store, with history that spans days:
 * aggregates with old timestamps go in through the store's own write path (`trends.insert`, the
 * one the live aggregator uses), then the page shows the old days' figures for 7 d, a task name's
 * comparison with the previous period, and the slowest and most failing task names.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { TrendSample } from '../server/store/trends';
import type { QueueHistoryView } from '../server/views/trend-types';
import { screenshot } from './browser';
import { useE2e } from './fixture';

const TIMEOUT = 20_000;

/** Light and dark, desktop and phone: `<name>-<scheme>-<device>.png` under artifacts/e2e/. */
async function screenshots(page: Page, name: string): Promise<void> {
  const viewport = page.viewportSize();
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    for (const [device, size] of [
      ['desktop', { width: 1280, height: 900 }],
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
const DAY = 86_400;

/** Six days of this week and six of the week before: `tasks.slow` got twice as slow, `tasks.flaky` fails 1 in 5. */
function history(now: number): TrendSample[] {
  const samples: TrendSample[] = [];
  for (let day = 1; day <= 6; day++) {
    samples.push({ at: now - day * DAY, name: 'tasks.slow', queue: 'celery', succeeded: 10, runtimes: Array(10).fill(2), waits: Array(10).fill(0.5) });
    samples.push({ at: now - day * DAY, name: 'tasks.flaky', queue: 'celery', succeeded: 8, failed: 2, runtimes: Array(10).fill(0.1), waits: Array(10).fill(0.2) });
  }
  for (let day = 8; day <= 13; day++) {
    samples.push({ at: now - day * DAY, name: 'tasks.slow', queue: 'celery', succeeded: 10, runtimes: Array(10).fill(1), waits: Array(10).fill(0.5) });
  }
  return samples;
}

describe('trends page (days of history, SQLite store)', { timeout: 300_000 }, () => {
  const e2e = useE2e({ page: { viewport: { width: 1280, height: 900 } } }, async (setup) => {
    const now = Date.now() / 1000;
    await setup.celeriac.trends.insert(history(now));
    // A backlog on "reports" three days ago: 0 → 500 → 40 within the hour.
    await setup.celeriac.trends.insertQueueLengths([0, 500, 40].map((messages, i) => ({ at: now - 3 * DAY + i * 600, queue: 'reports', messages })));
  });

  const figure = (key: string) => e2e.page.locator(`[data-testid="trends-figure"][data-figure="${key}"]`);
  const figures = (attrs: string) => e2e.page.locator(`[data-testid="trends-figures"]${attrs}`).waitFor({ timeout: TIMEOUT });

  it('shows the old days for 7 d, a task name against the previous period, and the slowest and most failing names', async () => {
    const { page } = e2e;
    await page.goto(`${e2e.celeriac.url}/trends`);
    await page.locator('[data-nav="trends"][aria-current="page"]').waitFor({ timeout: TIMEOUT });
    await figures('[data-range="24h"]');

    // 7 d: the six days of this week, all names.
    await page.locator('[data-testid="trends-toolbar"] [data-range="7d"]').click();
    await figures('[data-range="7d"][data-name=""]');
    assert.match(page.url(), /[?&]range=7d\b/);
    assert.equal(await figure('finished').getAttribute('data-value'), String(6 * 10 + 6 * 10));
    assert.equal(await figure('failed').getAttribute('data-value'), String(6 * 2));
    assert.equal(await figure('finished').getAttribute('data-previous'), String(6 * 10));
    assert.match((await figure('finished').getByTestId('trends-change').textContent()) ?? '', /^\+100 %/);
    assert.ok((await page.getByTestId('trends-chart-throughput').locator('path.recharts-curve').count()) >= 4, 'throughput lines are drawn');

    // The tables: tasks.slow is the slowest, tasks.flaky the most failing (and the only one failing).
    const slowest = page.getByTestId('trends-slowest-row');
    assert.deepEqual(await slowest.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name'))), ['tasks.slow', 'tasks.flaky']);
    const failing = page.getByTestId('trends-failing-row');
    assert.deepEqual(await failing.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name'))), ['tasks.flaky']);
    assert.equal(await failing.first().locator('td[data-value]').first().getAttribute('data-value'), '0.2');
    await screenshot(page, 'trends-7d');

    // One task name: this week against the week before — as many runs, twice the runtime.
    await page.getByTestId('trends-name').selectOption('tasks.slow');
    await figures('[data-range="7d"][data-name="tasks.slow"]');
    assert.match(page.url(), /[?&]name=tasks\.slow\b/);
    assert.equal(await figure('finished').getAttribute('data-value'), '60');
    assert.equal(await figure('finished').getAttribute('data-previous'), '60');
    assert.match((await figure('finished').getByTestId('trends-change').textContent()) ?? '', /^±0 %/);
    const p95 = Number(await figure('runtime-p95').getAttribute('data-value'));
    const p95Before = Number(await figure('runtime-p95').getAttribute('data-previous'));
    assert.ok(Math.abs(p95 - 2) / 2 < 0.05 && Math.abs(p95Before - 1) < 0.05, `p95 ${p95}, before ${p95Before}`);
    assert.match((await figure('runtime-p95').getByTestId('trends-change').textContent()) ?? '', /^\+\d+ %/);
    assert.match((await figure('runtime-p95').textContent()) ?? '', /(1\.9\d|2\.0\d) s\+\d+ %/);
    await screenshots(page, 'trends-7d-task');

    // Clicking a name in a table selects it; the URL keeps the selection across a reload (server-rendered).
    await page.getByTestId('trends-failing-row').first().getByRole('button').click();
    await figures('[data-range="7d"][data-name="tasks.flaky"]');
    assert.equal(await figure('failure-ratio').getAttribute('data-value'), '0.2');
    await page.reload();
    await figures('[data-range="7d"][data-name="tasks.flaky"]');
    assert.equal(await page.getByTestId('trends-name').inputValue(), 'tasks.flaky');
    assert.equal(await figure('failed').getAttribute('data-value'), '12');

    // 30 d reads the same hours; 1 h has none of the old days.
    await page.locator('[data-testid="trends-toolbar"] [data-range="30d"]').click();
    await figures('[data-range="30d"][data-name="tasks.flaky"]');
    assert.equal(await figure('finished').getAttribute('data-value'), '60');
    await page.locator('[data-testid="trends-toolbar"] [data-range="1h"]').click();
    await figures('[data-range="1h"][data-name="tasks.flaky"]');
    assert.equal(await figure('finished').getAttribute('data-value'), '0');
  });

  it('gives the overview throughput chart and the queue chart ranges beyond the live window', async () => {
    const { page } = e2e;
    await page.goto(`${e2e.celeriac.url}/`);
    const throughput = page.getByTestId('throughput-chart');
    await throughput.locator('[data-testid="throughput-range"] [data-range="7d"]').click();
    await throughput.locator(`[data-series="succeeded"][data-total="${6 * 10 + 6 * 8}"]`).waitFor({ timeout: TIMEOUT });
    await throughput.locator('[data-series="failed"][data-total="12"]').waitFor({ timeout: TIMEOUT });
    await throughput.locator('[data-testid="throughput-range"] [data-range="live"]').click();
    await throughput.locator('[data-series="succeeded"][data-total="0"]').waitFor({ timeout: TIMEOUT });

    await page.goto(`${e2e.celeriac.url}/queues`);
    const chart = page.getByTestId('queue-chart');
    await chart.locator('[data-testid="queue-chart-range"] [data-range="7d"]').click();
    await chart.locator('.recharts-line').first().waitFor({ timeout: TIMEOUT });
    await chart.locator('.recharts-legend-item', { hasText: 'reports' }).waitFor({ timeout: TIMEOUT });
    // The stored history behind it: the backlog's peak, from the hourly roll-up.
    const history = (await (await fetch(`${e2e.celeriac.url}/api/celeriac/queues/history?range=7d&queue=reports`)).json()) as QueueHistoryView;
    assert.equal(Math.max(...history.points.map((p) => p.queues.reports?.max ?? 0)), 500);
    await screenshot(page, 'queues-7d');
  });
});
