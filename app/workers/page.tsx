import type { Metadata } from 'next';
import { runtimePage } from '@/components/RuntimePage';
import { WorkersTable } from '@/components/WorkersTable';
import { parseViewOptions } from '@/components/workersView';
import { getRuntime } from '@/server/runtime';

// Always render from the live process state; never prerender at build time.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Workers' };

export default async function WorkersPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  return runtimePage(getRuntime(), { title: 'Workers', noRuntimeTestId: 'workers-no-runtime' }, async (runtime) => {
    const snapshot = runtime.workersSnapshot();
    const view = parseViewOptions(await searchParams);
    return <WorkersTable initial={snapshot} serverNow={Date.now() / 1000} initialView={view} />;
  });
}
