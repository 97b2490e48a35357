/**
 * Micro-benchmark of the Redis event subscriber's read path (not a test; figures vary by machine):
 *
 * 1. RespScanner alone over realistic pub/sub traffic (captured Celery envelopes) in 64 KB chunks.
 * 2. An ioredis subscriber with and without the scanning Connector, receiving 100,000 small
 *    messages from a private redis-server: wall time and CPU time of the receiving process.
 * 3. The same subscriber receiving three 11 MB messages: CPU time spent on them.
 *
 *   npm run bench:resp
 */
import net from 'node:net';
import { Redis } from 'ioredis';
import { RespScanner } from '../server/broker/redis/resp-scanner';
import { scanningConnector } from '../server/broker/redis/scanning-connector';
import { startRedisServer } from '../test/helpers/brokers';
import { redisReplay } from '../test/helpers/hostile';

const LIMIT = 8 * 1024 * 1024;
const bulk = (text: string): string => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
const envelopes = redisReplay(0).map((m) => m.payload);
const pmessage = (channel: string, payload: string): string => `>4\r\n${bulk('pmessage')}${bulk('/0.celeryev/*')}${bulk(channel)}${bulk(payload)}`;

// 1. The scanner alone.
{
  const parts: string[] = [];
  for (let i = 0; i < 100_000; i++) parts.push(pmessage('/0.celeryev/task.multi', envelopes[i % envelopes.length] as string));
  const stream = Buffer.from(parts.join(''));
  const chunks: Buffer[] = [];
  for (let o = 0; o < stream.length; o += 65536) chunks.push(stream.subarray(o, o + 65536));
  for (let run = 0; run < 5; run++) {
    let out = 0;
    const scanner = new RespScanner(LIMIT, (b) => {
      out += b.length;
    });
    const t = performance.now();
    for (const chunk of chunks) scanner.write(chunk);
    const ms = performance.now() - t;
    if (out !== stream.length) throw new Error('scanner changed the stream');
    console.log(
      `scanner alone: 100,000 messages (${(stream.length / 1e6).toFixed(1)} MB) in ${ms.toFixed(1)} ms = ${Math.round(100_000 / (ms / 1000)).toLocaleString('en')} messages/s, ${(stream.length / 1e6 / (ms / 1000)).toFixed(0)} MB/s`,
    );
  }
}

// 2 and 3. A subscriber with and without the scanner.
const server = await startRedisServer();
const publishRaw = async (payloads: string[]): Promise<void> => {
  const channel = '/0.celeryev/task.multi';
  const socket = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  let replies = 0;
  let wake: (() => void) | null = null;
  socket.on('data', (d) => {
    for (const b of d) if (b === 10) replies++;
    wake?.();
  });
  // Batches of 200, each waiting for its replies: fast, but paced so Redis never drops the subscriber.
  for (let i = 0; i < payloads.length; i += 200) {
    const batch = payloads.slice(i, i + 200);
    const want = i + batch.length;
    await new Promise<void>((resolve) => {
      wake = () => replies >= want && resolve();
      socket.write(batch.map((p) => `*3\r\n$7\r\nPUBLISH\r\n$${channel.length}\r\n${channel}\r\n$${Buffer.byteLength(p)}\r\n${p}\r\n`).join(''));
    });
  }
  socket.destroy();
};
async function receive(scanning: boolean, payloads: string[]): Promise<{ ms: number; cpuMs: number }> {
  const sub = new Redis({ port: server.port, host: '127.0.0.1', ...(scanning ? { Connector: scanningConnector(LIMIT, false) } : {}) });
  await sub.psubscribe('/0.celeryev/*');
  let got = 0;
  let chars = 0;
  const done = new Promise<void>((resolve) =>
    sub.on('pmessage', (_p: string, _c: string, m: string) => {
      chars += m.length;
      if (++got === payloads.length) resolve();
    }),
  );
  const cpu = process.cpuUsage();
  const t = performance.now();
  const publishing = publishRaw(payloads);
  await done;
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  await publishing;
  sub.disconnect();
  void chars;
  // The publisher runs in this process too (raw socket, cheap); its CPU is included in both.
  return { ms, cpuMs: (used.user + used.system) / 1000 };
}
const small: string[] = [];
for (let i = 0; i < 100_000; i++) small.push(envelopes[i % envelopes.length] as string);
for (let run = 0; run < 3; run++) {
  for (const scanning of [false, true]) {
    const r = await receive(scanning, small);
    console.log(`100,000 messages ${scanning ? 'with   ' : 'without'} scanner: ${r.ms.toFixed(0)} ms (${Math.round(100_000 / (r.ms / 1000)).toLocaleString('en')}/s), CPU ${r.cpuMs.toFixed(0)} ms`);
  }
}
const big = ['x'.repeat(11 * 1024 * 1024), 'y'.repeat(11 * 1024 * 1024), 'z'.repeat(11 * 1024 * 1024)];
for (let run = 0; run < 3; run++) {
  for (const scanning of [false, true]) {
    const r = await receive(scanning, big);
    console.log(`3 x 11 MB ${scanning ? 'with   ' : 'without'} scanner: ${r.ms.toFixed(0)} ms, CPU ${r.cpuMs.toFixed(0)} ms`);
  }
}
await server.stop();
process.exit(0);
