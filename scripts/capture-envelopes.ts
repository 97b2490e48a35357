/**
 * Captures the exact bytes real Celery 5.2.6 / kombu 5.2.4 workers publish on the event exchange
 * and writes them as test fixtures under test/fixtures/envelopes/.
 *
 *   node --import tsx scripts/capture-envelopes.ts
 *
 * Runs three captures (all with the harness in test/helpers/):
 *   redis/            private redis-server, db 0, PSUBSCRIBE "/0.celeryev/*"
 *   redis-keyprefix/  private redis-server, db 3, global_keyprefix "pfx:", PSUBSCRIBE "pfx:/3.celeryev/*"
 *   amqp/             fresh RabbitMQ vhost, exclusive auto-delete queue bound to celeryev with "#"
 * and regenerates test/fixtures/envelopes/README.md.
 *
 * Needs: /usr/bin/python3 with celery, /usr/bin/redis-server, RabbitMQ on 127.0.0.1:5672 and
 * rabbitmqctl (root).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { deleteRabbitVhost, ensureRabbitVhost, startRedisServer } from '../test/helpers/brokers';
import { CELERY_PYTHON, decodeRedisEventPayload, runCeleryPython, sendTasks, startWorker, type CeleryEvent, type CeleryWorker, type TaskSpec } from '../test/helpers/celery';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'test', 'fixtures', 'envelopes');
const MAX_HEARTBEATS = 3;

// Fixed task ids so fixture-based tests can refer to them.
const IDS = {
  add: 'c0ffee00-0000-4000-8000-000000000001',
  fail: 'c0ffee00-0000-4000-8000-000000000002',
  retry: 'c0ffee00-0000-4000-8000-000000000003',
  sleep: 'c0ffee00-0000-4000-8000-000000000004',
  progress: 'c0ffee00-0000-4000-8000-000000000005',
  revoked: 'c0ffee00-0000-4000-8000-000000000006',
} as const;

const TASK_LABELS: Record<string, string> = {
  [IDS.add]: 'tasks.add(2, 3)',
  [IDS.fail]: "tasks.fail('boom')",
  [IDS.retry]: 'tasks.retry_then_fail(max_retries=2)',
  [IDS.sleep]: 'tasks.sleep(1)',
  [IDS.progress]: 'tasks.progress(2)',
  [IDS.revoked]: 'tasks.add(40, 2) countdown=4, revoked',
};

const FULL_WORKLOAD: TaskSpec[] = [
  { task: 'tasks.add', args: [40, 2], id: IDS.revoked, countdown: 4 },
  { task: 'tasks.add', args: [2, 3], id: IDS.add },
  { task: 'tasks.fail', args: ['boom'], id: IDS.fail },
  { task: 'tasks.retry_then_fail', kwargs: { max_retries: 2 }, id: IDS.retry },
  { task: 'tasks.sleep', args: [1], id: IDS.sleep },
  { task: 'tasks.progress', args: [2], id: IDS.progress },
];

// ---------------------------------------------------------------------------------------------

interface Captured {
  routingKey: string;
  /** Fixture file content. */
  fixture: Record<string, unknown>;
  events: CeleryEvent[];
}

class Collector {
  readonly messages: Captured[] = [];
  private readonly waiters = new Set<() => void>();

  push(msg: Captured): void {
    this.messages.push(msg);
    for (const w of [...this.waiters]) w();
  }

  get events(): CeleryEvent[] {
    return this.messages.flatMap((m) => m.events);
  }

  waitFor(pred: (e: CeleryEvent) => boolean, what: string, timeoutMs = 20_000): Promise<CeleryEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.events.find(pred);
        if (!hit) return false;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; saw ${this.events.map((e) => e.type).join(', ')}`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }
}

const isTask = (type: string, uuid: string) => (e: CeleryEvent) => e.type === type && e.uuid === uuid;

async function runWorkload(c: Collector, brokerUrl: string, nodeName: string, opts: { transportOptions?: Record<string, unknown>; full: boolean }): Promise<void> {
  const transportOptions = opts.transportOptions;
  let worker: CeleryWorker | null = await startWorker({
    brokerUrl,
    nodeName,
    sendEvents: true,
    concurrency: 2,
    ...(transportOptions ? { transportOptions } : {}),
  });
  try {
    await c.waitFor((e) => e.type === 'worker-online' && e.hostname === nodeName, 'worker-online');
    if (!opts.full) {
      await sendTasks(brokerUrl, [{ task: 'tasks.add', args: [2, 3], id: IDS.add }], transportOptions ? { transportOptions } : {});
      await c.waitFor(isTask('task-succeeded', IDS.add), 'add succeeded');
      await c.waitFor((e) => e.type === 'worker-heartbeat' && e.hostname === nodeName, 'worker-heartbeat', 5_000);
    } else {
      // A `heartbeat` broadcast makes the worker send the short (freq 5) worker-heartbeat variant.
      await runCeleryPython(brokerUrl, 'from tasks import app; app.control.heartbeat()');
      await sendTasks(brokerUrl, FULL_WORKLOAD);
      await c.waitFor(isTask('task-received', IDS.revoked), 'revoke target received');
      await runCeleryPython(brokerUrl, `from tasks import app; app.control.revoke(${JSON.stringify(IDS.revoked)})`);
      await Promise.all([
        c.waitFor(isTask('task-succeeded', IDS.add), 'add succeeded'),
        c.waitFor(isTask('task-failed', IDS.fail), 'fail failed'),
        c.waitFor(isTask('task-failed', IDS.retry), 'retry_then_fail failed'),
        c.waitFor(isTask('task-succeeded', IDS.sleep), 'sleep succeeded'),
        c.waitFor(isTask('task-succeeded', IDS.progress), 'progress succeeded'),
        c.waitFor(isTask('task-revoked', IDS.revoked), 'task revoked'),
      ]);
    }
    const w = worker;
    worker = null;
    await w.stop();
    await c.waitFor((e) => e.type === 'worker-offline' && e.hostname === nodeName, 'worker-offline', 5_000);
    await delay(300);
  } finally {
    if (worker) await worker.kill();
  }
}

/** Drops worker-heartbeat messages beyond the first few (keeps the control-induced one too). */
function selectFixtures(messages: Captured[]): Captured[] {
  let heartbeats = 0;
  return messages.filter((m) => {
    if (m.routingKey !== 'worker.heartbeat') return true;
    heartbeats += 1;
    return heartbeats <= MAX_HEARTBEATS;
  });
}

function describe(m: Captured): string {
  const parts = m.events.map((e) => {
    let s = e.type;
    if (e.uuid) s += ` [${TASK_LABELS[e.uuid] ?? e.uuid}]`;
    if (e.type === 'worker-heartbeat' && e.freq === 5) s += ' (freq 5, from `heartbeat` control)';
    if (e.type === 'task-progress') s += ` current=${String(e.current)}/${String(e.total)}`;
    if (e.type === 'task-sent' && typeof e.hostname === 'string' && !e.hostname.startsWith('gen')) s += ` (sent by ${e.hostname})`;
    return s;
  });
  if (m.routingKey === 'task.multi') return `list body (${m.events.length}): ${parts.join(', ')}`;
  return parts.join(', ');
}

function writeFixtures(dir: string, messages: Captured[]): Captured[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const selected = selectFixtures(messages);
  selected.forEach((m, i) => {
    const name = `${String(i + 1).padStart(3, '0')}-${m.routingKey.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
    (m as Captured & { file: string }).file = name;
    writeFileSync(path.join(dir, name), JSON.stringify(m.fixture, null, 2) + '\n');
  });
  return selected;
}

// ---------------------------------------------------------------------------------------------

interface RedisCaptureResult {
  selected: Captured[];
  total: number;
  otherChannels: Map<string, number>;
}

async function captureRedis(opts: { db: number; transportOptions?: Record<string, unknown>; dir: string; nodeName: string; full: boolean }): Promise<RedisCaptureResult> {
  const server = await startRedisServer();
  const prefix = typeof opts.transportOptions?.global_keyprefix === 'string' ? opts.transportOptions.global_keyprefix : '';
  const pattern = `${prefix}/${opts.db}.celeryev/*`;
  const channelPrefix = pattern.slice(0, -1);
  const c = new Collector();
  const sub = new Redis(server.port, '127.0.0.1');
  // Diagnostic only: everything else published on the server (pidbox, unexpected channels).
  const spy = new Redis(server.port, '127.0.0.1');
  const otherChannels = new Map<string, number>();
  try {
    sub.on('pmessageBuffer', (patternBuf: Buffer, channelBuf: Buffer, message: Buffer) => {
      const payload = message.toString('utf8');
      if (!Buffer.from(payload, 'utf8').equals(message)) throw new Error('payload is not valid UTF-8');
      const channel = channelBuf.toString('utf8');
      const routingKey = channel.startsWith(channelPrefix) ? channel.slice(channelPrefix.length) : channel;
      c.push({
        routingKey,
        fixture: { channel, pattern: patternBuf.toString('utf8'), payload },
        events: decodeRedisEventPayload(payload),
      });
    });
    spy.on('pmessageBuffer', (_p: Buffer, channelBuf: Buffer) => {
      const ch = channelBuf.toString('utf8');
      if (!ch.startsWith(channelPrefix)) otherChannels.set(ch, (otherChannels.get(ch) ?? 0) + 1);
    });
    await sub.psubscribe(pattern);
    await spy.psubscribe('*');
    await runWorkload(c, server.url(opts.db), opts.nodeName, {
      full: opts.full,
      ...(opts.transportOptions ? { transportOptions: opts.transportOptions } : {}),
    });
    return { selected: writeFixtures(opts.dir, c.messages), total: c.messages.length, otherChannels };
  } finally {
    sub.disconnect();
    spy.disconnect();
    await server.stop();
  }
}

async function captureAmqp(dir: string, nodeName: string): Promise<{ selected: Captured[]; total: number; extraProps: Set<string> }> {
  const vhost = 'celeriac-envelope-capture';
  await deleteRabbitVhost(vhost);
  const url = await ensureRabbitVhost(vhost);
  const conn = await amqp.connect(url);
  const extraProps = new Set<string>();
  try {
    const ch = await conn.createChannel();
    await ch.assertExchange('celeryev', 'topic', { durable: true, autoDelete: false });
    const q = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await ch.bindQueue(q.queue, 'celeryev', '#');
    const c = new Collector();
    await ch.consume(
      q.queue,
      (msg) => {
        if (!msg) return;
        const p = msg.properties;
        for (const [k, v] of Object.entries(p)) {
          if (v !== undefined && !['contentType', 'contentEncoding', 'headers', 'deliveryMode', 'priority'].includes(k)) {
            extraProps.add(`${k}=${JSON.stringify(v)}`);
          }
        }
        const body: unknown = JSON.parse(msg.content.toString('utf8'));
        c.push({
          routingKey: msg.fields.routingKey,
          fixture: {
            exchange: msg.fields.exchange,
            routingKey: msg.fields.routingKey,
            properties: {
              contentType: p.contentType,
              contentEncoding: p.contentEncoding,
              headers: p.headers,
              deliveryMode: p.deliveryMode,
              priority: p.priority,
            },
            bodyBase64: msg.content.toString('base64'),
          },
          events: (Array.isArray(body) ? body : [body]) as CeleryEvent[],
        });
      },
      { noAck: true },
    );
    await runWorkload(c, url, nodeName, { full: true });
    return { selected: writeFixtures(dir, c.messages), total: c.messages.length, extraProps };
  } finally {
    await conn.close().catch(() => undefined);
    await deleteRabbitVhost(vhost);
  }
}

// ---------------------------------------------------------------------------------------------

function versions(): Record<string, string> {
  const sh = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch (err) {
      return `unknown (${String(err)})`;
    }
  };
  const py = sh(CELERY_PYTHON, ['-c', 'import celery, kombu, redis, amqp, sys; print(celery.__version__, kombu.__version__, redis.__version__, amqp.__version__, sys.version.split()[0])']).split(' ');
  const redisV = /v=(\S+)/.exec(sh('/usr/bin/redis-server', ['--version']))?.[1] ?? 'unknown';
  return {
    celery: py[0] ?? '?',
    kombu: py[1] ?? '?',
    'redis-py': py[2] ?? '?',
    'py-amqp': py[3] ?? '?',
    python: py[4] ?? '?',
    'redis-server': redisV,
    RabbitMQ: sh('rabbitmqctl', ['version']),
    node: process.version,
  };
}

function table(selected: Captured[]): string {
  const rows = selected.map((m) => `| \`${(m as Captured & { file: string }).file}\` | ${describe(m).replace(/\|/g, '\\|')} |`);
  return ['| File | Contents |', '|---|---|', ...rows].join('\n');
}

function readme(v: Record<string, string>, redis: RedisCaptureResult, prefixed: RedisCaptureResult, amqpRes: { selected: Captured[]; total: number }): string {
  const verLines = Object.entries(v)
    .map(([k, val]) => `* ${k} ${val}`)
    .join('\n');
  const maxBatch = Math.max(...[redis, prefixed, amqpRes].flatMap((r) => r.selected.filter((m) => m.routingKey === 'task.multi').map((m) => m.events.length)));
  const idLines = Object.entries(TASK_LABELS)
    .map(([id, label]) => `| \`${id}\` | ${label} |`)
    .join('\n');
  return `# Captured Celery event envelopes

Exact bytes published by real Celery workers on the event exchange (\`celeryev\`), captured by
\`scripts/capture-envelopes.ts\` (\`node --import tsx scripts/capture-envelopes.ts\`, which regenerates
this README and all three folders; ids, pids, clocks and timestamps change on every run).

Software:

${verLines}

(Debian packages \`python3-celery\`/\`python3-kombu\`, run with \`/usr/bin/python3\`.)

## How they were produced

The fixture app is \`test/fixtures/celery_app/tasks.py\` (json only, \`task_send_sent_event=True\`, no
result backend). A prefork worker (\`-c 2\`, \`-E\`, \`--without-gossip --without-mingle\`, default
heartbeat 2 s) was started with the harness (\`test/helpers/celery.ts\`). Workload (\`redis/\` and \`amqp/\`):

1. \`app.control.heartbeat()\` broadcast (→ the short \`freq: 5\` worker-heartbeat),
2. one \`send.py\` run sending, in this order: \`tasks.add(40, 2)\` with \`countdown=4\` (the revoke target),
   \`tasks.add(2, 3)\`, \`tasks.fail('boom')\`, \`tasks.retry_then_fail(max_retries=2)\`, \`tasks.sleep(1)\`,
   \`tasks.progress(2)\`,
3. once the revoke target's \`task-received\` arrived: \`app.control.revoke(id)\` from \`/usr/bin/python3 -c\`,
4. after every task finished: SIGTERM (warm shutdown) → \`worker-offline\`.

Fixed task ids:

| id | task |
|---|---|
${idLines}

Only the first ${MAX_HEARTBEATS} \`worker.heartbeat\` messages of a run are kept; every other message is
saved, in arrival order (\`NNN\` = arrival index after that filtering).

### File formats

* \`redis/\`, \`redis-keyprefix/\`: \`{ "channel", "pattern", "payload" }\` — \`payload\` is the message
  exactly as delivered by \`PSUBSCRIBE\` (kombu's JSON envelope with a base64 \`body\`).
* \`amqp/\`: \`{ "exchange", "routingKey", "properties": { contentType, contentEncoding, headers,
  deliveryMode, priority }, "bodyBase64" }\` — \`bodyBase64\` is the raw AMQP body (JSON text), base64'd
  here only so the bytes survive exactly. No other basic properties were set on any event.

## Things worth knowing (observed in these captures)

* Every \`task.multi\` body is a JSON **list**, usually of one event on a quiet worker, sometimes more
  (largest batch in this capture: ${maxBatch} events, mixing events of different tasks and attempts).
  Order inside and across batches is not lifecycle order, and batching differs from run to run.
* \`task-progress\` (custom \`Task.send_event\`) and the \`task-sent\` published by \`self.retry()\` come
  from the **prefork pool child**, not the worker main process: their \`pid\` is the child's pid and
  their \`clock\` is the child's own Lamport clock (1, 2, 3 … independent of the main process's).
  The custom event's \`hostname\` is the worker node name; the retry's \`task-sent\` \`hostname\` is
  \`gen<child pid>@<host>\` (the child acting as a client), with \`parent_id\` = the task's own id,
  \`retries\` = n and an \`eta\`.
* For each retry, the worker's \`task-received\` for the new attempt (\`retries: n\`) arrived **before**
  the \`task-retried\` of the attempt that caused it (every retry in every capture so far); the
  child's \`task-sent\` for it came sometimes before, sometimes after that \`task-received\`.
* The worker-heartbeat answering the \`heartbeat\` broadcast has \`"freq": 5\` (JSON integer) and no
  \`active\`/\`processed\`/\`loadavg\`; periodic ones have \`"freq": 2.0\`.
* \`task-revoked\` for a revoked ETA task is only published when the ETA is reached (about 4 s after
  sending here), not when the revoke command arrives: \`terminated: false, signum: null, expired: false\`.
* \`args\` is \`"[2, 3]"\` (a list repr) because \`send.py\` passes JSON lists to \`send_task\`;
  \`add.delay(2, 3)\` would give \`"(2, 3)"\`. \`processed\` counts every retry attempt.
* Tracebacks contain absolute paths of the checkout and Python 3.11 \`^^^^\` marker lines.

## \`redis/\` — private redis-server, db 0, \`PSUBSCRIBE /0.celeryev/*\`

Worker \`capture-redis@fixtures\`. ${redis.total} messages received, ${redis.selected.length} kept.

${table(redis.selected)}

## \`redis-keyprefix/\` — db 3, transport option \`global_keyprefix = "pfx:"\`, \`PSUBSCRIBE pfx:/3.celeryev/*\`

Worker \`capture-prefix@fixtures\` (worker and \`send.py\` both with the prefix). Workload: just
\`tasks.add(2, 3)\` (id \`${IDS.add}\`) then a warm shutdown. ${prefixed.total} messages received, ${prefixed.selected.length} kept.

${table(prefixed.selected)}

## \`amqp/\` — RabbitMQ, fresh vhost, exclusive auto-delete queue bound to \`celeryev\` (topic, durable) with \`#\`, noAck

Worker \`capture-amqp@fixtures\`. ${amqpRes.total} messages received, ${amqpRes.selected.length} kept.

${table(amqpRes.selected)}
`;
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log('capturing redis (db 0) ...');
  const redis = await captureRedis({ db: 0, dir: path.join(OUT, 'redis'), nodeName: 'capture-redis@fixtures', full: true });
  console.log(`  ${redis.total} messages, ${redis.selected.length} kept; other channels: ${JSON.stringify([...redis.otherChannels])}`);

  console.log('capturing redis (db 3, global_keyprefix pfx:) ...');
  const prefixed = await captureRedis({
    db: 3,
    transportOptions: { global_keyprefix: 'pfx:' },
    dir: path.join(OUT, 'redis-keyprefix'),
    nodeName: 'capture-prefix@fixtures',
    full: false,
  });
  console.log(`  ${prefixed.total} messages, ${prefixed.selected.length} kept; other channels: ${JSON.stringify([...prefixed.otherChannels])}`);

  console.log('capturing amqp ...');
  const amqpRes = await captureAmqp(path.join(OUT, 'amqp'), 'capture-amqp@fixtures');
  console.log(`  ${amqpRes.total} messages, ${amqpRes.selected.length} kept; extra properties: ${JSON.stringify([...amqpRes.extraProps])}`);

  writeFileSync(path.join(OUT, 'README.md'), readme(versions(), redis, prefixed, amqpRes));
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s → ${path.relative(ROOT, OUT)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
