/**
 * Pieces shared by the benchmarks: a real Celeriac child process, Redis/AMQP publishers of
 * realistic Celery streams, and rate-controlled publishing.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { deleteRabbitVhost, ensureRabbitVhost, freePort, startRedisServer } from '../test/helpers/brokers';
import { celeryStream, redisEnvelope, type StreamMessage } from './celery-stream';
import type { PublisherReport } from './publisher';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Status {
  events: { received: number; droppedTotal: number };
  stream: { connects: number };
  state: { tasks: number };
  process: { rss: number; heapUsed: number };
  /** The store's task writer (server/store/change-writer.ts), or null with `--store memory`. */
  store?: { written: number; pending: number; dropped: number; degraded: boolean; searchIndex?: { indexed: number; caughtUp: boolean; lastPassAt: number | null } } | null;
}

/** A publisher: sends one pre-serialized message, resolving when the client has buffered it. */
export interface Publisher {
  prepare(message: StreamMessage): Buffer | string;
  publish(payload: Buffer | string, message: StreamMessage): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function startCeleriac(
  broker: string,
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ base: string; port: number; child: ChildProcess; status(): Promise<Status> }> {
  const port = await freePort();
  // A data dir of its own unless the caller gives one: the default store is a SQLite file in it,
  // and a benchmark must neither read nor leave history in the checkout's .celeriac.
  const dataDir = extraArgs.includes('--data-dir') ? null : mkdtempSync(path.join(os.tmpdir(), 'celeriac-bench-data-'));
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the Celeriac process.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      path.join(ROOT, 'bin/celeriac.js'),
      '--broker',
      broker,
      '--port',
      String(port),
      '--no-ui',
      '--no-enable-events',
      '--log-level',
      'warn',
      ...(dataDir ? ['--data-dir', dataDir] : []),
      ...extraArgs,
    ],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  if (dataDir) child.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const base = `http://127.0.0.1:${port}`;
  // A saturated process can reset a keep-alive connection: a benchmark retries instead of dying.
  const status = async (): Promise<Status> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await (await fetch(`${base}/api/celeriac/status`)).json()) as Status;
      } catch (error) {
        if (attempt >= 20 || child.exitCode !== null) throw error;
        await sleep(250);
      }
    }
  };
  // With --ui the first start may build the UI (a minute or two).
  const deadline = Date.now() + (extraArgs.includes('--ui') ? 240_000 : 30_000);
  for (;;) {
    try {
      if ((await fetch(`${base}/healthcheck`)).status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error('Celeriac did not become healthy');
    await sleep(100);
  }
  return { base, port, child, status };
}

export type Celeriac = Awaited<ReturnType<typeof startCeleriac>>;

/** One steady-rate step, as Celeriac saw it. */
export interface Step {
  published: number;
  /** Tasks (task-sent messages) among the published events. */
  publishedTasks: number;
  seconds: number;
  publisherCpu: number;
  received: number;
  maxBehind: number;
  dropped: number;
  reconnects: number;
  cpuPerEvent: number;
}

/**
 * Publish `events` at `rate` from the publisher process; follow Celeriac until it has drained.
 * `onSample` sees every status read (every 250 ms while publishing, then while draining).
 */
export async function step(kind: 'redis' | 'amqp', url: string, celeriac: Celeriac, rate: number, events: number, onSample: (status: Status) => void = () => undefined): Promise<Step> {
  const pid = celeriac.child.pid as number;
  const before = await celeriac.status();
  const cpuBefore = cpuSecondsOf(pid);
  const publisher = startPublisher(kind, url, rate, events);
  let maxBehind = 0;
  let finished: PublisherDone | null = null;
  publisher.done.then(
    (d) => {
      finished = d;
    },
    () => undefined,
  );
  while (finished === null) {
    await sleep(250);
    const now = await celeriac.status();
    onSample(now);
    maxBehind = Math.max(maxBehind, lagSeconds(publisher.history, now.events.received - before.events.received));
  }
  const done = finished as PublisherDone;
  const status = async (): Promise<Status> => {
    const now = await celeriac.status();
    onSample(now);
    return now;
  };
  const after = await waitForDrain(status, before.events.received + done.events);
  const received = after.events.received - before.events.received;
  return {
    published: done.events,
    publishedTasks: done.tasks,
    seconds: done.seconds,
    publisherCpu: done.cpuSeconds,
    received,
    maxBehind,
    dropped: after.events.droppedTotal - before.events.droppedTotal,
    reconnects: after.stream.connects - before.stream.connects,
    cpuPerEvent: (cpuSecondsOf(pid) - cpuBefore) / Math.max(1, received),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Publish `messages` at `rate` events/s in 10 ms ticks. Returns the achieved rate. */
export async function publishAtRate(publisher: Publisher, messages: { payload: Buffer | string; message: StreamMessage }[], rate: number): Promise<{ events: number; seconds: number }> {
  const start = performance.now();
  let sent = 0;
  let i = 0;
  while (i < messages.length) {
    const due = ((performance.now() - start) / 1000) * rate;
    while (i < messages.length && sent < due) {
      const m = messages[i++] as { payload: Buffer | string; message: StreamMessage };
      publisher.publish(m.payload, m.message);
      sent += m.message.events;
    }
    await publisher.flush();
    await sleep(Math.max(0, 10 - ((performance.now() - start) % 10)));
  }
  await publisher.flush();
  return { events: sent, seconds: (performance.now() - start) / 1000 };
}

export async function waitForDrain(status: () => Promise<Status>, expected: number): Promise<Status> {
  let last = await status();
  let stableSince = Date.now();
  for (;;) {
    await sleep(250);
    const now = await status();
    if (now.events.received >= expected) return now;
    if (now.events.received !== last.events.received) stableSince = Date.now();
    else if (Date.now() - stableSince > 3_000) return now; // nothing more is coming: the rest is lost
    last = now;
  }
}

export function prepare(publisher: Publisher, events: number): { payload: Buffer | string; message: StreamMessage }[] {
  const out: { payload: Buffer | string; message: StreamMessage }[] = [];
  let count = 0;
  for (const message of celeryStream(Math.ceil(events / 4))) {
    out.push({ payload: publisher.prepare(message), message });
    count += message.events;
    if (count >= events) break;
  }
  return out;
}

export async function redisPublisher(url: string): Promise<Publisher> {
  const client = new Redis(url);
  let pipeline = client.pipeline();
  let pending = 0;
  return {
    prepare: (m) => redisEnvelope(m),
    publish: (payload, m) => {
      pipeline.publish(`/0.celeryev/${m.routingKey}`, payload as string);
      pending++;
    },
    flush: async () => {
      if (pending === 0) return;
      const p = pipeline;
      pipeline = client.pipeline();
      pending = 0;
      await p.exec();
    },
    close: async () => {
      await client.quit();
    },
  };
}

/** A publisher process (bench/publisher.ts): its progress, and its own CPU time when done. */
export interface PublisherProcess {
  /** (wall-clock ms, events published by then), every ~100 ms. */
  readonly history: { at: number; events: number }[];
  readonly done: Promise<PublisherDone>;
  kill(): void;
}

/** What a publisher process reports when it is done. */
export type PublisherDone = Omit<Extract<PublisherReport, { kind: 'done' }>, 'kind'>;

export function startPublisher(kind: 'redis' | 'amqp', url: string, rate: number, events: number): PublisherProcess {
  const child = fork(path.join(ROOT, 'bench/publisher.ts'), [kind, url, String(rate), String(events)], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const history: { at: number; events: number }[] = [{ at: Date.now(), events: 0 }];
  const done = new Promise<PublisherDone>((resolve, reject) => {
    child.on('message', (message: PublisherReport) => {
      if (message.kind === 'progress') history.push({ at: message.at, events: message.events });
      else resolve(message);
    });
    child.once('exit', (code) => reject(new Error(`publisher exited with ${code}`)));
  });
  done.catch(() => undefined);
  return { history, done, kill: () => child.kill('SIGKILL') };
}

/**
 * How far behind the publisher Celeriac is, in seconds: now minus the moment the publisher had
 * published as many events as Celeriac has received (0 when it has caught up).
 */
export function lagSeconds(history: readonly { at: number; events: number }[], received: number, now = Date.now()): number {
  const last = history[history.length - 1];
  if (!last || received >= last.events) return 0;
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1] as { at: number; events: number };
    const b = history[i] as { at: number; events: number };
    if (b.events >= received) {
      const at = b.events === a.events ? b.at : a.at + ((received - a.events) / (b.events - a.events)) * (b.at - a.at);
      return Math.max(0, (now - at) / 1000);
    }
  }
  return 0;
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5); the slice starts at field 3.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident memory of a process in bytes, from /proc (Linux). */
export function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/** A broker of the benchmark's own: a private redis-server, or a RabbitMQ vhost named `vhost`. */
export async function privateBroker(kind: 'redis' | 'amqp', vhost: string): Promise<{ url: string; cleanup: () => Promise<void> }> {
  if (kind === 'redis') {
    const redis = await startRedisServer();
    return { url: redis.url(0), cleanup: () => redis.stop() };
  }
  return { url: await ensureRabbitVhost(vhost), cleanup: () => deleteRabbitVhost(vhost) };
}
