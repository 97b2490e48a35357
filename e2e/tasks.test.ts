/**
 * The tasks list and the task page in a real browser, against Celeriac with a real Celery worker
 * on a private Redis: live state changes, tracebacks, hostile payloads, revoking from the UI,
 * search in the URL. Under CELERIAC_E2E_PREFIX the UI is served (and built) under that prefix:
 * see fixture.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { sendTasks } from '../test/helpers/celery';
import { getJson, getJsonIfOk, waitFor } from '../test/helpers/celeriac';
import { screenshot } from './browser';
import { useE2e } from './fixture';

const TIMEOUT = 20_000;
const WORKER = 'e2e-tasks@celeriac';

interface TaskJson {
  uuid: string;
  state: string;
  started: number | null;
}

describe('tasks pages (live, real worker, Redis)', { timeout: 420_000 }, () => {
  // The worker is known to Celeriac before anything is sent (pause needs it).
  const e2e = useE2e({ worker: { nodeName: WORKER, concurrency: 2, sendEvents: true }, page: { viewport: { width: 1280, height: 800 } } }, (setup) =>
    waitFor('worker online', async () => {
      const { body } = await getJson<{ workers: { hostname: string; status: string }[] }>(setup.celeriac.url, '/api/celeriac/workers');
      return body.workers.some((w) => w.hostname === WORKER && w.status === 'online');
    }),
  );
  let failedId = '';

  const task = (id: string) => getJsonIfOk<TaskJson>(e2e.celeriac.url, `/api/celeriac/task/${id}`);
  const waitState = (id: string, state: string) => waitFor(`task ${id} ${state}`, async () => ((await task(id))?.state === state ? task(id) : null));
  const row = (id: string) => e2e.page.locator(`[data-testid="task-row"][data-uuid="${id}"]`);
  const gotoLive = async (path: string) => {
    await e2e.page.goto(`${e2e.celeriac.url}${path}`);
    await e2e.page.getByTestId('socket-status').and(e2e.page.locator('[data-state="live"]')).waitFor({ timeout: TIMEOUT });
  };

  it('shows a task moving through its states live, without a reload', async () => {
    await gotoLive('/tasks');
    await e2e.page.evaluate(() => {
      (window as { __noReload?: boolean }).__noReload = true;
    });
    const [id] = await sendTasks(e2e.redis.url(0), [{ task: 'tasks.sleep', args: [2] }]);
    assert.ok(id);
    await row(id).and(e2e.page.locator('[data-state="STARTED"]')).waitFor({ timeout: TIMEOUT });
    await row(id).and(e2e.page.locator('[data-state="SUCCESS"]')).waitFor({ timeout: TIMEOUT });
    assert.equal(await e2e.page.evaluate(() => (window as { __noReload?: boolean }).__noReload), true);
    assert.match(await row(id).innerText(), /tasks\.sleep/);
  });

  it('offers new tasks instead of moving rows while the pointer is on the table', async () => {
    await gotoLive('/tasks');
    await e2e.page.getByTestId('tasks-table').hover();
    const [id] = await sendTasks(e2e.redis.url(0), [{ task: 'tasks.add', args: [2, 3] }]);
    assert.ok(id);
    await e2e.page.getByTestId('tasks-new-banner').waitFor({ timeout: TIMEOUT });
    assert.equal(await row(id).count(), 0);
    await e2e.page.getByTestId('tasks-new-banner').click();
    await row(id).waitFor({ timeout: TIMEOUT });
    await e2e.page.mouse.move(0, 0);
  });

  it("shows a failing task's traceback on its page", async () => {
    const [id] = await sendTasks(e2e.redis.url(0), [{ task: 'tasks.fail', args: ['kaboom from e2e'] }]);
    assert.ok(id);
    failedId = id;
    await waitState(id, 'FAILURE');
    await gotoLive(`/task/${id}`);
    await e2e.page.locator('[data-testid="task-state"][data-state="FAILURE"]').waitFor({ timeout: TIMEOUT });
    const traceback = await e2e.page.getByTestId('task-traceback').innerText();
    assert.match(traceback, /Traceback/);
    assert.match(traceback, /ValueError: kaboom from e2e/);
    assert.match(await e2e.page.getByTestId('task-result').innerText(), /kaboom from e2e/);
    const timeline = e2e.page.getByTestId('task-timeline');
    assert.match(await timeline.innerText(), /Failed/);
    // Finished: retry is offered, revoke is not.
    assert.equal(await e2e.page.getByTestId('task-revoke').count(), 0);
    assert.equal(await e2e.page.getByTestId('task-retry').count(), 1);
  });

  it('shows each attempt of a retried task as its own steps, each with its time and the time since the previous', async () => {
    const [id] = await sendTasks(e2e.redis.url(0), [{ task: 'tasks.retry_then_succeed', kwargs: { retries: 2 } }]);
    assert.ok(id);
    await waitState(id, 'SUCCESS');
    await gotoLive(`/task/${id}`);
    await e2e.page.locator('[data-testid="task-state"][data-state="SUCCESS"]').waitFor({ timeout: TIMEOUT });
    const events = e2e.page.getByTestId('task-events');
    await events.locator('[data-event="task-succeeded"]').waitFor({ timeout: TIMEOUT });
    const count = (type: string) => events.locator(`[data-event="${type}"]`).count();
    assert.deepEqual([await count('task-received'), await count('task-started'), await count('task-retried'), await count('task-succeeded')], [3, 3, 2, 1]);
    const rows = events.locator('[data-event]');
    const texts = await rows.allInnerTexts();
    texts.forEach((text, i) => {
      assert.match(text, /\d{2}:\d{2}:\d{2}/, `event ${i} shows its time: ${text}`);
      if (i > 0) assert.match(text, /\+(<1 ms|\d+ ms|[\d.]+ s)/, `event ${i} shows the time since the previous: ${text}`);
    });
    assert.match(texts.filter((t) => /Received/.test(t)).join('\n'), /attempt 1[\s\S]*attempt 2[\s\S]*attempt 3/);
    assert.ok((texts.find((t) => /Retried/.test(t)) ?? '').includes(WORKER), 'each step names its worker');
    // The summary steps above stay: the outcome is the success.
    assert.match(await e2e.page.getByTestId('task-timeline').innerText(), /Succeeded/);
    await screenshot(e2e.page, 'task-retried-events');
  });

  it('renders hostile task arguments as inert text', async () => {
    let dialogs = 0;
    const onDialog = () => {
      dialogs++;
    };
    e2e.page.on('dialog', onDialog);
    try {
      const payload = '<img src=x onerror=alert(1)>';
      const [id] = await sendTasks(e2e.redis.url(0), [{ task: 'tasks.echo', args: [payload] }]);
      assert.ok(id);
      await waitState(id, 'SUCCESS');
      await gotoLive('/tasks');
      await row(id).waitFor({ timeout: TIMEOUT });
      assert.match(await row(id).innerText(), /<img src=x onerror=alert\(1\)>/);
      assert.equal(await e2e.page.locator('main img').count(), 0);
      await gotoLive(`/task/${id}`);
      assert.match(await e2e.page.getByTestId('task-args').innerText(), /<img src=x onerror=alert\(1\)>/);
      assert.match(await e2e.page.getByTestId('task-result').innerText(), /<img src=x onerror=alert\(1\)>/);
      assert.equal(await e2e.page.locator('main img').count(), 0);
      await e2e.page.waitForTimeout(500);
      assert.equal(dialogs, 0);
    } finally {
      e2e.page.off('dialog', onDialog);
    }
  });

  it('revokes a queued task from its page, and it never runs', async () => {
    const pause = await getJson(e2e.celeriac.url, `/api/worker/pause/${encodeURIComponent(WORKER)}`, { method: 'POST' });
    assert.equal(pause.status, 200, JSON.stringify(pause.body));
    let resumed = false;
    try {
      const [id] = await sendTasks(e2e.redis.url(0), [{ task: 'tasks.sleep', args: [1] }]);
      assert.ok(id);
      await waitFor(`task ${id} known`, () => task(id));
      await gotoLive(`/task/${id}`);
      await e2e.page.getByTestId('task-revoke').click();
      await e2e.page.getByTestId('confirm-action').click();
      const outcome = e2e.page.getByTestId('action-outcome');
      await outcome.waitFor({ timeout: TIMEOUT });
      assert.equal(await outcome.getAttribute('data-ok'), 'true', await outcome.innerText());
      const said = await outcome.innerText();
      assert.match(said, new RegExp(WORKER.replace(/[.@]/g, '\\$&')));
      // Nothing has happened to the task yet: the UI must not say it was revoked.
      assert.match(said, /Revocation sent to 1 worker; it will be discarded when a worker takes it/);
      assert.doesNotMatch(said, /^Revoked/m);
      assert.equal(await e2e.page.locator('[data-testid="task-state"][data-state="PENDING"]').count(), 1);
      await e2e.page.getByTestId('revoke-pending').first().waitFor({ timeout: TIMEOUT });
      assert.match(await e2e.page.getByTestId('revocation-notice').innerText(), /discarded when a worker takes it/);
      // The tasks table marks it too, with its own badge (not REVOKED).
      const list = await e2e.browser.newPage({ viewport: { width: 1280, height: 800 } });
      try {
        await list.goto(`${e2e.celeriac.url}/tasks?state=PENDING`);
        const listed = list.locator(`[data-testid="task-row"][data-uuid="${id}"]`);
        await listed.getByTestId('revoke-pending').waitFor({ timeout: TIMEOUT });
        assert.equal(await listed.getAttribute('data-state'), 'PENDING');
        await screenshot(list, 'tasks-revoke-pending');
      } finally {
        await list.close();
      }
      await screenshot(e2e.page, 'task-revoke-pending');
      const resume = await getJson(e2e.celeriac.url, `/api/worker/resume/${encodeURIComponent(WORKER)}`, { method: 'POST' });
      assert.equal(resume.status, 200, JSON.stringify(resume.body));
      resumed = true;
      // The REVOKED event is pushed live: the state changes and the pending mark goes.
      await e2e.page.locator('[data-testid="task-state"][data-state="REVOKED"]').waitFor({ timeout: TIMEOUT });
      await e2e.page.getByTestId('revoke-pending').waitFor({ state: 'detached', timeout: TIMEOUT });
      const revoked = await waitState(id, 'REVOKED');
      assert.equal(revoked.started, null);
      // Give the worker time to (wrongly) run it, then check again.
      await e2e.page.waitForTimeout(2_000);
      const later = await task(id);
      assert.equal(later?.state, 'REVOKED');
      assert.equal(later?.started, null);
    } finally {
      if (!resumed) await getJson(e2e.celeriac.url, `/api/worker/resume/${encodeURIComponent(WORKER)}`, { method: 'POST' });
    }
  });

  it('filters with the search box and keeps the view in the URL', async () => {
    await gotoLive('/tasks');
    const search = e2e.page.getByTestId('tasks-search');
    await search.fill('state:FAILURE');
    await search.press('Enter');
    await e2e.page.waitForURL(/[?&]search=state%3AFAILURE/, { timeout: TIMEOUT });
    await e2e.page.locator(`[data-testid="task-row"][data-uuid="${failedId}"]`).waitFor({ timeout: TIMEOUT });
    const states = await e2e.page.getByTestId('task-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state')));
    assert.ok(states.length >= 1);
    assert.ok(
      states.every((s) => s === 'FAILURE'),
      states.join(','),
    );
    assert.equal(await e2e.page.getByTestId('tasks-total').getAttribute('data-value'), String(states.length));

    // The URL alone restores the view (server-rendered).
    await e2e.page.reload();
    assert.equal(await e2e.page.getByTestId('tasks-search').inputValue(), 'state:FAILURE');
    assert.ok((await e2e.page.getByTestId('task-row').count()) >= 1);

    // Export the filtered list: the menu's links carry the filter; the CSV holds those tasks.
    await e2e.page.getByTestId('tasks-export').locator('summary').click();
    const csvLink = e2e.page.getByTestId('tasks-export').getByRole('menuitem', { name: /CSV/ });
    const href = (await csvLink.getAttribute('href')) ?? '';
    assert.match(href, /\/api\/celeriac\/tasks\/export\?.*search=state%3AFAILURE.*format=csv/);
    const download = e2e.page.waitForEvent('download');
    await csvLink.click();
    const file = await (await download).path();
    const csv = readFileSync(file, 'utf8').trimEnd().split('\r\n');
    assert.equal(csv.length, states.length + 1, 'a header and each failed task');
    assert.ok(csv.some((line) => line.startsWith(failedId)));

    // A syntax error is the API's message, inline.
    await search.fill('(state:FAILURE');
    await search.press('Enter');
    await e2e.page.getByTestId('tasks-error').waitFor({ timeout: TIMEOUT });
    assert.ok((await e2e.page.getByTestId('tasks-error').innerText()).length > 0);
  });

  it('revokes the filtered set in bulk after a dry-run count', async () => {
    const pause = await getJson(e2e.celeriac.url, `/api/worker/pause/${encodeURIComponent(WORKER)}`, { method: 'POST' });
    assert.equal(pause.status, 200, JSON.stringify(pause.body));
    let resumed = false;
    try {
      const ids = await sendTasks(e2e.redis.url(0), [
        { task: 'tasks.sleep', args: [1] },
        { task: 'tasks.sleep', args: [1] },
      ]);
      for (const id of ids) await waitFor(`task ${id} known`, () => task(id));
      await gotoLive('/tasks?state=PENDING');
      for (const id of ids) await row(id).waitFor({ timeout: TIMEOUT });
      await e2e.page.getByTestId('bulk-revoke').click();
      const confirm = e2e.page.getByTestId('confirm-action');
      await confirm.waitFor({ timeout: TIMEOUT });
      assert.match(await confirm.innerText(), /Revoke 2/);
      await confirm.click();
      const outcome = e2e.page.getByTestId('action-outcome');
      await outcome.waitFor({ timeout: TIMEOUT });
      const said = await outcome.innerText();
      assert.match(said, /Revocation sent to 1 worker for 2 tasks: 2 waiting will be discarded when a worker takes them/);
      assert.doesNotMatch(said, /Revoked 2/);
      // Still PENDING, each with the pending mark.
      for (const id of ids) {
        await row(id).getByTestId('revoke-pending').waitFor({ timeout: TIMEOUT });
        assert.equal(await row(id).getAttribute('data-state'), 'PENDING');
      }
      const resume = await getJson(e2e.celeriac.url, `/api/worker/resume/${encodeURIComponent(WORKER)}`, { method: 'POST' });
      assert.equal(resume.status, 200, JSON.stringify(resume.body));
      resumed = true;
      for (const id of ids) {
        const revoked = await waitState(id, 'REVOKED');
        assert.equal(revoked.started, null);
      }
    } finally {
      if (!resumed) await getJson(e2e.celeriac.url, `/api/worker/resume/${encodeURIComponent(WORKER)}`, { method: 'POST' });
    }
  });

  it('remembers the chosen columns', async () => {
    await gotoLive('/tasks');
    const header = e2e.page.locator('[data-testid="tasks-table"] thead th', { hasText: 'Kwargs' });
    assert.equal(await header.count(), 0);
    await e2e.page.getByTestId('tasks-columns').locator('summary').click();
    await e2e.page.locator('input[data-column="kwargs"]').check();
    await header.waitFor({ timeout: TIMEOUT });
    await e2e.page.reload();
    await header.waitFor({ timeout: TIMEOUT });
    await e2e.page.getByTestId('tasks-columns').locator('summary').click();
    await e2e.page.locator('input[data-column="kwargs"]').uncheck();
    await header.waitFor({ state: 'detached', timeout: TIMEOUT });
  });

  it('takes screenshots of both pages (light, dark, desktop, phone)', async () => {
    await sendTasks(e2e.redis.url(0), [
      { task: 'tasks.add', args: [1, 2] },
      { task: 'tasks.sleep', args: [1] },
      { task: 'tasks.fail', args: ['disk full'] },
      { task: 'tasks.echo', args: [{ user: 42, tags: ['a', 'b'] }] },
    ]);
    await e2e.page.waitForTimeout(2_500);
    for (const scheme of ['light', 'dark'] as const) {
      for (const [label, width, height] of [
        ['desktop', 1280, 800],
        ['phone', 390, 844],
      ] as const) {
        await e2e.page.setViewportSize({ width, height });
        await e2e.page.emulateMedia({ colorScheme: scheme });
        await gotoLive('/tasks');
        await e2e.page.mouse.move(0, 0);
        await screenshot(e2e.page, `tasks-${label}-${scheme}`);
        await gotoLive(`/task/${failedId}`);
        await screenshot(e2e.page, `task-${label}-${scheme}`);
      }
    }
    await e2e.page.setViewportSize({ width: 1280, height: 800 });
    await e2e.page.emulateMedia({ colorScheme: 'light' });
  });
});
