/**
 * The store failing under the real process (bin/celeriac.js) fed by a real Celery worker, and
 * coming back:
 * - a full disk: the SQLite file on a 4 MiB tmpfs that the test fills;
 * - PostgreSQL stopped mid-run and started again: a private server of the test's own
 *   (test/helpers/postgres.ts), never the machine's shared one.
 * Each time: writes fail → /api/celeriac/status says degraded with the reason, /healthcheck says
 * `store degraded`, ingest and the live API go on, pending stays within --store-max-pending,
 * nothing crashes; once the store is back the pending tasks land, and nothing is lost beyond
 * the counted drops.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { StoreStatus } from '../../server/store';
import { TREND_TABLES } from '../../server/store/trends';
import type { TaskRow } from '../../server/views/types';
import { freePort, type PrivateRedisServer } from '../helpers/brokers';
import { sendTasks } from '../helpers/celery';
import { getJson, waitFor } from '../helpers/celeriac';
import { samples } from '../helpers/exposition';
import { startPrivatePostgres } from '../helpers/postgres';
import { TestResources } from '../helpers/resources';

const ROOT = path.resolve(import.meta.dirname, '../..');
const resources = new TestResources();
after(() => resources.stopAll());

interface CeleriacProcess {
  url: string;
  child: ChildProcess;
  /** What it printed (warn and above): a crash shows here. */
  output(): string;
}

async function startProcess(broker: string, args: string[]): Promise<CeleriacProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/celeriac.js'), '--broker', broker, '--port', String(port), '--no-ui', '--log-level', 'warn', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  resources.defer(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('Celeriac listening', async () => (await fetch(`${url}/healthcheck`).catch(() => null))?.status === 200, 30_000);
  return { url, child, output: () => output };
}

async function storeStatus(celeriac: CeleriacProcess): Promise<StoreStatus> {
  const status = (await getJson<{ store: StoreStatus | null }>(celeriac.url, '/api/celeriac/status')).body.store;
  assert.ok(status, 'the status has a store');
  return status;
}

async function liveTasks(celeriac: CeleriacProcess): Promise<TaskRow[]> {
  return (await getJson<{ tasks: TaskRow[] }>(celeriac.url, '/api/celeriac/tasks?limit=1000')).body.tasks;
}

async function finished(celeriac: CeleriacProcess, count: number): Promise<TaskRow[]> {
  return waitFor(
    `${count} tasks finished`,
    async () => {
      const tasks = await liveTasks(celeriac);
      return tasks.length === count && tasks.every((t) => t.state === 'SUCCESS' || t.state === 'FAILURE') ? tasks : null;
    },
    90_000,
  );
}

/** Everything changed has been written and the store takes writes. */
async function caughtUp(celeriac: CeleriacProcess, written: number): Promise<StoreStatus> {
  return waitFor(
    `the store caught up (${written} task rows written)`,
    async () => {
      const status = await storeStatus(celeriac);
      return !status.degraded && status.pending === 0 && status.written >= written ? status : null;
    },
    60_000,
  );
}

async function metric(celeriac: CeleriacProcess, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const body = await (await fetch(`${celeriac.url}/metrics`)).text();
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return samples(body, name).find((s) => JSON.stringify(Object.entries(s.labels).sort()) === wanted)?.value;
}

async function assertStillServing(celeriac: CeleriacProcess, degradedReason: RegExp): Promise<void> {
  const health = await fetch(`${celeriac.url}/healthcheck`);
  const text = await health.text();
  assert.equal(health.status, 200, 'a degraded store is said, not failed');
  assert.match(text, /^OK \(store degraded: /);
  assert.match(text, degradedReason);
  assert.equal(await metric(celeriac, 'celeriac_store_degraded'), 1);
  assert.equal(celeriac.child.exitCode, null, 'still running');
  // The tasks list answers from memory, and says so.
  const page = (await (await fetch(`${celeriac.url}/api/celeriac/tasks?limit=5`)).json()) as { tasks: unknown[]; historyNote: string | null };
  assert.ok(page.tasks.length > 0, 'memory answers');
  assert.match(page.historyNote ?? '', /these are the tasks memory holds$/);
}

async function sigterm(celeriac: CeleriacProcess): Promise<number | null> {
  const exited = once(celeriac.child, 'exit');
  celeriac.child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

describe('the store failing under the real process, with a real worker', { timeout: 300_000 }, () => {
  let redis: PrivateRedisServer;

  it('starts a broker and a worker', async () => {
    redis = await resources.redis();
    await resources.worker({ brokerUrl: redis.url(0), nodeName: 'outage@test', concurrency: 4, sendEvents: true });
  });

  it('a full disk: writes fail, monitoring goes on; space freed, the pending tasks land', async () => {
    // A 4 MiB filesystem of the test's own holds the SQLite store (we run as root in CI).
    const mount = mkdtempSync(path.join(os.tmpdir(), 'celeriac-full-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mount]);
    resources.defer(async () => {
      execFileSync('umount', ['-l', mount]);
      rmSync(mount, { recursive: true, force: true });
    });
    const file = path.join(mount, 'celeriac.db');
    const celeriac = await startProcess(redis.url(0), ['--store', `sqlite:${file}`, '--data-dir', mount]);
    await waitFor('worker online', async () => (await getJson<Record<string, boolean>>(celeriac.url, '/api/workers?status=1')).body['outage@test'] === true);
    await sendTasks(
      redis.url(0),
      Array.from({ length: 20 }, (_, n) => ({ task: 'tasks.add', args: [n, 1] })),
    );
    await finished(celeriac, 20);
    const before = await caughtUp(celeriac, 20);
    // The store's figures, measured at start: a size, rows per table, retention not run yet.
    assert.ok(before.sizeBytes !== null && before.sizeBytes > 0, `size ${before.sizeBytes}`);
    assert.deepEqual(Object.keys(before.rows).sort(), ['tasks', 'workers', ...TREND_TABLES.map((t) => t.table)].sort());
    assert.deepEqual(before.retention.deleted, { tasks: 0, tasks_failed: 0, ...Object.fromEntries(TREND_TABLES.map(({ table }) => [table, 0])) });

    // Fill the filesystem to the last byte.
    const filler = path.join(mount, 'filler');
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      closeSync(fd);
    }
    // Tasks whose rows need far more than what is left: 4 kB of arguments and as much result each.
    const payload = 'p'.repeat(4_000);
    // 20 at a time: the sender takes them on its command line.
    for (let start = 0; start < 300; start += 20) {
      await sendTasks(
        redis.url(0),
        Array.from({ length: 20 }, (_, n) => ({ task: 'tasks.echo', args: [`${start + n} ${payload}`] })),
      );
    }
    const degraded = await waitFor(
      'the store degraded',
      async () => {
        const status = await storeStatus(celeriac);
        return status.degraded ? status : null;
      },
      60_000,
    );
    assert.match(degraded.lastError ?? '', /full/i, 'the reason: SQLite says the disk is full');
    // Ingest and the live API go on from memory.
    const live = await finished(celeriac, 320);
    await assertStillServing(celeriac, /full/i);
    const down = await storeStatus(celeriac);
    assert.ok(down.pending > 0, 'changed tasks wait');
    assert.ok(down.failures > before.failures, 'failed writes are counted');
    assert.equal(down.dropped, 0, 'within the default pending bound: nothing dropped');

    // Space again: the writer's next flush lands everything that waited.
    rmSync(filler);
    await caughtUp(celeriac, 320);
    const stored = new Database(file, { readonly: true });
    try {
      const rows = stored.prepare('SELECT uuid, state FROM tasks').all() as { uuid: string; state: string }[];
      const states = new Map(rows.map((row) => [row.uuid, row.state]));
      assert.equal(rows.length, 320);
      for (const task of live) assert.equal(states.get(task.uuid), task.state, task.uuid);
    } finally {
      stored.close();
    }
    assert.equal(await metric(celeriac, 'celeriac_store_degraded'), 0);
    assert.equal(await sigterm(celeriac), 0, 'a clean exit after it all');
    assert.doesNotMatch(celeriac.output(), /uncaught|unhandled|FATAL/i);
  });

  it('PostgreSQL stopped mid-run and started again: pending bounded, nothing lost beyond the counted drops', async () => {
    const server = await startPrivatePostgres();
    resources.defer(() => server.remove());
    await server.createDatabase('celeriac');
    const maxPending = 40;
    const celeriac = await startProcess(redis.url(0), ['--store', server.url('celeriac'), '--store-max-pending', String(maxPending)]);
    await waitFor('worker online', async () => (await getJson<Record<string, boolean>>(celeriac.url, '/api/workers?status=1')).body['outage@test'] === true);
    await sendTasks(
      redis.url(0),
      Array.from({ length: 20 }, (_, n) => ({ task: 'tasks.add', args: [n, 2] })),
    );
    const first = await finished(celeriac, 20);
    await caughtUp(celeriac, 20);

    await server.stop();
    await sendTasks(
      redis.url(0),
      Array.from({ length: 100 }, (_, n) => ({ task: n % 10 === 0 ? 'tasks.fail' : 'tasks.add', args: n % 10 === 0 ? [`down ${n}`] : [n, 3] })),
    );
    const live = await finished(celeriac, 120);
    const down = await waitFor(
      'the store degraded, holding what it can',
      async () => {
        const status = await storeStatus(celeriac);
        return status.degraded && status.pending === maxPending ? status : null;
      },
      60_000,
    );
    assert.match(down.lastError ?? '', /ECONNREFUSED|terminat|connect/i, `the reason: ${down.lastError}`);
    assert.ok(down.dropped >= 100 - maxPending, `the longest-waiting changes were dropped and counted (${down.dropped})`);
    await assertStillServing(celeriac, /ECONNREFUSED|terminat|connect/i);
    assert.equal(await metric(celeriac, 'celeriac_store_pending_changes', { kind: 'tasks' }), maxPending);
    assert.equal(await metric(celeriac, 'celeriac_store_changes_dropped_total', { kind: 'tasks' }), down.dropped);
    // It stays bounded: a while later, still no more than the bound.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.ok((await storeStatus(celeriac)).pending <= maxPending);

    await server.start();
    const back = await caughtUp(celeriac, 20 + maxPending);
    const answered = (await (await fetch(`${celeriac.url}/api/celeriac/tasks?limit=5`)).json()) as { historyNote: string | null };
    assert.equal(answered.historyNote, null, 'the store answers the list again');
    const client = new pg.Client({ connectionString: server.url('celeriac') });
    await client.connect();
    let rows: { uuid: string; state: string }[];
    try {
      rows = (await client.query<{ uuid: string; state: string }>('SELECT uuid, state FROM tasks')).rows;
    } finally {
      await client.end();
    }
    const states = new Map(rows.map((row) => [row.uuid, row.state]));
    for (const task of first) assert.equal(states.get(task.uuid), task.state, `${task.uuid}, stored before the outage`);
    const missingOrBehind = live.filter((task) => states.get(task.uuid) !== task.state);
    assert.ok(missingOrBehind.length <= back.dropped, `lost (${missingOrBehind.length}) within the counted drops (${back.dropped})`);
    assert.ok(rows.length >= 20 + maxPending, `the pending tasks landed (${rows.length} rows)`);
    assert.equal(await sigterm(celeriac), 0, 'a clean exit after it all');
    assert.doesNotMatch(celeriac.output(), /uncaught|unhandled|FATAL/i);
  });
});
