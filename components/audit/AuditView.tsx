'use client';

/** The control-action log (`GET /api/audit`), newest first, paged and filterable by action. */
import { useCallback, useEffect, useState } from 'react';
import { CONTROL_ACTIONS } from '../../server/control/actions';
import type { AuditEntry } from '../../server/control/audit';
import { errorText, getJson } from '../api';
import { SelectOptions } from '../Choices';
import { EmptyState } from '../EmptyState';
import { formatCount } from '../format';
import { PageHeader } from '../PageHeader';
import { useTimeFormatter } from '../timePreference';
import styles from './audit.module.css';

export const PAGE_SIZE = 100;

interface AuditPage {
  total: number;
  entries: AuditEntry[];
}

type Load = { state: 'loading' } | { state: 'error'; message: string } | { state: 'done'; page: AuditPage };

function auditQuery(offset: number, action: string): Record<string, string> {
  return { limit: String(PAGE_SIZE), offset: String(offset), ...(action ? { action } : {}) };
}

function compactJson(value: Record<string, unknown>): string {
  const keys = Object.keys(value);
  if (keys.length === 0) return '';
  const text = JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}

function WorkerOutcomes({ workers }: { workers: AuditEntry['workers'] }) {
  const entries = Object.entries(workers).sort((a, b) => a[0].localeCompare(b[0]));
  if (entries.length === 0) return <span className="muted">–</span>;
  const failed = entries.filter(([, w]) => !w.ok).length;
  return (
    <details className={styles.details}>
      <summary>
        {formatCount(entries.length)} worker{entries.length === 1 ? '' : 's'}
        {failed > 0 ? <span className={styles.failedCount}> · {formatCount(failed)} failed</span> : null}
      </summary>
      <ul className={styles.workers}>
        {entries.map(([worker, w]) => (
          <li key={worker}>
            <span className={w.ok ? styles.dotOk : styles.dotBad} role="img" aria-label={w.ok ? 'ok' : 'failed'} />
            <span className={styles.mono}>{worker}</span>
            <span className={styles.workerMsg}>{w.message}</span>
          </li>
        ))}
      </ul>
    </details>
  );
}

export function AuditView() {
  const [offset, setOffset] = useState(0);
  const [action, setAction] = useState('');
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  const [reloads, setReloads] = useState(0);
  const { full } = useTimeFormatter();

  const fetchPage = useCallback(
    async (signal: AbortSignal) => {
      try {
        setLoad({ state: 'done', page: await getJson<AuditPage>('/api/audit', { query: auditQuery(offset, action), signal }) });
      } catch (error) {
        if (!signal.aborted) setLoad({ state: 'error', message: errorText(error) });
      }
    },
    [offset, action],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: `reloads` is the refresh button's counter: changing it is what refetches
  useEffect(() => {
    const controller = new AbortController();
    void fetchPage(controller.signal);
    return () => controller.abort();
  }, [fetchPage, reloads]);

  const page = load.state === 'done' ? load.page : null;
  const total = page?.total ?? 0;
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(total, offset + PAGE_SIZE);

  return (
    <>
      <PageHeader title="Audit log">
        <p className="summary">
          <span className="summary__item">Every control action: who, from where, on what, and what each worker answered.</span>
        </p>
      </PageHeader>
      <section className="panel" aria-label="Audit log">
        <div className="toolbar">
          <label className={styles.selectLabel}>
            <span>Action</span>
            <select
              className="input"
              value={action}
              onChange={(e) => {
                setAction(e.target.value);
                setOffset(0);
              }}
              data-testid="audit-action-filter"
            >
              <option value="">All actions</option>
              <SelectOptions values={CONTROL_ACTIONS} />
            </select>
          </label>
          <button type="button" className="button" onClick={() => setReloads((n) => n + 1)} data-testid="audit-refresh">
            Refresh
          </button>
          <span className="toolbar__count" data-testid="audit-count">
            {page ? (total === 0 ? 'No entries' : `${formatCount(from)}–${formatCount(to)} of ${formatCount(total)}`) : ''}
          </span>
          <div className={styles.pager}>
            <button type="button" className="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
              Newer
            </button>
            <button type="button" className="button" disabled={offset + PAGE_SIZE >= total} onClick={() => setOffset(offset + PAGE_SIZE)}>
              Older
            </button>
          </div>
        </div>
        {load.state === 'error' ? (
          <div className={styles.error} role="alert">
            Could not load the audit log: {load.message}
          </div>
        ) : null}
        <div className="table-scroll">
          <table className={`table table--cards ${styles.table}`} data-testid="audit-table" aria-busy={load.state === 'loading'}>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">User</th>
                <th scope="col">Remote</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Parameters</th>
                <th scope="col">Outcome</th>
                <th scope="col">Workers</th>
              </tr>
            </thead>
            <tbody>
              {(page?.entries ?? []).map((entry, i) => {
                const params = compactJson(entry.parameters);
                return (
                  // biome-ignore lint/suspicious/noArrayIndexKey: audit entries carry no id; position in the log plus time is unique within a page
                  <tr key={`${offset + i}-${entry.time}`} data-testid="audit-row" data-action={entry.action} data-ok={entry.ok ? 'true' : 'false'}>
                    <td className={styles.time} data-label="Time">
                      {full(entry.time)}
                    </td>
                    <td data-label="User">{entry.user ?? <span className="muted">–</span>}</td>
                    <td className={styles.mono} data-label="Remote">
                      {entry.remote ?? <span className="muted">–</span>}
                    </td>
                    <td data-label="Action">
                      <span className={styles.action}>{entry.action}</span>
                    </td>
                    <td className={styles.target} data-label="Target">
                      {entry.target}
                    </td>
                    <td className={styles.params} data-label="Parameters" title={params ? JSON.stringify(entry.parameters, null, 2) : undefined}>
                      {params ? params : <span className="muted">–</span>}
                    </td>
                    <td className={styles.outcome} data-label="Outcome">
                      <span>
                        <span className={`badge badge--small ${entry.ok ? 'badge--ok' : 'badge--bad'}`}>{entry.ok ? 'ok' : 'failed'}</span>
                        <span className={styles.message}>{entry.message}</span>
                      </span>
                    </td>
                    <td data-label="Workers">
                      <WorkerOutcomes workers={entry.workers} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        {page && page.entries.length === 0 ? (
          <EmptyState title={action ? `No ${action} actions recorded` : 'No control actions yet'} testId="audit-empty">
            <p>Pausing, resuming or purging a queue, revoking tasks and every other control action is recorded here.</p>
          </EmptyState>
        ) : load.state === 'loading' ? (
          <p className={styles.loading}>Loading…</p>
        ) : null}
      </section>
    </>
  );
}
