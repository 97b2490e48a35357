/**
 * Trend aggregates (server/store/trends.ts, server/store/trend-histogram.ts): bucketing and
 * percentiles against the exact percentiles of known samples, histograms that merge by addition,
 * and transitions counted once through the real ClusterState (duplicates and late events too).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { TaskEvent } from '../../server/protocol/events';
import { ClusterState } from '../../server/state/cluster-state';
import { bucketBounds, bucketOf, HISTOGRAM_BUCKETS, percentile } from '../../server/store/trend-histogram';
import { migrate } from '../../server/store/migrate';
import { MIGRATIONS } from '../../server/store/schema';
import { SqliteDatabase } from '../../server/store/sqlite';
import { Trends } from '../../server/store/trends';

const T0 = 1_795_000_020; // 20 s into a minute
const MINUTE = Math.floor(T0 / 60) * 60;
const logger = pino({ level: 'silent' });

/** The exact nearest-rank q-quantile of `samples`. */
function exact(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] as number;
}

function histogram(samples: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const s of samples) counts.set(bucketOf(s), (counts.get(bucketOf(s)) ?? 0) + 1);
  return counts;
}

/** A deterministic pseudo-random generator (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('trend histograms', () => {
  it('puts every value in the bucket whose bounds hold it', () => {
    const next = random(1);
    for (let i = 0; i < 10_000; i++) {
      const value = 10 ** (next() * 9 - 4); // 0.1 ms … 100,000 s
      const bucket = bucketOf(value);
      const [lower, upper] = bucketBounds(bucket);
      assert.ok(bucket >= 0 && bucket < HISTOGRAM_BUCKETS);
      assert.ok(value >= lower && value < upper, `${value} in bucket ${bucket} [${lower}, ${upper})`);
    }
    assert.equal(bucketOf(-1), 0);
    assert.equal(bucketOf(Number.NaN), 0);
    assert.equal(bucketOf(1e12), HISTOGRAM_BUCKETS - 1);
  });

  it('answers p50, p95 and p99 within 4.5 % of the exact percentiles', () => {
    const next = random(7);
    const shapes: Record<string, () => number> = {
      uniform: () => 0.05 + next() * 2,
      lognormal: () => Math.exp(Math.sqrt(-2 * Math.log(next() || 1e-9)) * Math.cos(2 * Math.PI * next()) * 1.2 - 1),
      bimodal: () => (next() < 0.9 ? 0.02 + next() * 0.01 : 30 + next() * 10),
    };
    for (const [shape, draw] of Object.entries(shapes)) {
      const samples = Array.from({ length: 5_000 }, draw);
      const counts = histogram(samples);
      for (const q of [0.5, 0.95, 0.99]) {
        const want = exact(samples, q);
        const got = percentile(counts, q) as number;
        assert.ok(Math.abs(got - want) / want <= 0.045, `${shape} p${q * 100}: ${got} vs exact ${want}`);
      }
    }
  });

  it('merges by addition: the merged buckets are the buckets of all samples', () => {
    const next = random(3);
    const a = Array.from({ length: 1_000 }, () => next() * 5);
    const b = Array.from({ length: 3_000 }, () => 2 + next() * 50);
    const merged = histogram(a);
    for (const [bucket, count] of histogram(b)) merged.set(bucket, (merged.get(bucket) ?? 0) + count);
    assert.deepEqual(
      [...merged].sort((x, y) => x[0] - y[0]),
      [...histogram([...a, ...b])].sort((x, y) => x[0] - y[0]),
    );
    for (const q of [0.5, 0.95, 0.99]) assert.equal(percentile(merged, q), percentile(histogram([...a, ...b]), q));
    assert.equal(percentile(new Map(), 0.5), null);
  });
});

function event(type: string, uuid: string, at: number, fields: Partial<TaskEvent> = {}): TaskEvent {
  return { kind: 'task', type, uuid, hostname: 'w1@h', timestamp: at, localReceived: at, clock: 1, utcoffset: 0, pid: 1, ...fields };
}

async function fed(events: readonly TaskEvent[]): Promise<Trends> {
  const trends = await Trends.inMemory(logger, { now: () => T0 + 60 });
  const state = new ClusterState({ maxTasks: 1_000, maxWorkers: 10 });
  state.addListener({ taskChanged: (task, e, previousState) => trends.taskChanged(task, e, previousState) });
  for (const e of events) state.apply(e);
  return trends;
}

describe('trend transitions', () => {
  const query = { from: MINUTE, to: MINUTE + 60, step: 60, resolution: 'minute' as const, name: null, queue: null };

  it('counts each transition once, whatever duplicates and late events arrive', async () => {
    const trends = await fed([
      event('task-received', 'a', T0, { name: 'tasks.add', retries: 0 }),
      event('task-received', 'a', T0, { name: 'tasks.add', retries: 0 }), // duplicate
      event('task-started', 'a', T0 + 2),
      event('task-succeeded', 'a', T0 + 3, { runtime: 0.75 }),
      event('task-succeeded', 'a', T0 + 3, { runtime: 0.75 }), // duplicate
      event('task-started', 'a', T0 + 2), // late duplicate: the task is already done
      // b fails; its task-received arrives after the failure (late): no transition
      event('task-started', 'b', T0 + 1, { name: 'tasks.fail' }),
      event('task-failed', 'b', T0 + 5, { exception: 'ValueError()' }),
      event('task-received', 'b', T0, { name: 'tasks.fail', retries: 0 }),
      event('task-failed', 'b', T0 + 5), // duplicate
      // c retries, then succeeds: RETRY is counted once per retry
      event('task-received', 'c', T0, { name: 'tasks.add', retries: 0 }),
      event('task-started', 'c', T0 + 1),
      event('task-retried', 'c', T0 + 2),
      event('task-retried', 'c', T0 + 2), // duplicate
      event('task-received', 'c', T0 + 3, { name: 'tasks.add', retries: 1 }),
      event('task-started', 'c', T0 + 4),
      event('task-succeeded', 'c', T0 + 5, { runtime: 1.5 }),
    ]);
    const [minute] = await trends.series(query);
    assert.ok(minute);
    assert.deepEqual(
      {
        received: minute.received,
        started: minute.started,
        succeeded: minute.succeeded,
        failed: minute.failed,
        retried: minute.retried,
        runtimeCount: minute.runtimeCount,
        waitCount: minute.waitCount,
      },
      { received: 3, started: 4, succeeded: 2, failed: 1, retried: 1, runtimeCount: 3, waitCount: 3 },
    );
    assert.equal(minute.runtimeSum, 0.75 + 1.5 + 4);
    // Waits: a 2 s, c 1 s then 1 s (b started with no receive time known: no wait).
    assert.equal(minute.waitSum, 4);
    const names = await trends.byName(query);
    assert.deepEqual(names.map((n) => [n.name, n.succeeded, n.failed]).sort(), [
      ['tasks.add', 2, 0],
      ['tasks.fail', 0, 1],
    ]);
    await trends.close();
  });

  it('adds two flushes of one minute, and inserted history with old timestamps, exactly', async () => {
    const trends = await fed([event('task-received', 'a', T0, { name: 'x' }), event('task-started', 'a', T0 + 1), event('task-succeeded', 'a', T0 + 2, { runtime: 1 })]);
    await trends.flush();
    const state = new ClusterState({ maxTasks: 10, maxWorkers: 10 });
    state.addListener({ taskChanged: (task, e, previousState) => trends.taskChanged(task, e, previousState) });
    state.apply(event('task-received', 'b', T0 + 10, { name: 'x' }));
    state.apply(event('task-started', 'b', T0 + 11));
    state.apply(event('task-succeeded', 'b', T0 + 12, { runtime: 1 }));
    await trends.insert([{ at: T0 + 30, name: 'x', succeeded: 3, runtimes: [1, 1, 1] }]);
    const [minute] = await trends.series(query);
    assert.equal(minute?.succeeded, 5);
    assert.equal(minute?.runtimeCount, 5);
    assert.deepEqual([...(minute?.runtime ?? [])], [[bucketOf(1), 5]]);
    const [hour] = await trends.series({ ...query, from: Math.floor(T0 / 3600) * 3600, to: Math.floor(T0 / 3600) * 3600 + 3600, step: 3600, resolution: 'hour' });
    assert.equal(hour?.succeeded, 5);
    await trends.close();
  });

  it('every resolution sums the same minutes: a day read by minutes, quarters, hours and six hours agrees', async () => {
    const day = Math.floor(T0 / 86_400) * 86_400;
    // The in-memory trends keep 24 hours: "now" is the day's last second.
    const trends = await Trends.inMemory(logger, { now: () => day + 86_399 });
    // A task a minute or so for a day, runtimes spread over the histogram, two names.
    const samples = Array.from({ length: 1_500 }, (_, n) => ({
      at: day + n * 57.6,
      name: n % 3 === 0 ? 'x' : 'y',
      succeeded: 1,
      failed: n % 10 === 0 ? 1 : 0,
      runtimes: [0.01 * (1 + (n % 97))],
      waits: [0.001 * (n % 13)],
    }));
    await trends.insert(samples);
    const read = async (resolution: 'minute' | 'quarter' | 'hour' | 'six_hours', step: number) => {
      const buckets = await trends.series({ from: day, to: day + 86_400, step, resolution, name: null, queue: null });
      const runtime = new Map<number, number>();
      let succeeded = 0;
      let failed = 0;
      for (const b of buckets) {
        succeeded += b.succeeded;
        failed += b.failed;
        for (const [bucket, count] of b.runtime) runtime.set(bucket, (runtime.get(bucket) ?? 0) + count);
      }
      const names = (await trends.byName({ from: day, to: day + 86_400, step, resolution, name: null, queue: null })).map((r) => [r.name, r.succeeded, [...r.runtime].sort((a, b) => a[0] - b[0])]);
      return { points: buckets.length, succeeded, failed, runtime: [...runtime].sort((a, b) => a[0] - b[0]), names: names.sort() };
    };
    const minutes = await read('minute', 60);
    assert.equal(minutes.succeeded, 1_500);
    assert.equal(minutes.failed, 150);
    for (const [resolution, step, points] of [
      ['quarter', 900, 96],
      ['hour', 3_600, 24],
      ['six_hours', 21_600, 4],
    ] as const) {
      const coarse = await read(resolution, step);
      assert.equal(coarse.points, points, resolution);
      assert.deepEqual({ ...coarse, points: 0 }, { ...minutes, points: 0 }, resolution);
    }
    await trends.close();
  });

  it('keeps what a failing store did not take, bounded, and writes it once the store is back', async () => {
    // A real database without the trend tables: every write fails until they exist.
    const db = new SqliteDatabase(':memory:');
    const trends = new Trends(db, logger, { maxPendingCells: 3 });
    const samples = [0, 1, 2, 3, 4].map((n) => ({ at: MINUTE + n * 60, name: 'x', succeeded: 1 }));
    await assert.rejects(trends.insert(samples), /trends not written/);
    const status = trends.status();
    assert.deepEqual([status.pending, status.dropped, status.failures], [3, 2, 1]);
    await migrate(db, MIGRATIONS);
    await trends.flush();
    assert.deepEqual([trends.status().pending, trends.status().lastError], [0, null]);
    const minutes = await trends.series({ ...query, from: MINUTE, to: MINUTE + 300 });
    // The two oldest minutes were dropped; the three kept are written once each.
    assert.deepEqual(
      minutes.map((m) => [m.t - MINUTE, m.succeeded]),
      [
        [120, 1],
        [180, 1],
        [240, 1],
      ],
    );
    await trends.stop();
    db.close();
  });
});
