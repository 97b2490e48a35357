/**
 * Workers as Celery's `events.state.Worker` models them, plus Flower's per-worker event counters.
 *
 * Liveness is Celery's rule (docs/celery-wire-protocol.md §4.7): a worker is alive
 * while `now < last heartbeat + freq × 2`, judged entirely on Celeriac's own receive clock, so
 * a worker whose clock is skewed (or in another time zone) is judged correctly. `worker-offline`
 * makes it offline at once; a SIGKILLed worker sends nothing and simply times out.
 */
import type { WorkerEvent } from '../protocol/events';
import { LruMap } from './lru-map';

/** Celery's HEARTBEAT_EXPIRE_WINDOW (percent of freq). */
const HEARTBEAT_EXPIRE_WINDOW = 200;
/** Celery keeps the last 4 heartbeats (heartbeat_max). */
const HEARTBEAT_MAX = 4;
/** Celery's default heartbeat interval, used until a worker announces its own `freq`. */
const DEFAULT_FREQ = 60;

/** A worker as its events describe it. Times are epoch seconds (UTC). */
export interface WorkerFacts {
  hostname: string;
  status: 'online' | 'offline';
  /** Tasks currently executing on the worker (task-started not yet followed by an outcome). */
  active: number;
  /** Tasks the worker received (task-received events). */
  processed: number;
  succeeded: number;
  failed: number;
  retried: number;
  revoked: number;
  /** 1/5/15-minute load averages from the last heartbeat, or null before the first one. */
  loadavg: number[] | null;
  /** Celeriac's receive time of the worker's last heartbeat or task event, or null. */
  lastHeartbeat: number | null;
  /** Heartbeat interval the worker announced (seconds). */
  freq: number | null;
  pid: number | null;
  swIdent: string | null;
  swVer: string | null;
  swSys: string | null;
}

export class WorkerRecord {
  readonly hostname: string;
  pid: number | null = null;
  freq = DEFAULT_FREQ;
  freqKnown = false;
  /** Last receive times (Celeriac's clock, epoch seconds), ascending, at most HEARTBEAT_MAX. */
  readonly heartbeats: number[] = [];
  clock = 0;
  /** `active` and `processed` as the worker itself reports them in heartbeats. */
  active = 0;
  processedReported = 0;
  loadavg: number[] | null = null;
  swIdent: string | null = null;
  swVer: string | null = null;
  swSys: string | null = null;
  /** When the worker was last seen going offline (Celeriac's clock), for --purge-offline-workers. */
  offlineSince: number | null = null;
  /** Flower's `counter[hostname][event_type]`: every event seen from this worker, by type. */
  readonly eventCounts = new Map<string, number>();

  constructor(hostname: string) {
    this.hostname = hostname;
  }

  /** Celery's `Worker.alive`. */
  isAlive(now: number): boolean {
    const last = this.heartbeats[this.heartbeats.length - 1];
    return last !== undefined && now < last + (this.freq * HEARTBEAT_EXPIRE_WINDOW) / 100;
  }

  /** Epoch seconds at which the worker will be considered offline if nothing more arrives. */
  expiresAt(): number | null {
    const last = this.heartbeats[this.heartbeats.length - 1];
    return last === undefined ? null : last + (this.freq * HEARTBEAT_EXPIRE_WINDOW) / 100;
  }

  lastHeartbeat(): number | null {
    return this.heartbeats[this.heartbeats.length - 1] ?? null;
  }

  count(type: string): number {
    return this.eventCounts.get(type) ?? 0;
  }

  countEvent(type: string): void {
    this.eventCounts.set(type, (this.eventCounts.get(type) ?? 0) + 1);
  }

  /** Record a heartbeat at `localReceived` (also used for task events, as Celery does). */
  recordHeartbeat(localReceived: number): void {
    const hearts = this.heartbeats;
    if (hearts.length >= HEARTBEAT_MAX) hearts.shift();
    const last = hearts[hearts.length - 1];
    if (last === undefined || localReceived >= last) {
      hearts.push(localReceived);
    } else {
      // Out-of-order receive times (cannot happen with one receive clock, but keep Celery's sorted invariant).
      let i = hearts.length;
      while (i > 0 && (hearts[i - 1] as number) > localReceived) i--;
      hearts.splice(i, 0, localReceived);
    }
    this.offlineSince = null;
  }

  applyWorkerEvent(event: WorkerEvent): void {
    if (event.pid !== null) this.pid = event.pid;
    this.clock = event.clock;
    if (event.freq !== undefined) {
      this.freq = event.freq;
      this.freqKnown = true;
    }
    if (event.active !== undefined) this.active = event.active;
    if (event.processed !== undefined) this.processedReported = event.processed;
    if (event.loadavg !== undefined) this.loadavg = [...event.loadavg];
    if (event.swIdent !== undefined) this.swIdent = event.swIdent;
    if (event.swVer !== undefined) this.swVer = event.swVer;
    if (event.swSys !== undefined) this.swSys = event.swSys;
    if (event.type === 'worker-offline') {
      this.heartbeats.length = 0;
      this.offlineSince = event.localReceived;
    } else {
      this.recordHeartbeat(event.localReceived);
    }
  }

  /** What events say about the worker now (server/views adds what inspection knows). */
  facts(now: number): WorkerFacts {
    const alive = this.isAlive(now);
    return {
      hostname: this.hostname,
      status: alive ? 'online' : 'offline',
      active: alive ? this.active : 0,
      processed: this.count('task-received'),
      succeeded: this.count('task-succeeded'),
      failed: this.count('task-failed'),
      retried: this.count('task-retried'),
      revoked: this.count('task-revoked'),
      loadavg: alive ? this.loadavg : null,
      lastHeartbeat: this.lastHeartbeat() ?? this.offlineSince,
      freq: this.freqKnown ? this.freq : null,
      pid: this.pid,
      swIdent: this.swIdent,
      swVer: this.swVer,
      swSys: this.swSys,
    };
  }
}

export class WorkerRegistry {
  private readonly workers: LruMap<string, WorkerRecord>;

  constructor(maxWorkers: number, onEvict?: (worker: WorkerRecord) => void) {
    this.workers = new LruMap(maxWorkers, onEvict ? (_key, worker) => onEvict(worker) : undefined);
  }

  get size(): number {
    return this.workers.size;
  }

  get evictions(): number {
    return this.workers.evictions;
  }

  get(hostname: string): WorkerRecord | undefined {
    return this.workers.peek(hostname);
  }

  /** Get or create, marking the worker as most recently used. */
  touch(hostname: string): WorkerRecord {
    let worker = this.workers.get(hostname);
    if (!worker) {
      worker = new WorkerRecord(hostname);
      this.workers.set(hostname, worker);
    }
    return worker;
  }

  /** Put back a worker the store kept; one already known (heard from first) is left alone. */
  restore(worker: WorkerRecord): void {
    if (!this.workers.peek(worker.hostname)) this.workers.set(worker.hostname, worker);
  }

  delete(hostname: string): boolean {
    return this.workers.delete(hostname);
  }

  values(): IterableIterator<WorkerRecord> {
    return this.workers.values();
  }
}
