/**
 * Safe by default: bound to a network address without authentication, Celeriac refuses the API
 * (read and control) and live updates to every client — a real remote one, in a network
 * namespace of the test's own joined by a veth pair, and loopback ones too, because the rule
 * follows the listen address, not the peer. `--unauthenticated-api` opens it on purpose with a
 * logged warning; `--basic-auth` applies the usual rules. /healthcheck and /metrics keep theirs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { io } from 'socket.io-client';
import { parseConfig } from '../../server/config/config';
import { AccessRefusedError } from '../../server/http/access';
import { createLogger } from '../../server/log';
import { getRuntime } from '../../server/runtime';
import { startCeleriac, type RunningCeleriac } from '../../server/server';
import { startRedisServer, type PrivateRedisServer } from '../helpers/brokers';
import { waitFor } from '../helpers/celeriac';
import { canUseNetns, createRemoteHost, type RemoteHost } from '../helpers/netns';

const TASK_ID = 'c0ffee00-0000-4000-8000-0000000000aa';
const skip = canUseNetns();

interface LogLine {
  level: number;
  msg: string;
  security?: string;
}

async function start(redis: PrivateRedisServer, args: string[]): Promise<{ celeriac: RunningCeleriac; logs: LogLine[] }> {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'celeriac-data-'));
  const parsed = parseConfig(['--port', '0', '--log-level', 'info', '--data-dir', dataDir, '--inspect-timeout', '300', '--broker', redis.url(0), ...args], {});
  if (parsed.kind !== 'config') throw new Error(parsed.output);
  const celeriac = await startCeleriac(parsed.config, createLogger('info', sink), { ui: false });
  await waitFor('the broker connection', async () => celeriac.monitor.health().ok);
  return { celeriac, logs };
}

/** A socket.io client over WebSocket only (no polling handshake first): connected, or the refusal. */
function websocketOutcome(port: number): Promise<{ connected: boolean; error: string | null }> {
  return new Promise((resolve) => {
    const socket = io(`http://127.0.0.1:${port}`, { path: '/socket.io', transports: ['websocket'], reconnection: false, timeout: 5_000 });
    socket.once('connect', () => {
      socket.close();
      resolve({ connected: true, error: null });
    });
    socket.once('connect_error', (error) => {
      socket.close();
      resolve({ connected: false, error: error.message });
    });
  });
}

const basic = (pair: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(pair).toString('base64')}` });

describe('the access rule follows the listen address', { skip, timeout: 120_000 }, () => {
  let redis: PrivateRedisServer;
  let remote: RemoteHost;

  before(async () => {
    redis = await startRedisServer();
    remote = await createRemoteHost();
  });
  after(async () => {
    remote?.remove();
    await redis?.stop();
  });

  describe('bound to 0.0.0.0 with no authentication', () => {
    let celeriac: RunningCeleriac;
    let logs: LogLine[];
    let remoteBase: string;
    let loopbackBase: string;
    before(async () => {
      ({ celeriac, logs } = await start(redis, ['--address', '0.0.0.0']));
      remoteBase = `http://${remote.hostAddress}:${celeriac.port}`;
      loopbackBase = `http://127.0.0.1:${celeriac.port}`;
    });
    after(() => celeriac?.close());

    it('refuses an anonymous revoke from a remote client with 401 and the fix', async () => {
      const res = await remote.request('POST', `${remoteBase}/api/task/revoke/${TASK_ID}`);
      assert.equal(res.status, 401);
      const { error } = JSON.parse(res.body) as { error: string };
      assert.match(error, /listens on 0\.0\.0\.0/);
      assert.match(error, /--basic-auth user:password/);
      assert.match(error, /--unauthenticated-api/);
      assert.equal(celeriac.monitor.audit.list({ limit: 10, offset: 0, action: null, target: null }).total, 0, 'nothing was done');
    });

    it('refuses every other control, the read API and the socket.io handshake from the remote client', async () => {
      for (const [method, route] of [
        ['POST', '/api/worker/shutdown/w1@host'],
        ['POST', '/api/queues/purge/celery?confirm=celery'],
        ['POST', '/api/task/send-task/tasks.add'],
        ['GET', '/api/tasks'],
        ['GET', '/api/workers'],
        ['GET', '/api/celeriac/status'],
        ['GET', '/api/audit'],
        ['GET', '/api/no-such-route'],
        ['GET', '/API/tasks'],
        ['POST', '/Api/Task/Revoke/' + TASK_ID],
        ['GET', '/api/%74asks'],
        ['GET', '/x/../api/tasks'],
      ] as const) {
        const res = await remote.request(method, `${remoteBase}${route}`);
        assert.equal(res.status, 401, `${method} ${route}`);
        assert.match(res.body, /--unauthenticated-api/, `${method} ${route}`);
      }
      const socket = await remote.request('GET', `${remoteBase}/socket.io/?EIO=4&transport=polling`);
      assert.equal(socket.status, 403); // engine.io's only refusal status; the reason is in the body
      assert.match((JSON.parse(socket.body) as { message: string }).message, /--basic-auth user:password/);
    });

    it('refuses loopback clients as well: the rule follows the listen address', async () => {
      const revoke = await fetch(`${loopbackBase}/api/task/revoke/${TASK_ID}`, { method: 'POST' });
      assert.equal(revoke.status, 401);
      assert.equal(revoke.headers.get('www-authenticate'), null, 'no Basic challenge: no credentials could help');
      assert.match(((await revoke.json()) as { error: string }).error, /--unauthenticated-api/);
      assert.equal((await fetch(`${loopbackBase}/api/tasks`)).status, 401);
      assert.equal((await fetch(`${loopbackBase}/socket.io/?EIO=4&transport=polling`)).status, 403);
      assert.equal((await websocketOutcome(celeriac.port)).connected, false, 'a direct WebSocket upgrade is refused too');
      assert.equal(celeriac.hub.io.engine.clientsCount, 0);
    });

    it("gives the pages' runtime no cluster data: every data function throws (fail closed)", () => {
      const runtime = getRuntime();
      assert.equal(runtime?.access.mode, 'locked');
      assert.match(runtime?.access.refusal ?? '', /--unauthenticated-api/);
      assert.throws(() => runtime?.tasks({}), AccessRefusedError);
      assert.throws(() => runtime?.workersSnapshot(), AccessRefusedError);
      assert.throws(() => runtime?.task(TASK_ID), AccessRefusedError);
      assert.throws(() => runtime?.registeredTasks(), AccessRefusedError);
    });

    it('keeps /healthcheck and /metrics on their own rules (open)', async () => {
      const health = await remote.request('GET', `${remoteBase}/healthcheck`);
      assert.equal(health.status, 200);
      assert.equal(health.body, 'OK');
      const metrics = await remote.request('GET', `${remoteBase}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.body, /celeriac_broker_connected/);
    });

    it('logs why the API is refused at start-up', () => {
      const locked = logs.filter((l) => l.security === 'api-locked');
      assert.equal(locked.length, 1);
      assert.equal(locked[0]?.level, 40);
      assert.match(locked[0]?.msg ?? '', /--basic-auth user:password/);
      assert.equal(
        logs.some((l) => l.security === 'unauthenticated-api'),
        false,
      );
    });
  });

  describe('bound to 0.0.0.0 with --unauthenticated-api', () => {
    let celeriac: RunningCeleriac;
    let logs: LogLine[];
    before(async () => {
      ({ celeriac, logs } = await start(redis, ['--address', '0.0.0.0', '--unauthenticated-api']));
    });
    after(() => celeriac?.close());

    it('accepts an anonymous revoke from the remote client', async () => {
      const res = await remote.request('POST', `http://${remote.hostAddress}:${celeriac.port}/api/task/revoke/${TASK_ID}`);
      assert.equal(res.status, 200, res.body);
      // No worker is up: the revocation was accepted and sent, and the reply says nobody heard it.
      assert.match((JSON.parse(res.body) as { message: string }).message, new RegExp(`^No worker acknowledged the revocation of '${TASK_ID}'`));
      const audit = celeriac.monitor.audit.list({ limit: 10, offset: 0, action: null, target: null });
      assert.equal(audit.total, 1);
      assert.equal(audit.entries[0]?.remote?.replace(/^::ffff:/, ''), remote.remoteAddress, 'the request came from the namespace');
      assert.equal(audit.entries[0]?.user, null);
    });

    it('serves the read API and the socket to loopback clients too', async () => {
      const base = `http://127.0.0.1:${celeriac.port}`;
      assert.equal((await fetch(`${base}/api/tasks`)).status, 200);
      assert.equal((await fetch(`${base}/socket.io/?EIO=4&transport=polling`)).status, 200);
      assert.deepEqual(await websocketOutcome(celeriac.port), { connected: true, error: null });
    });

    it('warns once, prominently, at start-up', () => {
      const warnings = logs.filter((l) => l.security === 'unauthenticated-api');
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]?.level, 40);
      assert.match(warnings[0]?.msg ?? '', /^SECURITY WARNING: --unauthenticated-api is set and Celeriac listens on 0\.0\.0\.0 without authentication/);
      assert.match(warnings[0]?.msg ?? '', /revoke tasks, shut workers down, purge queues and send tasks/);
    });
  });

  describe('bound to 0.0.0.0 with --basic-auth', () => {
    let celeriac: RunningCeleriac;
    let logs: LogLine[];
    before(async () => {
      ({ celeriac, logs } = await start(redis, ['--address', '0.0.0.0', '--basic-auth', 'ops:s3cret']));
    });
    after(() => celeriac?.close());

    it('asks the remote client for credentials and accepts them', async () => {
      const base = `http://${remote.hostAddress}:${celeriac.port}`;
      const anonymous = await remote.request('POST', `${base}/api/task/revoke/${TASK_ID}`);
      assert.equal(anonymous.status, 401);
      assert.deepEqual(JSON.parse(anonymous.body), { error: 'Authentication required' });
      assert.equal((await remote.request('POST', `${base}/api/task/revoke/${TASK_ID}`, { headers: basic('ops:wrong') })).status, 401);
      const ok = await remote.request('POST', `${base}/api/task/revoke/${TASK_ID}`, { headers: basic('ops:s3cret') });
      assert.equal(ok.status, 200, ok.body);
      const audit = celeriac.monitor.audit.list({ limit: 10, offset: 0, action: null, target: null });
      assert.equal(audit.entries[0]?.user, 'ops');
      assert.equal((await remote.request('GET', `${base}/api/tasks`, { headers: basic('ops:s3cret') })).status, 200);
    });

    it('logs no security warning', () => {
      assert.equal(
        logs.some((l) => l.security !== undefined),
        false,
      );
    });
  });
});

describe('on loopback (the default address) nothing changes', { timeout: 60_000 }, () => {
  let redis: PrivateRedisServer;
  let celeriac: RunningCeleriac;
  let logs: LogLine[];
  before(async () => {
    redis = await startRedisServer();
    ({ celeriac, logs } = await start(redis, []));
  });
  after(async () => {
    await celeriac?.close();
    await redis?.stop();
  });

  it('accepts an anonymous revoke and read, with no warning', async () => {
    assert.match(celeriac.url, /^http:\/\/127\.0\.0\.1:/);
    const res = await fetch(`${celeriac.url}/api/task/revoke/${TASK_ID}`, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.equal((await fetch(`${celeriac.url}/api/tasks`)).status, 200);
    assert.equal(celeriac.access.state.mode, 'local');
    assert.equal(
      logs.some((l) => l.security !== undefined),
      false,
    );
  });
});
