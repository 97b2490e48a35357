'use client';

/**
 * Download the list's current filter and sort — every matching task the store keeps, not only
 * this page — as CSV or NDJSON (GET /api/celeriac/tasks/export, streamed by the server).
 */
import { apiUrl } from '../api';
import styles from './tasks.module.css';
import { filterParams, type TasksView } from './tasksView';

export function TasksExport({ view }: { view: TasksView }) {
  const href = (format: 'csv' | 'ndjson') => apiUrl('/api/celeriac/tasks/export', { ...filterParams(view), ...(view.sort !== '' ? { sort_by: view.sort } : {}), format });
  return (
    <details className={styles.columns} data-testid="tasks-export">
      <summary className="button">Export</summary>
      <div className={styles.columnsMenu} role="menu">
        <a role="menuitem" className={styles.columnOption} href={href('csv')} download>
          CSV (spreadsheets)
        </a>
        <a role="menuitem" className={styles.columnOption} href={href('ndjson')} download>
          NDJSON (one JSON object per line)
        </a>
      </div>
    </details>
  );
}
