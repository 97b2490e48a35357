/**
 * Ingest benchmark (`npm run bench:ingest`, part of `npm run bench`). Prints its figures; asserts
 * nothing.
 *
 * The real process as users run it: `bin/celeriac.js` with the UI, metrics, inspection and
 * enable_events on, on a private Redis and a RabbitMQ vhost. A publisher process of its own
 * (bench/publisher.ts: pre-encoded commands, its CPU time printed) sends a realistic Celery event
 * stream (bench/celery-stream.ts) at rising steady rates, each for BENCH_STEP_SECONDS (60).
 *
 * For each step:
 * - behind: how far Celeriac's received count is behind the publisher, sampled every 250 ms
 *   (the time since the publisher had published as many events as Celeriac has received);
 * - lost: published − received after the stream stops and Celeriac drains what is buffered.
 * Keep-up rate: the highest rate at which Celeriac stays less than 1 s behind for the whole step.
 * Zero-loss rate: the highest rate that loses nothing once the backlog has drained (a backlog can
 * absorb a rate Celeriac does not keep up with, for a while).
 * Also: Celeriac's CPU time per event, and an 80,000-event burst as fast as the publisher goes.
 *
 * Separately, in this process: decode + apply speed on one core, and the state's own memory per
 * task after a forced GC (what the model itself costs, not what the process holds: see
 * `npm run bench:soak` for the process's RSS per retained task).
 *
 * Env: BENCH_STEP_SECONDS (60), BENCH_RATES_REDIS, BENCH_RATES_AMQP (comma lists, events/s),
 * BENCH_BROKERS (redis,amqp; empty for the in-process figures only), BENCH_CELERIAC_ARGS (more
 * options for the measured process, space-separated, e.g. "--store sqlite:/tmp/bench.db").
 */
import { celeryStream, redisEnvelope } from './celery-stream';
import { privateBroker, sleep, startCeleriac, step } from './harness';
import { decodeRedisMessage } from '../server/protocol/decode';
import { ClusterState } from '../server/state/cluster-state';
import { Ingest } from '../server/state/ingest';
import { createLogger } from '../server/log';

const STEP_SECONDS = Number(process.env.BENCH_STEP_SECONDS ?? 60);
const RATES: Record<string, number[]> = {
  redis: (process.env.BENCH_RATES_REDIS ?? '10000,20000,30000,40000,50000,60000,80000,100000,120000').split(',').map(Number),
  amqp: (process.env.BENCH_RATES_AMQP ?? '10000,20000,30000,40000,50000,60000,80000').split(',').map(Number),
};
/** More options for the measured process (BENCH_CELERIAC_ARGS). */
const EXTRA_CELERIAC_ARGS = (process.env.BENCH_CELERIAC_ARGS ?? '').split(' ').filter((a) => a !== '');
const BROKERS = (process.env.BENCH_BROKERS ?? 'redis,amqp').split(',').filter((b) => b !== '') as ('redis' | 'amqp')[];
const KEEP_UP_SECONDS = 1;

async function throughput(kind: 'redis' | 'amqp'): Promise<void> {
  const { url, cleanup } = await privateBroker(kind, 'celeriac-bench');
  const celeriac = await startCeleriac(url, ['--ui', '--enable-events', ...EXTRA_CELERIAC_ARGS]);
  console.log(`\n## ${kind}: the real process (UI, metrics, inspection on), ${STEP_SECONDS} s per step`);
  try {
    // First, on a fresh process: the burst Flower loses, 80,000 events as fast as possible.
    const burst = await step(kind, url, celeriac, 10_000_000, 80_000);
    console.log(
      `burst: ${burst.published} events published in ${burst.seconds.toFixed(2)} s (${Math.round(burst.published / burst.seconds)} events/s): received ${burst.received}, lost ${burst.published - burst.received}, broker reconnects ${burst.reconnects}`,
    );

    console.log('\n| target events/s | published events/s | most behind (s) | lost | dropped | Celeriac CPU per event | publisher CPU | result |');
    console.log('|---|---|---|---|---|---|---|---|');
    let keepUp = 0;
    let zeroLoss = 0;
    for (const rate of RATES[kind] ?? []) {
      const s = await step(kind, url, celeriac, rate, rate * STEP_SECONDS);
      const achieved = Math.round(s.published / s.seconds);
      const publisherBound = achieved < rate * 0.97;
      const lost = s.published - s.received;
      const kept = s.maxBehind < KEEP_UP_SECONDS && lost === 0;
      if (!publisherBound && kept) keepUp = Math.max(keepUp, achieved);
      if (!publisherBound && lost === 0 && s.dropped === 0) zeroLoss = Math.max(zeroLoss, achieved);
      const result = publisherBound ? 'publisher could not reach the target' : lost > 0 || s.dropped > 0 ? 'LOSS' : kept ? 'keeps up' : 'no loss, falls behind';
      console.log(
        `| ${rate} | ${achieved} | ${s.maxBehind.toFixed(2)} | ${lost} | ${s.dropped} | ${(s.cpuPerEvent * 1e6).toFixed(1)} µs | ${s.publisherCpu.toFixed(1)} s (${((s.publisherCpu / Math.max(1, s.published)) * 1e6).toFixed(1)} µs/event) | ${result} |`,
      );
      if (publisherBound || lost > 0 || s.dropped > 0) break;
    }
    console.log(`\n${kind}: keep-up rate (less than ${KEEP_UP_SECONDS} s behind for ${STEP_SECONDS} s): ${keepUp} events/s`);
    console.log(`${kind}: zero-loss rate (with the backlog): ${zeroLoss} events/s`);
  } finally {
    celeriac.child.kill('SIGTERM');
    await cleanup();
  }
}

/** In this process: the model's own memory per task after GC, and decode + apply speed. */
async function inProcess(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const TASKS = 100_000;
  console.log('\n## in process (no broker, no UI, no metrics)');
  if (gc) {
    const state = new ClusterState({ maxTasks: TASKS, maxWorkers: 100 });
    const ingest = new Ingest(state, createLogger('silent'));
    gc();
    await sleep(100);
    gc();
    const before = process.memoryUsage();
    let n = 0;
    for (const message of celeryStream(TASKS, 8, 1_000)) {
      decodeRedisMessage(redisEnvelope(message), Date.now() / 1000, ingest);
      if (++n % 5_000 === 0) await sleep(1);
    }
    for (let i = 0; i < 8; i++) {
      gc();
      await sleep(1_000);
    }
    const after = process.memoryUsage();
    console.log(`the model alone, after a forced GC: ${((after.heapUsed - before.heapUsed) / state.tasks.size).toFixed(0)} B of V8 heap per retained task (${state.tasks.size} tasks)`);
  } else {
    console.log('(run with node --expose-gc for the model-only memory figure)');
  }
  // One run to warm the JIT up, then the median of five (a single cold run varies by ±20 %).
  const payloads = [...celeryStream(50_000, 8, 1_000)].map((m) => redisEnvelope(m));
  const rates: number[] = [];
  let events = 0;
  for (let run = 0; run < 6; run++) {
    const fresh = new Ingest(new ClusterState({ maxTasks: TASKS, maxWorkers: 100 }), createLogger('silent'));
    const t0 = performance.now();
    for (const payload of payloads) decodeRedisMessage(payload, Date.now() / 1000, fresh);
    events = fresh.counters.events;
    if (run > 0) rates.push(events / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  console.log(
    `decode + apply in process: ${Math.round(rates[2] as number)} events/s on one core, median of 5 warm runs of ${events} events (${Math.round(rates[0] as number)}–${Math.round(rates[4] as number)})`,
  );
}

async function main(): Promise<void> {
  console.log(`# Celeriac ingest benchmark — ${new Date().toISOString()}, node ${process.version}`);
  await inProcess();
  for (const broker of BROKERS) await throughput(broker);
}

await main();
process.exit(0);
