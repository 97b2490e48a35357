/**
 * Filtering, sorting and paging of retained tasks: the engine behind `GET /api/tasks`.
 *
 * Flower 2.1 semantics (docs/flower-reference.md §2.3), with two deliberate fixes
 * that are documented in the README: a `workername` filter excludes tasks no worker has
 * picked up yet, and `received_start`/`received_end` exclude tasks that were never received
 * (Flower lets both through, which makes the filters return unrelated tasks).
 */
import type { TaskRecord } from './task-record';
import type { TaskQuery } from './search';

export const SORT_FIELDS = ['name', 'state', 'received', 'started'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

export interface TaskFilter {
  limit: number | null;
  offset: number;
  sortBy: { field: SortField; descending: boolean } | null;
  worker: string | null;
  taskName: string | null;
  state: string | null;
  /** Epoch seconds, inclusive. */
  receivedStart: number | null;
  receivedEnd: number | null;
  search: TaskQuery | null;
  /** Celeriac extension: the queue the task was sent to (from task-sent). */
  queue?: string | null;
}

export function matchesFilter(task: TaskRecord, filter: TaskFilter): boolean {
  if (filter.taskName !== null && task.name !== filter.taskName) return false;
  if (filter.worker !== null && task.worker !== filter.worker) return false;
  if (filter.state !== null && task.state !== filter.state) return false;
  if (filter.receivedStart !== null && (task.received === null || task.received < filter.receivedStart)) return false;
  if (filter.receivedEnd !== null && (task.received === null || task.received > filter.receivedEnd)) return false;
  if (filter.queue && (task.queue ?? task.routingKey) !== filter.queue) return false;
  if (filter.search !== null && !filter.search.matches(task)) return false;
  return true;
}

/**
 * Tasks matching `filter`, in result order, paged. Without `sortBy` the newest come first
 * (by the timestamp of the event that set the current state, as Flower does).
 */
export function queryTasks(tasks: Iterable<TaskRecord>, filter: TaskFilter): TaskRecord[] {
  return queryTasksPage(tasks, filter).tasks;
}

/** The sort field of a filter's order: its `sort_by`, or the newest first. */
export function sortKey(filter: Pick<TaskFilter, 'sortBy'>): { field: SortField | 'timestamp'; descending: boolean } {
  return filter.sortBy ? { field: filter.sortBy.field, descending: filter.sortBy.descending } : { field: 'timestamp', descending: true };
}

/**
 * The list's order for anything with the sort field and a task id. Equal keys fall back to the
 * task id, so a page boundary never splits ties differently from one request to the next (and
 * the store's ORDER BY gives the same order: server/store/).
 */
export function taskOrder<T extends Pick<TaskRecord, 'uuid'> & Partial<Record<SortField | 'timestamp', string | number | null>>>(filter: Pick<TaskFilter, 'sortBy'>): (a: T, b: T) => number {
  const { field, descending } = sortKey(filter);
  return (a, b) => compareNullable(a[field] ?? null, b[field] ?? null, descending) || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);
}

/** The page of matching tasks and how many matched in all (for paging in the UI). */
export function queryTasksPage(tasks: Iterable<TaskRecord>, filter: TaskFilter): { total: number; tasks: TaskRecord[] } {
  const matched: TaskRecord[] = [];
  for (const task of tasks) if (matchesFilter(task, filter)) matched.push(task);
  matched.sort(taskOrder(filter));
  const end = filter.limit === null ? undefined : filter.offset + filter.limit;
  return { total: matched.length, tasks: matched.slice(filter.offset, end) };
}

/** Ascending puts missing values first, descending puts them last (they "sort as empty"). */
function compareNullable(a: string | number | null, b: string | number | null, descending: boolean): number {
  if (a === b) return 0;
  if (a === null) return descending ? 1 : -1;
  if (b === null) return descending ? -1 : 1;
  const order = a < b ? -1 : 1;
  return descending ? -order : order;
}
