'use client';

/**
 * Generic live view over socket.io: subscribes to a view (re-subscribing on every reconnect, so
 * the server resends a snapshot and a reconnect never leaves the page stale) and hands every
 * message named in `handlers` to its handler. Handlers may change on every render.
 *
 * Views and message names: server/realtime/types.ts (ViewRequest, VIEW_EVENTS, REALTIME).
 */
import { useEffect, useEffectEvent, useState } from 'react';
import { io } from 'socket.io-client';
import { REALTIME, type ViewRequest } from '@/server/realtime/types';
import { realtimePath, type SocketState } from './useRealtime';

export type LiveHandlers = Record<string, (payload: never) => void>;

export function useLiveView(request: ViewRequest | null, handlers: LiveHandlers): SocketState {
  const [state, setState] = useState<SocketState>('connecting');
  const dispatch = useEffectEvent((name: string, payload: unknown) => {
    const handler = handlers[name] as ((payload: unknown) => void) | undefined;
    handler?.(payload);
  });
  const key = request === null ? '' : JSON.stringify(request);
  const names = Object.keys(handlers).sort().join('|');

  useEffect(() => {
    if (key === '') return undefined;
    const subscription = JSON.parse(key) as ViewRequest;
    const socket = io({ path: realtimePath(), withCredentials: true });
    socket.on('connect', () => {
      setState('live');
      socket.emit(REALTIME.subscribe, subscription);
    });
    socket.on('disconnect', (reason) => {
      setState('reconnecting');
      if (reason === 'io server disconnect') socket.connect();
    });
    socket.on('connect_error', () => setState('reconnecting'));
    for (const name of names.split('|')) if (name) socket.on(name, (payload: unknown) => dispatch(name, payload));
    return () => {
      socket.removeAllListeners();
      socket.disconnect();
    };
  }, [key, names]);

  return state;
}
