import type { ReactNode } from 'react';
import type { getRuntime } from '@/server/runtime';
import { AccessLocked } from './AccessLocked';
import { NoRuntime } from './NoRuntime';

/** The running Celeriac as pages read it (server/runtime.ts). */
export type Runtime = NonNullable<ReturnType<typeof getRuntime>>;

/**
 * A page that shows cluster data: `render` gets the running Celeriac, unless the page was rendered
 * outside one (at build time: `NoRuntime`) or the API is locked (`AccessLocked`: the page reads
 * the same data as the API, so it is refused the same way).
 */
export function runtimePage<Page extends ReactNode | Promise<ReactNode>>(
  runtime: Runtime | null,
  { title, noRuntimeTestId }: { title: string; noRuntimeTestId?: string },
  render: (runtime: Runtime) => Page,
): Page | ReactNode {
  if (!runtime) return <NoRuntime title={title} testId={noRuntimeTestId} />;
  return unlessLocked(runtime, title, () => render(runtime));
}

/** A page that renders without a running Celeriac too (it fetches or subscribes on its own): only the lock applies. */
export function unlessLocked<Page extends ReactNode | Promise<ReactNode>>(runtime: Runtime | null, title: string, render: () => Page): Page | ReactNode {
  if (runtime?.access.mode === 'locked') return <AccessLocked title={title} access={runtime.access} />;
  return render();
}
