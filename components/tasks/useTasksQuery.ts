'use client';

/**
 * The tasks page's query: the view (kept in the URL), the page of tasks the server answered for
 * it, and the live-refresh policy. Filtering, sorting and paging happen on the server
 * (/api/celeriac/tasks); only the newest request's answer is ever shown.
 *
 * Live: `tasks:changed` notifications either refresh the first page in place (when the user is
 * not interacting with it) or are counted for the "N new tasks — show" banner.
 */
import { useCallback, useEffect, useEffectEvent, useRef, useState, type RefObject } from 'react';
import { VIEW_EVENTS, type TaskRow, type TasksChanged } from '@/server/realtime/types';
import { ApiError, errorText, getJson } from '../api';
import { useLiveView, type SocketState } from '../useLiveView';
import { apiParams, tasksViewToSearch, type TasksView } from './tasksView';

export interface TasksPageData {
  total: number;
  offset: number;
  tasks: TaskRow[];
  /** Why the page is from memory although a store keeps history (server/views/types.ts, TasksPage). */
  historyNote?: string | null;
}

/** Quiet period after the last interaction before the first page may refresh in place. */
const INTERACTION_QUIET_MS = 4_000;

export interface TasksQueryOptions {
  initialView: TasksView;
  /** The first page as the server rendered it, or null when the filters were refused. */
  initialData: TasksPageData | null;
  initialError: string | null;
  /** While true (a bulk revoke is being confirmed), changes are counted, never refreshed in place. */
  holdLiveRefresh: boolean;
}

/** Handlers for the panel holding the table: they tell the live refresh when the user is busy with it. */
export interface InteractionHandlers {
  ref: RefObject<HTMLElement | null>;
  onPointerEnter: () => void;
  onPointerLeave: () => void;
  onKeyDown: () => void;
  onFocusCapture: () => void;
  onWheel: () => void;
}

export interface TasksQuery {
  view: TasksView;
  data: TasksPageData | null;
  error: string | null;
  loading: boolean;
  /** Applies `patch`, back to the first page unless it sets a page or `resetPage` is false. */
  updateView: (patch: Partial<TasksView>, resetPage?: boolean) => void;
  /** Replaces the view by what `update` makes of it (returning the same view changes nothing). */
  changeView: (update: (view: TasksView) => TasksView) => void;
  /** Queries the view again. */
  reload: () => void;
  socketState: SocketState;
  /** Tasks created since the page last refreshed, held back while the user was busy. */
  pendingNew: number;
  /** Tasks changed (beyond the new ones) since the page last refreshed. */
  pendingChanged: boolean;
  /** Shows what is pending: the first page, refreshed. */
  showPending: () => void;
  interaction: InteractionHandlers;
}

export function useTasksQuery({ initialView, initialData, initialError, holdLiveRefresh }: TasksQueryOptions): TasksQuery {
  const [view, setView] = useState<TasksView>(initialView);
  const [data, setData] = useState<TasksPageData | null>(initialData);
  const [error, setError] = useState<string | null>(initialError);
  const [loading, setLoading] = useState(false);
  const [pendingNew, setPendingNew] = useState(0);
  const [pendingChanged, setPendingChanged] = useState(false);

  const lastInteraction = useRef(0);
  const pointerInside = useRef(false);
  const panelRef = useRef<HTMLElement | null>(null);
  const requestSeq = useRef(0);
  const inFlight = useRef(false);
  const refetchQueued = useRef(false);

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
      const body = await getJson<TasksPageData>('/api/celeriac/tasks', { query: apiParams(target) });
      if (seq !== requestSeq.current) return;
      setData(body);
      setError(null);
      setPendingNew(0);
      setPendingChanged(false);
    } catch (e) {
      // The server's word on a refused filter (400) as it is; a request without a reply says so.
      if (seq === requestSeq.current) setError(e instanceof ApiError && e.status !== 0 ? e.message : `Could not load tasks: ${errorText(e)}`);
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

  const changeView = useCallback((update: (view: TasksView) => TasksView) => setView(update), []);
  const updateView = useCallback((patch: Partial<TasksView>, resetPage = true) => {
    setView((v) => ({ ...v, ...patch, ...(resetPage && patch.page === undefined ? { page: 1 } : {}) }));
  }, []);

  // --- live updates -------------------------------------------------------------------------
  const markInteraction = () => {
    lastInteraction.current = Date.now();
  };

  const onTasksChanged = useEffectEvent((msg: TasksChanged) => {
    const quiet = Date.now() - lastInteraction.current > INTERACTION_QUIET_MS && !pointerInside.current;
    const panelTop = panelRef.current?.getBoundingClientRect().top ?? 0;
    // Scrolled into the table: rows arriving on top would push what the user reads down.
    const scrolledIntoTable = panelTop < 0;
    if (view.page === 1 && quiet && !scrolledIntoTable && !holdLiveRefresh) {
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
    [VIEW_EVENTS.tasksChanged]: (msg) => onTasksChanged(msg),
  });

  const showPending = () => {
    if (view.page !== 1) updateView({ page: 1 }, false);
    else void load(view);
    setPendingNew(0);
    setPendingChanged(false);
  };

  return {
    view,
    data,
    error,
    loading,
    updateView,
    changeView,
    reload: () => void load(view),
    socketState,
    pendingNew,
    pendingChanged,
    showPending,
    interaction: {
      ref: panelRef,
      onPointerEnter: () => {
        pointerInside.current = true;
      },
      onPointerLeave: () => {
        pointerInside.current = false;
        markInteraction();
      },
      onKeyDown: markInteraction,
      onFocusCapture: markInteraction,
      onWheel: markInteraction,
    },
  };
}
