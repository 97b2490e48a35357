/**
 * Behind a reverse proxy path: with --url-prefix every page, asset, link, API call and the
 * socket live under the prefix, and nothing is requested outside it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useE2e } from './fixture';

const PREFIX = '/ops/celeriac';
const TIMEOUT = 30_000;

describe('--url-prefix in a real browser', { timeout: 300_000 }, () => {
  // The first start with a new prefix builds the UI for it (next.config derives basePath and distDir).
  const e2e = useE2e({ urlPrefix: PREFIX, worker: { nodeName: 'e2e-prefix@celeriac', sendEvents: true } });

  it('serves pages, assets, links and the live socket under the prefix only', async () => {
    const page = await e2e.browser.newPage();
    const outside: string[] = [];
    const failed: string[] = [];
    const origin = `http://127.0.0.1:${e2e.celeriac.port}`;
    page.on('request', (request) => {
      const url = request.url();
      if (url.startsWith(origin) && !new URL(url).pathname.startsWith(PREFIX)) outside.push(url);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${e2e.celeriac.url}/workers`);
    await page.locator('[data-testid="socket-status"][data-state="live"]').waitFor({ timeout: TIMEOUT });
    await page.locator('[data-testid="worker-row"][data-hostname="e2e-prefix@celeriac"][data-status="online"]').waitFor({ timeout: TIMEOUT });
    const hrefs = await page.locator('[data-testid="nav"] a').evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
    assert.ok(hrefs.length >= 6);
    for (const href of hrefs) assert.ok(href.startsWith(PREFIX), `nav link ${href} keeps the prefix`);
    await page.locator('[data-testid="nav"] a[data-nav="tasks"]').click();
    await page.waitForURL(`${e2e.celeriac.url}/tasks`, { timeout: TIMEOUT });
    await page.getByTestId('tasks-table').waitFor({ timeout: TIMEOUT });
    assert.deepEqual(outside, [], 'no request outside the prefix');
    assert.deepEqual(failed, [], 'no failed request');
    await page.close();
  });
});
