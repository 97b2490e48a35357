/**
 * Revoke tells the truth (issue 8): Celery workers discard a revoked id only when they take the
 * task, and a running task finishes unless it is terminated. Real workers on a private Redis,
 * observed through Celeriac's HTTP API only: the reply says what was sent and what will happen,
 * the task carries a "revoke pending" mark until a worker reports it REVOKED, and a revocation
 * that came too late (the task finished anyway) says so.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { sendTasks } from '../helpers/celery';
import { getJson, getJsonIfOk, waitFor } from '../helpers/celeriac';
import { TestResources } from '../helpers/resources';

type Json = Record<string, unknown>;

interface Revocation {
  status: 'pending' | 'revoked' | 'too-late';
  requestedAt: number;
  terminate: boolean;
  signal: string | null;
  workers: number;
}

interface TaskJson {
  uuid: string;
  state: string;
  started: number | null;
  terminated: boolean | null;
  revocation?: Revocation | null;
}

async function post(base: string, route: string, params: Record<string, string | number | boolean> = {}): Promise<{ status: number; body: Json }> {
  const body = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const res = await fetch(`${base}${route}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return { status: res.status, body: (await res.json()) as Json };
}

const enc = encodeURIComponent;

test('revoke: the reply, the pending mark and the outcome follow Celery’s real semantics (Redis)', { timeout: 180_000 }, async () => {
  const resources = new TestResources();
  after(() => resources.stopAll());
  const redis = await resources.redis();
  const celeriac = await resources.celeriac(['--broker', redis.url(0)]);
  const base = celeriac.url;
  const task = (id: string) => getJsonIfOk<TaskJson>(base, `/api/celeriac/task/${id}`);

  // Redis pub/sub has no replay: the task-sent events must find Celeriac subscribed.
  await waitFor('event stream up', async () => celeriac.monitor.transport.status().connected);

  // 1. No worker is running: nobody hears the revocation, and the reply must not pretend otherwise.
  const [orphan] = await sendTasks(redis.url(0), [{ task: 'tasks.echo', args: ['orphan'], queue: 'parked' }]);
  assert.ok(orphan);
  await waitFor('orphan task seen', () => task(orphan));
  const unheard = await post(base, `/api/task/revoke/${orphan}`);
  assert.equal(unheard.status, 200, JSON.stringify(unheard.body));
  assert.doesNotMatch(String(unheard.body.message), /^Revoked/);
  assert.match(String(unheard.body.message), /No worker acknowledged/);
  assert.match(String(unheard.body.message), /start later never hear of it/);
  assert.equal(unheard.body['workers-answered'], 0);
  assert.equal(unheard.body.pending, 1);
  assert.equal(unheard.body.waiting, 1);
  const orphanMarked = await task(orphan);
  assert.equal(orphanMarked?.state, 'PENDING');
  assert.equal(orphanMarked?.revocation?.status, 'pending');
  assert.equal(orphanMarked?.revocation?.workers, 0);

  // An id Celeriac never saw is revoked on the workers but creates nothing in the model.
  const retained = celeriac.monitor.state.tasks.size;
  const ghost = randomUUID();
  const unknown = await post(base, `/api/task/revoke/${ghost}`);
  assert.equal(unknown.status, 200);
  assert.equal(unknown.body.unknown, 1);
  assert.equal(unknown.body.pending, 0);
  assert.match(String(unknown.body.message), /has not seen this task/);
  assert.equal(celeriac.monitor.state.tasks.size, retained);
  assert.equal((await getJson(base, `/api/celeriac/task/${ghost}`)).status, 404);

  // 2. A worker that does not consume the task's queue: the revocation is sent and acknowledged,
  //    but the task stays PENDING — only marked "revoke pending".
  const node = 'revoker@revoke';
  await resources.worker({ brokerUrl: redis.url(0), nodeName: node, concurrency: 2, sendEvents: true });
  await waitFor('worker online', async () => (await getJson<Record<string, boolean>>(base, '/api/workers?status=1')).body[node] === true);
  const [parked] = await sendTasks(redis.url(0), [{ task: 'tasks.echo', args: ['parked'], queue: 'parked' }]);
  assert.ok(parked);
  await waitFor('parked task seen', () => task(parked));
  const sent = await post(base, `/api/task/revoke/${parked}`);
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  assert.equal(sent.body.message, 'Revocation sent to 1 worker; it will be discarded when a worker takes it');
  assert.equal(sent.body.pending, 1);
  assert.equal(sent.body['workers-answered'], 1);
  assert.match(String((sent.body.workers as Record<string, { message: string }>)[node]?.message), /flagged as revoked/);
  await new Promise((r) => setTimeout(r, 1_500));
  const stillWaiting = await task(parked);
  assert.equal(stillWaiting?.state, 'PENDING', 'nothing happened yet: no worker took it');
  assert.equal(stillWaiting?.revocation?.status, 'pending');
  assert.equal(stillWaiting?.revocation?.workers, 1);
  assert.equal(stillWaiting?.revocation?.terminate, false);
  // The tasks list carries the mark too.
  const listed = await getJson<{ tasks: TaskJson[] }>(base, '/api/celeriac/tasks?queue=parked');
  assert.equal(listed.body.tasks.find((t) => t.uuid === parked)?.revocation?.status, 'pending');
  // Flower's own shapes are unchanged.
  assert.equal('revocation' in (await getJson<Json>(base, `/api/task/info/${parked}`)).body, false);

  // 3. The worker starts consuming the queue: it discards the id it was told about (REVOKED, the
  //    mark clears) and runs the one it never heard of (SUCCESS: the revocation came too late).
  const consume = await post(base, `/api/worker/queue/add-consumer/${enc(node)}`, { queue: 'parked' });
  assert.equal(consume.status, 200, JSON.stringify(consume.body));
  const revoked = await waitFor('parked task REVOKED', async () => ((await task(parked))?.state === 'REVOKED' ? task(parked) : null));
  assert.equal(revoked?.started, null);
  assert.equal(revoked?.revocation?.status, 'revoked');
  const ranAnyway = await waitFor('orphan task ran anyway', async () => ((await task(orphan))?.state === 'SUCCESS' ? task(orphan) : null));
  assert.equal(ranAnyway?.revocation?.status, 'too-late');

  // 4. A running task revoked without terminate keeps running, and the reply says so.
  const [sleeper] = await sendTasks(redis.url(0), [{ task: 'tasks.sleep', args: [3] }]);
  assert.ok(sleeper);
  await waitFor('sleeper started', async () => (await task(sleeper))?.state === 'STARTED');
  const late = await post(base, `/api/task/revoke/${sleeper}`);
  assert.equal(late.status, 200);
  assert.match(String(late.body.message), /already running .*keeps running until it finishes/);
  assert.equal(late.body.running, 1);
  assert.equal((await task(sleeper))?.revocation?.status, 'pending');
  const finished = await waitFor('sleeper finished', async () => ((await task(sleeper))?.state === 'SUCCESS' ? task(sleeper) : null), 20_000);
  assert.equal(finished?.revocation?.status, 'too-late');

  // 5. With terminate: the signal is sent; REVOKED (terminated) arrives from the worker.
  const [long] = await sendTasks(redis.url(0), [{ task: 'tasks.sleep', args: [30] }]);
  assert.ok(long);
  await waitFor('long task started', async () => (await task(long))?.state === 'STARTED');
  const kill = await post(base, `/api/task/revoke/${long}`, { terminate: true, signal: 'SIGTERM' });
  assert.equal(kill.status, 200);
  assert.match(String(kill.body.message), /^Terminate signal SIGTERM sent to 1 worker/);
  assert.equal((await task(long))?.revocation?.terminate, true);
  const terminated = await waitFor('long task REVOKED', async () => ((await task(long))?.state === 'REVOKED' ? task(long) : null), 15_000);
  assert.equal(terminated?.terminated, true);
  assert.equal(terminated?.revocation?.status, 'revoked');

  // 6. Bulk revoke of tasks nobody takes: counts, the same wording, every task marked.
  const bulk = await sendTasks(
    redis.url(0),
    [0, 1, 2].map((i) => ({ task: 'tasks.echo', args: [`bulk ${i}`], queue: 'nobody' })),
  );
  await waitFor('bulk tasks seen', async () => (await Promise.all(bulk.map(task))).every((t) => t?.state === 'PENDING'));
  const dry = await post(base, '/api/tasks/revoke', { queue: 'nobody', dry_run: true });
  assert.equal(dry.body.count, 3);
  const bulkRevoke = await post(base, '/api/tasks/revoke', { queue: 'nobody' });
  assert.equal(bulkRevoke.status, 200, JSON.stringify(bulkRevoke.body));
  assert.equal(bulkRevoke.body.message, 'Revocation sent to 1 worker for 3 tasks: 3 waiting will be discarded when a worker takes them');
  assert.equal(bulkRevoke.body.count, 3);
  assert.equal(bulkRevoke.body.pending, 3);
  await new Promise((r) => setTimeout(r, 1_000));
  const rows = await getJson<{ tasks: TaskJson[] }>(base, '/api/celeriac/tasks?queue=nobody');
  assert.equal(rows.body.tasks.length, 3);
  for (const row of rows.body.tasks) {
    assert.equal(row.state, 'PENDING');
    assert.equal(row.revocation?.status, 'pending');
  }
  assert.equal((await post(base, `/api/worker/queue/add-consumer/${enc(node)}`, { queue: 'nobody' })).status, 200);
  await waitFor('bulk-revoked tasks REVOKED', async () => (await Promise.all(bulk.map(task))).every((t) => t?.state === 'REVOKED' && t.revocation?.status === 'revoked'));
});
