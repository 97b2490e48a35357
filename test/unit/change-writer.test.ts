/**
 * The task writer's policy, with a sink the test controls: coalescing, batching, the bound while
 * the store fails, and recovery. test/integration/store.test.ts runs it on real databases.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../server/log';
import { TaskRecord } from '../../server/state/task-record';
import { ChangeWriter, type ChangeSink } from '../../server/store/change-writer';

class RecordingSink implements ChangeSink<TaskRecord> {
  readonly batches: { uuids: string[]; states: string[]; at: number }[] = [];
  failWith: Error | null = null;
  async write(tasks: readonly TaskRecord[], at: number): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.batches.push({ uuids: tasks.map((t) => t.uuid), states: tasks.map((t) => t.state), at });
  }
  get rows(): number {
    return this.batches.reduce((n, b) => n + b.uuids.length, 0);
  }
}

const logger = createLogger('silent');
const task = (uuid: string, state = 'RECEIVED'): TaskRecord => {
  const record = new TaskRecord(uuid);
  record.state = state;
  return record;
};

describe('change writer (tasks)', () => {
  it('writes each changed task once per flush, in its state at flush time', async () => {
    const sink = new RecordingSink();
    const writer = new ChangeWriter('tasks', sink, (t) => t.uuid, logger, { now: () => 42 });
    const a = task('a');
    for (let n = 0; n < 1_000; n++) writer.changed(a);
    writer.changed(task('b'));
    a.state = 'SUCCESS';
    assert.equal(writer.status().pending, 2);
    await writer.flush();
    assert.deepEqual(sink.batches, [{ uuids: ['a', 'b'], states: ['SUCCESS', 'RECEIVED'], at: 42 }]);
    assert.deepEqual({ ...writer.status(), lastError: null }, { pending: 0, written: 2, dropped: 0, failures: 0, degraded: false, lastError: null });
    await writer.flush();
    assert.equal(sink.batches.length, 1, 'nothing dirty: nothing written');
  });

  it('starts a flush early at batchRows and writes in batches of at most batchRows', async () => {
    const sink = new RecordingSink();
    const writer = new ChangeWriter('tasks', sink, (t) => t.uuid, logger, { batchRows: 10 });
    for (let n = 0; n < 9; n++) writer.changed(task(`t${n}`));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sink.batches.length, 0, 'below batchRows, the interval decides');
    writer.changed(task('t9'));
    for (let n = 10; n < 25; n++) writer.changed(task(`t${n}`));
    await writer.flush();
    assert.equal(sink.rows, 25);
    assert.ok(
      sink.batches.every((b) => b.uuids.length <= 10),
      JSON.stringify(sink.batches.map((b) => b.uuids.length)),
    );
  });

  it('keeps what failed, bounded: the longest-waiting tasks are dropped and counted; it recovers', async () => {
    const sink = new RecordingSink();
    const writer = new ChangeWriter('tasks', sink, (t) => t.uuid, logger, { maxPending: 5, batchRows: 100 });
    sink.failWith = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    for (let n = 0; n < 4; n++) writer.changed(task(`old${n}`));
    await writer.flush();
    assert.deepEqual(writer.status(), { pending: 4, written: 0, dropped: 0, failures: 1, degraded: true, lastError: 'connect ECONNREFUSED 127.0.0.1:5432' });
    for (let n = 0; n < 3; n++) writer.changed(task(`new${n}`));
    await writer.flush();
    const status = writer.status();
    assert.deepEqual([status.pending, status.dropped, status.failures], [5, 2, 2]);
    sink.failWith = null;
    await writer.flush();
    assert.deepEqual(
      sink.batches.map((b) => b.uuids),
      [['old2', 'old3', 'new0', 'new1', 'new2']],
      'the oldest two were dropped; order kept',
    );
    assert.deepEqual({ ...writer.status() }, { pending: 0, written: 5, dropped: 2, failures: 2, degraded: false, lastError: null });
  });

  it('while the store fails, reaching batchRows does not start another write: the interval retries', async () => {
    const sink = new RecordingSink();
    sink.failWith = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const writer = new ChangeWriter('tasks', sink, (t) => t.uuid, logger, { batchRows: 10, intervalMs: 60_000 });
    for (let n = 0; n < 100; n++) {
      writer.changed(task(`t${n}`));
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual([writer.status().failures, writer.status().pending], [1, 100]);
    sink.failWith = null;
    await writer.flush();
    assert.equal(sink.rows, 100);
  });

  it('a change made during a failed write is kept, newest state', async () => {
    let fail = (): void => undefined;
    const sink: ChangeSink<TaskRecord> = {
      write: () =>
        new Promise((_resolve, reject) => {
          fail = () => reject(new Error('disk full'));
        }),
    };
    const writer = new ChangeWriter('tasks', sink, (t) => t.uuid, logger);
    const a = task('a');
    writer.changed(a);
    const flushing = writer.flush();
    a.state = 'FAILURE';
    writer.changed(a);
    writer.changed(task('b'));
    fail();
    await flushing;
    assert.equal(writer.status().pending, 2);
    assert.equal(writer.status().lastError, 'disk full');
  });

  it('counts pending records exactly while a write is under way, through changes, drops and a failure', async () => {
    let settle: (error?: Error) => void = () => undefined;
    const sink: ChangeSink<TaskRecord> = {
      write: () =>
        new Promise((resolve, reject) => {
          settle = (error) => (error ? reject(error) : resolve());
        }),
    };
    const writer = new ChangeWriter('tasks', sink, (t) => t.uuid, logger, { maxPending: 6, batchRows: 1_000 });
    // Pending by definition: the keys waiting or being written, each once (pendingRecords' set).
    const distinct = (): number => new Set(writer.pendingRecords().map((t) => t.uuid)).size;
    const records = Array.from({ length: 10 }, (_, n) => task(`t${n}`));
    for (const record of records.slice(0, 5)) writer.changed(record);
    const flushing = writer.flush();
    assert.equal(writer.status().pending, 5);
    // t0..t2 change again while in flight, t5..t9 are new: 8 dirty, over the bound of 6.
    for (const record of [...records.slice(0, 3), ...records.slice(5)]) writer.changed(record);
    assert.equal(writer.status().dropped, 2, 'the two longest waiting (t0, t1) were dropped from the dirty set');
    assert.equal(writer.status().pending, distinct());
    assert.equal(writer.status().pending, 10, 't0 and t1 are still being written');
    settle(new Error('disk full'));
    await flushing;
    assert.equal(writer.status().pending, distinct());
    assert.ok(writer.status().pending <= 6, `bounded: ${writer.status().pending}`);
    for (const record of records) writer.changed(record);
    assert.equal(writer.status().pending, distinct());
  });

  it('writes `concurrency` batches at once; after one fails no batch starts, and only what was not written stays dirty', async () => {
    const started: { uuids: string[]; settle: (error?: Error) => void }[] = [];
    const sink: ChangeSink<TaskRecord> = {
      write: (tasks) =>
        new Promise((resolve, reject) => {
          started.push({ uuids: tasks.map((t) => t.uuid), settle: (error) => (error ? reject(error) : resolve()) });
        }),
    };
    const writer = new ChangeWriter('tasks', sink, (t) => t.uuid, logger, { batchRows: 2, concurrency: 2 });
    const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    // The second record starts a flush early (batchRows); the rest wait for the next one.
    for (let n = 0; n < 10; n++) writer.changed(task(`t${n}`));
    const flushing = writer.flush();
    started[0]?.settle();
    await settled();
    assert.deepEqual(
      started.map((w) => w.uuids),
      [
        ['t0', 't1'],
        ['t2', 't3'],
        ['t4', 't5'],
      ],
      'two batches under way, the others wait',
    );
    started[2]?.settle();
    await settled();
    assert.deepEqual(started[3]?.uuids, ['t6', 't7'], 'a lane that finished takes the next batch');
    started[1]?.settle(new Error('connection reset'));
    started[3]?.settle();
    await flushing;
    assert.equal(started.length, 4, 'nothing starts after a failure');
    assert.deepEqual(
      writer.pendingRecords().map((t) => t.uuid),
      ['t2', 't3', 't8', 't9'],
      'the failed batch, then the one never started, oldest first',
    );
    assert.deepEqual([writer.status().written, writer.status().pending, writer.status().failures, writer.status().degraded], [6, 4, 1, true]);
  });

  it('stop() writes what is dirty', async () => {
    const sink = new RecordingSink();
    const writer = new ChangeWriter('tasks', sink, (t) => t.uuid, logger, { intervalMs: 60_000 });
    writer.start();
    writer.changed(task('last'));
    await writer.stop();
    assert.deepEqual(
      sink.batches.map((b) => b.uuids),
      [['last']],
    );
  });
});
