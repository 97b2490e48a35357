/**
 * The read model over the in-memory cluster model (ClusterState, the inspect cache, the queue
 * poller) and the live aggregates the composition root feeds. Every answer is a fresh plain
 * object: callers may serialise or keep it without seeing later changes.
 */
import type { AuditEntry } from '../control/audit';
import type { PauseState } from '../control/pauses';
import type { WorkerInspection } from '../control/inspector';
import type { QueueSnapshot } from '../control/queue-monitor';
import type { TransportStatus } from '../broker/transport';
import type { StoreStatus } from '../store';
import type { JsonValue } from '../protocol/events';
import type { ClusterState } from '../state/cluster-state';
import type { IngestCounters } from '../state/ingest';
import { queryTasksPage, type TaskFilter } from '../state/task-query';
import type { TaskRecord } from '../state/task-record';
import { TIMELINE_HEAD } from '../state/task-timeline';
import type { WorkerRecord } from '../state/worker-registry';
import type { EventTail } from './event-tail';
import type { LiveAggregates } from './live-aggregates';
import type { AuditQuery, ReadModel, WorkerInspections } from './read-model';
import type { CeleriacStatus, FlowerTaskDict, OverviewSnapshot, QueuesSnapshot, StreamStatus, TaskDetail, TaskRow, TasksPage, WorkerSummary, WorkerView, WorkersSnapshot, WorkflowView } from './types';

/** What the read model reads of the inspect cache (server/control/inspector.ts). */
export interface InspectionSource {
  get(hostname: string): WorkerInspection | undefined;
  all(): ReadonlyMap<string, WorkerInspection>;
  registered(hostname: string): string[];
  activeQueues(hostname: string): string[];
  allActiveQueues(): ReadonlySet<string>;
}

export interface ClusterReadSources {
  state: ClusterState;
  inspections: InspectionSource;
  queueSnapshot: () => QueueSnapshot;
  pauses: () => Readonly<PauseState>;
  /** The audit log (server/control/audit.ts): the store's when there is one, else memory. */
  audit: { query(query: AuditQuery): Promise<{ total: number; entries: AuditEntry[] }> };
  aggregates: LiveAggregates;
  events: EventTail;
  ingest: { readonly counters: IngestCounters; totalDropped(): number };
  transport: { readonly kind: 'redis' | 'amqp'; status(): TransportStatus };
  /** The broker URL with any password masked. */
  broker: string;
  readOnly: boolean;
  maxTasks: number;
  maxWorkers: number;
  /** Epoch seconds the process started. */
  startedAt: number;
  /** The store's health (server/store/), or null with `--store memory`. */
  storeStatus?: () => StoreStatus | null;
  now?: () => number;
}

export class ClusterReadModel implements ReadModel {
  private readonly state: ClusterState;
  private readonly now: () => number;

  constructor(private readonly sources: ClusterReadSources) {
    this.state = sources.state;
    this.now = sources.now ?? (() => Date.now() / 1000);
  }

  // --- History -----------------------------------------------------------------------------

  async flowerTasks(filter: TaskFilter): Promise<FlowerTaskDict[]> {
    return queryTasksPage(this.state.tasks.values(), filter).tasks.map((t) => this.flowerDict(t));
  }

  async flowerTask(uuid: string): Promise<FlowerTaskDict | null> {
    const task = this.state.getTask(uuid);
    return task ? this.flowerDict(task) : null;
  }

  async tasksPage(filter: TaskFilter): Promise<TasksPage> {
    const page = queryTasksPage(this.state.tasks.values(), filter);
    return { total: page.total, offset: filter.offset, tasks: page.tasks.map((t) => this.taskRow(t)) };
  }

  async taskDetail(uuid: string): Promise<TaskDetail | null> {
    const task = this.state.getTask(uuid);
    if (!task) return null;
    return {
      ...this.flowerDict(task),
      queue: task.queue,
      terminated: task.terminated,
      signum: task.signum,
      expired: task.expired,
      extra: task.extra,
      revocation: task.revocationView(),
      events: task.timeline.steps(),
      eventsOmitted: task.timeline.omitted,
      eventsHead: Math.min(TIMELINE_HEAD, task.timeline.length),
      readOnly: this.sources.readOnly,
    };
  }

  async workflow(uuid: string, limit: number): Promise<WorkflowView | null> {
    const workflow = this.state.workflow(uuid, limit);
    if (!workflow) return null;
    return {
      root: workflow.root,
      truncated: workflow.truncated,
      nodes: workflow.nodes.map((t) => ({
        uuid: t.uuid,
        name: t.name,
        state: t.state,
        parent_id: t.parentId,
        worker: t.worker,
        sent: t.sent,
        received: t.received,
        started: t.started,
        succeeded: t.succeeded,
        failed: t.failed,
        runtime: t.runtime,
      })),
      edges: workflow.edges.map(([from, to]) => ({ from, to })),
    };
  }

  async taskTypes(): Promise<string[]> {
    return this.state.taskTypes();
  }

  async audit(query: AuditQuery): Promise<{ total: number; entries: AuditEntry[] }> {
    return this.sources.audit.query(query);
  }

  private flowerDict(task: TaskRecord): FlowerTaskDict {
    return task.toFlowerDict(this.state.childrenOf(task.uuid));
  }

  private taskRow(task: TaskRecord): TaskRow {
    return { ...this.flowerDict(task), revocation: task.revocationView() };
  }

  // --- The live cluster ----------------------------------------------------------------------

  stream(): StreamStatus {
    const status = this.sources.transport.status();
    return { broker: this.sources.broker, connected: status.connected, reason: status.reason, since: status.since };
  }

  /**
   * The workers view as it is now. A read, free of side effects: the API, server rendering and
   * the live views' subscribers all get it, and none of them changes what another is sent.
   */
  workers(): WorkersSnapshot {
    const now = this.now();
    return { workers: [...this.state.workers.values()].map((w) => this.workerSummary(w, now)), stream: this.stream() };
  }

  /** One worker's row, or null when it is not (or no longer) tracked. */
  workerRow(hostname: string): WorkerSummary | null {
    const worker = this.state.workers.get(hostname);
    return worker ? this.workerSummary(worker, this.now()) : null;
  }

  worker(hostname: string): WorkerView | null {
    const inspect = this.sources.inspections.get(hostname);
    const summary = this.workerRow(hostname);
    if (!summary && !inspect) return null;
    return {
      summary,
      inspect: inspect ? (JSON.parse(JSON.stringify(inspect)) as Record<string, JsonValue>) : null,
      paused: Boolean(this.sources.pauses().workers[hostname]),
    };
  }

  workerLiveness(): Record<string, boolean> {
    const now = this.now();
    const status: Record<string, boolean> = {};
    for (const worker of this.state.workers.values()) status[worker.hostname] = worker.isAlive(now);
    return status;
  }

  workerInspections(hostname?: string): WorkerInspections | null {
    const inspections = this.sources.inspections;
    if (hostname !== undefined) {
      const data = inspections.get(hostname);
      if (!data && !this.state.workers.get(hostname)) return null;
      return { [hostname]: data ?? {} };
    }
    const all: WorkerInspections = {};
    for (const worker of this.state.workers.values()) all[worker.hostname] = inspections.get(worker.hostname) ?? {};
    for (const [name, data] of inspections.all()) all[name] = data;
    return all;
  }

  /** A worker's row: what events say, plus its queues and pool size from inspection. */
  private workerSummary(worker: WorkerRecord, now: number): WorkerSummary {
    const inspection = this.sources.inspections.get(worker.hostname);
    return {
      ...worker.facts(now),
      queues: inspection?.active_queues !== undefined ? this.sources.inspections.activeQueues(worker.hostname) : null,
      poolSize: poolSizeOf(inspection?.stats),
    };
  }

  overview(): OverviewSnapshot {
    const now = this.now();
    let online = 0;
    let offline = 0;
    let activeTasks = 0;
    for (const worker of this.state.workers.values()) {
      if (worker.isAlive(now)) {
        online++;
        activeTasks += worker.active;
      } else {
        offline++;
      }
    }
    const { aggregates } = this.sources;
    const recent = aggregates.recentOutcomes(now);
    return {
      at: now,
      stream: this.stream(),
      workers: { online, offline },
      activeTasks,
      tasksRetained: this.state.tasks.size,
      queues: this.sources
        .queueSnapshot()
        .queues.filter((q) => q.exists)
        .map((q) => ({ name: q.name, messages: q.messages })),
      throughput: aggregates.throughput(now),
      failureRatio: recent.finished === 0 ? null : recent.failed / recent.finished,
      runtime: recent.runtime,
      topFailing: recent.topFailing,
      topExceptions: recent.topExceptions,
    };
  }

  overviewVersion(): number {
    return this.sources.aggregates.version;
  }

  queues(): QueuesSnapshot {
    const snapshot = this.sources.queueSnapshot();
    const paused = this.sources.pauses().queues;
    return {
      at: this.now(),
      updatedAt: snapshot.updatedAt,
      stale: snapshot.stale,
      error: snapshot.error,
      queues: snapshot.queues.map((q) => ({ ...q, sources: [...q.sources], paused: Boolean(paused[q.name]) })),
      history: this.sources.aggregates.queueLengthHistory(),
      readOnly: this.sources.readOnly,
    };
  }

  queueNames(): string[] {
    return [...new Set([...this.sources.queueSnapshot().queues.map((q) => q.name), ...this.sources.inspections.allActiveQueues()])].sort();
  }

  registeredTasks(): string[] {
    const names = new Set<string>();
    const inspections = this.sources.inspections;
    for (const [hostname] of inspections.all()) for (const name of inspections.registered(hostname)) names.add(name);
    return [...names].sort();
  }

  pauses(): Readonly<PauseState> {
    return this.sources.pauses();
  }

  eventsAfter(seq: number, limit: number): ReturnType<EventTail['after']> {
    return this.sources.events.after(seq, limit);
  }

  lastEventSeq(): number {
    return this.sources.events.lastSeq;
  }

  status(): CeleriacStatus {
    const { ingest, transport } = this.sources;
    const counters = ingest.counters;
    const memory = process.memoryUsage();
    return {
      broker: this.sources.broker,
      transport: transport.kind,
      stream: transport.status(),
      uptimeSeconds: this.now() - this.sources.startedAt,
      events: {
        received: counters.events,
        byType: Object.fromEntries(counters.byType),
        dropped: counters.dropped,
        droppedTotal: ingest.totalDropped(),
        ignored: counters.ignored,
        lastEventAt: counters.lastEventAt,
      },
      state: {
        tasks: this.state.tasks.size,
        maxTasks: this.sources.maxTasks,
        tasksEvicted: this.state.taskEvictions,
        workers: this.state.workers.size,
        maxWorkers: this.sources.maxWorkers,
        workersEvicted: this.state.workerEvictions,
      },
      process: { rss: memory.rss, heapUsed: memory.heapUsed },
      store: this.sources.storeStatus?.() ?? null,
    };
  }
}

/** Pool processes (prefork) or max-concurrency (threads, gevent) from a worker's stats reply. */
function poolSizeOf(stats: JsonValue | undefined): number | null {
  const pool = isObject(stats) ? stats.pool : undefined;
  if (!isObject(pool)) return null;
  const processes = pool.processes;
  if (Array.isArray(processes)) return processes.length;
  const maxConcurrency = pool['max-concurrency'];
  return typeof maxConcurrency === 'number' ? maxConcurrency : null;
}

function isObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
