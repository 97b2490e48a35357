'use client';

/**
 * The tasks list: filtering, sorting and paging happen on the server (/api/celeriac/tasks); the
 * URL holds the whole view. Live: `tasks:changed` notifications either refresh the first page in
 * place (when the user is not interacting with it) or offer "N new tasks — show".
 *
 * This component only composes: the query and its live refresh (./useTasksQuery), the filters
 * (./TasksFilters), the table (./TasksTable) and the bulk revoke (./BulkRevoke).
 */
import { Banner } from '../Banner';
import { formatCount } from '../format';
import { LiveIndicator } from '../LiveIndicator';
import { PageHeader } from '../PageHeader';
import { ClockProvider, useHydrated } from '../useClock';
import { BulkRevokeButton, BulkRevokeDialog, useBulkRevoke } from './BulkRevoke';
import { TasksExport } from './TasksExport';
import { TasksFilters, useFilterDraft } from './TasksFilters';
import { ColumnChooser, NewTasksBanner, TasksEmpty, TasksPager, TasksTable, useTaskColumns } from './TasksTable';
import { DEFAULT_TASKS_VIEW, filterTextOf, hasFilters, nextSort, withFilterText, type FilterText, type SortField, type TasksView } from './tasksView';
import { useTasksQuery, type TasksPageData } from './useTasksQuery';

export type { TasksPageData } from './useTasksQuery';

export interface TasksPageProps {
  initialView: TasksView;
  /** The first page as the server rendered it, or null when the filters were refused. */
  initialData: TasksPageData | null;
  initialError: string | null;
  readOnly: boolean;
  serverNow: number;
}

export function TasksPage({ initialView, initialData, initialError, readOnly, serverNow }: TasksPageProps) {
  const hydrated = useHydrated();
  const bulk = useBulkRevoke();
  const query = useTasksQuery({ initialView, initialData, initialError, holdLiveRefresh: bulk.state.step !== 'idle' });
  const { view, data, error, loading } = query;
  const columns = useTaskColumns();

  // Any change of the filters closes the bulk revoke: its count was for the old ones.
  const updateView = (patch: Partial<TasksView>, resetPage = true) => {
    bulk.reset();
    query.updateView(patch, resetPage);
  };
  const draft = useFilterDraft(filterTextOf(initialView), (text: FilterText) => {
    query.changeView((v) => withFilterText(v, text));
    bulk.reset();
  });

  const tasks = data?.tasks ?? [];
  const total = data?.total ?? 0;
  const filtered = hasFilters(view);

  const clearFilters = () => {
    draft.clear();
    updateView({ ...DEFAULT_TASKS_VIEW, sort: view.sort });
  };

  return (
    <ClockProvider serverNow={serverNow}>
      <PageHeader title="Tasks" aside={<LiveIndicator state={query.socketState} />}>
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

      {data?.historyNote ? (
        <Banner tone="plain" testId="tasks-history-note" title="History is not available: these are only the tasks in memory" reason={data.historyNote}>
          The store answers again once it is back or caught up; the total counts only what memory retains.
        </Banner>
      ) : null}

      <section className="panel" aria-label="Tasks" {...query.interaction}>
        <TasksFilters
          view={view}
          draft={draft}
          error={error}
          filtered={filtered}
          hydrated={hydrated}
          updateView={updateView}
          clearFilters={clearFilters}
          tools={
            <>
              <ColumnChooser {...columns} />
              <TasksExport view={view} />
              {readOnly ? null : <BulkRevokeButton state={bulk.state} filtered={filtered} total={total} onStart={() => void bulk.start(view)} />}
            </>
          }
        />

        <BulkRevokeDialog state={bulk.state} onConfirm={(count) => void bulk.confirm(view, count, query.reload)} onClose={bulk.reset} />

        <NewTasksBanner count={query.pendingNew} changed={query.pendingChanged} firstPage={view.page === 1} onShow={query.showPending} />

        <TasksTable tasks={tasks} columns={columns.columns} sort={view.sort} onSort={(field: SortField) => updateView({ sort: nextSort(view.sort, field) })} loading={loading} />

        {tasks.length === 0 && !error ? <TasksEmpty filtered={filtered} onClearFilters={clearFilters} /> : null}

        {total > 0 ? <TasksPager page={view.page} total={total} shown={tasks.length} onPage={(page) => updateView({ page }, false)} /> : null}
      </section>
    </ClockProvider>
  );
}
