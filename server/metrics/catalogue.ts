/**
 * Every metric Celeriac exports, in one table: the implementation registers exactly these, the
 * README documents them, and the dashboard tests check every panel against them (so a renamed
 * metric cannot silently empty a panel).
 *
 * Three families, selectable with --metrics:
 * - `flower`: Flower's six metrics, same names, labels and meaning — except that
 *   flower_worker_online drops to 0 when heartbeats expire, not only on a clean shutdown.
 * - `exporter`: celery-exporter's names and label names, so its Grafana mixin works unchanged.
 * - `celeriac`: Celeriac's own health, including the process itself: prom-client's default
 *   collectors (memory, CPU, event-loop lag, GC — the names every Node.js dashboard knows) and
 *   the limits memory is judged against.
 */

export type MetricFamily = 'flower' | 'exporter' | 'celeriac';
export type MetricType = 'counter' | 'gauge' | 'histogram';
/** The configured bucket bounds a histogram uses (--runtime-buckets, --queue-wait-buckets). */
export type HistogramBuckets = 'runtimeBuckets' | 'queueWaitBuckets';

export interface MetricSpec {
  name: string;
  type: MetricType;
  family: MetricFamily;
  labels: readonly string[];
  help: string;
  /** Histograms registered by Celeriac's code: which configured bounds they use. */
  buckets?: HistogramBuckets;
  /** `runtime`: registered by prom-client's default collectors, not by Celeriac's code. */
  source?: 'runtime';
}

/** prometheus_client's default buckets, as Flower and celery-exporter use for runtimes. */
export const DEFAULT_RUNTIME_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** celery-exporter's queue-wait buckets. */
export const DEFAULT_QUEUE_WAIT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

function runtime<const Name extends string, const Type extends MetricType>(name: Name, type: Type, help: string, labels: readonly string[] = []) {
  return { name, type, family: 'celeriac', labels, help, source: 'runtime' } as const;
}

const TASK_LABELS = ['name', 'hostname', 'queue_name'] as const;

/** celery-exporter's task counters, one per task event type. */
export const EXPORTER_TASK_COUNTERS = ['sent', 'received', 'started', 'succeeded', 'failed', 'rejected', 'revoked', 'retried'] as const;
export type ExporterTaskCounter = (typeof EXPORTER_TASK_COUNTERS)[number];

/** celery-exporter's counter of task-<state> events. */
export function exporterTaskCounterName<State extends ExporterTaskCounter>(state: State): `celery_task_${State}_total` {
  return `celery_task_${state}_total`;
}

export const METRICS = [
  // --- Flower-compatible ---
  {
    name: 'flower_events_total',
    type: 'counter',
    family: 'flower',
    labels: ['worker', 'type', 'task'],
    help: 'Number of task events, by worker (sender hostname), event type and task name (Flower-compatible).',
  },
  {
    name: 'flower_task_runtime_seconds',
    type: 'histogram',
    family: 'flower',
    labels: ['worker', 'task'],
    buckets: 'runtimeBuckets',
    help: 'Task runtime reported by task-succeeded events (Flower-compatible).',
  },
  {
    name: 'flower_task_prefetch_time_seconds',
    type: 'gauge',
    family: 'flower',
    labels: ['worker', 'task'],
    help: 'Time the last started task waited at the worker between received and started; 0 after it finishes (Flower-compatible).',
  },
  { name: 'flower_worker_prefetched_tasks', type: 'gauge', family: 'flower', labels: ['worker', 'task'], help: 'Tasks received by a worker and not started yet (Flower-compatible).' },
  {
    name: 'flower_worker_online',
    type: 'gauge',
    family: 'flower',
    labels: ['worker'],
    help: 'Worker online (1) or offline (0). Unlike Flower, 0 also when heartbeats stop (freq x 2), e.g. after SIGKILL.',
  },
  {
    name: 'flower_worker_number_of_currently_executing_tasks',
    type: 'gauge',
    family: 'flower',
    labels: ['worker'],
    help: 'Tasks executing on the worker, from its last heartbeat (Flower-compatible).',
  },

  // --- celery-exporter-compatible ---
  ...EXPORTER_TASK_COUNTERS.map(
    (state) =>
      ({
        name: exporterTaskCounterName(state),
        type: 'counter',
        family: 'exporter',
        labels: state === 'failed' ? [...TASK_LABELS, 'exception'] : TASK_LABELS,
        help: `Tasks ${state} (task-${state} events), by task name, worker host and queue (celery-exporter-compatible).`,
      }) as const,
  ),
  {
    name: 'celery_worker_up',
    type: 'gauge',
    family: 'exporter',
    labels: ['hostname'],
    help: 'Worker up (1) or down (0) by heartbeat liveness: down after freq x 2 without a heartbeat or on worker-offline.',
  },
  { name: 'celery_worker_tasks_active', type: 'gauge', family: 'exporter', labels: ['hostname'], help: 'Tasks executing on the worker (heartbeat active), 0 when down.' },
  { name: 'celery_worker_last_heartbeat_timestamp', type: 'gauge', family: 'exporter', labels: ['hostname'], help: 'Unix time Celeriac last heard from the worker (heartbeat or task event).' },
  { name: 'celery_task_runtime', type: 'histogram', family: 'exporter', labels: TASK_LABELS, buckets: 'runtimeBuckets', help: 'Task runtime in seconds (task-succeeded).' },
  {
    name: 'celery_task_queue_wait_time',
    type: 'histogram',
    family: 'exporter',
    labels: TASK_LABELS,
    buckets: 'queueWaitBuckets',
    help: 'Seconds a task waited in the queue: started - max(sent, eta).',
  },
  {
    name: 'celery_queue_length',
    type: 'gauge',
    family: 'exporter',
    labels: ['queue_name'],
    help: 'Messages waiting in the queue, read from the broker (all Redis priority lists), including queues nobody consumes.',
  },
  { name: 'celery_queue_length_by_priority', type: 'gauge', family: 'exporter', labels: ['queue_name', 'priority'], help: 'Redis only: messages waiting in each priority list of the queue.' },
  {
    name: 'celery_queue_oldest_message_age_seconds',
    type: 'gauge',
    family: 'exporter',
    labels: ['queue_name'],
    help: 'Redis only: age of the next message out of the queue (from its task-sent event), when known.',
  },
  { name: 'celery_active_consumer_count', type: 'gauge', family: 'exporter', labels: ['queue_name'], help: 'Consumers attached to the queue (RabbitMQ), else workers consuming it.' },
  { name: 'celery_active_worker_count', type: 'gauge', family: 'exporter', labels: ['queue_name'], help: 'Online workers consuming the queue (from their active_queues).' },

  // --- Celeriac's own health ---
  { name: 'celeriac_events_received_total', type: 'counter', family: 'celeriac', labels: ['type'], help: 'Events decoded and applied to the model, by event type.' },
  {
    name: 'celeriac_events_dropped_total',
    type: 'counter',
    family: 'celeriac',
    labels: ['reason'],
    help: 'Inbound messages or events dropped, by reason (bad_json, unsupported_content_type, backlog_overflow...).',
  },
  { name: 'celeriac_broker_connected', type: 'gauge', family: 'celeriac', labels: [], help: '1 while connected to the broker and subscribed to the event stream, else 0.' },
  { name: 'celeriac_broker_reconnects_total', type: 'counter', family: 'celeriac', labels: [], help: 'Successful (re)connections to the broker.' },
  { name: 'celeriac_seconds_since_last_event', type: 'gauge', family: 'celeriac', labels: [], help: 'Seconds since the last event was received (-1 before the first).' },
  { name: 'celeriac_ingest_lag_seconds', type: 'gauge', family: 'celeriac', labels: [], help: 'Receive time minus sender timestamp of the last event (includes sender clock skew).' },
  { name: 'celeriac_tasks_retained', type: 'gauge', family: 'celeriac', labels: [], help: 'Tasks kept in memory.' },
  { name: 'celeriac_tasks_evicted_total', type: 'counter', family: 'celeriac', labels: [], help: 'Tasks evicted from memory by --max-tasks.' },
  { name: 'celeriac_workers_retained', type: 'gauge', family: 'celeriac', labels: [], help: 'Workers kept in memory.' },
  { name: 'celeriac_control_calls_total', type: 'counter', family: 'celeriac', labels: ['action', 'outcome'], help: 'Control actions taken through Celeriac, by action and outcome (ok, failed).' },
  { name: 'celeriac_metrics_series_dropped_total', type: 'counter', family: 'celeriac', labels: ['metric'], help: 'Label sets not created because the metric reached --metrics-max-series.' },
  { name: 'celeriac_scrape_duration_seconds', type: 'gauge', family: 'celeriac', labels: [], help: 'Time the previous /metrics scrape took to render.' },
  {
    name: 'celeriac_heap_limit_bytes',
    type: 'gauge',
    family: 'celeriac',
    labels: [],
    help: 'V8 heap size limit (--max-old-space-size or its default): past it the process dies with "heap out of memory".',
  },
  { name: 'celeriac_memory_limit_bytes', type: 'gauge', family: 'celeriac', labels: [], help: "The container's memory limit (cgroup memory.max), absent when there is none." },

  // --- The history store (server/store/), all 0 or absent with --store memory ---
  {
    name: 'celeriac_store_size_bytes',
    type: 'gauge',
    family: 'celeriac',
    labels: [],
    help: 'What the stored data occupies, the figure --store-max-size is judged against (SQLite: used pages; PostgreSQL: an estimate from live rows), measured every 30 s.',
  },
  { name: 'celeriac_store_max_size_bytes', type: 'gauge', family: 'celeriac', labels: [], help: '--store-max-size in bytes; 0 when the store has no size cap.' },
  {
    name: 'celeriac_store_rows',
    type: 'gauge',
    family: 'celeriac',
    labels: ['table'],
    help: 'Rows per store table, measured every 30 s (PostgreSQL: an estimate past a million rows, but tasks exactly).',
  },
  {
    name: 'celeriac_store_pending_changes',
    type: 'gauge',
    family: 'celeriac',
    labels: ['kind'],
    help: 'Changed records (tasks, workers) waiting to be written; it grows while the store does not take writes, up to --store-max-pending.',
  },
  { name: 'celeriac_store_rows_written_total', type: 'counter', family: 'celeriac', labels: ['kind'], help: 'Rows written to the store, by record kind (tasks, workers).' },
  {
    name: 'celeriac_store_changes_dropped_total',
    type: 'counter',
    family: 'celeriac',
    labels: ['kind'],
    help: 'Changes lost because the store did not take writes for longer than the pending bound held, by record kind.',
  },
  { name: 'celeriac_store_write_failures_total', type: 'counter', family: 'celeriac', labels: ['kind'], help: 'Store writes that failed (each retried on the next flush), by record kind.' },
  {
    name: 'celeriac_store_degraded',
    type: 'gauge',
    family: 'celeriac',
    labels: [],
    help: '1 while the store is not taking writes or not reachable (monitoring goes on in memory), else 0.',
  },
  {
    name: 'celeriac_store_retention_deleted_total',
    type: 'counter',
    family: 'celeriac',
    labels: ['policy'],
    help: 'Rows retention deleted, by policy: tasks (--retention), tasks_failed (--retention-failed), each trend table (--retention-aggregates), size_cap (--store-max-size).',
  },
  { name: 'celeriac_store_retention_failures_total', type: 'counter', family: 'celeriac', labels: [], help: 'Retention runs that failed (each tried again on the next run, a minute later).' },

  // --- The process (prom-client's default collectors) ---
  runtime('process_cpu_user_seconds_total', 'counter', 'User CPU time spent, in seconds.'),
  runtime('process_cpu_system_seconds_total', 'counter', 'System CPU time spent, in seconds.'),
  runtime('process_cpu_seconds_total', 'counter', 'User and system CPU time spent, in seconds.'),
  runtime('process_start_time_seconds', 'gauge', 'Start time of the process since the Unix epoch, in seconds.'),
  runtime('process_resident_memory_bytes', 'gauge', 'Resident memory size (RSS), in bytes.'),
  runtime('process_virtual_memory_bytes', 'gauge', 'Virtual memory size, in bytes.'),
  runtime('process_heap_bytes', 'gauge', 'Process heap size, in bytes.'),
  runtime('process_open_fds', 'gauge', 'Open file descriptors.'),
  runtime('process_max_fds', 'gauge', 'Maximum number of open file descriptors.'),
  runtime('nodejs_eventloop_lag_seconds', 'gauge', 'Event-loop lag, in seconds (a timer measured at scrape).'),
  ...(['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'] as const).map((stat) =>
    runtime(`nodejs_eventloop_lag_${stat}_seconds`, 'gauge', `Event-loop lag ${stat} since the previous scrape, in seconds.`),
  ),
  runtime('nodejs_active_resources', 'gauge', 'Active resources keeping the event loop alive, by type.', ['type']),
  runtime('nodejs_active_handles', 'gauge', 'Active libuv handles, by type.', ['type']),
  runtime('nodejs_active_requests', 'gauge', 'Active libuv requests, by type.', ['type']),
  runtime('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap size, in bytes.'),
  runtime('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap used, in bytes.'),
  runtime('nodejs_external_memory_bytes', 'gauge', 'Memory held outside the V8 heap (buffers), in bytes.'),
  ...(['total', 'used', 'available'] as const).map((kind) => runtime(`nodejs_heap_space_size_${kind}_bytes`, 'gauge', `V8 heap space size ${kind}, by space, in bytes.`, ['space'])),
  runtime('nodejs_version_info', 'gauge', 'Node.js version.', ['version', 'major', 'minor', 'patch']),
  runtime('nodejs_gc_duration_seconds', 'histogram', 'Garbage collection duration, by kind of GC, in seconds.', ['kind']),
] as const satisfies readonly MetricSpec[];

type CatalogueSpec = (typeof METRICS)[number];
/** The metrics Celeriac's own code registers (not prom-client's default collectors). */
export type CeleriacMetricSpec = Exclude<CatalogueSpec, { source: 'runtime' }>;
export type CeleriacMetricName = CeleriacMetricSpec['name'];
export type CeleriacMetricNameOf<Type extends MetricType> = Extract<CeleriacMetricSpec, { type: Type }>['name'];

function isCeleriacMetric(spec: CatalogueSpec): spec is CeleriacMetricSpec {
  const widened: MetricSpec = spec;
  return widened.source !== 'runtime';
}

/** The metrics Celeriac's code registers, in catalogue order. */
export const CELERIAC_METRICS: readonly CeleriacMetricSpec[] = METRICS.filter(isCeleriacMetric);
/** prom-client's default collectors, all in the `celeriac` family. */
export const RUNTIME_METRICS: readonly CatalogueSpec[] = METRICS.filter((spec) => !isCeleriacMetric(spec));

export const METRIC_NAMES: ReadonlySet<string> = new Set(METRICS.map((m) => m.name));

/** Names as they appear in the exposition (histograms add _bucket, _sum, _count). */
export function exposedNames(): Set<string> {
  const names = new Set<string>();
  for (const metric of METRICS) {
    if (metric.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    else names.add(metric.name);
  }
  return names;
}
