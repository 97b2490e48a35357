'use client';

/**
 * The tasks list's filters: the search box (Flower's query language), state, task name, worker,
 * queue and received-time filters. Text inputs edit a draft; the view (and so the URL and the
 * query) follows after a pause, or at once on Enter.
 */
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { getJson } from '../api';
import { SelectOptions, Suggestions } from '../Choices';
import styles from './tasks.module.css';
import { EMPTY_FILTER_TEXT, TASK_STATES, type FilterText, type TasksView } from './tasksView';

const TEXT_DEBOUNCE_MS = 400;
/** Autocomplete suggestions are a help, not a listing: the first ones are enough. */
const MAX_SUGGESTIONS = 500;

function useDatalist<Body>(path: string, pick: (body: Body) => string[]): string[] {
  const [items, setItems] = useState<string[]>([]);
  const pickRef = useRef(pick);
  useEffect(() => {
    const controller = new AbortController();
    getJson<Body>(path, { signal: controller.signal })
      .then((body) => setItems(pickRef.current(body)))
      // Suggestions only: without them the inputs still work.
      .catch(() => undefined);
    return () => controller.abort();
  }, [path]);
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

export interface FilterDraft {
  draft: FilterText;
  /** Edits the draft; `commit` follows after a pause. */
  edit: (patch: Partial<FilterText>) => void;
  /** Commits the draft now (Enter). */
  submit: () => void;
  /** Empties the draft (the view is cleared by whoever calls it). */
  clear: () => void;
}

/** The text inputs' draft, committed to the view `TEXT_DEBOUNCE_MS` after the last keystroke. */
export function useFilterDraft(initial: FilterText, commit: (text: FilterText) => void): FilterDraft {
  const [draft, setDraft] = useState<FilterText>(initial);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const flush = (next: FilterText) => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    commit(next);
  };

  const edit = (patch: Partial<FilterText>) => {
    const next = { ...draft, ...patch };
    setDraft(next);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => flush(next), TEXT_DEBOUNCE_MS);
  };

  return { draft, edit, submit: () => flush(draft), clear: () => setDraft(EMPTY_FILTER_TEXT) };
}

// ---------------------------------------------------------------------------------------------

export interface TasksFiltersProps {
  view: TasksView;
  draft: FilterDraft;
  /** The server's refusal of the filters (a bad search or time), shown under the search box. */
  error: string | null;
  filtered: boolean;
  /** The received-time inputs show the viewer's zone, so only after hydration. */
  hydrated: boolean;
  updateView: (patch: Partial<TasksView>) => void;
  clearFilters: () => void;
  /** Shown at the end of the search row (column chooser, bulk revoke). */
  tools: ReactNode;
}

export function TasksFilters({ view, draft: { draft, edit, submit }, error, filtered, hydrated, updateView, clearFilters, tools }: TasksFiltersProps) {
  const taskTypes = useDatalist<{ 'task-types'?: string[] }>('/api/task/types', (b) => (b['task-types'] ?? []).slice(0, MAX_SUGGESTIONS));
  const workerNames = useDatalist<{ workers?: { hostname: string }[] }>('/api/celeriac/workers', (b) => (b.workers ?? []).map((w) => w.hostname).slice(0, MAX_SUGGESTIONS));

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    submit();
  };

  return (
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
            onChange={(e) => edit({ search: e.target.value })}
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
              Terms are ANDed; <code>OR</code> and parentheses group; <code>&quot;quoted phrases&quot;</code>. Qualifiers: <code>name:</code> <code>state:</code> <code>worker:</code>{' '}
              <code>args:</code> <code>kwargs:key=value</code> <code>result:</code>. A bare term matches uuid, name, state, worker, args, kwargs and result (3+ characters).
            </p>
          </div>
        </details>
        <div className={styles.spacer} />
        {tools}
      </div>
      {error ? (
        <p className={styles.error} id="tasks-error" role="alert" data-testid="tasks-error">
          {error}
        </p>
      ) : null}
      <div className={styles.filterRow}>
        <label className={styles.field}>
          <span>State</span>
          <select className="input" value={view.state} onChange={(e) => updateView({ state: e.target.value })} data-testid="filter-state">
            <option value="">Any</option>
            <SelectOptions values={TASK_STATES} />
          </select>
        </label>
        <label className={styles.field}>
          <span>Task</span>
          <input className="input" list="celeriac-task-types" value={draft.taskname} onChange={(e) => edit({ taskname: e.target.value })} placeholder="Any name" data-testid="filter-taskname" />
          <Suggestions id="celeriac-task-types" values={taskTypes} />
        </label>
        <label className={styles.field}>
          <span>Worker</span>
          <input className="input" list="celeriac-workers" value={draft.workername} onChange={(e) => edit({ workername: e.target.value })} placeholder="Any worker" data-testid="filter-worker" />
          <Suggestions id="celeriac-workers" values={workerNames} />
        </label>
        <label className={styles.field}>
          <span>Queue</span>
          <input className="input" value={draft.queue} onChange={(e) => edit({ queue: e.target.value })} placeholder="Any queue" data-testid="filter-queue" />
        </label>
        {(
          [
            ['received_start', 'Received after', 'filter-received-start'],
            ['received_end', 'Received before', 'filter-received-end'],
          ] as const
        ).map(([key, label, testId]) => (
          <label key={key} className={styles.field}>
            <span>{label}</span>
            <input
              className="input"
              type="datetime-local"
              value={hydrated ? toLocalInput(view[key]) : ''}
              onChange={(e) => updateView({ [key]: fromLocalInput(e.target.value) })}
              data-testid={testId}
            />
          </label>
        ))}
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
  );
}
