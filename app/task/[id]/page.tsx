import type { Metadata } from 'next';
import { AccessLocked } from '@/components/AccessLocked';
import { TaskDetailView } from '@/components/tasks/TaskDetailView';
import { getRuntime } from '@/server/runtime';
import { NoRuntime } from '@/components/NoRuntime';

function decode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

// Always render from the live process state; never prerender at build time.
export const dynamic = 'force-dynamic';

export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const { id } = await params;
  const runtime = getRuntime();
  const task = runtime && runtime.access.mode !== 'locked' ? await runtime.task(decode(id)) : null;
  return { title: task?.name ? `${task.name} ${id.slice(0, 8)}` : `Task ${id.slice(0, 8)}` };
}

export default async function TaskRoute({ params }: { params: Promise<{ id: string }> }) {
  const { id: raw } = await params;
  const id = decode(raw);
  const runtime = getRuntime();
  if (!runtime) {
    return <NoRuntime title="Task" testId="task-no-runtime" />;
  }
  if (runtime.access.mode === 'locked') return <AccessLocked title="Task" access={runtime.access} />;
  const task = await runtime.task(id);
  return <TaskDetailView key={id} id={id} initial={task} readOnly={runtime.readOnly} />;
}
