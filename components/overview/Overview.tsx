'use client';

/**
 * The live overview: starts from the server-rendered snapshot, then follows `overview:snapshot`
 * (on every (re)subscribe) and `overview:update` (whole state, every couple of seconds while
 * anything changes) over socket.io.
 */
import { useState } from 'react';
import { VIEW_EVENTS, type OverviewSnapshot } from '@/server/realtime/types';
import { LiveIndicator } from '../LiveIndicator';
import { PageHeader } from '../PageHeader';
import { StreamBanner } from '../StreamBanner';
import { ClockProvider } from '../useClock';
import { useLiveView } from '../useLiveView';
import { useTimeFormatter } from '../timePreference';
import { OverviewStats } from './OverviewStats';
import { QueueLengths } from './QueueLengths';
import { ThroughputChart } from './ThroughputChart';
import { TopTable } from './TopTable';

export function Overview({ initial, serverNow }: { initial: OverviewSnapshot; serverNow: number }) {
  const [snapshot, setSnapshot] = useState(initial);
  const socket = useLiveView('overview', {
    [VIEW_EVENTS.overviewSnapshot]: (next: OverviewSnapshot) => setSnapshot(next),
    [VIEW_EVENTS.overviewUpdate]: (next: OverviewSnapshot) => setSnapshot(next),
  });

  return (
    <ClockProvider serverNow={serverNow}>
      <StreamBanner stream={snapshot.stream} />
      <PageHeader title="Overview" aside={<LiveIndicator state={socket} />}>
        <OverviewSummary snapshot={snapshot} />
      </PageHeader>
      <OverviewStats snapshot={snapshot} />
      <div className="ov-grid ov-grid--main">
        <ThroughputChart points={snapshot.throughput} />
        <QueueLengths queues={snapshot.queues} />
      </div>
      <div className="ov-grid ov-grid--pair">
        <TopTable
          title="Top failing tasks"
          column="Task"
          testId="top-failing"
          rows={snapshot.topFailing.map((r) => ({ key: r.name, label: r.name, count: r.count }))}
          emptyText="No task failed in the last 5 minutes."
        />
        <TopTable
          title="Top exceptions"
          column="Exception"
          testId="top-exceptions"
          mono
          rows={snapshot.topExceptions.map((r) => ({ key: r.exception, label: r.exception, count: r.count }))}
          emptyText="No exceptions in the last 5 minutes."
        />
      </div>
    </ClockProvider>
  );
}

function OverviewSummary({ snapshot }: { snapshot: OverviewSnapshot }) {
  const time = useTimeFormatter();
  return (
    <p className="summary">
      <span className="summary__item">
        Updated{' '}
        <time dateTime={new Date(snapshot.at * 1000).toISOString()} data-testid="overview-updated-at">
          {time.clock(snapshot.at)} {time.zone(snapshot.at)}
        </time>
      </span>
      <span className="summary__item summary__broker">
        <code title={snapshot.stream.broker}>{snapshot.stream.broker}</code>
      </span>
    </p>
  );
}
