import type { Metadata } from 'next';
import { runtimePage } from '@/components/RuntimePage';
import { TrendsPage } from '@/components/trends/TrendsPage';
import { parseSelection, selectionQuery } from '@/components/trends/trendsFormat';
import { getRuntime } from '@/server/runtime';
import type { TrendsView } from '@/server/views/trend-types';

// Always render from the live process state; never prerender at build time.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Trends' };

/** Trends: server-rendered from the stored aggregates for the URL's range and task name, then refreshed from the API. */
export default async function TrendsRoute({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  return runtimePage(getRuntime(), { title: 'Trends', noRuntimeTestId: 'trends-no-runtime' }, async (runtime) => {
    const selection = parseSelection(await searchParams);
    let data: TrendsView | null = null;
    let error: string | null = null;
    try {
      data = await runtime.trends(selectionQuery(selection));
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    return <TrendsPage initialSelection={selection} initialData={data} initialError={error} />;
  });
}
