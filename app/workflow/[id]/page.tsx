import type { Metadata } from 'next';
import Link from 'next/link';
import { PageHeader } from '@/components/PageHeader';
import { unlessLocked } from '@/components/RuntimePage';
import { WorkflowGraph, type Workflow } from '@/components/workflow/WorkflowGraph';
import { getRuntime } from '@/server/runtime';

// Always render from the live process state; never prerender at build time.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Workflow' };

export default async function WorkflowPage({ params }: { params: Promise<{ id: string }> }) {
  const id = decodeURIComponent((await params).id);
  const runtime = getRuntime();
  return unlessLocked(runtime, 'Workflow', async () => {
    const initial: Workflow | null = runtime ? await runtime.workflow(id) : null;
    return (
      <>
        <PageHeader title="Workflow">
          <p className="summary">
            Every task sharing the root of <Link href={`/task/${encodeURIComponent(id)}`}>{id}</Link>, linked parent → child.
          </p>
        </PageHeader>
        <WorkflowGraph taskId={id} initial={initial} />
      </>
    );
  });
}
