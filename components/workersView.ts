/**
 * The workers page's data logic, free of React: folding socket pushes into state, and the
 * filter / sort the user picked (kept in the URL so a filtered view can be bookmarked or shared).
 */
import type { StreamStatus, WorkerSummary, WorkersDelta, WorkersSnapshot } from '@/server/realtime/types';

// ---------------------------------------------------------------------------------------------
// Live state

export interface WorkersState {
  /** By hostname. */
  workers: ReadonlyMap<string, WorkerSummary>;
  stream: StreamStatus;
}

/** `workers:snapshot`: replaces everything. */
export function stateFromSnapshot(snapshot: WorkersSnapshot): WorkersState {
  return {
    workers: new Map(snapshot.workers.map((w) => [w.hostname, w])),
    stream: snapshot.stream,
  };
}

/** `workers:delta`: upserts replace whole rows by hostname, `removed` drops rows. */
export function applyDelta(state: WorkersState, delta: WorkersDelta): WorkersState {
  if (delta.upserts.length === 0 && delta.removed.length === 0) return { ...state, stream: delta.stream };
  const workers = new Map(state.workers);
  for (const hostname of delta.removed) workers.delete(hostname);
  for (const worker of delta.upserts) workers.set(worker.hostname, worker);
  return { workers, stream: delta.stream };
}

export type WorkersAction = { type: 'snapshot'; snapshot: WorkersSnapshot } | { type: 'delta'; delta: WorkersDelta };

export function workersReducer(state: WorkersState, action: WorkersAction): WorkersState {
  return action.type === 'snapshot' ? stateFromSnapshot(action.snapshot) : applyDelta(state, action.delta);
}

// ---------------------------------------------------------------------------------------------
// What the user looks at

export const SORT_KEYS = ['hostname', 'status', 'active', 'processed', 'succeeded', 'failed', 'retried', 'loadavg', 'lastHeartbeat', 'queues', 'poolSize', 'version'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDir = 'asc' | 'desc';
export const STATUS_FILTERS = ['all', 'online', 'offline'] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];

export interface WorkersViewOptions {
  /** Case-insensitive substring of the hostname. */
  query: string;
  status: StatusFilter;
  sort: SortKey;
  dir: SortDir;
}

/** Online first, then by name: the order an on-call engineer scans in. */
export const DEFAULT_VIEW: WorkersViewOptions = { query: '', status: 'all', sort: 'status', dir: 'asc' };

/** First click on a column: names ascending, numbers and times biggest / newest first. */
export function defaultDirection(key: SortKey): SortDir {
  return key === 'hostname' || key === 'status' || key === 'version' || key === 'queues' ? 'asc' : 'desc';
}

type SearchParamsLike = Record<string, string | string[] | undefined>;

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** View options from the page URL's query (`q`, `status`, `sort`, `dir`); unknown values are ignored. */
export function parseViewOptions(params: SearchParamsLike): WorkersViewOptions {
  const query = first(params.q)?.slice(0, 200) ?? DEFAULT_VIEW.query;
  const statusParam = first(params.status);
  const status = STATUS_FILTERS.find((s) => s === statusParam) ?? DEFAULT_VIEW.status;
  const sortParam = first(params.sort);
  const sort = SORT_KEYS.find((k) => k === sortParam);
  if (!sort) return { query, status, sort: DEFAULT_VIEW.sort, dir: DEFAULT_VIEW.dir };
  const dirParam = first(params.dir);
  const dir = dirParam === 'asc' || dirParam === 'desc' ? dirParam : defaultDirection(sort);
  return { query, status, sort, dir };
}

/** The query string for `options` ('' for the default view), the inverse of parseViewOptions. */
export function viewOptionsToSearch(options: WorkersViewOptions): string {
  const params = new URLSearchParams();
  if (options.query !== '') params.set('q', options.query);
  if (options.status !== DEFAULT_VIEW.status) params.set('status', options.status);
  if (options.sort !== DEFAULT_VIEW.sort || options.dir !== DEFAULT_VIEW.dir) {
    params.set('sort', options.sort);
    params.set('dir', options.dir);
  }
  const search = params.toString();
  return search === '' ? '' : `?${search}`;
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

function sortValue(worker: WorkerSummary, key: SortKey): number | string | null {
  switch (key) {
    case 'hostname':
      return worker.hostname;
    case 'status':
      return worker.status === 'online' ? 0 : 1;
    case 'loadavg':
      return worker.loadavg?.[0] ?? null;
    case 'lastHeartbeat':
      return worker.lastHeartbeat;
    case 'version':
      return worker.swVer;
    case 'queues':
      return worker.queues === null ? null : worker.queues.join(', ');
    case 'poolSize':
      return worker.poolSize;
    default:
      return worker[key];
  }
}

function compareValues(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(a), String(b));
}

/** Sorts by `key`; missing values (no heartbeat yet, unknown version) always go last. */
export function compareWorkers(a: WorkerSummary, b: WorkerSummary, key: SortKey, dir: SortDir): number {
  const va = sortValue(a, key);
  const vb = sortValue(b, key);
  if (va !== null && vb !== null) {
    const order = compareValues(va, vb);
    if (order !== 0) return dir === 'asc' ? order : -order;
  } else if (va !== vb) {
    return va === null ? 1 : -1;
  }
  return collator.compare(a.hostname, b.hostname) || (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0);
}

/** The rows to show, in order. */
export function selectWorkers(workers: Iterable<WorkerSummary>, options: WorkersViewOptions): WorkerSummary[] {
  const needle = options.query.trim().toLowerCase();
  const rows: WorkerSummary[] = [];
  for (const worker of workers) {
    if (options.status !== 'all' && worker.status !== options.status) continue;
    if (needle !== '' && !worker.hostname.toLowerCase().includes(needle)) continue;
    rows.push(worker);
  }
  return rows.sort((a, b) => compareWorkers(a, b, options.sort, options.dir));
}

export interface WorkersTotals {
  online: number;
  offline: number;
  active: number;
  processed: number;
  succeeded: number;
  failed: number;
  retried: number;
}

export function workersTotals(workers: Iterable<WorkerSummary>): WorkersTotals {
  const totals: WorkersTotals = { online: 0, offline: 0, active: 0, processed: 0, succeeded: 0, failed: 0, retried: 0 };
  for (const w of workers) {
    if (w.status === 'online') {
      totals.online += 1;
      // An offline worker's last "active" count is stale: nothing is known to be running there.
      totals.active += w.active;
    } else {
      totals.offline += 1;
    }
    totals.processed += w.processed;
    totals.succeeded += w.succeeded;
    totals.failed += w.failed;
    totals.retried += w.retried;
  }
  return totals;
}
