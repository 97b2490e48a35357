import type { SocketState } from './useLiveView';

const LABELS: Record<SocketState, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Live updates paused, reconnecting…',
};

const TITLES: Record<SocketState, string> = {
  connecting: 'Opening the live connection to Celeriac',
  live: 'Receiving live updates from Celeriac',
  reconnecting: 'The live connection to Celeriac dropped. The table shows the last state received.',
};

/** State of the browser's own socket.io connection (not the broker's). */
export function LiveIndicator({ state }: { state: SocketState }) {
  return (
    <span className={`live live--${state}`} role="status" title={TITLES[state]} data-testid="socket-status" data-state={state}>
      <span className="live__dot" aria-hidden="true" />
      {LABELS[state]}
    </span>
  );
}
