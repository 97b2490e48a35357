import type { Metadata } from 'next';
import { EmptyState } from '@/components/EmptyState';
import { PageHeader } from '@/components/PageHeader';
import { Overview } from '@/components/overview/Overview';
import { getRuntime } from '@/server/runtime';

export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Overview' };

/** Cluster overview: server-rendered from the live state, then kept live over socket.io. */
export default function OverviewPage() {
  const runtime = getRuntime();
  if (!runtime) {
    return (
      <>
        <PageHeader title="Overview" />
        <section className="panel">
          <EmptyState title="No Celeriac process behind this page" testId="overview-no-runtime">
            <p>
              This page was rendered outside a running Celeriac server, so there is no broker connection and no cluster
              data to show. Start Celeriac with <code>celeriac --broker &lt;url&gt;</code> and open the address it prints.
            </p>
          </EmptyState>
        </section>
      </>
    );
  }
  return <Overview initial={runtime.overview()} serverNow={Date.now() / 1000} />;
}
