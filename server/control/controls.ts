/**
 * Every action Celeriac takes on the cluster, each audited with its per-worker outcome.
 * HTTP routes (server/http/control-api.ts) translate these into Flower's responses; the
 * actions themselves know nothing of HTTP except the status an error deserves.
 */
import { RequestError } from '../errors';
import { CONTROL_ACTIONS } from './actions';
import type { Logger } from 'pino';
import type { JsonValue } from '../protocol/events';
import type { ClusterState } from '../state/cluster-state';
import { READY_STATES, type TaskRecord } from '../state/task-record';
import type { AuditLog, WorkerOutcome } from './audit';
import type { Inspector } from './inspector';
import { replyOutcome, type Mailbox } from './mailbox';
import type { PausedConsumer, PauseStore } from './pauses';
import { describeRevocation, type RevocationSummary } from './revoke-wording';

/** Who asked: the basic-auth user (or null) and the client address. Celeriac's own actions use `celeriac`. */
export interface Actor {
  user: string | null;
  remote: string | null;
}

export const SYSTEM_ACTOR: Actor = { user: 'celeriac', remote: null };

export interface ActionOutcome {
  ok: boolean;
  message: string;
  workers: Record<string, WorkerOutcome>;
  /** Extra result fields (task ids, counts…). */
  data: Record<string, JsonValue>;
}

/** Signals Celery's revoke accepts by name (the worker resolves them with `signal.Signals`). */
export const REVOKE_SIGNALS = ['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;

export class ControlService {
  constructor(
    private readonly mailbox: Mailbox,
    private readonly inspector: Inspector,
    private readonly state: ClusterState,
    private readonly pauses: PauseStore,
    private readonly audit: AuditLog,
    private readonly timeoutMs: number,
    /** See BrokerTransport.consumerSettleMs. */
    private readonly settleMs: number,
    private readonly logger: Logger,
  ) {}

  /** A worker answered inspection: pauses hold for workers that start (or restart) while they are in force. */
  workerInspected(hostname: string): void {
    this.enforcePauses(hostname).catch((error: unknown) => this.logger.warn({ err: String(error), worker: hostname }, 'could not apply pauses to a worker'));
  }

  /** A worker is known if events or inspection have seen it — never only after a manual refresh. */
  requireWorker(hostname: string): void {
    if (!this.state.workers.get(hostname) && !this.inspector.get(hostname)) throw new RequestError(404, `Unknown worker '${hostname}'`);
  }

  /** Control calls by action and outcome, for celeriac_control_calls_total (every known action starts at 0). */
  private readonly calls = new Map<string, { action: string; outcome: 'ok' | 'failed'; count: number }>(
    CONTROL_ACTIONS.flatMap((action) => (['ok', 'failed'] as const).map((outcome) => [`${action}\u0000${outcome}`, { action, outcome, count: 0 }] as const)),
  );

  callCounts(): Iterable<{ action: string; outcome: 'ok' | 'failed'; count: number }> {
    return this.calls.values();
  }

  private async record(actor: Actor, action: string, target: string, parameters: Record<string, JsonValue>, outcome: ActionOutcome): Promise<ActionOutcome> {
    const result = outcome.ok ? 'ok' : 'failed';
    const key = `${action}\u0000${result}`;
    const entry = this.calls.get(key) ?? { action, outcome: result, count: 0 };
    entry.count++;
    this.calls.set(key, entry);
    await this.audit.record({ time: Date.now() / 1000, user: actor.user, remote: actor.remote, action, target, parameters, ok: outcome.ok, message: outcome.message, workers: outcome.workers });
    return outcome;
  }

  /** Run one command on one worker and audit what it answered. */
  async workerCommand(actor: Actor, action: string, worker: string, method: string, args: Record<string, JsonValue>): Promise<ActionOutcome> {
    this.requireWorker(worker);
    const result = await this.mailbox.call({ method, arguments: args, destination: [worker], timeoutMs: this.timeoutMs });
    const reply = replyOutcome(result.replies.get(worker));
    const outcome: ActionOutcome = { ok: reply.ok, message: reply.message, workers: { [worker]: reply }, data: {} };
    return this.record(actor, action, worker, args, outcome);
  }

  /** shutdown never replies (the worker raises SystemExit): fire and forget, like Celery. */
  async shutdown(actor: Actor, worker: string): Promise<ActionOutcome> {
    this.requireWorker(worker);
    await this.mailbox.cast('shutdown', {}, [worker]);
    return this.record(actor, 'shutdown', worker, {}, { ok: true, message: 'Shutting down!', workers: { [worker]: { ok: true, message: 'shutdown requested (workers do not reply)' } }, data: {} });
  }

  /**
   * Revoke one or many tasks on every worker; each worker says what it did. A revoke only tells
   * workers to remember the ids (see revoke-wording.ts), so each retained unfinished task is
   * marked "revoke pending" until a worker reports it REVOKED, and the reply says what will happen.
   */
  async revoke(actor: Actor, taskIds: string[], terminate: boolean, signal: string, action = 'revoke'): Promise<ActionOutcome> {
    // Classified as they stand when the revocation is sent, before awaiting anything: a task is a
    // live record, and a terminated one can turn REVOKED before the workers' replies are in.
    const before = taskIds.map((id) => this.state.getTask(id) ?? null);
    const summary = classify(taskIds, before, terminate, signal);
    const unfinishedWhenSent = before.map((task) => task !== null && !READY_STATES.has(task.state));
    const workers: Record<string, WorkerOutcome> = {};
    let pending = 0;
    // Large bulk revokes are split so no single control message grows without bound.
    for (let i = 0; i < taskIds.length; i += 1_000) {
      const chunk = taskIds.slice(i, i + 1_000);
      const result = await this.mailbox.call({ method: 'revoke', arguments: { task_id: chunk, terminate, signal }, timeoutMs: this.timeoutMs });
      let acknowledged = 0;
      for (const [node, value] of result.replies) {
        const outcome = replyOutcome(value);
        workers[node] = outcome;
        if (outcome.ok) acknowledged++;
      }
      const request = { at: Date.now() / 1000, terminate, signal: terminate ? signal : null, workers: acknowledged };
      chunk.forEach((id, j) => {
        if (unfinishedWhenSent[i + j] && this.state.recordRevokeRequest(id, request)) pending++;
      });
    }
    const silent = this.silentOnlineWorkers(workers);
    const acknowledged = Object.values(workers).filter((w) => w.ok).length;
    const message = describeRevocation({ ...summary, acknowledged, silent });
    const outcome: ActionOutcome = {
      ok: true,
      message,
      workers,
      data: {
        'task-ids': taskIds,
        'workers-answered': Object.keys(workers).length,
        // A broadcast has no destination list: online workers that stayed silent are the ones to check.
        'no-reply': silent,
        // Tasks now marked "revoke pending": not revoked until a worker reports it.
        pending,
        waiting: summary.waiting,
        running: summary.running,
        finished: summary.finished,
        unknown: summary.unknown,
        terminate,
        signal: terminate ? signal : null,
      },
    };
    const target = taskIds.length === 1 ? (taskIds[0] as string) : `${taskIds.length} tasks`;
    return this.record(actor, action, target, { terminate, signal, ...(taskIds.length > 1 ? { count: taskIds.length } : {}) }, outcome);
  }

  /** Workers alive by their heartbeats that did not answer a broadcast. */
  private silentOnlineWorkers(answered: Record<string, WorkerOutcome>): string[] {
    const now = Date.now() / 1000;
    const silent: string[] = [];
    for (const worker of this.state.workers.values()) if (worker.isAlive(now) && !(worker.hostname in answered)) silent.push(worker.hostname);
    return silent;
  }

  /** Ping every worker (or `destination`): who answered, what, and how fast. */
  async ping(destination: string[] | null): Promise<{ workers: Record<string, WorkerOutcome>; noReply: string[]; elapsedMs: number }> {
    const started = Date.now();
    const result = await this.mailbox.call({ method: 'ping', destination, timeoutMs: this.timeoutMs });
    const workers: Record<string, WorkerOutcome> = {};
    for (const [node, value] of result.replies) workers[node] = replyOutcome(value);
    return { workers, noReply: destination ? result.noReply : this.silentOnlineWorkers(workers), elapsedMs: Date.now() - started };
  }

  /** Tasks a bulk revoke would hit: not finished yet (revoking a finished task does nothing). */
  revocable<T extends { state: string }>(tasks: T[]): T[] {
    return tasks.filter((t) => !READY_STATES.has(t.state));
  }

  // --- Pause / resume -------------------------------------------------------------------

  /** Stop a worker consuming from all its queues; remember exactly which, to restore them. */
  async pauseWorker(actor: Actor, worker: string): Promise<ActionOutcome> {
    this.requireWorker(worker);
    if (this.pauses.get().workers[worker]) throw new RequestError(409, `Worker '${worker}' is already paused`);
    await this.inspector.refresh([worker]);
    const declarations = this.inspector.get(worker)?.active_queues;
    const consumers: PausedConsumer[] = Array.isArray(declarations)
      ? declarations.flatMap((d) => (typeof d === 'object' && d !== null && !Array.isArray(d) && typeof d.name === 'string' ? [{ queue: d.name, declaration: d }] : []))
      : [];
    if (consumers.length === 0) throw new RequestError(409, `Worker '${worker}' reports no queues to pause (did it answer active_queues?)`);
    const outcomes = await this.cancelConsumers(
      worker,
      consumers.map((c) => c.queue),
    );
    await this.pauses.update((state) => {
      state.workers[worker] = { pausedAt: Date.now() / 1000, by: actor.user, consumers };
    });
    await this.inspector.refresh([worker]).catch(() => undefined);
    const ok = Object.values(outcomes).every((o) => o.ok);
    return this.record(
      actor,
      'pause-worker',
      worker,
      { queues: consumers.map((c) => c.queue) },
      {
        ok,
        message: ok ? `Paused '${worker}' (${consumers.length} queue${consumers.length === 1 ? '' : 's'})` : `Pausing '${worker}' failed for some queues`,
        workers: { [worker]: summarize(outcomes) },
        data: { queues: consumers.map((c) => c.queue), details: toJson(outcomes) },
      },
    );
  }

  async resumeWorker(actor: Actor, worker: string): Promise<ActionOutcome> {
    this.requireWorker(worker);
    const paused = this.pauses.get().workers[worker];
    if (!paused) throw new RequestError(409, `Worker '${worker}' is not paused`);
    // Queues paused cluster-wide stay paused on this worker too.
    const pausedQueues = this.pauses.get().queues;
    const restore = paused.consumers.filter((c) => !pausedQueues[c.queue]);
    const outcomes: Record<string, WorkerOutcome> = {};
    for (const consumer of restore) outcomes[consumer.queue] = await this.addConsumer(worker, consumer);
    await this.pauses.update((state) => {
      delete state.workers[worker];
    });
    await this.inspector.refresh([worker]).catch(() => undefined);
    const ok = Object.values(outcomes).every((o) => o.ok);
    return this.record(
      actor,
      'resume-worker',
      worker,
      { queues: restore.map((c) => c.queue) },
      {
        ok,
        message: ok ? `Resumed '${worker}' (${restore.length} queue${restore.length === 1 ? '' : 's'})` : `Resuming '${worker}' failed for some queues`,
        workers: { [worker]: summarize(outcomes) },
        data: { queues: restore.map((c) => c.queue), details: toJson(outcomes) },
      },
    );
  }

  /** Every worker stops consuming `queue`; workers that start later are paused on it too. */
  async pauseQueue(actor: Actor, queue: string): Promise<ActionOutcome> {
    if (this.pauses.get().queues[queue]) throw new RequestError(409, `Queue '${queue}' is already paused`);
    // Fresh consumer lists first; the pause is recorded before cancelling so a worker that
    // starts meanwhile is caught by enforcePauses.
    await this.inspector.refresh().catch(() => undefined);
    await this.pauses.update((state) => {
      state.queues[queue] = { pausedAt: Date.now() / 1000, by: actor.user, workers: [] };
    });
    const workers: Record<string, WorkerOutcome> = {};
    for (const [worker] of this.inspector.all()) {
      if (!this.inspector.activeQueues(worker).includes(queue)) continue;
      workers[worker] = await this.pauseQueueOn(worker, queue);
    }
    const ok = Object.values(workers).every((o) => o.ok);
    return this.record(
      actor,
      'pause-queue',
      queue,
      {},
      {
        ok,
        message: `Paused queue '${queue}' on ${Object.keys(workers).length} worker${Object.keys(workers).length === 1 ? '' : 's'}`,
        workers,
        data: {},
      },
    );
  }

  async resumeQueue(actor: Actor, queue: string): Promise<ActionOutcome> {
    const paused = this.pauses.get().queues[queue];
    if (!paused) throw new RequestError(409, `Queue '${queue}' is not paused`);
    await this.pauses.update((state) => {
      delete state.queues[queue];
    });
    const workers: Record<string, WorkerOutcome> = {};
    for (const worker of paused.workers) {
      // A worker paused as a whole keeps this queue paused until it is resumed itself.
      if (this.pauses.get().workers[worker]) continue;
      workers[worker] = await this.addConsumer(worker, { queue, declaration: null });
    }
    await this.inspector.refresh(paused.workers).catch(() => undefined);
    const ok = Object.values(workers).every((o) => o.ok);
    return this.record(
      actor,
      'resume-queue',
      queue,
      {},
      {
        ok,
        message: `Resumed queue '${queue}' on ${Object.keys(workers).length} worker${Object.keys(workers).length === 1 ? '' : 's'}`,
        workers,
        data: {},
      },
    );
  }

  private async pauseQueueOn(worker: string, queue: string): Promise<WorkerOutcome> {
    const outcome = (await this.cancelConsumers(worker, [queue]))[queue] as WorkerOutcome;
    if (outcome.ok) {
      await this.pauses.update((state) => {
        const entry = state.queues[queue];
        if (entry && !entry.workers.includes(worker)) entry.workers.push(worker);
      });
    }
    return outcome;
  }

  /** After a worker's inspect data arrives: cancel what a pause forbids it to consume. */
  private async enforcePauses(worker: string): Promise<void> {
    const { queues, workers } = this.pauses.get();
    const active = this.inspector.activeQueues(worker);
    const workerPause = workers[worker];
    for (const queue of active) {
      if (queues[queue]) {
        const outcome = await this.pauseQueueOn(worker, queue);
        await this.record(
          SYSTEM_ACTOR,
          'pause-queue',
          queue,
          { worker, reason: 'worker came online while the queue is paused' },
          { ok: outcome.ok, message: outcome.message, workers: { [worker]: outcome }, data: {} },
        );
      } else if (workerPause?.consumers.some((c) => c.queue === queue)) {
        const outcome = (await this.cancelConsumers(worker, [queue]))[queue] as WorkerOutcome;
        await this.record(
          SYSTEM_ACTOR,
          'pause-worker',
          worker,
          { queue, reason: 'paused worker came back online' },
          { ok: outcome.ok, message: outcome.message, workers: { [worker]: outcome }, data: {} },
        );
      }
    }
  }

  /** cancel_consumer each queue, then wait until the worker can no longer be pulling from them. */
  private async cancelConsumers(worker: string, queues: string[]): Promise<Record<string, WorkerOutcome>> {
    const outcomes: Record<string, WorkerOutcome> = {};
    for (const queue of queues) {
      const result = await this.mailbox.call({ method: 'cancel_consumer', arguments: { queue }, destination: [worker], timeoutMs: this.timeoutMs });
      outcomes[queue] = replyOutcome(result.replies.get(worker));
    }
    if (this.settleMs > 0) await new Promise((resolve) => setTimeout(resolve, this.settleMs));
    return outcomes;
  }

  /** add_consumer with the declaration the worker reported, so routing is restored exactly. */
  private async addConsumer(worker: string, consumer: PausedConsumer): Promise<WorkerOutcome> {
    const args: Record<string, JsonValue> = { queue: consumer.queue };
    const d = consumer.declaration;
    if (typeof d === 'object' && d !== null && !Array.isArray(d)) {
      const exchange = d.exchange;
      if (typeof exchange === 'object' && exchange !== null && !Array.isArray(exchange)) {
        if (typeof exchange.name === 'string') args.exchange = exchange.name;
        if (typeof exchange.type === 'string') args.exchange_type = exchange.type;
      }
      if (typeof d.routing_key === 'string') args.routing_key = d.routing_key;
    }
    const result = await this.mailbox.call({ method: 'add_consumer', arguments: args, destination: [worker], timeoutMs: this.timeoutMs });
    return replyOutcome(result.replies.get(worker));
  }

  pauseState(): ReturnType<PauseStore['get']> {
    return this.pauses.get();
  }

  /** For audit of actions taken outside this service (task sending, purge). */
  async recordAction(actor: Actor, action: string, target: string, parameters: Record<string, JsonValue>, outcome: ActionOutcome): Promise<ActionOutcome> {
    return this.record(actor, action, target, parameters, outcome);
  }
}

/** The tasks of a revoke by what a revocation can still do to them. */
function classify(taskIds: string[], tasks: (TaskRecord | null)[], terminate: boolean, signal: string): Omit<RevocationSummary, 'acknowledged' | 'silent'> {
  const summary: Omit<RevocationSummary, 'acknowledged' | 'silent'> = { taskIds, waiting: 0, running: 0, finished: 0, unknown: 0, runningOn: null, finishedState: null, terminate, signal };
  for (const task of tasks) {
    if (!task) summary.unknown++;
    else if (READY_STATES.has(task.state)) {
      summary.finished++;
      summary.finishedState = task.state;
    } else if (isRunning(task.state)) {
      summary.running++;
      summary.runningOn = task.worker;
    } else summary.waiting++;
  }
  return summary;
}

/** STARTED, or a custom state a running task reports (task-progress…): a worker is executing it. */
function isRunning(state: string): boolean {
  return state === 'STARTED' || !WAITING_STATES.has(state);
}

/** Not started: a worker will discard these when it takes them (RETRY waits for its next delivery). */
const WAITING_STATES: ReadonlySet<string> = new Set(['PENDING', 'RECEIVED', 'RETRY', 'REJECTED']);

function summarize(outcomes: Record<string, WorkerOutcome>): WorkerOutcome {
  const failed = Object.entries(outcomes).filter(([, o]) => !o.ok);
  if (failed.length === 0)
    return {
      ok: true,
      message: Object.values(outcomes)
        .map((o) => o.message)
        .join('; '),
    };
  return { ok: false, message: failed.map(([queue, o]) => `${queue}: ${o.message}`).join('; ') };
}

function toJson(outcomes: Record<string, WorkerOutcome>): JsonValue {
  return Object.fromEntries(Object.entries(outcomes).map(([k, v]) => [k, { ok: v.ok, message: v.message }]));
}
