/**
 * Mutating routes: Flower 2.1's control API (same paths, parameters and `{"message": …}`
 * responses, so existing scripts keep working), plus Celeriac's pause/resume, retry, bulk
 * revoke and purge. Each response also says what every worker answered (`workers`).
 *
 * Safety (applied to every route here): POST only; refused in --read-only mode; refused for
 * cross-site browser requests (Sec-Fetch-Site / Origin); and, with --basic-auth, behind auth
 * like everything else. Every call lands in the audit log.
 */
import { RequestError } from '../errors';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { BrokerTransport } from '../broker/transport';
import { REVOKE_SIGNALS, type ActionOutcome, type Actor, type ControlService } from '../control/controls';
import type { HistoryQueries } from '../views/read-model';
import { boolParam, param, parseTaskFilter, type Query } from './params';

export interface ControlApiOptions {
  readOnly: boolean;
  /** The basic-auth user of a request (null when auth is off). */
  userOf: (req: Request) => string | null;
}

/** Query string and form/JSON body together, as Tornado's get_argument reads both. */
export function inputs(req: Request): Query {
  const body: unknown = req.body;
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? { ...(req.query as Query), ...(body as Query) } : (req.query as Query);
}

export function actorOf(req: Request, options: ControlApiOptions): Actor {
  return { user: options.userOf(req), remote: req.socket.remoteAddress ?? null };
}

function requiredParam(query: Query, name: string): string {
  const value = param(query, name);
  if (value === undefined || value.trim() === '') throw new RequestError(400, `Missing required parameter '${name}'`);
  return value;
}

function intParam(query: Query, name: string, fallback: number | null, min: number, max: number): number {
  const raw = param(query, name);
  if (raw === undefined || raw === '') {
    if (fallback === null) throw new RequestError(400, `Missing required parameter '${name}'`);
    return fallback;
  }
  if (!/^-?\d+$/.test(raw.trim())) throw new RequestError(400, `Invalid value for '${name}': ${JSON.stringify(raw)} (expected an integer)`);
  const n = Number(raw);
  if (n < min || n > max) throw new RequestError(400, `Invalid value for '${name}': ${n} (expected ${min}–${max})`);
  return n;
}

function floatParam(query: Query, name: string): number | null {
  const raw = param(query, name);
  if (raw === undefined || raw === '') return null;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new RequestError(400, `Invalid value for '${name}': ${JSON.stringify(raw)} (expected seconds ≥ 0)`);
  return n;
}

function signalParam(query: Query): string {
  const raw = (param(query, 'signal') ?? 'SIGTERM').trim().toUpperCase();
  const name = raw.startsWith('SIG') ? raw : `SIG${raw}`;
  if (!(REVOKE_SIGNALS as readonly string[]).includes(name)) throw new RequestError(400, `Invalid signal ${JSON.stringify(raw)} (one of ${REVOKE_SIGNALS.join(', ')})`);
  return name;
}

/** Flower's success body plus per-worker outcomes; a worker's refusal is Flower's 403. */
function send(res: Response, outcome: ActionOutcome, flowerMessage: string | null = null): void {
  const workers = Object.fromEntries(Object.entries(outcome.workers).map(([k, v]) => [k, { ok: v.ok, message: v.message }]));
  if (!outcome.ok) {
    const noReply = Object.values(outcome.workers).some((w) => w.message === 'no reply');
    res.status(noReply ? 504 : 403).json({ error: noReply ? `No reply from ${Object.keys(outcome.workers).join(', ')}` : outcome.message, workers, ...outcome.data });
    return;
  }
  res.json({ message: flowerMessage ?? outcome.message, workers, ...outcome.data });
}

/** Refuse what a control route must never do: act in read-only mode, or for another site's page. */
export function controlGuard(options: ControlApiOptions) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'POST') {
      res.status(405).set('Allow', 'POST').json({ error: 'Use POST for this action' });
      return;
    }
    if (options.readOnly) {
      res.status(403).json({ error: 'Read only mode is enabled' });
      return;
    }
    const fetchSite = req.headers['sec-fetch-site'];
    if (typeof fetchSite === 'string' && fetchSite !== 'same-origin' && fetchSite !== 'none') {
      res.status(403).json({ error: 'Cross-site request refused' });
      return;
    }
    const origin = req.headers.origin;
    if (typeof origin === 'string' && origin !== 'null') {
      let sameHost = false;
      try {
        sameHost = new URL(origin).host === req.headers.host;
      } catch {
        sameHost = false;
      }
      if (!sameHost) {
        res.status(403).json({ error: 'Cross-site request refused' });
        return;
      }
    } else if (origin === 'null') {
      res.status(403).json({ error: 'Cross-site request refused' });
      return;
    }
    next();
  };
}

export function controlRouter(controls: ControlService, read: Pick<HistoryQueries, 'flowerTasks'>, transport: Pick<BrokerTransport, 'purgeQueue'>, options: ControlApiOptions): Router {
  const router = express.Router();
  const guard = controlGuard(options);
  const body = [express.urlencoded({ extended: false, limit: '1mb' }), express.json({ limit: '1mb' })];
  const post = (path: string, handler: (req: Request, res: Response) => Promise<void>): void => {
    router.all(path, guard, ...body, (req: Request, res: Response, next: NextFunction) => {
      handler(req, res).catch(next);
    });
  };
  const actor = (req: Request): Actor => actorOf(req, options);
  const worker = (req: Request): string => String(req.params.worker);

  // --- Flower's worker controls ---
  post('/api/worker/shutdown/:worker', async (req, res) => send(res, await controls.shutdown(actor(req), worker(req)), 'Shutting down!'));
  post('/api/worker/pool/restart/:worker', async (req, res) => {
    const w = worker(req);
    send(res, await controls.workerCommand(actor(req), 'pool-restart', w, 'pool_restart', { reload: false }), `Restarting '${w}' worker's pool`);
  });
  post('/api/worker/pool/grow/:worker', async (req, res) => {
    const w = worker(req);
    const n = intParam(inputs(req), 'n', 1, 1, 10_000);
    send(res, await controls.workerCommand(actor(req), 'pool-grow', w, 'pool_grow', { n }), `Growing '${w}' worker's pool by ${n}`);
  });
  post('/api/worker/pool/shrink/:worker', async (req, res) => {
    const w = worker(req);
    const n = intParam(inputs(req), 'n', 1, 1, 10_000);
    send(res, await controls.workerCommand(actor(req), 'pool-shrink', w, 'pool_shrink', { n }), `Shrinking '${w}' worker's pool by ${n}`);
  });
  post('/api/worker/pool/autoscale/:worker', async (req, res) => {
    const w = worker(req);
    const q = inputs(req);
    const min = intParam(q, 'min', null, 0, 10_000);
    const max = intParam(q, 'max', null, 1, 10_000);
    if (min > max) throw new RequestError(400, `'min' (${min}) must not exceed 'max' (${max})`);
    send(res, await controls.workerCommand(actor(req), 'pool-autoscale', w, 'autoscale', { max, min }), `Autoscaling '${w}' worker (min=${min}, max=${max})`);
  });
  post('/api/worker/queue/add-consumer/:worker', async (req, res) => {
    const queue = requiredParam(inputs(req), 'queue');
    send(res, await controls.workerCommand(actor(req), 'add-consumer', worker(req), 'add_consumer', { queue }));
  });
  post('/api/worker/queue/cancel-consumer/:worker', async (req, res) => {
    const queue = requiredParam(inputs(req), 'queue');
    send(res, await controls.workerCommand(actor(req), 'cancel-consumer', worker(req), 'cancel_consumer', { queue }));
  });

  // --- Flower's task controls ---
  post('/api/task/revoke/:taskId', async (req, res) => {
    const q = inputs(req);
    const terminate = boolParam(q, 'terminate');
    const outcome = await controls.revoke(actor(req), [String(req.params.taskId)], terminate, signalParam(q));
    send(res, outcome);
  });
  post('/api/task/rate-limit/:taskName', async (req, res) => {
    const q = inputs(req);
    const w = requiredParam(q, 'workername');
    const rateLimit = requiredParam(q, 'ratelimit');
    if (!/^\s*(\d+(\.\d+)?(\s*\/\s*[smh])?)?\s*$/.test(rateLimit)) throw new RequestError(400, `Invalid value for 'ratelimit': ${JSON.stringify(rateLimit)} (e.g. 100, 10/s, 10/m, 10/h)`);
    send(res, await controls.workerCommand(actor(req), 'rate-limit', w, 'rate_limit', { task_name: String(req.params.taskName), rate_limit: rateLimit.replace(/\s+/g, '') }));
  });
  post('/api/task/timeout/:taskName', async (req, res) => {
    const q = inputs(req);
    const w = requiredParam(q, 'workername');
    const soft = floatParam(q, 'soft');
    const hard = floatParam(q, 'hard');
    if (soft === null && hard === null) throw new RequestError(400, "Give 'soft' and/or 'hard' (seconds)");
    send(res, await controls.workerCommand(actor(req), 'time-limit', w, 'time_limit', { task_name: String(req.params.taskName), soft, hard }));
  });

  // --- Celeriac: pause / resume ---
  post('/api/worker/pause/:worker', async (req, res) => send(res, await controls.pauseWorker(actor(req), worker(req))));
  post('/api/worker/resume/:worker', async (req, res) => send(res, await controls.resumeWorker(actor(req), worker(req))));
  post('/api/queues/pause/:queue', async (req, res) => send(res, await controls.pauseQueue(actor(req), String(req.params.queue))));
  post('/api/queues/resume/:queue', async (req, res) => send(res, await controls.resumeQueue(actor(req), String(req.params.queue))));

  // --- Celeriac: bulk revoke by the /api/tasks filters, with a dry run ---
  post('/api/tasks/revoke', async (req, res) => {
    const q = inputs(req);
    const filter = parseTaskFilter(q);
    const dryRun = boolParam(q, 'dry_run');
    const terminate = boolParam(q, 'terminate');
    const signal = signalParam(q);
    const tasks = controls.revocable(await read.flowerTasks(filter));
    const ids = tasks.map((t) => t.uuid);
    if (ids.length === 0) {
      res.json({ message: 'No unfinished task matches', count: 0, 'task-ids': [], 'dry-run': dryRun });
      return;
    }
    if (dryRun) {
      res.json({
        message: `${ids.length} unfinished task${ids.length === 1 ? '' : 's'} match: a revocation would be sent for ${ids.length === 1 ? 'it' : 'them'}`,
        count: ids.length,
        'task-ids': ids,
        'dry-run': true,
      });
      return;
    }
    const outcome = await controls.revoke(actor(req), ids, terminate, signal, 'bulk-revoke');
    send(res, { ...outcome, data: { ...outcome.data, count: ids.length, 'dry-run': false } });
  });

  // --- Celeriac: purge, only with a confirmation naming the queue ---
  post('/api/queues/purge/:queue', async (req, res) => {
    const queue = String(req.params.queue);
    const confirm = param(inputs(req), 'confirm');
    if (confirm !== queue) {
      throw new RequestError(400, `Purging deletes every waiting message of '${queue}': repeat the queue name as confirm=${queue} to do it`);
    }
    const removed = await transport.purgeQueue(queue);
    const outcome = await controls.recordAction(
      actor(req),
      'purge-queue',
      queue,
      {},
      {
        ok: true,
        message: `Purged ${removed} message${removed === 1 ? '' : 's'} from '${queue}'`,
        workers: {},
        data: { purged: removed },
      },
    );
    send(res, outcome);
  });

  return router;
}

/** Maps action and broker errors to JSON responses for the control routes. */
