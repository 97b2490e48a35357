import type { Metadata } from 'next';
import { AccessLocked } from '@/components/AccessLocked';
import { WorkersTable } from '@/components/WorkersTable';
import { parseViewOptions } from '@/components/workersView';
import { getRuntime } from '@/server/runtime';
import { NoRuntime } from '@/components/NoRuntime';

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
    return <NoRuntime title="Workers" testId="workers-no-runtime" />;
  }

  if (runtime.access.mode === 'locked') return <AccessLocked title="Workers" access={runtime.access} />;
  const snapshot = runtime.workersSnapshot();
  const view = parseViewOptions(await searchParams);
  return <WorkersTable initial={snapshot} serverNow={Date.now() / 1000} initialView={view} />;
}
