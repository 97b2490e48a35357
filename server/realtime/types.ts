/**
 * The socket.io protocol between server/realtime and components/: event names, subscriptions and
 * the delta/notification payloads. The data the views carry is the read model's
 * (server/views/types.ts), re-exported here so a component imports one module.
 */
import type { EventLine, StreamStatus, WorkerSummary } from '../views/types';

export type * from '../views/types';

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

/** Sent on the `tasks` view when tasks changed: the page decides whether to refetch. */
export interface TasksChanged {
  /** Tasks created or updated since the last notification. */
  changed: number;
  /** Tasks created since the last notification. */
  created: number;
  at: number;
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
