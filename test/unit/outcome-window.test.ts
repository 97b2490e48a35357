import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutcomeWindow, RUNTIME_SAMPLES_PER_BUCKET } from '../../server/views/outcome-window';

const T0 = 1_795_000_000;

describe("OutcomeWindow: the overview's last five minutes", () => {
  it('counts finished and failed tasks, names and exceptions, with exact percentiles on small data', () => {
    const w = new OutcomeWindow(300, 10);
    for (let i = 1; i <= 100; i++) w.add(T0 + i, 'tasks.add', null, i / 100);
    w.add(T0 + 5, 'tasks.fail', 'ValueError', null);
    w.add(T0 + 6, 'tasks.fail', 'ValueError', null);
    w.add(T0 + 7, 'tasks.other', 'KeyError', null);
    const s = w.summary(T0 + 101);
    assert.equal(s.finished, 103);
    assert.equal(s.failed, 3);
    assert.deepEqual(s.runtime, { p50: 0.51, p95: 0.96, p99: 1, count: 100 });
    assert.deepEqual(s.topFailing, [
      { name: 'tasks.fail', count: 2 },
      { name: 'tasks.other', count: 1 },
    ]);
    assert.deepEqual(s.topExceptions, [
      { exception: 'ValueError', count: 2 },
      { exception: 'KeyError', count: 1 },
    ]);
  });

  it('forgets what finished before the window', () => {
    const w = new OutcomeWindow(300, 10);
    w.add(T0, 'tasks.fail', 'ValueError', null);
    w.add(T0 + 200, 'tasks.add', null, 0.5);
    assert.equal(w.summary(T0 + 250).finished, 2);
    const later = w.summary(T0 + 320);
    assert.equal(later.finished, 1);
    assert.deepEqual(later.topFailing, []);
    assert.equal(w.summary(T0 + 1_000).runtime.p50, null);
  });

  it('keeps a bounded sample per bucket at high rates, and its percentiles stay close', () => {
    const w = new OutcomeWindow(300, 10);
    const perBucket = RUNTIME_SAMPLES_PER_BUCKET * 20;
    // 30 buckets of uniform runtimes in [0, 1): 600,000 tasks.
    for (let b = 0; b < 30; b++) for (let i = 0; i < perBucket; i++) w.add(T0 + b * 10 + (i % 10), 'tasks.add', null, ((i * 7919) % perBucket) / perBucket);
    const s = w.summary(T0 + 299);
    assert.equal(s.runtime.count, 30 * perBucket, 'the count is exact');
    assert.ok(Math.abs((s.runtime.p50 as number) - 0.5) < 0.02, `p50 ${s.runtime.p50}`);
    assert.ok(Math.abs((s.runtime.p95 as number) - 0.95) < 0.01, `p95 ${s.runtime.p95}`);
  });

  it('bounds distinct failing names per bucket', () => {
    const w = new OutcomeWindow(300, 10);
    for (let i = 0; i < 50_000; i++) w.add(T0, `tasks.unique${i}`, 'ValueError', null);
    const s = w.summary(T0 + 1);
    assert.equal(s.failed, 50_000);
    assert.equal(s.topFailing.length, 10);
  });
});
