import type { Metadata } from 'next';
import { QueuesView } from '@/components/queues/QueuesView';
import { runtimePage } from '@/components/RuntimePage';
import { getRuntime } from '@/server/runtime';

// Always render from the live process state; never prerender at build time.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Queues' };

export default function QueuesPage() {
  return runtimePage(getRuntime(), { title: 'Queues', noRuntimeTestId: 'queues-no-runtime' }, (runtime) => <QueuesView initial={runtime.queues()} serverNow={Date.now() / 1000} />);
}
