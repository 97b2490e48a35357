/**
 * The Redis URL forms and transport options a production deployment uses, each with a real
 * Celery worker configured the same way: global_keyprefix on another db, Sentinel (kombu 5.2
 * publishes on the literal "/{db}." channels), TLS with a password.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import type { FlowerTaskDict } from '../../server/state/task-record';
import type { WorkersSnapshot } from '../../server/realtime/types';
import { Redis, type RedisOptions } from 'ioredis';
import { sendTasks } from '../helpers/celery';
import { getJson, waitFor } from '../helpers/celeriac';
import { TestResources } from '../helpers/resources';

const resources = new TestResources();
after(() => resources.stopAll());

async function workerNames(base: string): Promise<string[]> {
  return (await getJson<WorkersSnapshot>(base, '/api/celeriac/workers')).body.workers.filter((w) => w.status === 'online').map((w) => w.hostname);
}

/** Send one task through the worker's own broker URL and wait until Celeriac shows it succeeded. */
async function roundTrip(base: string, brokerUrl: string, transportOptions?: Record<string, unknown>): Promise<FlowerTaskDict> {
  const id = randomUUID();
  await sendTasks(brokerUrl, [{ task: 'tasks.add', args: [20, 22], id }], { transportOptions });
  return waitFor(`task ${id} to succeed`, async () => {
    const res = await getJson<FlowerTaskDict>(base, `/api/task/info/${id}`);
    return res.status === 200 && res.body.state === 'SUCCESS' ? res.body : null;
  });
}

describe('Redis variants with real workers', { timeout: 240_000 }, () => {
  it('global_keyprefix on db 3 sees its app and nothing of another app on db 0', async () => {
    const server = await resources.redis();
    const prefixed = { global_keyprefix: 'pfx:' };
    const celeriac = await resources.celeriac(['--broker', server.url(3), '--broker-transport-option', 'global_keyprefix=pfx:']);
    await resources.worker({ brokerUrl: server.url(3), nodeName: 'prefixed@variants', sendEvents: true, transportOptions: prefixed });
    await resources.worker({ brokerUrl: server.url(0), nodeName: 'other-app@variants', sendEvents: true });
    await waitFor('prefixed worker online', async () => (await workerNames(celeriac.url)).includes('prefixed@variants'));
    const task = await roundTrip(celeriac.url, server.url(3), prefixed);
    assert.equal(task.result, '42');
    assert.equal(task.worker, 'prefixed@variants');
    // The other app's worker heartbeats every 2 s on the same server: it must never show up.
    await new Promise((r) => setTimeout(r, 4_500));
    assert.deepEqual(await workerNames(celeriac.url), ['prefixed@variants']);
  });

  it('sentinel:// with master_name follows the master and hears kombu 5.2 workers', async () => {
    const master = await resources.redis();
    const sentinel = await resources.redis({
      args: (port, dir) => {
        const conf = path.join(dir, 'sentinel.conf');
        writeFileSync(conf, `sentinel monitor celeriac-master 127.0.0.1 ${master.port} 1\n`);
        return [conf, '--sentinel', '--port', String(port)];
      },
    });
    const url = `sentinel://127.0.0.1:${sentinel.port}/0`;
    const celeriac = await resources.celeriac(['--broker', url, '--broker-transport-option', 'master_name=celeriac-master']);
    const options = { master_name: 'celeriac-master' };
    await resources.worker({ brokerUrl: url, nodeName: 'sentinel@variants', sendEvents: true, transportOptions: options });
    await waitFor('worker online through sentinel', async () => (await workerNames(celeriac.url)).includes('sentinel@variants'));
    const task = await roundTrip(celeriac.url, url, options);
    assert.equal(task.worker, 'sentinel@variants');
    await assertOversizeDiscardedWhileRead(celeriac.url, { host: '127.0.0.1', port: master.port });
  });

  it('rediss:// with a password: TLS, auth, and the password never shown', async () => {
    const password = `pw-${randomUUID()}`;
    const server = await resources.redis({
      probe: 'tcp',
      args: (port, dir) => {
        const key = path.join(dir, 'key.pem');
        const cert = path.join(dir, 'cert.pem');
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
        return ['--port', '0', '--tls-port', String(port), '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no', '--requirepass', password];
      },
    });
    const url = `rediss://:${password}@127.0.0.1:${server.port}/0?ssl_cert_reqs=none`;
    const celeriac = await resources.celeriac(['--broker', url]);
    await waitFor('TLS event stream up', async () => (await getJson(celeriac.url, '/healthcheck')).status === 200);
    await resources.worker({ brokerUrl: url, nodeName: 'tls@variants', sendEvents: true });
    await waitFor('worker online over TLS', async () => (await workerNames(celeriac.url)).includes('tls@variants'));
    await roundTrip(celeriac.url, url);
    const status = await fetch(`${celeriac.url}/api/celeriac/status`);
    const text = await status.text();
    assert.equal(text.includes(password), false);
    assert.match(text, /rediss:\/\/:\*\*\*@127\.0\.0\.1/);
    await assertOversizeDiscardedWhileRead(celeriac.url, { host: '127.0.0.1', port: server.port, password, tls: { rejectUnauthorized: false } });
  });

  it('a wrong password is an honest 503 that does not echo the password', async () => {
    const server = await resources.redis({ probe: 'tcp', args: (port) => ['--port', String(port), '--requirepass', 'right'] });
    const given = `not-it-${randomUUID()}`;
    const celeriac = await resources.celeriac(['--broker', `redis://:${given}@127.0.0.1:${server.port}/0`]);
    const res = await waitFor('503 with the auth error', async () => {
      const r = await getJson<string>(celeriac.url, '/healthcheck');
      return r.status === 503 && /WRONGPASS|NOAUTH/.test(r.body) ? r : null;
    });
    assert.equal(res.body.includes(given), false);
  });
});

/**
 * The subscriber's socket goes through its RESP scanner on this kind of connection too: a 9 MB
 * message of non-ASCII text (4.5 M characters, so only the read-time check sees it as over the
 * 8 MiB limit) is counted as oversized.
 */
async function assertOversizeDiscardedWhileRead(base: string, publisher: RedisOptions): Promise<void> {
  const client = new Redis({ ...publisher, lazyConnect: true });
  try {
    await client.connect();
    await client.publish('/0.celeryev/task.sent', JSON.stringify({ body: '\u00e9'.repeat(4_500_000) }));
    await waitFor('oversized counted', async () => {
      const status = (await getJson<{ events: { dropped: Record<string, number> } }>(base, '/api/celeriac/status')).body;
      return status.events.dropped.oversized === 1;
    });
  } finally {
    client.disconnect();
  }
}
