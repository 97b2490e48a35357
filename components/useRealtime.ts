'use client';

/**
 * The browser end of Celeriac's socket.io channel.
 *
 * Connects to the page's own origin at `<url prefix>/socket.io`, joins one view and re-joins it on
 * every (re)connect, so the server answers each connect with a fresh snapshot and a reconnect can
 * never leave the page on stale state.
 */
import { useEffect, useEffectEvent, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import { REALTIME, type WorkersDelta, type WorkersSnapshot } from '@/server/realtime/types';

/** Events the server pushes, by name. */
export interface RealtimeEvents {
  [REALTIME.workersSnapshot]: (snapshot: WorkersSnapshot) => void;
  [REALTIME.workersDelta]: (delta: WorkersDelta) => void;
}

/** Events the browser sends. */
interface RealtimeCommands {
  [REALTIME.subscribe]: (view: RealtimeView) => void;
  [REALTIME.unsubscribe]: (view: RealtimeView) => void;
}

export type RealtimeView = 'workers';

/**
 * - `connecting`: first attempt, nothing received yet.
 * - `live`: connected and subscribed.
 * - `reconnecting`: the connection failed or dropped; socket.io keeps retrying with backoff.
 */
export type SocketState = 'connecting' | 'live' | 'reconnecting';

/** The socket.io endpoint path: the URL prefix (basePath) + '/socket.io'. */
export function realtimePath(): string {
  return `${process.env.NEXT_PUBLIC_CELERIAC_URL_PREFIX ?? ''}/socket.io`;
}

/**
 * Subscribes to `view` and calls `handlers` for the server's pushes. Handlers may change on every
 * render; the connection is only re-created when the view changes.
 */
export function useRealtime(view: RealtimeView, handlers: Partial<RealtimeEvents>): SocketState {
  const [state, setState] = useState<SocketState>('connecting');
  // Always the latest handlers, without re-connecting when they change.
  const onSnapshot = useEffectEvent((snapshot: WorkersSnapshot) => handlers[REALTIME.workersSnapshot]?.(snapshot));
  const onDelta = useEffectEvent((delta: WorkersDelta) => handlers[REALTIME.workersDelta]?.(delta));

  useEffect(() => {
    const socket: Socket<RealtimeEvents, RealtimeCommands> = io({
      path: realtimePath(),
      // Same origin as the page; cookies (e.g. an auth session) go along.
      withCredentials: true,
    });

    socket.on('connect', () => {
      setState('live');
      socket.emit(REALTIME.subscribe, view);
    });
    socket.on('disconnect', (reason) => {
      setState('reconnecting');
      // A server-side disconnect is the one case socket.io does not retry by itself.
      if (reason === 'io server disconnect') socket.connect();
    });
    socket.on('connect_error', () => setState('reconnecting'));

    socket.on(REALTIME.workersSnapshot, (snapshot) => onSnapshot(snapshot));
    socket.on(REALTIME.workersDelta, (delta) => onDelta(delta));

    return () => {
      socket.removeAllListeners();
      socket.disconnect();
    };
  }, [view]);

  return state;
}
