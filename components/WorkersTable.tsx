'use client';

/**
 * The live workers view: starts from the server-rendered snapshot (so the page has data before, or
 * without, JavaScript), then follows `workers:snapshot` / `workers:delta` over socket.io.
 */
import { useCallback, useDeferredValue, useEffect, useMemo, useReducer, useState } from 'react';
import { REALTIME, type WorkersSnapshot } from '@/server/realtime/types';
import { EmptyState } from './EmptyState';
import { formatCount } from './format';
import { LiveIndicator } from './LiveIndicator';
import { PageHeader } from './PageHeader';
import { SortIcon } from './SortIcon';
import { StreamBanner } from './StreamBanner';
import { ClockProvider } from './useClock';
import { useLiveView } from './useLiveView';
import { WorkerRow } from './WorkerRow';
import { WorkersStats } from './WorkersStats';
import { WorkersToolbar } from './WorkersToolbar';
import { DEFAULT_VIEW, defaultDirection, selectWorkers, stateFromSnapshot, viewOptionsToSearch, workersReducer, workersTotals, type SortKey, type WorkersViewOptions } from './workersView';

interface Column {
  key: SortKey;
  label: string;
  numeric?: boolean;
  hint?: string;
}

const COLUMNS: readonly Column[] = [
  { key: 'hostname', label: 'Worker' },
  { key: 'status', label: 'Status' },
  { key: 'active', label: 'Active', numeric: true, hint: 'Tasks executing now' },
  { key: 'processed', label: 'Processed', numeric: true, hint: 'Tasks received since Celeriac started' },
  { key: 'succeeded', label: 'Succeeded', numeric: true },
  { key: 'failed', label: 'Failed', numeric: true },
  { key: 'retried', label: 'Retried', numeric: true },
  { key: 'loadavg', label: 'Load average', numeric: true, hint: '1, 5 and 15 minute load averages (sorts by 1 minute)' },
  { key: 'lastHeartbeat', label: 'Last heartbeat', hint: 'Last heartbeat or task event received from the worker' },
  { key: 'queues', label: 'Queues', hint: 'Queues the worker consumes (from remote inspection)' },
  { key: 'poolSize', label: 'Pool', numeric: true, hint: 'Pool processes or threads (from remote inspection)' },
  { key: 'version', label: 'Version', hint: 'Celery version' },
];

function SortableHeader({ column, view, onSort }: { column: Column; view: WorkersViewOptions; onSort: (key: SortKey) => void }) {
  const sorted = view.sort === column.key;
  return (
    <th scope="col" className={column.numeric ? 'num' : undefined} aria-sort={sorted ? (view.dir === 'asc' ? 'ascending' : 'descending') : undefined}>
      <button type="button" className="sort" onClick={() => onSort(column.key)} title={column.hint} data-sort-key={column.key}>
        <span>{column.label}</span>
        <SortIcon dir={sorted ? view.dir : null} />
      </button>
    </th>
  );
}

export interface WorkersTableProps {
  /** The state at server-render time. */
  initial: WorkersSnapshot;
  /** The server's clock at render time (epoch seconds), so relative times hydrate identically. */
  serverNow: number;
  /** Filter and sort from the page URL. */
  initialView?: WorkersViewOptions;
}

export function WorkersTable({ initial, serverNow, initialView = DEFAULT_VIEW }: WorkersTableProps) {
  const [state, dispatch] = useReducer(workersReducer, initial, stateFromSnapshot);
  const socketState = useLiveView('workers', {
    [REALTIME.workersSnapshot]: (snapshot) => dispatch({ type: 'snapshot', snapshot }),
    [REALTIME.workersDelta]: (delta) => dispatch({ type: 'delta', delta }),
  });

  const [view, setView] = useState(initialView);
  const updateView = useCallback((patch: Partial<WorkersViewOptions>) => setView((v) => ({ ...v, ...patch })), []);
  const onSort = useCallback(
    (key: SortKey) =>
      setView((v) => ({
        ...v,
        sort: key,
        dir: v.sort === key ? (v.dir === 'asc' ? 'desc' : 'asc') : defaultDirection(key),
      })),
    [],
  );

  // Keep the URL in step with the view, so it can be bookmarked or pasted into an incident channel.
  useEffect(() => {
    const search = viewOptionsToSearch(view);
    if (search !== window.location.search) {
      window.history.replaceState(null, '', `${window.location.pathname}${search}${window.location.hash}`);
    }
  }, [view]);

  // Typing in the filter stays responsive with thousands of rows; sorting applies at once.
  const deferredQuery = useDeferredValue(view.query);
  const rows = useMemo(() => selectWorkers(state.workers.values(), { ...view, query: deferredQuery }), [state.workers, view, deferredQuery]);
  const totals = useMemo(() => workersTotals(state.workers.values()), [state.workers]);
  const counts = { all: state.workers.size, online: totals.online, offline: totals.offline };

  return (
    <ClockProvider serverNow={serverNow}>
      <StreamBanner stream={state.stream} />
      <PageHeader title="Workers" aside={<LiveIndicator state={socketState} />}>
        <p className="summary" data-testid="workers-summary">
          <span className="summary__item summary__item--online">
            <strong>{formatCount(totals.online)}</strong> online
          </span>
          <span className="summary__item summary__item--offline">
            <strong>{formatCount(totals.offline)}</strong> offline
          </span>
          {state.stream.broker ? (
            <span className="summary__item summary__broker" title="Broker">
              <code>{state.stream.broker}</code>
            </span>
          ) : null}
        </p>
      </PageHeader>

      <WorkersStats totals={totals} />

      <section className="panel" aria-label="Workers">
        <WorkersToolbar view={view} counts={counts} shown={rows.length} onChange={updateView} />
        {/* The table (and its header) is always there, so the layout does not jump when the first worker arrives. */}
        <div className="table-scroll">
          <table className="table workers-table" data-testid="workers-table">
            <thead>
              <tr>
                {COLUMNS.map((column) => (
                  <SortableHeader key={column.key} column={column} view={view} onSort={onSort} />
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((worker) => (
                <WorkerRow key={worker.hostname} worker={worker} />
              ))}
            </tbody>
          </table>
        </div>
        {state.workers.size === 0 ? (
          <EmptyState title="No workers seen yet" testId="workers-empty">
            <p>
              A worker appears here as soon as Celeriac receives an event from it. If none show up, check that the workers use this broker (same virtual host or key prefix). Celeriac asks workers to
              send events unless it runs with <code>--no-enable-events</code>; workers started with <code>-E</code> always do.
            </p>
          </EmptyState>
        ) : rows.length === 0 ? (
          <EmptyState title="No workers match the filter" testId="workers-no-match">
            <button type="button" className="button" onClick={() => updateView({ query: '', status: 'all' })}>
              Clear filters
            </button>
          </EmptyState>
        ) : null}
      </section>
    </ClockProvider>
  );
}
