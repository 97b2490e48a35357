/**
 * The Store indexes settled rows for search by itself (server/store/settled-index.ts): tasks left
 * out of the index as they were written — still running, waiting to retry, partial — are indexed
 * once unchanged for a while, in the background, and the status says how far it got. The index's
 * correctness (every search still answers what memory would) is store.test.ts's.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createLogger } from '../../server/log';
import type { TaskEvent } from '../../server/protocol/events';
import { parseTaskFilter } from '../../server/http/params';
import { ClusterState } from '../../server/state/cluster-state';
import type { TaskRecord } from '../../server/state/task-record';
import { Store } from '../../server/store';
import { migrate, type StoreDatabase } from '../../server/store/migrate';
import { PostgresDatabase } from '../../server/store/postgres';
import { MIGRATIONS } from '../../server/store/schema';
import { SqliteDatabase } from '../../server/store/sqlite';
import { parseStoreUrl } from '../../server/store/store-url';
import { upsertTasks } from '../../server/store/task-row';
import { waitFor } from '../helpers/celeriac';
import { TEST_STORES } from '../helpers/postgres';
import { TestResources } from '../helpers/resources';

const resources = new TestResources();
after(() => resources.stopAll());
const logger = createLogger('silent');
const NOW = Date.now() / 1000;

function event(type: string, uuid: string, at: number, fields: Partial<TaskEvent> = {}): TaskEvent {
  return { kind: 'task', type, uuid, hostname: 'w1@h', timestamp: at, localReceived: at, clock: 1, utcoffset: 0, pid: 1, ...fields };
}

function openDatabase(url: string): StoreDatabase {
  const target = parseStoreUrl(url);
  if (target.kind === 'memory') throw new Error('a test store is never memory');
  return target.kind === 'sqlite' ? new SqliteDatabase(target.file) : new PostgresDatabase(target.url, logger);
}

for (const store of TEST_STORES) {
  describe(`settled rows indexed for search on ${store.name}`, { timeout: 60_000 }, () => {
    it('rows written unfinished an hour ago are indexed soon after start; the status counts them', async () => {
      const url = await store.url(resources);
      const db = openDatabase(url);
      await migrate(db, MIGRATIONS);
      const state = new ClusterState({ maxTasks: 2_000, maxWorkers: 10 });
      for (let n = 0; n < 1_200; n++) {
        state.apply(event('task-received', `running-${n}`, NOW - 3_600, { name: 'tasks.long', args: `('job-${n}',)` }));
        if (n % 2 === 0) state.apply(event('task-started', `running-${n}`, NOW - 3_600));
      }
      await upsertTasks(db.runner, db.backend, [...state.tasks.values()] as TaskRecord[], NOW - 3_600);
      const unindexed = async (): Promise<number> => Number((await db.runner.rows('SELECT COUNT(*) AS n FROM tasks WHERE search_indexed = 0'))[0]?.n);
      assert.equal(await unindexed(), 1_200);
      await db.close();

      const opened = await Store.open(parseStoreUrl(url), logger, { searchIndexTiming: { firstRunMs: 50, intervalMs: 60_000, batchRows: 100 }, retentionTiming: { firstRunMs: 3_600_000 } });
      assert.ok(opened);
      resources.defer(() => opened.close());
      // 40 batches of 100 per pass at most: this takes one pass; a bigger backlog, passes a second apart.
      const status = await waitFor('the settled rows indexed', async () => {
        const { searchIndex } = opened.status();
        return searchIndex.caughtUp && searchIndex.indexed === 1_200 ? searchIndex : null;
      });
      assert.equal(status.lastError, null);
      const check = openDatabase(url);
      resources.defer(async () => check.close());
      assert.equal(Number((await check.runner.rows('SELECT COUNT(*) AS n FROM tasks WHERE search_indexed = 0'))[0]?.n), 0);
      // Found through the index now, as before by their text.
      const page = await opened.tasksPage(parseTaskFilter({ search: 'job-1199' }));
      assert.deepEqual(
        page.tasks.map((t) => t.uuid),
        ['running-1199'],
      );
      assert.equal((await opened.tasksPage(parseTaskFilter({ search: 'state:STARTED' }))).total, 600);
    });
  });
}
