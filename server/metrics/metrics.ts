/**
 * Prometheus metrics (prom-client), answered from precomputed state: event counters and
 * histograms are updated as events arrive; gauges (workers, queues, Celeriac's health) are
 * computed from the model when scraped. A scrape never waits on the broker or on workers.
 *
 * Cardinality is bounded: every metric accepts at most --metrics-max-series label sets (the
 * rest are counted as dropped), worker hostnames can be collapsed (--metrics-worker-label for
 * per-worker metrics, --metrics-task-worker-label for per-task metrics, which multiply by task
 * names and so default to one "generic" value, as celery-exporter's
 * --generic-hostname-worker-task-metric does), and
 * a dead worker's series are removed only --metrics-worker-expiry seconds after it went quiet —
 * long after a worker-down alert's window, so the alert fires before its series disappear.
 */
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type OpenMetricsContentType, type RegistryContentType } from 'prom-client';
import type { Monitor } from '../monitor';
import type { TaskEvent } from '../protocol/events';
import { exceptionClass } from '../protocol/python/exception';
import type { TaskRecord } from '../state/task-record';
import { METRICS, type MetricFamily, type MetricSpec } from './catalogue';

export type WorkerLabelMode = 'full' | 'host' | 'generic';

export interface MetricsOptions {
  families: ReadonlySet<MetricFamily>;
  /** Worker label on per-worker metrics (online/up, active, heartbeat). */
  workerLabel: WorkerLabelMode;
  /** Worker label on per-task metrics (event counters, runtime/wait histograms, prefetch). */
  taskWorkerLabel: WorkerLabelMode;
  maxSeries: number;
  workerExpirySeconds: number;
  runtimeBuckets: number[];
  queueWaitBuckets: number[];
}

/** prometheus_client's default buckets, as Flower and celery-exporter use for runtimes. */
export const DEFAULT_RUNTIME_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** celery-exporter's queue-wait buckets. */
export const DEFAULT_QUEUE_WAIT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;
type Labels = Record<string, string>;

function openMetricsRegistry(): Registry<OpenMetricsContentType> {
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as OpenMetricsContentType);
  return registry;
}

const EVENT_TO_EXPORTER_COUNTER: ReadonlyMap<string, string> = new Map([
  ['task-sent', 'celery_task_sent_total'],
  ['task-received', 'celery_task_received_total'],
  ['task-started', 'celery_task_started_total'],
  ['task-succeeded', 'celery_task_succeeded_total'],
  ['task-failed', 'celery_task_failed_total'],
  ['task-rejected', 'celery_task_rejected_total'],
  ['task-revoked', 'celery_task_revoked_total'],
  ['task-retried', 'celery_task_retried_total'],
]);
/** Pre-created at zero on a worker's first event, as celery-exporter does, so ratios have both sides. */
const PREZEROED = ['celery_task_succeeded_total', 'celery_task_failed_total'];

/** prom-client default collectors Celeriac does not export (see the constructor). */
const LINT_FAILING_DEFAULT_METRICS = ['nodejs_active_resources_total', 'nodejs_active_handles_total', 'nodejs_active_requests_total'];

export class CeleriacMetrics {
  readonly registry = new Registry();
  readonly openMetricsRegistry = openMetricsRegistry();
  private readonly metrics = new Map<string, AnyMetric>();
  /** Label sets created per metric (for the cap) and per worker label (for expiry). */
  private readonly series = new Map<string, Set<string>>();
  private readonly seriesByWorker = new Map<string, { metric: string; labels: Labels; key: string }[]>();
  private readonly dropped = new Map<string, number>();
  /** Updates of series born since the last scrape, applied once they were exposed at zero. */
  private heldBack = new Map<string, HeldSeries>();
  private lastScrapeSeconds = 0;
  /** One scrape at a time: rendering OpenMetrics temporarily renames the shared counters. */
  private rendering: Promise<void> = Promise.resolve();

  constructor(private readonly monitor: Monitor, private readonly options: MetricsOptions) {
    let runtimeMetrics = false;
    for (const spec of METRICS) {
      if (!options.families.has(spec.family)) continue;
      if (spec.source === 'runtime') runtimeMetrics = true;
      else this.metrics.set(spec.name, this.create(spec));
    }
    // prom-client's default collectors, in each registry (the OpenMetrics one renames counters).
    if (runtimeMetrics) {
      for (const register of [this.registry, this.openMetricsRegistry]) {
        collectDefaultMetrics({ register });
        // Gauges named *_total fail `promtool check metrics`; the by-type gauges sum to the same.
        for (const name of LINT_FAILING_DEFAULT_METRICS) register.removeSingleMetric(name);
      }
    }
  }

  /**
   * Create zero-valued series for every task a worker registered, on every queue it consumes,
   * as soon as inspection tells us about them. Prometheus's increase()/rate() cannot count a
   * series' first value: a task that ran before its series was first scraped would be invisible
   * in every ratio and throughput panel (celery-exporter pre-zeroes for the same reason, but only
   * on a task's first event — usually too late, within the same scrape interval).
   */
  workerInspected(hostname: string): void {
    const names = this.monitor.inspector.registered(hostname);
    if (names.length === 0) return;
    const queues = this.monitor.inspector.activeQueues(hostname);
    const worker = this.taskWorkerLabel(hostname);
    for (const name of names) {
      // task-sent comes from clients: its series can be known ahead only when clients are collapsed.
      const senderKnown = this.options.taskWorkerLabel === 'generic';
      for (const type of EVENT_TO_EXPORTER_COUNTER.keys()) {
        if (type !== 'task-sent' || senderKnown) this.zeroSeries('flower_events_total', { worker, type, task: name }, worker);
      }
      this.zeroSeries('flower_task_runtime_seconds', { worker, task: name }, worker);
      for (const queue of queues.length > 0 ? queues : ['celery']) {
        const labels: Labels = { name, hostname: worker, queue_name: queue };
        for (const [type, counter] of EVENT_TO_EXPORTER_COUNTER) {
          if (type === 'task-sent' && !senderKnown) continue;
          this.zeroSeries(counter, type === 'task-failed' ? { ...labels, exception: '' } : labels, worker);
        }
        this.zeroSeries('celery_task_runtime', labels, worker);
        this.zeroSeries('celery_task_queue_wait_time', labels, worker);
      }
    }
  }

  get enabled(): boolean {
    return this.metrics.size > 0;
  }

  private create(spec: MetricSpec): AnyMetric {
    const registers: Registry<RegistryContentType>[] = [this.registry, this.openMetricsRegistry];
    const common = { name: spec.name, help: spec.help, labelNames: [...spec.labels], registers };
    const collect = this.collectorFor(spec.name);
    if (spec.type === 'counter') return new Counter({ ...common, ...(collect ? { collect } : {}) });
    if (spec.type === 'gauge') return new Gauge({ ...common, ...(collect ? { collect } : {}) });
    return new Histogram({ ...common, buckets: [...this.bucketsOf(spec.name)] });
  }

  private workerLabel(hostname: string, mode: WorkerLabelMode = this.options.workerLabel): string {
    if (mode === 'generic') return 'generic';
    if (mode === 'host') {
      const at = hostname.indexOf('@');
      return at === -1 ? hostname : hostname.slice(at + 1);
    }
    return hostname;
  }

  /** Per-task series multiply by workers: they have their own (default: generic) label mode. */
  private taskWorkerLabel(hostname: string): string {
    return this.workerLabel(hostname, this.options.taskWorkerLabel);
  }

  /**
   * Admit a label set under the cap; remember it for worker expiry. Returns 'new' for a label
   * set seen for the first time, 'known' for an existing one, null when the cap refuses it.
   */
  private admit(metric: string, labels: Labels, worker: string | null): 'new' | 'known' | null {
    const key = Object.values(labels).join('\u0000');
    let known = this.series.get(metric);
    if (!known) this.series.set(metric, (known = new Set()));
    if (known.has(key)) return 'known';
    if (known.size >= this.options.maxSeries) {
      this.dropped.set(metric, (this.dropped.get(metric) ?? 0) + 1);
      return null;
    }
    known.add(key);
    if (worker !== null) {
      let list = this.seriesByWorker.get(worker);
      if (!list) this.seriesByWorker.set(worker, (list = []));
      list.push({ metric, labels, key });
    }
    return 'new';
  }

  /**
   * Prometheus's increase()/rate() ignore a series' first value, so a series born with a count
   * hides that count from every rate and ratio. A new series is therefore first exposed at zero,
   * and what happened to it is applied right after the next scrape (one interval late, never
   * lost). Series Celeriac can foresee are pre-created at zero instead (see workerInspected()).
   *
   * What is held is a fixed-size aggregate per series (see HeldSeries), never one entry per
   * event: most users never scrape, and the held series must not grow while nobody does.
   */
  private heldSeries(name: string, labels: Labels): HeldSeries | undefined {
    return this.heldBack.get(seriesKey(name, labels));
  }

  private inc(name: string, labels: Labels, worker: string | null, value = 1): void {
    const metric = this.metrics.get(name);
    if (!(metric instanceof Counter)) return;
    const held = this.heldSeries(name, labels);
    if (held) {
      held.add(value);
      return;
    }
    const admitted = this.admit(name, labels, worker);
    if (admitted === 'known') metric.inc(labels, value);
    else if (admitted === 'new') this.hold(name, labels, new HeldCounter(metric, labels)).add(value);
  }

  private observe(name: string, labels: Labels, worker: string | null, value: number): void {
    const metric = this.metrics.get(name);
    if (!(metric instanceof Histogram)) return;
    const held = this.heldSeries(name, labels);
    if (held) {
      held.add(value);
      return;
    }
    const admitted = this.admit(name, labels, worker);
    if (admitted === 'known') metric.observe(labels, value);
    else if (admitted === 'new') this.hold(name, labels, new HeldHistogram(metric, labels, this.bucketsOf(name))).add(value);
  }

  /** Expose a new series at zero now and hold its updates until it was scraped once. */
  private hold(name: string, labels: Labels, held: HeldSeries): HeldSeries {
    held.exposeZero();
    this.heldBack.set(seriesKey(name, labels), held);
    return held;
  }

  private setGauge(name: string, labels: Labels, worker: string | null, value: number): void {
    const metric = this.metrics.get(name);
    if (metric instanceof Gauge && this.admit(name, labels, worker) !== null) metric.set(labels, value);
  }

  /** Create a series at zero now; like any new series, its updates wait until it was scraped once. */
  private zeroSeries(name: string, labels: Labels, worker: string | null): void {
    const metric = this.metrics.get(name);
    if (!metric || this.admit(name, labels, worker) !== 'new') return;
    if (metric instanceof Counter) this.hold(name, labels, new HeldCounter(metric, labels));
    else if (metric instanceof Histogram) this.hold(name, labels, new HeldHistogram(metric, labels, this.bucketsOf(name)));
  }

  private bucketsOf(name: string): readonly number[] {
    return name === 'celery_task_queue_wait_time' ? this.options.queueWaitBuckets : this.options.runtimeBuckets;
  }

  /** Series waiting for their first scrape, and the values they hold (for tests and the soak benchmark). */
  heldBackSize(): { series: number; values: number } {
    let values = 0;
    for (const held of this.heldBack.values()) values += held.size;
    return { series: this.heldBack.size, values };
  }

  /** Hot path: one task event. Only counters and histograms change here. */
  taskChanged(task: TaskRecord, event: TaskEvent): void {
    if (this.metrics.size === 0) return;
    const taskName = event.name ?? task.name ?? '';
    const worker = this.taskWorkerLabel(event.hostname);
    // Flower: every task event, worker = the event's hostname (the client for task-sent).
    this.inc('flower_events_total', { worker, type: event.type, task: taskName }, worker);
    if (event.runtime !== undefined && event.runtime > 0) this.observe('flower_task_runtime_seconds', { worker, task: taskName }, worker, event.runtime);
    if (event.type === 'task-started' && task.eta === null && task.received !== null && task.started !== null) {
      this.setGauge('flower_task_prefetch_time_seconds', { worker, task: taskName }, worker, Math.max(0, task.started - task.received));
    } else if (event.type === 'task-succeeded' || event.type === 'task-failed') {
      this.setGauge('flower_task_prefetch_time_seconds', { worker, task: taskName }, worker, 0);
    }

    const counter = EVENT_TO_EXPORTER_COUNTER.get(event.type);
    if (!counter) return;
    const labels: Labels = { name: taskName, hostname: worker, queue_name: task.queue ?? task.routingKey ?? 'celery' };
    if (event.type !== 'task-sent') {
      for (const zero of PREZEROED) {
        if (zero !== counter) this.zeroSeries(zero, zero === 'celery_task_failed_total' ? { ...labels, exception: '' } : labels, worker);
      }
    }
    this.inc(counter, event.type === 'task-failed' ? { ...labels, exception: exceptionClass(task.exception) } : labels, worker);
    if (event.type === 'task-succeeded' && event.runtime !== undefined) this.observe('celery_task_runtime', labels, worker, event.runtime);
    if (event.type === 'task-started' && task.sent !== null && task.started !== null) {
      const eta = task.eta === null ? Number.NaN : Date.parse(task.eta) / 1000;
      const from = Number.isFinite(eta) ? Math.max(task.sent, eta) : task.sent;
      this.observe('celery_task_queue_wait_time', labels, worker, Math.max(0, task.started - from));
    }
  }

  /** Scrape-time values for gauges derived from the model, and counters kept elsewhere. */
  private collectorFor(name: string): (() => void) | null {
    const monitor = this.monitor;
    const gauge = (fn: (metric: Gauge<string>) => void) => function collect(this: Gauge<string>): void {
      fn(this);
    };
    const counter = (fn: (metric: Counter<string>) => void) => function collect(this: Counter<string>): void {
      fn(this);
    };
    switch (name) {
      case 'flower_worker_online':
      case 'flower_worker_number_of_currently_executing_tasks':
      case 'celery_worker_up':
      case 'celery_worker_tasks_active':
      case 'celery_worker_last_heartbeat_timestamp':
        return gauge((metric) => this.collectWorkers(name, metric));
      case 'flower_worker_prefetched_tasks':
        return gauge((metric) => {
          metric.reset();
          // Received and not started, without an ETA: computed from the model, so it never drifts.
          // Every task a live worker registered is listed, at 0 when nothing waits.
          const counts = new Map<string, { worker: string; task: string; n: number }>();
          const now = Date.now() / 1000;
          for (const w of monitor.state.workers.values()) {
            if (!w.isAlive(now)) continue;
            const worker = this.taskWorkerLabel(w.hostname);
            for (const task of monitor.inspector.registered(w.hostname)) counts.set(`${worker}\u0000${task}`, { worker, task, n: 0 });
          }
          for (const task of monitor.state.tasks.values()) {
            if (task.state !== 'RECEIVED' || task.eta !== null || task.worker === null) continue;
            const worker = this.taskWorkerLabel(task.worker);
            const key = `${worker}\u0000${task.name ?? ''}`;
            const entry = counts.get(key) ?? { worker, task: task.name ?? '', n: 0 };
            entry.n++;
            counts.set(key, entry);
          }
          for (const { worker, task, n } of counts.values()) metric.set({ worker, task }, n);
        });
      case 'celery_queue_length':
      case 'celery_queue_length_by_priority':
      case 'celery_queue_oldest_message_age_seconds':
      case 'celery_active_consumer_count':
      case 'celery_active_worker_count':
        return gauge((metric) => this.collectQueues(name, metric));
      case 'celeriac_events_received_total':
        return counter((metric) => {
          metric.reset();
          for (const [type, count] of monitor.ingest.counters.byType) metric.inc({ type }, count);
        });
      case 'celeriac_events_dropped_total':
        return counter((metric) => {
          metric.reset();
          for (const [reason, count] of Object.entries(monitor.ingest.counters.dropped)) metric.inc({ reason }, count);
        });
      case 'celeriac_broker_connected':
        return gauge((metric) => metric.set(monitor.transport.status().connected ? 1 : 0));
      case 'celeriac_broker_reconnects_total':
        return counter((metric) => {
          metric.reset();
          metric.inc(monitor.transport.status().connects);
        });
      case 'celeriac_seconds_since_last_event':
        return gauge((metric) => {
          const last = monitor.ingest.counters.lastEventAt;
          metric.set(last === null ? -1 : Math.max(0, Date.now() / 1000 - last));
        });
      case 'celeriac_ingest_lag_seconds':
        return gauge((metric) => metric.set(monitor.ingest.counters.lastLagSeconds ?? 0));
      case 'celeriac_tasks_retained':
        return gauge((metric) => metric.set(monitor.state.tasks.size));
      case 'celeriac_tasks_evicted_total':
        return counter((metric) => {
          metric.reset();
          metric.inc(monitor.state.taskEvictions);
        });
      case 'celeriac_workers_retained':
        return gauge((metric) => metric.set(monitor.state.workers.size));
      case 'celeriac_control_calls_total':
        return counter((metric) => {
          metric.reset();
          for (const { action, outcome, count } of monitor.controls.callCounts()) metric.inc({ action, outcome }, count);
        });
      case 'celeriac_metrics_series_dropped_total':
        return counter((metric) => {
          metric.reset();
          for (const name of this.metrics.keys()) metric.inc({ metric: name }, this.dropped.get(name) ?? 0);
        });
      case 'celeriac_scrape_duration_seconds':
        return gauge((metric) => metric.set(this.lastScrapeSeconds));
      case 'celeriac_heap_limit_bytes':
        return gauge((metric) => metric.set(getHeapStatistics().heap_size_limit));
      case 'celeriac_memory_limit_bytes': {
        const limit = containerMemoryLimit();
        return gauge((metric) => {
          if (limit !== null) metric.set(limit);
        });
      }
      default:
        return null;
    }
  }

  private collectWorkers(name: string, metric: Gauge<string>): void {
    metric.reset();
    const now = Date.now() / 1000;
    // With collapsed labels several workers share a label: a host is up if any of its workers is.
    const values = new Map<string, number>();
    for (const worker of this.monitor.state.workers.values()) {
      const last = worker.lastHeartbeat() ?? worker.offlineSince;
      if (last !== null && now - last > this.options.workerExpirySeconds) continue;
      const alive = worker.isAlive(now);
      const label = this.workerLabel(worker.hostname);
      let value: number;
      if (name === 'flower_worker_online' || name === 'celery_worker_up') value = alive ? 1 : 0;
      else if (name === 'celery_worker_last_heartbeat_timestamp') value = last ?? 0;
      else value = alive ? worker.active : 0;
      const previous = values.get(label);
      values.set(label, previous === undefined ? value : name === 'celery_worker_tasks_active' || name === 'flower_worker_number_of_currently_executing_tasks' ? previous + value : Math.max(previous, value));
    }
    const labelName = name.startsWith('flower_') ? 'worker' : 'hostname';
    for (const [label, value] of values) metric.set({ [labelName]: label }, value);
  }

  private collectQueues(name: string, metric: Gauge<string>): void {
    metric.reset();
    const snapshot = this.monitor.queueMonitor.snapshot();
    if (snapshot.updatedAt === null) return;
    const now = Date.now() / 1000;
    const consumersOf = new Map<string, number>();
    for (const worker of this.monitor.state.workers.values()) {
      if (!worker.isAlive(now)) continue;
      for (const queue of this.monitor.inspector.activeQueues(worker.hostname)) consumersOf.set(queue, (consumersOf.get(queue) ?? 0) + 1);
    }
    for (const queue of snapshot.queues) {
      if (!queue.exists) continue;
      const labels = { queue_name: queue.name };
      switch (name) {
        case 'celery_queue_length':
          metric.set(labels, queue.ready ?? queue.messages);
          break;
        case 'celery_queue_length_by_priority':
          for (const [priority, count] of Object.entries(queue.byPriority ?? {})) metric.set({ ...labels, priority }, count);
          break;
        case 'celery_queue_oldest_message_age_seconds':
          if (queue.oldestAgeSeconds !== null) metric.set(labels, queue.oldestAgeSeconds);
          else if (queue.messages === 0) metric.set(labels, 0);
          break;
        case 'celery_active_consumer_count':
          metric.set(labels, queue.consumers ?? consumersOf.get(queue.name) ?? 0);
          break;
        case 'celery_active_worker_count':
          metric.set(labels, consumersOf.get(queue.name) ?? 0);
          break;
      }
    }
  }

  /** Remove every series of workers quiet for longer than the expiry (counters and histograms too). */
  private expireWorkers(): void {
    const now = Date.now() / 1000;
    const quiet = new Set<string>();
    const heard = new Set<string>();
    for (const worker of this.monitor.state.workers.values()) {
      const last = worker.lastHeartbeat() ?? worker.offlineSince;
      const silent = last !== null && now - last > this.options.workerExpirySeconds;
      for (const label of [this.workerLabel(worker.hostname), this.taskWorkerLabel(worker.hostname)]) (silent ? quiet : heard).add(label);
    }
    for (const label of quiet) {
      if (heard.has(label)) continue; // another worker with the same collapsed label is alive
      for (const { metric, labels, key } of this.seriesByWorker.get(label) ?? []) {
        const instance = this.metrics.get(metric);
        instance?.remove(labels);
        this.series.get(metric)?.delete(key);
        this.heldBack.delete(seriesKey(metric, labels));
      }
      this.seriesByWorker.delete(label);
    }
  }

  /** The exposition, in the format the scraper asked for. Scrapes are serialized (see below). */
  render(accept: string | undefined): Promise<{ contentType: string; body: string }> {
    const run = this.rendering.then(() => this.renderNow(accept));
    this.rendering = run.then(() => undefined, () => undefined);
    return run;
  }

  private async renderNow(accept: string | undefined): Promise<{ contentType: string; body: string }> {
    const started = performance.now();
    this.expireWorkers();
    const openMetrics = typeof accept === 'string' && accept.includes('application/openmetrics-text');
    const registry = openMetrics ? this.openMetricsRegistry : this.registry;
    let body: string;
    try {
      body = await registry.metrics();
    } finally {
      // prom-client renames counters in place (drops `_total`) when rendering OpenMetrics; the
      // same objects serve the text format, so restore the names before anything else renders.
      if (openMetrics) for (const [name, metric] of this.metrics) (metric as unknown as { name: string }).name = name;
    }
    // Series born before this scrape were just exposed at zero: now they may count.
    const held = this.heldBack;
    this.heldBack = new Map();
    for (const series of held.values()) series.release();
    this.lastScrapeSeconds = (performance.now() - started) / 1000;
    return { contentType: registry.contentType, body };
  }
}

function seriesKey(name: string, labels: Labels): string {
  return `${name}\u0001${Object.values(labels).join('\u0000')}`;
}

/** What happened to a series since it was born, waiting for its first scrape. */
interface HeldSeries {
  /** Numbers held: fixed per series, whatever the number of events. */
  readonly size: number;
  add(value: number): void;
  /** Create the series at zero in prom-client (what the next scrape shows). */
  exposeZero(): void;
  /** Apply everything held to the real series. */
  release(): void;
}

/** A counter's held increments: their sum. */
class HeldCounter implements HeldSeries {
  readonly size = 1;
  private total = 0;

  constructor(private readonly metric: Counter<string>, private readonly labels: Labels) {}

  add(value: number): void {
    this.total += value;
  }

  exposeZero(): void {
    this.metric.inc(this.labels, 0);
  }

  release(): void {
    if (this.total > 0) this.metric.inc(this.labels, this.total);
  }
}

/**
 * A histogram's held observations: a count and a sum per bucket. Released as `count`
 * observations of the bucket's mean, which lands in the same bucket (a mean of values in an
 * interval lies in it), so bucket counts and the total count are exact and the sum is exact up to
 * floating-point rounding.
 */
class HeldHistogram implements HeldSeries {
  private readonly counts: Float64Array;
  private readonly sums: Float64Array;
  /** Smallest value per bucket: keeps the mean inside the bucket despite rounding. */
  private readonly mins: Float64Array;

  constructor(private readonly metric: Histogram<string>, private readonly labels: Labels, private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
    this.sums = new Float64Array(bounds.length + 1);
    this.mins = new Float64Array(bounds.length + 1).fill(Number.POSITIVE_INFINITY);
  }

  get size(): number {
    return this.counts.length * 3;
  }

  add(value: number): void {
    // prom-client's rule: a value goes in the first bucket whose upper bound is >= value.
    let bucket = 0;
    while (bucket < this.bounds.length && value > (this.bounds[bucket] as number)) bucket++;
    this.counts[bucket] = (this.counts[bucket] as number) + 1;
    this.sums[bucket] = (this.sums[bucket] as number) + value;
    if (value < (this.mins[bucket] as number)) this.mins[bucket] = value;
  }

  exposeZero(): void {
    this.metric.zero(this.labels);
  }

  release(): void {
    for (let bucket = 0; bucket < this.counts.length; bucket++) {
      const count = this.counts[bucket] as number;
      if (count === 0) continue;
      const upper = bucket < this.bounds.length ? (this.bounds[bucket] as number) : Number.POSITIVE_INFINITY;
      // Rounding must not carry the mean out of the bucket: it lies between its values.
      const mean = Math.min(Math.max((this.sums[bucket] as number) / count, this.mins[bucket] as number), upper);
      for (let n = 0; n < count; n++) this.metric.observe(this.labels, mean);
    }
  }
}

/** The cgroup's memory limit in bytes (v2 `memory.max`, else v1), or null when unlimited or unknown. */
function containerMemoryLimit(): number | null {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    const bytes = Number(text);
    // "max" (v2) or a huge page-rounded value (v1) both mean no limit.
    return Number.isSafeInteger(bytes) && bytes > 0 && bytes < 2 ** 60 ? bytes : null;
  }
  return null;
}
