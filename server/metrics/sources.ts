/**
 * What the metrics read from the rest of Celeriac, and nothing more: the model's workers and
 * tasks, what inspection learnt about each worker, the last queue poll, and the counters the
 * ingest pipeline, the broker transport and the control layer keep. The composition root
 * (server/server.ts) builds it from the monitor; tests build it from plain values.
 *
 * Types come from the layers below only (state/, broker/, control/, store/): the metrics never
 * see the monitor, its configuration or the HTTP layer.
 */
import type { TransportStatus } from '../broker/transport';
import type { QueueInfo } from '../control/queue-monitor';
import type { IngestCounters } from '../state/ingest';
import type { TaskRecord } from '../state/task-record';
import type { WorkerRecord } from '../state/worker-registry';
import type { StoreStatus } from '../store';

/** What the worker gauges read of a worker (WorkerRecord has it). */
export type MetricsWorker = Pick<WorkerRecord, 'hostname' | 'active' | 'offlineSince' | 'isAlive' | 'lastHeartbeat'>;

/** What the prefetch gauge reads of a retained task (TaskRecord has it). */
export type MetricsTask = Pick<TaskRecord, 'name' | 'state' | 'eta' | 'worker'>;

/** What the store gauges read of the store's status (measured in the background: a scrape never queries the store). */
export type MetricsStoreStatus = Pick<StoreStatus, 'sizeBytes' | 'rows' | 'pending' | 'written' | 'dropped' | 'failures' | 'degraded' | 'workers' | 'retention'>;

/** What the queue gauges read of one queue of the last poll. */
export type MetricsQueue = Pick<QueueInfo, 'name' | 'messages' | 'ready' | 'byPriority' | 'consumers' | 'oldestAgeSeconds' | 'exists'>;

export interface MetricsQueueSnapshot {
  /** Epoch seconds of the last successful poll; null until one succeeds. */
  updatedAt: number | null;
  queues: readonly MetricsQueue[];
}

export interface ControlCallCount {
  action: string;
  outcome: string;
  count: number;
}

export interface MetricsSources {
  workers(): Iterable<MetricsWorker>;
  workerCount(): number;
  tasks(): Iterable<MetricsTask>;
  taskCount(): number;
  /** Tasks evicted from memory by --max-tasks, since start. */
  taskEvictions(): number;
  /** Task names the worker registered, from its last inspection (none when unknown). */
  registered(hostname: string): readonly string[];
  /** Queues the worker consumes, from its last inspection (none when unknown). */
  activeQueues(hostname: string): readonly string[];
  queueSnapshot(): MetricsQueueSnapshot;
  ingestCounters(): Pick<IngestCounters, 'byType' | 'dropped' | 'lastEventAt' | 'lastLagSeconds'>;
  transportStatus(): Pick<TransportStatus, 'connected' | 'connects'>;
  /** Control actions taken through Celeriac, by action and outcome. */
  controlCallCounts(): Iterable<ControlCallCount>;
  /** The history store's status; null with --store memory. */
  storeStatus(): MetricsStoreStatus | null;
}
