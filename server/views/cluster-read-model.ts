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
import type {
  CeleriacStatus,
  ExportedTask,
  FlowerTaskDict,
  OverviewSnapshot,
  QueuesSnapshot,
  StreamStatus,
  TaskDetail,
  TaskRow,
  TasksPage,
  WorkerSummary,
  WorkerView,
  WorkersSnapshot,
  WorkflowView,
} from './types';
import type { QueueHistoryView, TrendsView } from './trend-types';
import { queueHistoryView, trendsView, type TrendSource, type TrendsRequest } from './trends-view';
import { errorText, RequestError } from '../errors';

/** What the read model reads of the inspect cache (server/control/inspector.ts). */
export interface InspectionSource {
  get(hostname: string): WorkerInspection | undefined;
  all(): ReadonlyMap<string, WorkerInspection>;
  registered(hostname: string): string[];
  activeQueues(hostname: string): string[];
  allActiveQueues(): ReadonlySet<string>;
}

/** The most tasks one history answer holds from the store (memory answers are bounded by --max-tasks). */
export const MAX_HISTORY_PAGE = 100_000;

/** What the read model asks of the store for history (server/store/index.ts answers it). */
export interface StoredTaskSource {
  /** Write what is pending; true when the store now holds every change made so far. */
  catchUp(): Promise<boolean>;
  /** `count: false` skips the total (null then): Flower's list has none, and counting every match costs. */
  tasksPage(filter: TaskFilter, options?: { count?: boolean }): Promise<{ total: number | null; tasks: TaskRecord[] }>;
  task(uuid: string): Promise<TaskRecord | null>;
  children(uuids: readonly string[]): Promise<Map<string, string[]>>;
  workflow(root: string, limit: number): Promise<{ nodes: TaskRecord[]; total: number }>;
  taskNames(): Promise<string[]>;
  /** Every stored task matching the filter's conditions (not its offset or limit), in result order. */
  scanTasks(filter: TaskFilter): AsyncIterable<TaskRecord[]>;
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
  /** History beyond memory (server/store/), or null with `--store memory`. */
  storedTasks?: StoredTaskSource | null;
  /** The trend aggregates (server/store/trends.ts): durable with a store, the last 24 h in memory without. */
  trends?: TrendSource;
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
    const found = await this.findTasks(filter, false);
    return found.tasks.map((t) => t.toFlowerDict(found.children(t.uuid)));
  }

  async flowerTask(uuid: string): Promise<FlowerTaskDict | null> {
    const found = await this.findTask(uuid);
    return found ? found.task.toFlowerDict(found.children) : null;
  }

  async tasksPage(filter: TaskFilter): Promise<TasksPage> {
    const found = await this.findTasks(filter);
    return {
      total: found.total,
      offset: filter.offset,
      historyNote: found.historyNote,
      tasks: found.tasks.map((t) => ({ ...t.toFlowerDict(found.children(t.uuid)), revocation: t.revocationView() }) satisfies TaskRow),
    };
  }

  async taskDetail(uuid: string): Promise<TaskDetail | null> {
    const found = await this.findTask(uuid);
    if (!found) return null;
    const { task } = found;
    return {
      ...task.toFlowerDict(found.children),
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
    const workflow = await this.findWorkflow(uuid, limit);
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

  async *exportTasks(filter: TaskFilter): AsyncGenerator<ExportedTask[]> {
    const end = filter.limit === null ? Number.POSITIVE_INFINITY : filter.offset + filter.limit;
    let seen = 0;
    const stored = await this.currentStore();
    // From memory when there is no store or it is behind (then what memory retains).
    const batches: AsyncIterable<TaskRecord[]> | Iterable<TaskRecord[]> = stored ? stored.scanTasks(filter) : [queryTasksPage(this.state.tasks.values(), { ...filter, offset: 0, limit: null }).tasks];
    for await (const batch of batches) {
      const kept: ExportedTask[] = [];
      for (const task of batch) {
        if (seen >= filter.offset && seen < end) kept.push(exported(task));
        seen++;
        if (seen >= end) break;
      }
      if (kept.length > 0) yield kept;
      if (seen >= end) return;
    }
  }

  async taskTypes(): Promise<string[]> {
    const inMemory = this.state.taskTypes();
    const stored = this.sources.storedTasks;
    if (!stored) return inMemory;
    const names = await stored.taskNames().catch(() => [] as string[]);
    return [...new Set([...inMemory, ...names])].sort();
  }

  async audit(query: AuditQuery): Promise<{ total: number; entries: AuditEntry[] }> {
    return this.sources.audit.query(query);
  }

  async trends(request: TrendsRequest): Promise<TrendsView> {
    return trendsView(this.trendSource(), request, this.now());
  }

  async queueHistory(request: Omit<TrendsRequest, 'name'>): Promise<QueueHistoryView> {
    return queueHistoryView(this.trendSource(), request, this.now());
  }

  private trendSource(): TrendSource {
    if (!this.sources.trends) throw new RequestError(404, 'Trends are not kept by this Celeriac');
    return this.sources.trends;
  }

  /**
   * The store, once it holds every change made so far, or null: no store, or one that is behind
   * (failing, not ready) — then history is answered from memory, which is current but holds
   * only what it retains.
   */
  private async currentStore(): Promise<StoredTaskSource | null> {
    const stored = this.sources.storedTasks;
    if (!stored) return null;
    return (await stored.catchUp().catch(() => false)) ? stored : null;
  }

  /** The page of tasks matching `filter`, from the store when it is current, else from memory. */
  private async findTasks(filter: TaskFilter, count = true): Promise<{ total: number; tasks: TaskRecord[]; children: (uuid: string) => string[]; historyNote: string | null }> {
    const stored = await this.currentStore();
    let historyNote: string | null = this.sources.storedTasks && !stored ? 'the store is behind or unavailable' : null;
    if (stored) {
      try {
        // Flower's /api/tasks without a limit answers every retained task. Over a store of
        // millions that would be one unbounded answer: without a limit it is the newest
        // --max-tasks (what memory retains, all Flower could ever return), and no page holds more
        // than MAX_HISTORY_PAGE. Offsets page beyond either.
        const limit = Math.min(filter.limit ?? this.sources.maxTasks, MAX_HISTORY_PAGE);
        const page = await stored.tasksPage({ ...filter, limit }, { count });
        const children = await stored.children(page.tasks.map((t) => t.uuid));
        return { total: page.total ?? page.tasks.length, tasks: page.tasks, children: (uuid) => children.get(uuid) ?? [], historyNote: null };
      } catch (error) {
        // Logged by the store; memory answers instead, and the page says so.
        historyNote = `the store's read failed: ${errorText(error)}`;
      }
    }
    const page = queryTasksPage(this.state.tasks.values(), filter);
    return { ...page, children: (uuid) => this.state.childrenOf(uuid), historyNote: historyNote === null ? null : `${historyNote}; these are the tasks memory holds` };
  }

  /** One task: memory holds the live record when it retains it; the store has the rest. */
  private async findTask(uuid: string): Promise<{ task: TaskRecord; children: string[] } | null> {
    const live = this.state.getTask(uuid);
    if (live) return { task: live, children: this.state.childrenOf(uuid) };
    const stored = this.sources.storedTasks;
    if (!stored) return null;
    try {
      const task = await stored.task(uuid);
      if (!task) return null;
      const children = await stored.children([uuid]);
      return { task, children: children.get(uuid) ?? [] };
    } catch {
      return null;
    }
  }

  private async findWorkflow(uuid: string, limit: number): Promise<{ root: string; nodes: TaskRecord[]; edges: [string, string][]; truncated: boolean } | null> {
    const stored = await this.currentStore();
    if (stored) {
      try {
        const task = this.state.getTask(uuid) ?? (await stored.task(uuid));
        if (!task) return null;
        const root = task.rootId ?? task.uuid;
        const members = await stored.workflow(root, limit);
        const kept = new Set(members.nodes.map((n) => n.uuid));
        const edges: [string, string][] = [];
        for (const node of members.nodes) if (node.parentId !== null && kept.has(node.parentId)) edges.push([node.parentId, node.uuid]);
        return { root, nodes: members.nodes, edges, truncated: members.total > members.nodes.length };
      } catch {
        // Logged by the store; memory answers instead.
      }
    }
    return this.state.workflow(uuid, limit);
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
      tasksStored: this.sources.storeStatus?.()?.rows.tasks ?? null,
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

function exported(task: TaskRecord): ExportedTask {
  return {
    uuid: task.uuid,
    name: task.name,
    state: task.state,
    worker: task.worker,
    queue: task.queue ?? task.routingKey,
    sent: task.sent,
    received: task.received,
    started: task.started,
    succeeded: task.succeeded,
    failed: task.failed,
    retried: task.retried,
    revoked: task.revoked,
    runtime: task.runtime,
    retries: task.retries,
    args: task.args,
    kwargs: task.kwargs,
    result: task.result,
    exception: task.exception,
    traceback: task.traceback,
    root_id: task.rootId,
    parent_id: task.parentId,
  };
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
