import type { Metadata } from 'next';
import { runtimePage } from '@/components/RuntimePage';
import { TasksPage, type TasksPageData } from '@/components/tasks/TasksPage';
import { apiParams, parseTasksView } from '@/components/tasks/tasksView';
import { getRuntime } from '@/server/runtime';

// Always render from the live process state; never prerender at build time.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Tasks' };

export default async function TasksRoute({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  return runtimePage(getRuntime(), { title: 'Tasks', noRuntimeTestId: 'tasks-no-runtime' }, async (runtime) => {
    const view = parseTasksView(await searchParams);
    let data: TasksPageData | null = null;
    let error: string | null = null;
    try {
      data = await runtime.tasks(apiParams(view));
    } catch (e) {
      // A bad search or time filter (the API's 400): shown inline, like the client does.
      error = e instanceof Error ? e.message : String(e);
    }
    return <TasksPage initialView={view} initialData={data} initialError={error} readOnly={runtime.readOnly} serverNow={Date.now() / 1000} />;
  });
}
