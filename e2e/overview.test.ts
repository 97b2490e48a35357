/**
 * The overview page and the shell (navigation, theme and UTC toggles) in a real browser, against
 * Celeriac with a real Celery worker on a private Redis: the numbers must move without a reload.
 * Under CELERIAC_E2E_PREFIX the UI is served (and built) under that prefix: see fixture.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { sendTasks } from '../test/helpers/celery';
import { screenshot } from './browser';
import { useE2e } from './fixture';

const TIMEOUT = 20_000;
/** A zone that is never UTC, so the UTC/local toggle visibly changes times. */
const TIMEZONE = 'America/New_York';
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

/** `<name>-desktop.png` at the page's desktop size and `<name>-phone.png`, each once the layout settled; back to desktop after. */
async function desktopAndPhoneScreenshots(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(500);
  await screenshot(page, `${name}-desktop`);
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(500);
  await screenshot(page, `${name}-phone`);
  await page.setViewportSize(DESKTOP);
}

describe('overview page and shell (live, real worker, Redis)', { timeout: 300_000 }, () => {
  const e2e = useE2e({ page: { viewport: DESKTOP, timezoneId: TIMEZONE, colorScheme: 'light' }, openLive: '/' }, (setup) => markPage(setup.page));

  /** Set once after the first load; still there means the page was never reloaded. */
  const markPage = (page: Page) => page.evaluate(() => ((window as { __sameDocument?: boolean }).__sameDocument = true));
  const stillSameDocument = () => e2e.page.evaluate(() => (window as { __sameDocument?: boolean }).__sameDocument === true);
  const background = () => e2e.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const htmlTheme = () => e2e.page.evaluate(() => document.documentElement.getAttribute('data-theme'));

  it('has the main navigation with Overview current', async () => {
    const nav = e2e.page.getByTestId('nav');
    for (const label of ['Overview', 'Workers', 'Tasks', 'Queues', 'Events', 'Audit']) {
      assert.equal(await nav.getByRole('link', { name: label, exact: true }).count(), 1, label);
    }
    assert.equal(await nav.locator('[aria-current="page"]').textContent(), 'Overview');
    // Links carry the URL prefix (next/link basePath).
    const href = await nav.getByRole('link', { name: 'Workers', exact: true }).getAttribute('href');
    assert.equal(href, `${process.env.CELERIAC_E2E_PREFIX ?? ''}/workers`);
  });

  it('shows a new worker online without a reload', async () => {
    await e2e.page.locator('[data-testid="overview-workers-online"][data-value="0"]').waitFor({ timeout: TIMEOUT });
    await e2e.startWorker({ nodeName: 'e2e-overview@celeriac', concurrency: 2 });
    await e2e.page.locator('[data-testid="overview-workers-online"][data-value="1"]').waitFor({ timeout: TIMEOUT });
    assert.ok(await stillSameDocument());
  });

  it('updates the failure ratio, top failing tasks and the chart live', async () => {
    // The worker runs without -E: Celeriac's enable_events broadcast turns task events on within seconds.
    const failing = e2e.page.locator('[data-testid="top-failing-row"][data-name="tasks.fail"]');
    const deadline = Date.now() + 40_000;
    for (;;) {
      await sendTasks(e2e.redis.url(0), [
        { task: 'tasks.add', args: [1, 2] },
        { task: 'tasks.add', args: [3, 4] },
        { task: 'tasks.add', args: [5, 6] },
        { task: 'tasks.fail', args: ['boom'] },
      ]);
      try {
        await failing.waitFor({ timeout: 4_000 });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
    const ratio = e2e.page.getByTestId('overview-failure-ratio');
    await e2e.page.waitForFunction(
      () => {
        const value = document.querySelector('[data-testid="overview-failure-ratio"]')?.getAttribute('data-value');
        return value !== null && value !== undefined && value !== '' && Number(value) > 0 && Number(value) < 1;
      },
      undefined,
      { timeout: TIMEOUT },
    );
    assert.match((await ratio.textContent()) ?? '', /%$/);
    assert.ok(Number(await failing.getAttribute('data-value')) >= 1);
    // The throughput chart took the new events in (legend totals over the 15-minute window).
    const chart = e2e.page.getByTestId('throughput-chart');
    await chart.locator('[data-series="failed"]:not([data-total="0"])').waitFor({ timeout: TIMEOUT });
    await chart.locator('[data-series="succeeded"]:not([data-total="0"])').waitFor({ timeout: TIMEOUT });
    assert.ok((await chart.locator('svg.recharts-surface path.recharts-curve').count()) >= 5);
    assert.ok(await stillSameDocument(), 'the page reloaded');
    await e2e.page.getByTestId('top-exceptions-row').first().waitFor({ timeout: TIMEOUT });
    await desktopAndPhoneScreenshots(e2e.page, 'overview-light');
  });

  it('switches to the dark theme, and keeps it across a reload', async () => {
    assert.equal(await htmlTheme(), 'light');
    const light = await background();
    await e2e.page.getByTestId('theme-toggle').locator('[data-choice="dark"]').click();
    assert.equal(await htmlTheme(), 'dark');
    await e2e.page.locator('[data-testid="theme-toggle"][data-theme-choice="dark"]').waitFor({ timeout: TIMEOUT });
    const dark = await background();
    assert.notEqual(dark, light);

    await e2e.page.reload();
    // Applied before hydration, by the inline script.
    assert.equal(await htmlTheme(), 'dark');
    assert.equal(await background(), dark);
    await e2e.page.locator('[data-testid="theme-toggle"][data-theme-choice="dark"]').waitFor({ timeout: TIMEOUT });
    await e2e.page.getByTestId('socket-status').and(e2e.page.locator('[data-state="live"]')).waitFor({ timeout: TIMEOUT });
    await e2e.page.getByTestId('top-failing-row').first().waitFor({ timeout: TIMEOUT });
    await desktopAndPhoneScreenshots(e2e.page, 'overview-dark');

    // System follows the browser's colour scheme.
    await e2e.page.getByTestId('theme-toggle').locator('[data-choice="system"]').click();
    assert.equal(await htmlTheme(), 'light');
    await e2e.page.emulateMedia({ colorScheme: 'dark' });
    await e2e.page.waitForFunction(() => document.documentElement.getAttribute('data-theme') === 'dark', undefined, { timeout: TIMEOUT });
    await e2e.page.emulateMedia({ colorScheme: 'light' });
  });

  it('switches displayed times between local and UTC', async () => {
    const updated = e2e.page.getByTestId('overview-updated-at');
    await e2e.page.locator('[data-testid="utc-toggle"][data-utc="false"]').waitFor({ timeout: TIMEOUT });
    await assertText(updated, /\d\d:\d\d:\d\d GMT-[45]$/);
    const localText = (await updated.textContent()) ?? '';
    await e2e.page.getByTestId('utc-toggle').click();
    await assertText(updated, /\d\d:\d\d:\d\d UTC$/);
    assert.notEqual(await updated.textContent(), localText);
    assert.equal(await e2e.page.getByTestId('chart-zone').textContent(), 'UTC');
    // The choice is remembered.
    await e2e.page.reload();
    await e2e.page.locator('[data-testid="utc-toggle"][data-utc="true"]').waitFor({ timeout: TIMEOUT });
    await assertText(updated, /UTC$/);
    await e2e.page.getByTestId('utc-toggle').click();
    await assertText(updated, /GMT-[45]$/);
  });

  it('renders from the server without JavaScript', async () => {
    const plain = await e2e.browser.newContext({ javaScriptEnabled: false });
    const p = await plain.newPage();
    await p.goto(`${e2e.celeriac.url}/`);
    assert.equal(await p.locator('[data-testid="overview-workers-online"][data-value="1"]').count(), 1);
    assert.equal(await p.locator('[data-testid="top-failing-row"][data-name="tasks.fail"]').count(), 1);
    await plain.close();
  });
});

async function assertText(locator: ReturnType<Page['getByTestId']>, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const text = (await locator.textContent()) ?? '';
    if (pattern.test(text)) return;
    if (Date.now() > deadline) assert.fail(`"${text}" does not match ${pattern}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
