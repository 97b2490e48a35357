/**
 * Synthetic Celery event streams that are byte-for-byte what Celery 5.2–5.6 workers and
 * clients publish (compare test/fixtures/envelopes/): kombu's envelope with Python's JSON
 * separators, base64 bodies on Redis, `task.multi` batches of up to 24 task events from
 * workers, single `task-sent` events from the client, and periodic worker heartbeats.
 */
import { randomUUID } from 'node:crypto';

/** JSON as Python's json.dumps writes it (", " and ": " separators), which is what kombu sends. */
export function pyJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`)
    .join(', ')}}`;
}

export interface StreamMessage {
  routingKey: string;
  /** Serialized event body (JSON text of one event or a list). */
  body: string;
  /** Number of events inside. */
  events: number;
  hostname: string;
}

/**
 * kombu's Redis envelope around a serialized body: pyJson of kombu's dict, written out as a
 * template because the benchmarks' publisher must cost as little CPU as possible.
 */
export function redisEnvelope(message: StreamMessage): string {
  const body = Buffer.from(message.body, 'utf8').toString('base64');
  return `{"body": "${body}", "content-encoding": "utf-8", "content-type": "application/json", "headers": {"hostname": ${JSON.stringify(message.hostname)}}, "properties": {"delivery_mode": 1, "delivery_info": {"exchange": "celeryev", "routing_key": ${JSON.stringify(message.routingKey)}}, "priority": 0, "body_encoding": "base64", "delivery_tag": "${randomUUID()}"}}`;
}

const TASK_NAMES = ['proj.tasks.add', 'proj.tasks.send_email', 'proj.tasks.resize_image', 'proj.tasks.sync_account', 'proj.tasks.report'];

/**
 * Generates the stream of `tasks` task lifecycles (sent → received → started → succeeded) spread
 * over `workers` workers, with each worker batching its task events by 24 as the async event
 * loop does, interleaved with heartbeats every `heartbeatEvery` tasks.
 */
export function* celeryStream(tasks: number, workers = 8, heartbeatEvery = 500, realTime = false): Generator<StreamMessage> {
  const now = Date.now() / 1000;
  const workerNames = Array.from({ length: workers }, (_, i) => `celery@worker-${i}.prod.example.com`);
  // Each event is written out from a template, as Python's json.dumps writes it (pyJson's output,
  // with freq as Python's float 2.0): the benchmarks' publisher must cost as little CPU as possible.
  const buffers: string[][] = workerNames.map(() => []);
  let clock = 1;
  const base = (hostname: string, pid: number): string => `"hostname": ${JSON.stringify(hostname)}, "utcoffset": 0, "pid": ${pid}, "clock": ${clock++}`;

  for (let i = 0; i < tasks; i++) {
    const uuid = randomUUID();
    const name = TASK_NAMES[i % TASK_NAMES.length] as string;
    const w = i % workers;
    const hostname = workerNames[w] as string;
    // realTime: stamped when generated, as a live cluster does (so ingest lag means something).
    const ts = realTime ? Date.now() / 1000 : now + i / 1000;
    const client = `gen${1000 + (i % 7)}@web-1`;
    const args = `"args": "(${i}, ${i + 1})", "kwargs": "{'priority': 'high'}"`;
    const sent = `{${base(client, 1000 + (i % 7))}, "uuid": "${uuid}", "root_id": "${uuid}", "parent_id": null, "name": "${name}", ${args}, "retries": 0, "eta": null, "expires": null, "queue": "celery", "exchange": "", "routing_key": "celery", "timestamp": ${ts}, "type": "task-sent"}`;
    yield { routingKey: 'task.sent', body: sent, events: 1, hostname: client };
    const buffer = buffers[w] as string[];
    const pid = 4000 + w;
    buffer.push(
      `{${base(hostname, pid)}, "uuid": "${uuid}", "name": "${name}", ${args}, "root_id": "${uuid}", "parent_id": null, "retries": 0, "eta": null, "expires": null, "timestamp": ${ts + 0.001}, "type": "task-received"}`,
      `{${base(hostname, pid)}, "uuid": "${uuid}", "timestamp": ${ts + 0.002}, "type": "task-started"}`,
      `{${base(hostname, pid)}, "uuid": "${uuid}", "result": "${2 * i + 1}", "runtime": 0.0012, "timestamp": ${ts + 0.003}, "type": "task-succeeded"}`,
    );
    if (buffer.length >= 24) {
      yield { routingKey: 'task.multi', body: `[${buffer.splice(0, 24).join(', ')}]`, events: 24, hostname };
    }
    if (i % heartbeatEvery === 0) {
      for (let k = 0; k < workers; k++) {
        const hb = `{${base(workerNames[k] as string, 4000 + k)}, "freq": 2.0, "active": 3, "processed": ${i}, "loadavg": [0.42, 0.37, 0.3], "sw_ident": "py-celery", "sw_ver": "5.6.3", "sw_sys": "Linux", "timestamp": ${ts}, "type": "worker-heartbeat"}`;
        yield { routingKey: 'worker.heartbeat', body: hb, events: 1, hostname: workerNames[k] as string };
      }
    }
  }
  for (let w = 0; w < workers; w++) {
    const buffer = buffers[w] as string[];
    if (buffer.length > 0) yield { routingKey: 'task.multi', body: `[${buffer.join(', ')}]`, events: buffer.length, hostname: workerNames[w] as string };
  }
}
