/**
 * Queue-length routes. They answer from QueueMonitor's last poll and never touch the broker, so
 * a slow broker cannot slow the API down; `stale`/`error` in the snapshot say how old the
 * numbers are. Until a first poll has succeeded there are no numbers to give: 503 with the reason.
 *
 * Mount before apiRouter: it ends with a catch-all 404 for /api.
 */
import express, { type Response, type Router } from 'express';
import type { ManagementQueue } from '../broker/amqp/management-api';
import type { QueueMonitor } from '../control/queue-monitor';
import type { LiveQueries } from '../views/read-model';
import type { QueuesSnapshot } from '../views/types';

/** One entry of Flower's `{"active_queues": [...]}`, per broker. */
export type FlowerQueueLength = { name: string; messages: number } | { name: string; messages: number; consumers: number | null } | ManagementQueue;

export function queuesRouter(read: Pick<LiveQueries, 'queues'>, monitor: Pick<QueueMonitor, 'intervalSeconds' | 'managementQueues'>, brokerKind: 'redis' | 'amqp'): Router {
  const router = express.Router();

  /** 503 while no poll has succeeded yet; returns the queues page's data otherwise. */
  const readSnapshot = (res: Response): QueuesSnapshot | null => {
    const snapshot = read.queues();
    res.set('Cache-Control', 'no-store');
    if (snapshot.updatedAt !== null) return snapshot;
    res.set('Retry-After', String(Math.max(1, Math.ceil(monitor.intervalSeconds))));
    res.status(503).json({
      error: snapshot.error !== null ? `Broker unavailable: ${snapshot.error}` : 'Queue lengths have not been read from the broker yet',
    });
    return null;
  };

  // Flower's route and shape (docs/flower-reference.md §2.1): Redis `{name, messages}`,
  // RabbitMQ the management API's queue objects. Flower lists only the queues workers consume
  // (their active_queues); Celeriac lists every queue it knows — consumed by workers, named in
  // --queues, or found on the broker — because the queue nobody consumes is the one that grows.
  // Queues RabbitMQ says do not exist are left out, as Flower's name filter leaves them out.
  router.get('/api/queues/length', (_req, res) => {
    const snapshot = readSnapshot(res);
    if (!snapshot) return;
    const present = snapshot.queues.filter((queue) => queue.exists);
    let active: FlowerQueueLength[];
    if (brokerKind === 'redis') {
      active = present.map((queue) => ({ name: queue.name, messages: queue.messages }));
    } else {
      // Without --broker-api Flower cannot read RabbitMQ at all; passive declares give these two.
      active = monitor.managementQueues() ?? present.map((queue) => ({ name: queue.name, messages: queue.messages, consumers: queue.consumers }));
    }
    res.json({ active_queues: active });
  });

  // The queues page's data: every known queue with its sources and pause mark, and the history.
  router.get('/api/celeriac/queues', (_req, res) => {
    const snapshot = readSnapshot(res);
    if (!snapshot) return;
    res.json(snapshot);
  });

  return router;
}
