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
/**
 * Packets socket.io may hold for one client that does not read (a frozen tab, a stalled
 * network): about 10 s of updates. Past it the client is disconnected, so its buffer cannot
 * grow Celeriac's memory; once it reads again it reconnects and resyncs from fresh snapshots.
 */
export const MAX_PENDING_PACKETS = 50;

export interface RealtimeOptions {
  path: string;
  /**
   * The access rule (server/http/access.ts): null lets the handshake through, a message refuses
   * it (engine.io answers 403 with `{"code": 4, "message": <the message>}`). Nothing of the
   * cluster is sent before a handshake succeeds, so refusing it covers every subscription.
   */
  authorize: (headers: Record<string, string | string[] | undefined>) => string | null;
}

export class RealtimeHub {
  readonly io: Server;
  private readonly dirtyWorkers = new Set<string>();
  private readonly removedWorkers = new Set<string>();
  /** Each worker's status as the workers room was last told it, by flushWorkers() only. */
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
  /** Clients disconnected because they stopped reading (see MAX_PENDING_PACKETS). */
  private slowClientsDisconnected = 0;

  constructor(httpServer: HttpServer, private readonly monitor: Monitor, options: RealtimeOptions, private readonly logger: Logger) {
    this.io = new Server(httpServer, {
      path: options.path,
      serveClient: false,
      allowRequest: (req, callback) => {
        const refusal = options.authorize(req.headers);
        callback(refusal, refusal === null);
      },
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

  /**
   * The workers view as it is now. A read, free of side effects: it is served to API callers,
   * server rendering and new subscribers alike, none of which is the workers room. What the room
   * was last told (`sentStatus`) changes only in flushWorkers(); a subscriber whose snapshot is
   * newer than that gets the same rows again in the next delta, which is harmless.
   */
  workersSnapshot(): WorkersSnapshot {
    const now = Date.now() / 1000;
    const workers = [...this.monitor.state.workers.values()].map((w) => this.summary(w, now));
    return { workers, stream: this.streamStatus() };
  }

  /** Build and send one delta per view. Exposed for tests. */
  flush(): void {
    this.dropStalledClients();
    this.flushViews();
    this.flushWorkers();
  }

  /** Disconnect clients that stopped reading before their buffers grow (see MAX_PENDING_PACKETS). */
  private dropStalledClients(): void {
    for (const socket of this.io.sockets.sockets.values()) {
      const pending = pendingPackets(socket);
      if (pending <= MAX_PENDING_PACKETS) continue;
      this.slowClientsDisconnected++;
      this.logger.warn({ client: socket.handshake.address, pending }, 'disconnected a live-view client that stopped reading; it resyncs when it reconnects');
      socket.disconnect(true);
    }
  }

  /** Connected live-view clients, and how many were dropped for not reading. */
  clientStats(): { connected: number; slowDisconnected: number } {
    return { connected: this.io.sockets.sockets.size, slowDisconnected: this.slowClientsDisconnected };
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

/**
 * Packets engine.io holds for a client whose transport is not writable: it stops being writable
 * while the previous write waits for the kernel, which a client that does not read never empties.
 * engine.io keeps this buffer private; the realtime tests check that a stopped client is caught.
 */
function pendingPackets(socket: Socket): number {
  const buffer = (socket.conn as unknown as { writeBuffer?: unknown }).writeBuffer;
  return Array.isArray(buffer) ? buffer.length : 0;
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
