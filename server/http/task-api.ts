/**
 * Sending tasks and reading results: Flower's `async-apply`, `send-task`, `apply` and `result`
 * routes, plus Celeriac's retry of a finished task. Messages are Celery task protocol v2,
 * published by Celeriac itself (server/control/task-message.ts).
 */
import { RequestError } from '../errors';
import { hostname } from 'node:os';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { BrokerTransport } from '../broker/transport';
import type { ActionOutcome, ControlService } from '../control/controls';
import { isReady, type RedisResultBackend, type TaskResult } from '../control/result-backend';
import { buildTaskMessage, DEFAULT_QUEUE, type TaskSendOptions } from '../control/task-message';
import { parseApplyRequest } from './apply-request';
import type { JsonValue } from '../protocol/events';
import { pyValueToJson } from '../protocol/python/json';
import { tryParsePythonLiteral } from '../protocol/python/literal';
import type { HistoryQueries, LiveQueries } from '../views/read-model';
import { actorOf, controlGuard, inputs, type ControlApiOptions } from './control-api';
import { param, type Query } from './params';

/** The node name Celeriac signs its messages with, like Celery's `gen<pid>@<host>`. */
const ORIGIN = `celeriac${process.pid}@${hostname()}`;

/** `apply` waits at most this long by default (Flower waits forever and pins a thread). */
const DEFAULT_APPLY_TIMEOUT_S = 60;

export interface TaskApiDependencies {
  transport: BrokerTransport;
  controls: ControlService;
  /** The task being retried (its name, args, kwargs, queue and root), and the registered names. */
  read: Pick<HistoryQueries, 'taskDetail'> & Pick<LiveQueries, 'registeredTasks'>;
  resultBackend: RedisResultBackend | null;
}

export function taskRouter(deps: TaskApiDependencies, options: ControlApiOptions): Router {
  const router = express.Router();
  const guard = controlGuard(options);
  const body = [express.json({ limit: '4mb', strict: false }), express.urlencoded({ extended: false, limit: '4mb' })];
  const post = (path: string, handler: (req: Request, res: Response) => Promise<void>): void => {
    router.all(path, guard, ...body, (req: Request, res: Response, next: NextFunction) => {
      handler(req, res).catch(next);
    });
  };

  /** Publish, audit, and answer in Flower's shape. */
  const send = async (req: Request, action: string, taskName: string, sendOptions: TaskSendOptions, extra: Record<string, JsonValue> = {}): Promise<{ taskId: string; outcome: ActionOutcome }> => {
    const message = buildTaskMessage(taskName, sendOptions, ORIGIN);
    const taskId = String(message.headers.id);
    await deps.transport.publishTask(message);
    const outcome = await deps.controls.recordAction(
      actorOf(req, options),
      action,
      taskName,
      {
        'task-id': taskId,
        queue: sendOptions.queue,
        args: sendOptions.args,
        kwargs: sendOptions.kwargs,
        priority: sendOptions.priority,
        countdown: sendOptions.countdown,
        eta: sendOptions.eta?.toISOString() ?? null,
        expires: sendOptions.expires?.toISOString() ?? null,
        ...extra,
      },
      { ok: true, message: `Sent '${taskName}' as ${taskId}`, workers: {}, data: {} },
    );
    return { taskId, outcome };
  };

  /** Flower's async-apply refuses names no worker registered; known only once workers were inspected. */
  const requireRegistered = (taskName: string): void => {
    const registered = deps.read.registeredTasks();
    if (registered.length > 0 && !registered.includes(taskName)) throw new RequestError(404, `Unknown task '${taskName}' (no worker registered it; use send-task to send it anyway)`);
  };

  const sentResponse = (taskId: string): Record<string, JsonValue> => ({ 'task-id': taskId, ...(deps.resultBackend ? { state: 'PENDING' } : {}) });

  post('/api/task/async-apply/:taskName', async (req, res) => {
    const taskName = String(req.params.taskName);
    requireRegistered(taskName);
    const { taskId } = await send(req, 'async-apply', taskName, parseApplyRequest(req.body, req.query as Query));
    res.json(sentResponse(taskId));
  });

  post('/api/task/send-task/:taskName', async (req, res) => {
    const taskName = String(req.params.taskName);
    const { taskId } = await send(req, 'send-task', taskName, parseApplyRequest(req.body, req.query as Query));
    res.json(sentResponse(taskId));
  });

  // Flower's apply waits for the result. It needs a result backend to read it from.
  post('/api/task/apply/:taskName', async (req, res) => {
    const backend = requireBackend(deps.resultBackend);
    const taskName = String(req.params.taskName);
    requireRegistered(taskName);
    const timeoutS = seconds(param(req.query as Query, 'timeout'), DEFAULT_APPLY_TIMEOUT_S);
    const { taskId } = await send(req, 'apply', taskName, parseApplyRequest(req.body, req.query as Query));
    res.json(resultResponse(taskId, await backend.waitFor(taskId, timeoutS * 1000, clientGone(res))));
  });

  router.get('/api/task/result/:taskId', async (req, res, next) => {
    try {
      const backend = requireBackend(deps.resultBackend);
      const taskId = String(req.params.taskId);
      const timeout = param(req.query as Query, 'timeout');
      const result = timeout === undefined || timeout === '' ? await backend.get(taskId) : await backend.waitFor(taskId, seconds(timeout, 0) * 1000, clientGone(res));
      res.json(resultResponse(taskId, result));
    } catch (error) {
      next(error);
    }
  });

  /**
   * Re-send a task with its original name, args and kwargs — only when they can be recovered
   * exactly: Celery reports them as Python reprs, cut at 1024 characters, and callers may
   * replace them (argsrepr=…). The new task's parent is the old one, so the two are linked.
   */
  post('/api/task/retry/:taskId', async (req, res) => {
    const oldId = String(req.params.taskId);
    const task = await deps.read.taskDetail(oldId);
    if (!task) throw new RequestError(404, `Unknown task '${oldId}'`);
    if (task.name === null) throw new RequestError(409, `Task '${oldId}' has no known name (no task-sent or task-received event was seen)`);
    const args = recover(task.args, 'args', oldId);
    const kwargs = recover(task.kwargs, 'kwargs', oldId);
    if (!Array.isArray(args)) throw new RequestError(409, `Cannot retry '${oldId}': its args are not a tuple or list`);
    if (typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs)) throw new RequestError(409, `Cannot retry '${oldId}': its kwargs are not a dict`);
    const queue = param(inputs(req), 'queue') || task.queue || task.routing_key || DEFAULT_QUEUE;
    const { taskId } = await send(
      req,
      'retry',
      task.name,
      {
        args: args as JsonValue[],
        kwargs: kwargs as Record<string, JsonValue>,
        queue,
        countdown: null,
        eta: null,
        expires: null,
        priority: 0,
        parentId: oldId,
        rootId: task.root_id ?? oldId,
      },
      { 'retry-of': oldId },
    );
    res.json({ message: `Retried '${oldId}' as ${taskId}`, 'task-id': taskId, 'retry-of': oldId });
  });

  return router;
}

/** Parse a Python repr into JSON values, or explain why it cannot be trusted. */
function recover(repr: string | null, field: 'args' | 'kwargs', taskId: string): unknown {
  if (repr === null || repr === '') throw new RequestError(409, `Cannot retry '${taskId}': its ${field} were never reported`);
  const parsed = tryParsePythonLiteral(repr);
  if (!parsed.ok) {
    const why = parsed.error.reason === 'truncated' ? 'were cut short by Celery (repr longer than 1024 characters)' : `are not a Python literal (${parsed.error.detail})`;
    throw new RequestError(409, `Cannot retry '${taskId}': its ${field} ${why}`);
  }
  return pyValueToJson(parsed.value);
}

function requireBackend(backend: RedisResultBackend | null): RedisResultBackend {
  if (!backend) throw new RequestError(503, 'No result backend configured (start Celeriac with --result-backend redis://…)');
  return backend;
}

function seconds(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 3_600) throw new RequestError(400, `Invalid value for 'timeout': ${JSON.stringify(raw)} (seconds, 0–3600)`);
  return n;
}

/** Flower's result shape: `result` (and `traceback`) only once the task is ready. */
function resultResponse(taskId: string, result: TaskResult | null): Record<string, JsonValue> {
  if (!result) return { 'task-id': taskId, state: 'PENDING' };
  const response: Record<string, JsonValue> = { 'task-id': taskId, state: result.state };
  if (isReady(result)) {
    response.result = result.state === 'FAILURE' ? exceptionText(result.result) : result.result;
    if (result.state === 'FAILURE') response.traceback = result.traceback;
  }
  return response;
}

/** Celery stores a failure as {exc_type, exc_message}; Flower shows it as `ExcType('message')`. */
function exceptionText(value: JsonValue): JsonValue {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const type = typeof value.exc_type === 'string' ? value.exc_type : null;
  if (!type) return value;
  const message = value.exc_message;
  const parts = Array.isArray(message) ? message : message === undefined || message === null ? [] : [message];
  return `${type}(${parts.map((p) => (typeof p === 'string' ? `'${p.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : JSON.stringify(p))).join(', ')})`;
}

/** Aborted when the client closes the connection before the response was sent. */
function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
