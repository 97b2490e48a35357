/**
 * The HTTP API's contract without workers: Celeriac runs for real (HTTP server, transport
 * retrying against a broker that is not there), and its model is fed the envelopes captured
 * from real Celery workers.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeRedisMessage } from '../../server/protocol/decode';
import type { RunningCeleriac } from '../../server/server';
import type { FlowerTaskDict } from '../../server/state/task-record';
import { freePort } from '../helpers/brokers';
import { getJson, startTestCeleriac } from '../helpers/celeriac';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/envelopes/redis');

function feedFixtures(celeriac: RunningCeleriac): void {
  for (const file of readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const { payload } = JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as { payload: string };
    decodeRedisMessage(payload, Date.now() / 1000, celeriac.monitor.ingest);
  }
}

describe('HTTP API with the broker down', () => {
  let celeriac: RunningCeleriac;
  let base: string;
  before(async () => {
    const deadPort = await freePort();
    celeriac = await startTestCeleriac(['--broker', `redis://:hunter2@127.0.0.1:${deadPort}/0`]);
    base = celeriac.url;
    feedFixtures(celeriac);
  });
  after(() => celeriac.close());

  it('keeps running and says why it is unhealthy', async () => {
    const res = await getJson<string>(base, '/healthcheck');
    assert.equal(res.status, 503);
    assert.match(res.body, /^event stream down since \d{4}-\d\d-\d\dT.*: /);
    assert.match(res.body, /ECONNREFUSED|not connected/);
  });

  it('never shows the broker password', async () => {
    const status = await getJson<{ broker: string }>(base, '/api/celeriac/status');
    assert.equal(status.body.broker.includes('hunter2'), false);
    assert.match(status.body.broker, /:\*\*\*@/);
    const workers = await getJson<{ stream: { broker: string } }>(base, '/api/celeriac/workers');
    assert.equal(JSON.stringify(workers.body).includes('hunter2'), false);
  });

  it('serves the model built from real events', async () => {
    const tasks = await getJson<Record<string, FlowerTaskDict>>(base, '/api/tasks');
    assert.equal(tasks.status, 200);
    assert.equal(Object.keys(tasks.body).length, 6);
    const add = tasks.body['c0ffee00-0000-4000-8000-000000000001'];
    assert.equal(add?.state, 'SUCCESS');
    assert.deepEqual(Object.keys(add ?? {}), [
      'uuid',
      'name',
      'state',
      'received',
      'sent',
      'started',
      'rejected',
      'succeeded',
      'failed',
      'retried',
      'revoked',
      'args',
      'kwargs',
      'eta',
      'expires',
      'retries',
      'worker',
      'result',
      'exception',
      'timestamp',
      'runtime',
      'traceback',
      'exchange',
      'routing_key',
      'clock',
      'client',
      'root',
      'root_id',
      'parent',
      'parent_id',
      'children',
    ]);
    const status = await getJson<Record<string, boolean>>(base, '/api/workers?status=true');
    assert.deepEqual(Object.values(status.body), [false]); // the captured worker shut down
  });

  it('filters, sorts and pages like Flower', async () => {
    const failed = await getJson<Record<string, FlowerTaskDict>>(base, '/api/tasks?state=FAILURE');
    assert.deepEqual(
      Object.values(failed.body)
        .map((t) => t.name)
        .sort(),
      ['tasks.fail', 'tasks.retry_then_fail'],
    );
    const byName = await getJson<Record<string, FlowerTaskDict>>(base, '/api/tasks?sort_by=name');
    const names = Object.values(byName.body).map((t) => t.name);
    assert.deepEqual(names, [...names].sort());
    const desc = await getJson<Record<string, FlowerTaskDict>>(base, '/api/tasks?sort_by=-name');
    assert.deepEqual(
      Object.values(desc.body).map((t) => t.name),
      [...names].reverse(),
    );
    const page = await getJson<Record<string, FlowerTaskDict>>(base, '/api/tasks?sort_by=name&limit=2&offset=1');
    assert.deepEqual(
      Object.values(page.body).map((t) => t.name),
      names.slice(1, 3),
    );
    const all = await getJson<Record<string, FlowerTaskDict>>(base, '/api/tasks?state=All&workername=All&taskname=All');
    assert.equal(Object.keys(all.body).length, 6);
    const search = await getJson<Record<string, FlowerTaskDict>>(base, `/api/tasks?search=${encodeURIComponent('name:tasks.add OR state:REVOKED')}`);
    assert.deepEqual(Object.keys(search.body).sort(), ['c0ffee00-0000-4000-8000-000000000001', 'c0ffee00-0000-4000-8000-000000000006']);
    const kwargs = await getJson<Record<string, FlowerTaskDict>>(base, `/api/tasks?search=${encodeURIComponent('kwargs:max_retries=2')}`);
    assert.deepEqual(Object.keys(kwargs.body), ['c0ffee00-0000-4000-8000-000000000003']);
    const received = await getJson<Record<string, FlowerTaskDict>>(base, '/api/tasks?received_start=2000-01-01%2000:00&received_end=2100-01-01%2000:00');
    assert.equal(Object.keys(received.body).length, 6);
    const none = await getJson<Record<string, FlowerTaskDict>>(base, '/api/tasks?received_end=2000-01-01%2000:00');
    assert.deepEqual(none.body, {});
  });

  it('keeps result order for task ids that look like integers', async () => {
    const now = Date.now() / 1000;
    for (const [id, offset] of [
      ['zzz', 3],
      ['100', 2],
      ['5', 1],
    ] as const) {
      celeriac.monitor.ingest.event({ kind: 'task', type: 'task-received', uuid: id, hostname: 'x@y', timestamp: now + offset, localReceived: now, clock: 1, utcoffset: 0, pid: 1, name: 'ordered' });
    }
    const res = await fetch(`${base}/api/tasks?taskname=ordered`);
    const text = await res.text();
    assert.ok(text.indexOf('"zzz"') < text.indexOf('"100"') && text.indexOf('"100"') < text.indexOf('"5"'), text.slice(0, 200));
  });

  it('answers bad parameters with 400 and a JSON error, never 500', async () => {
    const bad = [
      '/api/tasks?limit=abc',
      '/api/tasks?limit=-1',
      '/api/tasks?offset=1.5',
      '/api/tasks?sort_by=uuid',
      '/api/tasks?sort_by=--name',
      '/api/tasks?received_start=yesterday',
      '/api/tasks?received_end=2026-02-31%2010:00',
      '/api/tasks?search=%28name:x',
      '/api/tasks?search=ab',
      '/api/tasks?search=state:SUCCESS%20OR',
      '/api/workers?status=maybe',
      `/api/tasks?search=${'x'.repeat(3000)}`,
    ];
    for (const url of bad) {
      const res = await getJson<{ error: string }>(base, url);
      assert.equal(res.status, 400, `${url} → ${res.status}`);
      assert.equal(typeof res.body.error, 'string', url);
      assert.ok(res.body.error.length > 0);
    }
  });

  it('404s with JSON for unknown tasks, workers and routes', async () => {
    const task = await getJson<{ error: string }>(base, '/api/task/info/nope');
    assert.equal(task.status, 404);
    assert.equal(task.body.error, "Unknown task 'nope'");
    assert.equal((await getJson(base, '/api/workers?workername=ghost@h')).status, 404);
    const route = await getJson<{ error: string }>(base, '/api/frobnicate');
    assert.equal(route.status, 404);
    assert.equal(route.body.error, 'No such API route');
  });

  it('lists task types on both of Flower’s paths', async () => {
    const a = await getJson<{ 'task-types': string[] }>(base, '/api/task/types');
    assert.deepEqual(a.body['task-types'], ['ordered', 'tasks.add', 'tasks.fail', 'tasks.progress', 'tasks.retry_then_fail', 'tasks.sleep']);
    assert.deepEqual((await getJson(base, '/api/tasks/types')).body, a.body);
  });
});

describe('basic auth and URL prefix', () => {
  let celeriac: RunningCeleriac;
  before(async () => {
    celeriac = await startTestCeleriac(['--broker', `redis://127.0.0.1:${await freePort()}/0`, '--basic-auth', 'ops:s3cret', '--basic-auth', 'viewer:pw', '--url-prefix', '/celeriac/']);
  });
  after(() => celeriac.close());

  const auth = (user: string, pass: string): RequestInit => ({ headers: { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` } });

  it('serves under the prefix only', async () => {
    assert.match(celeriac.url, /\/celeriac$/);
    const root = `http://127.0.0.1:${celeriac.port}`;
    assert.equal((await fetch(`${root}/api/tasks`, auth('ops', 's3cret'))).status, 404);
    assert.equal((await fetch(`${root}/celeriac/api/tasks`, auth('ops', 's3cret'))).status, 200);
  });

  it('requires credentials everywhere except /healthcheck', async () => {
    const base = celeriac.url;
    const anonymous = await fetch(`${base}/api/tasks`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm="Celeriac"/);
    assert.equal((await fetch(`${base}/api/tasks`, auth('ops', 'wrong'))).status, 401);
    assert.equal((await fetch(`${base}/api/tasks`, auth('ops', 's3cret'))).status, 200);
    assert.equal((await fetch(`${base}/api/celeriac/status`, auth('viewer', 'pw'))).status, 200);
    assert.equal((await fetch(`${base}/healthcheck`)).status, 503); // open, and honest: no broker
    const socket = await fetch(`${base}/socket.io/?EIO=4&transport=polling`);
    assert.equal(socket.status, 403);
    const socketOk = await fetch(`${base}/socket.io/?EIO=4&transport=polling`, auth('ops', 's3cret'));
    assert.equal(socketOk.status, 200);
  });
});
