/**
 * /metrics benchmark (`npm run bench:metrics`, also part of `npm run bench`): scrape time and
 * size with 1,000 workers × 50 task names, i.e. 50,000 (worker, task) label sets behind every
 * per-task metric. Prints figures; asserts nothing. Target: under 50 ms per scrape.
 *
 * The model is fed typed events straight into the ingest sink (the broker is not in the way),
 * then /metrics is scraped over HTTP like Prometheus does.
 */
import { randomUUID } from 'node:crypto';
import type { TaskEvent, WorkerEvent } from '../server/protocol/events';
import { parseConfig } from '../server/config/config';
import { createLogger } from '../server/log';
import { startCeleriac } from '../server/server';

const WORKERS = Number(process.env.BENCH_METRICS_WORKERS ?? 1_000);
const TASK_NAMES = Number(process.env.BENCH_METRICS_TASKS ?? 50);
const SCRAPES = Number(process.env.BENCH_METRICS_SCRAPES ?? 20);

export async function metricsBenchmark(extraArgs: string[] = []): Promise<void> {
  const parsed = parseConfig(
    ['--broker', 'redis://127.0.0.1:1/0', '--port', '0', '--log-level', 'silent', '--no-ui', '--data-dir', `/tmp/celeriac-bench-${process.pid}`, '--max-tasks', '200000', ...extraArgs],
    {},
  );
  if (parsed.kind !== 'config') throw new Error(parsed.output);
  const celeriac = await startCeleriac(parsed.config, createLogger('silent'));
  try {
    const ingest = celeriac.monitor.ingest;
    const now = Date.now() / 1000;
    const base = { utcoffset: 0, pid: 1, clock: 1 };
    for (let w = 0; w < WORKERS; w++) {
      const hostname = `celery@worker-${w}.prod.example.com`;
      const heartbeat: WorkerEvent = {
        kind: 'worker',
        type: 'worker-heartbeat',
        hostname,
        timestamp: now,
        localReceived: now,
        freq: 2,
        active: 2,
        processed: 100,
        loadavg: [0.5, 0.4, 0.3],
        swIdent: 'py-celery',
        swVer: '5.6.3',
        swSys: 'Linux',
        ...base,
      };
      ingest.event(heartbeat);
      for (let t = 0; t < TASK_NAMES; t++) {
        const uuid = randomUUID();
        const name = `proj.tasks.task_${t}`;
        const task = (type: string, at: number, fields: Partial<TaskEvent> = {}): TaskEvent => ({ kind: 'task', type, uuid, hostname, timestamp: at, localReceived: now, ...base, ...fields });
        ingest.event(task('task-sent', now - 3, { hostname: 'gen1@web', name, args: '()', kwargs: '{}', queue: `queue-${t % 5}` }));
        ingest.event(task('task-received', now - 2, { name, args: '()', kwargs: '{}', retries: 0 }));
        ingest.event(task('task-started', now - 1.5));
        ingest.event(
          t % 10 === 0 ? task('task-failed', now - 1, { exception: "ValueError('x')", traceback: 'Traceback…' }) : task('task-succeeded', now - 1, { result: 'None', runtime: 0.5 + (t % 7) / 10 }),
        );
      }
    }
    const timings: number[] = [];
    let size = 0;
    let lines = 0;
    for (let i = 0; i < SCRAPES; i++) {
      const started = performance.now();
      const res = await fetch(`${celeriac.url}/metrics`);
      const text = await res.text();
      timings.push(performance.now() - started);
      size = Buffer.byteLength(text);
      lines = text.split('\n').length;
    }
    timings.sort((a, b) => a - b);
    const median = timings[Math.floor(timings.length / 2)] as number;
    const p95 = timings[Math.min(timings.length - 1, Math.floor(timings.length * 0.95))] as number;
    console.log(`\n## /metrics with ${WORKERS} workers × ${TASK_NAMES} task names${extraArgs.length ? ` (${extraArgs.join(' ')})` : ''}`);
    console.log(`scrape time over HTTP: median ${median.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms (${SCRAPES} scrapes); size ${(size / 1024 / 1024).toFixed(2)} MiB, ${lines} lines`);
  } finally {
    await celeriac.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await metricsBenchmark();
  await metricsBenchmark(['--metrics-task-worker-label', 'host']);
  await metricsBenchmark(['--metrics-task-worker-label', 'full']);
  process.exit(0);
}
