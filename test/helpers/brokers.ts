/**
 * Broker helpers for integration tests: private redis-server instances and RabbitMQ vhosts.
 *
 * - `startRedisServer()` spawns a throw-away `redis-server` on a free loopback port so a test can
 *   restart (or kill) its broker without touching the shared one on 6379.
 * - `ensureRabbitVhost()` / `deleteRabbitVhost()` isolate AMQP tests in their own vhost on the
 *   shared RabbitMQ (127.0.0.1:5672, guest/guest) using `rabbitmqctl` (we run as root).
 * - `restartRabbitApp()` bounces the RabbitMQ application (not the Erlang node) and waits until
 *   AMQP logins work again.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import amqp from 'amqplib';

export const REDIS_SERVER_BIN = '/usr/bin/redis-server';
export const RABBITMQCTL_BIN = 'rabbitmqctl';
export const RABBIT_HOST = '127.0.0.1';
export const RABBIT_PORT = 5672;

export interface PrivateRedisServer {
  /** TCP port on 127.0.0.1. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>/<db>` (db defaults to 0). */
  url(db?: number): string;
  /** SIGTERM the server, wait for it to exit, then start it again on the same port (empty dataset). */
  restart(): Promise<void>;
  /** SIGTERM the server and wait for it to exit. Idempotent. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Leak protection: any redis-server still running when the test process exits is SIGKILLed.
// ---------------------------------------------------------------------------------------------
const liveRedis = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveRedis) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/** A TCP port that was free on 127.0.0.1 a moment ago (bind to port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('freePort: unexpected server address'));
        return;
      }
      const { port } = addr;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * Probe 127.0.0.1:port within `timeoutMs`. `tcp`: resolves true once a connection opens;
 * `ping`: sends a Redis PING over the raw socket and resolves true on `+PONG`.
 */
function probePort(mode: 'tcp' | 'ping', port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('error', () => done(false));
    sock.once('connect', () => (mode === 'tcp' ? done(true) : sock.write('PING\r\n')));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

/**
 * Starts a private `redis-server` (no persistence, loopback only, not daemonized) on a free
 * port, as a child of this process. Resolves once it answers PING.
 *
 * `options.args(port, dir)` replaces the listening arguments (default `--port <port>`), for TLS
 * (`--port 0 --tls-port <port> …`), passwords or sentinel mode (a config file in `dir`); with
 * `options.probe: 'tcp'` readiness is a TCP connect instead of PING (TLS, auth).
 */
export interface RedisServerOptions {
  args?: (port: number, dir: string) => string[];
  probe?: 'ping' | 'tcp';
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<PrivateRedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'celeriac-redis-'));
  const probe = (p: number, timeoutMs: number): Promise<boolean> => probePort(options.probe ?? 'ping', p, timeoutMs);
  let child: ChildProcess | null = null;
  let log = '';

  const launch = async (): Promise<void> => {
    log = '';
    const proc = spawn(
      REDIS_SERVER_BIN,
      [...(options.args ? options.args(port, dir) : ['--port', String(port)]), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir, '--loglevel', 'notice'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    liveRedis.add(proc);
    proc.once('exit', () => liveRedis.delete(proc));
    const onData = (d: Buffer): void => {
      log += d.toString('utf8');
      if (log.length > 64 * 1024) log = log.slice(-32 * 1024);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);

    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`redis-server on port ${port} exited during startup:\n${log}`);
      }
      if (await probe(port, 500)) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} not ready after 10 s:\n${log}`);
      }
      await delay(25);
    }
  };

  const terminate = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc) return;
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      if (!(await waitForExit(proc, 10_000))) {
        proc.kill('SIGKILL');
        await waitForExit(proc, 5_000);
      }
    }
  };

  await launch();

  return {
    port,
    url: (db = 0) => `redis://127.0.0.1:${port}/${db}`,
    async restart() {
      await terminate();
      await launch();
    },
    async stop() {
      await terminate();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// RabbitMQ
// ---------------------------------------------------------------------------------------------

function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
        return;
      }
      resolve({ stdout, stderr });
    });
  });
}

/** `amqp://guest:guest@127.0.0.1:5672/<urlencoded vhost>` */
export function rabbitUrl(vhost: string): string {
  return `amqp://guest:guest@${RABBIT_HOST}:${RABBIT_PORT}/${encodeURIComponent(vhost)}`;
}

async function listVhosts(): Promise<string[]> {
  const { stdout } = await run(RABBITMQCTL_BIN, ['list_vhosts', '--quiet', '--no-table-headers']);
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/**
 * Creates the vhost if it does not exist, grants `guest` configure/write/read `.*` on it and
 * returns its AMQP URL (usable by both amqplib and kombu).
 */
export async function ensureRabbitVhost(name: string): Promise<string> {
  if (!(await listVhosts()).includes(name)) {
    try {
      await run(RABBITMQCTL_BIN, ['add_vhost', name]);
    } catch (err) {
      // Lost a race with another creator: fine as long as it exists now.
      if (!(await listVhosts()).includes(name)) throw err;
    }
  }
  await run(RABBITMQCTL_BIN, ['set_permissions', '-p', name, 'guest', '.*', '.*', '.*']);
  return rabbitUrl(name);
}

/** Deletes the vhost (and everything in it); no error if it does not exist. */
export async function deleteRabbitVhost(name: string): Promise<void> {
  if (!(await listVhosts()).includes(name)) return;
  try {
    await run(RABBITMQCTL_BIN, ['delete_vhost', name]);
  } catch (err) {
    if ((await listVhosts()).includes(name)) throw err;
  }
}

/** Resolves once a guest login on vhost `/` succeeds; rejects after `timeoutMs`. */
export async function waitForRabbit(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown = null;
  while (Date.now() < deadline) {
    try {
      const conn = await amqp.connect(rabbitUrl('/'), { timeout: 2_000 });
      await conn.close();
      return;
    } catch (err) {
      lastErr = err;
      await delay(250);
    }
  }
  throw new Error(`RabbitMQ did not accept AMQP logins within ${timeoutMs} ms: ${String(lastErr)}`);
}

/**
 * `rabbitmqctl stop_app` + `rabbitmqctl start_app`, then waits (max 60 s) until the broker
 * accepts AMQP logins again. Every AMQP connection to the broker is dropped by this.
 */
export async function restartRabbitApp(): Promise<void> {
  await run(RABBITMQCTL_BIN, ['stop_app'], 120_000);
  await run(RABBITMQCTL_BIN, ['start_app'], 120_000);
  await waitForRabbit(60_000);
}

/**
 * Make a private redis-server exit (SHUTDOWN NOSAVE) without forgetting it: `restart()` then
 * starts it again on the same port. This is a broker outage as clients see it.
 */
export async function shutdownRedis(server: PrivateRedisServer): Promise<void> {
  const client = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await client.connect();
  await client.call('SHUTDOWN', 'NOSAVE').catch(() => undefined); // the connection drops as the server exits
  client.disconnect();
}
