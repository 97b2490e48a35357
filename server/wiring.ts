/**
 * What happens when something happens: every listener of the process, wired in one place.
 * Read this file to answer "why didn't the browser update?" or "what happens when a worker
 * comes online?". Each consumer exposes plain methods and never subscribes itself, so this is
 * the only file that knows who reacts to what.
 *
 * Intake is one-way: transport → decode → Ingest → ClusterState. Then:
 *
 * | When | What reacts, in order |
 * |---|---|
 * | the event stream goes down | a warning in the log (its reason is in /healthcheck and the UI's banner) |
 * | the event stream (re)connects | wake every worker (heartbeat), enable_events, inspect every worker, poll queue lengths |
 * | any event is applied | the live event tail |
 * | a task changes | overview aggregates → trend aggregates (a transition counted once) → live views (task page, tasks list) → metrics → the store (batched) |
 * | Celeriac sends a revocation | live views (the "revoke pending" mark) → the store |
 * | a worker changes | overview aggregates → live views (its row) → the store (every 2 s) |
 * | a worker comes online | inspect it (debounced) |
 * | a worker answered inspection | re-apply pauses → pre-zero its metrics → live views (queues, pool size) |
 * | a worker is forgotten | drop its inspect data → live views (remove its row) |
 * | queue lengths were polled | queue-length history → trend aggregates (per-minute queue lengths) → live views (queues page) |
 */
import type { Logger } from 'pino';
import type { BrokerTransport } from './broker/transport';
import type { Inspector } from './control/inspector';
import type { QueueMonitor } from './control/queue-monitor';
import type { TaskEvent } from './protocol/events';
import type { ClusterState } from './state/cluster-state';
import type { TaskRecord } from './state/task-record';
import type { WorkerRecord } from './state/worker-registry';
import type { RealtimeHub } from './realtime/hub';
import type { EventTail } from './views/event-tail';
import type { LiveAggregates } from './views/live-aggregates';
import type { Trends } from './store/trends';

/** What the metrics react to (server/metrics/metrics.ts). */
export interface MetricsListener {
  taskChanged(task: TaskRecord, event: TaskEvent): void;
  workerInspected(hostname: string): void;
}

export interface WiredParts {
  transport: Pick<BrokerTransport, 'onConnected' | 'onStatus'>;
  state: ClusterState;
  inspector: Pick<Inspector, 'onInspected' | 'workerOnline' | 'workerRemoved' | 'refresh'>;
  /** Pauses are re-applied to a worker that answers inspection (it may have restarted). */
  controls: { workerInspected(hostname: string): void };
  queueMonitor: Pick<QueueMonitor, 'onUpdate' | 'brokerConnected'>;
  aggregates: LiveAggregates;
  /** Per-minute trend aggregates (server/store/trends.ts): durable with a store, in memory without. */
  trends: Pick<Trends, 'taskChanged' | 'queuesPolled'>;
  eventTail: EventTail;
  hub: Pick<RealtimeHub, 'taskChanged' | 'workerChanged' | 'workerRemoved' | 'queuesChanged'>;
  metrics: MetricsListener;
  /** The store's task writer (server/store/change-writer.ts), or null with `--store memory`. */
  taskWriter: { changed(task: TaskRecord): void } | null;
  workerWriter: { changed(worker: WorkerRecord): void } | null;
  /** Fire-and-forget broadcast to every worker (failures are logged by the caller's monitor). */
  broadcast: (method: 'heartbeat' | 'enable_events') => void;
  enableEvents: boolean;
  logger: Logger;
}

export function wireListeners(parts: WiredParts): void {
  const { state, inspector, hub, aggregates, trends, metrics, taskWriter, workerWriter } = parts;

  const { logger } = parts;
  parts.transport.onStatus((status) => {
    if (!status.connected) logger.warn({ reason: status.reason }, 'event stream is down');
  });
  parts.transport.onConnected(() => {
    // Like Celery's receiver with wakeup=True: every live worker answers with a heartbeat now,
    // so the workers view is complete seconds after a (re)connect instead of after 2 s × freq.
    parts.broadcast('heartbeat');
    if (parts.enableEvents) parts.broadcast('enable_events');
    // Inspect data for every worker as soon as the broker is reachable (and again after outages).
    inspector.refresh().catch((error: unknown) => logger.debug({ err: String(error) }, 'initial inspect failed'));
    parts.queueMonitor.brokerConnected();
  });

  state.addListener({
    eventApplied: (event) => parts.eventTail.push(event, event.kind === 'task' ? (state.getTask(event.uuid)?.name ?? null) : null),
    taskChanged: (task, event, previousState) => {
      aggregates.taskChanged(task, event);
      trends.taskChanged(task, event, previousState);
      hub.taskChanged(task.uuid, createsTask(task, event));
      metrics.taskChanged(task, event);
      taskWriter?.changed(task);
    },
    // No event yet, but the task page and the list show the "revoke pending" mark at once.
    taskRevokeRequested: (task) => {
      hub.taskChanged(task.uuid, false);
      taskWriter?.changed(task);
    },
    workerChanged: (worker) => {
      aggregates.workerChanged();
      hub.workerChanged(worker.hostname);
      workerWriter?.changed(worker);
    },
    workerOnline: (worker) => inspector.workerOnline(worker.hostname),
    workerRemoved: (hostname) => {
      inspector.workerRemoved(hostname);
      hub.workerRemoved(hostname);
    },
  });

  inspector.onInspected((hostname) => {
    parts.controls.workerInspected(hostname);
    metrics.workerInspected(hostname);
    hub.workerChanged(hostname);
  });

  parts.queueMonitor.onUpdate((snapshot) => {
    if (snapshot.updatedAt !== null) aggregates.queuesPolled(snapshot.updatedAt, Object.fromEntries(snapshot.queues.map((q) => [q.name, q.messages])));
    // A stale snapshot repeats the last good numbers: they are already counted.
    if (snapshot.updatedAt !== null && !snapshot.stale) trends.queuesPolled(snapshot.updatedAt, snapshot.queues);
    hub.queuesChanged();
  });
}

/** The event made the task known to the cluster: its task-sent, or a task-received with no task-sent (not a retry). */
function createsTask(task: TaskRecord, event: TaskEvent): boolean {
  return event.type === 'task-sent' || (event.type === 'task-received' && task.sent === null && task.retries === 0);
}
