/**
 * The audit log's and the pause state's tables (server/store/audit-row.ts, pause-row.ts) on both
 * real backends: /api/audit's pages over stored entries and entries still waiting to be written
 * are exact at every offset, with the total; an entry both stored and still listed as waiting
 * (its write landed, the reply not yet) counts once; an import runs once; the pause state's
 * marker tells "never imported" from "nothing paused".
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { AuditEntry, KeyedAuditEntry } from '../../server/control/audit';
import { createLogger } from '../../server/log';
import { auditSink, StoredAudit } from '../../server/store/audit-row';
import { migrate, type StoreDatabase } from '../../server/store/migrate';
import { StoredPauses } from '../../server/store/pause-row';
import { loadTask, taskSink } from '../../server/store/task-row';
import { TaskRecord } from '../../server/state/task-record';
import { PostgresDatabase } from '../../server/store/postgres';
import { MIGRATIONS } from '../../server/store/schema';
import { SqliteDatabase } from '../../server/store/sqlite';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres';

const T0 = 1_795_000_000;

function keyed(n: number, action = n % 2 === 0 ? 'rate-limit' : 'pause-worker'): KeyedAuditEntry {
  const entry: AuditEntry = {
    time: T0 + n,
    user: n % 3 === 0 ? null : 'ops',
    remote: '10.0.0.1',
    action,
    target: `w${n % 3}@h`,
    parameters: { n, nested: [1, 'é', null] },
    ok: n % 4 !== 0,
    message: `entry ${n}`,
    workers: { [`w${n % 3}@h`]: { ok: true, message: 'done' } },
  };
  return { id: `id-${n}`, entry };
}

/** A writer that is never flushed: what it holds is "waiting", as while the store is down. */
class WaitingEntries {
  readonly waiting: KeyedAuditEntry[] = [];
  changed(entry: KeyedAuditEntry): void {
    this.waiting.push(entry);
  }
  pendingRecords(): KeyedAuditEntry[] {
    return [...this.waiting];
  }
}

const dirs: string[] = [];
const databases: TestDatabase[] = [];
const open: StoreDatabase[] = [];
after(async () => {
  for (const db of open) await db.close();
  for (const database of databases) await database.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const BACKENDS: { name: string; open(): Promise<StoreDatabase> }[] = [
  {
    name: 'SQLite',
    open: async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'celeriac-audit-'));
      dirs.push(dir);
      return new SqliteDatabase(path.join(dir, 'celeriac.db'));
    },
  },
  {
    name: 'PostgreSQL',
    open: async () => {
      const database = await createTestDatabase();
      databases.push(database);
      return new PostgresDatabase(database.url, createLogger('silent'));
    },
  },
];

for (const backend of BACKENDS) {
  describe(`audit and pause tables on ${backend.name}`, () => {
    it('pages stored and waiting entries newest first, exactly, with the total', async () => {
      const db = await backend.open();
      open.push(db);
      await migrate(db, MIGRATIONS);
      const writer = new WaitingEntries();
      const audit = new StoredAudit(db, writer);
      const all = Array.from({ length: 12 }, (_, n) => keyed(n));
      await auditSink(db).write(all.slice(0, 9), T0);
      for (const entry of all.slice(9)) audit.record(entry);
      // Written, and still listed as waiting (the write landed, its reply has not come back).
      audit.record(all[8] as KeyedAuditEntry);
      await auditSink(db).write([all[8] as KeyedAuditEntry], T0); // a retried write adds nothing
      const newestFirst = [...all].reverse().map((k) => k.entry);
      for (const filter of [{}, { action: 'rate-limit' }, { target: 'w1@h' }, { action: 'pause-worker', target: 'w2@h' }]) {
        const expected = newestFirst.filter((e) => (!('action' in filter) || e.action === filter.action) && (!('target' in filter) || e.target === filter.target));
        for (let offset = 0; offset <= expected.length; offset++) {
          for (const limit of [1, 2, 5, 100]) {
            const page = await audit.list({ ...filter, offset, limit });
            assert.deepEqual(page, { total: expected.length, entries: expected.slice(offset, offset + limit) }, `${JSON.stringify(filter)} offset ${offset} limit ${limit}`);
          }
        }
      }
    });

    it("a partial record's timeline is joined to the one the row kept, once", async () => {
      const db = await backend.open();
      open.push(db);
      await migrate(db, MIGRATIONS);
      const sink = taskSink(db);
      const first = new TaskRecord('joined');
      first.complete = true;
      first.timeline.push('task-received', T0, 'w@h');
      first.timeline.push('task-started', T0 + 1, 'w@h');
      await sink.write([first], T0);
      // Memory lost the task; a later event made a partial record (it repeats one event the row has).
      const partial = new TaskRecord('joined');
      partial.timeline.push('task-started', T0 + 1, 'w@h');
      partial.timeline.push('task-retried', T0 + 2, 'w@h');
      await sink.write([partial], T0 + 2);
      partial.timeline.push('task-received', T0 + 3, 'w@h');
      await sink.write([partial], T0 + 3);
      const stored = await loadTask(db.runner, 'joined');
      assert.deepEqual(
        stored?.timeline.steps().map((s) => `${s.type}@${s.timestamp - T0}`),
        ['task-received@0', 'task-started@1', 'task-retried@2', 'task-received@3'],
      );
    });

    it('imports a source once', async () => {
      const db = await backend.open();
      open.push(db);
      await migrate(db, MIGRATIONS);
      const audit = new StoredAudit(db, new WaitingEntries());
      const entries = [keyed(1), keyed(2), keyed(3)];
      assert.equal(await audit.importOnce('audit.jsonl', entries), 3);
      assert.equal(await audit.importOnce('audit.jsonl', [...entries, keyed(4)]), 0, 'the second time imports nothing');
      assert.equal((await audit.list({ offset: 0, limit: 10 })).total, 3);
    });

    it('keeps the pause state, and tells a store never given one from nothing paused', async () => {
      const db = await backend.open();
      open.push(db);
      await migrate(db, MIGRATIONS);
      const pauses = new StoredPauses(db);
      assert.equal(await pauses.load(), null, 'never imported');
      const state = {
        queues: { celery: { pausedAt: T0, by: 'ops', workers: ['a@h', 'b@h'] } },
        workers: { 'a@h': { pausedAt: T0 + 1, by: null, consumers: [{ queue: 'celery', declaration: { name: 'celery', exchange: { name: 'celery', type: 'direct' }, routing_key: 'celery' } }] } },
      };
      await pauses.save(state);
      assert.deepEqual(await pauses.load(), state);
      await pauses.save({ queues: {}, workers: {} });
      assert.deepEqual(await pauses.load(), { queues: {}, workers: {} }, 'nothing paused, not "never imported"');
    });
  });
}
