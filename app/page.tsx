import type { Metadata } from 'next';
import { AccessLocked } from '@/components/AccessLocked';
import { Overview } from '@/components/overview/Overview';
import { getRuntime } from '@/server/runtime';
import { NoRuntime } from '@/components/NoRuntime';

export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Overview' };

/** Cluster overview: server-rendered from the live state, then kept live over socket.io. */
export default function OverviewPage() {
  const runtime = getRuntime();
  if (!runtime) {
    return <NoRuntime title="Overview" testId="overview-no-runtime" />;
  }
  if (runtime.access.mode === 'locked') return <AccessLocked title="Overview" access={runtime.access} />;
  return <Overview initial={runtime.overview()} serverNow={Date.now() / 1000} />;
}
