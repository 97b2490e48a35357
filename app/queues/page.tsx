import type { Metadata } from 'next';
import { AccessLocked } from '@/components/AccessLocked';
import { QueuesView } from '@/components/queues/QueuesView';
import { getRuntime } from '@/server/runtime';
import { NoRuntime } from '@/components/NoRuntime';

// Always render from the live process state; never prerender at build time.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Queues' };

export default function QueuesPage() {
  const runtime = getRuntime();
  if (!runtime) {
    return <NoRuntime title="Queues" testId="queues-no-runtime" />;
  }
  if (runtime.access.mode === 'locked') return <AccessLocked title="Queues" access={runtime.access} />;
  return <QueuesView initial={runtime.queues()} serverNow={Date.now() / 1000} />;
}
