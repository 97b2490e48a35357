import type { Metadata } from 'next';
import { EmptyState } from '@/components/EmptyState';
import { PageHeader } from '@/components/PageHeader';
import { SendTaskForm } from '@/components/send/SendTaskForm';
import { getRuntime } from '@/server/runtime';
import { NoRuntime } from '@/components/NoRuntime';

// Always render from the live process state; never prerender at build time.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Send a task' };

export default function SendTaskPage() {
  const runtime = getRuntime();
  if (!runtime) {
    return <NoRuntime title="Send a task" />;
  }
  if (runtime.access.mode === 'locked') {
    // The form stays visible so it is clear what is refused, and why; nothing of the cluster
    // (registered tasks, queues) is read.
    return (
      <>
        <PageHeader title="Send a task" />
        <SendTaskForm registered={[]} queues={[]} refused={runtime.access.refusal} />
      </>
    );
  }
  if (runtime.readOnly) {
    return (
      <>
        <PageHeader title="Send a task" />
        <section className="panel">
          <EmptyState title="Read-only mode" testId="send-read-only">
            <p>Celeriac runs with --read-only: sending tasks is turned off.</p>
          </EmptyState>
        </section>
      </>
    );
  }
  return (
    <>
      <PageHeader title="Send a task" />
      <SendTaskForm registered={runtime.registeredTasks()} queues={runtime.queueNames()} />
    </>
  );
}
