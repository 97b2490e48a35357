/**
 * Smoke test for the Celery harness: private redis-server + real worker (-E) + send.py,
 * observed with a plain ioredis PSUBSCRIBE on `/0.celeryev/*`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { startRedisServer, type PrivateRedisServer } from '../helpers/brokers';
import { decodeRedisEventPayload, sendTasks, startWorker, type CeleryEvent, type CeleryWorker } from '../helpers/celery';

let redis: PrivateRedisServer;
let sub: Redis;
let worker: CeleryWorker | null = null;
const events: CeleryEvent[] = [];
const waiters = new Set<() => void>();

function waitForEvent(pred: (e: CeleryEvent) => boolean, timeoutMs: number, what: string): Promise<CeleryEvent> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const hit = events.find(pred);
      if (hit) {
        clearTimeout(timer);
        waiters.delete(check);
        resolve(hit);
        return true;
      }
      return false;
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`timed out waiting for ${what}; saw: ${events.map((e) => e.type).join(', ')}\n--- worker log ---\n${worker?.log() ?? ''}`));
    }, timeoutMs);
    if (!check()) waiters.add(check);
  });
}

before(async () => {
  redis = await startRedisServer();
  sub = new Redis(redis.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
  await sub.connect();
  sub.on('pmessage', (_pattern: string, _channel: string, message: string) => {
    for (const e of decodeRedisEventPayload(message)) events.push(e);
    for (const w of [...waiters]) w();
  });
  await sub.psubscribe('/0.celeryev/*');
});

after(async () => {
  if (worker) await worker.kill();
  sub?.disconnect();
  await redis?.stop();
});

test('real worker publishes task and worker events on a private redis', async () => {
  const url = redis.url(0);
  worker = await startWorker({ brokerUrl: url, nodeName: 'smoke@celeriac', sendEvents: true, concurrency: 1 });
  assert.ok(worker.pid > 0);
  await waitForEvent((e) => e.type === 'worker-online' && e.hostname === 'smoke@celeriac', 10_000, 'worker-online');

  const [id] = await sendTasks(url, [{ task: 'tasks.add', args: [2, 3] }]);
  assert.ok(id);
  await waitForEvent((e) => e.type === 'task-sent' && e.uuid === id, 10_000, 'task-sent');
  const ok = await waitForEvent((e) => e.type === 'task-succeeded' && e.uuid === id, 15_000, 'task-succeeded');
  assert.equal(ok.result, '5');
  assert.equal(ok.hostname, 'smoke@celeriac');

  await worker.stop();
  const off = await waitForEvent((e) => e.type === 'worker-offline' && e.hostname === 'smoke@celeriac', 5_000, 'worker-offline');
  assert.equal(off.sw_ident, 'py-celery');
  assert.match(worker.log(), /smoke@celeriac ready\./);
  worker = null;
});
