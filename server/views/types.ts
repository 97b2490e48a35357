/**
 * What the read model answers (server/views/read-model.ts): plain JSON shapes served alike by the
 * REST API, the server-rendered pages and the live views, and read by components/. Keep them plain
 * JSON: they cross the wire. The socket protocol around them is in server/realtime/types.ts.
 */
import type { QueueInfo } from '../control/queue-monitor';
import type { StoreStatus } from '../store';
import type { JsonValue } from '../protocol/events';
import type { FlowerTaskDict, RevocationView } from '../state/task-record';
import type { TimelineStep } from '../state/task-timeline';
import type { WorkerFacts } from '../state/worker-registry';

export type { FlowerTaskDict, RevocationView } from '../state/task-record';
export type { TimelineStep } from '../state/task-timeline';

/** One row of the workers view: what events say, plus what inspection adds. */
export type WorkerSummary = WorkerFacts & {
  /** Queues the worker consumes (from its last active_queues reply), null before inspection. */
  queues: string[] | null;
  /** Pool processes/threads (from its last stats reply), null before inspection. */
  poolSize: number | null;
};

/** Connection state of the event stream, shown as a banner when it is down. */
export interface StreamStatus {
  broker: string; // URL with any password masked
  connected: boolean;
  /** Human reason while disconnected, e.g. "connect ECONNREFUSED 127.0.0.1:6379". */
  reason: string | null;
  /** Epoch seconds since which the current state holds. */
  since: number;
}

export interface WorkersSnapshot {
  workers: WorkerSummary[];
  stream: StreamStatus;
}

/** One point of the overview's throughput chart: events per state in a 10-second bucket. */
export interface ThroughputPoint {
  /** Bucket start, epoch seconds. */
  t: number;
  received: number;
  succeeded: number;
  failed: number;
  retried: number;
  revoked: number;
}

export interface OverviewSnapshot {
  at: number;
  stream: StreamStatus;
  workers: { online: number; offline: number };
  /** Tasks executing now (sum of workers' heartbeat `active`). */
  activeTasks: number;
  /** Tasks in memory (the window with a store). */
  tasksRetained: number;
  /** Tasks the store keeps (measured every 30 s), or null without a store or before the first measurement. */
  tasksStored: number | null;
  queues: { name: string; messages: number }[];
  /** Last 15 minutes, 10-second buckets, oldest first. */
  throughput: ThroughputPoint[];
  /** Failure ratio over the last 5 minutes (failed / (failed + succeeded)), null without traffic. */
  failureRatio: number | null;
  /** Runtime percentiles (seconds) of tasks that succeeded in the last 5 minutes. */
  runtime: { p50: number | null; p95: number | null; p99: number | null; count: number };
  topFailing: { name: string; count: number }[];
  topExceptions: { exception: string; count: number }[];
}

/** The task page: Flower's task fields plus what Celeriac knows beyond them. */
export type TaskDetail = FlowerTaskDict & {
  queue: string | null;
  terminated: boolean | null;
  signum: number | string | null;
  expired: boolean | null;
  extra: Record<string, JsonValue> | null;
  /** The revocation Celeriac sent and where it stands ("revoke pending" until a worker reports REVOKED). */
  revocation: RevocationView | null;
  /**
   * Every event of the task in arrival order (each retry's received/started as its own step),
   * bounded: the first `eventsHead` are the task's first events, the rest its latest, and
   * `eventsOmitted` counts those left out between.
   */
  events: TimelineStep[];
  eventsOmitted: number;
  eventsHead: number;
  /** Controls are hidden in read-only mode. */
  readOnly: boolean;
};

/** One row of Celeriac's tasks list (`/api/celeriac/tasks`): Flower's fields plus the revocation mark. */
export type TaskRow = FlowerTaskDict & { revocation: RevocationView | null };

export interface QueuesSnapshot {
  at: number;
  updatedAt: number | null;
  stale: boolean;
  error: string | null;
  /** Every known queue as the last poll counted it, with whether Celeriac paused it. */
  queues: (QueueInfo & { paused: boolean })[];
  /** Length per queue over the last 30 minutes, one point per poll (at most 900). */
  history: { t: number; lengths: Record<string, number> }[];
  readOnly: boolean;
}

/** One line of the live event tail. */
export interface EventLine {
  seq: number;
  localReceived: number;
  timestamp: number;
  type: string;
  hostname: string;
  uuid: string | null;
  name: string | null;
  /** A short description of the interesting fields (result, exception, runtime…). */
  summary: string;
}

/** One task of a workflow graph, with the times the graph's tooltips and ordering use. */
export interface WorkflowNode {
  uuid: string;
  name: string | null;
  state: string;
  parent_id: string | null;
  worker: string | null;
  sent: number | null;
  received: number | null;
  started: number | null;
  succeeded: number | null;
  failed: number | null;
  runtime: number | null;
}

/** The DAG of a task's workflow (every retained task with the same root_id). */
export interface WorkflowView {
  root: string;
  /** More tasks share the root than the limit let in. */
  truncated: boolean;
  nodes: WorkflowNode[];
  edges: { from: string; to: string }[];
}

/** A page of the tasks list: rows in result order and how many matched in all. */
export interface TasksPage {
  total: number;
  offset: number;
  tasks: TaskRow[];
  /**
   * Why this page is answered from memory although a store keeps history (it is behind, or its
   * read failed or timed out): then it holds only the tasks memory retains. Null when the store
   * answered, or there is none.
   */
  historyNote: string | null;
}

/** One worker's page: its live row, its inspect data (Flower's shape) and whether it is paused. */
export interface WorkerView {
  summary: WorkerSummary | null;
  inspect: Record<string, JsonValue> | null;
  paused: boolean;
}

/** Celeriac's own health (`/api/celeriac/status`), without the live-view client counts. */
export interface CeleriacStatus {
  broker: string;
  transport: 'redis' | 'amqp';
  stream: { connected: boolean; reason: string | null; since: number; connects: number };
  uptimeSeconds: number;
  events: {
    received: number;
    byType: Record<string, number>;
    dropped: Record<string, number>;
    droppedTotal: number;
    ignored: number;
    lastEventAt: number | null;
  };
  state: { tasks: number; maxTasks: number; tasksEvicted: number; workers: number; maxWorkers: number; workersEvicted: number };
  process: { rss: number; heapUsed: number };
  /** The history store's health: null with `--store memory`. */
  store: StoreStatus | null;
}

/**
 * One task of an export (`/api/celeriac/tasks/export`, CSV or NDJSON): the fields people
 * analyse, flat, times as epoch seconds.
 */
export interface ExportedTask {
  uuid: string;
  name: string | null;
  state: string;
  worker: string | null;
  queue: string | null;
  sent: number | null;
  received: number | null;
  started: number | null;
  succeeded: number | null;
  failed: number | null;
  retried: number | null;
  revoked: number | null;
  runtime: number | null;
  retries: number | null;
  args: string | null;
  kwargs: string | null;
  result: string | null;
  exception: string | null;
  traceback: string | null;
  root_id: string | null;
  parent_id: string | null;
}

export const EXPORTED_TASK_FIELDS: readonly (keyof ExportedTask)[] = [
  'uuid',
  'name',
  'state',
  'worker',
  'queue',
  'sent',
  'received',
  'started',
  'succeeded',
  'failed',
  'retried',
  'revoked',
  'runtime',
  'retries',
  'args',
  'kwargs',
  'result',
  'exception',
  'traceback',
  'root_id',
  'parent_id',
];
