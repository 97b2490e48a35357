/**
 * Waiting for a task's result holds a Redis subscription and two timers per request: a client
 * that gives up (closes the connection) must release them at once, not when its timeout ends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningCeleriac } from '../../server/server';
import { startRedisServer, type PrivateRedisServer } from '../helpers/brokers';
import { startTestCeleriac, waitFor } from '../helpers/celeriac';

describe('result waits end with the request', () => {
  let redis: PrivateRedisServer;
  let celeriac: RunningCeleriac;
  before(async () => {
    redis = await startRedisServer();
    celeriac = await startTestCeleriac(['--broker', redis.url(0), '--result-backend', redis.url(1)]);
  });
  after(async () => {
    await celeriac.close();
    await redis.stop();
  });

  it('a client that disconnects from /api/task/result?timeout=600 frees its wait at once', async () => {
    const backend = celeriac.monitor.resultBackend;
    assert.ok(backend);
    const requests = Array.from({ length: 20 }, (_, i) =>
      fetch(`http://127.0.0.1:${celeriac.port}/api/task/result/never-${i}?timeout=600`, { signal: AbortSignal.timeout(500) }).catch((error: unknown) => error),
    );
    await waitFor('20 requests waiting', async () => backend.waiting() === 20, 5_000, 50);
    const outcomes = await Promise.all(requests);
    assert.ok(
      outcomes.every((o) => o instanceof Error),
      'the clients gave up',
    );
    await waitFor('every wait released', async () => backend.waiting() === 0, 5_000, 50);
  });

  it('a client that waits gets the state it was waiting for at its timeout', async () => {
    const res = await fetch(`http://127.0.0.1:${celeriac.port}/api/task/result/unknown-task?timeout=0.3`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { 'task-id': 'unknown-task', state: 'PENDING' });
    assert.equal(celeriac.monitor.resultBackend?.waiting(), 0);
  });
});
