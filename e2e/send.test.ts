/**
 * The send-task form with a real worker: autocomplete from registered tasks, JSON validation,
 * and the sent task shown live as it runs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { RunningCeleriac } from '../server/server';
import { waitFor } from '../test/helpers/celeriac';
import { screenshot } from './browser';
import { startE2e, type E2eSetup } from './fixture';

const TIMEOUT = 20_000;

describe('send a task from the browser (real worker, Redis)', { timeout: 120_000 }, () => {
  let e2e: E2eSetup;
  let celeriac: RunningCeleriac;
  let page: Page;

  before(async () => {
    e2e = await startE2e({ worker: { nodeName: 'e2e-send@celeriac', sendEvents: true }, page: { viewport: { width: 1280, height: 900 } } });
    ({ celeriac, page } = e2e);
    await waitFor('worker inspected', async () => celeriac.monitor.inspector.registered('e2e-send@celeriac').includes('tasks.add'));
  });

  after(() => e2e?.stop());

  it('offers the registered task names and validates the JSON', async () => {
    await page.goto(`${celeriac.url}/send`);
    const options = await page.locator('#registered-tasks option').evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value));
    assert.ok(options.includes('tasks.add'), `autocomplete offers tasks.add (got ${options.join(', ')})`);
    await page.getByTestId('send-name').fill('tasks.add');
    await page.getByTestId('send-args').fill('[2, ');
    await page.getByTestId('send-args-error').waitFor({ timeout: TIMEOUT });
    assert.equal(await page.getByTestId('send-submit').isDisabled(), true);
    await page.getByTestId('send-args').fill('{"x": 1}');
    await page.getByTestId('send-args-error').filter({ hasText: 'JSON array' }).waitFor({ timeout: TIMEOUT });
  });

  it('sends a task that runs on a real worker and shows it live', async () => {
    await page.getByTestId('send-args').fill('[20]');
    await page.getByTestId('send-kwargs').fill('{"y": 22}');
    await page.getByTestId('send-submit').click();
    const result = page.getByTestId('send-result');
    await result.and(page.locator('[data-state="SUCCESS"]')).waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('send-result-value').textContent(), '42');
    const id = await result.getAttribute('data-task-id');
    const task = celeriac.monitor.state.getTask(id as string);
    assert.equal(task?.worker, 'e2e-send@celeriac');
    assert.equal(task?.args, '(20,)');
    await screenshot(page, 'send-task');
    await page.getByTestId('send-result-link').click();
    await page.waitForURL(new RegExp(`/task/${id}$`), { timeout: TIMEOUT });
  });
});
