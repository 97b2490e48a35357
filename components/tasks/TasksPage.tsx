'use client';

/**
 * The tasks list: filtering, sorting and paging happen on the server (/api/celeriac/tasks); the
 * URL holds the whole view. Live: `tasks:changed` notifications either refresh the first page in
 * place (when the user is not interacting with it) or offer "N new tasks — show".
 */
import Link from 'next/link';
import { useCallback, useEffect, useEffectEvent, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { VIEW_EVENTS, type TaskRow, type TasksChanged } from '@/server/realtime/types';
import { EmptyState } from '../EmptyState';
import { formatCount } from '../format';
import { LiveIndicator } from '../LiveIndicator';
import { PageHeader } from '../PageHeader';
import { RelativeTime } from '../Timestamps';
import { ClockProvider, useHydrated } from '../useClock';
import { useLiveView } from '../useLiveView';
import { RevocationBadge } from './Revocation';
import { TaskStateBadge } from './TaskStateBadge';
import styles from './tasks.module.css';
import {
  apiBase,
  apiParams,
  COLUMN_KEYS,
  COLUMN_LABELS,
  COLUMNS_STORAGE_KEY,
  DEFAULT_COLUMNS,
  DEFAULT_TASKS_VIEW,
  errorOf,
  filterParams,
  formatRuntime,
  hasFilters,
  PAGE_SIZE,
  parseStoredColumns,
  REQUIRED_COLUMNS,
  TASK_STATES,
  tasksViewToSearch,
  type ColumnKey,
  type SortField,
  type TasksView,
} from './tasksView';

export interface TasksPageData {
  total: number;
  offset: number;
  tasks: TaskRow[];
}

export interface TasksPageProps {
  initialView: TasksView;
  /** The first page as the server rendered it, or null when the filters were refused. */
  initialData: TasksPageData | null;
  initialError: string | null;
  readOnly: boolean;
  serverNow: number;
}

/** Quiet period after the last interaction before the first page may refresh in place. */
const INTERACTION_QUIET_MS = 4_000;
const TEXT_DEBOUNCE_MS = 400;

const SORTABLE: ReadonlySet<string> = new Set(['name', 'state', 'received', 'started']);

// ---------------------------------------------------------------------------------------------

function SortIcon({ dir }: { dir: 'asc' | 'desc' | null }) {
  return (
    <svg className="sort__icon" viewBox="0 0 12 12" aria-hidden="true" data-dir={dir ?? 'none'}>
      <path className="sort__up" d="M6 2.2 9 5.4H3L6 2.2Z" />
      <path className="sort__down" d="M6 9.8 3 6.6h6L6 9.8Z" />
    </svg>
  );
}

function truncate(text: string | null, max = 120): string {
  if (text === null) return '';
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function Cell({ task, column }: { task: TaskRow; column: ColumnKey }): ReactNode {
  switch (column) {
    case 'name':
      return (
        <td className={styles.cellName}>
          <Link href={`/task/${encodeURIComponent(task.uuid)}`} prefetch={false}>
            {task.name ?? <span className="muted">unknown</span>}
          </Link>
        </td>
      );
    case 'uuid':
      return (
        <td className={styles.cellUuid} title={task.uuid}>
          <Link href={`/task/${encodeURIComponent(task.uuid)}`} prefetch={false}>
            {task.uuid}
          </Link>
        </td>
      );
    case 'state':
      return (
        <td>
          <TaskStateBadge state={task.state} />
          <RevocationBadge revocation={task.revocation} />
        </td>
      );
    case 'args':
    case 'kwargs':
      return (
        <td className={styles.cellCode} title={task[column] ?? undefined}>
          {truncate(task[column])}
        </td>
      );
    case 'result': {
      const text = task.state === 'FAILURE' ? task.exception : task.result;
      return (
        <td className={`${styles.cellCode} ${task.state === 'FAILURE' ? styles.cellBad : ''}`} title={text ?? undefined}>
          {truncate(text)}
        </td>
      );
    }
    case 'received':
    case 'started': {
      const at = task[column];
      return <td className="cell-time">{at === null ? <span className="muted">—</span> : <RelativeTime at={at} />}</td>;
    }
    case 'runtime':
      return <td className="num">{formatRuntime(task.runtime) || <span className="muted">—</span>}</td>;
    case 'worker':
      return <td className={styles.cellWorker}>{task.worker ?? <span className="muted">—</span>}</td>;
    case 'queue':
      return <td>{task.routing_key ?? <span className="muted">—</span>}</td>;
    case 'retries':
      return <td className="num">{task.retries ?? 0}</td>;
  }
}

// ---------------------------------------------------------------------------------------------

function useDatalist(url: string, pick: (body: unknown) => string[]): string[] {
  const [items, setItems] = useState<string[]>([]);
  const pickRef = useRef(pick);
  useEffect(() => {
    const controller = new AbortController();
    fetch(`${apiBase()}${url}`, { signal: controller.signal })
      .then((res) => (res.ok ? res.json() : null))
      .then((body: unknown) => {
        if (body !== null) setItems(pickRef.current(body));
      })
      .catch(() => undefined);
    return () => controller.abort();
  }, [url]);
  return items;
}

/** `datetime-local` value ('2026-11-21T13:04') for an ISO time, in the viewer's zone. */
function toLocalInput(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return '';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fromLocalInput(value: string): string {
  if (value === '') return '';
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? new Date(ms).toISOString() : '';
}

// ---------------------------------------------------------------------------------------------

type BulkState =
  | { step: 'idle' }
  | { step: 'counting' }
  | { step: 'confirm'; count: number }
  | { step: 'revoking'; count: number }
  | { step: 'done'; message: string; ok: boolean; pending?: boolean };

export function TasksPage({ initialView, initialData, initialError, readOnly, serverNow }: TasksPageProps) {
  const hydrated = useHydrated();
  const [view, setView] = useState<TasksView>(initialView);
  const [data, setData] = useState<TasksPageData | null>(initialData);
  const [error, setError] = useState<string | null>(initialError);
  const [loading, setLoading] = useState(false);
  const [pendingNew, setPendingNew] = useState(0);
  const [pendingChanged, setPendingChanged] = useState(false);
  const [columns, setColumns] = useState<readonly ColumnKey[]>(DEFAULT_COLUMNS);
  const [bulk, setBulk] = useState<BulkState>({ step: 'idle' });

  // Text inputs edit a draft; the view (and so the URL and the query) follows after a pause.
  const [draft, setDraft] = useState({ search: view.search, taskname: view.taskname, workername: view.workername, queue: view.queue });
  const draftTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const lastInteraction = useRef(0);
  const pointerInside = useRef(false);
  const panelRef = useRef<HTMLElement | null>(null);
  const requestSeq = useRef(0);
  const inFlight = useRef(false);
  const refetchQueued = useRef(false);

  const taskTypes = useDatalist('/api/task/types', (b) => ((b as { 'task-types'?: string[] })['task-types'] ?? []).slice(0, 500));
  const workerNames = useDatalist('/api/celeriac/workers', (b) => ((b as { workers?: { hostname: string }[] }).workers ?? []).map((w) => w.hostname).slice(0, 500));

  // Stored column choice (after hydration, so the server HTML and the first render agree).
  useEffect(() => {
    const stored = parseStoredColumns(window.localStorage.getItem(COLUMNS_STORAGE_KEY));
    if (stored) setColumns(stored);
  }, []);

  const toggleColumn = (key: ColumnKey) => {
    setColumns((current) => {
      const set = new Set(current);
      if (set.has(key)) set.delete(key);
      else set.add(key);
      const next = COLUMN_KEYS.filter((c) => set.has(c));
      window.localStorage.setItem(COLUMNS_STORAGE_KEY, JSON.stringify(next));
      return next;
    });
  };

  // Keep the URL in step with the view, so it can be shared.
  useEffect(() => {
    const search = tasksViewToSearch(view);
    if (search !== window.location.search) window.history.replaceState(null, '', `${window.location.pathname}${search}${window.location.hash}`);
  }, [view]);

  const load = useCallback(async (target: TasksView): Promise<void> => {
    const seq = ++requestSeq.current;
    inFlight.current = true;
    setLoading(true);
    try {
      const res = await fetch(`${apiBase()}/api/celeriac/tasks?${new URLSearchParams(apiParams(target)).toString()}`, { cache: 'no-store' });
      if (seq !== requestSeq.current) return;
      if (!res.ok) {
        setError(await errorOf(res));
        return;
      }
      const body = (await res.json()) as TasksPageData;
      if (seq !== requestSeq.current) return;
      setData(body);
      setError(null);
      setPendingNew(0);
      setPendingChanged(false);
    } catch (e) {
      if (seq === requestSeq.current) setError(`Could not load tasks: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      if (seq === requestSeq.current) {
        inFlight.current = false;
        setLoading(false);
      }
    }
  }, []);

  // Every view change (after the first render, which has the server's data) queries again.
  const firstView = useRef(true);
  useEffect(() => {
    if (firstView.current) {
      firstView.current = false;
      return;
    }
    void load(view);
  }, [view, load]);

  const updateView = useCallback((patch: Partial<TasksView>, resetPage = true) => {
    setBulk({ step: 'idle' });
    setView((v) => ({ ...v, ...patch, ...(resetPage && patch.page === undefined ? { page: 1 } : {}) }));
  }, []);

  const commitDraft = useCallback(
    (next: typeof draft) => {
      if (draftTimer.current) clearTimeout(draftTimer.current);
      draftTimer.current = null;
      setView((v) =>
        v.search === next.search && v.taskname === next.taskname && v.workername === next.workername && v.queue === next.queue
          ? v
          : { ...v, ...next, page: 1 },
      );
      setBulk({ step: 'idle' });
    },
    [],
  );

  const editDraft = (patch: Partial<typeof draft>) => {
    const next = { ...draft, ...patch };
    setDraft(next);
    if (draftTimer.current) clearTimeout(draftTimer.current);
    draftTimer.current = setTimeout(() => commitDraft(next), TEXT_DEBOUNCE_MS);
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    commitDraft(draft);
  };

  const onSort = (field: SortField) => {
    const current = view.sort.replace(/^-/, '');
    const descending = view.sort.startsWith('-');
    let next: string;
    if (current === field) next = descending ? field : `-${field}`;
    else next = field === 'received' || field === 'started' ? `-${field}` : field;
    updateView({ sort: next });
  };

  // --- live updates -------------------------------------------------------------------------
  const markInteraction = () => {
    lastInteraction.current = Date.now();
  };

  const onTasksChanged = useEffectEvent((msg: TasksChanged) => {
    const quiet = Date.now() - lastInteraction.current > INTERACTION_QUIET_MS && !pointerInside.current;
    const panelTop = panelRef.current?.getBoundingClientRect().top ?? 0;
    // Scrolled into the table: rows arriving on top would push what the user reads down.
    const scrolledIntoTable = panelTop < 0;
    if (view.page === 1 && quiet && !scrolledIntoTable && bulk.step === 'idle') {
      if (inFlight.current) refetchQueued.current = true;
      else void load(view);
      return;
    }
    setPendingNew((n) => n + msg.created);
    if (msg.changed > msg.created) setPendingChanged(true);
  });

  useEffect(() => {
    if (!loading && refetchQueued.current) {
      refetchQueued.current = false;
      void load(view);
    }
  }, [loading, load, view]);

  const socketState = useLiveView('tasks', {
    [VIEW_EVENTS.tasksChanged]: (msg: TasksChanged) => onTasksChanged(msg),
  });

  const showPending = () => {
    if (view.page !== 1) updateView({ page: 1 }, false);
    else void load(view);
    setPendingNew(0);
    setPendingChanged(false);
  };

  // --- bulk revoke ----------------------------------------------------------------------------
  const postBulk = async (dryRun: boolean): Promise<Response> => {
    const body = new URLSearchParams({ ...filterParams(view), ...(dryRun ? { dry_run: '1' } : {}) });
    return fetch(`${apiBase()}/api/tasks/revoke`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  };

  const startBulk = async () => {
    setBulk({ step: 'counting' });
    try {
      const res = await postBulk(true);
      if (!res.ok) return setBulk({ step: 'done', ok: false, message: await errorOf(res) });
      const body = (await res.json()) as { count: number };
      setBulk(body.count === 0 ? { step: 'done', ok: true, message: 'No unfinished task matches these filters: nothing to revoke.' } : { step: 'confirm', count: body.count });
    } catch (e) {
      setBulk({ step: 'done', ok: false, message: String(e) });
    }
  };

  const confirmBulk = async (count: number) => {
    setBulk({ step: 'revoking', count });
    try {
      const res = await postBulk(false);
      if (!res.ok) return setBulk({ step: 'done', ok: false, message: await errorOf(res) });
      const body = (await res.json()) as { message?: string; count?: number; pending?: number };
      // The server's message says what was sent and what will happen; nothing is revoked yet.
      setBulk({ step: 'done', ok: true, pending: (body.pending ?? 0) > 0, message: body.message ?? `Revocation sent for ${body.count ?? count} tasks` });
      void load(view);
    } catch (e) {
      setBulk({ step: 'done', ok: false, message: String(e) });
    }
  };

  // --- render ---------------------------------------------------------------------------------
  const tasks = data?.tasks ?? [];
  const total = data?.total ?? 0;
  const offset = (view.page - 1) * PAGE_SIZE;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const filtered = hasFilters(view);
  const sortField = view.sort.replace(/^-/, '');
  const sortDir: 'asc' | 'desc' = view.sort.startsWith('-') ? 'desc' : 'asc';
  const visible = COLUMN_KEYS.filter((c) => columns.includes(c));

  const clearFilters = () => {
    const cleared = { search: '', taskname: '', workername: '', queue: '' };
    setDraft(cleared);
    updateView({ ...DEFAULT_TASKS_VIEW, sort: view.sort });
  };

  return (
    <ClockProvider serverNow={serverNow}>
      <PageHeader title="Tasks" aside={<LiveIndicator state={socketState} />}>
        <p className="summary">
          <span className="summary__item">
            <strong data-testid="tasks-total" data-value={total}>
              {formatCount(total)}
            </strong>
            &nbsp;{filtered ? `matching task${total === 1 ? '' : 's'}` : `task${total === 1 ? '' : 's'} retained`}
          </span>
          {view.sort === '' ? <span className="summary__item">newest first</span> : null}
        </p>
      </PageHeader>

      <section
        className="panel"
        aria-label="Tasks"
        ref={panelRef}
        onPointerEnter={() => {
          pointerInside.current = true;
        }}
        onPointerLeave={() => {
          pointerInside.current = false;
          markInteraction();
        }}
        onKeyDown={markInteraction}
        onFocusCapture={markInteraction}
        onWheel={markInteraction}
      >
        <form className={styles.filters} onSubmit={onSubmit} role="search">
          <div className={styles.searchRow}>
            <label className={`search ${styles.search}`}>
              <span className="visually-hidden">Search tasks</span>
              <svg className="search__icon" viewBox="0 0 16 16" aria-hidden="true">
                <path d="M7 2.5a4.5 4.5 0 1 0 0 9 4.5 4.5 0 0 0 0-9ZM1 7a6 6 0 1 1 10.7 3.7l3 3-1.1 1.1-3-3A6 6 0 0 1 1 7Z" fill="currentColor" />
              </svg>
              <input
                className={`search__input ${error ? styles.inputError : ''}`}
                type="search"
                placeholder='Search: state:FAILURE name:tasks.add "some text" kwargs:user=42'
                value={draft.search}
                onChange={(e) => editDraft({ search: e.target.value })}
                data-testid="tasks-search"
                aria-invalid={error ? true : undefined}
                aria-describedby={error ? 'tasks-error' : 'tasks-search-help'}
                spellCheck={false}
                autoComplete="off"
              />
            </label>
            <details className={styles.help}>
              <summary>Syntax</summary>
              <div className={styles.helpBody} id="tasks-search-help">
                <p>
                  Terms are ANDed; <code>OR</code> and parentheses group; <code>&quot;quoted phrases&quot;</code>. Qualifiers:{' '}
                  <code>name:</code> <code>state:</code> <code>worker:</code> <code>args:</code> <code>kwargs:key=value</code>{' '}
                  <code>result:</code>. A bare term matches uuid, name, state, worker, args, kwargs and result (3+ characters).
                </p>
              </div>
            </details>
            <div className={styles.spacer} />
            <details className={styles.columns} data-testid="tasks-columns">
              <summary className="button">Columns</summary>
              <fieldset className={styles.columnsMenu}>
                <legend className="visually-hidden">Visible columns</legend>
                {COLUMN_KEYS.map((key) => (
                  <label key={key} className={styles.columnOption}>
                    <input type="checkbox" checked={columns.includes(key)} disabled={REQUIRED_COLUMNS.has(key)} onChange={() => toggleColumn(key)} data-column={key} />
                    {COLUMN_LABELS[key]}
                  </label>
                ))}
              </fieldset>
            </details>
            {readOnly ? null : (
              <button type="button" className={`button ${styles.dangerButton}`} onClick={() => void startBulk()} disabled={bulk.step === 'counting' || bulk.step === 'revoking' || total === 0} data-testid="bulk-revoke" title="Revoke every unfinished task that matches the current filters">
                {bulk.step === 'counting' ? 'Counting…' : filtered ? 'Revoke matching…' : 'Revoke all unfinished…'}
              </button>
            )}
          </div>
          {error ? (
            <p className={styles.error} id="tasks-error" role="alert" data-testid="tasks-error">
              {error}
            </p>
          ) : null}
          <div className={styles.filterRow}>
            <label className={styles.field}>
              <span>State</span>
              <select value={view.state} onChange={(e) => updateView({ state: e.target.value })} data-testid="filter-state">
                <option value="">Any</option>
                {TASK_STATES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <label className={styles.field}>
              <span>Task</span>
              <input list="celeriac-task-types" value={draft.taskname} onChange={(e) => editDraft({ taskname: e.target.value })} placeholder="Any name" data-testid="filter-taskname" />
              <datalist id="celeriac-task-types">
                {taskTypes.map((t) => (
                  <option key={t} value={t} />
                ))}
              </datalist>
            </label>
            <label className={styles.field}>
              <span>Worker</span>
              <input list="celeriac-workers" value={draft.workername} onChange={(e) => editDraft({ workername: e.target.value })} placeholder="Any worker" data-testid="filter-worker" />
              <datalist id="celeriac-workers">
                {workerNames.map((t) => (
                  <option key={t} value={t} />
                ))}
              </datalist>
            </label>
            <label className={styles.field}>
              <span>Queue</span>
              <input value={draft.queue} onChange={(e) => editDraft({ queue: e.target.value })} placeholder="Any queue" data-testid="filter-queue" />
            </label>
            <label className={styles.field}>
              <span>Received after</span>
              <input type="datetime-local" value={hydrated ? toLocalInput(view.received_start) : ''} onChange={(e) => updateView({ received_start: fromLocalInput(e.target.value) })} data-testid="filter-received-start" />
            </label>
            <label className={styles.field}>
              <span>Received before</span>
              <input type="datetime-local" value={hydrated ? toLocalInput(view.received_end) : ''} onChange={(e) => updateView({ received_end: fromLocalInput(e.target.value) })} data-testid="filter-received-end" />
            </label>
            {filtered ? (
              <button type="button" className={`button ${styles.clear}`} onClick={clearFilters}>
                Clear
              </button>
            ) : null}
            <button type="submit" className="visually-hidden" tabIndex={-1}>
              Apply
            </button>
          </div>
        </form>

        {bulk.step === 'confirm' || bulk.step === 'revoking' ? (
          <div className={styles.bulkConfirm} role="alertdialog" aria-label="Confirm bulk revoke">
            <p>
              <strong>
                Revoke {formatCount(bulk.count)} unfinished task{bulk.count === 1 ? '' : 's'}
              </strong>{' '}
              matching the current filters? Running workers remember the ids and discard each task when they take it (until then it stays
              queued, marked &quot;revoke pending&quot;); tasks already running keep running; workers started later never hear of it.
            </p>
            <div className={styles.bulkActions}>
              <button type="button" className="button" onClick={() => setBulk({ step: 'idle' })} disabled={bulk.step === 'revoking'}>
                Cancel
              </button>
              <button type="button" className={`button ${styles.dangerSolid}`} onClick={() => void confirmBulk(bulk.count)} disabled={bulk.step === 'revoking'} data-testid="confirm-action">
                {bulk.step === 'revoking' ? 'Revoking…' : `Revoke ${formatCount(bulk.count)}`}
              </button>
            </div>
          </div>
        ) : bulk.step === 'done' ? (
          <div className={`${styles.bulkConfirm} ${bulk.ok ? (bulk.pending ? styles.bulkPending : styles.bulkOk) : ''}`} role="status" data-testid="action-outcome" data-pending={bulk.pending ?? false}>
            <p>{bulk.message}</p>
            <button type="button" className="button" onClick={() => setBulk({ step: 'idle' })}>
              Dismiss
            </button>
          </div>
        ) : null}

        {pendingNew > 0 || pendingChanged ? (
          <button type="button" className={styles.newBanner} onClick={showPending} data-testid="tasks-new-banner" data-count={pendingNew}>
            {pendingNew > 0 ? `${formatCount(pendingNew)} new task${pendingNew === 1 ? '' : 's'}` : 'Tasks changed'}
            <span className={styles.newBannerAction}>{view.page === 1 ? 'Show' : 'Go to newest'}</span>
          </button>
        ) : null}

        <div className={`table-scroll ${loading ? styles.loading : ''}`}>
          <table className={`table ${styles.table}`} data-testid="tasks-table" aria-busy={loading}>
            <thead>
              <tr>
                {visible.map((key) =>
                  SORTABLE.has(key) ? (
                    <th key={key} scope="col" aria-sort={sortField === key ? (sortDir === 'asc' ? 'ascending' : 'descending') : undefined}>
                      <button type="button" className="sort" onClick={() => onSort(key as SortField)} data-sort-key={key}>
                        <span>{COLUMN_LABELS[key]}</span>
                        <SortIcon dir={sortField === key ? sortDir : null} />
                      </button>
                    </th>
                  ) : (
                    <th key={key} scope="col" className={key === 'runtime' || key === 'retries' ? 'num' : undefined}>
                      {COLUMN_LABELS[key]}
                    </th>
                  ),
                )}
              </tr>
            </thead>
            <tbody>
              {tasks.map((task) => (
                <tr key={task.uuid} data-testid="task-row" data-uuid={task.uuid} data-state={task.state} className={styles.row}>
                  {visible.map((key) => (
                    <Cell key={key} task={task} column={key} />
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>

        {tasks.length === 0 && !error ? (
          filtered ? (
            <EmptyState title="No tasks match" testId="tasks-no-match">
              <button type="button" className="button" onClick={clearFilters}>
                Clear filters
              </button>
            </EmptyState>
          ) : (
            <EmptyState title="No tasks seen yet" testId="tasks-empty">
              <p>
                Tasks appear as soon as workers send task events. Celeriac turns events on unless it runs with{' '}
                <code>--no-enable-events</code>; workers started with <code>-E</code> always send them.
              </p>
            </EmptyState>
          )
        ) : null}

        {total > 0 ? (
          <nav className={styles.pager} aria-label="Pages">
            <span className={styles.pagerInfo}>
              {formatCount(Math.min(offset + 1, total))}–{formatCount(Math.min(offset + tasks.length, total))} of {formatCount(total)}
            </span>
            <button type="button" className="button" onClick={() => updateView({ page: view.page - 1 }, false)} disabled={view.page <= 1} data-testid="tasks-prev">
              ← Previous
            </button>
            <span className={styles.pagerPage}>
              Page {formatCount(view.page)} of {formatCount(pages)}
            </span>
            <button type="button" className="button" onClick={() => updateView({ page: view.page + 1 }, false)} disabled={view.page >= pages} data-testid="tasks-next">
              Next →
            </button>
          </nav>
        ) : null}
      </section>
    </ClockProvider>
  );
}
