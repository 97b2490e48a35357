/**
 * The per-task timeline (server/state/task-timeline.ts): every event in arrival order, bounded to
 * the first and the latest ones with a count of those left out, duplicates merged away, late
 * events kept; and what ClusterState records for a task retried twice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskEvent } from '../../server/protocol/events';
import { ClusterState } from '../../server/state/cluster-state';
import { MAX_TIMELINE, OTHER_TYPE, TaskTimeline, TIMELINE_HEAD } from '../../server/state/task-timeline';

const T0 = 1_795_000_000;
const KINDS = ['task-received', 'task-started', 'task-retried'];

function event(type: string, at: number, hostname: string, fields: Partial<TaskEvent> = {}): TaskEvent {
  return { kind: 'task', type, uuid: 'r', hostname, timestamp: at, localReceived: at, clock: Math.round(at - T0), utcoffset: 0, pid: 1, ...fields };
}

describe('task timeline', () => {
  it('keeps every event in arrival order with its time and host', () => {
    const timeline = new TaskTimeline();
    timeline.push('task-received', T0 + 1, 'w1@h');
    timeline.push('task-started', T0 + 2, 'w1@h');
    timeline.push('task-succeeded', T0 + 3, 'w1@h');
    assert.deepEqual(timeline.steps(), [
      { type: 'task-received', timestamp: T0 + 1, hostname: 'w1@h' },
      { type: 'task-started', timestamp: T0 + 2, hostname: 'w1@h' },
      { type: 'task-succeeded', timestamp: T0 + 3, hostname: 'w1@h' },
    ]);
    assert.equal(timeline.omitted, 0);
  });

  it('is bounded: the first ones and the latest ones are kept, the ones between counted', () => {
    const timeline = new TaskTimeline();
    const total = 200;
    for (let n = 0; n < total; n++) timeline.push(KINDS[n % 3] as string, T0 + n, `w${n % 5}@h`);
    const steps = timeline.steps();
    assert.equal(steps.length, MAX_TIMELINE);
    assert.equal(timeline.omitted, total - MAX_TIMELINE);
    const kept = steps.map((s) => s.timestamp - T0);
    const expected = [...Array.from({ length: TIMELINE_HEAD }, (_, n) => n), ...Array.from({ length: MAX_TIMELINE - TIMELINE_HEAD }, (_, n) => total - (MAX_TIMELINE - TIMELINE_HEAD) + n)];
    assert.deepEqual(kept, expected, 'the head, then the latest in order');
    for (const step of steps) {
      const n = step.timestamp - T0;
      assert.deepEqual([step.type, step.hostname], [KINDS[n % 3], `w${n % 5}@h`], `entry ${n} kept whole`);
    }
  });

  it('merges a duplicate (same type, time and host) and keeps a late event where it arrived', () => {
    const timeline = new TaskTimeline();
    timeline.push('task-started', T0 + 2, 'w1@h');
    timeline.push('task-received', T0 + 1, 'w1@h'); // late: received after started
    timeline.push('task-started', T0 + 2, 'w1@h'); // delivered twice
    timeline.push('task-started', T0 + 2, 'w2@h'); // same time, another worker: a step of its own
    timeline.push('task-succeeded', T0 + 3, 'w2@h');
    assert.deepEqual(
      timeline.steps().map((s) => [s.type, s.timestamp - T0, s.hostname]),
      [
        ['task-started', 2, 'w1@h'],
        ['task-received', 1, 'w1@h'],
        ['task-started', 2, 'w2@h'],
        ['task-succeeded', 3, 'w2@h'],
      ],
    );
  });

  it('survives its stored form, omitted count and custom event types included', () => {
    const timeline = new TaskTimeline();
    for (let n = 0; n < 100; n++) timeline.push(n === 50 ? 'task-progress' : 'task-retried', T0 + n / 7, n % 5 === 0 ? null : 'w@h');
    timeline.push('custom-thing', T0 + 200, 'w@h');
    const back = TaskTimeline.fromStored(JSON.parse(JSON.stringify(timeline)));
    assert.deepEqual(back.steps(), timeline.steps());
    assert.equal(back.omitted, timeline.omitted);
  });

  it('ClusterState records each retry as its own steps, and the record keeps only the last times', () => {
    const state = new ClusterState({ maxTasks: 10, maxWorkers: 10 });
    state.apply(event('task-sent', T0, 'client@h', { name: 'tasks.flaky' }));
    for (let attempt = 0; attempt < 3; attempt++) {
      const at = T0 + attempt * 10;
      const host = `w${attempt}@h`;
      state.apply(event('task-received', at + 1, host, { retries: attempt }));
      state.apply(event('task-started', at + 2, host));
      if (attempt < 2) state.apply(event('task-retried', at + 3, host, { exception: "RuntimeError('again')" }));
    }
    state.apply(event('task-succeeded', T0 + 23, 'w2@h', { result: '1' }));
    state.apply(event('task-succeeded', T0 + 23, 'w2@h', { result: '1' })); // redelivered
    const task = state.getTask('r');
    assert.ok(task);
    assert.equal(task.received, T0 + 21, 'the record itself keeps the last time of a kind');
    assert.deepEqual(
      task.timeline.steps().map((s) => `${s.type.slice(5)}@${s.timestamp - T0}@${s.hostname}`),
      ['sent@0@client@h', 'received@1@w0@h', 'started@2@w0@h', 'retried@3@w0@h', 'received@11@w1@h', 'started@12@w1@h', 'retried@13@w1@h', 'received@21@w2@h', 'started@22@w2@h', 'succeeded@23@w2@h'],
    );
  });

  // Last: it fills the process-wide tables, which the tests above need empty.
  it('a flood of made-up types and hostnames does not grow the process-wide tables without bound', () => {
    const timeline = new TaskTimeline();
    for (let n = 0; n < 70_000; n++) timeline.push(`task-made-up-${n % 2_000}`, T0 + n, `host-${n}`);
    const last = timeline.steps().at(-1);
    assert.deepEqual(last, { type: OTHER_TYPE, timestamp: T0 + 69_999, hostname: null }, 'past the caps: the fallback type, no hostname');
    const first = timeline.steps()[0];
    assert.deepEqual(first, { type: 'task-made-up-0', timestamp: T0, hostname: 'host-0' });
  });
});
