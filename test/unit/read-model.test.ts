/**
 * The read model over the in-memory cluster, through its narrow sources only: a real
 * ClusterState fed typed events (through a real Ingest, for the intake counters), an in-memory
 * inspect cache, a queue snapshot, pauses, an audit list, and the live aggregates and event tail
 * fed as server/wiring.ts feeds them. No broker, no Monitor.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEntry } from '../../server/control/audit';
import { queueNames, type WorkerInspection } from '../../server/control/inspector';
import type { PauseState } from '../../server/control/pauses';
import type { QueueInfo, QueueSnapshot, QueueSource } from '../../server/control/queue-monitor';
import type { TransportStatus } from '../../server/broker/transport';
import { createLogger } from '../../server/log';
import type { TaskEvent, WorkerEvent } from '../../server/protocol/events';
import { ClusterState } from '../../server/state/cluster-state';
import { Ingest } from '../../server/state/ingest';
import { parseTaskQuery } from '../../server/state/search';
import type { TaskFilter } from '../../server/state/task-query';
import { ClusterReadModel, type InspectionSource, type StoredTaskSource } from '../../server/views/cluster-read-model';
import { EVENT_TAIL, EventTail } from '../../server/views/event-tail';
import { LiveAggregates } from '../../server/views/live-aggregates';
import type { WorkerSummary } from '../../server/views/types';

/** A multiple of 10: the throughput buckets start here. */
const T0 = 1_795_000_000;
/** The read model's clock in these tests. */
const NOW = T0 + 60;
const BROKER = 'redis://:****@127.0.0.1:6379/0';

function task(type: string, uuid: string, hostname: string, at: number, fields: Partial<TaskEvent> = {}): TaskEvent {
  return { kind: 'task', type, uuid, hostname, timestamp: at, localReceived: at, clock: 1, utcoffset: 0, pid: 1, ...fields };
}

function heartbeat(hostname: string, at: number, fields: Partial<WorkerEvent> = {}): WorkerEvent {
  return { kind: 'worker', type: 'worker-heartbeat', hostname, timestamp: at, localReceived: at, clock: 1, utcoffset: 0, pid: 42, freq: 2, ...fields };
}

function filter(fields: Partial<TaskFilter> = {}): TaskFilter {
  return { limit: null, offset: 0, sortBy: null, worker: null, taskName: null, state: null, receivedStart: null, receivedEnd: null, search: null, ...fields };
}

function queue(name: string, messages: number, sources: QueueSource[], exists = true): QueueInfo {
  return { name, messages, byPriority: null, consumers: null, ready: messages, unacked: null, oldestAgeSeconds: null, sources, exists };
}

/** The inspect cache as the read model sees it (server/control/inspector.ts keeps the real one). */
class InMemoryInspections implements InspectionSource {
  readonly entries = new Map<string, WorkerInspection>();

  get(hostname: string): WorkerInspection | undefined {
    return this.entries.get(hostname);
  }

  all(): ReadonlyMap<string, WorkerInspection> {
    return this.entries;
  }

  registered(hostname: string): string[] {
    const value = this.entries.get(hostname)?.registered;
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  }

  activeQueues(hostname: string): string[] {
    return queueNames(this.entries.get(hostname)?.active_queues);
  }

  allActiveQueues(): ReadonlySet<string> {
    return new Set([...this.entries.keys()].flatMap((hostname) => this.activeQueues(hostname)));
  }
}

interface Cluster {
  model: ClusterReadModel;
  state: ClusterState;
  ingest: Ingest;
  inspections: InMemoryInspections;
  aggregates: LiveAggregates;
  queueSnapshot: QueueSnapshot;
  pauses: PauseState;
  auditEntries: AuditEntry[];
  transportStatus: TransportStatus;
}

function cluster(options: { readOnly?: boolean; maxTasks?: number; maxWorkers?: number; startedAt?: number; storedTasks?: StoredTaskSource } = {}): Cluster {
  const state = new ClusterState({ maxTasks: options.maxTasks ?? 100, maxWorkers: options.maxWorkers ?? 10 });
  const ingest = new Ingest(state, createLogger('silent'));
  const inspections = new InMemoryInspections();
  const aggregates = new LiveAggregates();
  const events = new EventTail();
  // As server/wiring.ts feeds them.
  state.addListener({
    eventApplied: (event) => events.push(event, event.kind === 'task' ? (state.getTask(event.uuid)?.name ?? null) : null),
    taskChanged: (record, event) => aggregates.taskChanged(record, event),
    workerChanged: () => aggregates.workerChanged(),
  });
  const c: Omit<Cluster, 'model'> = {
    state,
    ingest,
    inspections,
    aggregates,
    queueSnapshot: { updatedAt: null, stale: false, error: null, queues: [] },
    pauses: { queues: {}, workers: {} },
    auditEntries: [],
    transportStatus: { connected: true, reason: null, since: T0, connects: 1 },
  };
  const model = new ClusterReadModel({
    state,
    inspections,
    queueSnapshot: () => c.queueSnapshot,
    pauses: () => c.pauses,
    audit: { query: async (query) => ({ total: c.auditEntries.length, entries: c.auditEntries.slice(query.offset, query.offset + query.limit) }) },
    aggregates,
    events,
    ingest,
    transport: { kind: 'redis', status: () => c.transportStatus },
    broker: BROKER,
    readOnly: options.readOnly ?? false,
    maxTasks: options.maxTasks ?? 100,
    maxWorkers: options.maxWorkers ?? 10,
    startedAt: options.startedAt ?? T0,
    storedTasks: options.storedTasks ?? null,
    now: () => NOW,
  });
  return Object.assign(c, { model });
}

/**
 * Three workers seen through events (alpha and beta online, gamma timed out), one only through
 * inspection (ghost), five tasks:
 *   a1 tasks.add  SUCCESS on alpha (sent to 'celery'), a2 tasks.add SUCCESS on beta,
 *   f1 tasks.fail FAILURE on alpha, e1 tasks.echo STARTED on beta, p1 tasks.echo PENDING (only sent).
 * Newest first by the timestamp of their current state: p1, e1, f1, a2, a1.
 */
function populatedCluster(options: { readOnly?: boolean } = {}): Cluster {
  const c = cluster(options);
  const feed = (event: TaskEvent | WorkerEvent): void => c.ingest.event(event);
  feed(task('task-sent', 'a1', 'client@h', T0, { name: 'tasks.add', args: '(1, 2)', kwargs: '{}', queue: 'celery' }));
  feed(task('task-received', 'a1', 'alpha@h', T0 + 1, { name: 'tasks.add', args: '(1, 2)', kwargs: '{}' }));
  feed(task('task-started', 'a1', 'alpha@h', T0 + 2));
  feed(task('task-succeeded', 'a1', 'alpha@h', T0 + 3, { result: '3', runtime: 0.5 }));
  feed(task('task-received', 'a2', 'beta@h', T0 + 4, { name: 'tasks.add', args: '(2, 2)' }));
  feed(task('task-succeeded', 'a2', 'beta@h', T0 + 5, { result: '4', runtime: 1.5 }));
  feed(task('task-received', 'f1', 'alpha@h', T0 + 6, { name: 'tasks.fail', args: "('boom',)" }));
  feed(task('task-failed', 'f1', 'alpha@h', T0 + 7, { exception: "ValueError('boom')" }));
  feed(task('task-received', 'e1', 'beta@h', T0 + 8, { name: 'tasks.echo', args: "('hello',)" }));
  feed(task('task-started', 'e1', 'beta@h', T0 + 9));
  feed(task('task-sent', 'p1', 'client@h', T0 + 10, { name: 'tasks.echo', queue: 'slow' }));
  // freq 2: alive until 4 s after the last heartbeat.
  feed(heartbeat('alpha@h', NOW - 1, { active: 2, processed: 2 }));
  feed(heartbeat('beta@h', NOW - 1, { active: 1, processed: 2 }));
  feed(heartbeat('gamma@h', NOW - 10, { active: 5, processed: 9 }));
  // A prefork worker (its pool size is the process list, not max-concurrency) and a threads one.
  c.inspections.entries.set('alpha@h', {
    stats: { pool: { processes: [101, 102, 103, 104], 'max-concurrency': 16 } },
    active_queues: [{ name: 'celery' }, { name: 'fast' }],
    registered: ['tasks.mul', 'tasks.add'],
    timestamp: NOW,
  });
  c.inspections.entries.set('beta@h', { stats: { pool: { implementation: 'celery.concurrency.thread:TaskPool', 'max-concurrency': 8 } }, active_queues: [], registered: ['tasks.echo', 'tasks.add'] });
  c.inspections.entries.set('ghost@h', { active_queues: [{ name: 'slow' }] });
  c.queueSnapshot = { updatedAt: NOW - 5, stale: false, error: null, queues: [queue('celery', 4, ['workers', 'config']), queue('fast', 0, ['workers']), queue('gone', 7, ['earlier'], false)] };
  return c;
}

const uuids = (tasks: readonly { uuid: string }[]): string[] => tasks.map((t) => t.uuid);

function rowOf(rows: readonly WorkerSummary[], hostname: string): WorkerSummary {
  const row = rows.find((w) => w.hostname === hostname);
  assert.ok(row, `a row for ${hostname}`);
  return row;
}

describe('ClusterReadModel: history', () => {
  it('tasksPage filters by state, name, worker and search, with the total of all matches', async () => {
    const { model } = populatedCluster();
    const bySuccess = await model.tasksPage(filter({ state: 'SUCCESS' }));
    assert.deepEqual(uuids(bySuccess.tasks), ['a2', 'a1']);
    assert.equal(bySuccess.total, 2);
    assert.deepEqual(uuids((await model.tasksPage(filter({ taskName: 'tasks.echo' }))).tasks), ['p1', 'e1']);
    assert.deepEqual(uuids((await model.tasksPage(filter({ worker: 'alpha@h' }))).tasks), ['f1', 'a1']);
    assert.deepEqual(uuids((await model.tasksPage(filter({ search: parseTaskQuery('boom') }))).tasks), ['f1']);
    assert.deepEqual(uuids((await model.tasksPage(filter({ search: parseTaskQuery('args:hello') }))).tasks), ['e1']);
    const none = await model.tasksPage(filter({ state: 'SUCCESS', worker: 'gamma@h' }));
    assert.deepEqual(none, { total: 0, offset: 0, tasks: [], historyNote: null });
  });

  it('tasksPage says when a store keeps history but memory answered: the store behind, or its read failed', async () => {
    const refused = (): Promise<never> => Promise.reject(new Error('a history read took longer than --store-read-timeout (30000 ms) and PostgreSQL cancelled it'));
    const store = (caughtUp: boolean): StoredTaskSource => ({
      catchUp: async () => caughtUp,
      tasksPage: refused,
      task: refused,
      children: refused,
      workflow: refused,
      taskNames: async () => [],
      scanTasks: () => ({ [Symbol.asyncIterator]: () => ({ next: refused }) }),
    });
    const failing = cluster({ storedTasks: store(true) });
    failing.state.apply(task('task-received', 'm1', 'alpha@h', NOW - 1, { name: 'tasks.add' }));
    const page = await failing.model.tasksPage(filter());
    assert.deepEqual(uuids(page.tasks), ['m1'], 'memory answers');
    assert.match(page.historyNote ?? '', /^the store's read failed: a history read took longer than --store-read-timeout .*; these are the tasks memory holds$/);
    const behind = cluster({ storedTasks: store(false) });
    assert.equal((await behind.model.tasksPage(filter())).historyNote, 'the store is behind or unavailable; these are the tasks memory holds');
    assert.equal((await populatedCluster().model.tasksPage(filter())).historyNote, null, 'no store: nothing to say');
  });

  it('tasksPage sorts (missing values first ascending, last descending) and pages with limit and offset', async () => {
    const { model } = populatedCluster();
    assert.deepEqual(uuids((await model.tasksPage(filter())).tasks), ['p1', 'e1', 'f1', 'a2', 'a1'], 'newest first without a sort');
    assert.deepEqual(uuids((await model.tasksPage(filter({ sortBy: { field: 'received', descending: false } }))).tasks), ['p1', 'a1', 'a2', 'f1', 'e1']);
    assert.deepEqual(uuids((await model.tasksPage(filter({ sortBy: { field: 'received', descending: true } }))).tasks), ['e1', 'f1', 'a2', 'a1', 'p1']);
    const page = await model.tasksPage(filter({ limit: 2, offset: 1 }));
    assert.deepEqual(uuids(page.tasks), ['e1', 'f1']);
    assert.equal(page.total, 5, 'the total counts every match, not the page');
    assert.equal(page.offset, 1);
    const filteredPage = await model.tasksPage(filter({ state: 'SUCCESS', limit: 1, offset: 1 }));
    assert.deepEqual({ total: filteredPage.total, offset: filteredPage.offset, uuids: uuids(filteredPage.tasks) }, { total: 2, offset: 1, uuids: ['a1'] });
    const beyond = await model.tasksPage(filter({ limit: 10, offset: 7 }));
    assert.deepEqual({ total: beyond.total, offset: beyond.offset, uuids: uuids(beyond.tasks) }, { total: 5, offset: 7, uuids: [] });
  });

  it('tasksPage rows carry the revocation mark; flowerTasks are Flower dicts in result order', async () => {
    const { model, state } = populatedCluster();
    state.recordRevokeRequest('e1', { at: NOW, terminate: false, signal: null, workers: 2 });
    const rows = (await model.tasksPage(filter())).tasks;
    assert.equal(rows.find((r) => r.uuid === 'e1')?.revocation?.status, 'pending');
    assert.equal(rows.find((r) => r.uuid === 'a1')?.revocation, null);
    const dicts = await model.flowerTasks(filter({ limit: 3 }));
    assert.deepEqual(uuids(dicts), ['p1', 'e1', 'f1']);
    assert.equal('revocation' in (dicts[1] as object), false, 'Flower has no revocation field');
    assert.deepEqual(uuids(await model.flowerTasks(filter({ sortBy: { field: 'name', descending: true }, state: 'FAILURE' }))), ['f1']);
  });

  it('flowerTask and taskDetail: the task, its queue, the revocation and read-only mode; null when unknown', async () => {
    const { model, state } = populatedCluster({ readOnly: true });
    const a1 = await model.flowerTask('a1');
    assert.equal(a1?.state, 'SUCCESS');
    assert.equal(a1?.worker, 'alpha@h');
    assert.equal(a1?.result, '3');
    assert.equal(await model.flowerTask('unknown'), null);
    assert.equal(await model.taskDetail('unknown'), null);

    const detail = await model.taskDetail('a1');
    assert.equal(detail?.queue, 'celery');
    assert.equal(detail?.revocation, null);
    assert.equal(detail?.readOnly, true);
    assert.equal(detail?.runtime, 0.5);
    state.recordRevokeRequest('e1', { at: NOW, terminate: true, signal: 'SIGTERM', workers: 2 });
    const revoked = await model.taskDetail('e1');
    assert.deepEqual(revoked?.revocation, { status: 'pending', requestedAt: NOW, terminate: true, signal: 'SIGTERM', workers: 2 });
    assert.equal(revoked?.state, 'STARTED');
    assert.equal((await populatedCluster().model.taskDetail('a1'))?.readOnly, false);
  });

  it('workflow: nodes earliest first with their times, parent → child edges, limit and truncated', async () => {
    const c = cluster();
    const root = { rootId: 'wf-root', name: 'tasks.add' };
    c.ingest.event(task('task-sent', 'wf-root', 'client@h', T0 + 19, { ...root, parentId: null }));
    c.ingest.event(task('task-received', 'wf-root', 'alpha@h', T0 + 20, { ...root, parentId: null }));
    c.ingest.event(task('task-started', 'wf-root', 'alpha@h', T0 + 21));
    c.ingest.event(task('task-succeeded', 'wf-root', 'alpha@h', T0 + 22, { runtime: 1, result: '2' }));
    c.ingest.event(task('task-received', 'wf-grand', 'alpha@h', T0 + 25, { ...root, parentId: 'wf-child' }));
    c.ingest.event(task('task-failed', 'wf-grand', 'alpha@h', T0 + 26, { exception: "ValueError('x')" }));
    c.ingest.event(task('task-received', 'wf-child', 'beta@h', T0 + 23, { ...root, parentId: 'wf-root' }));
    c.ingest.event(task('task-received', 'other', 'beta@h', T0 + 24, { name: 'tasks.add' }));

    const workflow = await c.model.workflow('wf-grand', 10);
    assert.ok(workflow);
    assert.equal(workflow.root, 'wf-root');
    assert.equal(workflow.truncated, false);
    assert.deepEqual(uuids(workflow.nodes), ['wf-root', 'wf-child', 'wf-grand']);
    assert.deepEqual(workflow.nodes[0], {
      uuid: 'wf-root',
      name: 'tasks.add',
      state: 'SUCCESS',
      parent_id: null,
      worker: 'alpha@h',
      sent: T0 + 19,
      received: T0 + 20,
      started: T0 + 21,
      succeeded: T0 + 22,
      failed: null,
      runtime: 1,
    });
    assert.equal(workflow.nodes[2]?.failed, T0 + 26);
    assert.equal(workflow.nodes[2]?.parent_id, 'wf-child');
    assert.deepEqual(workflow.edges, [
      { from: 'wf-root', to: 'wf-child' },
      { from: 'wf-child', to: 'wf-grand' },
    ]);

    const truncated = await c.model.workflow('wf-root', 2);
    assert.equal(truncated?.truncated, true);
    assert.deepEqual(uuids(truncated?.nodes ?? []), ['wf-root', 'wf-child']);
    assert.deepEqual(truncated?.edges, [{ from: 'wf-root', to: 'wf-child' }], 'no edge to a node left out');
    assert.equal(await c.model.workflow('unknown', 10), null);
    assert.deepEqual((await c.model.flowerTask('wf-root'))?.children, ['wf-child']);
  });

  it('taskTypes and audit pass through, sorted and paged', async () => {
    const c = populatedCluster();
    assert.deepEqual(await c.model.taskTypes(), ['tasks.add', 'tasks.echo', 'tasks.fail']);
    const entry = (target: string): AuditEntry => ({ time: NOW, user: null, remote: null, action: 'revoke', target, parameters: {}, ok: true, message: 'ok', workers: {} });
    c.auditEntries = [entry('x'), entry('y'), entry('z')];
    const audit = await c.model.audit({ limit: 1, offset: 1, action: null, target: null });
    assert.deepEqual(audit, { total: 3, entries: [entry('y')] });
  });
});

describe('ClusterReadModel: workers', () => {
  it('workers() and workerRow: what events say, plus queues and pool size from inspection', () => {
    const c = populatedCluster();
    const snapshot = c.model.workers();
    assert.deepEqual(snapshot.workers.map((w) => w.hostname).sort(), ['alpha@h', 'beta@h', 'gamma@h'], 'only workers seen through events; clients are not workers');
    assert.deepEqual(snapshot.stream, { broker: BROKER, connected: true, reason: null, since: T0 });

    const alpha = rowOf(snapshot.workers, 'alpha@h');
    assert.equal(alpha.status, 'online');
    assert.equal(alpha.active, 2);
    assert.equal(alpha.succeeded, 1);
    assert.equal(alpha.failed, 1);
    assert.deepEqual(alpha.queues, ['celery', 'fast']);
    assert.equal(alpha.poolSize, 4, 'prefork: the process list');
    const beta = rowOf(snapshot.workers, 'beta@h');
    assert.deepEqual(beta.queues, [], 'inspected, consuming nothing');
    assert.equal(beta.poolSize, 8, 'threads: max-concurrency');
    const gamma = rowOf(snapshot.workers, 'gamma@h');
    assert.equal(gamma.status, 'offline');
    assert.equal(gamma.active, 0);
    assert.equal(gamma.queues, null, 'not inspected yet');
    assert.equal(gamma.poolSize, null);

    assert.deepEqual(c.model.workerRow('alpha@h'), alpha);
    assert.equal(c.model.workerRow('ghost@h'), null, 'known only through inspection: no row');
    assert.equal(c.model.workerRow('nobody@h'), null);
    // Inspection answers as they come: stats first (no queues yet), then active_queues.
    c.inspections.entries.set('gamma@h', { stats: { pool: {} } });
    assert.deepEqual([c.model.workerRow('gamma@h')?.queues, c.model.workerRow('gamma@h')?.poolSize], [null, null]);
    c.inspections.entries.set('gamma@h', { stats: { pool: { processes: [7] } }, active_queues: [{ name: 'celery' }] });
    assert.deepEqual([c.model.workerRow('gamma@h')?.queues, c.model.workerRow('gamma@h')?.poolSize], [['celery'], 1]);
    c.transportStatus = { connected: false, reason: 'connect ECONNREFUSED 127.0.0.1:6379', since: NOW - 3, connects: 1 };
    assert.deepEqual(c.model.workers().stream, { broker: BROKER, connected: false, reason: 'connect ECONNREFUSED 127.0.0.1:6379', since: NOW - 3 });
  });

  it('worker(): summary, a deep copy of the inspect data, and the paused flag; null when nothing knows it', () => {
    const c = populatedCluster();
    c.pauses.workers['alpha@h'] = { pausedAt: NOW, by: 'ops', consumers: [{ queue: 'celery', declaration: null }] };
    const alpha = c.model.worker('alpha@h');
    assert.ok(alpha);
    assert.equal(alpha.paused, true);
    assert.deepEqual(alpha.summary, c.model.workerRow('alpha@h'));
    assert.deepEqual(alpha.inspect, c.inspections.entries.get('alpha@h'));
    assert.ok(alpha.inspect);
    const pool = (alpha.inspect.stats as { pool: { processes: number[] } }).pool;
    pool.processes.push(999);
    (alpha.inspect as Record<string, unknown>).registered = [];
    assert.deepEqual(c.inspections.entries.get('alpha@h')?.stats, { pool: { processes: [101, 102, 103, 104], 'max-concurrency': 16 } }, 'the cache is not changed through a copy');
    assert.equal(c.model.worker('alpha@h')?.summary?.poolSize, 4);
    assert.deepEqual(c.inspections.entries.get('alpha@h')?.registered, ['tasks.mul', 'tasks.add']);

    assert.equal(c.model.worker('beta@h')?.paused, false);
    const gamma = c.model.worker('gamma@h');
    assert.equal(gamma?.inspect, null);
    assert.equal(gamma?.summary?.status, 'offline');
    const ghost = c.model.worker('ghost@h');
    assert.equal(ghost?.summary, null);
    assert.deepEqual(ghost?.inspect, { active_queues: [{ name: 'slow' }] });
    assert.equal(c.model.worker('nobody@h'), null);
  });

  it('workerLiveness and workerInspections (every worker, one, or null for an unknown one)', () => {
    const c = populatedCluster();
    assert.deepEqual(c.model.workerLiveness(), { 'alpha@h': true, 'beta@h': true, 'gamma@h': false });
    const all = c.model.workerInspections();
    assert.deepEqual(Object.keys(all ?? {}).sort(), ['alpha@h', 'beta@h', 'gamma@h', 'ghost@h']);
    assert.deepEqual(all?.['gamma@h'], {}, 'seen through events, never inspected');
    assert.deepEqual(all?.['beta@h'], c.inspections.entries.get('beta@h'));
    assert.deepEqual(c.model.workerInspections('ghost@h'), { 'ghost@h': { active_queues: [{ name: 'slow' }] } });
    assert.deepEqual(c.model.workerInspections('gamma@h'), { 'gamma@h': {} });
    assert.equal(c.model.workerInspections('nobody@h'), null);
  });
});

describe('ClusterReadModel: overview, queues, status', () => {
  it('overview: worker counts, active tasks of online workers, existing queues, failure ratio and throughput', () => {
    const c = populatedCluster();
    const overview = c.model.overview();
    assert.equal(overview.at, NOW);
    assert.deepEqual(overview.workers, { online: 2, offline: 1 });
    assert.equal(overview.activeTasks, 3, "the offline worker's last reported active tasks do not count");
    assert.equal(overview.tasksRetained, 5);
    assert.deepEqual(
      overview.queues,
      [
        { name: 'celery', messages: 4 },
        { name: 'fast', messages: 0 },
      ],
      'a queue the broker says does not exist is left out',
    );
    assert.equal(overview.failureRatio, 1 / 3);
    assert.equal(overview.runtime.count, 2);
    assert.deepEqual(overview.topFailing, [{ name: 'tasks.fail', count: 1 }]);
    assert.deepEqual(overview.topExceptions, [{ exception: 'ValueError', count: 1 }]);
    assert.equal(overview.throughput.length, 90);
    assert.equal(overview.throughput.at(-1)?.t, NOW);
    assert.deepEqual(
      overview.throughput.find((p) => p.t === T0),
      { t: T0, received: 4, succeeded: 2, failed: 1, retried: 0, revoked: 0 },
    );
    assert.deepEqual(overview.stream, c.model.stream());
  });

  it('overview without traffic: no failure ratio; overviewVersion moves with every task or worker change', () => {
    const c = cluster();
    const empty = c.model.overview();
    assert.equal(empty.failureRatio, null);
    assert.deepEqual(empty.workers, { online: 0, offline: 0 });
    assert.equal(
      empty.throughput.every((p) => p.received + p.succeeded + p.failed === 0),
      true,
    );
    const before = c.model.overviewVersion();
    c.ingest.event(heartbeat('alpha@h', NOW));
    const afterWorker = c.model.overviewVersion();
    assert.ok(afterWorker > before);
    c.ingest.event(task('task-sent', 's1', 'client@h', NOW, { name: 'tasks.add' }));
    assert.ok(c.model.overviewVersion() > afterWorker);
    assert.equal(c.model.overviewVersion(), c.aggregates.version);
  });

  it('queues(): the poll with pause marks, the length history and read-only mode, as a fresh copy', () => {
    const c = populatedCluster({ readOnly: true });
    c.pauses.queues.fast = { pausedAt: NOW, by: 'ops', workers: ['alpha@h'] };
    c.aggregates.queuesPolled(NOW - 30, { celery: 3 });
    c.aggregates.queuesPolled(NOW - 5, { celery: 4, fast: 0 });
    const queues = c.model.queues();
    assert.equal(queues.at, NOW);
    assert.equal(queues.updatedAt, NOW - 5);
    assert.equal(queues.readOnly, true);
    assert.deepEqual(
      queues.queues.map((q) => [q.name, q.paused, q.exists]),
      [
        ['celery', false, true],
        ['fast', true, true],
        ['gone', false, false],
      ],
    );
    assert.deepEqual(queues.queues[0]?.sources, ['workers', 'config']);
    assert.deepEqual(queues.history, [
      { t: NOW - 30, lengths: { celery: 3 } },
      { t: NOW - 5, lengths: { celery: 4, fast: 0 } },
    ]);
    queues.queues[0]?.sources.push('broker');
    queues.history.length = 0;
    assert.deepEqual(c.queueSnapshot.queues[0]?.sources, ['workers', 'config'], 'the snapshot is not changed through the answer');
    assert.equal(c.model.queues().history.length, 2);
    c.queueSnapshot = { ...c.queueSnapshot, stale: true, error: 'timeout' };
    assert.deepEqual([c.model.queues().stale, c.model.queues().error], [true, 'timeout']);
  });

  it('queueNames and registeredTasks: every source, sorted, each name once', () => {
    const c = populatedCluster();
    assert.deepEqual(c.model.queueNames(), ['celery', 'fast', 'gone', 'slow']);
    assert.deepEqual(c.model.registeredTasks(), ['tasks.add', 'tasks.echo', 'tasks.mul']);
    assert.deepEqual(cluster().model.registeredTasks(), []);
  });

  it('status(): intake counters, stream, retention and evictions', () => {
    // Uptime is the read model's clock (NOW) minus the start.
    const c = cluster({ maxTasks: 2, maxWorkers: 1, startedAt: NOW - 90 });
    c.ingest.event(task('task-received', 't1', 'alpha@h', NOW - 3, { name: 'tasks.add' }));
    c.ingest.event(task('task-received', 't2', 'alpha@h', NOW - 2, { name: 'tasks.add' }));
    c.ingest.event(task('task-received', 't3', 'alpha@h', NOW - 1, { name: 'tasks.add' }));
    c.ingest.event(heartbeat('beta@h', NOW));
    c.ingest.drop('bad_json', 'not JSON');
    c.ingest.drop('bad_json', 'not JSON');
    c.ingest.ignored();
    c.transportStatus = { connected: true, reason: null, since: T0, connects: 3 };
    const status = c.model.status();
    assert.equal(status.broker, BROKER);
    assert.equal(status.transport, 'redis');
    assert.deepEqual(status.stream, { connected: true, reason: null, since: T0, connects: 3 });
    assert.equal(status.uptimeSeconds, 90);
    assert.equal(status.events.received, 4);
    assert.equal(status.events.byType['task-received'], 3);
    assert.equal(status.events.byType['worker-heartbeat'], 1);
    assert.equal(status.events.dropped.bad_json, 2);
    assert.equal(status.events.droppedTotal, 2);
    assert.equal(status.events.ignored, 1);
    assert.equal(status.events.lastEventAt, NOW);
    assert.deepEqual(status.state, { tasks: 2, maxTasks: 2, tasksEvicted: 1, workers: 1, maxWorkers: 1, workersEvicted: 1 });
    assert.ok(status.process.rss > 0 && status.process.heapUsed > 0);
  });

  it('eventsAfter and lastEventSeq read the event tail the state feeds', () => {
    const c = populatedCluster();
    assert.equal(c.model.lastEventSeq(), 14);
    const { events, skipped } = c.model.eventsAfter(11, 100);
    assert.equal(skipped, 0);
    assert.deepEqual(
      events.map((e) => [e.seq, e.type, e.hostname]),
      [
        [12, 'worker-heartbeat', 'alpha@h'],
        [13, 'worker-heartbeat', 'beta@h'],
        [14, 'worker-heartbeat', 'gamma@h'],
      ],
    );
    assert.equal(c.model.eventsAfter(0, 100).events.find((e) => e.type === 'task-started' && e.uuid === 'a1')?.name, 'tasks.add', 'the name comes from the task');
  });
});

describe('LiveAggregates', () => {
  /** Aggregates fed by a state, as server/wiring.ts feeds them. */
  function fedAggregates(events: TaskEvent[]): LiveAggregates {
    const aggregates = new LiveAggregates();
    const state = new ClusterState({ maxTasks: 1_000, maxWorkers: 10 });
    state.addListener({ taskChanged: (record, event) => aggregates.taskChanged(record, event) });
    for (const event of events) state.apply(event);
    return aggregates;
  }

  it('counts throughput per 10-second bucket by event type, over 90 continuous buckets', () => {
    const aggregates = fedAggregates([
      task('task-received', 'a', 'w@h', T0 + 1),
      task('task-succeeded', 'a', 'w@h', T0 + 2),
      task('task-failed', 'b', 'w@h', T0 + 3),
      task('task-retried', 'c', 'w@h', T0 + 4),
      task('task-revoked', 'd', 'w@h', T0 + 5),
      task('task-started', 'e', 'w@h', T0 + 6),
      task('task-sent', 'f', 'client@h', T0 + 7),
      task('task-received', 'g', 'w@h', T0 + 12),
    ]);
    const points = aggregates.throughput(T0 + 15);
    assert.equal(points.length, 90);
    assert.deepEqual(
      points.map((p) => p.t),
      Array.from({ length: 90 }, (_, i) => T0 + 10 - (89 - i) * 10),
    );
    assert.deepEqual(points[88], { t: T0, received: 1, succeeded: 1, failed: 1, retried: 1, revoked: 1 });
    assert.deepEqual(points[89], { t: T0 + 10, received: 1, succeeded: 0, failed: 0, retried: 0, revoked: 0 });
    assert.equal(
      points.slice(0, 88).every((p) => p.received + p.succeeded + p.failed + p.retried + p.revoked === 0),
      true,
    );
  });

  it('ignores an event received before the newest bucket, but counts an earlier time within it', () => {
    const aggregates = fedAggregates([task('task-received', 'a', 'w@h', T0 + 25), task('task-received', 'b', 'w@h', T0 + 5), task('task-received', 'c', 'w@h', T0 + 21)]);
    const points = aggregates.throughput(T0 + 25);
    assert.equal(points.find((p) => p.t === T0)?.received, 0);
    assert.equal(points.find((p) => p.t === T0 + 20)?.received, 2);
  });

  it('keeps at most 90 buckets: the oldest go', () => {
    const aggregates = fedAggregates(Array.from({ length: 95 }, (_, i) => task('task-received', `t${i}`, 'w@h', T0 + i * 10)));
    assert.equal(
      aggregates.throughput(T0 + 94 * 10).every((p) => p.received === 1),
      true,
    );
    // A window ending at bucket 4 would show buckets 0–4 if they were still kept.
    assert.equal(
      aggregates.throughput(T0 + 4 * 10).reduce((n, p) => n + p.received, 0),
      0,
    );
  });

  it('counts recent outcomes for five minutes', () => {
    const aggregates = fedAggregates([task('task-received', 'a', 'w@h', T0, { name: 'tasks.fail' }), task('task-failed', 'a', 'w@h', T0 + 1, { exception: "KeyError('k')" })]);
    assert.deepEqual(aggregates.recentOutcomes(T0 + 10).topExceptions, [{ exception: 'KeyError', count: 1 }]);
    assert.equal(aggregates.recentOutcomes(T0 + 400).finished, 0);
  });

  it('bumps its version on every task or worker change', () => {
    const aggregates = new LiveAggregates();
    const state = new ClusterState({ maxTasks: 10, maxWorkers: 10 });
    state.addListener({ taskChanged: (record, event) => aggregates.taskChanged(record, event), workerChanged: () => aggregates.workerChanged() });
    state.apply(task('task-sent', 'a', 'client@h', T0));
    assert.equal(aggregates.version, 1, 'a task-sent changes no worker');
    state.apply(task('task-received', 'a', 'w@h', T0 + 1));
    assert.equal(aggregates.version, 3, 'the task and its worker');
  });

  it('keeps 30 minutes of queue lengths, and answers a copy', () => {
    const aggregates = new LiveAggregates();
    aggregates.queuesPolled(T0, { celery: 1 });
    aggregates.queuesPolled(T0 + 1_000, { celery: 2 });
    aggregates.queuesPolled(T0 + 1_800, { celery: 3 });
    assert.deepEqual(
      aggregates.queueLengthHistory().map((h) => h.t),
      [T0, T0 + 1_000, T0 + 1_800],
      'exactly 30 minutes old is kept',
    );
    aggregates.queuesPolled(T0 + 1_801, { celery: 4 });
    const history = aggregates.queueLengthHistory();
    assert.deepEqual(history, [
      { t: T0 + 1_000, lengths: { celery: 2 } },
      { t: T0 + 1_800, lengths: { celery: 3 } },
      { t: T0 + 1_801, lengths: { celery: 4 } },
    ]);
    history.length = 0;
    assert.equal(aggregates.queueLengthHistory().length, 3);
  });
});

describe('EventTail', () => {
  it('after(seq) returns the lines after seq, in order; nothing once caught up', () => {
    const tail = new EventTail();
    assert.equal(tail.lastSeq, 0);
    assert.deepEqual(tail.after(0, 10), { events: [], skipped: 0 });
    tail.push(task('task-sent', 'a', 'client@h', T0, { name: 'tasks.add', args: '(1, 2)', kwargs: '{}' }), null);
    tail.push(heartbeat('w@h', T0 + 1, { active: 1, processed: 3 }), null);
    tail.push(task('task-succeeded', 'a', 'w@h', T0 + 2, { result: '3', runtime: 0.25 }), 'tasks.add');
    assert.equal(tail.lastSeq, 3);
    const all = tail.after(0, 10);
    assert.equal(all.skipped, 0);
    assert.deepEqual(all.events[0], { seq: 1, localReceived: T0, timestamp: T0, type: 'task-sent', hostname: 'client@h', uuid: 'a', name: 'tasks.add', summary: 'args (1, 2)' });
    assert.deepEqual(all.events[1], { seq: 2, localReceived: T0 + 1, timestamp: T0 + 1, type: 'worker-heartbeat', hostname: 'w@h', uuid: null, name: null, summary: 'freq 2, active 1, processed 3' });
    assert.equal(all.events[2]?.summary, 'result 3 · runtime 0.250 s');
    assert.deepEqual(
      tail.after(2, 10).events.map((e) => e.seq),
      [3],
    );
    assert.deepEqual(tail.after(3, 10), { events: [], skipped: 0 });
  });

  it("fills a task's name from the argument when the event does not carry one; the event's own name wins", () => {
    const tail = new EventTail();
    tail.push(task('task-started', 'a', 'w@h', T0), 'tasks.add');
    tail.push(task('task-started', 'b', 'w@h', T0), null);
    tail.push(task('task-received', 'c', 'w@h', T0, { name: 'tasks.own' }), 'tasks.other');
    assert.deepEqual(
      tail.after(0, 10).events.map((e) => e.name),
      ['tasks.add', null, 'tasks.own'],
    );
  });

  it('with a limit, gives the newest lines and counts the skipped ones', () => {
    const tail = new EventTail();
    for (let i = 1; i <= 10; i++) tail.push(task('task-sent', `t${i}`, 'client@h', T0 + i), null);
    const { events, skipped } = tail.after(0, 4);
    assert.deepEqual(
      events.map((e) => e.uuid),
      ['t7', 't8', 't9', 't10'],
    );
    assert.equal(skipped, 6);
    assert.deepEqual(
      tail.after(8, 4).events.map((e) => e.uuid),
      ['t9', 't10'],
    );
    assert.equal(tail.after(8, 4).skipped, 0);
  });

  it(`keeps the last ${EVENT_TAIL} events: the oldest are overwritten`, () => {
    const tail = new EventTail();
    for (let i = 1; i <= EVENT_TAIL + 5; i++) tail.push(task('task-sent', `t${i}`, 'client@h', T0 + i), null);
    const { events, skipped } = tail.after(0, 2 * EVENT_TAIL);
    assert.equal(events.length, EVENT_TAIL);
    assert.equal(events[0]?.seq, 6);
    assert.equal(events[0]?.uuid, 't6');
    assert.equal(events.at(-1)?.uuid, `t${EVENT_TAIL + 5}`);
    assert.equal(skipped, 5);
  });
});
