/**
 * Remote control end to end (issue 3), run once per broker by controls-redis.test.ts and
 * controls-amqp.test.ts: real Celery workers, Celeriac's HTTP API as the only way in, and the
 * broker itself (queue lengths) and the workers' own replies as the proof.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunningCeleriac } from '../../server/server';
import type { FlowerTaskDict } from '../../server/state/task-record';
import type { AuditEntry } from '../../server/control/audit';
import { sendTasks, startWorker, type CeleryWorker } from '../helpers/celery';
import { getJson, startTestCeleriac, waitFor } from '../helpers/celeriac';

type Json = Record<string, unknown>;

async function post(base: string, route: string, params: Record<string, string | number | boolean> = {}, headers: Record<string, string> = {}): Promise<{ status: number; body: Json }> {
  const body = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const res = await fetch(`${base}${route}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
  return { status: res.status, body: (await res.json()) as Json };
}

const enc = encodeURIComponent;

export async function runControlScenario(brokerUrl: string, label: string, t: { after(fn: () => Promise<void>): void }): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'celeriac-controls-'));
  const args = ['--broker', brokerUrl, '--data-dir', dataDir, '--queue-poll-interval', '0.5'];
  let celeriac: RunningCeleriac = await startTestCeleriac(args);
  const workers: CeleryWorker[] = [];
  t.after(async () => {
    if (process.env.CELERIAC_TEST_WORKER_LOGS) for (const w of workers) console.log(`--- ${w.nodeName}\n${w.log().split('\n').slice(-200).join('\n')}`);
    await Promise.allSettled(workers.map((w) => w.kill()));
    await celeriac.close();
  });
  const base = (): string => celeriac.url;
  // Queue lengths as Celeriac reports them (Flower's route), polled from the broker every 0.5 s.
  const queueLength = async (): Promise<number> => {
    const res = await getJson<{ active_queues: { name: string; messages: number }[] }>(base(), '/api/queues/length');
    return res.status === 200 ? (res.body.active_queues.find((q) => q.name === 'celery')?.messages ?? -1) : -1;
  };
  const task = async (id: string): Promise<FlowerTaskDict | undefined> => {
    const res = await getJson<FlowerTaskDict>(base(), `/api/task/info/${id}`);
    return res.status === 200 ? res.body : undefined;
  };
  const online = (name: string) => async () => (await getJson<Record<string, boolean>>(base(), '/api/workers?status=1')).body[name] === true;

  const a = `a-${label}@controls`;
  workers.push(await startWorker({ brokerUrl, nodeName: a, concurrency: 2, sendEvents: true }));
  await waitFor(`${a} online`, online(a));

  // Inspect data, fresh on demand, in Flower's shape.
  const inspected = await getJson<Record<string, Json>>(base(), '/api/workers?refresh=1');
  const aData = inspected.body[a] as Json;
  for (const key of ['stats', 'active_queues', 'registered', 'scheduled', 'active', 'reserved', 'revoked', 'conf', 'timestamp']) assert.ok(key in aData, `inspect data has ${key}`);
  assert.ok((aData.registered as string[]).includes('tasks.add'));
  const processes = async (): Promise<number> => {
    const res = await getJson<Record<string, { stats: { pool: { processes: number[] } } }>>(base(), `/api/workers?refresh=1&workername=${enc(a)}`);
    return res.body[a]?.stats.pool.processes.length ?? -1;
  };
  assert.equal(await processes(), 2);

  // Pool grow / shrink change the concurrency stats reports.
  const grow = await post(base(), `/api/worker/pool/grow/${enc(a)}`, { n: 1 });
  assert.equal(grow.status, 200);
  assert.equal(grow.body.message, `Growing '${a}' worker's pool by 1`);
  assert.deepEqual(grow.body.workers, { [a]: { ok: true, message: 'pool will grow' } });
  // The worker starts the process on its next pool maintenance tick (every 5 s); polling it
  // with inspect calls back to back can starve that tick on RabbitMQ, so poll gently.
  await waitFor('3 pool processes', async () => (await processes()) === 3, 30_000, 2_000);
  assert.equal((await post(base(), `/api/worker/pool/shrink/${enc(a)}`, { n: 1 })).status, 200);
  await waitFor('2 pool processes', async () => (await processes()) === 2, 30_000, 2_000);
  // Autoscale is refused by a worker started without --autoscale: Flower's 403 with the worker's text.
  const autoscale = await post(base(), `/api/worker/pool/autoscale/${enc(a)}`, { min: 1, max: 3 });
  assert.equal(autoscale.status, 403);
  assert.match(String(autoscale.body.error), /Autoscale not enabled/);

  // Rate and time limits are acknowledged by the worker.
  const rate = await post(base(), '/api/task/rate-limit/tasks.add', { workername: a, ratelimit: '100/m' });
  assert.equal(rate.status, 200);
  assert.equal(rate.body.message, 'new rate limit set successfully');
  const limits = await post(base(), '/api/task/timeout/tasks.sleep', { workername: a, soft: 30, hard: 60 });
  assert.equal(limits.status, 200);
  assert.equal(limits.body.message, 'time limits set successfully');
  assert.equal((await post(base(), '/api/task/rate-limit/tasks.add', { workername: a, ratelimit: 'fast' })).status, 400);
  assert.equal((await post(base(), '/api/task/timeout/tasks.sleep', { workername: a })).status, 400);
  assert.equal((await post(base(), '/api/worker/pool/grow/ghost@nowhere', { n: 1 })).status, 404);

  // Pause a worker: new tasks wait in the broker. Revoke one while it waits: it never runs.
  const paused = await post(base(), `/api/worker/pause/${enc(a)}`);
  assert.equal(paused.status, 200, JSON.stringify(paused.body));
  assert.deepEqual(paused.body.queues, ['celery']);
  const waiting = [randomUUID(), randomUUID(), randomUUID()];
  await sendTasks(
    brokerUrl,
    waiting.map((id) => ({ task: 'tasks.add', args: [1, 1], id })),
  );
  await waitFor('3 messages waiting while paused', async () => (await queueLength()) === 3);
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(await queueLength(), 3, 'a paused worker must not take tasks');
  assert.equal((await celeriac.monitor.transport.queueStats(['celery']))[0]?.messages, 3, 'and the broker agrees');
  const revoked = await post(base(), `/api/task/revoke/${waiting[0]}`);
  assert.equal(revoked.status, 200);
  // Nothing is revoked yet: the worker only remembers the id until it takes the task.
  assert.equal(revoked.body.message, 'Revocation sent to 1 worker; it will be discarded when a worker takes it');
  assert.equal(revoked.body.pending, 1);
  assert.match(String((revoked.body.workers as Record<string, { message: string }>)[a]?.message), /flagged as revoked/);
  const resumed = await post(base(), `/api/worker/resume/${enc(a)}`);
  assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
  await waitFor('queue drained after resume', async () => (await queueLength()) === 0);
  await waitFor('revoked task REVOKED, others SUCCESS', async () => {
    const [r, ...ok] = await Promise.all(waiting.map(task));
    return r?.state === 'REVOKED' && ok.every((x) => x?.state === 'SUCCESS');
  });
  assert.equal((await task(waiting[0] as string))?.started, null, 'the revoked task never started');

  // Terminate a running task.
  const [sleeper] = await sendTasks(brokerUrl, [{ task: 'tasks.sleep', args: [30] }]);
  await waitFor('sleep task started', async () => (await task(sleeper as string))?.state === 'STARTED');
  const terminated = await post(base(), `/api/task/revoke/${sleeper}`, { terminate: true, signal: 'SIGTERM' });
  assert.equal(terminated.status, 200);
  await waitFor(
    'terminated task REVOKED',
    async () => {
      const info = await getJson<FlowerTaskDict & { terminated?: boolean }>(base(), `/api/task/info/${sleeper}`);
      return info.body.state === 'REVOKED';
    },
    15_000,
  );
  assert.equal(celeriac.monitor.state.getTask(sleeper as string)?.terminated, true, 'task-revoked says terminated');
  assert.equal((await post(base(), `/api/task/revoke/${sleeper}`, { signal: 'SIGBOGUS' })).status, 400);
  const ping = await getJson<{ workers: Record<string, { ok: boolean; message: string }>; noReply: string[] }>(base(), '/api/celeriac/ping');
  assert.deepEqual(ping.body.workers, { [a]: { ok: true, message: 'pong' } });
  assert.deepEqual(ping.body.noReply, []);

  // Pause the queue cluster-wide: two workers, and a third started during the pause.
  const b = `b-${label}@controls`;
  workers.push(await startWorker({ brokerUrl, nodeName: b, sendEvents: true }));
  await waitFor(`${b} online`, online(b));
  await getJson(base(), '/api/workers?refresh=1');
  const pausedQueue = await post(base(), '/api/queues/pause/celery');
  assert.equal(pausedQueue.status, 200, JSON.stringify(pausedQueue.body));
  assert.deepEqual(Object.keys(pausedQueue.body.workers as Json).sort(), [a, b].sort());
  const c = `c-${label}@controls`;
  workers.push(await startWorker({ brokerUrl, nodeName: c, sendEvents: true }));
  await waitFor(`${c} paused on arrival`, async () => {
    const audit = await getJson<{ entries: AuditEntry[] }>(base(), '/api/audit?action=pause-queue');
    return audit.body.entries.some((e) => e.user === 'celeriac' && e.ok && Object.keys(e.workers).includes(c));
  });
  const held = [randomUUID(), randomUUID()];
  await sendTasks(
    brokerUrl,
    held.map((id) => ({ task: 'tasks.add', args: [2, 2], id })),
  );
  await waitFor('2 messages held by the paused queue', async () => (await queueLength()) === 2);
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(await queueLength(), 2, 'no worker — not even the one started during the pause — takes them');

  // The pause survives a Celeriac restart.
  await celeriac.close();
  celeriac = await startTestCeleriac(args);
  const pauses = await getJson<{ queues: Record<string, { workers: string[] }> }>(base(), '/api/celeriac/pauses');
  assert.deepEqual(pauses.body.queues.celery?.workers.sort(), [a, b, c].sort());
  await waitFor('event stream after restart', async () => celeriac.monitor.transport.status().connected);
  const resumedQueue = await post(base(), '/api/queues/resume/celery');
  assert.equal(resumedQueue.status, 200, JSON.stringify(resumedQueue.body));
  assert.deepEqual(Object.keys(resumedQueue.body.workers as Json).sort(), [a, b, c].sort());
  await waitFor('held tasks ran', async () => (await Promise.all(held.map(task))).every((x) => x?.state === 'SUCCESS'), 30_000);

  // Purge only with a confirmation naming the queue.
  assert.equal((await post(base(), `/api/worker/pause/${enc(a)}`)).status, 200);
  assert.equal((await post(base(), `/api/worker/pause/${enc(b)}`)).status, 200);
  assert.equal((await post(base(), `/api/worker/pause/${enc(c)}`)).status, 200);
  const toPurge = await sendTasks(brokerUrl, [
    { task: 'tasks.add', args: [3, 3] },
    { task: 'tasks.add', args: [4, 4] },
  ]);
  let lastLength = -1;
  await waitFor(
    () => `2 messages to purge (queue length ${lastLength}, tasks ${toPurge.join(', ')})`,
    async () => {
      lastLength = await queueLength();
      return lastLength === 2;
    },
  );
  const unconfirmed = await post(base(), '/api/queues/purge/celery');
  assert.equal(unconfirmed.status, 400);
  assert.equal(await queueLength(), 2);
  const purged = await post(base(), '/api/queues/purge/celery', { confirm: 'celery' });
  assert.equal(purged.status, 200);
  assert.equal(purged.body.purged, 2);
  await waitFor('queue empty after purge', async () => (await queueLength()) === 0);

  // Bulk revoke: a dry run says what would be revoked, then the real run sends exactly that.
  const bulk = [randomUUID(), randomUUID()];
  await sendTasks(
    brokerUrl,
    bulk.map((id) => ({ task: 'tasks.echo', args: ['bulk'], id })),
  );
  await waitFor('bulk tasks seen as PENDING', async () => (await Promise.all(bulk.map(task))).every((x) => x?.state === 'PENDING'));
  const dry = await post(base(), '/api/tasks/revoke', { taskname: 'tasks.echo', dry_run: true });
  assert.equal(dry.status, 200);
  assert.equal(dry.body.count, 2);
  assert.deepEqual((dry.body['task-ids'] as string[]).sort(), [...bulk].sort());
  const real = await post(base(), '/api/tasks/revoke', { taskname: 'tasks.echo' });
  assert.equal(real.status, 200);
  assert.equal(real.body.count, 2);
  assert.equal(real.body.pending, 2);
  assert.equal(real.body.message, 'Revocation sent to 3 workers for 2 tasks: 2 waiting will be discarded when a worker takes them');
  for (const w of [a, b, c]) assert.equal((await post(base(), `/api/worker/resume/${enc(w)}`)).status, 200);
  await waitFor('bulk-revoked tasks REVOKED', async () => (await Promise.all(bulk.map(task))).every((x) => x?.state === 'REVOKED'), 30_000);

  // Safety: GET is refused, cross-site browser requests are refused.
  assert.equal((await fetch(`${base()}/api/worker/pool/grow/${enc(a)}`)).status, 405);
  assert.equal((await post(base(), `/api/worker/pool/grow/${enc(a)}`, {}, { origin: 'http://evil.example' })).status, 403);
  assert.equal((await post(base(), `/api/worker/pool/grow/${enc(a)}`, {}, { 'sec-fetch-site': 'cross-site' })).status, 403);
  assert.equal((await post(base(), `/api/worker/pool/shrink/${enc(a)}`, {}, { origin: new URL(base()).origin, 'sec-fetch-site': 'same-origin' })).status, 200);

  // Shutdown makes the worker go offline.
  const shutdown = await post(base(), `/api/worker/shutdown/${enc(c)}`);
  assert.equal(shutdown.status, 200);
  assert.equal(shutdown.body.message, 'Shutting down!');
  await waitFor(`${c} offline`, async () => (await getJson<Record<string, boolean>>(base(), '/api/workers?status=1')).body[c] === false, 20_000);

  // The audit log recorded every action, with per-worker outcomes, across the restart.
  const audit = await getJson<{ total: number; entries: AuditEntry[] }>(base(), '/api/audit?limit=1000');
  const actions = new Set(audit.body.entries.map((e) => e.action));
  for (const action of [
    'pool-grow',
    'pool-shrink',
    'pool-autoscale',
    'rate-limit',
    'time-limit',
    'pause-worker',
    'resume-worker',
    'revoke',
    'pause-queue',
    'resume-queue',
    'purge-queue',
    'bulk-revoke',
    'shutdown',
  ]) {
    assert.ok(actions.has(action), `audit has ${action}`);
  }
  const growEntry = audit.body.entries.find((e) => e.action === 'pool-grow');
  assert.deepEqual(growEntry?.workers, { [a]: { ok: true, message: 'pool will grow' } });
  assert.equal(growEntry?.remote !== null, true);
  const autoscaleEntry = audit.body.entries.find((e) => e.action === 'pool-autoscale');
  assert.equal(autoscaleEntry?.ok, false);
}
