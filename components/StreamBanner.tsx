'use client';

import type { StreamStatus } from '@/server/realtime/types';
import { Banner } from './Banner';
import { ElapsedTime, LocalTime } from './Timestamps';

/** Shown while Celeriac is not receiving events from the broker: every number on the page is frozen. */
export function StreamBanner({ stream }: { stream: StreamStatus }) {
  if (stream.connected) return null;
  return (
    <Banner tone="danger" testId="stream-banner" title="Not receiving events from the broker" reason={stream.reason ?? 'Disconnected'}>
      Down for <ElapsedTime since={stream.since} />, since <LocalTime at={stream.since} />
      {' · '}Counts and statuses below may be stale.
    </Banner>
  );
}
