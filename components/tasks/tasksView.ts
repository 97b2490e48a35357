/**
 * The tasks page's view state, free of React: what the URL holds (filters, search, sort, page),
 * how it maps to the /api/celeriac/tasks query, and the column set.
 */

export const PAGE_SIZE = 50;

export const TASK_STATES = ['PENDING', 'RECEIVED', 'STARTED', 'SUCCESS', 'FAILURE', 'RETRY', 'REVOKED', 'REJECTED'] as const;
export const FINISHED_STATES: ReadonlySet<string> = new Set(['SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED']);

export const SORT_FIELDS = ['name', 'state', 'received', 'started'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

export interface TasksView {
  state: string;
  taskname: string;
  workername: string;
  queue: string;
  /** ISO 8601 with a zone, or '' (the API also accepts it as-is). */
  received_start: string;
  received_end: string;
  search: string;
  /** '' (newest first), 'name', '-received'… */
  sort: string;
  /** 1-based. */
  page: number;
}

export const DEFAULT_TASKS_VIEW: TasksView = {
  state: '',
  taskname: '',
  workername: '',
  queue: '',
  received_start: '',
  received_end: '',
  search: '',
  sort: '',
  page: 1,
};

const TEXT_KEYS = ['state', 'taskname', 'workername', 'queue', 'received_start', 'received_end', 'search'] as const;
type SearchParamsLike = Record<string, string | string[] | undefined>;

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function isSortField(value: string): value is SortField {
  return (SORT_FIELDS as readonly string[]).includes(value);
}

export function isSort(value: string): boolean {
  return isSortField(value.startsWith('-') ? value.slice(1) : value);
}

/** The view from the page URL; unknown values fall back to the defaults. */
export function parseTasksView(params: SearchParamsLike): TasksView {
  const view: TasksView = { ...DEFAULT_TASKS_VIEW };
  for (const key of TEXT_KEYS) view[key] = (first(params[key]) ?? '').slice(0, 500);
  const sort = first(params.sort) ?? '';
  view.sort = isSort(sort) ? sort : '';
  const page = Number(first(params.page));
  view.page = Number.isInteger(page) && page >= 1 && page <= 1_000_000 ? page : 1;
  return view;
}

/** The page URL's query string ('' for the default view). */
export function tasksViewToSearch(view: TasksView): string {
  const params = new URLSearchParams();
  for (const key of TEXT_KEYS) if (view[key] !== '') params.set(key, view[key]);
  if (view.sort !== '') params.set('sort', view.sort);
  if (view.page > 1) params.set('page', String(view.page));
  const search = params.toString();
  return search === '' ? '' : `?${search}`;
}

/** The filters alone (no paging or sort), as the API's parameters: shared by listing and bulk revoke. */
export function filterParams(view: TasksView): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of TEXT_KEYS) if (view[key].trim() !== '') out[key] = view[key].trim();
  return out;
}

/** Parameters for GET /api/celeriac/tasks (also what the server page hands to runtime.tasks). */
export function apiParams(view: TasksView): Record<string, string> {
  const out = filterParams(view);
  out.limit = String(PAGE_SIZE);
  out.offset = String((view.page - 1) * PAGE_SIZE);
  if (view.sort !== '') out.sort_by = view.sort;
  return out;
}

export function hasFilters(view: TasksView): boolean {
  return TEXT_KEYS.some((key) => view[key] !== '');
}

/** The free-text filters: typed into a draft first, applied to the view after a pause. */
export type FilterText = Pick<TasksView, 'search' | 'taskname' | 'workername' | 'queue'>;

export const EMPTY_FILTER_TEXT: FilterText = { search: '', taskname: '', workername: '', queue: '' };

export function filterTextOf(view: TasksView): FilterText {
  return { search: view.search, taskname: view.taskname, workername: view.workername, queue: view.queue };
}

/** `view` with `text` applied (back on the first page), or `view` itself when nothing changes. */
export function withFilterText(view: TasksView, text: FilterText): TasksView {
  const same = view.search === text.search && view.taskname === text.taskname && view.workername === text.workername && view.queue === text.queue;
  return same ? view : { ...view, ...text, page: 1 };
}

/** Clicking a column header: the same column flips direction; a new one starts newest-first for times. */
export function nextSort(sort: string, field: SortField): string {
  const current = sort.replace(/^-/, '');
  const descending = sort.startsWith('-');
  if (current === field) return descending ? field : `-${field}`;
  return field === 'received' || field === 'started' ? `-${field}` : field;
}

// ---------------------------------------------------------------------------------------------
// Columns

export const COLUMN_KEYS = ['name', 'uuid', 'state', 'args', 'kwargs', 'result', 'received', 'started', 'runtime', 'worker', 'queue', 'retries'] as const;
export type ColumnKey = (typeof COLUMN_KEYS)[number];

export const COLUMN_LABELS: Record<ColumnKey, string> = {
  name: 'Name',
  uuid: 'UUID',
  state: 'State',
  args: 'Args',
  kwargs: 'Kwargs',
  result: 'Result',
  received: 'Received',
  started: 'Started',
  runtime: 'Runtime',
  worker: 'Worker',
  queue: 'Queue',
  retries: 'Retries',
};

export const DEFAULT_COLUMNS: readonly ColumnKey[] = ['name', 'uuid', 'state', 'args', 'result', 'received', 'runtime', 'worker'];
/** Always shown: a row needs its name (the link) and its state. */
export const REQUIRED_COLUMNS: ReadonlySet<ColumnKey> = new Set(['name', 'state']);
export const COLUMNS_STORAGE_KEY = 'celeriac.tasks.columns';

export function parseStoredColumns(raw: string | null): ColumnKey[] | null {
  if (!raw) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) return null;
    const set = new Set(parsed.filter((c): c is ColumnKey => (COLUMN_KEYS as readonly string[]).includes(c as string)));
    for (const c of REQUIRED_COLUMNS) set.add(c);
    return COLUMN_KEYS.filter((c) => set.has(c));
  } catch {
    return null;
  }
}

/** Seconds as "850 ms", "2.31 s", "4 min 3 s". */
export function formatRuntime(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  if (seconds < 0.001) return '<1 ms';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(2)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
