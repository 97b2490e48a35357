/**
 * The server-rendered pages' view of the process (server/runtime.ts): the read model's answers
 * to the same questions, parsed the same way, as the API routes in ./api.ts — so a page rendered
 * on the server and the page the browser then refreshes from the API show the same data.
 */
import type { CeleriacRuntime } from '../runtime';
import type { ReadModel } from '../views/read-model';
import { AccessRefusedError, type AccessState } from './access';
import { DEFAULT_WORKFLOW_NODES } from './api';
import { parseTasksPageFilter } from './params';
import { parseTrendsRequest } from './trends-api';

export function pageRuntime(read: ReadModel, settings: { urlPrefix: string; readOnly: boolean; access: AccessState }): CeleriacRuntime {
  const runtime: CeleriacRuntime = {
    workersSnapshot: () => read.workers(),
    overview: () => read.overview(),
    queues: () => read.queues(),
    task: (uuid) => read.taskDetail(uuid),
    tasks: async (query) => read.tasksPage(parseTasksPageFilter(query)),
    worker: (hostname) => read.worker(hostname),
    workflow: (uuid) => read.workflow(uuid, DEFAULT_WORKFLOW_NODES),
    registeredTasks: () => read.registeredTasks(),
    queueNames: () => read.queueNames(),
    trends: async (query) => read.trends(parseTrendsRequest(query)),
    ...settings,
  };
  return settings.access.mode === 'locked' ? lockedRuntime(runtime) : runtime;
}

/**
 * The pages' runtime while the API is locked: the same shape, but every function that returns
 * cluster data throws, so a page that forgot to check `access` fails closed instead of leaking.
 */
function lockedRuntime(runtime: CeleriacRuntime): CeleriacRuntime {
  const refuse = (): never => {
    throw new AccessRefusedError(runtime.access.refusal ?? 'Access refused');
  };
  return {
    workersSnapshot: refuse,
    overview: refuse,
    queues: refuse,
    task: refuse,
    tasks: refuse,
    worker: refuse,
    workflow: refuse,
    registeredTasks: refuse,
    queueNames: refuse,
    trends: refuse,
    urlPrefix: runtime.urlPrefix,
    readOnly: runtime.readOnly,
    access: runtime.access,
  };
}
