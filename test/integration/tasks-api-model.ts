/**
 * Sending tasks, reading results and retrying through Celeriac's HTTP API, with real workers
 * (issue 3). Run once per broker by tasks-api-redis.test.ts and tasks-api-amqp.test.ts; the
 * result backend is always a private Redis, as in most Celery deployments.
 */
import assert from 'node:assert/strict';
import type { FlowerTaskDict } from '../../server/state/task-record';
import type { AuditEntry } from '../../server/control/audit';
import { sendTasks } from '../helpers/celery';
import { getJson, getJsonIfOk, waitFor } from '../helpers/celeriac';
import { TestResources } from '../helpers/resources';

type Json = Record<string, unknown>;

async function postJson(base: string, route: string, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${base}${route}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as Json };
}

export async function runTasksApiScenario(brokerUrl: string, resultBackendUrl: string, label: string, t: { after(fn: () => Promise<void>): void }): Promise<void> {
  const resources = new TestResources();
  t.after(() => resources.stopAll());
  const celeriac = await resources.celeriac(['--broker', brokerUrl, '--result-backend', resultBackendUrl]);
  const readOnly = await resources.celeriac(['--broker', brokerUrl, '--read-only']);
  const base = celeriac.url;
  const task = (id: string) => getJsonIfOk<FlowerTaskDict>(base, `/api/task/info/${id}`);
  const finished = (id: string, state: string) => waitFor(`${id} ${state}`, async () => ((await task(id))?.state === state ? task(id) : null), 30_000);

  const name = `tasks-${label}@api`;
  await resources.worker({ brokerUrl, nodeName: name, concurrency: 2, sendEvents: true, env: { CELERY_RESULT_BACKEND: resultBackendUrl } });
  await waitFor(`${name} online`, async () => (await getJson<Record<string, boolean>>(base, '/api/workers?status=1')).body[name] === true);
  await getJson(base, '/api/workers?refresh=1');

  // async-apply: Flower's body and response; the task runs on the worker and its result is readable.
  const applied = await postJson(base, '/api/task/async-apply/tasks.add', { args: [2, 3] });
  assert.equal(applied.status, 200, JSON.stringify(applied.body));
  const id = String(applied.body['task-id']);
  assert.equal(applied.body.state, 'PENDING');
  const ran = await finished(id, 'SUCCESS');
  assert.equal(ran?.result, '5');
  assert.equal(ran?.args, '(2, 3)', 'argsrepr as Celery renders apply_async((2, 3))');
  assert.equal(ran?.worker, name);
  const result = await getJson<Json>(base, `/api/task/result/${id}`);
  assert.deepEqual(result.body, { 'task-id': id, state: 'SUCCESS', result: 5 });

  // send-task with kwargs, countdown and priority; unknown names are refused by async-apply only.
  const sent = await postJson(base, '/api/task/send-task/tasks.add', { kwargs: { x: 20, y: 22 }, countdown: 1, priority: 3 });
  assert.equal(sent.status, 200);
  const delayed = await finished(String(sent.body['task-id']), 'SUCCESS');
  assert.equal(delayed?.result, '42');
  assert.equal(delayed?.kwargs, "{'x': 20, 'y': 22}");
  assert.ok(delayed?.eta, 'countdown became an eta');
  assert.equal((await postJson(base, '/api/task/async-apply/tasks.nope', {})).status, 404);
  assert.equal((await postJson(base, '/api/task/async-apply/tasks.add', { args: 'not a list' })).status, 400);
  assert.equal((await postJson(base, '/api/task/async-apply/tasks.add', { priority: 12 })).status, 400);

  // apply waits for the result; a failure comes back with its traceback.
  const sync = await postJson(base, '/api/task/apply/tasks.add', { args: [7, 8] });
  assert.equal(sync.status, 200);
  assert.equal(sync.body.state, 'SUCCESS');
  assert.equal(sync.body.result, 15);
  const failedSync = await postJson(base, '/api/task/apply/tasks.fail', { args: ['boom'] });
  assert.equal(failedSync.body.state, 'FAILURE');
  assert.equal(failedSync.body.result, "ValueError('boom')");
  assert.match(String(failedSync.body.traceback), /ValueError: boom/);

  // Retry a failed task with literal args: it runs again, linked to the original.
  const [failedId] = await sendTasks(brokerUrl, [{ task: 'tasks.fail', args: ['boom'] }]);
  await finished(failedId as string, 'FAILURE');
  const retried = await postJson(base, `/api/task/retry/${failedId}`, {});
  assert.equal(retried.status, 200, JSON.stringify(retried.body));
  assert.equal(retried.body['retry-of'], failedId);
  const rerun = await finished(String(retried.body['task-id']), 'FAILURE');
  assert.equal(rerun?.name, 'tasks.fail');
  assert.equal(rerun?.args, "('boom',)");
  assert.ok(rerun?.started !== null, 'the retry ran on the worker');
  assert.equal(rerun?.parent_id, failedId);
  await waitFor('original lists the retry as a child', async () => (await task(failedId as string))?.children.includes(String(retried.body['task-id'])));

  // A repr Celery cut short cannot be retried exactly: refused with the reason.
  const [longId] = await sendTasks(brokerUrl, [{ task: 'tasks.echo', args: ['x'.repeat(3000)] }]);
  await finished(longId as string, 'SUCCESS');
  const refused = await postJson(base, `/api/task/retry/${longId}`, {});
  assert.equal(refused.status, 409);
  assert.match(String(refused.body.error), /cut short/);
  assert.equal((await postJson(base, '/api/task/retry/no-such-task', {})).status, 404);

  // Read-only mode refuses every mutating route; reads still work.
  for (const route of [
    '/api/task/async-apply/tasks.add',
    '/api/task/send-task/tasks.add',
    `/api/task/revoke/${id}`,
    `/api/worker/pool/grow/${encodeURIComponent(name)}`,
    '/api/queues/pause/celery',
    `/api/task/retry/${failedId}`,
  ]) {
    const res = await postJson(readOnly.url, route, {});
    assert.equal(res.status, 403, route);
    assert.equal(res.body.error, 'Read only mode is enabled');
  }
  assert.equal((await getJson(readOnly.url, '/api/tasks')).status, 200);

  // The audit log has the sends and the retry.
  const audit = await getJson<{ entries: AuditEntry[] }>(base, '/api/audit?limit=100');
  const actions = audit.body.entries.map((e) => e.action);
  for (const action of ['async-apply', 'send-task', 'apply', 'retry']) assert.ok(actions.includes(action), `audit has ${action}`);
  assert.equal(audit.body.entries.find((e) => e.action === 'retry')?.parameters['retry-of'], failedId);
}
