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
