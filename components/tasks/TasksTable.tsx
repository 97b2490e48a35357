'use client';

/**
 * The tasks list's table and what sits around it: the column chooser (the choice kept in
 * localStorage), the "N new tasks" banner, the empty states and the pager.
 */
import Link from 'next/link';
import { useEffect, useState, type ReactNode } from 'react';
import type { TaskRow } from '@/server/realtime/types';
import { EmptyState } from '../EmptyState';
import { formatCount } from '../format';
import { RelativeTime } from '../Timestamps';
import { SortIcon } from '../SortIcon';
import { RevocationBadge } from './Revocation';
import { TaskStateBadge } from './TaskStateBadge';
import styles from './tasks.module.css';
import {
  COLUMN_KEYS,
  COLUMN_LABELS,
  COLUMNS_STORAGE_KEY,
  DEFAULT_COLUMNS,
  formatRuntime,
  isSortField,
  PAGE_SIZE,
  parseStoredColumns,
  REQUIRED_COLUMNS,
  type ColumnKey,
  type SortField,
} from './tasksView';

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
// Columns

export interface TaskColumns {
  columns: readonly ColumnKey[];
  toggle: (key: ColumnKey) => void;
}

/** The visible columns: the defaults on the server and while hydrating, then the stored choice. */
export function useTaskColumns(): TaskColumns {
  const [columns, setColumns] = useState<readonly ColumnKey[]>(DEFAULT_COLUMNS);

  // Stored column choice (after hydration, so the server HTML and the first render agree).
  useEffect(() => {
    const stored = parseStoredColumns(window.localStorage.getItem(COLUMNS_STORAGE_KEY));
    if (stored) setColumns(stored);
  }, []);

  const toggle = (key: ColumnKey) => {
    setColumns((current) => {
      const set = new Set(current);
      if (set.has(key)) set.delete(key);
      else set.add(key);
      const next = COLUMN_KEYS.filter((c) => set.has(c));
      window.localStorage.setItem(COLUMNS_STORAGE_KEY, JSON.stringify(next));
      return next;
    });
  };

  return { columns, toggle };
}

export function ColumnChooser({ columns, toggle }: TaskColumns) {
  return (
    <details className={styles.columns} data-testid="tasks-columns">
      <summary className="button">Columns</summary>
      <fieldset className={styles.columnsMenu}>
        <legend className="visually-hidden">Visible columns</legend>
        {COLUMN_KEYS.map((key) => (
          <label key={key} className={styles.columnOption}>
            <input type="checkbox" checked={columns.includes(key)} disabled={REQUIRED_COLUMNS.has(key)} onChange={() => toggle(key)} data-column={key} />
            {COLUMN_LABELS[key]}
          </label>
        ))}
      </fieldset>
    </details>
  );
}

// ---------------------------------------------------------------------------------------------

export interface TasksTableProps {
  tasks: TaskRow[];
  columns: readonly ColumnKey[];
  /** The view's sort: '' (newest first), 'name', '-received'… */
  sort: string;
  onSort: (field: SortField) => void;
  loading: boolean;
}

export function TasksTable({ tasks, columns, sort, onSort, loading }: TasksTableProps) {
  const sortField = sort.replace(/^-/, '');
  const sortDir: 'asc' | 'desc' = sort.startsWith('-') ? 'desc' : 'asc';
  const visible = COLUMN_KEYS.filter((c) => columns.includes(c));
  return (
    <div className={`table-scroll ${loading ? styles.loading : ''}`}>
      <table className={`table ${styles.table}`} data-testid="tasks-table" aria-busy={loading}>
        <thead>
          <tr>
            {visible.map((key) =>
              isSortField(key) ? (
                <th key={key} scope="col" aria-sort={sortField === key ? (sortDir === 'asc' ? 'ascending' : 'descending') : undefined}>
                  <button type="button" className="sort" onClick={() => onSort(key)} data-sort-key={key}>
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
  );
}

/** Changes held back while the user was busy with the table; a click shows them. */
export function NewTasksBanner({ count, changed, firstPage, onShow }: { count: number; changed: boolean; firstPage: boolean; onShow: () => void }) {
  if (count === 0 && !changed) return null;
  return (
    <button type="button" className={styles.newBanner} onClick={onShow} data-testid="tasks-new-banner" data-count={count}>
      {count > 0 ? `${formatCount(count)} new task${count === 1 ? '' : 's'}` : 'Tasks changed'}
      <span className={styles.newBannerAction}>{firstPage ? 'Show' : 'Go to newest'}</span>
    </button>
  );
}

/** What the table area says when the page holds no task: none match, or none seen at all. */
export function TasksEmpty({ filtered, onClearFilters }: { filtered: boolean; onClearFilters: () => void }) {
  return filtered ? (
    <EmptyState title="No tasks match" testId="tasks-no-match">
      <button type="button" className="button" onClick={onClearFilters}>
        Clear filters
      </button>
    </EmptyState>
  ) : (
    <EmptyState title="No tasks seen yet" testId="tasks-empty">
      <p>
        Tasks appear as soon as workers send task events. Celeriac turns events on unless it runs with <code>--no-enable-events</code>; workers started with <code>-E</code> always send them.
      </p>
    </EmptyState>
  );
}

export function TasksPager({ page, total, shown, onPage }: { page: number; total: number; shown: number; onPage: (page: number) => void }) {
  const offset = (page - 1) * PAGE_SIZE;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  return (
    <nav className={styles.pager} aria-label="Pages">
      <span className={styles.pagerInfo}>
        {formatCount(Math.min(offset + 1, total))}–{formatCount(Math.min(offset + shown, total))} of {formatCount(total)}
      </span>
      <button type="button" className="button" onClick={() => onPage(page - 1)} disabled={page <= 1} data-testid="tasks-prev">
        ← Previous
      </button>
      <span className={styles.pagerPage}>
        Page {formatCount(page)} of {formatCount(pages)}
      </span>
      <button type="button" className="button" onClick={() => onPage(page + 1)} disabled={page >= pages} data-testid="tasks-next">
        Next →
      </button>
    </nav>
  );
}
