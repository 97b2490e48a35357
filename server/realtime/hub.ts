/**
 * Pushes the live model to browsers over socket.io.
 *
 * The state tells the hub *which* workers changed; the hub sends at most one delta per
 * FLUSH_INTERVAL_MS per view, whatever the event rate, with full rows for the changed workers
 * only. Liveness changes without any event (a SIGKILLed worker just stops talking), so each
 * flush also re-checks every worker's status against what clients were last sent.
 * A client that (re)connects subscribes again and gets a fresh snapshot.
 */
import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { Logger } from 'pino';
import type { Monitor } from '../monitor';
import type { WorkerRecord } from '../state/worker-registry';
import { REALTIME, VIEW_EVENTS, type EventsBatch, type StreamStatus, type TaskDetail, type TasksChanged, type WorkerSummary, type WorkersDelta, type WorkersSnapshot } from './types';
import { ViewData } from './views';

/** At most five updates a second per view and client, whatever the event rate. */
export const FLUSH_INTERVAL_MS = 200;
const WORKERS_ROOM = 'view:workers';
const OVERVIEW_ROOM = 'view:overview';
const TASKS_ROOM = 'view:tasks';
const QUEUES_ROOM = 'view:queues';
const EVENTS_ROOM = 'view:events';
const TASK_ROOM_PREFIX = 'task:';
/** The overview is resent at least this often (times move even without events). */
const OVERVIEW_REFRESH_MS = 2_000;
/** Most event lines sent to one client per flush; a slower client gets the newest ones. */
const EVENTS_PER_FLUSH = 200;

export interface RealtimeOptions {
  path: string;
  /** Return false to refuse a handshake (basic auth). */
  authorize: (headers: Record<string, string | string[] | undefined>) => boolean;
}

export class RealtimeHub {
  readonly io: Server;
  private readonly dirtyWorkers = new Set<string>();
  private readonly removedWorkers = new Set<string>();
  private readonly sentStatus = new Map<string, 'online' | 'offline'>();
  private lastStream: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  readonly views: ViewData;
  private overviewVersion = -1;
  private overviewSentAt = 0;
  private tasksChanged = 0;
  private tasksCreated = 0;
  private readonly dirtyTasks = new Set<string>();
  private queuesDirty = false;
  /** Per-socket position in the event tail. */
  private readonly eventCursors = new Map<string, number>();

  constructor(httpServer: HttpServer, private readonly monitor: Monitor, options: RealtimeOptions, private readonly logger: Logger) {
    this.io = new Server(httpServer, {
      path: options.path,
      serveClient: false,
      allowRequest: (req, callback) => callback(null, options.authorize(req.headers)),
    });
    this.views = new ViewData(monitor);
    // Queues and pool size come from inspection: a fresh reply changes the row.
    monitor.inspector.onInspected((hostname) => this.dirtyWorkers.add(hostname));
    monitor.queueMonitor.onUpdate(() => {
      this.queuesDirty = true;
    });
    monitor.state.addListener({
      taskChanged: (task, event) => {
        this.tasksChanged++;
        if (event.type === 'task-sent' || (event.type === 'task-received' && task.sent === null && task.retries === 0)) this.tasksCreated++;
        this.dirtyTasks.add(task.uuid);
      },
      // No event yet, but the task page and the list show the "revoke pending" mark at once.
      taskRevokeRequested: (task) => {
        this.tasksChanged++;
        this.dirtyTasks.add(task.uuid);
      },
      workerChanged: (worker) => this.dirtyWorkers.add(worker.hostname),
      workerRemoved: (hostname) => {
        this.dirtyWorkers.delete(hostname);
        this.removedWorkers.add(hostname);
      },
    });
    this.io.on('connection', (socket) => this.onConnection(socket));
    this.timer = setInterval(() => this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  private onConnection(socket: Socket): void {
    socket.on(REALTIME.subscribe, (request: unknown) => {
      const room = roomOf(request);
      if (room === null) return;
      void socket.join(room);
      if (room === WORKERS_ROOM) socket.emit(REALTIME.workersSnapshot, this.workersSnapshot());
      else if (room === OVERVIEW_ROOM) socket.emit(VIEW_EVENTS.overviewSnapshot, this.views.overview(this.streamStatus()));
      else if (room === QUEUES_ROOM) socket.emit(VIEW_EVENTS.queuesSnapshot, this.views.queues(this.monitor.config.readOnly));
      else if (room === EVENTS_ROOM) {
        // A new subscriber starts with the recent tail.
        const batch = this.views.eventsAfter(Math.max(0, this.views.lastSeq - EVENTS_PER_FLUSH), EVENTS_PER_FLUSH);
        this.eventCursors.set(socket.id, this.views.lastSeq);
        socket.emit(VIEW_EVENTS.eventsBatch, { events: batch.events, skipped: 0 } satisfies EventsBatch);
      } else if (room.startsWith(TASK_ROOM_PREFIX)) socket.emit(VIEW_EVENTS.taskSnapshot, this.taskDetail(room.slice(TASK_ROOM_PREFIX.length)));
    });
    socket.on(REALTIME.unsubscribe, (request: unknown) => {
      const room = roomOf(request);
      if (room !== null) void socket.leave(room);
      if (room === EVENTS_ROOM) this.eventCursors.delete(socket.id);
    });
    socket.on('disconnect', () => this.eventCursors.delete(socket.id));
  }

  /** Everything the task page shows, or null for a task Celeriac does not know. */
  taskDetail(uuid: string): TaskDetail | null {
    const task = this.monitor.state.getTask(uuid);
    if (!task) return null;
    return {
      ...task.toFlowerDict(this.monitor.state.childrenOf(uuid)),
      queue: task.queue,
      terminated: task.terminated,
      signum: task.signum,
      expired: task.expired,
      extra: task.extra,
      revocation: task.revocationView(),
      readOnly: this.monitor.config.readOnly,
    };
  }

  /** The live views other than workers: each sends at most once per flush, and only if something changed. */
  private flushViews(): void {
    const rooms = this.io.sockets.adapter.rooms;
    const now = Date.now();
    if (rooms.has(OVERVIEW_ROOM) && (this.views.version !== this.overviewVersion || now - this.overviewSentAt >= OVERVIEW_REFRESH_MS)) {
      this.overviewVersion = this.views.version;
      this.overviewSentAt = now;
      this.io.to(OVERVIEW_ROOM).volatile.emit(VIEW_EVENTS.overviewUpdate, this.views.overview(this.streamStatus()));
    }
    if (this.tasksChanged > 0) {
      if (rooms.has(TASKS_ROOM)) this.io.to(TASKS_ROOM).emit(VIEW_EVENTS.tasksChanged, { changed: this.tasksChanged, created: this.tasksCreated, at: now / 1000 } satisfies TasksChanged);
      this.tasksChanged = 0;
      this.tasksCreated = 0;
    }
    for (const uuid of this.dirtyTasks) {
      const room = TASK_ROOM_PREFIX + uuid;
      // Not volatile: a task may not change again, so a dropped update would leave the page stale.
      if (rooms.has(room)) this.io.to(room).emit(VIEW_EVENTS.taskUpdate, this.taskDetail(uuid));
    }
    this.dirtyTasks.clear();
    if (this.queuesDirty && rooms.has(QUEUES_ROOM)) {
      this.io.to(QUEUES_ROOM).volatile.emit(VIEW_EVENTS.queuesUpdate, this.views.queues(this.monitor.config.readOnly));
    }
    this.queuesDirty = false;
    const members = rooms.get(EVENTS_ROOM);
    if (members) {
      for (const id of members) {
        const socket = this.io.sockets.sockets.get(id);
        const cursor = this.eventCursors.get(id) ?? this.views.lastSeq;
        if (!socket || cursor >= this.views.lastSeq) continue;
        const batch = this.views.eventsAfter(cursor, EVENTS_PER_FLUSH);
        this.eventCursors.set(id, this.views.lastSeq);
        socket.emit(VIEW_EVENTS.eventsBatch, batch satisfies EventsBatch);
      }
    }
  }

  /** A worker's row: what events say, plus its queues and pool size from inspection. */
  private summary(worker: WorkerRecord, now: number): WorkerSummary {
    const inspection = this.monitor.inspector.get(worker.hostname);
    const stats = inspection?.stats;
    const pool = typeof stats === 'object' && stats !== null && !Array.isArray(stats) ? stats.pool : undefined;
    const processes = typeof pool === 'object' && pool !== null && !Array.isArray(pool) ? pool.processes : undefined;
    const maxConcurrency = typeof pool === 'object' && pool !== null && !Array.isArray(pool) ? pool['max-concurrency'] : undefined;
    return {
      ...worker.summary(now),
      queues: inspection?.active_queues !== undefined ? this.monitor.inspector.activeQueues(worker.hostname) : null,
      poolSize: Array.isArray(processes) ? processes.length : typeof maxConcurrency === 'number' ? maxConcurrency : null,
    };
  }

  streamStatus(): StreamStatus {
    const status = this.monitor.transport.status();
    return { broker: this.monitor.config.brokerRedacted, connected: status.connected, reason: status.reason, since: status.since };
  }

  workersSnapshot(): WorkersSnapshot {
    const now = Date.now() / 1000;
    const workers = [...this.monitor.state.workers.values()].map((w) => this.summary(w, now));
    for (const w of workers) this.sentStatus.set(w.hostname, w.status);
    return { workers, stream: this.streamStatus() };
  }

  /** Build and send one delta per view. Exposed for tests. */
  flush(): void {
    this.flushViews();
    this.flushWorkers();
  }

  private flushWorkers(): void {
    const now = Date.now() / 1000;
    const state = this.monitor.state;
    for (const worker of state.workers.values()) {
      const status = worker.isAlive(now) ? 'online' : 'offline';
      if (this.sentStatus.get(worker.hostname) !== status) this.dirtyWorkers.add(worker.hostname);
    }
    const stream = this.streamStatus();
    const streamKey = `${stream.connected}|${stream.reason}`;
    if (this.dirtyWorkers.size === 0 && this.removedWorkers.size === 0 && streamKey === this.lastStream) return;
    this.lastStream = streamKey;
    const upserts = [];
    for (const hostname of this.dirtyWorkers) {
      const worker = state.workers.get(hostname);
      if (!worker) continue;
      const summary = this.summary(worker, now);
      this.sentStatus.set(hostname, summary.status);
      upserts.push(summary);
    }
    for (const hostname of this.removedWorkers) this.sentStatus.delete(hostname);
    const delta: WorkersDelta = { upserts, removed: [...this.removedWorkers], stream };
    this.dirtyWorkers.clear();
    this.removedWorkers.clear();
    this.io.to(WORKERS_ROOM).emit(REALTIME.workersDelta, delta);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await new Promise<void>((resolve) => {
      this.io.close(() => resolve());
    });
    this.logger.debug('realtime hub closed');
  }
}

/** The room of a subscription request, or null for anything else (ignored). */
function roomOf(request: unknown): string | null {
  if (request === 'workers') return WORKERS_ROOM;
  if (request === 'overview') return OVERVIEW_ROOM;
  if (request === 'tasks') return TASKS_ROOM;
  if (request === 'queues') return QUEUES_ROOM;
  if (request === 'events') return EVENTS_ROOM;
  if (typeof request === 'object' && request !== null) {
    const { view, id } = request as { view?: unknown; id?: unknown };
    if (view === 'task' && typeof id === 'string' && id.length > 0 && id.length <= 255) return TASK_ROOM_PREFIX + id;
  }
  return null;
}
