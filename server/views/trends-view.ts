/**
 * The Trends answers built from the stored aggregates (server/store/trends.ts): series with every
 * step present (empty ones zero, so charts have a continuous axis), the previous period for
 * comparison, and per-task-name summaries. Percentiles are read from merged histogram buckets.
 */
import { RequestError } from '../errors';
import { percentiles } from '../store/trend-histogram';
import type { QueueHistoryPoint, QueueHistoryQuery, TrendBucket, TrendNameRow, TrendQuery, TrendsStatus } from '../store/trends';
import {
  TREND_RANGE_SPECS,
  type DurationSummary,
  type QueueHistoryView,
  type TrendNameSummary,
  type TrendPeriod,
  type TrendPoint,
  type TrendRange,
  type TrendTotals,
  type TrendsView,
} from './trend-types';

/** What the read model reads of the trend aggregates. */
export interface TrendSource {
  series(query: TrendQuery): Promise<TrendBucket[]>;
  byName(query: TrendQuery): Promise<TrendNameRow[]>;
  queueHistory(query: QueueHistoryQuery): Promise<QueueHistoryPoint[]>;
  status(): Pick<TrendsStatus, 'memoryOnlySeconds'>;
}

export interface TrendsRequest {
  range: TrendRange;
  name: string | null;
  queue: string | null;
}

/** Task names listed at most (most finished first). */
const MAX_NAMES = 500;

function duration(counts: ReadonlyMap<number, number>, count: number, sum: number): DurationSummary {
  return { count, mean: count > 0 ? sum / count : null, ...percentiles(counts) };
}

function ratio(failed: number, succeeded: number): number | null {
  return failed + succeeded > 0 ? failed / (failed + succeeded) : null;
}

function totalsOf(bucket: TrendBucket): TrendTotals {
  return {
    received: bucket.received,
    started: bucket.started,
    succeeded: bucket.succeeded,
    failed: bucket.failed,
    retried: bucket.retried,
    revoked: bucket.revoked,
    rejected: bucket.rejected,
    finished: bucket.succeeded + bucket.failed + bucket.revoked + bucket.rejected,
    failureRatio: ratio(bucket.failed, bucket.succeeded),
    runtime: duration(bucket.runtime, bucket.runtimeCount, bucket.runtimeSum),
    wait: duration(bucket.wait, bucket.waitCount, bucket.waitSum),
  };
}

function emptyBucket(t: number): TrendBucket {
  return { t, received: 0, started: 0, succeeded: 0, failed: 0, retried: 0, revoked: 0, rejected: 0, runtimeCount: 0, runtimeSum: 0, waitCount: 0, waitSum: 0, runtime: new Map(), wait: new Map() };
}

function addInto(into: TrendBucket, bucket: TrendBucket): void {
  into.received += bucket.received;
  into.started += bucket.started;
  into.succeeded += bucket.succeeded;
  into.failed += bucket.failed;
  into.retried += bucket.retried;
  into.revoked += bucket.revoked;
  into.rejected += bucket.rejected;
  into.runtimeCount += bucket.runtimeCount;
  into.runtimeSum += bucket.runtimeSum;
  into.waitCount += bucket.waitCount;
  into.waitSum += bucket.waitSum;
  for (const [b, count] of bucket.runtime) into.runtime.set(b, (into.runtime.get(b) ?? 0) + count);
  for (const [b, count] of bucket.wait) into.wait.set(b, (into.wait.get(b) ?? 0) + count);
}

/** Reads fail when the store does (a database gone away): said as a 503, not a 500. */
async function fromStore<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new RequestError(503, `The store cannot answer trends right now: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** [from, to) of a range ending with the step that holds `now`. */
function window(range: TrendRange, now: number): { from: number; to: number } {
  const spec = TREND_RANGE_SPECS[range];
  const to = Math.floor(now / spec.step) * spec.step + spec.step;
  return { from: to - spec.seconds, to };
}

async function period(source: TrendSource, query: TrendQuery): Promise<TrendPeriod> {
  const buckets = await fromStore(() => source.series(query));
  const byT = new Map(buckets.map((b) => [b.t, b]));
  const all = emptyBucket(query.from);
  const series: TrendPoint[] = [];
  for (let t = query.from; t < query.to; t += query.step) {
    const bucket = byT.get(t) ?? emptyBucket(t);
    addInto(all, bucket);
    series.push({ t, ...totalsOf(bucket) });
  }
  return { from: query.from, to: query.to, series, totals: totalsOf(all) };
}

function nameSummary(row: TrendNameRow): TrendNameSummary {
  return {
    name: row.name,
    finished: row.succeeded + row.failed + row.revoked + row.rejected,
    succeeded: row.succeeded,
    failed: row.failed,
    retried: row.retried,
    failureRatio: ratio(row.failed, row.succeeded),
    runtime: duration(row.runtime, row.runtimeCount, row.runtimeSum),
  };
}

export async function trendsView(source: TrendSource, request: TrendsRequest, now: number): Promise<TrendsView> {
  const spec = TREND_RANGE_SPECS[request.range];
  const { from, to } = window(request.range, now);
  const query: TrendQuery = { from, to, step: spec.step, resolution: spec.resolution, name: request.name, queue: request.queue };
  const current = await period(source, query);
  const previous = await period(source, { ...query, from: from - spec.seconds, to: from });
  const rows = await fromStore(() => source.byName(query));
  const names = rows
    .map(nameSummary)
    .sort((a, b) => b.finished - a.finished || a.name.localeCompare(b.name))
    .slice(0, MAX_NAMES);
  return {
    range: request.range,
    step: spec.step,
    resolution: spec.resolution,
    name: request.name,
    queue: request.queue,
    ...current,
    previous,
    names,
    memoryOnlySeconds: source.status().memoryOnlySeconds,
  };
}

export async function queueHistoryView(source: TrendSource, request: { range: TrendRange; queue: string | null }, now: number): Promise<QueueHistoryView> {
  const spec = TREND_RANGE_SPECS[request.range];
  const { from, to } = window(request.range, now);
  const points = await fromStore(() => source.queueHistory({ from, to, step: spec.step, resolution: spec.queueResolution, queue: request.queue }));
  return { range: request.range, from, to, step: spec.step, resolution: spec.queueResolution, queue: request.queue, points, memoryOnlySeconds: source.status().memoryOnlySeconds };
}
