/**
 * The Trends API's answers (GET /api/celeriac/trends, /api/celeriac/queues/history), as the
 * server sends them and the Trends page reads them. Durations are seconds; times epoch seconds.
 */

import type { QueueResolution, TrendResolution } from '../store/trends';

export const TREND_RANGES = ['1h', '24h', '7d', '30d'] as const;
export type TrendRange = (typeof TREND_RANGES)[number];

export type { QueueResolution, TrendResolution };

/**
 * What each range reads, `step` seconds per point: the task aggregates' table whose rows are one
 * step long (so no range reads more than 168 rows per task name and queue), and the queue
 * lengths' table.
 */
export const TREND_RANGE_SPECS: Readonly<Record<TrendRange, { seconds: number; step: number; resolution: TrendResolution; queueResolution: QueueResolution }>> = {
  '1h': { seconds: 3_600, step: 60, resolution: 'minute', queueResolution: 'minute' },
  '24h': { seconds: 86_400, step: 900, resolution: 'quarter', queueResolution: 'minute' },
  '7d': { seconds: 7 * 86_400, step: 3_600, resolution: 'hour', queueResolution: 'hour' },
  '30d': { seconds: 30 * 86_400, step: 21_600, resolution: 'six_hours', queueResolution: 'hour' },
};

/** Percentiles from the merged histogram (within ~4.4 % of exact), with the count and the exact mean. */
export interface DurationSummary {
  count: number;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface TrendTotals {
  received: number;
  started: number;
  succeeded: number;
  failed: number;
  retried: number;
  revoked: number;
  rejected: number;
  /** succeeded + failed + revoked + rejected (a retry is not an end). */
  finished: number;
  /** failed / (succeeded + failed), null when neither happened. */
  failureRatio: number | null;
  /** Succeeded tasks' runtime (Celery's), failed tasks' time from start to failure. */
  runtime: DurationSummary;
  /** Queue wait: started − received (or − sent when no task-received was seen). */
  wait: DurationSummary;
}

/** One step of a series, starting at `t`. */
export interface TrendPoint extends TrendTotals {
  t: number;
}

/** One task name over the range (the slowest and most failing tables). */
export interface TrendNameSummary {
  name: string;
  finished: number;
  succeeded: number;
  failed: number;
  retried: number;
  failureRatio: number | null;
  runtime: DurationSummary;
}

export interface TrendPeriod {
  from: number;
  to: number;
  series: TrendPoint[];
  totals: TrendTotals;
}

export interface TrendsView extends TrendPeriod {
  range: TrendRange;
  step: number;
  resolution: TrendResolution;
  name: string | null;
  queue: string | null;
  /** The period before, as long, for comparison (its points are `seconds` earlier than this period's). */
  previous: TrendPeriod;
  /** Every task name in the range (with the queue filter, not the name filter), most finished first. */
  names: TrendNameSummary[];
  /**
   * With `--store memory`: trends are only what this process has seen, for this many seconds
   * (null when the store keeps them).
   */
  memoryOnlySeconds: number | null;
}

export interface QueueHistoryView {
  range: TrendRange;
  from: number;
  to: number;
  step: number;
  resolution: QueueResolution;
  queue: string | null;
  /** Per step, per queue: the largest and the last length polled in it (steps without polls are absent). */
  points: { t: number; queues: Record<string, { max: number; last: number }> }[];
  memoryOnlySeconds: number | null;
}
