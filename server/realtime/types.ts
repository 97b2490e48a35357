import type { JsonValue } from '../protocol/events';
import type { FlowerTaskDict, RevocationView } from '../state/task-record';

/**
 * What the server pushes to browsers over socket.io. Shared by server/realtime and components/.
 * Keep these plain JSON: they cross the wire.
 */

/** One row of the workers view. Times are epoch seconds (UTC). */
export interface WorkerSummary {
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
  /** Queues the worker consumes (from its last active_queues reply), null before inspection. */
  queues: string[] | null;
  /** Pool processes/threads (from its last stats reply), null before inspection. */
  poolSize: number | null;
}

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

export interface WorkersDelta {
  /** Workers added or changed since the last delta (full rows: the client replaces them). */
  upserts: WorkerSummary[];
  /** Hostnames no longer tracked (purged or evicted). */
  removed: string[];
  stream: StreamStatus;
}

/** socket.io event names, one place so client and server cannot drift apart. */
export const REALTIME = {
  /** client → server: join a view. Payload: the view name ('workers'). */
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
  /** server → client: full state of the workers view, sent on subscribe and on reconnect. */
  workersSnapshot: 'workers:snapshot',
  /** server → client: batched changes, at most a few per second. */
  workersDelta: 'workers:delta',
} as const;

// --- Views beyond the workers list (issue 5). Each view: subscribe → `<view>:snapshot`, then
// `<view>:update` at most FLUSH_INTERVAL_MS apart while something changed. Snapshot views send
// the whole (small) state every time, so a slow client that misses one just gets the next.

/** What a client subscribes to: a view name, or a view with an id (one task). */
export type ViewRequest = 'workers' | 'overview' | 'tasks' | 'queues' | 'events' | { view: 'task'; id: string };

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
  tasksRetained: number;
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
  /** Controls are hidden in read-only mode. */
  readOnly: boolean;
};

/** One row of Celeriac's tasks list (`/api/celeriac/tasks`): Flower's fields plus the revocation mark. */
export type TaskRow = FlowerTaskDict & { revocation: RevocationView | null };

/** Sent on the `tasks` view when tasks changed: the page decides whether to refetch. */
export interface TasksChanged {
  /** Tasks created or updated since the last notification. */
  changed: number;
  /** Tasks created since the last notification. */
  created: number;
  at: number;
}

export interface QueuesSnapshot {
  at: number;
  updatedAt: number | null;
  stale: boolean;
  error: string | null;
  queues: { name: string; messages: number; byPriority: Record<string, number> | null; consumers: number | null; ready: number | null; unacked: number | null; oldestAgeSeconds: number | null; paused: boolean; sources: string[]; exists: boolean }[];
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

export interface EventsBatch {
  events: EventLine[];
  /** Events dropped for this client because it fell behind (it got the newest ones instead). */
  skipped: number;
}

export const VIEW_EVENTS = {
  overviewSnapshot: 'overview:snapshot',
  overviewUpdate: 'overview:update',
  tasksChanged: 'tasks:changed',
  taskSnapshot: 'task:snapshot',
  taskUpdate: 'task:update',
  queuesSnapshot: 'queues:snapshot',
  queuesUpdate: 'queues:update',
  eventsBatch: 'events:batch',
} as const;
