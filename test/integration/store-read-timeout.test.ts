/**
 * PostgreSQL's reads that answer requests (lists, searches, export pages, trends, the audit log)
 * run on a pool of their own under `--store-read-timeout`: the server cancels one that runs
 * longer (the read model then answers from memory, as for any failed read), and however many of
 * them are slow, the writer's connections stay free.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { createLogger } from '../../server/log';
import type { TaskFilter } from '../../server/state/task-query';
import { Store } from '../../server/store';
import { PostgresDatabase, StoreReadTimeoutError } from '../../server/store/postgres';
import { parseStoreUrl } from '../../server/store/store-url';
import { waitFor } from '../helpers/celeriac';
import { createTestDatabase } from '../helpers/postgres';
import { TestResources } from '../helpers/resources';

const resources = new TestResources();
after(() => resources.stopAll());
const logger = createLogger('silent');

const EVERY_TASK: TaskFilter = { limit: 10, offset: 0, sortBy: null, worker: null, taskName: null, state: null, receivedStart: null, receivedEnd: null, search: null };

async function database(options: ConstructorParameters<typeof PostgresDatabase>[2]): Promise<{ url: string; db: PostgresDatabase }> {
  const created = await createTestDatabase();
  resources.defer(() => created.drop());
  const db = new PostgresDatabase(created.url, logger, options);
  resources.defer(() => db.close());
  return { url: created.url, db };
}

/** Statements running now in this database, other than the asking one. */
async function running(db: PostgresDatabase, application: string): Promise<number> {
  const [row] = await db.runner.rows("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND application_name = $1", [
    application,
  ]);
  return Number(row?.n);
}

describe('PostgreSQL read timeout', { timeout: 120_000 }, () => {
  it('cancels on the server a read running past the timeout, and says which option set it', async () => {
    const { db } = await database({ readTimeoutMs: 200 });
    await assert.rejects(db.readRunner.rows('SELECT pg_sleep(30)'), (error: unknown) => {
      assert.ok(error instanceof StoreReadTimeoutError, String(error));
      assert.match(error.message, /--store-read-timeout \(200 ms\)/);
      return true;
    });
    assert.equal(await running(db, 'celeriac-reads'), 0, 'the cancelled read does not run on');
    // Writes, migrations and maintenance are not under it.
    await db.runner.rows('SELECT pg_sleep(0.5)');
    assert.deepEqual(await db.readRunner.rows('SELECT 1 AS one'), [{ one: 1 }], 'the next read is answered');
  });

  it('slow reads never take the connections writes need', async () => {
    const { db } = await database({ max: 2, readTimeoutMs: 0 });
    let readsDone = 0;
    const reads = [1, 2, 3].map(() => db.readRunner.rows('SELECT pg_sleep(3)').then(() => readsDone++));
    await waitFor('both read connections busy', async () => (await running(db, 'celeriac-reads')) === 2);
    await db.transaction((sql) => sql.execute('CREATE TABLE written (x INTEGER)'));
    await db.writeCounting('INSERT INTO written VALUES (1)');
    assert.equal(readsDone, 0, 'the writes went ahead while every read connection was busy');
    await Promise.all(reads);
  });

  it("a Store's list blocked past the timeout fails with it, and the next list is answered", async () => {
    const created = await createTestDatabase();
    resources.defer(() => created.drop());
    const store = await Store.open(parseStoreUrl(created.url), logger, { readTimeoutMs: 300, retentionTiming: { firstRunMs: 3_600_000 } });
    assert.ok(store);
    resources.defer(() => store.close());
    assert.equal((await store.tasksPage(EVERY_TASK)).total, 0);

    // Another session holds the tasks table (as a long migration or a manual ALTER would).
    const locker = new pg.Client({ connectionString: created.url });
    await locker.connect();
    resources.defer(() => locker.end());
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE');
    await assert.rejects(store.tasksPage(EVERY_TASK), StoreReadTimeoutError);
    await locker.query('COMMIT');
    assert.equal((await store.tasksPage(EVERY_TASK)).total, 0);
  });
});
