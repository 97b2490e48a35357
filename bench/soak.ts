/**
 * Soak benchmark (`npm run bench:soak`). Prints figures; asserts nothing.
 *
 * The real process as users start it (`bin/celeriac.js` with the UI on, metrics on, inspection and
 * enable_events on), with nothing scraping /metrics, one idle socket.io client subscribed to the
 * live views a dashboard tab has open, and one client that subscribed and then stopped reading
 * (its process is SIGSTOPped). A publisher process sends a realistic Celery stream on a private
 * Redis at a steady rate. Every 100,000 tasks it prints Celeriac's resident memory (from /proc,
 * no forced GC), V8 heap, CPU time, retained tasks and how far ingest is behind the publisher.
 *
 * Two runs:
 * 1. defaults (--max-tasks 100000): RSS after warm-up (the task LRU full twice over) must stay
 *    within 10 % of its plateau (the median after warm-up);
 * 2. --max-tasks 20000 under NODE_OPTIONS=--max-old-space-size=256: the process must survive.
 *
 * Env: SOAK_EVENTS (default 4,000,000 for run 1; run 2 uses half), SOAK_RATE (events/s,
 * default 20,000), SOAK_RUNS (default "defaults,heap256"), SOAK_BROKER (redis, the default, or
 * amqp: a RabbitMQ vhost of its own).
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import { REALTIME } from '../server/realtime/types';
import { cpuSecondsOf, lagSeconds, privateBroker, rssOf, sleep, startCeleriac, startPublisher } from './harness';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EVENTS = Number(process.env.SOAK_EVENTS ?? 4_000_000);
const RATE = Number(process.env.SOAK_RATE ?? 20_000);
const RUNS = (process.env.SOAK_RUNS ?? 'defaults,heap256').split(',');
const BROKER = process.env.SOAK_BROKER === 'amqp' ? 'amqp' : 'redis';
/** celeryStream: 4 events per task plus 8 heartbeats every 500 tasks. */
const EVENTS_PER_TASK = 4 + 8 / 500;
const MiB = 1024 * 1024;

interface Row {
  tasks: number;
  seconds: number;
  rss: number;
  heap: number;
  cpu: number;
  retained: number;
  lag: number;
}

async function soak(name: string, maxTasks: number, events: number, env: NodeJS.ProcessEnv): Promise<void> {
  console.log(
    `\n## ${name} on ${BROKER}: --max-tasks ${maxTasks}${env.NODE_OPTIONS ? `, NODE_OPTIONS=${env.NODE_OPTIONS}` : ''}; ${events.toLocaleString('en')} events at ${RATE.toLocaleString('en')} events/s`,
  );
  const { url, cleanup } = await privateBroker(BROKER, 'celeriac-soak');
  const celeriac = await startCeleriac(url, ['--ui', '--enable-events', '--max-tasks', String(maxTasks)], env);
  const pid = celeriac.child.pid as number;
  let exit: string | null = null;
  celeriac.child.once('exit', (code, signal) => {
    exit = `exited (code ${code}, signal ${signal})`;
  });
  const idle = io(celeriac.base, { path: '/socket.io', transports: ['websocket'] });
  idle.on('connect', () => {
    for (const view of ['overview', 'workers', 'tasks', 'events']) idle.emit(REALTIME.subscribe, view);
  });
  const stalled = fork(path.join(ROOT, 'test/helpers/live-view-client.ts'), [celeriac.base], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve) => stalled.once('message', () => resolve()));
  stalled.kill('SIGSTOP');
  await sleep(2_000);
  const emptyRss = rssOf(pid);
  const cpuBefore = cpuSecondsOf(pid);
  console.log(`idle after start: RSS ${(emptyRss / MiB).toFixed(0)} MiB`);
  console.log('| tasks | s | RSS MiB | heap MiB | CPU s | retained | behind publisher s |');
  console.log('|---|---|---|---|---|---|---|');
  const publisher = startPublisher(BROKER, url, RATE, events);
  const start = Date.now();
  const rows: Row[] = [];
  let nextRow = 100_000;
  let published = { events: 0, seconds: 0, cpuSeconds: 0 };
  let finished = false;
  publisher.done.then(
    (d) => {
      published = d;
      finished = true;
    },
    () => undefined,
  );
  let received = 0;
  let maxLag = 0;
  try {
    for (;;) {
      await sleep(250);
      if (exit !== null) break;
      let status: Awaited<ReturnType<typeof celeriac.status>>;
      try {
        status = await celeriac.status();
      } catch {
        continue; // the process may be busy or dying: try again, or see `exit`
      }
      received = status.events.received;
      const lag = lagSeconds(publisher.history, received);
      maxLag = Math.max(maxLag, lag);
      while (received >= nextRow * EVENTS_PER_TASK) {
        const row: Row = {
          tasks: nextRow,
          seconds: (Date.now() - start) / 1000,
          rss: rssOf(pid),
          heap: status.process.heapUsed,
          cpu: cpuSecondsOf(pid) - cpuBefore,
          retained: status.state.tasks,
          lag,
        };
        rows.push(row);
        console.log(
          `| ${row.tasks.toLocaleString('en')} | ${row.seconds.toFixed(0)} | ${(row.rss / MiB).toFixed(0)} | ${(row.heap / MiB).toFixed(0)} | ${row.cpu.toFixed(1)} | ${row.retained.toLocaleString('en')} | ${row.lag.toFixed(2)} |`,
        );
        nextRow += 100_000;
      }
      if (finished && received >= published.events) break;
      if (finished && Date.now() - start > (events / RATE) * 1000 + 60_000) break; // the rest is lost
    }
  } finally {
    publisher.kill();
    stalled.kill('SIGKILL');
    idle.disconnect();
  }
  const died: string | null = exit;
  const cpu = died === null ? cpuSecondsOf(pid) - cpuBefore : null;
  if (died === null) celeriac.child.kill('SIGTERM');
  await cleanup();

  console.log(
    `\npublished ${published.events.toLocaleString('en')} events in ${published.seconds.toFixed(1)} s (${Math.round(published.events / published.seconds).toLocaleString('en')} events/s); the publisher used ${published.cpuSeconds.toFixed(1)} CPU s`,
  );
  console.log(`received ${received.toLocaleString('en')} (${(published.events - received).toLocaleString('en')} not received); at most ${maxLag.toFixed(2)} s behind the publisher`);
  if (cpu !== null) console.log(`Celeriac CPU: ${cpu.toFixed(1)} s, ${((cpu / Math.max(1, received)) * 1e6).toFixed(1)} µs per event`);
  console.log(`survived: ${died === null ? 'yes' : `NO — ${died}`}`);
  // Warm-up: the task LRU filled twice over; the plateau is the median RSS after it.
  const settled = rows.filter((r) => r.tasks >= 2 * maxTasks);
  if (settled.length >= 2) {
    const sorted = settled.map((r) => r.rss).sort((a, b) => a - b);
    const plateau = sorted[Math.floor(sorted.length / 2)] as number;
    const deviation = Math.max(...settled.map((r) => Math.abs(r.rss - plateau) / plateau));
    const verdict = deviation <= 0.1 ? 'within' : 'OUTSIDE';
    console.log(
      `RSS after warm-up (${settled.length} samples from ${settled[0]?.tasks.toLocaleString('en')} tasks): plateau ${(plateau / MiB).toFixed(0)} MiB, largest deviation ${(deviation * 100).toFixed(1)} % (${verdict} the 10 % target)`,
    );
    const retained = settled[settled.length - 1]?.retained ?? maxTasks;
    console.log(`RSS per retained task (plateau minus idle RSS, UI and metrics on, no forced GC): ${((plateau - emptyRss) / retained / 1024).toFixed(2)} KiB`);
  }
}

async function main(): Promise<void> {
  console.log(`# Celeriac soak benchmark — ${new Date().toISOString()}, node ${process.version}`);
  for (const run of RUNS) {
    if (run === 'defaults') await soak('defaults', 100_000, EVENTS, { ...process.env, NODE_OPTIONS: '' });
    else if (run === 'heap256') await soak('256 MB heap', 20_000, Math.round(EVENTS / 2), { ...process.env, NODE_OPTIONS: '--max-old-space-size=256' });
    else throw new Error(`unknown run ${run}`);
  }
}

await main();
process.exit(0);
