/**
 * The store's foundation against both real backends: an SQLite file and a PostgreSQL database
 * of the test's own. The same scenarios run on each, as the broker scenarios run on each broker:
 * migrations from any released schema to the latest, refusal of a newer schema, all-or-nothing
 * migration, concurrent starts, and tasks surviving a round trip through their rows exactly.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger } from '../../server/log';
import type { TaskEvent } from '../../server/protocol/events';
import { ClusterState } from '../../server/state/cluster-state';
import { migrate, SchemaTooNewError, type MigrationReport, type SchemaTarget, type SqlRunner, type StoreDatabase } from '../../server/store/migrate';
import { PostgresDatabase } from '../../server/store/postgres';
import { LATEST_VERSION, MIGRATIONS, type Migration } from '../../server/store/schema';
import { SqliteDatabase } from '../../server/store/sqlite';
import { loadTask, ROWS_PER_STATEMENT, taskSink, upsertTasks } from '../../server/store/task-row';
import { ChangeWriter } from '../../server/store/change-writer';
import { queryStoredTasks, scanStoredTasks } from '../../server/store/task-queries';
import { type Needles, needlesOf, PHRASE_BOUNDARY, type Resolved, resolveNeedles } from '../../server/store/search-index';
import { sharpenNeedles } from '../../server/store/search-sample';
import { SettledIndex } from '../../server/store/settled-index';
import { Trends } from '../../server/store/trends';
import { idBytesOf } from '../../server/store/task-id-index';
import { queryTasksPage } from '../../server/state/task-query';
import { parseTaskFilter } from '../../server/http/params';
import type { TaskRecord } from '../../server/state/task-record';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres';
import { foldTaskCounts } from '../../server/store/task-counts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/store');

/** Run a TypeScript file in a Node process of its own; resolves with its stdout. */
function runNode(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', ...args], { timeout: 30_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)));
  });
}

interface Backend {
  name: string;
  /** A fresh, empty database; each call gives another. */
  open(): Promise<StoreDatabase>;
  /** Another connection to the database `db` is on (as another instance would open). */
  openAgain(db: StoreDatabase): Promise<StoreDatabase>;
  cleanUp(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'celeriac-store-'));
  let n = 0;
  const files = new Map<StoreDatabase, string>();
  const opened = (file: string): StoreDatabase => {
    const db = new SqliteDatabase(file);
    files.set(db, file);
    return db;
  };
  return {
    name: 'SQLite',
    open: async () => opened(path.join(dir, `db-${++n}`, 'celeriac.db')),
    openAgain: async (db) => opened(files.get(db) as string),
    cleanUp: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function postgresBackend(): Backend {
  const databases: TestDatabase[] = [];
  const pools: PostgresDatabase[] = [];
  const logger = createLogger('silent');
  const urls = new Map<StoreDatabase, string>();
  const opened = (url: string): StoreDatabase => {
    const db = new PostgresDatabase(url, logger);
    pools.push(db);
    urls.set(db, url);
    return db;
  };
  return {
    name: 'PostgreSQL',
    open: async () => {
      const database = await createTestDatabase();
      databases.push(database);
      return opened(database.url);
    },
    openAgain: async (db) => opened(urls.get(db) as string),
    cleanUp: async () => {
      for (const pool of pools) await pool.close().catch(() => undefined);
      for (const database of databases) await database.drop();
    },
  };
}

/** Tables and their columns, as the database reports them (to compare schemas). */
async function schemaOf(db: SchemaTarget & { runner: SqlRunner }): Promise<Record<string, string[]>> {
  const rows =
    db.backend === 'sqlite'
      ? await db.runner.rows("SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY m.name, p.cid")
      : await db.runner.rows("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position");
  const tables: Record<string, string[]> = {};
  for (const row of rows) {
    const table = String(row.table_name);
    tables[table] = [...(tables[table] ?? []), String(row.column_name)];
  }
  return tables;
}

const T0 = 1_795_000_000;
function event(type: string, uuid: string, at: number, fields: Partial<TaskEvent> = {}): TaskEvent {
  return { kind: 'task', type, uuid, hostname: 'w1@h', timestamp: at, localReceived: at, clock: Math.round(at - T0), utcoffset: 0, pid: 1, ...fields };
}

/** A task id in Celery's standard form (str(uuid4())), made from `n`. */
function standardId(n: number): string {
  return `0000${n.toString(16).padStart(4, '0')}-abcd-4ef0-8123-${(n * 7919).toString(16).padStart(12, '0')}`;
}

for (const make of [sqliteBackend, postgresBackend]) {
  const backend = make();
  describe(`store on ${backend.name}`, () => {
    after(() => backend.cleanUp());

    it('migrates an empty database to the latest schema, once', async () => {
      const db = await backend.open();
      const first = await migrate(db, MIGRATIONS, () => T0);
      assert.deepEqual(first, { from: 0, to: LATEST_VERSION, applied: MIGRATIONS.map((m) => ({ version: m.version, name: m.name })) });
      const again = await migrate(db, MIGRATIONS, () => T0 + 1);
      assert.deepEqual(again, { from: LATEST_VERSION, to: LATEST_VERSION, applied: [] });
      const recorded = await db.runner.rows('SELECT version, name, applied_at FROM celeriac_schema ORDER BY version');
      assert.deepEqual(
        recorded.map((r) => [Number(r.version), r.name, Number(r.applied_at)]),
        MIGRATIONS.map((m) => [m.version, m.name, T0]),
      );
      assert.ok((await schemaOf(db)).tasks?.includes('traceback'), 'the tasks table exists with its columns');
    });

    it('reaches the same schema from every released version as from nothing', async () => {
      const fresh = await backend.open();
      await migrate(fresh, MIGRATIONS);
      const expected = await schemaOf(fresh);
      for (let released = 1; released <= LATEST_VERSION; released++) {
        const db = await backend.open();
        await migrate(db, MIGRATIONS.slice(0, released));
        const report = await migrate(db, MIGRATIONS);
        assert.equal(report.from, released);
        assert.deepEqual(await schemaOf(db), expected, `from version ${released}`);
      }
    });

    it('tasks written under the first schema are found, searched and read under the latest', async () => {
      const db = await backend.open();
      await migrate(db, MIGRATIONS.slice(0, 1));
      await db.runner.execute(
        "INSERT INTO tasks (uuid, name, state, timestamp, args, kwargs, result, clock, updated_at) VALUES ('v1-task', 'tasks.old', 'SUCCESS', $1, '(''Straße'',)', '{}', '42', 7, $1)",
        [T0],
      );
      await migrate(db, MIGRATIONS);
      const found = await queryStoredTasks(db.runner, db.backend, parseTaskFilter({ search: 'args:strasse' }));
      assert.deepEqual(
        found.tasks.map((t) => [t.uuid, t.result, t.timeline.toJSON()]),
        [['v1-task', '42', [0]]],
        'an old row is a search candidate (not indexed), with an empty timeline',
      );
    });

    it('finished tasks written under schema 5 are found by part of their id under the latest', async () => {
      const db = await backend.open();
      await migrate(db, MIGRATIONS.slice(0, 5));
      const uuid = standardId(77);
      if (db.backend === 'postgresql') {
        // As the writer of schema 5 wrote an indexed row: its text without the standard id.
        await db.runner.execute(
          "INSERT INTO tasks (uuid, name, state, timestamp, args, kwargs, result, clock, updated_at, search_indexed, search_doc) VALUES ($1, 'tasks.old', 'SUCCESS', $2, '(1,)', '{}', '42', 7, $2, 1, '(1,) {} 42')",
          [uuid, T0],
        );
      } else {
        const task = new ClusterState({ maxTasks: 10, maxWorkers: 10 });
        task.apply(event('task-received', uuid, T0, { name: 'tasks.old', args: '(1,)', kwargs: '{}', hostname: 'w1@h' }));
        task.apply(event('task-succeeded', uuid, T0 + 1, { result: '42', runtime: 1, hostname: 'w1@h' }));
        await db.transaction((sql) => upsertTasks(sql, db.backend, [...task.tasks.values()], T0));
      }
      await migrate(db, MIGRATIONS);
      if (db.backend === 'postgresql') {
        // The id index's expression is the encoding the search looks fragments up by.
        for (const id of [uuid, randomUUID(), randomUUID()]) {
          const [row] = await db.runner.rows('SELECT celeriac_id_bytes($1) AS bytes', [id]);
          assert.deepEqual(row?.bytes, idBytesOf(id), id);
        }
      }
      for (const part of [uuid.slice(0, 8), uuid.slice(25, 33), uuid]) {
        const found = await queryStoredTasks(db.runner, db.backend, parseTaskFilter({ search: part }));
        assert.deepEqual(
          found.tasks.map((t) => t.uuid),
          [uuid],
          `searched for ${part}`,
        );
      }
    });

    it("tasks indexed for search under schema 7 are found by name, argument and casefolded text under the latest, and SQLite's index is rebuilt without names", async () => {
      const db = await backend.open();
      await migrate(db, MIGRATIONS.slice(0, 7));
      const rows = [
        { uuid: 'm-1', args: '(1,)', result: "'answer-42'" },
        { uuid: 'm-2', args: "('Straße',)", result: '7' },
      ];
      if (db.backend === 'sqlite') {
        // As the writer of schema 7 wrote an indexed row: its text with the name, state and worker.
        for (const row of rows) {
          await db.runner.execute(
            "INSERT INTO tasks (uuid, name, state, timestamp, args, kwargs, result, worker, clock, updated_at, search_indexed) VALUES ($1, 'tasks.Old', 'SUCCESS', $2, $3, '{}', $4, 'w1@h', 7, $2, 1)",
            [row.uuid, T0, row.args, row.result],
          );
          const doc = [row.uuid, 'tasks.old', 'success', 'w1@h', row.args.replace('ß', 'ss').toLowerCase(), '{}', row.result].join('\u001f');
          await db.runner.execute('INSERT INTO tasks_search (rowid, doc) SELECT rowid, $1 FROM tasks WHERE uuid = $2', [doc, row.uuid]);
        }
      } else {
        const state = new ClusterState({ maxTasks: 10, maxWorkers: 10 });
        for (const row of rows) {
          state.apply(event('task-received', row.uuid, T0, { name: 'tasks.Old', args: row.args, kwargs: '{}', hostname: 'w1@h' }));
          state.apply(event('task-succeeded', row.uuid, T0 + 1, { result: row.result, runtime: 1, hostname: 'w1@h' }));
        }
        await db.transaction((sql) => upsertTasks(sql, db.backend, [...state.tasks.values()], T0));
      }
      await migrate(db, MIGRATIONS);
      const found = async (search: string): Promise<{ total: number | null; uuids: string[] }> => {
        const page = await queryStoredTasks(db.runner, db.backend, parseTaskFilter({ search, sort_by: 'name', limit: '10' }));
        return { total: page.total, uuids: page.tasks.map((t) => t.uuid) };
      };
      const searchesAnswer = async (when: string): Promise<void> => {
        assert.deepEqual(await found('TASKS.OL'), { total: 2, uuids: ['m-1', 'm-2'] }, `${when}: by the name`);
        assert.deepEqual(await found('w1@'), { total: 2, uuids: ['m-1', 'm-2'] }, `${when}: by the worker`);
        assert.deepEqual(await found('strasse'), { total: 1, uuids: ['m-2'] }, `${when}: by casefolded text`);
        assert.deepEqual(await found('er-42'), { total: 1, uuids: ['m-1'] }, `${when}: by the result`);
      };
      await searchesAnswer('migrated');
      if (db.backend === 'sqlite') {
        const indexed = async (): Promise<string[]> => (await db.runner.rows('SELECT uuid FROM tasks WHERE search_indexed = 1 ORDER BY uuid')).map((r) => String(r.uuid));
        const matching = async (phrase: string): Promise<number> => Number((await db.runner.rows('SELECT COUNT(*) AS n FROM tasks_search WHERE tasks_search MATCH $1', [`"${phrase}"`]))[0]?.n);
        assert.equal(await matching('tasks.old'), 0, 'the rebuilt index holds no name');
        assert.equal(await matching('(1,)'), 1);
        // The row that is not ASCII is left for the settled-index pass to fold as Python does.
        assert.deepEqual(await indexed(), ['m-1']);
        const settled = new SettledIndex(db, createLogger('silent'), () => true, { settleSeconds: 60, now: () => T0 + 61 });
        assert.equal(await settled.pass(), 1);
        assert.deepEqual(await indexed(), ['m-1', 'm-2']);
        assert.equal(await matching('strasse'), 1);
        await searchesAnswer('indexed again');
      }
    });

    it("trend aggregates written under schema 6 are summed into schema 7's quarter-hour and six-hour roll-ups", async () => {
      const db = await backend.open();
      await migrate(db, MIGRATIONS.slice(0, 6));
      const counts = 'received, started, succeeded, failed, retried, revoked, rejected, runtime_count, runtime_sum, wait_count, wait_sum';
      const hour = Math.floor(T0 / 21_600) * 21_600;
      // Three minutes over two quarter-hours, and two hours of one six-hour row (what schema 6 kept).
      for (const [table, time, at, n] of [
        ['trend_minutes', 'minute', hour, 1],
        ['trend_minutes', 'minute', hour + 60, 2],
        ['trend_minutes', 'minute', hour + 900, 4],
        ['trend_hours', 'hour', hour, 3],
        ['trend_hours', 'hour', hour + 3_600, 4],
      ] as const) {
        await db.runner.execute(`INSERT INTO ${table} (${time}, name, queue, ${counts}) VALUES ($1, 'x', 'celery', $2, $2, $2, 0, 0, 0, 0, $2, $3, 0, 0)`, [at, n, n]);
        await db.runner.execute(`INSERT INTO ${table.replace(/s$/, '_buckets')} (${time}, name, queue, kind, bucket, count) VALUES ($1, 'x', 'celery', 0, 40, $2)`, [at, n]);
      }
      await migrate(db, MIGRATIONS);
      const trends = new Trends(db, createLogger('silent'));
      const read = async (resolution: 'quarter' | 'six_hours', step: number) =>
        (await trends.series({ from: hour, to: hour + 21_600, step, resolution, name: 'x', queue: null })).map((b) => [b.t, b.succeeded, b.runtimeSum, [...b.runtime]]);
      assert.deepEqual(await read('quarter', 900), [
        [hour, 3, 3, [[40, 3]]],
        [hour + 900, 4, 4, [[40, 4]]],
      ]);
      assert.deepEqual(await read('six_hours', 21_600), [[hour, 7, 7, [[40, 7]]]]);
    });

    it('applies a later migration to a database that holds data, keeping the data', async () => {
      const db = await backend.open();
      await migrate(db, MIGRATIONS);
      const state = new ClusterState({ maxTasks: 10, maxWorkers: 10 });
      state.apply(event('task-received', 'kept', T0, { name: 'tasks.add', args: '(1, 2)' }));
      const kept = state.getTask('kept');
      assert.ok(kept);
      await upsertTasks(db.runner, db.backend, [kept], T0);
      // A migration of the kind later releases add: a column with a default, and an index.
      const next: Migration = {
        version: LATEST_VERSION + 1,
        name: 'test: a column with a default',
        statements: {
          sqlite: ["ALTER TABLE tasks ADD COLUMN note TEXT NOT NULL DEFAULT ''", 'CREATE INDEX tasks_by_note ON tasks (note)'],
          postgresql: ["ALTER TABLE tasks ADD COLUMN note TEXT NOT NULL DEFAULT ''", 'CREATE INDEX tasks_by_note ON tasks (note)'],
        },
      };
      const report = await migrate(db, [...MIGRATIONS, next]);
      assert.deepEqual(report.applied, [{ version: next.version, name: next.name }]);
      const [row] = await db.runner.rows("SELECT uuid, name, args, note FROM tasks WHERE uuid = 'kept'");
      assert.deepEqual({ ...row }, { uuid: 'kept', name: 'tasks.add', args: '(1, 2)', note: '' });
    });

    it('refuses a database newer than this code, and leaves it as it was', async () => {
      const db = await backend.open();
      const future: Migration = {
        version: LATEST_VERSION + 1,
        name: 'from a later release',
        statements: { sqlite: ['CREATE TABLE later (x INTEGER)'], postgresql: ['CREATE TABLE later (x INTEGER)'] },
      };
      await migrate(db, [...MIGRATIONS, future]);
      await assert.rejects(migrate(db, MIGRATIONS), (error: unknown) => error instanceof SchemaTooNewError && error.found === LATEST_VERSION + 1 && error.latest === LATEST_VERSION);
      assert.ok((await schemaOf(db)).later, 'nothing was dropped');
    });

    it('a migration that fails changes nothing', async () => {
      const db = await backend.open();
      const broken: Migration = {
        version: LATEST_VERSION + 1,
        name: 'broken',
        statements: { sqlite: ['CREATE TABLE half (x INTEGER)', 'THIS IS NOT SQL'], postgresql: ['CREATE TABLE half (x INTEGER)', 'THIS IS NOT SQL'] },
      };
      await assert.rejects(migrate(db, [...MIGRATIONS, broken]));
      // Not even the migrations before it: the run is one transaction.
      assert.deepEqual(await schemaOf(db), {});
      const report = await migrate(db, MIGRATIONS);
      assert.equal(report.from, 0);
    });

    it('instances starting together migrate one after the other', async () => {
      const db = await backend.open();
      // Another instance on the same database: a process of its own for SQLite (its lock blocks
      // the thread that waits for it), another pool for PostgreSQL.
      const otherRun =
        db instanceof SqliteDatabase
          ? runNode([path.join(FIXTURES, 'migrate-sqlite.ts'), db.db.name]).then((stdout) => JSON.parse(stdout) as MigrationReport)
          : (async () => {
              const other = new PostgresDatabase(String((db as PostgresDatabase).pool.options.connectionString), createLogger('silent'));
              try {
                return await migrate(other, MIGRATIONS);
              } finally {
                await other.close();
              }
            })();
      const reports = await Promise.all([migrate(db, MIGRATIONS), otherRun]);
      assert.deepEqual(reports.map((r) => r.applied.length).sort(), [0, LATEST_VERSION]);
      assert.deepEqual(
        reports.map((r) => r.to),
        [LATEST_VERSION, LATEST_VERSION],
      );
    });

    it('the task writer keeps changes while the store refuses them and writes them once it takes them', async () => {
      // A database without the schema refuses every write, as one that went away does.
      const db = await backend.open();
      const writer = new ChangeWriter('tasks', taskSink(db), (t) => t.uuid, createLogger('silent'), { maxPending: 1_000 });
      const state = new ClusterState({ maxTasks: 5_000, maxWorkers: 10 });
      for (let n = 0; n < 1_200; n++) {
        state.apply(event('task-received', `w-${n}`, T0 + n, { name: 'tasks.add' }));
        writer.changed(state.getTask(`w-${n}`) as TaskRecord);
      }
      await writer.flush();
      const down = writer.status();
      assert.deepEqual([down.degraded, down.pending, down.dropped, down.written], [true, 1_000, 200, 0]);
      assert.match(down.lastError ?? '', /tasks/, 'the error names what is missing');
      await migrate(db, MIGRATIONS);
      await writer.stop();
      assert.deepEqual({ ...writer.status(), failures: 0 }, { pending: 0, written: 1_000, dropped: 200, failures: 0, degraded: false, lastError: null });
      const [count] = await db.runner.rows('SELECT COUNT(*) AS n FROM tasks');
      assert.equal(Number(count?.n), 1_000);
      // The 200 longest-waiting were the ones dropped.
      assert.equal(await loadTask(db.runner, 'w-199'), null);
      assert.ok(await loadTask(db.runner, 'w-200'));
    });

    it('the tasks list from the store matches the in-memory list for every filter, sort, page and search, before and after settled rows are indexed and change again', async () => {
      const db = await backend.open();
      await migrate(db, MIGRATIONS);
      const state = new ClusterState({ maxTasks: 10_000, maxWorkers: 10 });
      const names = ['tasks.add', 'tasks.fail', 'tasks.echo', 'tasks.Straße'];
      for (let n = 0; n < 300; n++) {
        // Most ids are not Celery's form (PostgreSQL indexes those with the text); every 10th is.
        const uuid = n % 10 === 0 ? standardId(n) : `q-${String(n).padStart(3, '0')}`;
        const name = names[n % names.length] as string;
        const at = T0 + ((n * 37) % 300);
        if (n % 5 !== 0)
          state.apply(
            event('task-sent', uuid, at, {
              name,
              args: `(${n},)`,
              kwargs: n % 3 === 0 ? "{'color': 'red'}" : n % 5 === 0 ? `{'n': ${n * 1000}, 'note': "it's"}` : '{}',
              queue: n % 2 === 0 ? 'celery' : 'high',
              hostname: 'client@h',
            }),
          );
        if (n % 7 !== 0) state.apply(event('task-received', uuid, at + 0.5, { name, args: `(${n},)`, hostname: `w${n % 3}@h` }));
        if (n % 4 === 0) state.apply(event('task-started', uuid, at + 1, { hostname: `w${n % 3}@h` }));
        if (n % 6 === 1) state.apply(event('task-failed', uuid, at + 2, { exception: `ValueError('boom ${n}')`, hostname: `w${n % 3}@h` }));
        else if (n % 4 === 0) state.apply(event('task-succeeded', uuid, at + 2, { result: String(n), runtime: n / 100, hostname: `w${n % 3}@h` }));
      }
      await upsertTasks(db.runner, db.backend, [...state.tasks.values()], T0 + 400);
      const queries: Record<string, string>[] = [
        {},
        { state: 'FAILURE' },
        { taskname: 'tasks.echo' },
        { workername: 'w1@h' },
        { queue: 'high' },
        { received_start: String(T0 + 100), received_end: String(T0 + 200) },
        ...['name', 'state', 'received', 'started'].flatMap((field) => [{ sort_by: field }, { sort_by: `-${field}` }]),
        { limit: '25' },
        { limit: '25', offset: '290' },
        { sort_by: 'name', limit: '10', offset: '73' },
        { search: 'boom' },
        { search: 'args:142' },
        { search: 'kwargs:color=red', sort_by: '-received', limit: '7', offset: '3' },
        // Pairs narrowed by key and value (as typed in the repr), and one whose value repr escapes.
        { search: 'kwargs:n=5000' },
        { search: 'kwargs:N=5000 OR kwargs:color=red' },
        { search: `kwargs:note=it's` },
        { search: 'state:failure OR name:tasks.echo', workername: 'w2@h' },
        { search: 'STRASSE' },
        // Terms found in the id, name, state or worker only (PostgreSQL looks those up apart from its indexed text).
        { search: 'echo' },
        { search: 'W1@' },
        { search: 'succ' },
        { search: 'abcd-4ef0' },
        { search: '00a0' },
        { search: standardId(120) },
        { search: standardId(120).slice(9, 30) },
        // Parts of ids the id index answers (5 or more hex digits) wherever they fall, and one too short for it.
        { search: standardId(150).slice(0, 8) },
        { search: standardId(130).slice(26, 31) },
        { search: standardId(130).slice(3, 8) },
        { search: standardId(140).slice(24) },
        { search: '8123-0' },
        { search: standardId(160).slice(30, 34) },
        { search: 'name:ech worker:w2@' },
        { search: 'name:straße OR worker:w0@' },
        { search: 'succ echo', sort_by: 'name' },
        { search: 'echo', limit: '5', offset: '2' },
        { search: 'succ OR boom', limit: '10', sort_by: '-started' },
        { search: 'STRASSE', limit: '3', offset: '1' },
        { search: 'args:14, OR name:echo', limit: '4' },
        // States the settled rows are indexed with, and leave again when they change.
        { search: 'recei' },
        { search: 'start' },
        { search: 'pend' },
        { search: 'state:STARTED' },
      ];
      const sameAsMemory = async (when: string): Promise<void> => {
        for (const query of queries) {
          const filter = parseTaskFilter(query);
          const inMemory = queryTasksPage(state.tasks.values(), filter);
          const stored = await queryStoredTasks(db.runner, db.backend, filter);
          const expected = { total: inMemory.total, uuids: inMemory.tasks.map((t) => t.uuid) };
          assert.deepEqual({ total: stored.total, uuids: stored.tasks.map((t) => t.uuid) }, expected, `${when}: query ${JSON.stringify(query)}`);
          // As a search matching too many tasks to read by id answers it: counted by the index, or scanned.
          const broad = await queryStoredTasks(db.runner, db.backend, filter, { maxCandidates: 1 });
          assert.deepEqual({ total: broad.total, uuids: broad.tasks.map((t) => t.uuid) }, expected, `${when}: broad query ${JSON.stringify(query)}`);
          // Keyset paging (exports) in pages of 7 rows: the same order across every page boundary,
          // narrowed by the index and, as a search with too many candidates is, by each row's text.
          const everything = queryTasksPage(state.tasks.values(), { ...filter, offset: 0, limit: null });
          for (const maxCandidates of [undefined, 1]) {
            const scanned: string[] = [];
            for await (const page of scanStoredTasks(db.runner, db.backend, { ...filter, offset: 0, limit: null }, { pageRows: 7, maxCandidates })) scanned.push(...page.map((t) => t.uuid));
            assert.deepEqual(
              scanned,
              everything.tasks.map((t) => t.uuid),
              `${when}: scan ${JSON.stringify(query)}, maxCandidates ${maxCandidates}`,
            );
          }
        }
      };
      const unindexed = async (): Promise<number> => Number((await db.runner.rows('SELECT COUNT(*) AS n FROM tasks WHERE search_indexed = 0'))[0]?.n);
      await sameAsMemory('as written');
      assert.ok((await unindexed()) > 100, 'the unfinished tasks are left out of the index as they are written');

      // Settled (unchanged past settleSeconds): every row is indexed, whatever its state.
      const settled = new SettledIndex(db, createLogger('silent'), () => true, { settleSeconds: 60, batchRows: 16, maxBatchesPerPass: 1_000, now: () => T0 + 400 + 61 });
      const left = await unindexed();
      assert.equal(await settled.pass(), left);
      assert.equal(await unindexed(), 0);
      await sameAsMemory('settled rows indexed');

      // Settled rows change again: each leaves the index with the text it was indexed with.
      const changed: TaskRecord[] = [];
      for (const task of [...state.tasks.values()]) {
        if (task.state === 'RECEIVED') state.apply(event('task-started', task.uuid, T0 + 450, { hostname: 'w9@h' }));
        else if (task.state === 'STARTED') state.apply(event('task-succeeded', task.uuid, T0 + 450, { result: 'late', runtime: 1, hostname: 'w9@h' }));
        else if (task.state === 'PENDING') state.apply(event('task-received', task.uuid, T0 + 450, { name: 'tasks.add', args: '()', hostname: 'w9@h' }));
        else continue;
        changed.push(state.getTask(task.uuid) as TaskRecord);
      }
      assert.ok(changed.length > 50, `${changed.length} settled rows changed`);
      await upsertTasks(db.runner, db.backend, changed, T0 + 500);
      await sameAsMemory('settled rows changed');
      assert.equal(await settled.pass(), 0, 'the changed rows have not settled yet');
      const later = new SettledIndex(db, createLogger('silent'), () => true, { settleSeconds: 60, now: () => T0 + 500 + 61 });
      assert.ok((await later.pass()) > 0);
      assert.equal(await unindexed(), 0);
      await sameAsMemory('changed rows settled and indexed again');
    });

    it('a settled row written while it is being indexed is left for the next pass', async () => {
      const db = await backend.open();
      await migrate(db, MIGRATIONS);
      const state = new ClusterState({ maxTasks: 100, maxWorkers: 10 });
      const uuid = standardId(7);
      state.apply(event('task-received', uuid, T0, { name: 'tasks.add', args: '(1, 2)' }));
      await upsertTasks(db.runner, db.backend, [state.getTask(uuid) as TaskRecord], T0);
      // The row is read for indexing; before the index write, the task moves on.
      const racing: StoreDatabase = Object.create(db, {
        backgroundRunner: {
          value: {
            execute: db.backgroundRunner.execute,
            rows: async (sql: string, params?: readonly (string | number | null)[]) => {
              const rows = await db.backgroundRunner.rows(sql, params);
              state.apply(event('task-started', uuid, T0 + 100));
              await upsertTasks(db.runner, db.backend, [state.getTask(uuid) as TaskRecord], T0 + 100);
              return rows;
            },
          },
        },
      });
      const settled = new SettledIndex(racing, createLogger('silent'), () => true, { settleSeconds: 60, now: () => T0 + 61 });
      await settled.pass();
      const [row] = await db.runner.rows('SELECT state, search_indexed FROM tasks WHERE uuid = $1', [uuid]);
      assert.deepEqual({ state: row?.state, indexed: Number(row?.search_indexed) }, { state: 'STARTED', indexed: 0 });
      if (db.backend === 'sqlite') {
        const [entries] = await db.runner.rows('SELECT COUNT(*) AS n FROM tasks_search WHERE tasks_search MATCH \'"recei"\'');
        assert.equal(Number(entries?.n), 0, 'no index entry for the text the row had when read');
      }
      const search = async (text: string): Promise<string[]> => (await queryStoredTasks(db.runner, db.backend, parseTaskFilter({ search: text }))).tasks.map((t) => t.uuid);
      assert.deepEqual(await search('recei'), []);
      assert.deepEqual(await search('start'), [uuid]);
    });

    it('a search leaves the trigrams most rows hold out of what it asks the index, and finds the same tasks', async () => {
      const db = await backend.open();
      await migrate(db, MIGRATIONS);
      const state = new ClusterState({ maxTasks: 10_000, maxWorkers: 10 });
      for (let n = 0; n < 400; n++) {
        const uuid = standardId(n);
        const order = `order-${String((n * 7) % 1000).padStart(6, '0')}`;
        // Every row has `source` (pg_trgm's `sou`, `out`); a few are in `ap-south-2`, and a few hold
        // `ap-` and `uth-` (what PostgreSQL asks its index for) but not `ap-south-2`.
        const region = n % 40 === 0 ? 'ap-south-2' : n % 40 === 1 ? 'ap-north-1' : 'eu-west-1';
        // A few tenants hold `tenant-0042` as a prefix only; a few amounts are written as Python does not (1.50 is 1.5).
        const tenant = n % 97 === 0 ? 'tenant-00421' : `tenant-${String(n % 50).padStart(4, '0')}`;
        const amount = n % 30 === 0 ? ", 'amount': 1.50" : n % 30 === 1 ? ", 'amount': 1.5" : '';
        const kwargs = `{'tenant': '${tenant}', 'source': 'checkout', 'region': '${region}'${amount}}`;
        state.apply(event('task-received', uuid, T0 + n, { name: 'shop.charge', args: `(${n}, '${order}')`, kwargs, hostname: 'w1@h' }));
        state.apply(event('task-succeeded', uuid, T0 + n + 1, { result: `'${order} charged${n % 40 === 1 ? ' south-3' : ''}'`, runtime: 1, hostname: 'w1@h' }));
      }
      await upsertTasks(db.runner, db.backend, [...state.tasks.values()], T0 + 500);
      const queryOf = (search: string) => parseTaskFilter({ search });
      const needles = async (search: string) => {
        const filter = queryOf(search);
        const exact = await resolveNeedles(db.runner, db.backend, needlesOf(filter.search?.expression ?? { type: 'all' }) as Needles);
        return sharpenNeedles(db.runner, db.backend, exact as Resolved, T0);
      };
      // `tenant` is in every row: the pair asks the index for the value only, and of it only the run after its common trigrams.
      const pair = await needles('kwargs:tenant=tenant-0042');
      assert.ok(pair.kind === 'text' && pair.text === 'tenant-0042', 'the key, in every row, is left out');
      assert.ok(pair.docPhrases !== undefined && pair.docPhrases.length > 0, 'the value is asked in part');
      const unbounded = (phrase: string): string => phrase.replaceAll(PHRASE_BOUNDARY, '');
      for (const phrase of pair.docPhrases) assert.ok('tenant-0042'.includes(unbounded(phrase)) && !phrase.includes('ten'), phrase);
      if (db.backend === 'postgresql') {
        // The value ends a word in every match (a quote follows it): pg_trgm is asked for its padded end, `42 `.
        assert.ok(
          pair.docPhrases.some((phrase) => phrase.endsWith(PHRASE_BOUNDARY)),
          JSON.stringify(pair.docPhrases),
        );
      }
      // `order-` is in every row too.
      const order = await needles('args:order-000049');
      assert.ok(order.kind === 'text' && order.docPhrases !== undefined && order.docPhrases.length > 0);
      for (const phrase of order.docPhrases) assert.ok('order-000049'.includes(phrase) && !phrase.includes('ord'), phrase);
      // A term every row holds, alone, is asked as it is.
      const everywhere = await needles('tenant');
      assert.ok(everywhere.kind === 'text' && everywhere.docPhrases === undefined);
      if (db.backend === 'postgresql') {
        // pg_trgm's trigrams are of words: `ap-south-2` is asked as the runs of its words' uncommon ones.
        const region = await needles('ap-south-2');
        assert.ok(region.kind === 'text' && region.docPhrases !== undefined);
        assert.deepEqual(
          region.docPhrases.filter((phrase) => phrase !== '-2'),
          ['ap-', 'uth-'],
        );
      }
      for (const search of [
        'kwargs:tenant=tenant-0042',
        'kwargs:amount=1.5',
        'args:order-000049',
        'order-000049 tenant',
        'tenant-0007 OR order-000014',
        'charged',
        'tenant',
        'ap-south-2',
        'ap-south-2 charged',
      ]) {
        // With a limit, a bare search is counted by the index alone (decidedSearchPage): its phrases must not widen the count.
        for (const limit of [undefined, '7']) {
          const filter = parseTaskFilter(limit === undefined ? { search } : { search, limit });
          const inMemory = queryTasksPage(state.tasks.values(), filter);
          const stored = await queryStoredTasks(db.runner, db.backend, filter);
          assert.deepEqual({ total: stored.total, uuids: stored.tasks.map((t) => t.uuid) }, { total: inMemory.total, uuids: inMemory.tasks.map((t) => t.uuid) }, `${search}, limit ${limit}`);
          assert.ok((inMemory.total ?? 0) > 0, `${search} matches some tasks`);
        }
      }
    });

    it('tasks come back from their rows exactly as the model merged them', async () => {
      const db = await backend.open();
      await migrate(db, MIGRATIONS);
      const state = new ClusterState({ maxTasks: 1_000, maxWorkers: 10 });
      state.apply(
        event('task-sent', 'ok', T0, {
          name: 'tasks.add',
          args: '(1, 2)',
          kwargs: "{'z': 'é'}",
          queue: 'celery',
          exchange: '',
          routingKey: 'celery',
          rootId: 'root',
          parentId: 'parent',
          eta: '2026-11-21T11:47:01.096000+00:00',
          hostname: 'client@h',
        }),
      );
      state.apply(event('task-received', 'ok', T0 + 1, { name: 'tasks.add', args: '(1, 2)', kwargs: "{'z': 'é'}", retries: 0 }));
      state.apply(event('task-started', 'ok', T0 + 2));
      state.apply(event('task-progress', 'ok', T0 + 2.5, { extra: { current: 3, total: 10, nested: { a: [1, null] } } }));
      state.apply(event('task-succeeded', 'ok', T0 + 3, { result: '3', runtime: 0.123456789 }));
      state.apply(event('task-received', 'bad', T0, { name: 'tasks.fail' }));
      state.apply(event('task-failed', 'bad', T0 + 1, { exception: "ValueError('boom')", traceback: 'Traceback (most recent call last):\n  …\nValueError: boom' }));
      // Text a driver must escape: quotes, backslashes, braces and commas (PostgreSQL's array
      // literals), NUL-free control characters, "NULL" as a word, astral characters.
      state.apply(event('task-received', 'hostile', T0, { name: 'tasks.echo', args: `('a"b\\c', '{x,y}', 'NULL', '\t\n', '😀')`, kwargs: "{'k': \"it's\"}" }));
      state.apply(event('task-succeeded', 'hostile', T0 + 1, { result: 'NULL', runtime: 0 }));
      state.apply(event('task-received', 'killed', T0, { name: 'tasks.sleep' }));
      state.recordRevokeRequest('killed', { at: T0 + 1, terminate: true, signal: 'SIGKILL', workers: 2 });
      state.apply(event('task-revoked', 'killed', T0 + 2, { terminated: true, signum: 'SIGKILL', expired: false }));
      // Enough more to need several multi-row statements.
      for (let n = 0; n < ROWS_PER_STATEMENT * 2 + 7; n++) state.apply(event('task-received', `bulk-${n}`, T0 + n / 1000, { name: 'tasks.echo', args: `(${n},)` }));
      const tasks = [...state.tasks.values()];
      await upsertTasks(db.runner, db.backend, tasks, T0 + 10);
      const [count] = await db.runner.rows('SELECT COUNT(*) AS n FROM tasks');
      assert.equal(Number(count?.n), tasks.length);
      for (const task of tasks) {
        const loaded = await loadTask(db.runner, task.uuid);
        assert.ok(loaded, task.uuid);
        assert.deepEqual({ ...loaded }, { ...task }, `task ${task.uuid} survives its row`);
      }
      // A later change replaces the row (the model decided the new state).
      state.apply(event('task-started', 'bulk-0', T0 + 20));
      const bulk0 = state.getTask('bulk-0');
      assert.ok(bulk0);
      await upsertTasks(db.runner, db.backend, [bulk0], T0 + 20);
      assert.equal((await loadTask(db.runner, 'bulk-0'))?.state, 'STARTED');
      assert.equal(Number((await db.runner.rows('SELECT COUNT(*) AS n FROM tasks'))[0]?.n), tasks.length);
      assert.equal(await loadTask(db.runner, 'unknown'), null);
    });
  });
}

describe("SQLite's migrations at start", () => {
  const backend = sqliteBackend();
  after(() => backend.cleanUp());

  it('run on a thread of their own: the event loop goes on while schema 8 rebuilds the search index of 100,000 tasks', async () => {
    const db = (await backend.open()) as SqliteDatabase;
    await migrate(db, MIGRATIONS.slice(0, 7));
    // Rows as schema 7's writer left them, indexed, with text enough for the rebuild to take seconds.
    await db.runner.execute(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
       INSERT INTO tasks (uuid, name, state, timestamp, args, kwargs, result, clock, updated_at, search_indexed)
       SELECT printf('t-%06d', i), 'tasks.bulk', 'SUCCESS', $1 + i, printf('(%d, ''order-%06d'', ''customer-%d@example.com'')', i, i * 7, i * 13), printf('{''tenant'': ''tenant-%04d'', ''note'': ''%s''}', i % 2000, hex(randomblob(24))), printf('%d', i), i, $1, 1 FROM n`,
      [T0],
    );
    let longestPauseMs = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestPauseMs = Math.max(longestPauseMs, now - last);
      last = now;
    }, 10);
    const started = performance.now();
    const report = await db.migrateOnThread();
    const tookMs = performance.now() - started;
    // The gap since the last tick counts too: a loop held to the end never ticked at all.
    longestPauseMs = Math.max(longestPauseMs, performance.now() - last);
    clearInterval(ticker);
    assert.deepEqual(
      report.applied,
      MIGRATIONS.slice(7).map(({ version, name }) => ({ version, name })),
    );
    assert.equal(Number((await db.runner.rows('SELECT COUNT(*) AS n FROM tasks_search WHERE tasks_search MATCH $1', ['"order-000700"']))[0]?.n), 1);
    // On this connection the rebuild held the loop for all of it (one statement); on its thread, never.
    assert.ok(tookMs > 500, `the rebuild took ${tookMs.toFixed(0)} ms: too little to tell`);
    assert.ok(longestPauseMs < tookMs / 4, `the event loop paused ${longestPauseMs.toFixed(0)} ms of a ${tookMs.toFixed(0)} ms migration`);
    await db.close();
  });

  it('a schema newer than this Celeriac knows is refused from the thread as on this connection', async () => {
    const db = (await backend.open()) as SqliteDatabase;
    await migrate(db, MIGRATIONS);
    await db.runner.execute("INSERT INTO celeriac_schema (version, name, applied_at) VALUES ($1, 'from the future', 0)", [LATEST_VERSION + 1]);
    await assert.rejects(db.migrateOnThread(), (error: unknown) => error instanceof SchemaTooNewError && error.found === LATEST_VERSION + 1 && error.latest === LATEST_VERSION);
    await db.close();
  });
});

for (const make of [sqliteBackend, postgresBackend]) {
  const backend = make();
  describe(`task counts by name and state on ${backend.name} (schema 9)`, () => {
    after(() => backend.cleanUp());

    /** The counts as task_count_changes sums them, and as the tasks are: they must be equal. */
    const countsOf = async (sql: SqlRunner): Promise<{ kept: unknown[]; counted: unknown[] }> => ({
      kept: await sql.rows(
        'SELECT CASE WHEN named THEN 1 ELSE 0 END AS named, name, state, CAST(SUM(tasks) AS INTEGER) AS n FROM task_counts GROUP BY 1, 2, 3 HAVING SUM(tasks) <> 0 ORDER BY 1, 2, 3',
      ),
      counted: await sql.rows(
        "SELECT CASE WHEN name IS NOT NULL THEN 1 ELSE 0 END AS named, COALESCE(name, '') AS name, state, CAST(COUNT(*) AS INTEGER) AS n FROM tasks GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
      ),
    });
    const assertExact = async (sql: SqlRunner, when: string): Promise<void> => {
      const { kept, counted } = await countsOf(sql);
      assert.deepEqual(kept, counted, when);
    };
    const changeRows = async (sql: SqlRunner): Promise<number> => Number((await sql.rows('SELECT COUNT(*) AS n FROM task_counts'))[0]?.n);

    it('stay the tasks’ counts by name and state through the migration, upserts, indexing, deletes, folds, concurrent writers and truncation', async () => {
      const db = await backend.open();
      await migrate(db, MIGRATIONS.slice(0, 8));
      const state = new ClusterState({ maxTasks: 10_000, maxWorkers: 10 });
      const names = ['tasks.add', 'tasks.fail', 'tasks.echo'];
      for (let n = 0; n < 200; n++) {
        const uuid = `c-${n}`;
        // Every 9th task known only by a worker's events: no name.
        if (n % 9 !== 0) state.apply(event('task-received', uuid, T0 + n, { name: names[n % 3], args: `(${n},)` }));
        state.apply(event('task-started', uuid, T0 + n + 0.5));
        if (n % 2 === 0) state.apply(event(n % 4 === 0 ? 'task-failed' : 'task-succeeded', uuid, T0 + n + 1, { exception: 'E()', result: '1', runtime: 1 }));
      }
      await upsertTasks(db.runner, db.backend, [...state.tasks.values()], T0 + 300);
      await migrate(db, MIGRATIONS);
      await assertExact(db.runner, 'the migration counts the tasks already stored');

      // An upsert batch: new tasks (the INSERT trigger) and changed ones (the UPDATE trigger) in one statement.
      for (let n = 0; n < 260; n += 3) {
        const uuid = `c-${n}`;
        if (n >= 200) state.apply(event('task-received', uuid, T0 + n, { name: 'tasks.late', args: '()' }));
        // A nameless task learns its name from a late task-received.
        if (n % 9 === 0) state.apply(event('task-received', uuid, T0 + n, { name: 'tasks.named-late', args: '()' }));
        state.apply(event('task-succeeded', uuid, T0 + n + 5, { result: '2', runtime: 1 }));
      }
      await upsertTasks(db.runner, db.backend, [...state.tasks.values()], T0 + 400);
      await assertExact(db.runner, 'after upserting new and changed tasks');

      // Indexing settled rows changes no name or state: it leaves no change row.
      const before = await changeRows(db.runner);
      const settled = new SettledIndex(db, createLogger('silent'), () => true, { settleSeconds: 60, now: () => T0 + 1_000 });
      assert.ok((await settled.pass()) > 0);
      assert.equal(await changeRows(db.runner), before, 'no change row for a write that changes no count');
      await assertExact(db.runner, 'after the settled index');

      // Deletes (as retention's), then a fold into one row per name and state.
      await db.writeCounting("DELETE FROM tasks WHERE uuid IN (SELECT uuid FROM tasks WHERE state = 'SUCCESS' ORDER BY uuid LIMIT 40)");
      await assertExact(db.runner, 'after deleting tasks');
      await foldTaskCounts(db.runner, db.backend);
      await assertExact(db.runner, 'after folding');
      // One row per name and state (SQLite's triggers keep a count of 0 in its row; PostgreSQL's fold drops it).
      const rows = Number((await db.runner.rows(`SELECT COUNT(*) AS n FROM task_counts${db.backend === 'sqlite' ? ' WHERE tasks <> 0' : ''}`))[0]?.n);
      assert.equal(rows, (await countsOf(db.runner)).counted.length, 'one row per name and state after a fold');

      // Writers of their own (instances sharing the database) and folds, all at once: no lost change, no deadlock.
      const others = [await backend.openAgain(db), await backend.openAgain(db)];
      await Promise.all([
        ...others.map(async (other, i) => {
          for (let round = 0; round < 20; round++) {
            const tasks: TaskRecord[] = [];
            const mine = new ClusterState({ maxTasks: 1_000, maxWorkers: 10 });
            for (let k = 0; k < 30; k++) {
              const uuid = `w${i}-${(round * 30 + k) % 150}`;
              mine.apply(event('task-received', uuid, T0 + round, { name: names[k % 3] }));
              if (round % 2 === 1) mine.apply(event('task-failed', uuid, T0 + round + 1, { exception: 'E()' }));
            }
            tasks.push(...mine.tasks.values());
            await other.transaction((sql) => upsertTasks(sql, other.backend, tasks, T0 + 500 + round));
          }
        }),
        (async () => {
          for (let round = 0; round < 10; round++) {
            await foldTaskCounts(db.runner, db.backend);
            await db.writeCounting('DELETE FROM tasks WHERE uuid IN (SELECT uuid FROM tasks ORDER BY random() LIMIT 5)');
          }
        })(),
      ]);
      for (const other of others) await other.close();
      await assertExact(db.runner, 'after concurrent writers, deletes and folds');

      // The tasks list's totals come from the counts: a change row of its own shows in them.
      const total = async (query: Record<string, string>): Promise<number | null> => (await queryStoredTasks(db.readRunner, db.backend, parseTaskFilter({ ...query, limit: '5' }))).total;
      const queries: Record<string, string>[] = [
        {},
        { taskname: 'tasks.fail' },
        { state: 'FAILURE' },
        { taskname: 'tasks.fail', state: 'FAILURE' },
        { search: 'fail' },
        { search: 'succ', taskname: 'tasks.add' },
      ];
      for (const query of queries) {
        const filter = parseTaskFilter(query);
        const inMemory = queryTasksPage((await scanAll(db)).values(), filter).total;
        assert.equal(await total(query), inMemory, `total of ${JSON.stringify(query)}`);
      }
      const shift = async (by: number): Promise<void> => db.runner.execute("UPDATE task_counts SET tasks = tasks + $1 WHERE named AND name = 'tasks.fail' AND state = 'FAILURE'", [by]);
      await foldTaskCounts(db.runner, db.backend);
      await shift(1000);
      assert.equal(await total({ taskname: 'tasks.fail', state: 'FAILURE' }), queryTasksPage((await scanAll(db)).values(), parseTaskFilter({ taskname: 'tasks.fail', state: 'FAILURE' })).total + 1000);
      await shift(-1000);

      await db.runner.execute(db.backend === 'sqlite' ? 'DELETE FROM tasks' : 'TRUNCATE tasks');
      await assertExact(db.runner, 'after truncation');
      assert.equal(await total({}), 0);
    });
  });
}

/** Every stored task, read back (the counts' truth for the list's totals). */
async function scanAll(db: StoreDatabase): Promise<Map<string, TaskRecord>> {
  const tasks = new Map<string, TaskRecord>();
  for (const row of await db.runner.rows('SELECT uuid FROM tasks')) {
    const task = await loadTask(db.runner, String(row.uuid));
    if (task) tasks.set(task.uuid, task);
  }
  return tasks;
}
