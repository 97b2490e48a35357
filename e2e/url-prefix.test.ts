/**
 * Behind a reverse proxy path: with --url-prefix every page, asset, link, API call and the
 * socket live under the prefix, and nothing is requested outside it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { RunningCeleriac } from '../server/server';
import { startE2e, type E2eSetup } from './fixture';

const PREFIX = '/ops/celeriac';
const TIMEOUT = 30_000;

describe('--url-prefix in a real browser', { timeout: 300_000 }, () => {
  let e2e: E2eSetup;
  let celeriac: RunningCeleriac;
  let browser: Browser;

  before(async () => {
    // The first start with a new prefix builds the UI for it (next.config derives basePath and distDir).
    e2e = await startE2e({ urlPrefix: PREFIX, worker: { nodeName: 'e2e-prefix@celeriac', sendEvents: true } });
    ({ celeriac, browser } = e2e);
  });

  after(() => e2e?.stop());

  it('serves pages, assets, links and the live socket under the prefix only', async () => {
    const page = await browser.newPage();
    const outside: string[] = [];
    const failed: string[] = [];
    const origin = `http://127.0.0.1:${celeriac.port}`;
    page.on('request', (request) => {
      const url = request.url();
      if (url.startsWith(origin) && !new URL(url).pathname.startsWith(PREFIX)) outside.push(url);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${celeriac.url}/workers`);
    await page.locator('[data-testid="socket-status"][data-state="live"]').waitFor({ timeout: TIMEOUT });
    await page.locator('[data-testid="worker-row"][data-hostname="e2e-prefix@celeriac"][data-status="online"]').waitFor({ timeout: TIMEOUT });
    const hrefs = await page.locator('[data-testid="nav"] a').evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
    assert.ok(hrefs.length >= 6);
    for (const href of hrefs) assert.ok(href.startsWith(PREFIX), `nav link ${href} keeps the prefix`);
    await page.locator('[data-testid="nav"] a[data-nav="tasks"]').click();
    await page.waitForURL(`${celeriac.url}/tasks`, { timeout: TIMEOUT });
    await page.getByTestId('tasks-table').waitFor({ timeout: TIMEOUT });
    assert.deepEqual(outside, [], 'no request outside the prefix');
    assert.deepEqual(failed, [], 'no failed request');
    await page.close();
  });
});
