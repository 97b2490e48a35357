/**
 * A real Prometheus scrapes a running Celeriac every second while real Celery workers run a
 * mixed workload (success, failure, retry, a queue nobody consumes, a worker killed with
 * SIGKILL). Then every PromQL expression of every dashboard panel, template variable and alert
 * is evaluated through Prometheus's HTTP API, and the key numbers are checked against what
 * really happened.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import type { RunningCeleriac } from '../../server/server';
import { startRedisServer } from '../helpers/brokers';
import { runCeleryPython, sendTasks, startWorker, type CeleryWorker } from '../helpers/celery';
import { getJson, startTestCeleriac, waitFor } from '../helpers/celeriac';
import { ALERTS_FILE, alertExpressions, dashboardExpressions, substituteGrafanaVariables, variableQueries } from '../helpers/dashboards';
import { startPrometheus, type RunningPrometheus } from '../helpers/prometheus';

const UNCONSUMED = 'reports-unconsumed';

test('Prometheus evaluates every dashboard panel and alert against Celeriac with real workers', { timeout: 300_000 }, async () => {
  const redis = await startRedisServer();
  const workers: CeleryWorker[] = [];
  let celeriac: RunningCeleriac | null = null;
  let prometheus: RunningPrometheus | null = null;
  after(async () => {
    await Promise.allSettled(workers.map((w) => w.kill()));
    await prometheus?.stop();
    await celeriac?.close();
    await redis.stop();
  });

  // A size cap, so the self-monitoring dashboard's cap line (drawn only when there is one) has data.
  celeriac = await startTestCeleriac(['--broker', redis.url(0), '--queue-poll-interval', '1', '--queues', UNCONSUMED, '--store-max-size', '10GB']);
  const base = celeriac.url;
  prometheus = await startPrometheus({ targets: [`127.0.0.1:${celeriac.port}`], ruleFiles: [ALERTS_FILE] });
  const prom = prometheus;

  const steady = 'steady@prom-test';
  const doomed = 'doomed@prom-test';
  workers.push(await startWorker({ brokerUrl: redis.url(0), nodeName: steady, concurrency: 2, sendEvents: true, heartbeatInterval: 1 }));
  const doomedWorker = await startWorker({ brokerUrl: redis.url(0), nodeName: doomed, sendEvents: true, heartbeatInterval: 1 });
  workers.push(doomedWorker);
  for (const name of [steady, doomed]) await waitFor(`${name} online`, async () => (await getJson<Record<string, boolean>>(base, '/api/workers?status=1')).body[name] === true);
  // Celeriac inspects new workers and pre-creates their task series at zero; let Prometheus see them.
  await getJson(base, '/api/workers?refresh=1');
  await new Promise((r) => setTimeout(r, 2_500));
  // A control action, so the control-call panels have data.
  assert.equal((await fetch(`${base}/api/task/revoke/${randomUUID()}`, { method: 'POST' })).status, 200);

  // The workload: 12 successes, 4 failures, one task retried twice then failed, 5 messages on a
  // queue nobody consumes.
  const ok = Array.from({ length: 12 }, () => randomUUID());
  const failing = Array.from({ length: 4 }, () => randomUUID());
  const retrying = randomUUID();
  await sendTasks(redis.url(0), [
    ...ok.map((id, i) => ({ task: 'tasks.add', args: [i, 1], id })),
    ...failing.map((id) => ({ task: 'tasks.fail', args: ['boom'], id })),
    { task: 'tasks.retry_then_fail', kwargs: { max_retries: 2 }, id: retrying },
  ]);
  await runCeleryPython(redis.url(0), `from tasks import app\nfor i in range(5): app.send_task('tasks.add', (i, i), queue='${UNCONSUMED}')`);
  await waitFor(
    'workload finished',
    async () => {
      const all = await getJson<Record<string, { state: string }>>(base, '/api/tasks');
      return [...ok, ...failing, retrying].every((id) => ['SUCCESS', 'FAILURE'].includes(all.body[id]?.state ?? ''));
    },
    60_000,
  );

  // Kill one worker: nothing tells Celeriac but the silence (heartbeat every 1 s → down after 2 s).
  await doomedWorker.kill();
  await waitFor('Prometheus sees the killed worker down', async () => (await prom.query(`celery_worker_up{hostname="${doomed}"} == 0`)).length === 1, 30_000, 500);
  // Let a few more scrapes land so rate windows have samples on both sides.
  await new Promise((r) => setTimeout(r, 5_000));

  // Key values match what really happened.
  const value = async (expr: string): Promise<number> => {
    const result = await prom.query(expr);
    assert.equal(result.length, 1, `${expr} returns one series (got ${JSON.stringify(result)})`);
    return Number(result[0]?.value[1]);
  };
  assert.equal(await value(`celery_queue_length{queue_name="${UNCONSUMED}"}`), 5);
  const brokerLength = (await celeriac.monitor.transport.queueStats([UNCONSUMED]))[0]?.messages;
  assert.equal(brokerLength, 5, 'the broker agrees');
  assert.equal(await value('sum(celery_task_succeeded_total)'), 12);
  assert.equal(await value('sum(celery_task_failed_total)'), 5);
  assert.equal(await value('sum(celery_task_retried_total)'), 2);
  assert.equal(await value('sum(celery_task_failed_total{exception="ValueError"})'), 4);
  assert.equal(await value(`celery_worker_up{hostname="${steady}"}`), 1);
  assert.equal(await value(`celery_worker_up{hostname="${doomed}"}`), 0);
  assert.equal(await value(`flower_worker_online{worker="${doomed}"}`), 0, 'Flower would still say 1 here');
  assert.equal(await value('sum(flower_events_total{type="task-succeeded"})'), 12);
  assert.equal(await value('celeriac_broker_connected'), 1);

  // The worker-down alert is pending (its `for` has not elapsed yet) for the killed worker only.
  await waitFor(
    'CeleryWorkerDown pending for the killed worker',
    async () => {
      const alerts = await prom.alerts();
      return alerts.some((a) => a.labels.alertname === 'CeleryWorkerDown' && a.labels.hostname === doomed && (a.state === 'pending' || a.state === 'firing'));
    },
    30_000,
    1_000,
  );
  assert.equal(
    (await prom.alerts()).some((a) => a.labels.alertname === 'CeleryWorkerDown' && a.labels.hostname === steady),
    false,
  );

  // Every dashboard panel, template variable and alert expression is valid PromQL and returns data.
  const empty: string[] = [];
  for (const { file, panel, expr } of dashboardExpressions()) {
    const promql = substituteGrafanaVariables(expr);
    const result = await prom.query(promql); // rejects on a PromQL error
    if (result.length === 0) empty.push(`${file} / ${panel}: ${promql}`);
  }
  for (const { file, variable, promql } of variableQueries()) {
    if (promql === null) continue;
    const result = await prom.query(substituteGrafanaVariables(promql));
    if (result.length === 0) empty.push(`${file} / variable ${variable}: ${promql}`);
  }
  assert.deepEqual(empty, [], 'every panel and variable shows data');
  for (const { alert, expr } of alertExpressions()) {
    await prom.query(expr); // valid PromQL; whether it fires depends on the alert
    assert.ok(alert.length > 0);
  }
});
