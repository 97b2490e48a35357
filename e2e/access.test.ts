/**
 * The access rule in a real browser. Bound to 0.0.0.0 without authentication, every page says
 * why it shows no cluster data (and how to fix it), the send form's controls are disabled with
 * the reason, and the page's own API calls are refused. With --unauthenticated-api every page
 * carries a banner saying the API is open to the network, and the UI works as usual.
 * A real Celery worker runs throughout, so there is cluster data that must not leak.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { RunningCeleriac } from '../server/server';
import { sendTasks } from '../test/helpers/celery';
import { waitFor } from '../test/helpers/celeriac';
import { screenshot } from './browser';
import { startE2eCeleriac, useE2e } from './fixture';

const TIMEOUT = 20_000;
const WORKER = 'e2e-access@celeriac';

describe('access rule in the browser (bound to 0.0.0.0, real worker, Redis)', { timeout: 240_000 }, () => {
  // Each part below starts a Celeriac of its own on this broker.
  const e2e = useE2e({ celeriacArgs: null, worker: { nodeName: WORKER, sendEvents: true } });
  let taskId: string;

  describe('without authentication: locked', () => {
    let celeriac: RunningCeleriac;
    let page: Page;
    before(async () => {
      celeriac = await startE2eCeleriac(['--broker', e2e.redis.url(0), '--address', '0.0.0.0']);
      // Sent once Celeriac listens: Redis pub/sub has no replay.
      const [id] = await sendTasks(e2e.redis.url(0), [{ task: 'tasks.add', args: [2, 3] }]);
      if (!id) throw new Error('no task id');
      taskId = id;
      await waitFor('the worker and its task in the model', async () => celeriac.monitor.state.workers.get(WORKER) && celeriac.monitor.state.getTask(taskId)?.state === 'SUCCESS');
      page = await e2e.browser.newPage({ viewport: { width: 1280, height: 900 } });
    });
    after(async () => {
      await page?.close();
      await celeriac?.close();
    });

    it('every page shows the refusal and the fix instead of cluster data', async () => {
      for (const route of ['/', '/workers', `/worker/${encodeURIComponent(WORKER)}`, '/tasks', `/task/${taskId}`, `/workflow/${taskId}`, '/queues', '/events', '/audit']) {
        const response = await page.goto(`${celeriac.url}${route}`);
        assert.equal(response?.status(), 200, `${route} renders`);
        const banner = page.locator('[data-testid="access-banner"][data-mode="locked"]');
        await banner.waitFor({ timeout: TIMEOUT });
        const text = (await banner.textContent()) ?? '';
        assert.match(text, /reachable from the network without authentication/, route);
        assert.match(text, /--basic-auth user:password/, route);
        assert.match(text, /--unauthenticated-api/, route);
        await page.getByTestId('access-locked').waitFor({ timeout: TIMEOUT });
        const html = await page.content();
        assert.equal(html.includes(WORKER) && route !== `/worker/${encodeURIComponent(WORKER)}`, false, `${route} shows no worker`);
        assert.equal(html.includes('(2, 3)'), false, `${route} shows no task arguments`);
        assert.equal(await page.getByTestId('worker-row').count(), 0, route);
        if (route === '/workers') await screenshot(page, 'access-locked-workers');
      }
    });

    it('the send form is shown with its controls disabled and the reason', async () => {
      await page.goto(`${celeriac.url}/send`);
      await page.locator('[data-testid="access-banner"][data-mode="locked"]').waitFor({ timeout: TIMEOUT });
      assert.equal(await page.getByTestId('send-fields').evaluate((el) => (el as HTMLFieldSetElement).disabled), true);
      assert.equal(await page.getByTestId('send-args').isDisabled(), true);
      assert.equal(await page.getByTestId('send-name').isDisabled(), true);
      const submit = page.getByTestId('send-submit');
      assert.equal(await submit.isDisabled(), true);
      assert.match((await submit.getAttribute('title')) ?? '', /--basic-auth user:password/);
      const reason = (await page.getByTestId('send-refused').textContent()) ?? '';
      assert.match(reason, /refused/);
      assert.match(reason, /--unauthenticated-api/);
      assert.equal(await page.locator('#registered-tasks option').count(), 0, 'no registered task names are read');
      await screenshot(page, 'access-locked-send');
    });

    it("the page's own API calls and socket are refused with the reason", async () => {
      const prefix = process.env.CELERIAC_E2E_PREFIX ?? '';
      const results = await page.evaluate(
        async ({ prefix, taskId }) => {
          const read = await fetch(`${prefix}/api/tasks`);
          const revoke = await fetch(`${prefix}/api/task/revoke/${taskId}`, { method: 'POST' });
          const socket = await fetch(`${prefix}/socket.io/?EIO=4&transport=polling`);
          return { read: [read.status, await read.text()], revoke: [revoke.status, await revoke.text()], socket: [socket.status, await socket.text()] };
        },
        { prefix, taskId },
      );
      assert.equal(results.read[0], 401);
      assert.equal(results.revoke[0], 401);
      assert.match(String(results.revoke[1]), /--basic-auth user:password/);
      assert.equal(results.socket[0], 403);
      assert.match(String(results.socket[1]), /--unauthenticated-api/);
      assert.equal(celeriac.monitor.audit.list({ limit: 10, offset: 0, action: null, target: null }).total, 0, 'nothing was revoked');
    });
  });

  describe('with --unauthenticated-api: open, with a banner', () => {
    let celeriac: RunningCeleriac;
    let page: Page;
    before(async () => {
      celeriac = await startE2eCeleriac(['--broker', e2e.redis.url(0), '--address', '0.0.0.0', '--unauthenticated-api']);
      page = await e2e.browser.newPage({ viewport: { width: 1280, height: 900 } });
    });
    after(async () => {
      await page?.close();
      await celeriac?.close();
    });

    it('every page says the API is open to the network without authentication', async () => {
      for (const route of ['/', '/workers', '/tasks', '/queues', '/send']) {
        await page.goto(`${celeriac.url}${route}`);
        const banner = page.locator('[data-testid="access-banner"][data-mode="open"]');
        await banner.waitFor({ timeout: TIMEOUT });
        assert.match((await banner.textContent()) ?? '', /The API is open to the network without authentication/, route);
        assert.equal(await page.getByTestId('access-locked').count(), 0, route);
      }
    });

    it('and the UI works as usual: live workers, an enabled send form', async () => {
      await page.goto(`${celeriac.url}/workers`);
      await page.locator('[data-testid="socket-status"][data-state="live"]').waitFor({ timeout: TIMEOUT });
      await page.locator(`[data-testid="worker-row"][data-hostname="${WORKER}"][data-status="online"]`).waitFor({ timeout: TIMEOUT });
      await screenshot(page, 'access-open-workers');
      await page.goto(`${celeriac.url}/send`);
      assert.equal(await page.getByTestId('send-fields').evaluate((el) => (el as HTMLFieldSetElement).disabled), false);
      assert.equal(await page.getByTestId('send-name').isDisabled(), false);
      assert.equal(await page.getByTestId('send-refused').count(), 0);
    });
  });
});
