import type { Metadata } from 'next';
import { EmptyState } from '@/components/EmptyState';
import { PageHeader } from '@/components/PageHeader';
import { WorkersTable } from '@/components/WorkersTable';
import { parseViewOptions } from '@/components/workersView';
import { getRuntime } from '@/server/runtime';

// Always render from the live process state; never prerender at build time.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Workers' };

export default async function WorkersPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const runtime = getRuntime();
  if (!runtime) {
    return (
      <>
        <PageHeader title="Workers" />
        <section className="panel">
          <EmptyState title="No Celeriac process behind this page" testId="workers-no-runtime">
            <p>
              This page was rendered outside a running Celeriac server, so there is no broker connection and no worker
              data to show. Start Celeriac with <code>celeriac --broker &lt;url&gt;</code> and open the address it prints.
            </p>
          </EmptyState>
        </section>
      </>
    );
  }

  const snapshot = runtime.workersSnapshot();
  const view = parseViewOptions(await searchParams);
  return <WorkersTable initial={snapshot} serverNow={Date.now() / 1000} initialView={view} />;
}
