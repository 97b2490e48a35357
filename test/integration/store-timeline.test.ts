/**
 * What the store keeps beyond the tasks' merged state, on SQLite and on PostgreSQL, with a real
 * worker: a task's every event (a task retried twice, then successful, shows each attempt), the
 * audit log of real control actions (filtered and paged by SQL, with the total), audit.jsonl
 * imported once, the pause state — each back after a restart, with the data directory's files
 * gone or stale, so it can only have come from the store. And the store refusing writes while an
 * action is audited loses nothing: the entry is listed meanwhile and lands once the store is back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { AuditEntry } from '../../server/control/audit';
import type { PauseState } from '../../server/control/pauses';
import { createLogger } from '../../server/log';
import type { RunningCeleriac } from '../../server/server';
import { migrate } from '../../server/store/migrate';
import { PostgresDatabase } from '../../server/store/postgres';
import { MIGRATIONS } from '../../server/store/schema';
import type { CeleriacStatus, TaskDetail } from '../../server/views/types';
import type { PrivateRedisServer } from '../helpers/brokers';
import { sendTasks } from '../helpers/celery';
import { getJson, startTestCeleriac, waitFor } from '../helpers/celeriac';
import { POSTGRES_ADMIN_URL, TEST_STORES } from '../helpers/postgres';
import { TestResources } from '../helpers/resources';
import pg from 'pg';

const resources = new TestResources();
after(() => resources.stopAll());

const WORKER = 'history@timeline';

interface AuditPage {
  total: number;
  entries: AuditEntry[];
}

async function post(base: string, route: string, params: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}${route}`, { method: 'POST', body: new URLSearchParams(params), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return { status: res.status, body: await res.json() };
}

function audit(celeriac: RunningCeleriac, query: string): Promise<AuditPage> {
  return getJson<AuditPage>(celeriac.url, `/api/audit?${query}`).then((r) => r.body);
}

/** An entry as an older Celeriac wrote it to audit.jsonl. */
function fileEntry(n: number): AuditEntry {
  return { time: 1_700_000_000 + n, user: 'before-the-store', remote: '127.0.0.1', action: 'imported-action', target: `target-${n}`, parameters: { n }, ok: true, message: `line ${n}`, workers: {} };
}

describe('history beyond tasks: timelines, audit log, pauses (real worker)', { timeout: 300_000 }, () => {
  let redis: PrivateRedisServer;

  it('starts a broker and a worker', async () => {
    redis = await resources.redis();
    await resources.worker({ brokerUrl: redis.url(0), nodeName: WORKER, concurrency: 2, sendEvents: true });
  });

  for (const store of TEST_STORES) {
    it(`${store.name}: a retried task's events, the audit log and the pauses are back after a restart`, async () => {
      const storeUrl = await store.url(resources);
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'celeriac-history-'));
      resources.defer(async () => rmSync(dataDir, { recursive: true, force: true }));
      // What an older Celeriac left in the data directory.
      writeFileSync(path.join(dataDir, 'audit.jsonl'), `${[1, 2, 3].map((n) => JSON.stringify(fileEntry(n))).join('\n')}\nnot json\n`);
      const filePauses: PauseState = { queues: { 'imported-q': { pausedAt: 1_700_000_000, by: 'before-the-store', workers: [] } }, workers: {} };
      writeFileSync(path.join(dataDir, 'pauses.json'), JSON.stringify(filePauses));
      const args = ['--broker', redis.url(0), '--store', storeUrl, '--data-dir', dataDir];

      let celeriac = await startTestCeleriac(args);
      try {
        await waitFor('worker online', async () => (await getJson<Record<string, boolean>>(celeriac.url, '/api/workers?status=1')).body[WORKER] === true);
        const [id] = await sendTasks(redis.url(0), [{ task: 'tasks.retry_then_succeed', kwargs: { retries: 2 } }]);
        const detail = await waitFor(
          'the retried task succeeded',
          async () => {
            const task = (await getJson<TaskDetail>(celeriac.url, `/api/celeriac/task/${id}`)).body;
            return task.state === 'SUCCESS' && task.events.some((e) => e.type === 'task-succeeded') ? task : null;
          },
          60_000,
        );
        const count = (type: string) => detail.events.filter((e) => e.type === type).length;
        assert.deepEqual(['task-received', 'task-started', 'task-retried', 'task-succeeded'].map(count), [3, 3, 2, 1], `every attempt is a step: ${JSON.stringify(detail.events)}`);
        assert.ok(
          detail.events.filter((e) => e.type === 'task-received' || e.type === 'task-started').every((e) => e.hostname === WORKER),
          'received and started name the worker',
        );
        assert.equal(detail.eventsOmitted, 0);
        const info = (await getJson<Record<string, unknown>>(celeriac.url, `/api/task/info/${id}`)).body;
        assert.equal('events' in info, false, "Flower's shape stays Flower's");

        // Real control actions: three rate limits, a worker paused.
        for (const rate of ['10/s', '20/s', '30/s']) assert.equal((await post(celeriac.url, '/api/task/rate-limit/tasks.add', { workername: WORKER, ratelimit: rate })).status, 200);
        assert.equal((await post(celeriac.url, `/api/worker/pause/${encodeURIComponent(WORKER)}`)).status, 200);
        const imported = await audit(celeriac, 'action=imported-action&limit=100');
        assert.deepEqual(
          imported.entries.map((e) => e.target),
          ['target-3', 'target-2', 'target-1'],
          'audit.jsonl was imported, newest first',
        );
        await waitFor('audit entries written', async () => (await getJson<CeleriacStatus>(celeriac.url, '/api/celeriac/status')).body.store?.audit.pending === 0);
        await celeriac.close();

        // The files are gone or stale: what comes back can only come from the store.
        rmSync(path.join(dataDir, 'audit.jsonl'));
        writeFileSync(path.join(dataDir, 'pauses.json'), JSON.stringify({ queues: { 'stale-q': { pausedAt: 1, by: null, workers: [] } }, workers: {} }));
        celeriac = await startTestCeleriac(args);
        const back = (await getJson<TaskDetail>(celeriac.url, `/api/celeriac/task/${id}`)).body;
        assert.deepEqual(back.events, detail.events, 'the timeline is back as it was');
        const all = await audit(celeriac, 'limit=100');
        assert.equal(all.total, 3 + 3 + 1, 'three imported (once), three rate limits, one pause');
        const limits = await audit(celeriac, 'action=rate-limit&limit=1&offset=1');
        assert.equal(limits.total, 3);
        assert.deepEqual(
          limits.entries.map((e) => e.parameters.rate_limit),
          ['20/s'],
          'paged newest first',
        );
        const byTarget = await audit(celeriac, `target=${encodeURIComponent(WORKER)}&action=pause-worker`);
        assert.deepEqual([byTarget.total, byTarget.entries[0]?.ok], [1, true]);
        const pauses = (await getJson<PauseState>(celeriac.url, '/api/celeriac/pauses')).body;
        assert.deepEqual(Object.keys(pauses.workers), [WORKER], 'the paused worker is back from the store');
        assert.deepEqual(Object.keys(pauses.queues), ['imported-q'], 'pauses.json was imported once; the stale file is not read again');
        await waitFor('event stream after restart', async () => celeriac.monitor.transport.status().connected);
        assert.equal((await post(celeriac.url, `/api/worker/resume/${encodeURIComponent(WORKER)}`)).status, 200);
        await celeriac.close();

        // A third start: nothing imported twice, the resume kept.
        celeriac = await startTestCeleriac(args);
        assert.equal((await audit(celeriac, 'action=imported-action')).total, 3);
        assert.equal((await audit(celeriac, 'limit=1')).total, 3 + 3 + 1 + 1);
        assert.deepEqual((await getJson<PauseState>(celeriac.url, '/api/celeriac/pauses')).body.workers, {});
      } finally {
        await celeriac.close();
      }
    });
  }

  it('SQLite: an action audited while another process locks the database is listed meanwhile and lands once the lock is gone', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'celeriac-history-lock-'));
    resources.defer(async () => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'celeriac.db');
    const args = ['--broker', redis.url(0), '--store', `sqlite:${file}`, '--data-dir', dir];
    let celeriac = await startTestCeleriac(args);
    const locker = new Database(file);
    try {
      await waitFor('worker online', async () => (await getJson<Record<string, boolean>>(celeriac.url, '/api/workers?status=1')).body[WORKER] === true);
      locker.exec('BEGIN EXCLUSIVE');
      assert.equal((await post(celeriac.url, '/api/task/rate-limit/tasks.echo', { workername: WORKER, ratelimit: '5/s' })).status, 200);
      const status = await waitFor(
        'the store refuses the write',
        async () => {
          const store = (await getJson<CeleriacStatus>(celeriac.url, '/api/celeriac/status')).body.store;
          return store?.audit.failures && store.audit.failures > 0 ? store : null;
        },
        30_000,
      );
      assert.equal(status.audit.pending, 1);
      assert.equal(status.degraded, true);
      const meanwhile = await audit(celeriac, 'action=rate-limit');
      assert.deepEqual([meanwhile.total, meanwhile.entries[0]?.parameters.rate_limit], [1, '5/s'], 'listed while it waits');
      locker.exec('COMMIT');
      await waitFor('the entry is written', async () => (await getJson<CeleriacStatus>(celeriac.url, '/api/celeriac/status')).body.store?.audit.pending === 0, 30_000);
      await celeriac.close();
      rmSync(path.join(dir, 'audit.jsonl'));
      celeriac = await startTestCeleriac(args);
      const stored = await audit(celeriac, 'action=rate-limit');
      assert.deepEqual([stored.total, stored.entries[0]?.parameters.rate_limit], [1, '5/s'], 'in the store, once');
    } finally {
      if (locker.inTransaction) locker.exec('ROLLBACK');
      locker.close();
      await celeriac.close();
    }
  });

  it('PostgreSQL: an action audited while the database is gone is listed meanwhile and lands once it is back', async () => {
    const name = `celeriac_test_gone_${process.pid}`;
    const admin = async (sql: string) => {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    };
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin(`CREATE DATABASE ${name}`);
    resources.defer(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    const url = new URL(POSTGRES_ADMIN_URL);
    url.pathname = `/${name}`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'celeriac-history-gone-'));
    resources.defer(async () => rmSync(dir, { recursive: true, force: true }));
    const args = ['--broker', redis.url(0), '--store', url.toString(), '--data-dir', dir];
    let celeriac = await startTestCeleriac(args);
    try {
      await waitFor('worker online', async () => (await getJson<Record<string, boolean>>(celeriac.url, '/api/workers?status=1')).body[WORKER] === true);
      await admin(`DROP DATABASE ${name} WITH (FORCE)`);
      assert.equal((await post(celeriac.url, '/api/task/rate-limit/tasks.echo', { workername: WORKER, ratelimit: '7/s' })).status, 200);
      const status = await waitFor(
        'the store refuses the write',
        async () => {
          const store = (await getJson<CeleriacStatus>(celeriac.url, '/api/celeriac/status')).body.store;
          return store?.audit.failures && store.audit.failures > 0 ? store : null;
        },
        30_000,
      );
      assert.deepEqual([status.audit.pending, status.degraded], [1, true]);
      const meanwhile = await audit(celeriac, 'action=rate-limit');
      assert.deepEqual([meanwhile.total, meanwhile.entries[0]?.parameters.rate_limit], [1, '7/s'], 'listed from memory while the store is gone');
      // The database is back (empty, as after a restore), with the schema.
      await admin(`CREATE DATABASE ${name}`);
      const db = new PostgresDatabase(url.toString(), createLogger('silent'));
      await migrate(db, MIGRATIONS);
      await db.close();
      await waitFor('the entry is written', async () => (await getJson<CeleriacStatus>(celeriac.url, '/api/celeriac/status')).body.store?.audit.pending === 0, 30_000);
      await celeriac.close();
      rmSync(path.join(dir, 'audit.jsonl'));
      celeriac = await startTestCeleriac(args);
      const stored = await audit(celeriac, 'action=rate-limit');
      assert.deepEqual([stored.total, stored.entries[0]?.parameters.rate_limit], [1, '7/s'], 'in the store, once');
    } finally {
      await celeriac.close();
    }
  });
});
