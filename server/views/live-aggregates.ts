/**
 * The overview's and queues page's aggregates over time, kept incrementally from the state's
 * change feed (the composition root, server/wiring.ts, feeds them) so a snapshot is cheap
 * whatever the event rate: 10-second throughput buckets, recent outcomes, queue-length history.
 */
import type { TaskEvent } from '../protocol/events';
import { exceptionClass } from '../protocol/python/exception';
import type { TaskRecord } from '../state/task-record';
import { OutcomeWindow, type OutcomeSummary } from './outcome-window';
import type { QueuesSnapshot, ThroughputPoint } from './types';

const BUCKET_SECONDS = 10;
const THROUGHPUT_BUCKETS = 90; // 15 minutes
const RECENT_SECONDS = 300;
const QUEUE_HISTORY_SECONDS = 1_800;

export class LiveAggregates {
  private readonly buckets: ThroughputPoint[] = [];
  private readonly outcomes = new OutcomeWindow(RECENT_SECONDS, BUCKET_SECONDS);
  private readonly queueHistory: QueuesSnapshot['history'] = [];
  /** Bumped on every task or worker change, so the hub knows when the overview changed. */
  version = 0;

  taskChanged(task: TaskRecord, event: TaskEvent): void {
    this.version++;
    this.count(event);
    if (event.type === 'task-succeeded' || event.type === 'task-failed') {
      this.outcomes.add(event.localReceived, task.name ?? '', event.type === 'task-failed' ? exceptionClass(task.exception) : null, event.runtime ?? null);
    }
  }

  workerChanged(): void {
    this.version++;
  }

  /** One queue poll's lengths (the queues page's chart). */
  queuesPolled(at: number, lengths: Record<string, number>): void {
    this.queueHistory.push({ t: at, lengths });
    const cutoff = at - QUEUE_HISTORY_SECONDS;
    while (this.queueHistory.length > 0 && (this.queueHistory[0] as { t: number }).t < cutoff) this.queueHistory.shift();
  }

  private count(event: TaskEvent): void {
    const start = Math.floor(event.localReceived / BUCKET_SECONDS) * BUCKET_SECONDS;
    let bucket = this.buckets[this.buckets.length - 1];
    if (!bucket || bucket.t !== start) {
      if (bucket && start < bucket.t) return; // out-of-order receive time: ignore for the chart
      bucket = emptyPoint(start);
      this.buckets.push(bucket);
      if (this.buckets.length > THROUGHPUT_BUCKETS) this.buckets.shift();
    }
    switch (event.type) {
      case 'task-received':
        bucket.received++;
        break;
      case 'task-succeeded':
        bucket.succeeded++;
        break;
      case 'task-failed':
        bucket.failed++;
        break;
      case 'task-retried':
        bucket.retried++;
        break;
      case 'task-revoked':
        bucket.revoked++;
        break;
      default:
        break;
    }
  }

  /** The last 15 minutes of throughput, empty buckets filled so the chart's axis is continuous. */
  throughput(now: number): ThroughputPoint[] {
    const lastStart = Math.floor(now / BUCKET_SECONDS) * BUCKET_SECONDS;
    const byStart = new Map(this.buckets.map((b) => [b.t, b]));
    const points: ThroughputPoint[] = [];
    for (let t = lastStart - (THROUGHPUT_BUCKETS - 1) * BUCKET_SECONDS; t <= lastStart; t += BUCKET_SECONDS) {
      points.push(byStart.get(t) ?? emptyPoint(t));
    }
    return points;
  }

  /** Outcomes of the last 5 minutes. */
  recentOutcomes(now: number): OutcomeSummary {
    return this.outcomes.summary(now);
  }

  queueLengthHistory(): QueuesSnapshot['history'] {
    return [...this.queueHistory];
  }
}

function emptyPoint(t: number): ThroughputPoint {
  return { t, received: 0, succeeded: 0, failed: 0, retried: 0, revoked: 0 };
}
