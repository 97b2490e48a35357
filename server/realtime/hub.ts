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
import { REALTIME, type StreamStatus, type WorkersDelta, type WorkersSnapshot } from './types';

export const FLUSH_INTERVAL_MS = 500;
const WORKERS_ROOM = 'view:workers';

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

  constructor(httpServer: HttpServer, private readonly monitor: Monitor, options: RealtimeOptions, private readonly logger: Logger) {
    this.io = new Server(httpServer, {
      path: options.path,
      serveClient: false,
      allowRequest: (req, callback) => callback(null, options.authorize(req.headers)),
    });
    monitor.state.addListener({
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
    socket.on(REALTIME.subscribe, (view: unknown) => {
      if (view === 'workers') {
        void socket.join(WORKERS_ROOM);
        socket.emit(REALTIME.workersSnapshot, this.workersSnapshot());
      }
    });
    socket.on(REALTIME.unsubscribe, (view: unknown) => {
      if (view === 'workers') void socket.leave(WORKERS_ROOM);
    });
  }

  streamStatus(): StreamStatus {
    const status = this.monitor.transport.status();
    return { broker: this.monitor.config.brokerRedacted, connected: status.connected, reason: status.reason, since: status.since };
  }

  workersSnapshot(): WorkersSnapshot {
    const now = Date.now() / 1000;
    const workers = [...this.monitor.state.workers.values()].map((w) => w.summary(now));
    for (const w of workers) this.sentStatus.set(w.hostname, w.status);
    return { workers, stream: this.streamStatus() };
  }

  /** Build and send one delta. Exposed for tests. */
  flush(): void {
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
      const summary = worker.summary(now);
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
