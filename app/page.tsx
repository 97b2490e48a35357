import type { Metadata } from 'next';
import { Overview } from '@/components/overview/Overview';
import { runtimePage } from '@/components/RuntimePage';
import { getRuntime } from '@/server/runtime';

export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Overview' };

/** Cluster overview: server-rendered from the live state, then kept live over socket.io. */
export default function OverviewPage() {
  return runtimePage(getRuntime(), { title: 'Overview', noRuntimeTestId: 'overview-no-runtime' }, (runtime) => <Overview initial={runtime.overview()} serverNow={Date.now() / 1000} />);
}
