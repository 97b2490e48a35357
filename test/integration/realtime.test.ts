/**
 * The live views over a real socket.io connection: snapshots on subscribe, throttled updates,
 * the event tail with a per-client cursor (a slow client gets the newest lines and a `skipped`
 * count), and a resync after reconnecting. The model is fed typed events directly.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it, mock } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import { FLUSH_INTERVAL_MS, MAX_PENDING_PACKETS } from '../../server/realtime/hub';
import {
  REALTIME,
  VIEW_EVENTS,
  type EventsBatch,
  type OverviewSnapshot,
  type TaskDetail,
  type TasksChanged,
  type ViewRequest,
  type WorkersDelta,
  type WorkersSnapshot,
} from '../../server/realtime/types';
import type { TaskEvent } from '../../server/protocol/events';
import type { RunningCeleriac } from '../../server/server';
import { freePort } from '../helpers/brokers';
import { getJson, startTestCeleriac, waitFor } from '../helpers/celeriac';

function task(type: string, uuid: string, fields: Partial<TaskEvent> = {}): TaskEvent {
  const now = Date.now() / 1000;
  return { kind: 'task', type, uuid, hostname: 'w1@rt', timestamp: now, localReceived: now, clock: 1, utcoffset: 0, pid: 1, ...fields };
}

describe('live views over socket.io', () => {
  let celeriac: RunningCeleriac;
  const sockets: Socket[] = [];
  before(async () => {
    celeriac = await startTestCeleriac(['--broker', `redis://127.0.0.1:${await freePort()}/0`]);
  });
  after(async () => {
    for (const s of sockets) s.disconnect();
    await celeriac.close();
  });

  function connect(request: ViewRequest): { socket: Socket; received: Map<string, unknown[]> } {
    const received = new Map<string, unknown[]>();
    const socket = io(`http://127.0.0.1:${celeriac.port}`, { path: '/socket.io', transports: ['websocket'], reconnectionDelay: 50 });
    socket.onAny((name: string, payload: unknown) => {
      const list = received.get(name) ?? [];
      list.push(payload);
      received.set(name, list);
    });
    socket.on('connect', () => socket.emit(REALTIME.subscribe, request));
    sockets.push(socket);
    return { socket, received };
  }

  it('overview: snapshot on subscribe, then updates with live throughput and failures', async () => {
    const { received } = connect('overview');
    await waitFor('overview snapshot', async () => received.get(VIEW_EVENTS.overviewSnapshot)?.length);
    const ingest = celeriac.monitor.ingest;
    ingest.event(task('task-received', 'ok-1', { name: 'tasks.add' }));
    ingest.event(task('task-succeeded', 'ok-1', { runtime: 0.2 }));
    ingest.event(task('task-received', 'bad-1', { name: 'tasks.fail' }));
    ingest.event(task('task-failed', 'bad-1', { exception: "ValueError('x')" }));
    const update = await waitFor('an overview update with the failure', async () => {
      const updates = (received.get(VIEW_EVENTS.overviewUpdate) ?? []) as OverviewSnapshot[];
      return updates.find((u) => u.topFailing.length > 0);
    });
    assert.equal(update.failureRatio, 0.5);
    assert.deepEqual(update.topFailing, [{ name: 'tasks.fail', count: 1 }]);
    assert.deepEqual(update.topExceptions, [{ exception: 'ValueError', count: 1 }]);
    assert.equal(update.runtime.p50, 0.2);
    // Summed over the buckets: a 10-second boundary may fall between the events and the update.
    const total = (field: 'succeeded' | 'failed'): number => update.throughput.reduce((n, point) => n + point[field], 0);
    assert.equal(total('succeeded'), 1);
    assert.equal(total('failed'), 1);
    assert.equal(update.throughput.length, 90, '15 minutes of 10-second buckets');
  });

  it('tasks: change notifications are batched, not one per event', async () => {
    const { received } = connect('tasks');
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 500; i++) celeriac.monitor.ingest.event(task('task-sent', `bulk-${i}`, { name: 'tasks.add', hostname: 'client@rt' }));
    await waitFor('tasks:changed', async () => received.get(VIEW_EVENTS.tasksChanged)?.length);
    await new Promise((r) => setTimeout(r, FLUSH_INTERVAL_MS * 2));
    const notes = received.get(VIEW_EVENTS.tasksChanged) as TasksChanged[];
    assert.ok(notes.length <= 2, `at most one notification per flush (got ${notes.length})`);
    assert.equal(
      notes.reduce((n, c) => n + c.created, 0),
      500,
    );
  });

  it('task: the page of one task gets its snapshot and live changes', async () => {
    const { received } = connect({ view: 'task', id: 'watched' });
    await waitFor('task snapshot', async () => received.get(VIEW_EVENTS.taskSnapshot)?.length);
    assert.equal((received.get(VIEW_EVENTS.taskSnapshot) as (TaskDetail | null)[])[0], null, 'unknown yet');
    celeriac.monitor.ingest.event(task('task-received', 'watched', { name: 'tasks.sleep', args: '(5,)' }));
    celeriac.monitor.ingest.event(task('task-started', 'watched'));
    const live = await waitFor('STARTED pushed', async () => ((received.get(VIEW_EVENTS.taskUpdate) ?? []) as TaskDetail[]).find((t) => t?.state === 'STARTED'));
    assert.equal(live.name, 'tasks.sleep');
    assert.equal(live.args, '(5,)');
  });

  it('events: a tail with a per-client cursor; a slow client gets the newest lines and a skipped count', async () => {
    const { socket, received } = connect('events');
    await waitFor('initial batch', async () => received.get(VIEW_EVENTS.eventsBatch)?.length);
    received.set(VIEW_EVENTS.eventsBatch, []);
    for (let i = 0; i < 50; i++) celeriac.monitor.ingest.event(task('task-sent', `tail-${i}`, { name: 'tasks.echo', hostname: 'client@rt', args: `(${i},)` }));
    await waitFor('50 lines', async () => ((received.get(VIEW_EVENTS.eventsBatch) ?? []) as EventsBatch[]).flatMap((b) => b.events).length >= 50);
    const lines = ((received.get(VIEW_EVENTS.eventsBatch) ?? []) as EventsBatch[]).flatMap((b) => b.events);
    assert.deepEqual(
      lines.slice(-3).map((l) => l.uuid),
      ['tail-47', 'tail-48', 'tail-49'],
    );
    assert.match(lines[lines.length - 1]?.summary ?? '', /args \(49,\)/);
    // A burst larger than one flush allows: the client gets the newest 200 and the count of the rest.
    received.set(VIEW_EVENTS.eventsBatch, []);
    for (let i = 0; i < 700; i++) celeriac.monitor.ingest.event(task('task-sent', `burst-${i}`, { name: 'tasks.echo', hostname: 'client@rt' }));
    const batch = await waitFor('burst batch', async () => ((received.get(VIEW_EVENTS.eventsBatch) ?? []) as EventsBatch[])[0]);
    assert.equal(batch.events.length, 200);
    assert.equal(batch.skipped, 500);
    assert.equal(batch.events[batch.events.length - 1]?.uuid, 'burst-699');
    // After a reconnect the client subscribes again and gets a fresh tail.
    received.set(VIEW_EVENTS.eventsBatch, []);
    socket.io.engine.close();
    await waitFor('resynced after reconnect', async () => ((received.get(VIEW_EVENTS.eventsBatch) ?? []) as EventsBatch[]).length > 0, 10_000);
  });

  it('ignores subscriptions to unknown views', async () => {
    const { received } = connect({ view: 'nope', id: 'x' } as unknown as ViewRequest);
    await new Promise((r) => setTimeout(r, FLUSH_INTERVAL_MS * 2));
    assert.equal([...received.keys()].length, 0);
  });
});

describe('workers view: reads never change what subscribers are sent', () => {
  let celeriac: RunningCeleriac;
  let socket: Socket | null = null;
  before(async () => {
    // The hub flushes on a setInterval: mocked, so this test decides when flushes happen and can
    // put an API read between a worker's expiry and the next flush.
    mock.timers.enable({ apis: ['setInterval'] });
    celeriac = await startTestCeleriac(['--broker', `redis://127.0.0.1:${await freePort()}/0`]);
  });
  after(async () => {
    socket?.disconnect();
    await celeriac.close();
    mock.timers.reset();
  });

  it('a worker that expires, then is read through the API, still goes offline for subscribers', async () => {
    const deltas: WorkersDelta[] = [];
    let snapshots = 0;
    socket = io(`http://127.0.0.1:${celeriac.port}`, { path: '/socket.io', transports: ['websocket'] });
    socket.on(REALTIME.workersSnapshot, () => snapshots++);
    socket.on(REALTIME.workersDelta, (delta: WorkersDelta) => deltas.push(delta));
    socket.on('connect', () => socket?.emit(REALTIME.subscribe, 'workers'));
    await waitFor('workers snapshot', async () => snapshots > 0);

    // freq 2 → offline 4 s after the heartbeat; received 3.4 s ago, so alive for 0.6 s more.
    const now = Date.now() / 1000;
    celeriac.monitor.ingest.event({
      kind: 'worker',
      type: 'worker-heartbeat',
      hostname: 'expiring@rt',
      timestamp: now - 3.4,
      localReceived: now - 3.4,
      clock: 1,
      utcoffset: 0,
      pid: 1,
      freq: 2,
      active: 0,
      processed: 0,
    });
    mock.timers.tick(FLUSH_INTERVAL_MS);
    const statusOf = (): string | undefined =>
      deltas
        .flatMap((d) => d.upserts)
        .filter((w) => w.hostname === 'expiring@rt')
        .at(-1)?.status;
    await waitFor('online pushed', async () => statusOf() === 'online');

    await new Promise((r) => setTimeout(r, 900)); // the worker expires; no flush has run since
    const read = await getJson<WorkersSnapshot>(`http://127.0.0.1:${celeriac.port}`, '/api/celeriac/workers');
    assert.equal(read.body.workers.find((w) => w.hostname === 'expiring@rt')?.status, 'offline');
    mock.timers.tick(FLUSH_INTERVAL_MS);
    await waitFor('offline pushed after the read', async () => statusOf() === 'offline', 3_000);
  });
});

describe('a live-view client that stops reading', () => {
  let celeriac: RunningCeleriac;
  before(async () => {
    celeriac = await startTestCeleriac(['--broker', `redis://127.0.0.1:${await freePort()}/0`]);
  });
  after(() => celeriac.close());

  it(`is disconnected once ${MAX_PENDING_PACKETS} packets wait for it, long before its ping times out; a reading client is not`, { timeout: 60_000 }, async () => {
    const client = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), '../helpers/live-view-client.ts'), [`http://127.0.0.1:${celeriac.port}`, 'big'], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const reader = io(`http://127.0.0.1:${celeriac.port}`, { path: '/socket.io', transports: ['websocket'] });
    let readerUpdates = 0;
    reader.on(VIEW_EVENTS.taskUpdate, () => readerUpdates++);
    reader.on('connect', () => reader.emit(REALTIME.subscribe, { view: 'task', id: 'big' }));
    try {
      await new Promise<void>((resolve) => client.once('message', () => resolve()));
      client.kill('SIGSTOP'); // it never reads again
      assert.equal(celeriac.hub.clientStats().connected, 2);
      // A task whose page both watch changes with 1 MB of args on every flush: the kernel's
      // buffers towards the stopped client fill within seconds, then socket.io starts queueing.
      const started = Date.now();
      let n = 0;
      const pump = setInterval(() => {
        const args = `('${String(n++).padStart(8, '0')}${'x'.repeat(1_000_000)}',)`;
        celeriac.monitor.ingest.event(task('task-received', 'big', { name: 'tasks.echo', args, clock: n }));
      }, FLUSH_INTERVAL_MS);
      try {
        await waitFor('the stopped client disconnected by the hub', async () => celeriac.hub.clientStats().slowDisconnected === 1, 40_000, 250);
      } finally {
        clearInterval(pump);
      }
      // Engine.io's own ping timeout (25 s + 20 s) would have taken 45 s.
      assert.ok(Date.now() - started < 40_000);
      assert.equal(celeriac.hub.clientStats().connected, 1, 'the reading client stays');
      assert.ok(reader.connected);
      assert.ok(readerUpdates > 5, `the reading client kept receiving (${readerUpdates} updates)`);
    } finally {
      client.kill('SIGKILL');
      reader.disconnect();
    }
  });
});
