/**
 * Ingest benchmark (`npm run bench`). Prints its figures; asserts nothing.
 *
 * 1. Throughput, Redis and RabbitMQ: a real Celeriac process (`--no-ui`) consumes a private
 *    broker while this process publishes realistic Celery event streams (bench/celery-stream.ts)
 *    at rising rates. Each step publishes for a fixed time, waits for Celeriac to drain, and
 *    compares what was published with Celeriac's own counters (/api/celeriac/status): the
 *    highest rate with zero lost events is the sustained rate.
 * 2. Burst: 80,000 events as fast as the publisher can go (the burst Flower loses most of).
 * 3. Memory: resident memory per retained task, measured in-process on the real decoder and
 *    state with 100,000 retained tasks (full lifecycles), after garbage collection.
 *
 * Options (env): BENCH_STEP_SECONDS (default 8), BENCH_RATES (comma list, events/s),
 * BENCH_BROKERS (redis,amqp).
 */
import { deleteRabbitVhost, ensureRabbitVhost, startRedisServer } from '../test/helpers/brokers';
import { celeryStream, redisEnvelope } from './celery-stream';
import { amqpPublisher, prepare, publishAtRate, redisPublisher, sleep, startCeleriac, waitForDrain } from './harness';
import { decodeRedisMessage } from '../server/protocol/decode';
import { ClusterState } from '../server/state/cluster-state';
import { Ingest } from '../server/state/ingest';
import { createLogger } from '../server/log';

const STEP_SECONDS = Number(process.env.BENCH_STEP_SECONDS ?? 8);
const RATES = (process.env.BENCH_RATES ?? '10000,20000,30000,40000,60000,80000,100000,120000,150000,200000').split(',').map(Number);
const BROKERS = (process.env.BENCH_BROKERS ?? 'redis,amqp').split(',');

async function throughput(brokerName: string): Promise<void> {
  let brokerUrl: string;
  let cleanup: () => Promise<void>;
  if (brokerName === 'redis') {
    const redis = await startRedisServer();
    brokerUrl = redis.url(0);
    cleanup = () => redis.stop();
  } else {
    brokerUrl = await ensureRabbitVhost('celeriac-bench');
    cleanup = () => deleteRabbitVhost('celeriac-bench');
  }
  const celeriac = await startCeleriac(brokerUrl);
  const publisher = brokerName === 'redis' ? await redisPublisher(brokerUrl) : await amqpPublisher(brokerUrl);
  console.log(`\n## ${brokerName}`);
  try {
    // First, on a fresh process: the burst Flower loses, 80,000 events as fast as possible.
    const burst = prepare(publisher, 80_000);
    const before = await celeriac.status();
    const sent = await publishAtRate(publisher, burst, 10_000_000);
    const after = await waitForDrain(celeriac.status, before.events.received + sent.events);
    const received = after.events.received - before.events.received;
    console.log(`${brokerName}: burst of ${sent.events} events published in ${sent.seconds.toFixed(2)} s (${Math.round(sent.events / sent.seconds)} events/s): received ${received}, lost ${sent.events - received}`);
  } catch (error) {
    console.log(`${brokerName}: burst failed: ${String(error)}`);
  }
  console.log(`\n### ${brokerName}: sustained ingest (${STEP_SECONDS} s per step)`);
  console.log('| target events/s | published events/s | received | lost | dropped | reconnects | result |');
  console.log('|---|---|---|---|---|---|---|');
  let best = 0;
  try {
    for (const rate of RATES) {
      const messages = prepare(publisher, rate * STEP_SECONDS);
      const before = await celeriac.status();
      const sent = await publishAtRate(publisher, messages, rate);
      const after = await waitForDrain(celeriac.status, before.events.received + sent.events);
      const received = after.events.received - before.events.received;
      const lost = sent.events - received;
      const dropped = after.events.droppedTotal - before.events.droppedTotal;
      const achieved = Math.round(sent.events / sent.seconds);
      const publisherBound = achieved < rate * 0.95;
      const ok = lost === 0 && dropped === 0;
      if (ok && !publisherBound) best = Math.max(best, achieved);
      const reconnects = after.stream.connects - before.stream.connects;
      console.log(`| ${rate} | ${achieved} | ${received} | ${lost} | ${dropped} | ${reconnects} | ${ok ? (publisherBound ? 'no loss (publisher could not reach the target)' : 'no loss') : 'LOSS'} |`);
      if (!ok || publisherBound) break;
    }
    console.log(`\n${brokerName}: highest sustained rate with zero loss: ${best} events/s`);
  } finally {
    await publisher.close();
    celeriac.child.kill('SIGTERM');
    await cleanup();
  }
}

/** Resident memory per retained task, on the real decoder and state, after GC. */
async function memory(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    console.log('\n(memory: run with node --expose-gc for the memory figure)');
    return;
  }
  const TASKS = 100_000;
  const state = new ClusterState({ maxTasks: TASKS, maxWorkers: 100 });
  const ingest = new Ingest(state, createLogger('silent'));
  gc();
  await sleep(100);
  gc();
  const before = process.memoryUsage();
  // Messages are generated on the fly so the only thing that stays is what the state retains,
  // with short pauses as a live stream has. Then the process idles a few seconds, as a server
  // does between bursts, so V8 can give back the pages garbage left behind.
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
  const perTaskRss = (after.rss - before.rss) / state.tasks.size;
  const perTaskHeap = (after.heapUsed - before.heapUsed) / state.tasks.size;
  console.log(`\n## memory: ${state.tasks.size} retained tasks (sent/received/started/succeeded each)`);
  console.log(`resident memory per retained task: ${perTaskRss.toFixed(0)} B (V8 heap ${perTaskHeap.toFixed(0)} B); ${((after.rss - before.rss) / 1024 / 1024).toFixed(1)} MiB RSS per 100k tasks`);

  // Decode + apply speed on one core, without any broker in the way.
  const payloads = [...celeryStream(50_000, 8, 1_000)].map((m) => redisEnvelope(m));
  const fresh = new Ingest(new ClusterState({ maxTasks: TASKS, maxWorkers: 100 }), createLogger('silent'));
  const t0 = performance.now();
  for (const payload of payloads) decodeRedisMessage(payload, Date.now() / 1000, fresh);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`decode + apply in process: ${Math.round(fresh.counters.events / seconds)} events/s on one core (${fresh.counters.events} events)`);
}

async function main(): Promise<void> {
  console.log(`# Celeriac ingest benchmark — ${new Date().toISOString()}, node ${process.version}`);
  await memory();
  for (const broker of BROKERS) await throughput(broker);
}

await main();
process.exit(0);
