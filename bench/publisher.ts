/**
 * The benchmarks' event publisher, in a process of its own so that its CPU time is counted apart
 * from Celeriac's and can be printed. It is kept as cheap as possible: on Redis it writes
 * pre-encoded PUBLISH commands straight to a socket (no client library, replies only counted);
 * on RabbitMQ it uses amqplib's channel.publish (AMQP framing is not worth hand-rolling here).
 *
 * Messages are generated on the fly, stamped with the real time (a live cluster's stream), and
 * published at `rate` events/s in 10 ms ticks. Progress goes to the parent over IPC every 100 ms:
 * `{ kind: 'progress', events, at }`, then `{ kind: 'done', events, tasks, seconds, cpuSeconds }`.
 *
 * argv: <redis|amqp> <broker url> <rate events/s> <events>
 */
import net from 'node:net';
import amqp from 'amqplib';
import { celeryStream, redisEnvelope, type StreamMessage } from './celery-stream';

export type PublisherReport = { kind: 'progress'; events: number; at: number } | { kind: 'done'; events: number; tasks: number; seconds: number; cpuSeconds: number };

interface Sink {
  publish(message: StreamMessage): void;
  /** Resolves when the transport can take more. */
  drained(): Promise<void>;
  close(): Promise<void>;
}

function resp(parts: (string | Buffer)[]): Buffer {
  const chunks: Buffer[] = [Buffer.from(`*${parts.length}\r\n`)];
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    chunks.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(chunks);
}

async function redisSink(url: string): Promise<Sink> {
  const { hostname, port, pathname } = new URL(url);
  const db = pathname.replace('/', '') || '0';
  const socket = net.connect(Number(port || 6379), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.setNoDelay(true);
  socket.on('data', () => undefined); // integer replies: not needed
  let pending: Buffer[] = [];
  return {
    publish: (message) => {
      pending.push(resp(['PUBLISH', `/${db}.celeryev/${message.routingKey}`, redisEnvelope(message)]));
    },
    drained: async () => {
      if (pending.length === 0) return;
      const ok = socket.write(Buffer.concat(pending));
      pending = [];
      if (!ok) await new Promise<void>((resolve) => socket.once('drain', resolve));
    },
    close: async () => {
      await new Promise<void>((resolve) => socket.end(resolve));
    },
  };
}

async function amqpSink(url: string): Promise<Sink> {
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  await channel.assertExchange('celeryev', 'topic', { durable: true, autoDelete: false });
  let blocked: Promise<void> | null = null;
  return {
    publish: (message) => {
      const ok = channel.publish('celeryev', message.routingKey, Buffer.from(message.body, 'utf8'), {
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        headers: { hostname: message.hostname },
        deliveryMode: 1,
        priority: 0,
      });
      if (!ok && !blocked)
        blocked = new Promise((resolve) =>
          channel.once('drain', () => {
            blocked = null;
            resolve();
          }),
        );
    },
    drained: async () => {
      if (blocked) await blocked;
    },
    close: async () => {
      await channel.close();
      await connection.close();
    },
  };
}

async function main(): Promise<void> {
  const [kind, url, rateText, eventsText] = process.argv.slice(2);
  const rate = Number(rateText);
  const total = Number(eventsText);
  if ((kind !== 'redis' && kind !== 'amqp') || !url || !(rate > 0) || !(total > 0)) throw new Error('usage: publisher <redis|amqp> <url> <rate> <events>');
  const report = (message: PublisherReport): void => void process.send?.(message);
  const sink = kind === 'redis' ? await redisSink(url) : await amqpSink(url);
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const stream = celeryStream(Math.ceil(total / 4), 8, 500, true);
  let sent = 0;
  let tasks = 0;
  let lastReport = 0;
  for (;;) {
    const due = Math.min(total, ((performance.now() - start) / 1000) * rate);
    let done = false;
    while (sent < due) {
      const next = stream.next();
      if (next.done) {
        done = true;
        break;
      }
      sink.publish(next.value);
      sent += next.value.events;
      if (next.value.routingKey === 'task.sent') tasks++;
    }
    await sink.drained();
    const now = performance.now();
    if (now - lastReport >= 100) {
      report({ kind: 'progress', events: sent, at: Date.now() });
      lastReport = now;
    }
    if (done || sent >= total) break;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10 - ((performance.now() - start) % 10))));
  }
  report({ kind: 'progress', events: sent, at: Date.now() });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await sink.close();
  report({ kind: 'done', events: sent, tasks, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  process.disconnect?.();
}

await main();
