/**
 * Live-UI benchmark (`npm run bench:ui`, also part of `npm run bench`). Prints figures; asserts
 * nothing.
 *
 * Event → browser latency: while a realistic Celery event stream is published on Redis at
 * 20,000 events/s, marker tasks are published one at a time and a socket.io client (the same
 * protocol and code path a browser's task page uses) that subscribed to each marker's task view
 * measures when the server pushed its new state. Target: p95 under 300 ms.
 */
import { io } from 'socket.io-client';
import { REALTIME, VIEW_EVENTS, type TaskDetail } from '../server/realtime/types';
import { startRedisServer } from '../test/helpers/brokers';
import { pyJson, type StreamMessage } from './celery-stream';
import { prepare, publishAtRate, redisPublisher, sleep, startCeleriac } from './harness';

const RATE = Number(process.env.BENCH_UI_RATE ?? 20_000);
const SECONDS = Number(process.env.BENCH_UI_SECONDS ?? 10);
const MARKERS = Number(process.env.BENCH_UI_MARKERS ?? 60);

export async function latencyBenchmark(): Promise<void> {
  const redis = await startRedisServer();
  const celeriac = await startCeleriac(redis.url(0));
  const publisher = await redisPublisher(redis.url(0));
  const markerClient = await redisPublisher(redis.url(0));
  const socket = io(celeriac.base, { path: '/socket.io', transports: ['websocket'] });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const published = new Map<string, number>();
  const latencies: number[] = [];
  const seen = (task: TaskDetail | null): void => {
    if (task?.state !== 'RECEIVED') return;
    const sent = published.get(task.uuid);
    if (sent === undefined) return;
    published.delete(task.uuid);
    latencies.push(performance.now() - sent);
  };
  // Under load the subscription can be processed after the event: then the snapshot carries it.
  socket.on(VIEW_EVENTS.taskUpdate, seen);
  socket.on(VIEW_EVENTS.taskSnapshot, seen);
  try {
    const load = prepare(publisher, RATE * SECONDS);
    const loading = publishAtRate(publisher, load, RATE);
    const interval = (SECONDS * 1000) / (MARKERS + 1);
    for (let i = 0; i < MARKERS; i++) {
      await sleep(interval);
      const uuid = `marker-${i}-${Date.now()}`;
      socket.emit(REALTIME.subscribe, { view: 'task', id: uuid });
      await sleep(20); // the subscription is in place before the event exists
      const event = {
        hostname: 'celery@marker',
        utcoffset: 0,
        pid: 1,
        clock: 1,
        uuid,
        name: 'bench.marker',
        args: '()',
        kwargs: '{}',
        root_id: uuid,
        parent_id: null,
        retries: 0,
        eta: null,
        expires: null,
        timestamp: Date.now() / 1000,
        type: 'task-received',
      };
      const message: StreamMessage = { routingKey: 'task.multi', body: pyJson([event]), events: 1, hostname: 'celery@marker' };
      const payload = markerClient.prepare(message);
      published.set(uuid, performance.now());
      markerClient.publish(payload, message);
      await markerClient.flush();
    }
    const achieved = await loading;
    await sleep(1_000);
    latencies.sort((a, b) => a - b);
    const pick = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
    console.log(`\n## event → browser latency (socket.io task view) under ${RATE} events/s on Redis`);
    console.log(`background load achieved ${Math.round(achieved.events / achieved.seconds)} events/s; ${latencies.length}/${MARKERS} markers seen`);
    console.log(`latency: p50 ${pick(0.5).toFixed(0)} ms, p95 ${pick(0.95).toFixed(0)} ms, max ${(latencies[latencies.length - 1] ?? Number.NaN).toFixed(0)} ms`);
  } finally {
    socket.disconnect();
    await publisher.close();
    await markerClient.close();
    celeriac.child.kill('SIGTERM');
    await redis.stop();
  }
}

/**
 * Tasks page first render with 100,000 retained tasks: the stream is published through Redis,
 * then Debian's Chromium loads /tasks (server render + hydration) until the first rows show.
 */
export async function firstRenderBenchmark(): Promise<void> {
  const TASKS = Number(process.env.BENCH_UI_TASKS ?? 100_000);
  const redis = await startRedisServer();
  const celeriac = await startCeleriac(redis.url(0), ['--ui', '--max-tasks', String(TASKS)]);
  const publisher = await redisPublisher(redis.url(0));
  const { launchBrowser } = await import('../e2e/browser');
  const browser = await launchBrowser();
  try {
    // A little more than TASKS lifecycles (heartbeats are part of the stream), then wait until ingest settles.
    const messages = prepare(publisher, Math.ceil(TASKS * 4.05));
    await publishAtRate(publisher, messages, 100_000);
    let last = -1;
    for (;;) {
      await sleep(1_000);
      const { tasks } = (await celeriac.status()).state;
      if (tasks === last) break;
      last = tasks;
    }
    const timings: number[] = [];
    for (let i = 0; i < 5; i++) {
      const page = await browser.newPage();
      const started = performance.now();
      await page.goto(`${celeriac.base}/tasks`);
      await page.locator('[data-testid="task-row"]').first().waitFor({ timeout: 60_000 });
      timings.push(performance.now() - started);
      await page.close();
    }
    timings.sort((a, b) => a - b);
    console.log(`\n## tasks page first render with ${(await celeriac.status()).state.tasks} retained tasks (Chromium, server render to first rows)`);
    console.log(`median ${timings[2]?.toFixed(0)} ms, best ${timings[0]?.toFixed(0)} ms, worst ${timings[4]?.toFixed(0)} ms (5 loads)`);
  } finally {
    await browser.close();
    await publisher.close();
    celeriac.child.kill('SIGTERM');
    await redis.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await firstRenderBenchmark();
  await latencyBenchmark();
  process.exit(0);
}
