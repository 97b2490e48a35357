'use client';

import type { StreamStatus } from '@/server/realtime/types';
import { ElapsedTime, LocalTime } from './Timestamps';

/** Shown while Celeriac is not receiving events from the broker: every number on the page is frozen. */
export function StreamBanner({ stream }: { stream: StreamStatus }) {
  if (stream.connected) return null;
  return (
    <div className="banner banner--danger" role="alert" data-testid="stream-banner">
      <svg className="banner__icon" viewBox="0 0 20 20" aria-hidden="true">
        <path
          fill="currentColor"
          d="M10 1.5a1.6 1.6 0 0 1 1.4.8l7.6 13.4a1.6 1.6 0 0 1-1.4 2.4H2.4A1.6 1.6 0 0 1 1 15.7L8.6 2.3a1.6 1.6 0 0 1 1.4-.8Zm0 12a1.1 1.1 0 1 0 0 2.2 1.1 1.1 0 0 0 0-2.2Zm0-7.4c-.6 0-1 .5-1 1.1l.3 4.6a.7.7 0 0 0 1.4 0l.3-4.6c0-.6-.4-1.1-1-1.1Z"
        />
      </svg>
      <div className="banner__body">
        <p className="banner__title">
          Not receiving events from the broker
          <span className="banner__reason">{stream.reason ?? 'Disconnected'}</span>
        </p>
        <p className="banner__meta">
          Down for <ElapsedTime since={stream.since} />, since <LocalTime at={stream.since} />
          {' · '}Counts and statuses below may be stale.
        </p>
      </div>
    </div>
  );
}
