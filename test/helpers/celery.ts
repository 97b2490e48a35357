/**
 * Harness for integration tests that run real Celery workers (Debian python3-celery 5.2.6,
 * kombu 5.2.4) against the fixture app in test/fixtures/celery_app/.
 *
 * Workers are spawned detached, in their own process group, so `kill()` can take the prefork pool
 * children down too; a process 'exit' hook (plus SIGINT/SIGTERM/SIGHUP handlers) SIGKILLs every
 * worker group that is still running so tests never leak workers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The only interpreter on this machine that has Celery installed. */
export const CELERY_PYTHON = '/usr/bin/python3';

/** Absolute path of the fixture Celery app (tasks.py, send.py). */
export const FIXTURE_APP_DIR: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'celery_app');

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;
const LOG_LIMIT = 1024 * 1024;

export type CeleryPool = 'prefork' | 'solo' | 'threads';

export interface StartWorkerOptions {
  /** redis://… or amqp://… */
  brokerUrl: string;
  /** `-n`, e.g. `w1@test` (Celery expands `%h` etc.). */
  nodeName: string;
  /** `-Q a,b`; default: the app's default queue. */
  queues?: string[];
  /** `-c`; default 1. */
  concurrency?: number;
  /** `-P`; default prefork. */
  pool?: CeleryPool;
  /** `-E` (send task events from the start). */
  sendEvents?: boolean;
  /** `--heartbeat-interval` seconds (Celery default 2.0). */
  heartbeatInterval?: number;
  /** Broker transport options (JSON-encoded into CELERY_BROKER_TRANSPORT_OPTIONS). */
  transportOptions?: Record<string, unknown>;
  /** Also append everything the worker prints to this file. */
  logFile?: string;
  /** CELERY_DEFAULT_QUEUE for the app (default `celery`). */
  defaultQueue?: string;
  /** Extra `celery worker` arguments, appended last. */
  extraArgs?: string[];
  /** Extra environment variables for the worker process. */
  env?: Record<string, string>;
}

export interface CeleryWorker {
  /** The `-n` value as passed. */
  readonly nodeName: string;
  /** PID of the worker main process (also its process-group id). */
  readonly pid: number;
  /** SIGTERM (warm shutdown: worker-offline is published) and wait for exit; SIGKILLs the group after 20 s. */
  stop(): Promise<void>;
  /** SIGKILL the whole process group (main process and pool children) and wait for exit. */
  kill(): Promise<void>;
  /** Everything the worker printed so far (stdout and stderr interleaved). */
  log(): string;
}

export interface SendTasksOptions {
  transportOptions?: Record<string, unknown>;
  defaultQueue?: string;
}

export interface TaskSpec {
  task: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  /** Task id to use (uuid); Celery makes one up otherwise. */
  id?: string;
  queue?: string;
  /** Seconds. */
  countdown?: number;
}

// ---------------------------------------------------------------------------------------------
// Leak protection
// ---------------------------------------------------------------------------------------------

const liveGroups = new Set<number>();

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* ESRCH: group already gone */
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until no process of the group is left (pool children included). */
async function waitForGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pgid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

function killAllWorkers(): void {
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  liveGroups.clear();
}

process.on('exit', killAllWorkers);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    killAllWorkers();
    // Keep the default behaviour (terminate) unless someone else handles the signal.
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  });
}

// ---------------------------------------------------------------------------------------------

function celeryEnv(brokerUrl: string, transportOptions?: Record<string, unknown>, defaultQueue?: string, extra?: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CELERY_BROKER_URL: brokerUrl,
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    ...extra,
  };
  // Never let a developer's PYTHONPATH/PYTHONHOME point /usr/bin/python3 at another celery.
  delete env.PYTHONPATH;
  delete env.PYTHONHOME;
  if (transportOptions) env.CELERY_BROKER_TRANSPORT_OPTIONS = JSON.stringify(transportOptions);
  else delete env.CELERY_BROKER_TRANSPORT_OPTIONS;
  if (defaultQueue) env.CELERY_DEFAULT_QUEUE = defaultQueue;
  else delete env.CELERY_DEFAULT_QUEUE;
  return env;
}

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    child.once('exit', onExit);
  });
}

/**
 * Spawns `/usr/bin/python3 -m celery -A tasks worker` in the fixture directory and resolves when
 * the worker logs `<node> ready.`. Rejects (with the worker's log tail) if it exits first or is
 * not ready within 30 s; in both cases the process group is killed.
 */
export function startWorker(opts: StartWorkerOptions): Promise<CeleryWorker> {
  const args = [
    '-m',
    'celery',
    '-A',
    'tasks',
    'worker',
    '-n',
    opts.nodeName,
    '--loglevel',
    'INFO',
    '--without-gossip',
    '--without-mingle',
    '-P',
    opts.pool ?? 'prefork',
    '-c',
    String(opts.concurrency ?? 1),
  ];
  if (opts.queues && opts.queues.length > 0) args.push('-Q', opts.queues.join(','));
  if (opts.sendEvents) args.push('-E');
  if (opts.heartbeatInterval !== undefined) args.push('--heartbeat-interval', String(opts.heartbeatInterval));
  if (opts.extraArgs) args.push(...opts.extraArgs);

  const child = spawn(CELERY_PYTHON, args, {
    cwd: FIXTURE_APP_DIR,
    env: celeryEnv(opts.brokerUrl, opts.transportOptions, opts.defaultQueue, opts.env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let logText = '';
  const append = (chunk: Buffer): void => {
    const s = chunk.toString('utf8');
    logText += s;
    if (logText.length > LOG_LIMIT) logText = logText.slice(-LOG_LIMIT / 2);
    if (opts.logFile) {
      try {
        appendFileSync(opts.logFile, s);
      } catch {
        /* best effort */
      }
    }
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);

  const pid = child.pid;
  if (pid === undefined) {
    return new Promise((_resolve, reject) => {
      child.once('error', (err) => reject(new Error(`cannot spawn celery worker: ${err.message}`)));
    });
  }
  liveGroups.add(pid);
  child.once('exit', () => {
    // The main process is gone; SIGKILL any orphaned pool child still in the group.
    killGroup(pid, 'SIGKILL');
    liveGroups.delete(pid);
  });

  const kill = async (): Promise<void> => {
    killGroup(pid, 'SIGKILL');
    await waitForExit(child, 10_000);
    await waitForGroupGone(pid, 5_000);
    liveGroups.delete(pid);
  };

  const stop = async (): Promise<void> => {
    if (!exited(child)) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
        await kill();
        return;
      }
    }
    killGroup(pid, 'SIGKILL');
    await waitForGroupGone(pid, 5_000);
    liveGroups.delete(pid);
  };

  const worker: CeleryWorker = {
    nodeName: opts.nodeName,
    pid,
    stop,
    kill,
    log: () => logText,
  };

  return new Promise<CeleryWorker>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(poll);
      child.off('exit', onExit);
      if (err) {
        killGroup(pid, 'SIGKILL');
        reject(err);
      } else {
        resolve(worker);
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      finish(new Error(`celery worker ${opts.nodeName} exited before ready (code ${code}, signal ${signal}):\n${tail(logText)}`));
    };
    child.once('exit', onExit);
    child.once('error', (err) => finish(new Error(`celery worker ${opts.nodeName}: ${err.message}\n${tail(logText)}`)));
    const timer = setTimeout(() => finish(new Error(`celery worker ${opts.nodeName} not ready after ${READY_TIMEOUT_MS / 1000} s:\n${tail(logText)}`)), READY_TIMEOUT_MS);
    // "[… INFO/MainProcess] w1@host ready."
    // Node names may contain spaces and markup (tests use hostile names), so match the tail only.
    const readyRe = /INFO\/MainProcess\] .+ ready\.\s*$/m;
    const poll = setInterval(() => {
      if (readyRe.test(logText)) finish(null);
    }, 20);
  });
}

/** Run the fixture app's Python with `args` (cwd = the app, broker from the URL); resolves with stdout. */
function runFixturePython(brokerUrl: string, args: string[], what: string, opts: SendTasksOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(CELERY_PYTHON, args, {
      cwd: FIXTURE_APP_DIR,
      env: celeryEnv(brokerUrl, opts.transportOptions, opts.defaultQueue),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} timed out after 30 s:\n${tail(err)}`));
    }, 30_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${what} exited with ${code}:\n${tail(err)}\n${out}`));
      else resolve(out);
    });
  });
}

/**
 * Runs `send.py` with the given specs and resolves with the task ids it printed.
 * `task_send_sent_event` is on, so each send also publishes a `task-sent` event.
 */
export async function sendTasks(brokerUrl: string, specs: TaskSpec[], opts: SendTasksOptions = {}): Promise<string[]> {
  const out = await runFixturePython(brokerUrl, ['send.py', JSON.stringify(specs)], 'send.py', opts);
  const lastLine = out.trim().split('\n').pop() ?? '';
  let ids: unknown;
  try {
    ids = JSON.parse(lastLine);
  } catch (e) {
    throw new Error(`send.py printed unexpected output (${String(e)}): ${out}`);
  }
  if (!Array.isArray(ids) || !ids.every((x): x is string => typeof x === 'string')) throw new Error(`send.py printed unexpected output: ${out}`);
  return ids;
}

/**
 * Runs a Python snippet with the fixture app importable (`from tasks import app`), e.g.
 * `runCeleryPython(url, 'from tasks import app; app.control.revoke("…")')`. Resolves with stdout.
 */
export function runCeleryPython(brokerUrl: string, code: string, opts: SendTasksOptions = {}): Promise<string> {
  return runFixturePython(brokerUrl, ['-c', code], 'python -c', opts);
}

/**
 * Runs Python `lines` that apply a canvas and leave its AsyncResult in `r`, e.g.
 * `['from celery import chain', 'from tasks import add', 'r = chain(add.s(1, 1), add.s(2)).apply_async()']`,
 * and resolves with the id of the canvas's first task (the workflow's root), found by following
 * `r.parent` up.
 */
export async function applyCanvas(brokerUrl: string, lines: string[], opts: SendTasksOptions = {}): Promise<string> {
  const code = [...lines, 'root = r', 'while root.parent is not None: root = root.parent', 'print(root.id)'].join('\n');
  const out = await runCeleryPython(brokerUrl, code, opts);
  const rootId = out.trim().split('\n').pop();
  if (!rootId) throw new Error(`the canvas printed no root id: ${out}`);
  return rootId;
}

/** A decoded Celery event (flat JSON object with at least `type`). */
export interface CeleryEvent {
  type: string;
  hostname?: string;
  timestamp?: number;
  uuid?: string;
  [field: string]: unknown;
}

/**
 * Minimal test-side decoder for a kombu Redis envelope as published on `/<db>.celeryev/*`:
 * base64 body (when `properties.body_encoding == "base64"`), JSON only, object or list body.
 * Returns the events it contains (a `task.multi` batch yields several).
 */
export function decodeRedisEventPayload(payload: string | Buffer): CeleryEvent[] {
  const env = JSON.parse(payload.toString()) as {
    body: string;
    'content-type'?: string;
    properties?: { body_encoding?: string | null };
  };
  if (env['content-type'] !== 'application/json') {
    throw new Error(`unexpected content-type ${String(env['content-type'])}`);
  }
  const text = env.properties?.body_encoding === 'base64' ? Buffer.from(env.body, 'base64').toString('utf8') : env.body;
  const body: unknown = JSON.parse(text);
  const list = Array.isArray(body) ? body : [body];
  return list as CeleryEvent[];
}
