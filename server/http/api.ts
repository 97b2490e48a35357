/**
 * The read API: Flower 2.1's routes and response shapes (docs/flower-reference.md §2),
 * plus Celeriac's own routes under /api/celeriac/. Handlers only read the model; they never
 * wait on the broker.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { BrokerUnavailableError } from '../broker/transport';
import { errorText, RequestError } from '../errors';
import type { ReadModel } from '../views/read-model';
import { exportTasksHandler } from './export';
import { boolParam, intParam, param, parseTaskFilter, parseTasksPageFilter, type Query } from './params';

export interface ReadApiDeps {
  read: ReadModel;
  /** Inspect workers now (`/api/workers?refresh=1`); rejects when the broker is unreachable. */
  refreshInspection(workers?: string[]): Promise<void>;
  /** Which workers answer remote control right now. */
  ping(workers: string[] | null): Promise<unknown>;
  /** Live-view clients connected and dropped (server/realtime/hub.ts). */
  realtimeStats(): { connected: number; slowDisconnected: number };
}

export function apiRouter({ read, refreshInspection, ping, realtimeStats }: ReadApiDeps): Router {
  const router = express.Router();

  // Flower: {worker: {stats, active_queues, registered, …, timestamp}} from the inspect cache
  // (a key appears once that method answered). `refresh=1` inspects first; `status=1` gives
  // liveness from events instead.
  router.get('/api/workers', async (req, res) => {
    const query = req.query as Query;
    const name = param(query, 'workername');
    const refresh = boolParam(query, 'refresh');
    if (boolParam(query, 'status')) {
      res.json(read.workerLiveness());
      return;
    }
    if (refresh) {
      try {
        await refreshInspection(name ? [name] : undefined);
      } catch (error) {
        throw new RequestError(503, `Failed to update workers: ${errorText(error)}`);
      }
    }
    const inspections = read.workerInspections(name === undefined || name === '' ? undefined : name);
    if (inspections === null) throw new RequestError(404, `Unknown worker '${name ?? ''}'`);
    res.json(inspections);
  });

  router.get('/api/audit', async (req, res) => {
    const query = req.query as Query;
    res.json(
      await read.audit({
        limit: Math.min(intParam(query, 'limit', {}, 100), 10_000),
        offset: intParam(query, 'offset', {}, 0),
        action: param(query, 'action') ?? null,
        target: param(query, 'target') ?? null,
      }),
    );
  });

  // Ping through the mailbox: which workers answer remote control right now (not just heartbeats).
  router.get('/api/celeriac/ping', async (req, res) => {
    const name = param(req.query as Query, 'workername');
    res.json(await ping(name ? [name] : null));
  });

  router.get('/api/celeriac/pauses', (_req, res) => {
    res.json(read.pauses());
  });

  router.get('/api/tasks', async (req, res) => {
    const tasks = await read.flowerTasks(parseTaskFilter(req.query as Query));
    // Built by hand so the order is the result order even for task ids that look like
    // integers (a JS object would move those to the front).
    const body = tasks.map((t) => `${JSON.stringify(t.uuid)}:${JSON.stringify(t)}`);
    res.type('application/json').send(`{${body.join(',')}}`);
  });

  router.get('/api/task/info/:taskId', async (req, res) => {
    const task = await read.flowerTask(req.params.taskId);
    if (!task) throw new RequestError(404, `Unknown task '${req.params.taskId}'`);
    res.json(task);
  });

  const taskTypes = async (_req: Request, res: Response): Promise<void> => {
    res.json({ 'task-types': await read.taskTypes() });
  };
  router.get('/api/task/types', taskTypes);
  router.get('/api/tasks/types', taskTypes);

  // Celeriac's own routes.
  // The tasks page: Flower's filters plus `queue`, a total for paging, rows in result order.
  router.get('/api/celeriac/tasks', async (req, res) => {
    res.json(await read.tasksPage(parseTasksPageFilter(req.query as Query)));
  });

  // The same filters as a download (CSV or NDJSON), streamed.
  router.get('/api/celeriac/tasks/export', exportTasksHandler(read));

  router.get('/api/celeriac/task/:taskId', async (req, res) => {
    const detail = await read.taskDetail(req.params.taskId);
    if (!detail) throw new RequestError(404, `Unknown task '${req.params.taskId}'`);
    res.json(detail);
  });

  // The DAG of a task's workflow (same root_id), for the workflow page.
  router.get('/api/celeriac/workflow/:taskId', async (req, res) => {
    const workflow = await read.workflow(req.params.taskId, intParam(req.query as Query, 'limit', { min: 1, max: MAX_WORKFLOW_NODES }, DEFAULT_WORKFLOW_NODES));
    if (!workflow) throw new RequestError(404, `Unknown task '${req.params.taskId}'`);
    res.json(workflow);
  });

  router.get('/api/celeriac/overview', (_req, res) => {
    res.json(read.overview());
  });

  router.get('/api/celeriac/workers', (_req, res) => {
    res.json(read.workers());
  });

  router.get('/api/celeriac/status', (_req, res) => {
    res.json({ ...read.status(), realtime: realtimeStats() });
  });

  router.use('/api', (_req, _res, next) => next(new RequestError(404, 'No such API route')));
  return router;
}

/** Nodes of a workflow graph unless `limit` says otherwise, and the most it may ask for. */
export const DEFAULT_WORKFLOW_NODES = 10_000;
export const MAX_WORKFLOW_NODES = 50_000;

/**
 * The API's one error handler: a refused request answers its status, a broker outage 503, and
 * anything unexpected is a logged 500 without internals.
 */
export function apiErrorHandler(logger: { error: (obj: object, msg: string) => void }) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (error instanceof RequestError) {
      res.status(error.status).json({ error: error.message });
      return;
    }
    if (error instanceof BrokerUnavailableError) {
      res.status(503).json({ error: `Broker unavailable: ${error.message}` });
      return;
    }
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: (error as Error).message });
      return;
    }
    logger.error({ err: error instanceof Error ? error.stack : String(error), path: req.path }, 'unhandled error in request');
    res.status(500).json({ error: 'Internal error' });
  };
}
