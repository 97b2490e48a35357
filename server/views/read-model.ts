/**
 * The read model: the one place that answers "what does the cluster look like". The REST API
 * (server/http/), the server-rendered pages (through server/runtime.ts), the live views
 * (server/realtime/) and so the UI all ask it, never the state directly, so each answer is the
 * same whoever asks.
 *
 * Two kinds of question:
 * - history (tasks, workflows, task names, the audit log) — paged, filtered queries answered
 *   asynchronously, because a durable store (SQLite, PostgreSQL) answers them beyond what memory
 *   retains; nothing here assumes every task is in memory;
 * - the live cluster (workers, queues, the overview, the event tail) — answered synchronously
 *   from the in-memory model that the event stream keeps current.
 */
import type { AuditEntry } from '../control/audit';
import type { PauseState } from '../control/pauses';
import type { WorkerInspection } from '../control/inspector';
import type { TaskFilter } from '../state/task-query';
import type {
  CeleriacStatus,
  EventLine,
  ExportedTask,
  FlowerTaskDict,
  OverviewSnapshot,
  QueuesSnapshot,
  StreamStatus,
  TaskDetail,
  TasksPage,
  WorkerSummary,
  WorkerView,
  WorkersSnapshot,
  WorkflowView,
} from './types';
import type { QueueHistoryView, TrendsView } from './trend-types';
import type { TrendsRequest } from './trends-view';

export interface AuditQuery {
  limit: number;
  offset: number;
  action: string | null;
  target: string | null;
}

/** Flower's `/api/workers`: each worker's inspect cache entry (`{}` until one method answered). */
export type WorkerInspections = Record<string, WorkerInspection | Record<string, never>>;

export interface HistoryQueries {
  /** Tasks matching `filter`, in result order (Flower's `/api/tasks`). */
  flowerTasks(filter: TaskFilter): Promise<FlowerTaskDict[]>;
  /** One task in Flower's shape, or null when unknown. */
  flowerTask(uuid: string): Promise<FlowerTaskDict | null>;
  /** A page of Celeriac's tasks list, with the total for paging. */
  tasksPage(filter: TaskFilter): Promise<TasksPage>;
  /** Everything the task page shows, or null when unknown. */
  taskDetail(uuid: string): Promise<TaskDetail | null>;
  /** The workflow a task belongs to, at most `limit` nodes (earliest first), or null when unknown. */
  workflow(uuid: string, limit: number): Promise<WorkflowView | null>;
  /**
   * Every task matching `filter` (its offset and limit included), in result order, a batch at a
   * time: an export streams them without holding them all.
   */
  exportTasks(filter: TaskFilter): AsyncIterable<ExportedTask[]>;
  /** Task names seen, sorted (Flower's `/api/task/types`). */
  taskTypes(): Promise<string[]>;
  /** Control actions taken through Celeriac, newest first. */
  audit(query: AuditQuery): Promise<{ total: number; entries: AuditEntry[] }>;
  /** Throughput, failure ratio, runtime and wait percentiles over a range, the previous period, and per task name. */
  trends(request: TrendsRequest): Promise<TrendsView>;
  /** Queue lengths over a range (the largest and last polled per step). */
  queueHistory(request: Omit<TrendsRequest, 'name'>): Promise<QueueHistoryView>;
}

export interface LiveQueries {
  stream(): StreamStatus;
  workers(): WorkersSnapshot;
  /** One worker's row of the workers view, or null when it is not (or no longer) tracked. */
  workerRow(hostname: string): WorkerSummary | null;
  /** One worker, or null when neither events nor inspection know it. */
  worker(hostname: string): WorkerView | null;
  /** Every known worker's liveness (Flower's `/api/workers?status=1`). */
  workerLiveness(): Record<string, boolean>;
  /** Inspect data of every known worker, or of one (null when that one is unknown). */
  workerInspections(hostname?: string): WorkerInspections | null;
  overview(): OverviewSnapshot;
  /** Bumped whenever something the overview shows changed (the live views resend on change). */
  overviewVersion(): number;
  queues(): QueuesSnapshot;
  /** Queue names known from any source, sorted (send-task form). */
  queueNames(): string[];
  /** Task names registered on any inspected worker, sorted (send-task autocomplete). */
  registeredTasks(): string[];
  pauses(): Readonly<PauseState>;
  /** Event lines after `seq`, at most `limit` (the newest when there are more). */
  eventsAfter(seq: number, limit: number): { events: EventLine[]; skipped: number };
  lastEventSeq(): number;
  /** Celeriac's own health: stream, intake counters, retention. */
  status(): CeleriacStatus;
}

export interface ReadModel extends HistoryQueries, LiveQueries {}
