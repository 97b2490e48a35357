/**
 * /metrics over HTTP without workers: the model is fed the envelopes captured from real Celery
 * workers, and the exposition is checked with promtool and for the semantics the issue asks for.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exposedNames, METRICS } from '../../server/metrics/catalogue';
import { decodeRedisMessage } from '../../server/protocol/decode';
import type { RunningCeleriac } from '../../server/server';
import { freePort } from '../helpers/brokers';
import { startTestCeleriac } from '../helpers/celeriac';
import { PROMTOOL, PROMTOOL_BIN, requireTool } from '../helpers/tools';
import { sample } from '../helpers/exposition';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/envelopes/redis');

function feed(celeriac: RunningCeleriac, now = Date.now() / 1000): void {
  for (const file of readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const { payload } = JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as { payload: string };
    decodeRedisMessage(payload, now, celeriac.monitor.ingest);
  }
}

async function scrape(base: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${base}/metrics`, { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('/metrics', () => {
  let celeriac: RunningCeleriac;
  before(async () => {
    celeriac = await startTestCeleriac(['--broker', `redis://127.0.0.1:${await freePort()}/0`, '--basic-auth', 'ops:pw', '--metrics-task-worker-label', 'full']);
    feed(celeriac);
    const first = await scrape(celeriac.url);
    // Series born since the last scrape are exposed at zero first (so Prometheus's increase() counts them).
    assert.equal(sample(first.text, 'celery_task_succeeded_total', { name: 'tasks.add' }), 0);
  });
  after(() => celeriac.close());

  it('passes promtool check metrics, open even with --basic-auth (scrapers expect it)', async () => {
    const { status, type, text } = await scrape(celeriac.url);
    assert.equal(status, 200);
    assert.match(type ?? '', /^text\/plain; version=0\.0\.4/);
    requireTool(PROMTOOL);
    const lint = spawnSync(PROMTOOL_BIN, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(lint.status, 0, `${lint.stdout}${lint.stderr}`);
  });

  it('exports exactly the catalogue', async () => {
    const { text } = await scrape(celeriac.url);
    const typed = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] as string));
    assert.deepEqual([...typed].sort(), METRICS.map((m) => m.name).sort());
    const exposed = exposedNames();
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const name = line.split(/[{ ]/)[0] as string;
      assert.ok(exposed.has(name), `${name} is in the catalogue`);
    }
  });

  it('counts task events like Flower and celery-exporter', async () => {
    const { text } = await scrape(celeriac.url);
    const worker = 'capture-redis@fixtures';
    assert.equal(sample(text, 'flower_events_total', { worker, type: 'task-failed', task: 'tasks.fail' }), 1);
    assert.equal(sample(text, 'flower_events_total', { worker, type: 'task-retried', task: 'tasks.retry_then_fail' }), 2);
    assert.equal(sample(text, 'celery_task_succeeded_total', { name: 'tasks.add', hostname: worker, queue_name: 'celery' }), 1);
    assert.equal(sample(text, 'celery_task_failed_total', { name: 'tasks.fail', exception: 'ValueError' }), 1);
    assert.equal(sample(text, 'celery_task_failed_total', { name: 'tasks.add', exception: '' }), 0, 'pre-zeroed, so ratios have both sides');
    assert.equal(sample(text, 'celery_task_revoked_total', { name: 'tasks.add' }), 1);
    assert.equal(sample(text, 'celery_task_runtime_count', { name: 'tasks.sleep' }), 1);
    assert.ok((sample(text, 'celery_task_runtime_sum', { name: 'tasks.sleep' }) ?? 0) >= 1);
    assert.equal(sample(text, 'celery_task_queue_wait_time_count', { name: 'tasks.add' }), 1);
    assert.equal(sample(text, 'celeriac_events_received_total', { type: 'task-succeeded' }), 3);
    assert.equal(sample(text, 'celeriac_events_dropped_total', { reason: 'bad_json' }), 0);
    assert.equal(sample(text, 'celeriac_broker_connected'), 0);
  });

  it('reports the worker offline (Flower would keep it online) after its worker-offline', async () => {
    const { text } = await scrape(celeriac.url);
    assert.equal(sample(text, 'flower_worker_online', { worker: 'capture-redis@fixtures' }), 0);
    assert.equal(sample(text, 'celery_worker_up', { hostname: 'capture-redis@fixtures' }), 0);
  });

  it('negotiates OpenMetrics', async () => {
    const { type, text } = await scrape(celeriac.url, { accept: 'application/openmetrics-text; version=1.0.0,text/plain;q=0.5' });
    assert.match(type ?? '', /^application\/openmetrics-text/);
    assert.match(text, /# EOF\n?$/);
    assert.match(text, /^# TYPE celery_task_succeeded counter$/m, 'OpenMetrics names the counter family without _total');
    assert.match(text, /^celery_task_succeeded_total\{/m);
    // The text format keeps the _total names after an OpenMetrics scrape (prom-client renames in place).
    const [plain, concurrentOm] = await Promise.all([scrape(celeriac.url), scrape(celeriac.url, { accept: 'application/openmetrics-text' })]);
    assert.match(plain.text, /^# TYPE celery_task_succeeded_total counter$/m);
    assert.match(concurrentOm.text, /^# TYPE celery_task_succeeded counter$/m);
    assert.match((await scrape(celeriac.url)).text, /^celery_task_succeeded_total\{/m);
  });
});

function authHeaders(args: string[]): Record<string, string> {
  const i = args.indexOf('--metrics-auth');
  if (i === -1) return {};
  const value = args[i + 1] as string;
  return { authorization: value.includes(':') ? `Basic ${Buffer.from(value).toString('base64')}` : `Bearer ${value}` };
}

describe('/metrics options', () => {
  const started: RunningCeleriac[] = [];
  after(async () => {
    for (const c of started) await c.close();
  });
  const start = async (...args: string[]): Promise<RunningCeleriac> => {
    const c = await startTestCeleriac(['--broker', `redis://127.0.0.1:${await freePort()}/0`, ...args]);
    started.push(c);
    feed(c);
    await fetch(`${c.url}/metrics`, { headers: authHeaders(args) }); // expose new series at zero first
    return c;
  };

  it('--metrics-auth with a bearer token or basic credentials', async () => {
    const bearer = await start('--metrics-auth', 's3cret-token');
    assert.equal((await scrape(bearer.url)).status, 401);
    assert.equal((await scrape(bearer.url, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await scrape(bearer.url, { authorization: 'Bearer s3cret-token' })).status, 200);
    const basic = await start('--metrics-auth', 'prom:pw');
    assert.equal((await scrape(basic.url)).status, 401);
    assert.equal((await scrape(basic.url, { authorization: `Basic ${Buffer.from('prom:pw').toString('base64')}` })).status, 200);
  });

  it('--metrics selects families; none turns /metrics off', async () => {
    const flowerOnly = await start('--metrics', 'flower');
    const { text } = await scrape(flowerOnly.url);
    assert.ok(text.includes('flower_events_total'));
    assert.equal(text.includes('celery_task_'), false);
    assert.equal(text.includes('celeriac_'), false);
    const off = await start('--metrics', 'none');
    assert.equal((await scrape(off.url)).status, 404);
  });

  it('per-task series default to one generic worker label; worker gauges keep full names', async () => {
    const defaults = await start();
    const { text } = await scrape(defaults.url);
    assert.equal(sample(text, 'celery_task_succeeded_total', { name: 'tasks.add', hostname: 'generic' }), 1);
    assert.equal(sample(text, 'flower_events_total', { worker: 'generic', type: 'task-sent', task: 'tasks.add' }), 2, 'clients collapse too');
    assert.equal(sample(text, 'celery_worker_up', { hostname: 'capture-redis@fixtures' }), 0);
  });

  it('collapses worker hostnames and caps label sets with an overflow counter', async () => {
    const host = await start('--metrics-task-worker-label', 'host', '--metrics-worker-label', 'host', '--metrics-max-series', '3');
    const { text } = await scrape(host.url);
    assert.ok(text.includes('hostname="fixtures"'), 'host part of capture-redis@fixtures');
    const received = text.split('\n').filter((l) => l.startsWith('celery_task_received_total{'));
    assert.equal(received.length, 3, 'capped at 3 label sets');
    assert.ok((sample(text, 'celeriac_metrics_series_dropped_total', { metric: 'celery_task_received_total' }) ?? 0) >= 1);
  });

  it('custom histogram buckets', async () => {
    const custom = await start('--runtime-buckets', '1,5,10', '--queue-wait-buckets', '0.5,60');
    const { text } = await scrape(custom.url);
    assert.ok(text.includes('celery_task_runtime_bucket{le="5",'));
    assert.ok(text.includes('celery_task_queue_wait_time_bucket{le="60",'));
    assert.equal(text.includes('celery_task_runtime_bucket{le="0.005",'), false);
  });

  it('expires a silent worker’s series only after --metrics-worker-expiry', async () => {
    const expiring = await start('--metrics-worker-expiry', '1', '--metrics-task-worker-label', 'full');
    assert.ok((await scrape(expiring.url)).text.includes('capture-redis@fixtures'));
    await new Promise((r) => setTimeout(r, 1_200));
    const later = (await scrape(expiring.url)).text;
    assert.equal(later.includes('capture-redis@fixtures'), false, 'every series of the silent worker is gone');
    assert.ok(later.includes('flower_events_total{worker="gen'), 'client series stay');
  });
});
