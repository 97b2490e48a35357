import type { Metadata } from 'next';
import { EmptyState } from '@/components/EmptyState';
import { PageHeader } from '@/components/PageHeader';
import { QueuesView } from '@/components/queues/QueuesView';
import { getRuntime } from '@/server/runtime';

// Always render from the live process state; never prerender at build time.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Queues' };

export default function QueuesPage() {
  const runtime = getRuntime();
  if (!runtime) {
    return (
      <>
        <PageHeader title="Queues" />
        <section className="panel">
          <EmptyState title="No Celeriac process behind this page" testId="queues-no-runtime">
            <p>
              This page was rendered outside a running Celeriac server, so there is no broker connection and no queue data to show. Start
              Celeriac with <code>celeriac --broker &lt;url&gt;</code> and open the address it prints.
            </p>
          </EmptyState>
        </section>
      </>
    );
  }
  return <QueuesView initial={runtime.queues()} serverNow={Date.now() / 1000} />;
}
