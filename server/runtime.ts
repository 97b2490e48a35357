/**
 * The bridge between the Node process and Next.js server components.
 *
 * Next bundles app/ code separately, so importing server modules from a page would create a
 * second, empty copy of the state. Instead the process registers one runtime object on
 * globalThis (under a Symbol.for key, shared across bundles) and pages read from it.
 */
import type { AccessState } from './http/access';
import type { TrendsView } from './views/trend-types';
import type { OverviewSnapshot, QueuesSnapshot, TaskDetail, TasksPage, WorkerView, WorkersSnapshot, WorkflowView } from './views/types';

/**
 * What the pages read: the read model's answers (server/views), the same ones the API serves
 * (server/http/page-runtime.ts builds this from the read model; a test compares the two).
 */
export interface CeleriacRuntime {
  /** Current workers view, as pushed over socket.io. */
  workersSnapshot(): WorkersSnapshot;
  overview(): OverviewSnapshot;
  queues(): QueuesSnapshot;
  /** One task (GET /api/celeriac/task/:id), or null when unknown. */
  task(uuid: string): Promise<TaskDetail | null>;
  /** A page of tasks with the /api/celeriac/tasks filters (query-string values); throws RequestError on bad ones. */
  tasks(query: Record<string, string | string[] | undefined>): Promise<TasksPage>;
  /** One worker: its live summary, its inspect data (Flower's shape) and whether it is paused. */
  worker(hostname: string): WorkerView | null;
  /** The workflow DAG a task belongs to (GET /api/celeriac/workflow/:id), or null. */
  workflow(uuid: string): Promise<WorkflowView | null>;
  /** Task names registered on any inspected worker, sorted (send-task autocomplete). */
  registeredTasks(): string[];
  /** Trends with the /api/celeriac/trends parameters (query-string values); throws RequestError on bad ones. */
  trends(query: Record<string, string | string[] | undefined>): Promise<TrendsView>;
  /** Queues Celeriac knows of, sorted. */
  queueNames(): string[];
  /** Configured --url-prefix ('' or '/something'). */
  urlPrefix: string;
  readOnly: boolean;
  /**
   * Who may read and act. While `access.mode` is `locked` (non-loopback address, no
   * authentication) every data function above throws: pages show `access.refusal` instead.
   */
  access: AccessState;
}

const RUNTIME_KEY = Symbol.for('celeriac.runtime');

type RuntimeHolder = { [RUNTIME_KEY]?: CeleriacRuntime };

export function setRuntime(runtime: CeleriacRuntime | null): void {
  const holder = globalThis as RuntimeHolder;
  if (runtime) holder[RUNTIME_KEY] = runtime;
  else delete holder[RUNTIME_KEY];
}

/** The runtime, or null when a page is rendered outside the Celeriac process (e.g. at build time). */
export function getRuntime(): CeleriacRuntime | null {
  return (globalThis as RuntimeHolder)[RUNTIME_KEY] ?? null;
}
