/**
 * The data behind the live views (overview, queues, task, events), kept incrementally from the
 * state's change feed so building a snapshot is cheap whatever the event rate.
 */
import type { Monitor } from '../monitor';
import type { TaskEvent, WorkerEvent } from '../protocol/events';
import { exceptionClass } from '../protocol/python/exception';
import { OutcomeWindow } from './outcome-window';
import type { EventLine, OverviewSnapshot, QueuesSnapshot, StreamStatus, ThroughputPoint } from './types';

const BUCKET_SECONDS = 10;
const THROUGHPUT_BUCKETS = 90; // 15 minutes
const RECENT_SECONDS = 300;
const QUEUE_HISTORY_SECONDS = 1_800;
const EVENT_TAIL = 1_000;


export class ViewData {
  private readonly buckets: ThroughputPoint[] = [];
  private readonly outcomes = new OutcomeWindow(RECENT_SECONDS, BUCKET_SECONDS);
  private readonly queueHistory: QueuesSnapshot['history'] = [];
  /** Ring buffer of the last EVENT_TAIL events; lines are rendered only when a client asks. */
  private readonly tail: ({ seq: number; event: TaskEvent | WorkerEvent; name: string | null } | undefined)[] = new Array(EVENT_TAIL);
  private seq = 0;
  /** Bumped on every event, so the hub knows when the overview changed. */
  version = 0;

  constructor(private readonly monitor: Monitor) {
    monitor.state.addListener({
      taskChanged: (task, event) => {
        this.version++;
        this.count(event);
        if (event.type === 'task-succeeded' || event.type === 'task-failed') {
          this.outcomes.add(event.localReceived, task.name ?? '', event.type === 'task-failed' ? exceptionClass(task.exception) : null, event.runtime ?? null);
        }
      },
      workerChanged: () => {
        this.version++;
      },
      eventApplied: (event) => this.pushLine(event, event.kind === 'task' ? (monitor.state.getTask(event.uuid)?.name ?? null) : null),
    });
    monitor.queueMonitor.onUpdate((snapshot) => {
      if (snapshot.updatedAt === null) return;
      this.queueHistory.push({ t: snapshot.updatedAt, lengths: Object.fromEntries(snapshot.queues.map((q) => [q.name, q.messages])) });
      const cutoff = snapshot.updatedAt - QUEUE_HISTORY_SECONDS;
      while (this.queueHistory.length > 0 && (this.queueHistory[0] as { t: number }).t < cutoff) this.queueHistory.shift();
    });
  }

  private count(event: TaskEvent): void {
    const start = Math.floor(event.localReceived / BUCKET_SECONDS) * BUCKET_SECONDS;
    let bucket = this.buckets[this.buckets.length - 1];
    if (!bucket || bucket.t !== start) {
      if (bucket && start < bucket.t) return; // out-of-order receive time: ignore for the chart
      bucket = { t: start, received: 0, succeeded: 0, failed: 0, retried: 0, revoked: 0 };
      this.buckets.push(bucket);
      if (this.buckets.length > THROUGHPUT_BUCKETS) this.buckets.shift();
    }
    switch (event.type) {
      case 'task-received': bucket.received++; break;
      case 'task-succeeded': bucket.succeeded++; break;
      case 'task-failed': bucket.failed++; break;
      case 'task-retried': bucket.retried++; break;
      case 'task-revoked': bucket.revoked++; break;
      default: break;
    }
  }

  /** Hot path: remember the event itself (already allocated); no formatting here. */
  private pushLine(event: TaskEvent | WorkerEvent, name: string | null): void {
    const seq = ++this.seq;
    this.tail[seq % EVENT_TAIL] = { seq, event, name };
  }

  /** Event lines after `seq`, at most `limit` (the newest ones when there are more). */
  eventsAfter(seq: number, limit: number): { events: EventLine[]; skipped: number } {
    const newest = this.seq;
    if (newest <= seq) return { events: [], skipped: 0 };
    const oldestKept = Math.max(1, newest - EVENT_TAIL + 1);
    const from = Math.max(seq + 1, oldestKept, newest - limit + 1);
    const skipped = from - (seq + 1);
    const events: EventLine[] = [];
    for (let n = from; n <= newest; n++) {
      const entry = this.tail[n % EVENT_TAIL];
      if (!entry || entry.seq !== n) continue;
      const { event, name } = entry;
      events.push({
        seq: n,
        localReceived: event.localReceived,
        timestamp: event.timestamp,
        type: event.type,
        hostname: event.hostname,
        uuid: event.kind === 'task' ? event.uuid : null,
        name: event.kind === 'task' ? (event.name ?? name) : null,
        summary: summarize(event),
      });
    }
    return { events, skipped };
  }

  get lastSeq(): number {
    return this.seq;
  }

  overview(stream: StreamStatus): OverviewSnapshot {
    const now = Date.now() / 1000;
    let online = 0;
    let offline = 0;
    let activeTasks = 0;
    for (const worker of this.monitor.state.workers.values()) {
      if (worker.isAlive(now)) {
        online++;
        activeTasks += worker.active;
      } else {
        offline++;
      }
    }
    const recent = this.outcomes.summary(now);
    // Fill empty buckets so the chart's time axis is continuous.
    const lastStart = Math.floor(now / BUCKET_SECONDS) * BUCKET_SECONDS;
    const byStart = new Map(this.buckets.map((b) => [b.t, b]));
    const throughput: ThroughputPoint[] = [];
    for (let t = lastStart - (THROUGHPUT_BUCKETS - 1) * BUCKET_SECONDS; t <= lastStart; t += BUCKET_SECONDS) {
      throughput.push(byStart.get(t) ?? { t, received: 0, succeeded: 0, failed: 0, retried: 0, revoked: 0 });
    }
    const snapshot = this.monitor.queueMonitor.snapshot();
    return {
      at: now,
      stream,
      workers: { online, offline },
      activeTasks,
      tasksRetained: this.monitor.state.tasks.size,
      queues: snapshot.queues.filter((q) => q.exists).map((q) => ({ name: q.name, messages: q.messages })),
      throughput,
      failureRatio: recent.finished === 0 ? null : recent.failed / recent.finished,
      runtime: recent.runtime,
      topFailing: recent.topFailing,
      topExceptions: recent.topExceptions,
    };
  }

  queues(readOnly: boolean): QueuesSnapshot {
    const snapshot = this.monitor.queueMonitor.snapshot();
    const paused = this.monitor.controls.pauseState().queues;
    return {
      at: Date.now() / 1000,
      updatedAt: snapshot.updatedAt,
      stale: snapshot.stale,
      error: snapshot.error,
      queues: snapshot.queues.map((q) => ({ ...q, sources: [...q.sources], paused: Boolean(paused[q.name]) })),
      history: [...this.queueHistory],
      readOnly,
    };
  }
}


function summarize(event: TaskEvent | WorkerEvent): string {
  if (event.kind === 'worker') {
    const parts = [`freq ${event.freq ?? '?'}`];
    if (event.active !== undefined) parts.push(`active ${event.active}`);
    if (event.processed !== undefined) parts.push(`processed ${event.processed}`);
    return parts.join(', ');
  }
  const parts: string[] = [];
  if (event.args !== undefined) parts.push(`args ${event.args}`);
  if (event.kwargs !== undefined && event.kwargs !== '{}') parts.push(`kwargs ${event.kwargs}`);
  if (event.result !== undefined) parts.push(`result ${event.result}`);
  if (event.runtime !== undefined) parts.push(`runtime ${event.runtime.toFixed(3)} s`);
  if (event.exception !== undefined) parts.push(event.exception);
  if (event.terminated) parts.push(`terminated (signal ${String(event.signum)})`);
  if (event.extra) parts.push(JSON.stringify(event.extra));
  const text = parts.join(' · ');
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}
