/**
 * The realtime hub through its narrow interface: a scripted HubReads object stands for the read
 * model, the hub's plain methods (workerChanged, taskChanged, …) for the state's change feed, and
 * socket.io-client for the browser, over a real HTTP server on 127.0.0.1. Tests call flush()
 * themselves; the hub's own 200 ms timer also runs, so assertions accept its extra flushes
 * (except where the timer is mocked to pin down the order of a read and a flush).
 */
import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it, mock } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import { RealtimeHub, type HubReads, type RealtimeOptions } from '../../server/realtime/hub';
import {
  REALTIME,
  VIEW_EVENTS,
  type EventLine,
  type EventsBatch,
  type OverviewSnapshot,
  type QueuesSnapshot,
  type StreamStatus,
  type TaskDetail,
  type TasksChanged,
  type ViewRequest,
  type WorkerSummary,
  type WorkersDelta,
  type WorkersSnapshot,
} from '../../server/realtime/types';
import { TaskRecord } from '../../server/state/task-record';
import { WorkerRecord } from '../../server/state/worker-registry';
import { capturingLogger } from '../helpers/capturing-logger';

const PATH = '/socket.io';
const WAIT_MS = 5_000;

function workerRow(hostname: string, status: WorkerSummary['status'], fields: Partial<WorkerSummary> = {}): WorkerSummary {
  return { ...new WorkerRecord(hostname).facts(0), status, queues: null, poolSize: null, ...fields };
}

function taskDetail(uuid: string, state: string): TaskDetail {
  return {
    ...new TaskRecord(uuid).toFlowerDict([]),
    state,
    queue: null,
    terminated: null,
    signum: null,
    expired: null,
    extra: null,
    revocation: null,
    events: [],
    eventsOmitted: 0,
    eventsHead: 0,
    readOnly: false,
  };
}

function eventLine(seq: number): EventLine {
  return { seq, localReceived: seq, timestamp: seq, type: 'task-sent', hostname: 'client@h', uuid: `t${seq}`, name: 'tasks.add', summary: '' };
}

/** The read model as the hub sees it, scripted: tests change what it answers. */
class ScriptedReads implements HubReads {
  readonly rows = new Map<string, WorkerSummary>();
  streamStatus: StreamStatus = { broker: 'redis://127.0.0.1:6379/0', connected: true, reason: null, since: 1 };
  /** What overviewVersion() answers; overview() carries it in `tasksRetained` so a test can tell answers apart. */
  version = 0;
  queuesReads = 0;
  readonly details = new Map<string, TaskDetail>();
  readonly failingDetails = new Set<string>();
  readonly lines: EventLine[] = [];

  workers(): WorkersSnapshot {
    return { workers: [...this.rows.values()].map((row) => ({ ...row })), stream: this.stream() };
  }

  workerRow(hostname: string): WorkerSummary | null {
    const row = this.rows.get(hostname);
    return row ? { ...row } : null;
  }

  workerLiveness(): Record<string, boolean> {
    return Object.fromEntries([...this.rows].map(([hostname, row]) => [hostname, row.status === 'online']));
  }

  stream(): StreamStatus {
    return { ...this.streamStatus };
  }

  overview(): OverviewSnapshot {
    return {
      at: 0,
      stream: this.stream(),
      workers: { online: 0, offline: 0 },
      activeTasks: 0,
      tasksRetained: this.version,
      tasksStored: null,
      queues: [],
      throughput: [],
      failureRatio: null,
      runtime: { p50: null, p95: null, p99: null, count: 0 },
      topFailing: [],
      topExceptions: [],
    };
  }

  overviewVersion(): number {
    return this.version;
  }

  /** Each answer's `at` counts the reads. */
  queues(): QueuesSnapshot {
    return { at: ++this.queuesReads, updatedAt: null, stale: false, error: null, queues: [], history: [], readOnly: false };
  }

  /** As the event tail answers (server/views/event-tail.ts): the newest `limit` after `seq`. */
  eventsAfter(seq: number, limit: number): { events: EventLine[]; skipped: number } {
    const from = Math.max(seq + 1, this.lines.length - limit + 1);
    return { events: this.lines.slice(from - 1), skipped: from - (seq + 1) };
  }

  lastEventSeq(): number {
    return this.lines.length;
  }

  addLines(count: number): void {
    for (let i = 0; i < count; i++) this.lines.push(eventLine(this.lines.length + 1));
  }

  taskDetail(uuid: string): Promise<TaskDetail | null> {
    if (this.failingDetails.has(uuid)) return Promise.reject(new Error('store unavailable'));
    return Promise.resolve(this.details.get(uuid) ?? null);
  }
}

/** A browser tab: records everything the hub sends it. */
class Browser {
  readonly socket: Socket;
  private readonly received: { name: string; payload: unknown }[] = [];
  private readonly waiting = new Set<() => void>();
  private barriers = 0;

  constructor(url: string, extraHeaders: Record<string, string> = {}) {
    this.socket = io(url, { path: PATH, transports: ['websocket'], reconnection: false, extraHeaders });
    this.socket.onAny((name: string, payload: unknown) => {
      this.received.push({ name, payload });
      for (const wake of this.waiting) wake();
    });
  }

  subscribe(view: ViewRequest | Record<string, unknown> | string | number | null): void {
    this.socket.emit(REALTIME.subscribe, view);
  }

  /** Every payload of `name` received so far (typed as the protocol says the hub sends it). */
  payloads<T>(name: string): T[] {
    return this.received.filter((m) => m.name === name).map((m) => m.payload as T);
  }

  names(): string[] {
    return [...new Set(this.received.map((m) => m.name))];
  }

  /** The first payload of `name` (received or still to come) that `match` accepts. */
  async waitFor<T>(name: string, match: (payload: T) => boolean = () => true): Promise<T> {
    await until(() => this.payloads<T>(name).some(match), `${name} matching`, this.waiting);
    return this.payloads<T>(name).find(match) as T;
  }

  /**
   * A round trip: the hub handles a client's messages in order and its emits reach the client in
   * order, so once this resolves, everything the hub sent before (a flush's deltas) has arrived.
   */
  async barrier(): Promise<void> {
    const id = `barrier-${++this.barriers}`;
    const before = this.payloads(VIEW_EVENTS.taskSnapshot).length;
    this.subscribe({ view: 'task', id });
    await until(() => this.payloads(VIEW_EVENTS.taskSnapshot).length > before, id, this.waiting);
  }
}

/** Resolve once `condition` holds, re-checked whenever `wakers` fire (and every 20 ms). */
async function until(condition: () => boolean, what: string, wakers?: Set<() => void>): Promise<void> {
  if (condition()) return;
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (!condition()) return;
      finish();
      resolve();
    };
    const poll = setTimeout(function again() {
      check();
      poll.refresh();
    }, 20);
    const deadline = setTimeout(() => {
      finish();
      reject(new Error(`timed out waiting for ${what}`));
    }, WAIT_MS);
    const finish = (): void => {
      clearTimeout(poll);
      clearTimeout(deadline);
      wakers?.delete(check);
    };
    wakers?.add(check);
  });
}

/** How a browser's handshake ended: connected, or the connect_error. */
async function handshake(b: Browser): Promise<'connected' | Error> {
  const outcomes: ('connected' | Error)[] = [];
  b.socket.once('connect', () => void outcomes.push('connected'));
  b.socket.once('connect_error', (error: Error) => void outcomes.push(error));
  await until(() => outcomes.length > 0, 'the handshake');
  return outcomes[0] as 'connected' | Error;
}

interface RunningHub {
  hub: RealtimeHub;
  reads: ScriptedReads;
  url: string;
  logLines: Record<string, unknown>[];
  browser(extraHeaders?: Record<string, string>): Browser;
  /** A browser whose subscriptions the hub has handled (its snapshots have arrived). */
  subscribed(...views: ViewRequest[]): Promise<Browser>;
}

const closers: (() => Promise<void>)[] = [];

async function closeAll(): Promise<void> {
  for (const close of closers.splice(0).reverse()) await close();
}

async function startHub(authorize: RealtimeOptions['authorize'] = () => null): Promise<RunningHub> {
  const server: HttpServer = createServer();
  const reads = new ScriptedReads();
  const { logger, lines } = capturingLogger();
  const hub = new RealtimeHub(server, reads, { path: PATH, authorize }, logger);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    await hub.close(); // closes the HTTP server too
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = (extraHeaders?: Record<string, string>): Browser => {
    const b = new Browser(url, extraHeaders);
    closers.push(async () => void b.socket.disconnect());
    return b;
  };
  const subscribed = async (...views: ViewRequest[]): Promise<Browser> => {
    const b = browser();
    for (const view of views) b.subscribe(view);
    await b.barrier();
    return b;
  };
  return { hub, reads, url, logLines: lines, browser, subscribed };
}

const statusOf = (b: Browser, hostname: string): string | undefined =>
  b
    .payloads<WorkersDelta>(REALTIME.workersDelta)
    .flatMap((d) => d.upserts)
    .filter((w) => w.hostname === hostname)
    .at(-1)?.status;

/** A hub that has told a workers subscriber that alpha@h is online. */
async function watchingAlphaOnline(): Promise<RunningHub & { watching: Browser }> {
  const running = await startHub();
  running.reads.rows.set('alpha@h', workerRow('alpha@h', 'online'));
  const watching = await running.subscribed('workers');
  running.hub.flush();
  await until(() => statusOf(watching, 'alpha@h') === 'online', 'alpha online');
  return { ...running, watching };
}

describe('RealtimeHub: workers view', () => {
  afterEach(closeAll);

  it('a subscriber gets the snapshot, then a delta with the changed row as workerRow reads it', async () => {
    const { hub, reads, subscribed } = await startHub();
    reads.rows.set('alpha@h', workerRow('alpha@h', 'online', { active: 1 }));
    reads.rows.set('beta@h', workerRow('beta@h', 'online'));
    const b = await subscribed('workers');
    assert.deepEqual(b.payloads(REALTIME.workersSnapshot), [reads.workers()]);

    reads.rows.set('alpha@h', workerRow('alpha@h', 'online', { active: 3, processed: 7, queues: ['celery'], poolSize: 4 }));
    hub.workerChanged('alpha@h');
    hub.flush();
    const delta = await b.waitFor<WorkersDelta>(REALTIME.workersDelta, (d) => d.upserts.some((w) => w.hostname === 'alpha@h' && w.processed === 7));
    assert.deepEqual(
      delta.upserts.find((w) => w.hostname === 'alpha@h'),
      reads.workerRow('alpha@h'),
    );
    assert.deepEqual(delta.removed, []);
    assert.deepEqual(delta.stream, reads.stream());
  });

  it('a removed worker is sent as `removed`, not as a row', async () => {
    const { hub, reads, subscribed } = await startHub();
    reads.rows.set('alpha@h', workerRow('alpha@h', 'online'));
    reads.rows.set('beta@h', workerRow('beta@h', 'online'));
    const b = await subscribed('workers');
    hub.flush();
    await b.waitFor<WorkersDelta>(REALTIME.workersDelta, (d) => d.upserts.some((w) => w.hostname === 'beta@h'));

    // Changed, then forgotten before the next flush: only the removal goes out.
    hub.workerChanged('beta@h');
    reads.rows.delete('beta@h');
    hub.workerRemoved('beta@h');
    hub.flush();
    const delta = await b.waitFor<WorkersDelta>(REALTIME.workersDelta, (d) => d.removed.length > 0);
    assert.deepEqual(delta.removed, ['beta@h']);
    assert.equal(
      delta.upserts.some((w) => w.hostname === 'beta@h'),
      false,
    );
  });

  it('a worker whose liveness flips without any event is sent again', async () => {
    const { hub, reads, watching: b } = await watchingAlphaOnline();
    // A SIGKILLed worker just stops talking: nobody calls workerChanged.
    reads.rows.set('alpha@h', workerRow('alpha@h', 'offline'));
    hub.flush();
    await until(() => statusOf(b, 'alpha@h') === 'offline', 'alpha offline pushed');
    // Sent once: later flushes do not repeat it.
    const sent = b.payloads<WorkersDelta>(REALTIME.workersDelta).flatMap((d) => d.upserts).length;
    hub.flush();
    await b.barrier();
    assert.equal(b.payloads<WorkersDelta>(REALTIME.workersDelta).flatMap((d) => d.upserts).length, sent);
  });

  it('a change of the stream alone is sent as a delta', async () => {
    const { hub, reads, subscribed } = await startHub();
    const b = await subscribed('workers');
    reads.streamStatus = { ...reads.streamStatus, connected: false, reason: 'connect ECONNREFUSED 127.0.0.1:6379' };
    hub.flush();
    const delta = await b.waitFor<WorkersDelta>(REALTIME.workersDelta, (d) => !d.stream.connected);
    assert.deepEqual(delta, { upserts: [], removed: [], stream: reads.stream() });
  });
});

describe('RealtimeHub: reads never hide a change from the workers room (issue 8)', () => {
  // The hub's timer is mocked here, so no flush runs between the reads below and the test's own.
  before(() => mock.timers.enable({ apis: ['setInterval'] }));
  after(async () => {
    await closeAll();
    mock.timers.reset();
  });

  it('a snapshot for a new subscriber and an API read between flushes; the room still gets the change', async () => {
    const { hub, reads, subscribed, watching } = await watchingAlphaOnline();
    reads.rows.set('alpha@h', workerRow('alpha@h', 'offline')); // it expired; no flush yet
    const late = await subscribed('workers');
    assert.equal(late.payloads<WorkersSnapshot>(REALTIME.workersSnapshot)[0]?.workers[0]?.status, 'offline');
    assert.equal(reads.workers().workers[0]?.status, 'offline'); // what the API would answer
    await watching.barrier();
    assert.equal(statusOf(watching, 'alpha@h'), 'online', 'no flush has run yet');

    hub.flush();
    await until(() => statusOf(watching, 'alpha@h') === 'offline', 'offline pushed after the reads');
    // The late subscriber already had it; the same row again is harmless.
    await until(() => statusOf(late, 'alpha@h') === 'offline', 'late subscriber gets the row too');
  });
});

describe('RealtimeHub: tasks', () => {
  afterEach(closeAll);

  it('tasks:changed carries the changes and creations since the last flush', async () => {
    const { hub, subscribed } = await startHub();
    hub.taskChanged('before', true); // nobody is listening: dropped at the next flush
    hub.flush();
    const b = await subscribed('tasks');
    hub.taskChanged('a', true);
    hub.taskChanged('b', false);
    hub.taskChanged('a', false);
    hub.flush();
    await b.barrier();
    const notes = b.payloads<TasksChanged>(VIEW_EVENTS.tasksChanged);
    assert.deepEqual(
      notes.map((n) => [n.changed, n.created]),
      [[3, 1]],
    );
    assert.ok(Math.abs((notes[0]?.at ?? 0) - Date.now() / 1000) < 60);
    hub.flush();
    await b.barrier();
    assert.equal(b.payloads(VIEW_EVENTS.tasksChanged).length, 1, 'nothing changed since');
  });

  it('a task page gets its snapshot, then task:update when that task changes (and only that one)', async () => {
    const { hub, reads, subscribed } = await startHub();
    reads.details.set('t1', taskDetail('t1', 'STARTED'));
    const watching = await subscribed({ view: 'task', id: 't1' });
    const other = await subscribed({ view: 'task', id: 't2' });
    assert.equal(watching.payloads<TaskDetail | null>(VIEW_EVENTS.taskSnapshot)[0]?.state, 'STARTED');
    assert.equal(other.payloads(VIEW_EVENTS.taskSnapshot)[0], null, 'unknown yet');

    reads.details.set('t1', taskDetail('t1', 'SUCCESS'));
    hub.taskChanged('t1', false);
    hub.flush();
    const update = await watching.waitFor<TaskDetail | null>(VIEW_EVENTS.taskUpdate);
    assert.deepEqual(update, reads.details.get('t1'));
    await other.barrier();
    assert.equal(other.payloads(VIEW_EVENTS.taskUpdate).length, 0);
    hub.flush();
    await watching.barrier();
    assert.equal(watching.payloads(VIEW_EVENTS.taskUpdate).length, 1, 'sent once per change');
  });

  it('a task read that fails is logged; the page keeps its state and the hub keeps serving', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => void rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const { hub, reads, logLines, subscribed } = await startHub();
      reads.failingDetails.add('broken');
      const b = await subscribed({ view: 'task', id: 'broken' });
      assert.deepEqual(b.payloads(VIEW_EVENTS.taskSnapshot), [null], "only the barrier's snapshot");
      hub.taskChanged('broken', false);
      hub.flush();
      await until(() => logLines.length >= 2, 'two warnings');
      assert.deepEqual(
        logLines.map((l) => [l.msg, l.task, l.err]),
        [
          ['could not read a task for the live view', 'broken', 'Error: store unavailable'],
          ['could not read a task for the live view', 'broken', 'Error: store unavailable'],
        ],
      );
      await b.barrier();
      assert.equal(b.payloads(VIEW_EVENTS.taskUpdate).length, 0);
      assert.ok(b.socket.connected);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(rejections, []);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });
});

describe('RealtimeHub: overview, events, queues', () => {
  afterEach(closeAll);

  it('the overview is resent when overviewVersion changes, or after 2 s without a change', async () => {
    const { hub, reads, subscribed } = await startHub();
    reads.version = 1;
    const b = await subscribed('overview');
    assert.equal(b.payloads<OverviewSnapshot>(VIEW_EVENTS.overviewSnapshot)[0]?.tasksRetained, 1);
    hub.flush(); // the first flush with a subscriber sends it
    await b.waitFor(VIEW_EVENTS.overviewUpdate);
    const sent = b.payloads(VIEW_EVENTS.overviewUpdate).length;
    hub.flush();
    hub.flush();
    await b.barrier();
    assert.equal(b.payloads(VIEW_EVENTS.overviewUpdate).length, sent, 'unchanged: not resent');

    reads.version = 2;
    hub.flush();
    await b.waitFor<OverviewSnapshot>(VIEW_EVENTS.overviewUpdate, (o) => o.tasksRetained === 2);
    const afterChange = b.payloads(VIEW_EVENTS.overviewUpdate).length;
    // Times move without events: the hub's own flushes resend it within the refresh period.
    await until(() => b.payloads(VIEW_EVENTS.overviewUpdate).length > afterChange, 'a refresh without a change');
    assert.equal(b.payloads<OverviewSnapshot>(VIEW_EVENTS.overviewUpdate).at(-1)?.tasksRetained, 2);
  });

  it('events: a subscriber gets the recent tail, then only lines it has not had', async () => {
    const { hub, reads, subscribed } = await startHub();
    reads.addLines(250);
    const b = await subscribed('events');
    const first = b.payloads<EventsBatch>(VIEW_EVENTS.eventsBatch);
    assert.equal(first.length, 1);
    assert.deepEqual([first[0]?.events.length, first[0]?.events[0]?.seq, first[0]?.events.at(-1)?.seq, first[0]?.skipped], [200, 51, 250, 0]);

    reads.addLines(3);
    hub.flush();
    hub.flush();
    await b.barrier();
    const seqsAfterFirst = (): number[] =>
      b
        .payloads<EventsBatch>(VIEW_EVENTS.eventsBatch)
        .slice(1)
        .flatMap((batch) => batch.events.map((e) => e.seq));
    assert.deepEqual(seqsAfterFirst(), [251, 252, 253]);

    // More than one flush sends: the newest 200 and the count of the others.
    reads.addLines(300);
    hub.flush();
    await b.barrier();
    const burst = b.payloads<EventsBatch>(VIEW_EVENTS.eventsBatch).at(-1);
    assert.deepEqual([burst?.events.length, burst?.events.at(-1)?.seq, burst?.skipped], [200, 553, 100]);

    b.socket.emit(REALTIME.unsubscribe, 'events');
    await b.barrier();
    const batches = b.payloads(VIEW_EVENTS.eventsBatch).length;
    reads.addLines(5);
    hub.flush();
    await b.barrier();
    assert.equal(b.payloads(VIEW_EVENTS.eventsBatch).length, batches, 'unsubscribed');
  });

  it('queuesChanged sends queues:update once; nothing without a change', async () => {
    const { hub, reads, subscribed } = await startHub();
    const b = await subscribed('queues');
    assert.equal(b.payloads(VIEW_EVENTS.queuesSnapshot).length, 1);
    hub.flush();
    await b.barrier();
    assert.equal(b.payloads(VIEW_EVENTS.queuesUpdate).length, 0);
    hub.queuesChanged();
    hub.flush();
    hub.flush();
    await b.barrier();
    const updates = b.payloads<QueuesSnapshot>(VIEW_EVENTS.queuesUpdate);
    assert.equal(updates.length, 1);
    assert.equal(updates[0]?.at, reads.queuesReads, 'the latest read');
  });
});

describe('RealtimeHub: connections', () => {
  afterEach(closeAll);

  it('ignores a subscription to an unknown view', async () => {
    const { hub, browser } = await startHub();
    const b = browser();
    for (const request of [{ view: 'nope', id: 'x' }, 'bogus', { view: 'task', id: '' }, { view: 'task', id: 'x'.repeat(256) }, { view: 'task', id: 7 }, 42, null]) b.subscribe(request);
    b.subscribe('queues');
    await b.waitFor(VIEW_EVENTS.queuesSnapshot);
    hub.flush();
    b.subscribe('queues'); // a round trip after the flush
    await until(() => b.payloads(VIEW_EVENTS.queuesSnapshot).length === 2, 'the second snapshot');
    assert.deepEqual(b.names(), [VIEW_EVENTS.queuesSnapshot]);
    const rooms = [...hub.io.sockets.adapter.rooms.keys()].filter((room) => room.startsWith('view:') || room.startsWith('task:'));
    assert.deepEqual(rooms, ['view:queues']);
  });

  it('a refused handshake is a connect_error, and the client never counts as connected', async () => {
    const seen: (string | string[] | undefined)[] = [];
    const { hub, url, browser } = await startHub((headers) => {
      seen.push(headers['x-test-pass']);
      return headers['x-test-pass'] === 'yes' ? null : 'Unauthorized';
    });
    const refused = browser();
    assert.ok((await handshake(refused)) instanceof Error, 'connect_error');
    assert.equal(refused.socket.connected, false);
    assert.equal(hub.clientStats().connected, 0);
    const response = await fetch(`${url}${PATH}/?EIO=4&transport=polling`);
    assert.equal(response.status, 403);
    assert.deepEqual(await response.json(), { code: 4, message: 'Unauthorized' });

    const allowed = browser({ 'x-test-pass': 'yes' });
    assert.equal(await handshake(allowed), 'connected');
    assert.equal(hub.clientStats().connected, 1);
    assert.deepEqual(seen, [undefined, undefined, 'yes']);
  });

  it('clientStats counts the connected clients', async () => {
    const { hub, subscribed } = await startHub();
    assert.deepEqual(hub.clientStats(), { connected: 0, slowDisconnected: 0 });
    const one = await subscribed('workers');
    await subscribed('overview');
    assert.deepEqual(hub.clientStats(), { connected: 2, slowDisconnected: 0 });
    one.socket.disconnect();
    await until(() => hub.clientStats().connected === 1, 'one client left');
    assert.equal(hub.clientStats().slowDisconnected, 0);
  });
});
