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
import type { TaskEvent } from '../protocol/events';
import { exceptionClass } from '../protocol/python/exception';
import type { TaskRecord } from '../state/task-record';
import {
  CELERIAC_METRICS,
  EXPORTER_TASK_COUNTERS,
  exporterTaskCounterName,
  RUNTIME_METRICS,
  type CeleriacMetricName,
  type CeleriacMetricNameOf,
  type CeleriacMetricSpec,
  type MetricFamily,
  type MetricSpec,
} from './catalogue';
import type { MetricsQueue, MetricsSources, MetricsStoreStatus, MetricsWorker } from './sources';

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

type Labels = Record<string, string>;
/** Counters and histograms: updated one event at a time, held back while a new series waits for its first scrape. */
type EventCountName = CeleriacMetricNameOf<'counter' | 'histogram'>;

/** A registered metric, with what updating it needs. */
type RegisteredMetric = { type: 'counter'; metric: Counter<string> } | { type: 'gauge'; metric: Gauge<string> } | { type: 'histogram'; metric: Histogram<string>; bounds: readonly number[] };
type CountingMetric = Exclude<RegisteredMetric, { type: 'gauge' }>;

type LabelsOf<Spec extends MetricSpec> = { [Label in Spec['labels'][number]]: string };
/**
 * A metric's values at scrape time: one number for a metric without labels (null: leave it as it
 * is), else the value of every label set (the label sets not listed are removed).
 */
type Reading<Spec extends MetricSpec> = Spec['labels'] extends readonly [] ? number | null : Iterable<readonly [LabelsOf<Spec>, number]>;
/**
 * Where each metric of the catalogue gets its values (a missing or unknown name does not
 * compile): read from the sources when scraped, or `'events'`, updated as task events arrive
 * (taskChanged) and inspections answer (workerInspected). Histograms only ever count events.
 */
type Readings = { [Spec in CeleriacMetricSpec as Spec['name']]: Spec['type'] extends 'histogram' ? 'events' : 'events' | (() => Reading<Spec>) };
type AnyReading = number | null | Iterable<readonly [Labels, number]>;

function openMetricsRegistry(): Registry<OpenMetricsContentType> {
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as OpenMetricsContentType);
  return registry;
}

const EVENT_TO_EXPORTER_COUNTER: ReadonlyMap<string, CeleriacMetricNameOf<'counter'>> = new Map(EXPORTER_TASK_COUNTERS.map((state) => [`task-${state}`, exporterTaskCounterName(state)]));
/** Pre-created at zero on a worker's first event, as celery-exporter does, so ratios have both sides. */
const PREZEROED: readonly CeleriacMetricNameOf<'counter'>[] = ['celery_task_succeeded_total', 'celery_task_failed_total'];

/** prom-client default collectors Celeriac does not export (see the constructor). */
const LINT_FAILING_DEFAULT_METRICS = ['nodejs_active_resources_total', 'nodejs_active_handles_total', 'nodejs_active_requests_total'];

/** What a worker gauge reads of one worker whose series have not expired. */
interface WorkerReading {
  worker: MetricsWorker;
  alive: boolean;
  /** Last heartbeat, else when it went offline. */
  lastHeard: number | null;
}
const up = ({ alive }: WorkerReading): number => (alive ? 1 : 0);
const executing = ({ worker, alive }: WorkerReading): number => (alive ? worker.active : 0);
const lastHeard = ({ lastHeard: last }: WorkerReading): number => last ?? 0;
const sum = (a: number, b: number): number => a + b;

export class CeleriacMetrics {
  readonly registry = new Registry();
  readonly openMetricsRegistry = openMetricsRegistry();
  private readonly metrics = new Map<CeleriacMetricName, RegisteredMetric>();
  /**
   * Label sets created per metric, by their values joined (seriesKey): for the cap, and to find a
   * series' held updates in the same lookup. Per worker label too, for expiry.
   */
  private readonly series = new Map<CeleriacMetricName, Map<string, SeriesSlot>>();
  private readonly seriesByWorker = new Map<string, { metric: CeleriacMetricName; labels: Labels; key: string }[]>();
  private readonly dropped = new Map<CeleriacMetricName, number>();
  /** Series born since the last scrape: their updates are applied once they were exposed at zero. */
  private heldBack = new Set<SeriesSlot>();
  /**
   * celery-exporter label sets (seriesKey of name, hostname, queue_name) whose PREZEROED series
   * exist: the hot path pre-zeroes a label set once, not on every event. Cleared when series expire.
   */
  private readonly prezeroed = new Set<string>();
  private lastScrapeSeconds = 0;
  /** One scrape at a time: rendering OpenMetrics temporarily renames the shared counters. */
  private rendering: Promise<void> = Promise.resolve();

  /**
   * Nothing is subscribed here: the composition root feeds task events to taskChanged() and
   * answered inspections to workerInspected().
   */
  constructor(
    private readonly sources: MetricsSources,
    private readonly options: MetricsOptions,
  ) {
    const readings = this.readings();
    for (const spec of CELERIAC_METRICS) {
      if (options.families.has(spec.family)) this.metrics.set(spec.name, this.create(spec, readings[spec.name]));
    }
    // prom-client's default collectors, in each registry (the OpenMetrics one renames counters).
    if (RUNTIME_METRICS.some((spec) => options.families.has(spec.family))) {
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
    const names = this.sources.registered(hostname);
    if (names.length === 0) return;
    const queues = this.sources.activeQueues(hostname);
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

  /** Name, type, help and labels from the catalogue; values from the metric's reading. */
  private create(spec: CeleriacMetricSpec, read: Readings[CeleriacMetricName]): RegisteredMetric {
    const registers: Registry<RegistryContentType>[] = [this.registry, this.openMetricsRegistry];
    const common = { name: spec.name, help: spec.help, labelNames: [...spec.labels], registers };
    if (spec.type === 'histogram') {
      const bounds = this.options[spec.buckets];
      return { type: 'histogram', metric: new Histogram({ ...common, buckets: [...bounds] }), bounds };
    }
    if (spec.type === 'counter') {
      const counter =
        read === 'events'
          ? new Counter(common)
          : new Counter({
              ...common,
              collect(this: Counter<string>): void {
                applyCounterReading(this, read());
              },
            });
      return { type: 'counter', metric: counter };
    }
    const gauge =
      read === 'events'
        ? new Gauge(common)
        : new Gauge({
            ...common,
            collect(this: Gauge<string>): void {
              applyGaugeReading(this, read());
            },
          });
    return { type: 'gauge', metric: gauge };
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
   * Admit a new label set under the cap and remember it for worker expiry: its slot, or null
   * when the cap refuses it (counted). `key` is seriesKey(labels), not yet in the metric's series.
   */
  private admitNew(metric: CeleriacMetricName, labels: Labels, worker: string | null, key: string): SeriesSlot | null {
    let known = this.series.get(metric);
    if (!known) {
      known = new Map();
      this.series.set(metric, known);
    }
    if (known.size >= this.options.maxSeries) {
      this.dropped.set(metric, (this.dropped.get(metric) ?? 0) + 1);
      return null;
    }
    const slot: SeriesSlot = { held: null };
    known.set(key, slot);
    if (worker !== null) {
      let list = this.seriesByWorker.get(worker);
      if (!list) {
        list = [];
        this.seriesByWorker.set(worker, list);
      }
      list.push({ metric, labels, key });
    }
    return slot;
  }

  /** 'new' for a label set seen for the first time (now admitted), 'known' for an existing one, null when the cap refuses it. */
  private admit(metric: CeleriacMetricName, labels: Labels, worker: string | null, key = seriesKey(labels)): 'new' | 'known' | null {
    if (this.series.get(metric)?.has(key)) return 'known';
    return this.admitNew(metric, labels, worker, key) === null ? null : 'new';
  }

  /**
   * Count `value` on a counter, or observe it on a histogram. `key` is seriesKey(labels), given
   * by a caller that has it: one lookup finds the series, and whether its updates are held.
   *
   * Prometheus's increase()/rate() ignore a series' first value, so a series born with a count
   * hides that count from every rate and ratio. A new series is therefore first exposed at zero,
   * and what happened to it is applied right after the next scrape (one interval late, never
   * lost). Series Celeriac can foresee are pre-created at zero instead (see workerInspected()).
   *
   * What is held is a fixed-size aggregate per series (see HeldSeries), never one entry per
   * event: most users never scrape, and the held series must not grow while nobody does.
   */
  private add(name: EventCountName, labels: Labels, worker: string | null, value: number, key = seriesKey(labels)): void {
    const registered = this.metrics.get(name);
    if (registered === undefined || registered.type === 'gauge') return;
    const slot = this.series.get(name)?.get(key);
    if (slot === undefined) {
      const admitted = this.admitNew(name, labels, worker, key);
      if (admitted !== null) this.hold(admitted, registered, labels).add(value);
    } else if (slot.held !== null) slot.held.add(value);
    else if (registered.type === 'counter') registered.metric.inc(labels, value);
    else registered.metric.observe(labels, value);
  }

  /** Expose a new series at zero now and hold its updates until it was scraped once. */
  private hold(slot: SeriesSlot, registered: CountingMetric, labels: Labels): HeldSeries {
    const held = registered.type === 'counter' ? new HeldCounter(registered.metric, labels) : new HeldHistogram(registered.metric, labels, registered.bounds);
    held.exposeZero();
    slot.held = held;
    this.heldBack.add(slot);
    return held;
  }

  private setGauge(name: CeleriacMetricNameOf<'gauge'>, labels: Labels, worker: string | null, value: number): void {
    const registered = this.metrics.get(name);
    if (registered?.type === 'gauge' && this.admit(name, labels, worker) !== null) registered.metric.set(labels, value);
  }

  /**
   * Create a series at zero now; like any new series, its updates wait until it was scraped
   * once. False when the cap refused it.
   */
  private zeroSeries(name: EventCountName, labels: Labels, worker: string | null): boolean {
    const registered = this.metrics.get(name);
    if (registered === undefined || registered.type === 'gauge') return true;
    const key = seriesKey(labels);
    if (this.series.get(name)?.has(key)) return true;
    const slot = this.admitNew(name, labels, worker, key);
    if (slot === null) return false;
    this.hold(slot, registered, labels);
    return true;
  }

  /** Series waiting for their first scrape, and the values they hold (for tests and the soak benchmark). */
  heldBackSize(): { series: number; values: number } {
    let values = 0;
    for (const slot of this.heldBack) values += slot.held?.size ?? 0;
    return { series: this.heldBack.size, values };
  }

  /** Hot path: one task event. Only counters and histograms change here. */
  taskChanged(task: TaskRecord, event: TaskEvent): void {
    if (this.metrics.size === 0) return;
    const taskName = event.name ?? task.name ?? '';
    const worker = this.taskWorkerLabel(event.hostname);
    // Flower: every task event, worker = the event's hostname (the client for task-sent).
    this.add('flower_events_total', { worker, type: event.type, task: taskName }, worker, 1);
    if (event.runtime !== undefined && event.runtime > 0) this.add('flower_task_runtime_seconds', { worker, task: taskName }, worker, event.runtime);
    if (event.type === 'task-started' && task.eta === null && task.received !== null && task.started !== null) {
      this.setGauge('flower_task_prefetch_time_seconds', { worker, task: taskName }, worker, Math.max(0, task.started - task.received));
    } else if (event.type === 'task-succeeded' || event.type === 'task-failed') {
      this.setGauge('flower_task_prefetch_time_seconds', { worker, task: taskName }, worker, 0);
    }

    const counter = EVENT_TO_EXPORTER_COUNTER.get(event.type);
    if (!counter) return;
    const labels: Labels = { name: taskName, hostname: worker, queue_name: task.queue ?? task.routingKey ?? 'celery' };
    const key = seriesKey(labels);
    if (event.type !== 'task-sent' && !this.prezeroed.has(key)) {
      let all = true;
      for (const zero of PREZEROED) {
        if (zero !== counter) all = this.zeroSeries(zero, zero === 'celery_task_failed_total' ? { ...labels, exception: '' } : labels, worker) && all;
      }
      // Both were zeroed here only when the event's own counter is neither of them.
      if (all && !PREZEROED.includes(counter)) this.prezeroed.add(key);
    }
    if (event.type === 'task-failed') this.add(counter, { ...labels, exception: exceptionClass(task.exception) }, worker, 1);
    else this.add(counter, labels, worker, 1, key);
    if (event.type === 'task-succeeded' && event.runtime !== undefined) this.add('celery_task_runtime', labels, worker, event.runtime, key);
    if (event.type === 'task-started' && task.sent !== null && task.started !== null) {
      const eta = task.eta === null ? Number.NaN : Date.parse(task.eta) / 1000;
      const from = Number.isFinite(eta) ? Math.max(task.sent, eta) : task.sent;
      this.add('celery_task_queue_wait_time', labels, worker, Math.max(0, task.started - from), key);
    }
  }

  /** Scrape-time values for gauges derived from the model, and counters kept elsewhere. */
  private readings(): Readings {
    const sources = this.sources;
    const memoryLimit = containerMemoryLimit();
    return {
      flower_events_total: 'events',
      flower_task_runtime_seconds: 'events',
      flower_task_prefetch_time_seconds: 'events',
      flower_worker_prefetched_tasks: () => this.prefetchedTasks(),
      flower_worker_online: () => this.perWorker((worker) => ({ worker }), up, Math.max),
      flower_worker_number_of_currently_executing_tasks: () => this.perWorker((worker) => ({ worker }), executing, sum),
      celery_task_sent_total: 'events',
      celery_task_received_total: 'events',
      celery_task_started_total: 'events',
      celery_task_succeeded_total: 'events',
      celery_task_failed_total: 'events',
      celery_task_rejected_total: 'events',
      celery_task_revoked_total: 'events',
      celery_task_retried_total: 'events',
      celery_worker_up: () => this.perWorker((hostname) => ({ hostname }), up, Math.max),
      celery_worker_tasks_active: () => this.perWorker((hostname) => ({ hostname }), executing, sum),
      celery_worker_last_heartbeat_timestamp: () => this.perWorker((hostname) => ({ hostname }), lastHeard, Math.max),
      celery_task_runtime: 'events',
      celery_task_queue_wait_time: 'events',
      celery_queue_length: () => this.perQueue((queue) => [[{ queue_name: queue.name }, queue.ready ?? queue.messages]]),
      celery_queue_length_by_priority: () => this.perQueue((queue) => Object.entries(queue.byPriority ?? {}).map(([priority, count]) => [{ queue_name: queue.name, priority }, count] as const)),
      celery_queue_oldest_message_age_seconds: () =>
        this.perQueue((queue) => {
          // An empty queue's next message has not waited; a non-empty one of unknown age has no value.
          const age = queue.oldestAgeSeconds ?? (queue.messages === 0 ? 0 : null);
          return age === null ? [] : [[{ queue_name: queue.name }, age]];
        }),
      celery_active_consumer_count: () => this.perQueue((queue, workers) => [[{ queue_name: queue.name }, queue.consumers ?? workers]]),
      celery_active_worker_count: () => this.perQueue((queue, workers) => [[{ queue_name: queue.name }, workers]]),
      celeriac_events_received_total: () => Array.from(sources.ingestCounters().byType, ([type, count]) => [{ type }, count] as const),
      celeriac_events_dropped_total: () => Object.entries(sources.ingestCounters().dropped).map(([reason, count]) => [{ reason }, count] as const),
      celeriac_broker_connected: () => (sources.transportStatus().connected ? 1 : 0),
      celeriac_broker_reconnects_total: () => sources.transportStatus().connects,
      celeriac_seconds_since_last_event: () => {
        const last = sources.ingestCounters().lastEventAt;
        return last === null ? -1 : Math.max(0, Date.now() / 1000 - last);
      },
      celeriac_ingest_lag_seconds: () => sources.ingestCounters().lastLagSeconds ?? 0,
      celeriac_tasks_retained: () => sources.taskCount(),
      celeriac_tasks_evicted_total: () => sources.taskEvictions(),
      celeriac_workers_retained: () => sources.workerCount(),
      celeriac_control_calls_total: () => Array.from(sources.controlCallCounts(), ({ action, outcome, count }) => [{ action, outcome }, count] as const),
      celeriac_metrics_series_dropped_total: () => Array.from(this.metrics.keys(), (metric) => [{ metric }, this.dropped.get(metric) ?? 0] as const),
      celeriac_scrape_duration_seconds: () => this.lastScrapeSeconds,
      celeriac_heap_limit_bytes: () => getHeapStatistics().heap_size_limit,
      celeriac_memory_limit_bytes: () => memoryLimit,
      celeriac_store_size_bytes: () => sources.storeStatus()?.sizeBytes ?? 0,
      celeriac_store_max_size_bytes: () => sources.storeStatus()?.retention.maxSizeBytes ?? 0,
      celeriac_store_rows: () => Object.entries(sources.storeStatus()?.rows ?? {}).map(([table, rows]) => [{ table }, rows] as const),
      celeriac_store_pending_changes: () => storeWriters(sources.storeStatus(), 'pending'),
      celeriac_store_rows_written_total: () => storeWriters(sources.storeStatus(), 'written'),
      celeriac_store_changes_dropped_total: () => storeWriters(sources.storeStatus(), 'dropped'),
      celeriac_store_write_failures_total: () => storeWriters(sources.storeStatus(), 'failures'),
      celeriac_store_degraded: () => (sources.storeStatus()?.degraded ? 1 : 0),
      celeriac_store_retention_deleted_total: () => Object.entries(sources.storeStatus()?.retention.deleted ?? {}).map(([policy, rows]) => [{ policy }, rows] as const),
      celeriac_store_retention_failures_total: () => sources.storeStatus()?.retention.failures ?? 0,
    };
  }

  /**
   * One value per worker label, for the workers whose series have not expired. With collapsed
   * labels several workers share a label: `combine` merges their values (a host is up if any of
   * its workers is; their executing tasks add up).
   */
  private perWorker<WorkerLabels>(
    labelsOf: (label: string) => WorkerLabels,
    valueOfReading: (reading: WorkerReading) => number,
    combine: (previous: number, value: number) => number,
  ): [WorkerLabels, number][] {
    const now = Date.now() / 1000;
    const values = new Map<string, number>();
    for (const worker of this.sources.workers()) {
      const last = worker.lastHeartbeat() ?? worker.offlineSince;
      if (last !== null && now - last > this.options.workerExpirySeconds) continue;
      const value = valueOfReading({ worker, alive: worker.isAlive(now), lastHeard: last });
      const label = this.workerLabel(worker.hostname);
      const previous = values.get(label);
      values.set(label, previous === undefined ? value : combine(previous, value));
    }
    return Array.from(values, ([label, value]) => [labelsOf(label), value]);
  }

  /**
   * Received and not started, without an ETA: computed from the model, so it never drifts.
   * Every task a live worker registered is listed, at 0 when nothing waits.
   */
  private prefetchedTasks(): [{ worker: string; task: string }, number][] {
    const counts = new Map<string, { worker: string; task: string; n: number }>();
    const now = Date.now() / 1000;
    for (const w of this.sources.workers()) {
      if (!w.isAlive(now)) continue;
      const worker = this.taskWorkerLabel(w.hostname);
      for (const task of this.sources.registered(w.hostname)) counts.set(`${worker}\u0000${task}`, { worker, task, n: 0 });
    }
    for (const task of this.sources.tasks()) {
      if (task.state !== 'RECEIVED' || task.eta !== null || task.worker === null) continue;
      const worker = this.taskWorkerLabel(task.worker);
      const key = `${worker}\u0000${task.name ?? ''}`;
      const entry = counts.get(key) ?? { worker, task: task.name ?? '', n: 0 };
      entry.n++;
      counts.set(key, entry);
    }
    return Array.from(counts.values(), ({ worker, task, n }) => [{ worker, task }, n]);
  }

  /**
   * The values of every existing queue of the last poll (none before the first poll succeeds).
   * `workers`: online workers consuming the queue (from their active_queues).
   */
  private perQueue<QueueLabels>(valuesOf: (queue: MetricsQueue, workers: number) => Iterable<readonly [QueueLabels, number]>): (readonly [QueueLabels, number])[] {
    const values: (readonly [QueueLabels, number])[] = [];
    const snapshot = this.sources.queueSnapshot();
    if (snapshot.updatedAt === null) return values;
    const now = Date.now() / 1000;
    const consumersOf = new Map<string, number>();
    for (const worker of this.sources.workers()) {
      if (!worker.isAlive(now)) continue;
      for (const queue of this.sources.activeQueues(worker.hostname)) consumersOf.set(queue, (consumersOf.get(queue) ?? 0) + 1);
    }
    for (const queue of snapshot.queues) {
      if (queue.exists) values.push(...valuesOf(queue, consumersOf.get(queue.name) ?? 0));
    }
    return values;
  }

  /** Remove every series of workers quiet for longer than the expiry (counters and histograms too). */
  private expireWorkers(): void {
    const now = Date.now() / 1000;
    const quiet = new Set<string>();
    const heard = new Set<string>();
    for (const worker of this.sources.workers()) {
      const last = worker.lastHeartbeat() ?? worker.offlineSince;
      const silent = last !== null && now - last > this.options.workerExpirySeconds;
      for (const label of [this.workerLabel(worker.hostname), this.taskWorkerLabel(worker.hostname)]) (silent ? quiet : heard).add(label);
    }
    for (const label of quiet) {
      if (heard.has(label)) continue; // another worker with the same collapsed label is alive
      for (const { metric, labels, key } of this.seriesByWorker.get(label) ?? []) {
        this.metrics.get(metric)?.metric.remove(labels);
        const slot = this.series.get(metric)?.get(key);
        if (slot) this.heldBack.delete(slot);
        this.series.get(metric)?.delete(key);
      }
      this.seriesByWorker.delete(label);
      // Which label sets still have their zeroed series: found again on their next event.
      this.prezeroed.clear();
    }
  }

  /** The exposition, in the format the scraper asked for. Scrapes are serialized (see below). */
  render(accept: string | undefined): Promise<{ contentType: string; body: string }> {
    const run = this.rendering.then(() => this.renderNow(accept));
    this.rendering = run.then(
      () => undefined,
      () => undefined,
    );
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
      if (openMetrics) for (const [name, { metric }] of this.metrics) (metric as unknown as { name: string }).name = name;
    }
    // Series born before this scrape were just exposed at zero: now they may count.
    const held = this.heldBack;
    this.heldBack = new Set();
    for (const slot of held) {
      slot.held?.release();
      slot.held = null;
    }
    this.lastScrapeSeconds = (performance.now() - started) / 1000;
    return { contentType: registry.contentType, body };
  }
}

/** One value per record kind the store writes (the tasks' writer's figures are the status's own). */
function storeWriters(status: MetricsStoreStatus | null, figure: 'pending' | 'written' | 'dropped' | 'failures'): [{ kind: string }, number][] {
  if (status === null) return [];
  return [
    [{ kind: 'tasks' }, status[figure]],
    [{ kind: 'workers' }, status.workers[figure]],
  ];
}

/** A gauge's reading: set it (without labels), or replace its label sets. */
function applyGaugeReading(metric: Gauge<string>, reading: AnyReading): void {
  if (reading === null) return;
  if (typeof reading === 'number') {
    metric.set(reading);
    return;
  }
  metric.reset();
  for (const [labels, value] of reading) metric.set(labels, value);
}

/** A counter kept elsewhere (ingest, transport, controls, the cap): the reading is its total so far. */
function applyCounterReading(metric: Counter<string>, reading: AnyReading): void {
  metric.reset();
  if (typeof reading === 'number') metric.inc(reading);
  else if (reading !== null) for (const [labels, value] of reading) metric.inc(labels, value);
}

/** A label set's values, joined: the key of its series within one metric. */
function seriesKey(labels: Labels): string {
  return Object.values(labels).join('\u0000');
}

/** A series Celeriac created: its updates are held until its first scrape (see CeleriacMetrics.add). */
interface SeriesSlot {
  held: HeldSeries | null;
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

  constructor(
    private readonly metric: Counter<string>,
    private readonly labels: Labels,
  ) {}

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

  constructor(
    private readonly metric: Histogram<string>,
    private readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
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
