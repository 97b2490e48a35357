'use client';

/**
 * The browser end of Celeriac's socket.io channel, for every live view.
 *
 * Connects to the page's own origin at `<url prefix>/socket.io`, subscribes to one view and
 * re-subscribes on every (re)connect, so the server answers each connect with a fresh snapshot and
 * a reconnect can never leave the page on stale state. Every message named in `handlers` goes to
 * its handler.
 *
 * Views and message names: server/realtime/types.ts (ViewRequest, REALTIME, VIEW_EVENTS).
 */
import { useEffect, useEffectEvent, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import {
  REALTIME,
  VIEW_EVENTS,
  type EventsBatch,
  type OverviewSnapshot,
  type QueuesSnapshot,
  type TaskDetail,
  type TasksChanged,
  type ViewRequest,
  type WorkersDelta,
  type WorkersSnapshot,
} from '@/server/realtime/types';
import { URL_PREFIX } from './api';

/** Every message the server pushes, by name, with its payload. */
export interface LiveMessages {
  [REALTIME.workersSnapshot]: WorkersSnapshot;
  [REALTIME.workersDelta]: WorkersDelta;
  [VIEW_EVENTS.overviewSnapshot]: OverviewSnapshot;
  [VIEW_EVENTS.overviewUpdate]: OverviewSnapshot;
  [VIEW_EVENTS.tasksChanged]: TasksChanged;
  /** null: the task is not (or no longer) known. */
  [VIEW_EVENTS.taskSnapshot]: TaskDetail | null;
  [VIEW_EVENTS.taskUpdate]: TaskDetail | null;
  [VIEW_EVENTS.queuesSnapshot]: QueuesSnapshot;
  [VIEW_EVENTS.queuesUpdate]: QueuesSnapshot;
  [VIEW_EVENTS.eventsBatch]: EventsBatch;
}

type MessageName = keyof LiveMessages;

export type LiveHandlers = { [Name in MessageName]?: (payload: LiveMessages[Name]) => void };

type ServerToBrowser = { [Name in MessageName]: (payload: LiveMessages[Name]) => void };

/** Messages the browser sends. */
interface BrowserToServer {
  [REALTIME.subscribe]: (view: ViewRequest) => void;
  [REALTIME.unsubscribe]: (view: ViewRequest) => void;
}

/**
 * - `connecting`: first attempt, nothing received yet.
 * - `live`: connected and subscribed.
 * - `reconnecting`: the connection failed or dropped; socket.io keeps retrying with backoff.
 */
export type SocketState = 'connecting' | 'live' | 'reconnecting';

/** The socket.io endpoint path: the URL prefix (basePath) + '/socket.io'. */
export function realtimePath(): string {
  return `${URL_PREFIX}/socket.io`;
}

/**
 * Subscribes to `request` (null: not yet, e.g. before a task was sent) and calls `handlers` for
 * the server's pushes. Handlers may change on every render; the connection is only re-created
 * when the view, or the set of messages handled, changes.
 */
export function useLiveView(request: ViewRequest | null, handlers: LiveHandlers): SocketState {
  const [state, setState] = useState<SocketState>('connecting');
  // Always the latest handlers, without re-connecting when they change.
  const dispatch = useEffectEvent((name: MessageName, payload: unknown) => {
    // The wire's payload for `name`, as server/realtime/types.ts declares it.
    const handler = handlers[name] as ((payload: unknown) => void) | undefined;
    handler?.(payload);
  });
  const key = request === null ? '' : JSON.stringify(request);
  const names = Object.keys(handlers).sort().join('|');

  useEffect(() => {
    if (key === '') return undefined;
    const subscription = JSON.parse(key) as ViewRequest;
    const socket: Socket<ServerToBrowser, BrowserToServer> = io({
      path: realtimePath(),
      // Same origin as the page; cookies (e.g. an auth session) go along.
      withCredentials: true,
    });

    socket.on('connect', () => {
      setState('live');
      socket.emit(REALTIME.subscribe, subscription);
    });
    socket.on('disconnect', (reason) => {
      setState('reconnecting');
      // A server-side disconnect is the one case socket.io does not retry by itself.
      if (reason === 'io server disconnect') socket.connect();
    });
    socket.on('connect_error', () => setState('reconnecting'));
    for (const name of names.split('|') as MessageName[]) {
      if (name) socket.on(name, (payload: unknown) => dispatch(name, payload));
    }

    return () => {
      socket.removeAllListeners();
      socket.disconnect();
    };
  }, [key, names]);

  return state;
}
