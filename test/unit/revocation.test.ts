/**
 * The "revoke pending" mark in the model and the wording of revoke replies: a revocation is a
 * request until a worker reports REVOKED; a task that finishes anyway says the revoke came too
 * late; ids Celeriac does not know create nothing; the mark lives and dies with its TaskRecord.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskEvent } from '../../server/protocol/events';
import { describeRevocation, type RevocationSummary } from '../../server/control/revoke-wording';
import { ClusterState } from '../../server/state/cluster-state';
import type { TaskRecord } from '../../server/state/task-record';

const T0 = 1_795_000_000;

function task(type: string, uuid: string, fields: Partial<TaskEvent> = {}, at = T0): TaskEvent {
  return { kind: 'task', type, uuid, hostname: 'w1@h', timestamp: at, localReceived: at, clock: 1, utcoffset: 0, pid: 1, ...fields };
}

const request = (fields: Partial<{ at: number; terminate: boolean; signal: string | null; workers: number }> = {}) => ({ at: T0 + 1, terminate: false, signal: null, workers: 2, ...fields });

describe('revocation mark on TaskRecord', () => {
  it('is pending until a worker reports REVOKED, then says revoked', () => {
    const s = new ClusterState({ maxTasks: 10, maxWorkers: 10 });
    s.apply(task('task-sent', 'a', { name: 'tasks.add', hostname: 'client@h' }));
    assert.equal(s.getTask('a')?.revocationStatus(), null);
    s.recordRevokeRequest('a', request());
    assert.equal(s.getTask('a')?.state, 'PENDING');
    assert.deepEqual(s.getTask('a')?.revocationView(), { status: 'pending', requestedAt: T0 + 1, terminate: false, signal: null, workers: 2 });
    s.apply(task('task-received', 'a', {}, T0 + 2));
    assert.equal(s.getTask('a')?.revocationStatus(), 'pending', 'received is not revoked');
    s.apply(task('task-revoked', 'a', { terminated: false, expired: false }, T0 + 3));
    assert.equal(s.getTask('a')?.revocationStatus(), 'revoked');
  });

  it('says too late when the task finishes anyway', () => {
    const s = new ClusterState({ maxTasks: 10, maxWorkers: 10 });
    s.apply(task('task-started', 'run', {}, T0));
    s.recordRevokeRequest('run', request());
    assert.equal(s.getTask('run')?.revocationStatus(), 'pending');
    s.apply(task('task-succeeded', 'run', { result: '1', runtime: 1 }, T0 + 2));
    assert.equal(s.getTask('run')?.revocationStatus(), 'too-late');
    s.apply(task('task-started', 'bad', {}, T0));
    s.recordRevokeRequest('bad', request());
    s.apply(task('task-failed', 'bad', { exception: 'ValueError()' }, T0 + 2));
    assert.equal(s.getTask('bad')?.revocationStatus(), 'too-late');
  });

  it('keeps a terminate that was already sent when a plain revoke follows', () => {
    const s = new ClusterState({ maxTasks: 10, maxWorkers: 10 });
    s.apply(task('task-started', 'a'));
    s.recordRevokeRequest('a', request({ terminate: true, signal: 'SIGKILL' }));
    s.recordRevokeRequest('a', request({ at: T0 + 5, workers: 3 }));
    assert.deepEqual(s.getTask('a')?.revocationView(), { status: 'pending', requestedAt: T0 + 5, terminate: true, signal: 'SIGKILL', workers: 3 });
  });

  it('creates nothing for an id Celeriac does not know', () => {
    const s = new ClusterState({ maxTasks: 10, maxWorkers: 10 });
    let notified = 0;
    s.addListener({ taskRevokeRequested: () => notified++ });
    for (let i = 0; i < 1_000; i++) assert.equal(s.recordRevokeRequest(`ghost-${i}`, request()), null);
    assert.equal(s.tasks.size, 0);
    assert.equal(notified, 0);
  });

  it('notifies listeners, counts as an update for the LRU, and is evicted with its task', () => {
    const s = new ClusterState({ maxTasks: 3, maxWorkers: 10 });
    const seen: TaskRecord[] = [];
    s.addListener({ taskRevokeRequested: (t) => seen.push(t) });
    for (const id of ['a', 'b', 'c']) s.apply(task('task-sent', id, { hostname: 'client@h' }));
    s.recordRevokeRequest('a', request());
    assert.deepEqual(
      seen.map((t) => t.uuid),
      ['a'],
    );
    // 'a' was touched last, so 'b' is the least recently updated and goes first.
    s.apply(task('task-sent', 'd', { hostname: 'client@h' }));
    assert.ok(s.getTask('a'));
    assert.equal(s.getTask('b'), undefined);
    for (const id of ['e', 'f', 'g']) s.apply(task('task-sent', id, { hostname: 'client@h' }));
    assert.equal(s.getTask('a'), undefined, 'the mark goes with the record: memory stays bounded by --max-tasks');
    assert.equal(s.tasks.size, 3);
  });
});

describe('revoke reply wording', () => {
  const base: RevocationSummary = {
    taskIds: ['t1'],
    waiting: 0,
    running: 0,
    finished: 0,
    unknown: 0,
    runningOn: null,
    finishedState: null,
    terminate: false,
    signal: 'SIGTERM',
    acknowledged: 2,
    silent: [],
  };

  it('never says Revoked for a queued task', () => {
    assert.equal(describeRevocation({ ...base, waiting: 1 }), 'Revocation sent to 2 workers; it will be discarded when a worker takes it');
    assert.equal(describeRevocation({ ...base, waiting: 1, acknowledged: 1 }), 'Revocation sent to 1 worker; it will be discarded when a worker takes it');
  });

  it('says when no worker heard it, and that later workers never will', () => {
    const text = describeRevocation({ ...base, waiting: 1, acknowledged: 0 });
    assert.match(text, /^No worker acknowledged the revocation: workers that start later never hear of it/);
    assert.match(text, /it will run when a worker takes it$/);
    assert.match(describeRevocation({ ...base, waiting: 1, acknowledged: 0, silent: ['w9@h'] }), /no reply from w9@h; it may still have applied it/);
  });

  it('says a running task keeps running without terminate, and that terminate was sent with it', () => {
    assert.match(describeRevocation({ ...base, running: 1, runningOn: 'w1@h' }), /already running on w1@h and keeps running until it finishes .*terminate it to stop it now$/);
    assert.equal(describeRevocation({ ...base, running: 1, terminate: true, signal: 'SIGKILL' }), 'Terminate signal SIGKILL sent to 2 workers; the task shows Revoked once its worker reports it');
  });

  it('says a finished or unknown task is not affected', () => {
    assert.equal(describeRevocation({ ...base, finished: 1, finishedState: 'SUCCESS' }), "'t1' already finished (SUCCESS): the revocation sent to 2 workers changes nothing");
    assert.match(describeRevocation({ ...base, unknown: 1 }), /Celeriac has not seen this task/);
  });

  it('counts each kind in a bulk revoke', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `t${i}`);
    assert.equal(
      describeRevocation({ ...base, taskIds: ids, waiting: 48, running: 2 }),
      'Revocation sent to 2 workers for 50 tasks: 48 waiting will be discarded when a worker takes them; 2 running keep running until they finish (terminate to stop them)',
    );
    assert.equal(
      describeRevocation({ ...base, taskIds: ids, waiting: 48, running: 2, terminate: true }),
      'Terminate signal SIGTERM sent to 2 workers for 50 tasks: 2 running will be signalled; 48 waiting will be discarded when a worker takes them',
    );
    assert.match(describeRevocation({ ...base, taskIds: ids, waiting: 50, acknowledged: 0 }), /^No worker acknowledged the revocation of 50 tasks: .* so they will run when a worker takes them$/);
  });
});
