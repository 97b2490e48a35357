import { EmptyState } from './EmptyState';
import { PageHeader } from './PageHeader';

/** What a page shows when it was rendered outside a running Celeriac (e.g. at build time). */
export function NoRuntime({ title, testId }: { title: string; testId?: string }) {
  return (
    <>
      <PageHeader title={title} />
      <section className="panel">
        <EmptyState title="No Celeriac process behind this page" testId={testId}>
          <p>
            This page was rendered outside a running Celeriac server, so there is no broker connection and no cluster data to show. Start Celeriac with <code>celeriac --broker &lt;url&gt;</code> and
            open the address it prints.
          </p>
        </EmptyState>
      </section>
    </>
  );
}
