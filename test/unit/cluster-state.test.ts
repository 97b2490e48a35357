import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskEvent, WorkerEvent } from '../../server/protocol/events';
import { ClusterState, MAX_SEEN_TASK_NAMES } from '../../server/state/cluster-state';
import type { TaskRecord } from '../../server/state/task-record';

const T0 = 1_795_000_000;

function task(type: string, uuid: string, fields: Partial<TaskEvent> = {}, at = T0): TaskEvent {
  return { kind: 'task', type, uuid, hostname: 'w1@h', timestamp: at, localReceived: at, clock: 1, utcoffset: 0, pid: 1, ...fields };
}

function worker(type: WorkerEvent['type'], hostname: string, localReceived: number, fields: Partial<WorkerEvent> = {}): WorkerEvent {
  return { kind: 'worker', type, hostname, timestamp: localReceived, localReceived, clock: 1, utcoffset: 0, pid: 42, freq: 2, ...fields };
}

function newState(maxTasks = 1000, maxWorkers = 100): ClusterState {
  return new ClusterState({ maxTasks, maxWorkers });
}

/** A fresh state after `events`, applied in the order given (the order is what these tests vary). */
function stateAfter(events: TaskEvent[]): ClusterState {
  const s = newState();
  for (const event of events) s.apply(event);
  return s;
}

/** The task's fields that `expected` names, compared in one go (a failure lists every field that differs). */
function assertTask(record: TaskRecord | undefined, expected: Partial<TaskRecord>): void {
  assert.ok(record, 'the task is in the state');
  const actual: Partial<Record<keyof TaskRecord, unknown>> = {};
  for (const field of Object.keys(expected) as (keyof TaskRecord)[]) actual[field] = record[field];
  assert.deepEqual(actual, expected);
}

describe('task merge rules (celery.events.state semantics)', () => {
  it('applies an in-order lifecycle', () => {
    const s = stateAfter([
      task('task-sent', 'a', { name: 'tasks.add', args: '(1, 2)', kwargs: '{}', hostname: 'client@h', queue: 'celery' }, T0),
      task('task-received', 'a', { name: 'tasks.add', args: '(1, 2)', kwargs: '{}', retries: 0 }, T0 + 1),
      task('task-started', 'a', {}, T0 + 2),
      task('task-succeeded', 'a', { result: '3', runtime: 0.5 }, T0 + 3),
    ]);
    assertTask(s.getTask('a'), {
      state: 'SUCCESS',
      name: 'tasks.add',
      client: 'client@h',
      worker: 'w1@h',
      sent: T0,
      received: T0 + 1,
      started: T0 + 2,
      succeeded: T0 + 3,
      result: '3',
      runtime: 0.5,
      queue: 'celery',
      timestamp: T0 + 3,
    });
  });

  it('a late task-received never moves SUCCESS back, but contributes name/args', () => {
    const s = stateAfter([
      task('task-succeeded', 'a', { result: '3', runtime: 0.1 }, T0 + 3),
      task('task-started', 'a', {}, T0 + 2),
      task('task-received', 'a', { name: 'tasks.add', args: '(1, 2)', kwargs: "{'x': 1}", retries: 0, rootId: 'a', parentId: null }, T0 + 1),
    ]);
    assertTask(s.getTask('a'), { state: 'SUCCESS', name: 'tasks.add', args: '(1, 2)', kwargs: "{'x': 1}", received: T0 + 1, started: T0 + 2, rootId: 'a' });
    assert.deepEqual(s.taskTypes(), ['tasks.add']);
  });

  it('lists task names up to a cap: a unique name per task cannot grow the list without limit', () => {
    const s = newState(10);
    for (let i = 0; i < MAX_SEEN_TASK_NAMES + 500; i++) s.apply(task('task-received', `u${i}`, { name: `tasks.n${i}` }));
    assert.equal(s.taskTypes().length, MAX_SEEN_TASK_NAMES);
    assert.equal(s.tasks.size, 10);
  });

  it('handles the batch order real workers produce: received, succeeded, started', () => {
    const s = stateAfter([task('task-received', 'a', { name: 'tasks.add' }, T0), task('task-succeeded', 'a', { result: '3' }, T0 + 2), task('task-started', 'a', {}, T0 + 1)]);
    assert.equal(s.getTask('a')?.state, 'SUCCESS');
  });

  it('FAILURE is not overwritten by a late STARTED, and keeps exception and traceback', () => {
    const s = stateAfter([task('task-failed', 'a', { exception: "ValueError('boom')", traceback: 'Traceback…' }, T0 + 2), task('task-started', 'a', {}, T0 + 1)]);
    assertTask(s.getTask('a'), { state: 'FAILURE', exception: "ValueError('boom')", traceback: 'Traceback…' });
  });

  it('duplicate events are idempotent for state', () => {
    const s = newState();
    const e = task('task-succeeded', 'a', { result: '1' });
    s.apply(e);
    s.apply(e);
    assert.equal(s.getTask('a')?.state, 'SUCCESS');
    assert.equal(s.tasks.size, 1);
  });

  it('RETRY always overwrites and is always overwritten (retries cycle back to RECEIVED/STARTED)', () => {
    const s = newState();
    s.apply(task('task-received', 'a', { name: 'tasks.retry_then_fail', retries: 0 }, T0));
    s.apply(task('task-started', 'a', {}, T0 + 1));
    s.apply(task('task-retried', 'a', { exception: "RuntimeError('try again')" }, T0 + 2));
    assert.equal(s.getTask('a')?.state, 'RETRY');
    s.apply(task('task-received', 'a', { retries: 1 }, T0 + 3));
    assert.equal(s.getTask('a')?.state, 'RECEIVED');
    assert.equal(s.getTask('a')?.retries, 1);
    s.apply(task('task-started', 'a', {}, T0 + 4));
    s.apply(task('task-failed', 'a', { exception: "RuntimeError('gave up')" }, T0 + 5));
    assertTask(s.getTask('a'), { state: 'FAILURE', retried: T0 + 2, exception: "RuntimeError('gave up')" });
  });

  it('REJECTED after RECEIVED keeps RECEIVED (Celery precedence quirk), REVOKED after RECEIVED wins', () => {
    const s = newState();
    s.apply(task('task-received', 'a', {}, T0));
    s.apply(task('task-rejected', 'a', { requeue: false }, T0 + 1));
    assert.equal(s.getTask('a')?.state, 'RECEIVED');
    assert.equal(s.getTask('a')?.rejected, T0 + 1);
    s.apply(task('task-received', 'b', {}, T0));
    s.apply(task('task-revoked', 'b', { terminated: true, signum: 15, expired: false }, T0 + 1));
    assertTask(s.getTask('b'), { state: 'REVOKED', terminated: true, signum: 15 });
  });

  it('custom events set a custom state between FAILURE and REVOKED and keep their fields', () => {
    const s = newState();
    s.apply(task('task-started', 'a', {}, T0));
    s.apply(task('task-progress', 'a', { extra: { current: 1, total: 3 } }, T0 + 1));
    assert.equal(s.getTask('a')?.state, 'PROGRESS');
    s.apply(task('task-progress', 'a', { extra: { current: 2 } }, T0 + 2));
    assert.deepEqual(s.getTask('a')?.extra, { current: 2, total: 3 });
    s.apply(task('task-succeeded', 'a', { result: '3' }, T0 + 3));
    assert.equal(s.getTask('a')?.state, 'SUCCESS');
  });

  it('links children to parents whichever arrives first', () => {
    const s = newState();
    s.apply(task('task-received', 'child1', { parentId: 'root', rootId: 'root' }));
    s.apply(task('task-received', 'root', { parentId: null, rootId: 'root' }));
    s.apply(task('task-received', 'child2', { parentId: 'root', rootId: 'root' }));
    assert.deepEqual(s.childrenOf('root').sort(), ['child1', 'child2']);
    const dict = s.getTask('root')?.toFlowerDict(s.childrenOf('root'));
    assert.deepEqual(dict?.children.sort(), ['child1', 'child2']);
    assert.equal(s.getTask('child1')?.toFlowerDict([]).parent, 'root');
  });

  it('task-sent records the client, not a worker', () => {
    const s = newState();
    s.apply(task('task-sent', 'a', { hostname: 'gen1@client' }));
    assert.equal(s.getTask('a')?.client, 'gen1@client');
    assert.equal(s.getTask('a')?.worker, null);
    assert.equal(s.workers.get('gen1@client'), undefined);
  });
});

describe('bounded memory', () => {
  it('keeps at most maxTasks, evicting the least recently updated, and counts evictions', () => {
    const s = newState(3);
    for (const id of ['a', 'b', 'c']) s.apply(task('task-received', id));
    s.apply(task('task-started', 'a')); // a is now most recent
    s.apply(task('task-received', 'd')); // evicts b
    assert.equal(s.tasks.size, 3);
    assert.equal(s.getTask('b'), undefined);
    assert.ok(s.getTask('a'));
    assert.equal(s.taskEvictions, 1);
  });

  it('evicts finished tasks before unfinished ones, and the least recent when all are unfinished', () => {
    const s = newState(3);
    s.apply(task('task-started', 'running-long'));
    s.apply(task('task-received', 'done'));
    s.apply(task('task-succeeded', 'done'));
    s.apply(task('task-received', 'waiting'));
    s.apply(task('task-received', 'new')); // the oldest is running-long, but done has finished
    assert.deepEqual([...s.tasks.keys()].sort(), ['new', 'running-long', 'waiting']);
    // All unfinished: the least recent goes. Kept over 'done' a moment ago, running-long counts
    // as recent now, so 'waiting' is the least recent.
    s.apply(task('task-received', 'newer'));
    assert.deepEqual([...s.tasks.keys()].sort(), ['new', 'newer', 'running-long']);
    assert.equal(s.taskEvictions, 2);
  });

  it('evicting a child removes it from its parent’s children', () => {
    const s = newState(2);
    s.apply(task('task-received', 'root'));
    s.apply(task('task-received', 'c1', { parentId: 'root' }));
    s.apply(task('task-received', 'root')); // touch root
    s.apply(task('task-received', 'x')); // evicts c1
    assert.deepEqual(s.childrenOf('root'), []);
  });

  it('keeps at most maxWorkers and reports removals', () => {
    const s = newState(10, 2);
    const removed: string[] = [];
    s.addListener({ workerRemoved: (h) => removed.push(h) });
    s.apply(worker('worker-online', 'a@h', T0));
    s.apply(worker('worker-online', 'b@h', T0));
    s.apply(worker('worker-online', 'c@h', T0));
    assert.equal(s.workers.size, 2);
    assert.deepEqual(removed, ['a@h']);
    assert.equal(s.workerEvictions, 1);
  });
});

describe('worker liveness (Celery: offline after freq × 2 without a heartbeat)', () => {
  it('is online until freq × 2 after the last heartbeat, on the receiver clock', () => {
    const s = newState();
    s.apply(worker('worker-heartbeat', 'w@h', T0, { freq: 2 }));
    const w = s.workers.get('w@h');
    assert.ok(w);
    assert.equal(w.isAlive(T0 + 3.99), true);
    assert.equal(w.isAlive(T0 + 4), false);
    assert.equal(w.facts(T0 + 5).status, 'offline');
  });

  it('ignores the sender clock: a worker whose clock is hours off is judged by receive time', () => {
    const s = newState();
    s.apply({ ...worker('worker-heartbeat', 'skewed@h', T0), timestamp: T0 - 7200, utcoffset: -2 });
    assert.equal(s.workers.get('skewed@h')?.isAlive(T0 + 1), true);
  });

  it('task events count as heartbeats', () => {
    const s = newState();
    s.apply(worker('worker-online', 'w1@h', T0));
    s.apply({ ...task('task-started', 'a'), localReceived: T0 + 3 });
    assert.equal(s.workers.get('w1@h')?.isAlive(T0 + 6), true);
  });

  it('worker-offline makes the worker offline at once', () => {
    const s = newState();
    s.apply(worker('worker-online', 'w@h', T0));
    s.apply(worker('worker-offline', 'w@h', T0 + 1));
    assert.equal(s.workers.get('w@h')?.isAlive(T0 + 1), false);
  });

  it('a heartbeat-command heartbeat (freq 5, no counters) extends the window to 10 s', () => {
    const s = newState();
    s.apply(worker('worker-heartbeat', 'w@h', T0, { freq: 2, active: 3, processed: 9, loadavg: [1, 2, 3] }));
    s.apply(worker('worker-heartbeat', 'w@h', T0 + 1, { freq: 5, active: undefined, processed: undefined, loadavg: undefined }));
    const w = s.workers.get('w@h');
    assert.equal(w?.isAlive(T0 + 10.9), true);
    assert.equal(w?.isAlive(T0 + 11), false);
    assert.equal(w?.active, 3); // kept from the last full heartbeat
  });

  it('counts events per worker like Flower (processed = task-received)', () => {
    const s = newState();
    s.apply(task('task-received', 'a'));
    s.apply(task('task-received', 'b'));
    s.apply(task('task-succeeded', 'a'));
    s.apply(task('task-failed', 'b'));
    s.apply(task('task-retried', 'c'));
    const summary = s.workers.get('w1@h')?.facts(T0);
    assert.equal(summary?.processed, 2);
    assert.equal(summary?.succeeded, 1);
    assert.equal(summary?.failed, 1);
    assert.equal(summary?.retried, 1);
  });

  it('purges workers offline longer than the purge window', () => {
    const s = newState();
    s.apply(worker('worker-online', 'gone@h', T0));
    s.apply(worker('worker-offline', 'gone@h', T0 + 1));
    s.apply(worker('worker-online', 'alive@h', T0 + 100));
    assert.deepEqual(s.purgeOfflineWorkers(T0 + 50, 60), []);
    assert.deepEqual(s.purgeOfflineWorkers(T0 + 100, 60), ['gone@h']);
    assert.equal(s.workers.get('alive@h')?.hostname, 'alive@h');
  });
});
