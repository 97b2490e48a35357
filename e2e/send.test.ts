/**
 * The send-task form with a real worker: autocomplete from registered tasks, JSON validation,
 * and the sent task shown live as it runs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../test/helpers/celeriac';
import { screenshot } from './browser';
import { useE2e } from './fixture';

const TIMEOUT = 20_000;

describe('send a task from the browser (real worker, Redis)', { timeout: 120_000 }, () => {
  const e2e = useE2e({ worker: { nodeName: 'e2e-send@celeriac', sendEvents: true }, page: { viewport: { width: 1280, height: 900 } } }, (setup) =>
    waitFor('worker inspected', async () => setup.celeriac.monitor.inspector.registered('e2e-send@celeriac').includes('tasks.add')),
  );

  it('offers the registered task names and validates the JSON', async () => {
    await e2e.page.goto(`${e2e.celeriac.url}/send`);
    const options = await e2e.page.locator('#registered-tasks option').evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value));
    assert.ok(options.includes('tasks.add'), `autocomplete offers tasks.add (got ${options.join(', ')})`);
    await e2e.page.getByTestId('send-name').fill('tasks.add');
    await e2e.page.getByTestId('send-args').fill('[2, ');
    await e2e.page.getByTestId('send-args-error').waitFor({ timeout: TIMEOUT });
    assert.equal(await e2e.page.getByTestId('send-submit').isDisabled(), true);
    await e2e.page.getByTestId('send-args').fill('{"x": 1}');
    await e2e.page.getByTestId('send-args-error').filter({ hasText: 'JSON array' }).waitFor({ timeout: TIMEOUT });
  });

  it('sends a task that runs on a real worker and shows it live', async () => {
    await e2e.page.getByTestId('send-args').fill('[20]');
    await e2e.page.getByTestId('send-kwargs').fill('{"y": 22}');
    await e2e.page.getByTestId('send-submit').click();
    const result = e2e.page.getByTestId('send-result');
    await result.and(e2e.page.locator('[data-state="SUCCESS"]')).waitFor({ timeout: 30_000 });
    assert.equal(await e2e.page.getByTestId('send-result-value').textContent(), '42');
    const id = await result.getAttribute('data-task-id');
    const task = e2e.celeriac.monitor.state.getTask(id as string);
    assert.equal(task?.worker, 'e2e-send@celeriac');
    assert.equal(task?.args, '(20,)');
    await screenshot(e2e.page, 'send-task');
    await e2e.page.getByTestId('send-result-link').click();
    await e2e.page.waitForURL(new RegExp(`/task/${id}$`), { timeout: TIMEOUT });
  });
});
