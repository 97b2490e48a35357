/**
 * The read API: Flower 2.1's routes and response shapes (docs/flower-reference.md §2),
 * plus Celeriac's own routes under /api/celeriac/. Handlers only read the model; they never
 * wait on the broker.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Monitor } from '../monitor';
import type { RealtimeHub } from '../realtime/hub';
import type { TaskRow } from '../realtime/types';
import type { ClusterState } from '../state/cluster-state';
import { queryTasks, queryTasksPage } from '../state/task-query';
import type { TaskRecord } from '../state/task-record';
import { errorText } from '../errors';
import { ApiError, boolParam, param, parseTaskFilter, type Query } from './params';

/** A row of Celeriac's tasks list: Flower's task dict plus the revocation mark. */
export function taskRow(task: TaskRecord, state: ClusterState): TaskRow {
  return { ...task.toFlowerDict(state.childrenOf(task.uuid)), revocation: task.revocationView() };
}

export function apiRouter(monitor: Monitor, hub: RealtimeHub): Router {
  const router = express.Router();
  const state = monitor.state;

  // Flower: {worker: {stats, active_queues, registered, …, timestamp}} from the inspect cache
  // (a key appears once that method answered). `refresh=1` inspects first; `status=1` gives
  // liveness from events instead.
  router.get('/api/workers', async (req, res) => {
    const query = req.query as Query;
    const now = Date.now() / 1000;
    const name = param(query, 'workername');
    const refresh = boolParam(query, 'refresh');
    if (boolParam(query, 'status')) {
      const status: Record<string, boolean> = {};
      for (const worker of state.workers.values()) status[worker.hostname] = worker.isAlive(now);
      res.json(status);
      return;
    }
    if (refresh) {
      try {
        await monitor.inspector.refresh(name ? [name] : undefined);
      } catch (error) {
        throw new ApiError(503, `Failed to update workers: ${errorText(error)}`);
      }
    }
    const inspector = monitor.inspector;
    if (name !== undefined && name !== '') {
      const data = inspector.get(name);
      if (!data && !state.workers.get(name)) throw new ApiError(404, `Unknown worker '${name}'`);
      res.json({ [name]: data ?? {} });
      return;
    }
    const all: Record<string, unknown> = {};
    for (const worker of state.workers.values()) all[worker.hostname] = inspector.get(worker.hostname) ?? {};
    for (const [hostname, data] of inspector.all()) all[hostname] = data;
    res.json(all);
  });

  router.get('/api/audit', (req, res) => {
    const query = req.query as Query;
    const limit = param(query, 'limit');
    const offset = param(query, 'offset');
    const parse = (raw: string | undefined, fallback: number, name: string): number => {
      if (raw === undefined || raw === '') return fallback;
      if (!/^\d+$/.test(raw)) throw new ApiError(400, `Invalid value for '${name}': ${JSON.stringify(raw)}`);
      return Number(raw);
    };
    res.json(monitor.audit.list({ limit: Math.min(parse(limit, 100, 'limit'), 10_000), offset: parse(offset, 0, 'offset'), action: param(query, 'action') ?? null, target: param(query, 'target') ?? null }));
  });

  // Ping through the mailbox: which workers answer remote control right now (not just heartbeats).
  router.get('/api/celeriac/ping', async (req, res) => {
    const name = param(req.query as Query, 'workername');
    res.json(await monitor.controls.ping(name ? [name] : null));
  });

  router.get('/api/celeriac/pauses', (_req, res) => {
    res.json(monitor.controls.pauseState());
  });

  router.get('/api/tasks', (req, res) => {
    const filter = parseTaskFilter(req.query as Query);
    const tasks = queryTasks(state.tasks.values(), filter);
    // Built by hand so the order is the result order even for task ids that look like
    // integers (a JS object would move those to the front).
    const body = tasks.map((t) => `${JSON.stringify(t.uuid)}:${JSON.stringify(t.toFlowerDict(state.childrenOf(t.uuid)))}`);
    res.type('application/json').send(`{${body.join(',')}}`);
  });

  router.get('/api/task/info/:taskId', (req, res) => {
    const id = req.params.taskId;
    const task = state.getTask(id);
    if (!task) throw new ApiError(404, `Unknown task '${id}'`);
    res.json(task.toFlowerDict(state.childrenOf(id)));
  });

  const taskTypes = (_req: Request, res: Response): void => {
    res.json({ 'task-types': state.taskTypes() });
  };
  router.get('/api/task/types', taskTypes);
  router.get('/api/tasks/types', taskTypes);

  // Celeriac's own routes.
  // The tasks page: Flower's filters plus `queue`, a total for paging, rows in result order.
  router.get('/api/celeriac/tasks', (req, res) => {
    const filter = parseTaskFilter(req.query as Query);
    const page = queryTasksPage(state.tasks.values(), { ...filter, limit: Math.min(filter.limit ?? 50, 1_000) });
    res.json({ total: page.total, offset: filter.offset, tasks: page.tasks.map((t) => taskRow(t, state)) });
  });

  router.get('/api/celeriac/task/:taskId', (req, res) => {
    const detail = hub.taskDetail(req.params.taskId);
    if (!detail) throw new ApiError(404, `Unknown task '${req.params.taskId}'`);
    res.json(detail);
  });

  // The DAG of a task's workflow (same root_id), for the workflow page.
  router.get('/api/celeriac/workflow/:taskId', (req, res) => {
    const limitRaw = param(req.query as Query, 'limit');
    const limit = limitRaw === undefined ? 10_000 : Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 50_000) throw new ApiError(400, `Invalid value for 'limit': ${JSON.stringify(limitRaw)} (1–50000)`);
    const workflow = state.workflow(req.params.taskId, limit);
    if (!workflow) throw new ApiError(404, `Unknown task '${req.params.taskId}'`);
    res.json({
      root: workflow.root,
      truncated: workflow.truncated,
      nodes: workflow.nodes.map((t) => ({ uuid: t.uuid, name: t.name, state: t.state, parent_id: t.parentId, worker: t.worker, sent: t.sent, received: t.received, started: t.started, succeeded: t.succeeded, failed: t.failed, runtime: t.runtime })),
      edges: workflow.edges.map(([from, to]) => ({ from, to })),
    });
  });

  router.get('/api/celeriac/overview', (_req, res) => {
    res.json(hub.views.overview(hub.streamStatus()));
  });

  router.get('/api/celeriac/workers', (_req, res) => {
    res.json(hub.workersSnapshot());
  });

  router.get('/api/celeriac/status', (_req, res) => {
    const counters = monitor.ingest.counters;
    const memory = process.memoryUsage();
    res.json({
      broker: monitor.config.brokerRedacted,
      transport: monitor.transport.kind,
      stream: monitor.transport.status(),
      uptimeSeconds: Date.now() / 1000 - monitor.startedAt,
      events: {
        received: counters.events,
        byType: Object.fromEntries(counters.byType),
        dropped: counters.dropped,
        droppedTotal: monitor.ingest.totalDropped(),
        ignored: counters.ignored,
        lastEventAt: counters.lastEventAt,
      },
      state: {
        tasks: state.tasks.size,
        maxTasks: monitor.config.maxTasks,
        tasksEvicted: state.taskEvictions,
        workers: state.workers.size,
        maxWorkers: monitor.config.maxWorkers,
        workersEvicted: state.workerEvictions,
      },
      process: { rss: memory.rss, heapUsed: memory.heapUsed },
      realtime: hub.clientStats(),
    });
  });

  router.use('/api', (_req, _res, next) => next(new ApiError(404, 'No such API route')));
  return router;
}

/** Errors become JSON with the right status; anything unexpected is a logged 500 without internals. */
export function apiErrorHandler(logger: { error: (obj: object, msg: string) => void }) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (error instanceof ApiError) {
      res.status(error.status).json({ error: error.message });
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
