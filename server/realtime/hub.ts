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
import type { HistoryQueries, LiveQueries } from '../views/read-model';
import { REALTIME, VIEW_EVENTS, type EventsBatch, type TaskDetail, type TasksChanged, type WorkerSummary, type WorkersDelta } from './types';

/** What the hub reads: the live views of the read model, and one task's page. */
export type HubReads = Pick<LiveQueries, 'workers' | 'workerRow' | 'workerLiveness' | 'stream' | 'overview' | 'overviewVersion' | 'queues' | 'eventsAfter' | 'lastEventSeq'> &
  Pick<HistoryQueries, 'taskDetail'>;

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

  constructor(
    httpServer: HttpServer,
    private readonly read: HubReads,
    options: RealtimeOptions,
    private readonly logger: Logger,
  ) {
    this.io = new Server(httpServer, {
      path: options.path,
      serveClient: false,
      allowRequest: (req, callback) => {
        const refusal = options.authorize(req.headers);
        callback(refusal, refusal === null);
      },
    });
    this.io.on('connection', (socket) => this.onConnection(socket));
    this.timer = setInterval(() => this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  // --- What changed: called by the composition root (server/wiring.ts) ---------------------

  /** A worker's row changed (an event, or a fresh inspection reply: queues and pool size). */
  workerChanged(hostname: string): void {
    this.dirtyWorkers.add(hostname);
    // Forgotten and heard from again within one flush: the next delta upserts it only, so no
    // client has to guess the order of `removed` and `upserts`.
    this.removedWorkers.delete(hostname);
  }

  /** A worker is no longer tracked (purged or evicted). */
  workerRemoved(hostname: string): void {
    this.dirtyWorkers.delete(hostname);
    this.removedWorkers.add(hostname);
  }

  /** A task changed; `created` when the change made it known (for the tasks page's "N new"). */
  taskChanged(uuid: string, created: boolean): void {
    this.tasksChanged++;
    if (created) this.tasksCreated++;
    this.dirtyTasks.add(uuid);
  }

  /** Fresh queue lengths. */
  queuesChanged(): void {
    this.queuesDirty = true;
  }

  // --- Sending ------------------------------------------------------------------------------

  private onConnection(socket: Socket): void {
    socket.on(REALTIME.subscribe, (request: unknown) => {
      const room = roomOf(request);
      if (room === null) return;
      void socket.join(room);
      if (room === WORKERS_ROOM) socket.emit(REALTIME.workersSnapshot, this.read.workers());
      else if (room === OVERVIEW_ROOM) socket.emit(VIEW_EVENTS.overviewSnapshot, this.read.overview());
      else if (room === QUEUES_ROOM) socket.emit(VIEW_EVENTS.queuesSnapshot, this.read.queues());
      else if (room === EVENTS_ROOM) {
        // A new subscriber starts with the recent tail.
        const last = this.read.lastEventSeq();
        const batch = this.read.eventsAfter(Math.max(0, last - EVENTS_PER_FLUSH), EVENTS_PER_FLUSH);
        this.eventCursors.set(socket.id, last);
        socket.emit(VIEW_EVENTS.eventsBatch, { events: batch.events, skipped: 0 } satisfies EventsBatch);
      } else if (room.startsWith(TASK_ROOM_PREFIX)) this.sendTask(room.slice(TASK_ROOM_PREFIX.length), (detail) => socket.emit(VIEW_EVENTS.taskSnapshot, detail));
    });
    socket.on(REALTIME.unsubscribe, (request: unknown) => {
      const room = roomOf(request);
      if (room !== null) void socket.leave(room);
      if (room === EVENTS_ROOM) this.eventCursors.delete(socket.id);
    });
    socket.on('disconnect', () => this.eventCursors.delete(socket.id));
  }

  /** Read a task's page and hand it to `send`; a failed read is logged, the page keeps its last state. */
  private sendTask(uuid: string, send: (detail: TaskDetail | null) => void): void {
    this.read.taskDetail(uuid).then(send, (error: unknown) => this.logger.warn({ err: String(error), task: uuid }, 'could not read a task for the live view'));
  }

  /** The live views other than workers: each sends at most once per flush, and only if something changed. */
  private flushViews(): void {
    const rooms = this.io.sockets.adapter.rooms;
    const now = Date.now();
    const overviewVersion = this.read.overviewVersion();
    if (rooms.has(OVERVIEW_ROOM) && (overviewVersion !== this.overviewVersion || now - this.overviewSentAt >= OVERVIEW_REFRESH_MS)) {
      this.overviewVersion = overviewVersion;
      this.overviewSentAt = now;
      this.io.to(OVERVIEW_ROOM).volatile.emit(VIEW_EVENTS.overviewUpdate, this.read.overview());
    }
    if (this.tasksChanged > 0) {
      if (rooms.has(TASKS_ROOM)) this.io.to(TASKS_ROOM).emit(VIEW_EVENTS.tasksChanged, { changed: this.tasksChanged, created: this.tasksCreated, at: now / 1000 } satisfies TasksChanged);
      this.tasksChanged = 0;
      this.tasksCreated = 0;
    }
    for (const uuid of this.dirtyTasks) {
      const room = TASK_ROOM_PREFIX + uuid;
      // Not volatile: a task may not change again, so a dropped update would leave the page stale.
      if (rooms.has(room)) this.sendTask(uuid, (detail) => this.io.to(room).emit(VIEW_EVENTS.taskUpdate, detail));
    }
    this.dirtyTasks.clear();
    if (this.queuesDirty && rooms.has(QUEUES_ROOM)) {
      this.io.to(QUEUES_ROOM).volatile.emit(VIEW_EVENTS.queuesUpdate, this.read.queues());
    }
    this.queuesDirty = false;
    const members = rooms.get(EVENTS_ROOM);
    if (members) {
      const last = this.read.lastEventSeq();
      for (const id of members) {
        const socket = this.io.sockets.sockets.get(id);
        const cursor = this.eventCursors.get(id) ?? last;
        if (!socket || cursor >= last) continue;
        const batch = this.read.eventsAfter(cursor, EVENTS_PER_FLUSH);
        this.eventCursors.set(id, last);
        socket.emit(VIEW_EVENTS.eventsBatch, batch satisfies EventsBatch);
      }
    }
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

  /**
   * The workers room's delta. What the room was last told (`sentStatus`) changes only here, so
   * snapshots served to the API, the pages or new subscribers never hide a change from the room;
   * a subscriber whose snapshot is newer gets the same rows again in the next delta (harmless).
   */
  private flushWorkers(): void {
    for (const [hostname, alive] of Object.entries(this.read.workerLiveness())) {
      if (this.sentStatus.get(hostname) !== (alive ? 'online' : 'offline')) this.dirtyWorkers.add(hostname);
    }
    const stream = this.read.stream();
    const streamKey = `${stream.connected}|${stream.reason}`;
    if (this.dirtyWorkers.size === 0 && this.removedWorkers.size === 0 && streamKey === this.lastStream) return;
    this.lastStream = streamKey;
    const upserts: WorkerSummary[] = [];
    for (const hostname of this.dirtyWorkers) {
      const summary = this.read.workerRow(hostname);
      if (!summary) continue;
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
