/**
 * Retention against both real backends (an SQLite file, a PostgreSQL database of the test's
 * own): tasks expire by their last change in batches, failures by their own age, a table the
 * test creates joins through a policy alone, the size cap deletes the least recently changed
 * tasks until the store is under it (and stays put once it is), and the Store reports size, rows
 * and retention figures in its status.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createLogger } from '../../server/log';
import type { TaskEvent } from '../../server/protocol/events';
import { ClusterState } from '../../server/state/cluster-state';
import type { TaskRecord } from '../../server/state/task-record';
import { Store } from '../../server/store';
import { migrate, type StoreDatabase } from '../../server/store/migrate';
import { PostgresDatabase } from '../../server/store/postgres';
import { type IngestLoad, RetentionRunner, SIZE_CAP_POLICY, standardPolicies } from '../../server/store/retention';
import { MIGRATIONS } from '../../server/store/schema';
import { SqliteDatabase } from '../../server/store/sqlite';
import { measureSize } from '../../server/store/store-size';
import { parseStoreUrl } from '../../server/store/store-url';
import { taskSink } from '../../server/store/task-row';
import { TREND_TABLES } from '../../server/store/trends';
import { waitFor } from '../helpers/celeriac';
import { TEST_STORES } from '../helpers/postgres';
import { TestResources } from '../helpers/resources';

const resources = new TestResources();
after(() => resources.stopAll());
const logger = createLogger('silent');

const DAY = 86_400;
const NOW = Date.now() / 1000;
const AGES = { tasksSeconds: 7 * DAY, failedSeconds: 30 * DAY, aggregatesSeconds: 90 * DAY };

/** The trend tables' policies (the Store keeps them by --retention-aggregates), each at `deleted`. */
function trendPolicies(deleted: number): Record<string, number> {
  return Object.fromEntries(TREND_TABLES.map(({ table }) => [table, deleted]));
}

/** A second connection to the store under test, for the test's own reads and set-up. */
function openDatabase(url: string): StoreDatabase {
  const target = parseStoreUrl(url);
  if (target.kind === 'memory') throw new Error('a test store is never memory');
  const db = target.kind === 'sqlite' ? new SqliteDatabase(target.file) : new PostgresDatabase(target.url, logger);
  resources.defer(async () => db.close());
  return db;
}

function event(type: string, uuid: string, at: number, fields: Partial<TaskEvent> = {}): TaskEvent {
  return { kind: 'task', type, uuid, hostname: 'w1@h', timestamp: at, localReceived: at, clock: 1, utcoffset: 0, pid: 1, ...fields };
}

/** Finished tasks as the store's own write path stores them, last changed `at` (their `updated_at`). */
async function storeTasks(db: StoreDatabase, prefix: string, count: number, at: number, state: 'SUCCESS' | 'FAILURE', args = '()'): Promise<void> {
  const cluster = new ClusterState({ maxTasks: count + 1, maxWorkers: 10 });
  const tasks: TaskRecord[] = [];
  for (let n = 0; n < count; n++) {
    const uuid = `${prefix}-${n}`;
    cluster.apply(event('task-received', uuid, at, { name: 'tasks.add', args }));
    cluster.apply(event(state === 'SUCCESS' ? 'task-succeeded' : 'task-failed', uuid, at, state === 'SUCCESS' ? { result: '2', runtime: 0.1 } : { exception: "ValueError('boom')" }));
    tasks.push(cluster.getTask(uuid) as TaskRecord);
  }
  const sink = taskSink(db);
  for (let start = 0; start < tasks.length; start += 500) await sink.write(tasks.slice(start, start + 500), at);
}

async function uuids(db: StoreDatabase): Promise<Set<string>> {
  return new Set((await db.runner.rows('SELECT uuid FROM tasks')).map((row) => String(row.uuid)));
}

async function count(db: StoreDatabase, table: string): Promise<number> {
  const [row] = await db.runner.rows(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number(row?.n);
}

for (const store of TEST_STORES) {
  describe(`retention on ${store.name}`, () => {
    it('deletes expired tasks in batches, keeps failures to their own age and every newer task', async () => {
      const db = openDatabase(await store.url(resources));
      await migrate(db, MIGRATIONS);
      await storeTasks(db, 'old', 450, NOW - 10 * DAY, 'SUCCESS');
      await storeTasks(db, 'recent', 50, NOW - 6 * DAY, 'SUCCESS');
      await storeTasks(db, 'failed-kept', 30, NOW - 10 * DAY, 'FAILURE');
      await storeTasks(db, 'failed-old', 20, NOW - 31 * DAY, 'FAILURE');
      // A time target no batch reaches: every batch takes batchRows (the sizing by time has its own test).
      const runner = new RetentionRunner(db, { policies: standardPolicies(AGES), maxSizeBytes: null, sizeTables: ['tasks'], batchRows: 100, batchTargetMs: 600_000, pauseMs: 0 }, logger);

      const report = await runner.run();
      assert.deepEqual(report.deleted, { tasks: 450, tasks_failed: 20 });
      const left = await uuids(db);
      assert.equal(left.size, 80);
      for (const uuid of left) assert.match(uuid, /^(recent|failed-kept)-/);
      const status = runner.status();
      // 450 rows in batches of 100: four full ones, a short one; the 20 failures in one.
      assert.equal(status.batches, 6, 'never everything in one transaction');
      assert.deepEqual(status.deleted, { tasks: 450, tasks_failed: 20 });
      assert.equal(status.lastError, null);
      assert.ok(status.lastRunAt !== null && status.lastRunAt >= NOW);

      const again = await runner.run();
      assert.deepEqual(again.deleted, { tasks: 0, tasks_failed: 0 });
      assert.equal((await uuids(db)).size, 80);
    });

    it('yields to ingest between batches: a quarter of the writer while ingest writes, waits while it is behind, and still deletes everything expired', async () => {
      const db = openDatabase(await store.url(resources));
      await migrate(db, MIGRATIONS);
      await storeTasks(db, 'old', 250, NOW - 10 * DAY, 'SUCCESS');
      // A clock each batch takes 40 ms of (two readings around it), and which records every pause.
      const run = async (load: IngestLoad): Promise<{ deleted: number; pauses: number[] }> => {
        let now = 0;
        const pauses: number[] = [];
        const clock = {
          now: () => {
            now += 20;
            return now;
          },
          sleep: async (ms: number) => {
            pauses.push(ms);
            now += ms;
          },
        };
        const runner = new RetentionRunner(db, { policies: standardPolicies(AGES), maxSizeBytes: null, sizeTables: ['tasks'], batchRows: 100, pauseMs: 1, ingest: () => load, clock }, logger);
        return { deleted: (await runner.run()).deleted.tasks ?? 0, pauses };
      };
      // Idle: only the short pause between batches.
      const idle = await run('idle');
      assert.equal(idle.deleted, 250);
      assert.deepEqual(idle.pauses, [1, 1], 'two pauses between three batches');
      await storeTasks(db, 'old2', 250, NOW - 10 * DAY, 'SUCCESS');
      // Ingest writing: three times the batch's 20 ms after each (the clock's readings inside the batch).
      const active = await run('active');
      assert.equal(active.deleted, 250);
      assert.deepEqual(active.pauses, [60, 60]);
      await storeTasks(db, 'old3', 250, NOW - 10 * DAY, 'SUCCESS');
      // Ingest behind, always: the active pause, then steps of waiting up to a bound, and on.
      const behind = await run('behind');
      assert.equal(behind.deleted, 250, 'deletes everything even though ingest never catches up');
      assert.ok(behind.pauses.length > 2 && behind.pauses.length < 100, `bounded waits (${behind.pauses.length})`);
      assert.equal(behind.pauses[0], 60);
      assert.ok(
        behind.pauses.slice(1).some((ms) => ms === 50),
        'waits in steps while behind',
      );
    });

    it('sizes each batch by its time: as many rows as the last pace fits in batchTargetMs, within bounds', async () => {
      const db = openDatabase(await store.url(resources));
      await migrate(db, MIGRATIONS);
      // A clock on which every deleted row takes `msPerRow` (the database's own speed does not count).
      let now = 0;
      let msPerRow = 2;
      const limits: number[] = [];
      const timed: StoreDatabase = Object.create(db, {
        writeCounting: {
          value: async (sql: string, params?: readonly number[]) => {
            // The limit is the statement's last parameter.
            limits.push(Number(params?.at(-1)));
            const n = await db.writeCounting(sql, params);
            now += n * msPerRow;
            return n;
          },
        },
      });
      const clock = {
        now: () => now,
        sleep: async (ms: number) => {
          now += ms;
        },
      };
      const runner = new RetentionRunner(timed, { policies: standardPolicies(AGES), maxSizeBytes: null, sizeTables: ['tasks'], batchRows: 400, batchTargetMs: 100, pauseMs: 0, clock }, logger);

      // 2 ms a row: the first batch's 100 rows take 200 ms, so the next takes half as many, then 50 (= 100 ms) stays.
      await storeTasks(db, 'slow', 300, NOW - 10 * DAY, 'SUCCESS');
      assert.equal((await runner.run()).deleted.tasks, 300);
      assert.deepEqual(limits.slice(0, 4), [100, 50, 50, 50]);
      assert.equal(runner.status().batchRows, 50);

      // Faster (0.05 ms a row): the size doubles per batch, at most, up to batchRows.
      limits.length = 0;
      msPerRow = 0.05;
      await storeTasks(db, 'fast', 1_500, NOW - 10 * DAY, 'SUCCESS');
      assert.equal((await runner.run()).deleted.tasks, 1_500);
      assert.deepEqual(limits.slice(0, 5), [50, 100, 200, 400, 400]);

      // Very slow (50 ms a row): halving down to the fewest, 10 rows (500 ms), never fewer.
      limits.length = 0;
      msPerRow = 50;
      await storeTasks(db, 'crawl', 900, NOW - 10 * DAY, 'SUCCESS');
      assert.equal((await runner.run()).deleted.tasks, 900);
      assert.deepEqual(limits.slice(0, 8), [400, 200, 100, 50, 25, 13, 10, 10]);
      assert.ok(limits.every((limit) => limit >= 10));
      assert.equal(await count(db, 'tasks'), 0);
    });

    it('0 keeps forever', async () => {
      const db = openDatabase(await store.url(resources));
      await migrate(db, MIGRATIONS);
      await storeTasks(db, 'ancient', 10, NOW - 400 * DAY, 'SUCCESS');
      await storeTasks(db, 'ancient-failed', 10, NOW - 400 * DAY, 'FAILURE');
      const runner = new RetentionRunner(db, { policies: standardPolicies({ tasksSeconds: 0, failedSeconds: 0, aggregatesSeconds: 0 }), maxSizeBytes: null, sizeTables: ['tasks'] }, logger);
      assert.deepEqual((await runner.run()).deleted, {});
      assert.equal(await count(db, 'tasks'), 20);
      assert.equal(runner.status().batches, 0);
    });

    it('a table of its own joins through a policy: trend aggregates by --retention-aggregates', async () => {
      const db = openDatabase(await store.url(resources));
      await migrate(db, MIGRATIONS);
      await db.transaction(async (sql) => {
        // Whole-second minutes in an integer column, as the trend tables keep them.
        await sql.execute('CREATE TABLE trend_test_minutes (minute BIGINT NOT NULL, name TEXT NOT NULL, succeeded INTEGER NOT NULL)');
        await sql.execute('CREATE INDEX trend_test_by_minute ON trend_test_minutes (minute)');
        const minute = (at: number): number => Math.floor(at / 60) * 60;
        for (let n = 0; n < 250; n++) await sql.execute('INSERT INTO trend_test_minutes (minute, name, succeeded) VALUES ($1, $2, $3)', [minute(NOW - 91 * DAY) + n * 60, 'tasks.add', n]);
        for (let n = 0; n < 10; n++) await sql.execute('INSERT INTO trend_test_minutes (minute, name, succeeded) VALUES ($1, $2, $3)', [minute(NOW - 89 * DAY) + n * 60, 'tasks.add', n]);
      });
      await storeTasks(db, 'young', 5, NOW - DAY, 'SUCCESS');
      const runner = new RetentionRunner(
        db,
        { policies: standardPolicies(AGES, [{ table: 'trend_test_minutes', timeColumn: 'minute' }]), maxSizeBytes: null, sizeTables: ['tasks'], batchRows: 100, pauseMs: 0 },
        logger,
      );
      const report = await runner.run();
      assert.deepEqual(report.deleted, { tasks: 0, tasks_failed: 0, trend_test_minutes: 250 });
      assert.equal(await count(db, 'trend_test_minutes'), 10);
      assert.equal(await count(db, 'tasks'), 5);
      assert.equal(runner.status().batches, 2 + 3, 'one short batch per task policy, three for the 250 aggregates');
    });

    it("the Store keeps the trend tables by --retention-aggregates: aggregates inserted through the trends' own API", async () => {
      const url = await store.url(resources);
      const opened = await Store.open(parseStoreUrl(url), logger, { ages: AGES, retentionTiming: { firstRunMs: 3_600_000 } });
      assert.ok(opened);
      resources.defer(() => opened.close());
      // Six hours apart: one row each in every table, the six-hour roll-up's included.
      const old = Array.from({ length: 30 }, (_, n) => ({ at: NOW - 120 * DAY + n * 21_600, name: 'tasks.add', queue: 'celery', succeeded: 2, runtimes: [0.5] }));
      const young = Array.from({ length: 5 }, (_, n) => ({ at: NOW - 2 * DAY + n * 21_600, name: 'tasks.add', queue: 'celery', succeeded: 1, runtimes: [0.25] }));
      await opened.trends.insert([...old, ...young]);
      await opened.trends.insertQueueLengths([...old, ...young].map(({ at }) => ({ at, queue: 'celery', messages: 3 })));
      const db = openDatabase(url);
      const before: Record<string, number> = {};
      for (const { table } of TREND_TABLES) before[table] = await count(db, table);
      for (const { table } of TREND_TABLES) assert.ok((before[table] ?? 0) >= 35, `${table} holds the inserted aggregates (${before[table]})`);

      const report = await opened.retention.run();
      for (const { table, timeColumn } of TREND_TABLES) {
        const [oldest] = await db.runner.rows(`SELECT MIN(${timeColumn}) AS t FROM ${table}`);
        assert.ok(Number(oldest?.t) >= NOW - 90 * DAY - 3_600, `${table}: nothing older than 90 days is left`);
        assert.equal((before[table] ?? 0) - (await count(db, table)), report.deleted[table], `${table}: the deletes are counted`);
        assert.ok((report.deleted[table] ?? 0) >= 30, `${table}: the old aggregates went (${report.deleted[table]})`);
        assert.ok((await count(db, table)) >= 5, `${table}: the young ones stay`);
      }
    });

    it('over the size cap, deletes the least recently changed tasks until under it, then stays put', async () => {
      const db = openDatabase(await store.url(resources));
      await migrate(db, MIGRATIONS);
      // 2,000 tasks with 1 kB of arguments each, changed one second apart (oldest first).
      const args = `('${'x'.repeat(1_000)}',)`;
      for (let n = 0; n < 20; n++) await storeTasks(db, `cap${String(n).padStart(2, '0')}`, 100, NOW - 3_600 + n, 'SUCCESS', args);
      if (db.backend === 'postgresql') await db.runner.execute('ANALYZE tasks');
      const before = await measureSize(db.backend, db.runner, ['tasks', 'workers', 'celeriac_schema'], { exactRows: true });
      const cap = Math.round(before.bytes / 2);
      const runner = new RetentionRunner(db, { policies: [], maxSizeBytes: cap, sizeTables: ['tasks', 'workers', 'celeriac_schema'], batchRows: 100, pauseMs: 0 }, logger);

      const report = await runner.run();
      const deleted = report.deleted[SIZE_CAP_POLICY] ?? 0;
      assert.ok(report.size !== null && report.size.bytes <= cap, `under the cap (${report.size?.bytes} <= ${cap})`);
      assert.ok(deleted >= 700 && deleted <= 1_300, `about half the tasks deleted (${deleted})`);
      assert.ok(runner.status().batches >= 7, 'in batches');
      // What is left is the most recently changed tasks, all of them.
      const left = await uuids(db);
      assert.equal(left.size, 2_000 - deleted);
      const oldestLeft = Math.min(...[...left].map((uuid) => Number(uuid.slice(3, 5))));
      for (let n = oldestLeft + 1; n < 20; n++) for (let k = 0; k < 100; k++) assert.ok(left.has(`cap${String(n).padStart(2, '0')}-${k}`), `cap${n}-${k} kept`);
      for (let n = 0; n < oldestLeft; n++) assert.ok(!left.has(`cap${String(n).padStart(2, '0')}-0`), `cap${n}-0 deleted`);

      // Under the cap now: the next run deletes nothing, although the freed space stays in the files.
      const again = await runner.run();
      assert.equal(again.deleted[SIZE_CAP_POLICY], 0);
      assert.equal(await count(db, 'tasks'), 2_000 - deleted);
    });

    it('the store reports its size, rows per table and retention figures', async () => {
      const url = await store.url(resources);
      const opened = await Store.open(parseStoreUrl(url), logger, { ages: AGES, maxSizeBytes: 10_000_000_000, retentionTiming: { firstRunMs: 3_600_000 } });
      assert.ok(opened);
      resources.defer(() => opened.close());
      const db = openDatabase(url);
      await storeTasks(db, 'reported', 40, NOW - 8 * DAY, 'SUCCESS');
      await storeTasks(db, 'reported-new', 15, NOW, 'SUCCESS');
      await opened.retention.run();
      await opened.refreshFigures();
      const status = opened.status();
      assert.ok(status.sizeBytes !== null && status.sizeBytes > 0, 'size measured');
      assert.ok(status.diskBytes !== null && status.diskBytes >= status.sizeBytes);
      assert.ok(status.measuredAt !== null);
      // Every table retention keeps, the trend tables (./trends.ts) among them.
      assert.deepEqual(Object.keys(status.rows).sort(), ['tasks', 'workers', ...TREND_TABLES.map((t) => t.table)].sort());
      assert.equal(status.rows.workers, 0);
      assert.equal(status.rows.tasks, 15);
      assert.deepEqual(status.retention.deleted, { tasks: 40, tasks_failed: 0, ...trendPolicies(0), [SIZE_CAP_POLICY]: 0 });
      assert.equal(status.retention.maxSizeBytes, 10_000_000_000);
      assert.equal(status.retention.lastError, null);
    });

    it('runs by itself in the background, soon after start and then on its interval', async () => {
      const url = await store.url(resources);
      const opened = await Store.open(parseStoreUrl(url), logger, { ages: AGES, retentionTiming: { firstRunMs: 50, intervalMs: 100, pauseMs: 0 } });
      assert.ok(opened);
      resources.defer(() => opened.close());
      const db = openDatabase(url);
      await storeTasks(db, 'background', 25, NOW - 8 * DAY, 'SUCCESS');
      await waitFor('the background run deleted them', async () => (await count(db, 'tasks')) === 0);
      await storeTasks(db, 'later', 5, NOW - 31 * DAY, 'FAILURE');
      await waitFor('a later run deleted those too', async () => (await count(db, 'tasks')) === 0);
      // The count follows the delete's reply, which may come a moment after the rows are gone.
      await waitFor('the deletes counted', async () => opened.status().retention.deleted.tasks_failed === 5);
      assert.deepEqual(opened.status().retention.deleted, { tasks: 25, tasks_failed: 5, ...trendPolicies(0) });
    });

    it('a failing run is said in the status, and the next run succeeds', async () => {
      const db = openDatabase(await store.url(resources));
      // No schema yet: the tasks table is missing, as on a database that went away.
      const runner = new RetentionRunner(db, { policies: standardPolicies(AGES), maxSizeBytes: null, sizeTables: ['tasks'], pauseMs: 0 }, logger);
      const failed = await runner.run();
      assert.deepEqual(failed.deleted, {});
      assert.match(runner.status().lastError ?? '', /tasks/);
      assert.equal(runner.status().failures, 1);
      await migrate(db, MIGRATIONS);
      await storeTasks(db, 'late', 3, NOW - 8 * DAY, 'SUCCESS');
      assert.deepEqual((await runner.run()).deleted, { tasks: 3, tasks_failed: 0 });
      assert.equal(runner.status().lastError, null);
    });
  });
}
