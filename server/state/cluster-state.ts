/**
 * The live model of one Celery cluster: tasks, workers, task types, and the links between
 * tasks (root / parent / children). It is fed decoded events and nothing else; everything the
 * UI, the API and the metrics show is read from here.
 *
 * Semantics follow `celery.events.state.State` (docs/celery-wire-protocol.md §4.5–4.9)
 * with one deliberate difference: Celery shifts `timestamp` by the sender's `utcoffset`, which
 * distorts an already-UTC epoch value when sender and receiver are in different zones (§4.5).
 * Celeriac keeps the raw timestamp and judges liveness on its own receive clock.
 */
import type { CeleryEvent, TaskEvent, WorkerEvent } from '../protocol/events';
import { LruMap } from './lru-map';
import { FINISHED_STATES, TaskRecord, type RevokeRequest } from './task-record';
import { WorkerRegistry, type WorkerRecord } from './worker-registry';

export interface ClusterStateOptions {
  maxTasks: number;
  maxWorkers: number;
}

/** Called after an event changed the model; consumers (realtime, metrics) keep their own dirty sets. */
export interface StateListener {
  /** `previousState`: the task's state before this event (equal to `task.state` when the event did not move it: a duplicate, a late one). */
  taskChanged?(task: TaskRecord, event: TaskEvent, previousState: string): void;
  workerChanged?(worker: WorkerRecord): void;
  /** A worker started (`worker-online`) or was heard from again after being offline. */
  workerOnline?(worker: WorkerRecord): void;
  workerRemoved?(hostname: string): void;
  /** Celeriac sent a revocation for a retained task (no event yet: the live views show it as pending). */
  taskRevokeRequested?(task: TaskRecord): void;
  /** Every event, after the model applied it (the live event tail). */
  eventApplied?(event: CeleryEvent): void;
}

/** Distinct task names listed by /api/task/types; real clusters have hundreds at most. */
export const MAX_SEEN_TASK_NAMES = 10_000;

export class ClusterState {
  readonly tasks: LruMap<string, TaskRecord>;
  readonly workers: WorkerRegistry;
  /** parent id → child ids. Kept apart from the records so a child seen before its parent still links. */
  private readonly childrenByParent = new Map<string, Set<string>>();
  /**
   * Task names seen in events (Celery's `_seen_types`). Capped: a producer sending a unique name
   * per task must not grow it without limit; past the cap new names are not listed.
   */
  private readonly seenTypes = new Set<string>();
  /** Celeriac's Lamport clock (Celery's receiver clock, §4.5 step 1). */
  private lamport = 0;
  private readonly listeners: StateListener[] = [];
  /** Interning table: hostnames, task names and states repeat across tasks; keep one copy of each. */
  private readonly strings = new Map<string, string>();
  readonly stats = { taskEvents: 0, workerEvents: 0, tasksCreated: 0 };
  /** Finds a task memory evicted but the store has not written yet (see recallFrom). */
  private recall: ((uuid: string) => TaskRecord | undefined) | null = null;

  constructor(options: ClusterStateOptions) {
    // Finished tasks go first: an unfinished one is still being merged, and the live views and
    // metrics (prefetched, active) count it.
    this.tasks = new LruMap(
      options.maxTasks,
      (uuid, task) => this.forgetTask(uuid, task),
      (task) => !FINISHED_STATES.has(task.state),
    );
    this.workers = new WorkerRegistry(options.maxWorkers, (worker) => this.notifyWorkerRemoved(worker.hostname));
  }

  /**
   * Where to look for a task memory evicted before the store wrote it: the writer still holds
   * the record (server/store/change-writer.ts), so its next event continues that record rather
   * than starting a partial one that would lose its name and arguments.
   */
  recallFrom(recall: (uuid: string) => TaskRecord | undefined): void {
    this.recall = recall;
  }

  addListener(listener: StateListener): void {
    this.listeners.push(listener);
  }

  get taskEvictions(): number {
    return this.tasks.evictions;
  }

  get workerEvictions(): number {
    return this.workers.evictions;
  }

  readonly intern = (value: string): string => {
    const known = this.strings.get(value);
    if (known !== undefined) return known;
    // Bounded: a flood of unique names must not grow this table without limit.
    if (this.strings.size >= 50_000) this.strings.clear();
    this.strings.set(value, value);
    return value;
  };

  apply(event: CeleryEvent): void {
    if (event.kind === 'task') this.applyTaskEvent(event);
    else this.applyWorkerEvent(event);
    for (const listener of this.listeners) listener.eventApplied?.(event);
  }

  private applyWorkerEvent(event: WorkerEvent): void {
    this.stats.workerEvents++;
    this.adjustClock(event.clock);
    const worker = this.workers.touch(this.intern(event.hostname));
    const wasAlive = worker.isAlive(event.localReceived);
    worker.countEvent(event.type);
    worker.applyWorkerEvent(event);
    const cameOnline = event.type === 'worker-online' || (!wasAlive && event.type === 'worker-heartbeat');
    for (const listener of this.listeners) {
      listener.workerChanged?.(worker);
      if (cameOnline) listener.workerOnline?.(worker);
    }
  }

  private applyTaskEvent(event: TaskEvent): void {
    this.stats.taskEvents++;
    const isClientEvent = event.type === 'task-sent';
    // task-sent comes from clients that never synchronise clocks: Celery gives it (clock or 1) - 1.
    const clock = isClientEvent ? Math.max((this.lamport || 1) - 1, 0) : event.clock;
    this.adjustClock(clock);

    let task = this.tasks.get(event.uuid);
    const recalled = task ? undefined : this.recall?.(event.uuid);
    if (recalled) {
      this.restoreTask(recalled);
      task = recalled;
    } else if (!task) {
      task = new TaskRecord(event.uuid);
      task.complete = event.type === 'task-sent' || event.type === 'task-received';
      this.tasks.set(event.uuid, task);
      this.stats.tasksCreated++;
    }
    const hostname = this.intern(event.hostname);
    let worker: WorkerRecord | null = null;
    let cameOnline = false;
    if (isClientEvent) {
      task.client = hostname;
    } else {
      worker = this.workers.touch(hostname);
      cameOnline = !worker.isAlive(event.localReceived);
      task.worker = hostname;
      // Task events prove the worker is alive, exactly like heartbeats (Celery does the same).
      worker.recordHeartbeat(event.localReceived);
      worker.countEvent(event.type);
    }
    task.timeline.push(event.type, event.timestamp, hostname);
    const previousParent = task.parentId;
    const previousState = task.state;
    task.apply(isClientEvent && clock !== event.clock ? { ...event, clock } : event, this.intern);
    if (task.name !== null && this.seenTypes.size < MAX_SEEN_TASK_NAMES) this.seenTypes.add(task.name);
    if (task.parentId !== previousParent) this.linkChild(task.uuid, previousParent, task.parentId);

    for (const listener of this.listeners) {
      listener.taskChanged?.(task, event, previousState);
      if (worker) listener.workerChanged?.(worker);
      if (worker && cameOnline) listener.workerOnline?.(worker);
    }
  }

  /**
   * Put back a task the store kept (server/store/), as it was merged before a restart. Not a
   * change: no listener hears of it. A task already known (an event came first) is left alone.
   */
  restoreTask(task: TaskRecord): void {
    if (this.tasks.peek(task.uuid)) return;
    task.name = task.name === null ? null : this.intern(task.name);
    task.state = this.intern(task.state);
    task.worker = task.worker === null ? null : this.intern(task.worker);
    this.tasks.set(task.uuid, task);
    if (task.name !== null && this.seenTypes.size < MAX_SEEN_TASK_NAMES) this.seenTypes.add(task.name);
    if (task.parentId !== null) this.linkChild(task.uuid, null, task.parentId);
    this.lamport = Math.max(this.lamport, task.clock);
  }

  /** Put back a worker the store kept: offline until it is heard from (no listener hears of it). */
  restoreWorker(worker: WorkerRecord): void {
    this.workers.restore(worker);
  }

  /**
   * Mark a retained task as revoke-requested. An id Celeriac does not know creates nothing
   * (returns null): revoking arbitrary ids must not grow memory. Counts as an update for the LRU,
   * so a task waiting for its revocation is not the next one evicted.
   */
  recordRevokeRequest(uuid: string, request: RevokeRequest): TaskRecord | null {
    const task = this.tasks.get(uuid);
    if (!task) return null;
    task.requestRevoke(request);
    for (const listener of this.listeners) listener.taskRevokeRequested?.(task);
    return task;
  }

  private adjustClock(clock: number): void {
    this.lamport = Math.max(this.lamport, clock) + 1;
  }

  private linkChild(child: string, oldParent: string | null, newParent: string | null): void {
    if (oldParent !== null) this.childrenByParent.get(oldParent)?.delete(child);
    if (newParent === null) return;
    let children = this.childrenByParent.get(newParent);
    if (!children) {
      children = new Set();
      this.childrenByParent.set(newParent, children);
    }
    children.add(child);
  }

  private forgetTask(uuid: string, task: TaskRecord): void {
    if (task.parentId !== null) {
      const siblings = this.childrenByParent.get(task.parentId);
      siblings?.delete(uuid);
      if (siblings && siblings.size === 0) this.childrenByParent.delete(task.parentId);
    }
    // Children of an evicted task keep their parent_id; the index entry goes once they are gone too.
    const children = this.childrenByParent.get(uuid);
    if (children && children.size === 0) this.childrenByParent.delete(uuid);
  }

  private notifyWorkerRemoved(hostname: string): void {
    for (const listener of this.listeners) listener.workerRemoved?.(hostname);
  }

  childrenOf(uuid: string): string[] {
    const children = this.childrenByParent.get(uuid);
    return children ? [...children] : [];
  }

  getTask(uuid: string): TaskRecord | undefined {
    return this.tasks.peek(uuid);
  }

  /**
   * The workflow a task belongs to: every retained task with the same root, and the
   * parent → child edges between them (chains, groups and chords all show up as parent links).
   * At most `limit` nodes, the earliest first; `truncated` says whether some were left out.
   */
  workflow(uuid: string, limit = 10_000): { root: string; nodes: TaskRecord[]; edges: [string, string][]; truncated: boolean } | null {
    const task = this.tasks.peek(uuid);
    if (!task) return null;
    const root = task.rootId ?? task.uuid;
    const members: TaskRecord[] = [];
    for (const candidate of this.tasks.values()) if (candidate.uuid === root || candidate.rootId === root) members.push(candidate);
    members.sort((a, b) => (a.sent ?? a.received ?? a.timestamp ?? 0) - (b.sent ?? b.received ?? b.timestamp ?? 0));
    const nodes = members.slice(0, limit);
    const kept = new Set(nodes.map((n) => n.uuid));
    const edges: [string, string][] = [];
    for (const node of nodes) if (node.parentId !== null && kept.has(node.parentId)) edges.push([node.parentId, node.uuid]);
    return { root, nodes, edges, truncated: members.length > nodes.length };
  }

  /** Sorted task names seen so far (Flower's `/api/task/types`). */
  taskTypes(): string[] {
    return [...this.seenTypes].sort();
  }

  /** Drop workers that have been offline longer than `olderThanSeconds` (--purge-offline-workers). */
  purgeOfflineWorkers(now: number, olderThanSeconds: number): string[] {
    const purged: string[] = [];
    for (const worker of this.workers.values()) {
      if (worker.isAlive(now)) continue;
      const offlineSince = worker.offlineSince ?? worker.expiresAt();
      if (offlineSince !== null && now - offlineSince > olderThanSeconds) purged.push(worker.hostname);
    }
    for (const hostname of purged) {
      this.workers.delete(hostname);
      this.notifyWorkerRemoved(hostname);
    }
    return purged;
  }

  get clock(): number {
    return this.lamport;
  }
}
