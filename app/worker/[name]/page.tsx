import type { Metadata } from 'next';
import { EmptyState } from '@/components/EmptyState';
import { PageHeader } from '@/components/PageHeader';
import { unlessLocked } from '@/components/RuntimePage';
import { WorkerDetail } from '@/components/worker/WorkerDetail';
import { getRuntime } from '@/server/runtime';

// Always render from the live process state; never prerender at build time.
export const dynamic = 'force-dynamic';

export async function generateMetadata({ params }: { params: Promise<{ name: string }> }): Promise<Metadata> {
  return { title: decodeURIComponent((await params).name) };
}

export default async function WorkerPage({ params }: { params: Promise<{ name: string }> }) {
  const hostname = decodeURIComponent((await params).name);
  const runtime = getRuntime();
  return unlessLocked(runtime, hostname, () => {
    const worker = runtime?.worker(hostname) ?? null;
    if (!runtime || !worker) {
      return (
        <>
          <PageHeader title={hostname} />
          <section className="panel">
            <EmptyState title="Unknown worker" testId="worker-unknown">
              <p>Celeriac has not heard from a worker with this name (or forgot it: see --purge-offline-workers and --max-workers).</p>
            </EmptyState>
          </section>
        </>
      );
    }
    return <WorkerDetail hostname={hostname} initialSummary={worker.summary} initialInspect={worker.inspect} paused={worker.paused} readOnly={runtime.readOnly} serverNow={Date.now() / 1000} />;
  });
}
