/**
 * Store benchmark (`npm run bench:store`, issue 10 "Performance"). Prints its figures as Markdown
 * tables, each with the command that reproduces it; asserts nothing.
 *
 * The real process as users run it: `bin/celeriac.js` with the UI, metrics and enable_events on,
 * a private Redis, and a store of its own for every measured process — a temporary `--data-dir`
 * (removed after) with `--store sqlite:<dir>/celeriac.db`, or a PostgreSQL database created for
 * the run and dropped after (test/helpers/postgres.ts). Per backend:
 *
 * 1. ingest — keep-up ingest with the store on: the rising steady rates of `npm run bench:ingest`
 *    (bench/harness.ts `step`), each BENCH_STEP_SECONDS long, on one process. Keep-up rate: the
 *    highest rate less than 1 s behind for the whole step with zero loss — no event lost, none
 *    dropped, none dropped by the store writer, and every published task a row in the store
 *    (the step's rows: written since it started; waiting up to 120 s) — and the store caught up
 *    within 5 s of Celeriac having every event. Per step also: the writer's most pending
 *    records, rows written, how long the store took to catch up, and the process's largest RSS.
 * 2. queries — a store filled with N synthetic tasks (BENCH_STORE_SIZES) through the store's own
 *    write path (`upsertTasks`, and `Trends.insert` for the aggregates the Trends page reads) in
 *    big transactions; then the real process on it: bytes on disk per task, RSS after start (it
 *    restores --max-tasks) and after the queries, and client-side wall time of ~50 requests of
 *    each history query (p50/p95/max), the NDJSON export of every failure (time, peak RSS).
 * 3. retention — keep-up at one rate (BENCH_RETENTION_RATE) on a filled store, without and with
 *    `--retention` (BENCH_RETENTION) expiring its old rows, when the option exists.
 *
 * Env: BENCH_STORE_BACKENDS (sqlite,postgresql), BENCH_STORE_PARTS (ingest,queries,retention),
 * BENCH_STORE_SIZES (1000000; comma list, e.g. 10000000 for PostgreSQL), BENCH_RATES (comma list,
 * events/s), BENCH_STEP_SECONDS (60), BENCH_QUERY_REPEATS (50), BENCH_QUERY_BUDGET_SECONDS (120:
 * a query stops repeating after it), BENCH_RETENTION (3d), BENCH_RETENTION_RATE (20000),
 * BENCH_CELERIAC_ARGS (more options for the measured process), BENCH_STORE_KEEP (a directory: the
 * queries part keeps its filled stores there and reuses them).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, databaseUrl } from '../test/helpers/postgres';
import { createLogger } from '../server/log';
import { TaskRecord } from '../server/state/task-record';
import { migrate, type StoreDatabase } from '../server/store/migrate';
import { PostgresDatabase } from '../server/store/postgres';
import { MIGRATIONS, type StoreBackend } from '../server/store/schema';
import { SqliteDatabase } from '../server/store/sqlite';
import { upsertTasks } from '../server/store/task-row';
import { Trends, type TrendSample } from '../server/store/trends';
import { type Celeriac, privateBroker, rssOf, sleep, startCeleriac, type Status, type Step, step } from './harness';

const BACKENDS = list('BENCH_STORE_BACKENDS', 'sqlite,postgresql') as StoreBackend[];
const PARTS = list('BENCH_STORE_PARTS', 'ingest,queries,retention');
const SIZES = list('BENCH_STORE_SIZES', '1000000').map(Number);
const RATES = list('BENCH_RATES', '10000,20000,30000,40000,50000,60000,80000').map(Number);
const STEP_SECONDS = Number(process.env.BENCH_STEP_SECONDS ?? 60);
const QUERY_REPEATS = Number(process.env.BENCH_QUERY_REPEATS ?? 50);
/** A query slower than this in all stops repeating (after at least 5 requests): a slow one would take the run hours. */
const QUERY_BUDGET_SECONDS = Number(process.env.BENCH_QUERY_BUDGET_SECONDS ?? 120);
const MIN_REPEATS = 5;
const RETENTION = process.env.BENCH_RETENTION ?? '3d';
const RETENTION_RATE = Number(process.env.BENCH_RETENTION_RATE ?? 20_000);
/**
 * A directory where the queries part keeps each filled store (SQLite: a file in it; PostgreSQL: the
 * database `celeriac_bench_<size>`) and the figures of its fill, and reuses them on the next run
 * instead of filling again: a 10,000,000-task PostgreSQL fill took 39 minutes. The measured process then
 * runs with `--retention 0` so that the kept store, ageing, is not deleted by it.
 */
const KEEP_DIR = process.env.BENCH_STORE_KEEP;
const EXTRA_CELERIAC_ARGS = (process.env.BENCH_CELERIAC_ARGS ?? '').split(' ').filter((a) => a !== '');
const KEEP_UP_SECONDS = 1;
/** Keeping up includes the store: it has written everything within this long after Celeriac has every event. */
const STORE_KEEP_UP_SECONDS = 5;
/** How long a step waits for the store writer to catch up before counting the rows anyway. */
const STORE_SETTLE_SECONDS = 120;
const TARGET_EVENTS: Record<StoreBackend, number> = { sqlite: 30_000, postgresql: 50_000 };
/** p95 targets: 100 ms at 1 M tasks, 300 ms at 10 M (PostgreSQL). */
const p95TargetMs = (size: number): number => (size > 1_000_000 ? 300 : 100);
/** Tasks per fill transaction: big, as an import would write them. */
const FILL_CHUNK = 20_000;
const WEEK_SECONDS = 7 * 86_400;
const BACKEND_NAMES: Record<StoreBackend, string> = { sqlite: 'SQLite', postgresql: 'PostgreSQL' };
const MiB = 1024 * 1024;

function list(name: string, fallback: string): string[] {
  return (process.env[name] ?? fallback).split(',').filter((item) => item !== '');
}

/** The command that reproduces a figure: this run's knobs, narrowed to one backend and part. */
function command(backend: StoreBackend, part: string, more: Record<string, string | number> = {}): string {
  const env: Record<string, string | number> = { BENCH_STORE_BACKENDS: backend, BENCH_STORE_PARTS: part, ...more };
  if (EXTRA_CELERIAC_ARGS.length > 0) env.BENCH_CELERIAC_ARGS = `"${EXTRA_CELERIAC_ARGS.join(' ')}"`;
  if (process.env.BENCH_NODE_ARGS) env.BENCH_NODE_ARGS = `"${process.env.BENCH_NODE_ARGS}"`;
  return `\`${Object.entries(env)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ')} npm run bench:store\``;
}

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;
const int = (n: number): string => Math.round(n).toLocaleString('en');

// --- A store of the benchmark's own ------------------------------------------------------------

/** A store for one measured process: its `--store` and `--data-dir`, and what the benchmark reads of it. */
interface BenchStore {
  readonly backend: StoreBackend;
  readonly url: string;
  readonly dataDir: string;
  /** A connection of the benchmark's own (fill, counts, sizes); close it after. */
  open(): StoreDatabase;
  /** Rows of `tasks`; with `since`, those written since then (epoch seconds). */
  countTasks(since?: number): Promise<number>;
  /** SQLite: the file and its WAL after a checkpoint; PostgreSQL: pg_database_size. */
  bytesOnDisk(): Promise<number>;
  remove(): Promise<void>;
}

/**
 * What is still to be stopped or removed, newest last: Ctrl-C (SIGINT) or SIGTERM runs it all
 * before exiting, so an interrupted run leaves no process, directory or database behind.
 */
const cleanups = new Set<() => Promise<void>>();
let interrupted = false;

/** Start nothing new once interrupted. */
function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

/** `step` run at most once, and by the signal handler if the run is interrupted first. */
function owned(step: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  const once = (): Promise<void> => {
    cleanups.delete(once);
    done ??= step();
    return done;
  };
  cleanups.add(once);
  return once;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.log(`\n(${signal}: stopping the measured processes and removing the stores)`);
    void (async () => {
      for (const cleanup of [...cleanups].reverse()) await cleanup().catch((error) => console.error(error));
      process.exit(130);
    })();
  });
}

function countSql(since: number | undefined): [string, number[]] {
  return since === undefined ? ['SELECT COUNT(*) AS n FROM tasks', []] : ['SELECT COUNT(*) AS n FROM tasks WHERE updated_at >= $1', [since]];
}

/**
 * A new, empty store, removed by `remove`. `kept`: the store at that directory (and, on
 * PostgreSQL, that database), emptied when `fresh`, and left in place by `remove`.
 */
async function benchStore(backend: StoreBackend, kept?: { dir: string; database: string; fresh: boolean }): Promise<BenchStore> {
  checkInterrupted();
  if (kept) mkdirSync(kept.dir, { recursive: true });
  const dataDir = kept?.dir ?? mkdtempSync(path.join(os.tmpdir(), 'celeriac-bench-store-'));
  const removeDir = async (): Promise<void> => {
    if (!kept) rmSync(dataDir, { recursive: true, force: true });
  };
  const logger = createLogger('silent');
  const counted = async (db: StoreDatabase, sql: string, params: number[] = []): Promise<number> => {
    try {
      const [row] = await db.runner.rows(sql, params);
      return Number(row?.n ?? 0);
    } finally {
      await db.close();
    }
  };
  if (backend === 'sqlite') {
    const file = path.join(dataDir, 'celeriac.db');
    if (kept?.fresh) for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    const open = (): StoreDatabase => new SqliteDatabase(file);
    return {
      backend,
      url: `sqlite:${file}`,
      dataDir,
      open,
      countTasks: (since) => counted(open(), ...countSql(since)),
      bytesOnDisk: async () => {
        const db = open();
        try {
          await db.runner.rows('PRAGMA wal_checkpoint(TRUNCATE)');
          return [file, `${file}-wal`].reduce((sum, f) => sum + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
        } finally {
          await db.close();
        }
      },
      remove: kept ? removeDir : owned(removeDir),
    };
  }
  let database: { url: string; drop(): Promise<void> };
  try {
    database = kept && !kept.fresh ? { url: databaseUrl(kept.database), drop: async () => undefined } : await createTestDatabase(kept?.database);
  } catch (error) {
    await removeDir();
    throw error;
  }
  const open = (): StoreDatabase => new PostgresDatabase(database.url, logger);
  return {
    backend,
    url: database.url,
    dataDir,
    open,
    countTasks: (since) => counted(open(), ...countSql(since)),
    bytesOnDisk: () => counted(open(), 'SELECT pg_database_size(current_database()) AS n'),
    remove: kept
      ? removeDir
      : owned(async () => {
          await database.drop();
          await removeDir();
        }),
  };
}

/** The real process on `store`, on a private Redis; stopped (SIGTERM, waited for) by `stop`. */
async function startOn(store: BenchStore, extraArgs: string[] = []): Promise<{ celeriac: Celeriac; brokerUrl: string; stop(): Promise<void> }> {
  checkInterrupted();
  const broker = await privateBroker('redis', 'celeriac-bench-store');
  try {
    const celeriac = await startCeleriac(broker.url, ['--ui', '--enable-events', '--store', store.url, '--data-dir', store.dataDir, ...extraArgs, ...EXTRA_CELERIAC_ARGS]);
    return {
      celeriac,
      brokerUrl: broker.url,
      stop: owned(async () => {
        if (celeriac.child.exitCode === null) {
          const exited = new Promise((resolve) => celeriac.child.once('exit', resolve));
          celeriac.child.kill('SIGTERM');
          await exited;
        }
        await broker.cleanup();
      }),
    };
  } catch (error) {
    await broker.cleanup();
    throw error;
  }
}

// --- 1. Keep-up ingest with the store on ------------------------------------------------------

interface StoreStep extends Step {
  maxPending: number;
  written: number;
  storeDropped: number;
  maxRss: number;
  /** Rows the store has of the tasks published in this step. */
  rows: number;
  /** Every task published in this step is a row in the store. */
  allStored: boolean;
  /** Seconds from Celeriac having every event to the store having every task's row; null if not within STORE_SETTLE_SECONDS. */
  storeCaughtUp: number | null;
}

/**
 * One step, then wait for the store to have a row for every task it published (up to
 * STORE_SETTLE_SECONDS). The step's rows are those written since it started (`updated_at`,
 * indexed): the filled rows and earlier steps' are older, and retention deletes only old rows.
 * (`store.pending` cannot say it: it leaves out the write under way.)
 */
async function storeStep(store: BenchStore, running: { celeriac: Celeriac; brokerUrl: string }, rate: number): Promise<StoreStep> {
  const { celeriac } = running;
  const pid = celeriac.child.pid as number;
  const before = await celeriac.status();
  const startedAt = Date.now() / 1000;
  let maxPending = 0;
  let maxRss = 0;
  const sample = (status: Status): void => {
    maxPending = Math.max(maxPending, status.store?.pending ?? 0);
    maxRss = Math.max(maxRss, rssOf(pid));
  };
  const s = await step('redis', running.brokerUrl, celeriac, rate, rate * STEP_SECONDS, sample);
  const drained = Date.now();
  let after = await celeriac.status();
  let rows = 0;
  let storeCaughtUp: number | null = null;
  for (;;) {
    rows = await store.countTasks(startedAt);
    if (rows >= s.publishedTasks) {
      storeCaughtUp = (Date.now() - drained) / 1000;
      break;
    }
    if (Date.now() - drained > STORE_SETTLE_SECONDS * 1000 || (after.store?.dropped ?? 0) > (before.store?.dropped ?? 0)) break;
    await sleep(500);
    after = await celeriac.status();
    sample(after);
  }
  after = await celeriac.status();
  return {
    ...s,
    maxPending,
    maxRss,
    written: (after.store?.written ?? 0) - (before.store?.written ?? 0),
    storeDropped: (after.store?.dropped ?? 0) - (before.store?.dropped ?? 0),
    rows,
    allStored: rows >= s.publishedTasks,
    storeCaughtUp,
  };
}

const STEP_COLUMNS = [
  'target events/s',
  'published events/s',
  'most behind (s)',
  'lost',
  'dropped',
  'store: most pending',
  'rows written',
  'store dropped',
  'tasks published',
  'rows of them in the store',
  'all stored',
  'store caught up (s after the events)',
  'largest RSS',
  'result',
];

/** The steps' table header, after `first` columns of the caller's. */
function stepHeader(first: readonly string[] = []): string {
  const columns = [...first, ...STEP_COLUMNS];
  return `| ${columns.join(' | ')} |\n|${columns.map(() => '---|').join('')}`;
}

function stepRow(rate: number, s: StoreStep, result: string): string {
  const achieved = Math.round(s.published / s.seconds);
  return `| ${int(rate)} | ${int(achieved)} | ${s.maxBehind.toFixed(2)} | ${s.published - s.received} | ${s.dropped} | ${int(s.maxPending)} | ${int(s.written)} | ${s.storeDropped} | ${int(s.publishedTasks)} | ${int(s.rows)} | ${s.allStored ? 'yes' : 'NO'} | ${s.storeCaughtUp === null ? `not within ${STORE_SETTLE_SECONDS}` : s.storeCaughtUp.toFixed(1)} | ${mib(s.maxRss)} | ${result} |`;
}

/** What a step says: did the publisher reach the rate, was anything lost, did Celeriac keep up. */
function judge(rate: number, s: StoreStep): { result: string; publisherBound: boolean; lossless: boolean; kept: boolean } {
  const achieved = s.published / s.seconds;
  const publisherBound = achieved < rate * 0.97;
  const lossless = s.published === s.received && s.dropped === 0 && s.storeDropped === 0 && s.allStored;
  const storeKept = s.storeCaughtUp !== null && s.storeCaughtUp <= STORE_KEEP_UP_SECONDS;
  const kept = lossless && s.maxBehind < KEEP_UP_SECONDS && storeKept;
  const result = publisherBound
    ? 'publisher could not reach the target'
    : !lossless
      ? 'LOSS'
      : kept
        ? 'keeps up'
        : s.maxBehind < KEEP_UP_SECONDS
          ? 'no loss, the store falls behind'
          : 'no loss, falls behind';
  return { result, publisherBound, lossless, kept };
}

async function ingest(backend: StoreBackend): Promise<void> {
  console.log(`\n## ${BACKEND_NAMES[backend]}: keep-up ingest with the store on, ${STEP_SECONDS} s per step`);
  console.log(`Command: ${command(backend, 'ingest', { BENCH_RATES: RATES.join(','), BENCH_STEP_SECONDS: STEP_SECONDS })}\n`);
  const store = await benchStore(backend);
  let running: Awaited<ReturnType<typeof startOn>> | null = null;
  try {
    running = await startOn(store);
    console.log(stepHeader());
    let keepUp = { rate: 0, achieved: 0 };
    for (const rate of RATES) {
      const s = await storeStep(store, running, rate);
      const verdict = judge(rate, s);
      if (!verdict.publisherBound && verdict.kept && rate > keepUp.rate) keepUp = { rate, achieved: Math.round(s.published / s.seconds) };
      console.log(stepRow(rate, s, verdict.result));
      if (verdict.publisherBound || !verdict.lossless || s.storeCaughtUp === null) break;
    }
    const target = TARGET_EVENTS[backend];
    console.log(
      `\n${BACKEND_NAMES[backend]}: keep-up rate with the store on (less than ${KEEP_UP_SECONDS} s behind for ${STEP_SECONDS} s, zero loss, every task stored within ${STORE_KEEP_UP_SECONDS} s): **${int(keepUp.rate)} events/s** (published ${int(keepUp.achieved)}; target ≥ ${int(target)}: ${keepUp.rate >= target ? 'met' : 'NOT met'})`,
    );
  } finally {
    await running?.stop();
    await store.remove();
  }
}

// --- 2. Queries at scale ----------------------------------------------------------------------

/** A small seeded PRNG (mulberry32): the same store every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A version-4-shaped UUID from the PRNG, so every run stores the same tasks. */
function uuidFrom(next: () => number): string {
  const hex = Array.from({ length: 4 }, () =>
    Math.floor(next() * 4_294_967_296)
      .toString(16)
      .padStart(8, '0'),
  ).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[parseInt(hex[16] as string, 16) % 4]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** ~20 task names, each with its queue; the first ones are the busiest (weights fall off like a real cluster's). */
const TASK_TYPES: readonly { name: string; queue: string }[] = [
  { name: 'shop.orders.process_order', queue: 'orders' },
  { name: 'shop.emails.send_receipt', queue: 'emails' },
  { name: 'shop.payments.charge_card', queue: 'payments' },
  { name: 'shop.inventory.reserve_stock', queue: 'orders' },
  { name: 'shop.emails.send_newsletter', queue: 'emails' },
  { name: 'shop.images.make_thumbnail', queue: 'images' },
  { name: 'shop.search.reindex_product', queue: 'default' },
  { name: 'shop.payments.refund', queue: 'payments' },
  { name: 'shop.shipping.create_label', queue: 'orders' },
  { name: 'shop.shipping.track_parcel', queue: 'default' },
  { name: 'shop.accounts.sync_crm', queue: 'default' },
  { name: 'shop.accounts.verify_email', queue: 'emails' },
  { name: 'shop.reports.daily_sales', queue: 'reports' },
  { name: 'shop.reports.export_csv', queue: 'reports' },
  { name: 'shop.images.optimise_upload', queue: 'images' },
  { name: 'shop.fraud.score_order', queue: 'payments' },
  { name: 'shop.webhooks.deliver', queue: 'default' },
  { name: 'shop.cache.warm_category', queue: 'default' },
  { name: 'shop.audit.archive_events', queue: 'reports' },
  { name: 'shop.cleanup.expire_carts', queue: 'default' },
];
const TYPE_WEIGHTS = TASK_TYPES.map((_, i) => 1 / (i + 1));
const WEIGHT_SUM = TYPE_WEIGHTS.reduce((a, b) => a + b, 0);
const WORKERS = [1, 2, 3, 4].map((i) => `celery@worker-${i}.prod.example.com`);
/** `args:order-<n>` with ORDER_IDS distinct ids hits N / ORDER_IDS tasks (10 at 1 M). */
const ORDER_IDS = 100_000;
const RARE_ORDER = 'order-004242';
/** The free-text term: a region ~0.1 % of tasks carry in their kwargs. */
const RARE_REGION = 'ap-south-2';
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1'];
/** `kwargs:tenant=<one>`: every task has a tenant, one of TENANTS (so the key alone narrows nothing). */
const TENANTS = 2_000;
const RARE_TENANT = 'tenant-0042';

const TRACEBACK = (order: string): string => `Traceback (most recent call last):
  File "/usr/local/lib/python3.12/site-packages/celery/app/trace.py", line 453, in trace_task
    R = retval = fun(*args, **kwargs)
                 ^^^^^^^^^^^^^^^^^^^^
  File "/usr/local/lib/python3.12/site-packages/celery/app/trace.py", line 736, in __protected_call__
    return self.run(*args, **kwargs)
           ^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/srv/shop/shop/payments/tasks.py", line 88, in charge_card
    receipt = gateway.charge(order_id=order_id, amount=amount, currency=currency)
              ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/srv/shop/shop/payments/gateway.py", line 142, in charge
    response = self._session.post(self._url("/v2/charges"), json=payload, timeout=self.timeout)
               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/srv/shop/shop/payments/gateway.py", line 61, in _raise_for_status
    raise PaymentDeclined(f"card declined for {order_id}: {body['decline_code']}")
shop.payments.errors.PaymentDeclined: card declined for ${order}: insufficient_funds
`;

/** `count` finished (complete) tasks, spread over the week before `end`, oldest first. */
function syntheticTasks(first: number, count: number, total: number, end: number, next: () => number): TaskRecord[] {
  const tasks: TaskRecord[] = [];
  const start = end - WEEK_SECONDS;
  for (let i = first; i < first + count; i++) {
    let pick = next() * WEIGHT_SUM;
    let type = 0;
    while (type < TASK_TYPES.length - 1 && pick > (TYPE_WEIGHTS[type] as number)) pick -= TYPE_WEIGHTS[type++] as number;
    const { name, queue } = TASK_TYPES[type] as { name: string; queue: string };
    const roll = next();
    const state = roll < 0.03 ? 'FAILURE' : roll < 0.035 ? 'RETRY' : roll < 0.04 ? 'REVOKED' : roll < 0.045 ? 'STARTED' : 'SUCCESS';
    const order = `order-${String(Math.floor(next() * ORDER_IDS)).padStart(6, '0')}`;
    const tenant = `tenant-${String(Math.floor(next() * TENANTS)).padStart(4, '0')}`;
    const region = next() < 0.001 ? RARE_REGION : (REGIONS[Math.floor(next() * REGIONS.length)] as string);
    const task = new TaskRecord(uuidFrom(next));
    const sent = start + ((i + next()) / total) * WEEK_SECONDS;
    const received = sent + 0.002 + next() * 0.05;
    const started = received + 0.01 + next() * next() * 3;
    const runtime = 0.02 + next() * next() * next() * 20;
    task.name = name;
    task.state = state;
    task.sent = sent;
    task.received = received;
    task.client = `gen${1000 + (i % 16)}@web-${1 + (i % 3)}.prod.example.com`;
    task.worker = WORKERS[i % WORKERS.length] as string;
    task.args = `(${Math.floor(next() * 1e6)}, '${order}', 'customer-${Math.floor(next() * 1e5)}@example.com')`;
    task.kwargs = `{'tenant': '${tenant}', 'region': '${region}', 'priority': ${1 + Math.floor(next() * 9)}, 'source': 'checkout', 'dry_run': False}`;
    task.retries = state === 'RETRY' ? 1 + Math.floor(next() * 3) : 0;
    task.exchange = '';
    task.routingKey = queue;
    task.queue = queue;
    task.rootId = task.uuid;
    task.clock = i * 4;
    task.started = started;
    switch (state) {
      case 'SUCCESS':
        task.succeeded = started + runtime;
        task.runtime = runtime;
        task.result = `{'status': 'ok', 'order': '${order}', 'items': ${1 + Math.floor(next() * 30)}, 'total_cents': ${Math.floor(next() * 1e6)}}`;
        task.timestamp = task.succeeded;
        break;
      case 'FAILURE':
        task.failed = started + runtime;
        task.exception = `PaymentDeclined('card declined for ${order}: insufficient_funds')`;
        task.traceback = TRACEBACK(order);
        task.timestamp = task.failed;
        break;
      case 'RETRY':
        task.retried = started + runtime;
        task.exception = `Retry('gateway timeout for ${order}, retry in 60s')`;
        task.timestamp = task.retried;
        break;
      case 'REVOKED':
        task.revoked = started + runtime;
        task.terminated = true;
        task.signum = 'SIGTERM';
        task.timestamp = task.revoked;
        break;
      default:
        task.timestamp = started;
    }
    task.complete = true;
    tasks.push(task);
  }
  return tasks;
}

/** The aggregates the hot path would have counted for these tasks (server/store/trends.ts). */
function trendSamples(tasks: readonly TaskRecord[]): TrendSample[] {
  return tasks.map((task) => {
    const started = task.started as number;
    const sample: TrendSample = { at: task.received as number, name: task.name ?? '', queue: task.queue ?? '', received: 1, started: 1, waits: [started - (task.received as number)] };
    if (task.state === 'SUCCESS') return { ...sample, succeeded: 1, runtimes: [task.runtime as number] };
    if (task.state === 'FAILURE') return { ...sample, failed: 1, runtimes: [(task.failed as number) - started] };
    if (task.state === 'RETRY') return { ...sample, retried: 1 };
    if (task.state === 'REVOKED') return { ...sample, revoked: 1 };
    return sample;
  });
}

/** Fill `store` with `size` tasks through the store's own writes, FILL_CHUNK per transaction. */
interface Filled {
  seconds: number;
  taskSeconds: number;
  trendSeconds: number;
  emptyBytes: number;
  /** When (ISO time). */
  at: string;
}

async function fill(store: BenchStore, size: number): Promise<Filled> {
  const db = store.open();
  try {
    await migrate(db, MIGRATIONS);
    const emptyBytes = await store.bytesOnDisk();
    const trends = new Trends(db, createLogger('silent'));
    const next = random(10);
    const end = Date.now() / 1000;
    const t0 = performance.now();
    let lastReport = t0;
    let taskSeconds = 0;
    let trendSeconds = 0;
    for (let first = 0; first < size; first += FILL_CHUNK) {
      checkInterrupted();
      const tasks = syntheticTasks(first, Math.min(FILL_CHUNK, size - first), size, end, next);
      const updatedAt = tasks[tasks.length - 1]?.timestamp ?? end;
      const t1 = performance.now();
      await db.transaction((sql) => upsertTasks(sql, db.backend, tasks, updatedAt));
      const t2 = performance.now();
      await trends.insert(trendSamples(tasks));
      taskSeconds += (t2 - t1) / 1000;
      trendSeconds += (performance.now() - t2) / 1000;
      if (performance.now() - lastReport > 30_000) {
        lastReport = performance.now();
        console.log(`  … ${int(first + tasks.length)} tasks in ${((lastReport - t0) / 1000).toFixed(0)} s`);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    // What a PostgreSQL in service has done by itself after such a load: autovacuum's VACUUM
    // ANALYZE (statistics for the planner, the visibility map). Measured queries right after a
    // bulk load would otherwise be planned blind. (SQLite plans without statistics; Celeriac
    // runs no ANALYZE on it, so neither does the benchmark.)
    if (db.backend === 'postgresql') await db.runner.execute('VACUUM ANALYZE');
    return { seconds, taskSeconds, trendSeconds, emptyBytes, at: new Date().toISOString() };
  } finally {
    await db.close();
  }
}

interface Timing {
  p50: number;
  p95: number;
  max: number;
  /** What the answer said it matched (`total`, or the rows of Flower's dict). */
  matched: string;
  requests: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

/** Client-side wall time (request to the last byte) of `repeats` requests, one after another (fewer past the budget). */
async function timeRequests(base: string, route: string, repeats: number): Promise<Timing> {
  const times: number[] = [];
  let matched = '';
  const started = performance.now();
  for (let i = 0; i < repeats; i++) {
    checkInterrupted();
    if (i >= MIN_REPEATS && performance.now() - started > QUERY_BUDGET_SECONDS * 1000) break;
    const t0 = performance.now();
    const response = await fetch(`${base}${route}`);
    const body = await response.text();
    times.push(performance.now() - t0);
    if (response.status !== 200) throw new Error(`${route}: HTTP ${response.status}: ${body.slice(0, 300)}`);
    if (i === 0) matched = matchedOf(body);
    // A figure of memory's answer is no figure of the store's: the list says when memory answered.
    const note = historyNoteOf(body);
    if (note !== null) throw new Error(`${route}: answered from memory, not the store: ${note}`);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95), max: times[times.length - 1] as number, matched, requests: times.length };
}

/** The tasks list's `historyNote` (server/views/cluster-read-model.ts: why memory answered although a store keeps history), or null. */
function historyNoteOf(body: string): string | null {
  const parsed: unknown = JSON.parse(body);
  return parsed !== null && typeof parsed === 'object' && 'historyNote' in parsed && typeof parsed.historyNote === 'string' ? parsed.historyNote : null;
}

function matchedOf(body: string): string {
  const parsed: unknown = JSON.parse(body);
  if (parsed !== null && typeof parsed === 'object') {
    if ('total' in parsed && typeof parsed.total === 'number') return `${int(parsed.total)} (total)`;
    if ('tasks' in parsed && Array.isArray(parsed.tasks)) return `${parsed.tasks.length} rows`;
    if (Array.isArray(parsed)) return `${parsed.length} points`;
    return `${Object.keys(parsed).length} keys`;
  }
  return '';
}

/** The NDJSON export of every failure: wall time, rows, bytes, and the process's peak RSS while it streams. */
async function timeExport(celeriac: Celeriac, route: string): Promise<{ seconds: number; rows: number; bytes: number; peakRss: number }> {
  const pid = celeriac.child.pid as number;
  let peakRss = rssOf(pid);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssOf(pid));
  }, 50);
  try {
    const t0 = performance.now();
    const response = await fetch(`${celeriac.base}${route}`);
    if (response.status !== 200 || !response.body) throw new Error(`${route}: HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`);
    let rows = 0;
    let bytes = 0;
    const reader = response.body.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      bytes += chunk.value.byteLength;
      for (const byte of chunk.value) if (byte === 0x0a) rows++;
    }
    return { seconds: (performance.now() - t0) / 1000, rows, bytes, peakRss: Math.max(peakRss, rssOf(pid)) };
  } finally {
    clearInterval(sampler);
  }
}

async function queries(backend: StoreBackend, size: number): Promise<void> {
  const name = BACKEND_NAMES[backend];
  const reproduce = command(backend, 'queries', {
    ...(KEEP_DIR === undefined ? {} : { BENCH_STORE_KEEP: KEEP_DIR }),
    BENCH_STORE_SIZES: size,
    BENCH_QUERY_REPEATS: QUERY_REPEATS,
    BENCH_QUERY_BUDGET_SECONDS: QUERY_BUDGET_SECONDS,
  });
  console.log(`\n## ${name}: queries at ${int(size)} stored tasks`);
  console.log(`Command: ${reproduce}\n`);
  const keptDir = KEEP_DIR === undefined ? undefined : path.resolve(KEEP_DIR, `${backend}-${size}`);
  const keptFill = keptDir === undefined ? undefined : path.join(keptDir, 'fill.json');
  const reused = keptFill !== undefined && existsSync(keptFill) ? (JSON.parse(readFileSync(keptFill, 'utf8')) as Filled) : undefined;
  const store = await benchStore(backend, keptDir === undefined ? undefined : { dir: keptDir, database: `celeriac_bench_${size}`, fresh: reused === undefined });
  let running: Awaited<ReturnType<typeof startOn>> | null = null;
  try {
    const filled = reused ?? (await fill(store, size));
    if (keptFill !== undefined && reused === undefined) writeFileSync(keptFill, JSON.stringify(filled));
    if (reused) console.log(`(the store kept in ${keptDir} by the run of ${reused.at}: its fill's figures follow)`);
    console.log(
      `fill through upsertTasks (+ Trends.insert), ${int(FILL_CHUNK)} tasks per transaction: ${int(size)} tasks in ${filled.seconds.toFixed(1)} s = **${int(size / filled.seconds)} tasks/s** (the task rows' transactions ${filled.taskSeconds.toFixed(1)} s = ${int(size / filled.taskSeconds)} rows/s; the trend aggregates ${filled.trendSeconds.toFixed(1)} s; the rest generating the tasks)`,
    );
    const bytes = await store.bytesOnDisk();
    const rows = await store.countTasks();
    const what = backend === 'sqlite' ? 'file + WAL after a checkpoint' : 'pg_database_size';
    console.log(
      `bytes on disk (${what}): ${mib(bytes)} for ${int(rows)} rows = **${int((bytes - filled.emptyBytes) / rows)} B per stored task** (over the empty migrated store, ${(filled.emptyBytes / 1024).toFixed(0)} KiB; trend aggregates included)`,
    );

    running = await startOn(store, keptDir === undefined ? [] : ['--retention', '0', '--retention-failed', '0']);
    const { celeriac } = running;
    const pid = celeriac.child.pid as number;
    const restored = (await celeriac.status()).state.tasks;
    const rssStart = rssOf(pid);
    console.log(`RSS after start (restored ${int(restored)} tasks into memory): **${mib(rssStart)}**`);
    // The rows the fill left out of the search index (unfinished ones) are indexed once settled
    // (server/store/settled-index.ts): the searches are measured after that, as in service.
    const indexing = performance.now();
    let searchIndex = (await celeriac.status()).store?.searchIndex;
    while (!searchIndex?.caughtUp) {
      checkInterrupted();
      await sleep(1_000);
      searchIndex = (await celeriac.status()).store?.searchIndex;
    }
    console.log(`settled rows indexed for search after start: ${int(searchIndex.indexed)} in ${((performance.now() - indexing) / 1000).toFixed(0)} s (its first pass starts 10 s after start)`);

    const taskName = (TASK_TYPES[2] as { name: string }).name;
    // A stored task's id, as a user pastes its first 8 characters (the tasks list shows them).
    const someTask = (await (await fetch(`${celeriac.base}/api/celeriac/tasks?state=FAILURE&limit=1`)).json()) as { tasks: { uuid: string }[] };
    const idPrefix = someTask.tasks[0]?.uuid.slice(0, 8) ?? '00000000';
    const digits = RARE_ORDER.slice(RARE_ORDER.indexOf('-') + 1);
    const routes: { what: string; route: string }[] = [
      { what: 'every task, newest 50 (the tasks page as it opens)', route: '/api/celeriac/tasks?limit=50' },
      { what: 'failures, newest 20 (Flower API)', route: '/api/tasks?state=FAILURE&limit=20' },
      { what: 'one state (SUCCESS, most tasks), 50', route: '/api/celeriac/tasks?state=SUCCESS&limit=50' },
      { what: 'one task name, 50', route: `/api/celeriac/tasks?taskname=${taskName}&limit=50` },
      { what: 'one task name, deep page (offset 100,000)', route: `/api/celeriac/tasks?taskname=${taskName}&sort_by=-received&offset=100000&limit=50` },
      { what: `search \`args:${RARE_ORDER}\` (rare: ~1 in ${int(ORDER_IDS)})`, route: `/api/celeriac/tasks?search=${encodeURIComponent(`args:${RARE_ORDER}`)}&limit=50` },
      { what: `free-text search \`${RARE_REGION}\` (~0.1 %)`, route: `/api/celeriac/tasks?search=${encodeURIComponent(RARE_REGION)}&limit=50` },
      { what: `free-text search of a task name's part \`${taskName.split('.').at(-1)}\``, route: `/api/celeriac/tasks?search=${encodeURIComponent(taskName.split('.').at(-1) ?? '')}&limit=50` },
      { what: `free-text search of a task id's first 8 characters \`${idPrefix}\``, route: `/api/celeriac/tasks?search=${idPrefix}&limit=50` },
      { what: `free-text search of digits \`${digits}\` (in args, and possibly in task ids)`, route: `/api/celeriac/tasks?search=${digits}&limit=50` },
      {
        what: `search \`kwargs:tenant=${RARE_TENANT}\` (~1 in ${int(TENANTS)}; every task has the key)`,
        route: `/api/celeriac/tasks?search=${encodeURIComponent(`kwargs:tenant=${RARE_TENANT}`)}&limit=50`,
      },
      { what: 'trends, 24 hours', route: '/api/celeriac/trends?range=24h' },
      { what: 'trends, 7 days', route: '/api/celeriac/trends?range=7d' },
      { what: 'trends, 30 days', route: '/api/celeriac/trends?range=30d' },
    ];
    const target = p95TargetMs(size);
    console.log(`\n| query (${int(size)} tasks, ${name}) | matched | requests | p50 (ms) | p95 (ms) | max (ms) | p95 < ${target} ms |`);
    console.log('|---|---|---|---|---|---|---|');
    for (const { what, route } of routes) {
      try {
        const t = await timeRequests(celeriac.base, route, QUERY_REPEATS);
        console.log(`| ${what}: \`${route}\` | ${t.matched} | ${t.requests} | ${t.p50.toFixed(1)} | ${t.p95.toFixed(1)} | ${t.max.toFixed(1)} | ${t.p95 < target ? 'yes' : 'NO'} |`);
      } catch (error) {
        if (interrupted) throw error;
        console.log(`| ${what}: \`${route}\` | FAILED: ${error instanceof Error ? error.message : String(error)} | | | | | NO |`);
      }
    }
    console.log(
      `(${QUERY_REPEATS} requests each, one after another, client-side wall time to the last byte; a query stops repeating after ${QUERY_BUDGET_SECONDS} s, at least ${MIN_REPEATS} requests)`,
    );

    const exports = [
      { what: 'every failure', route: '/api/celeriac/tasks/export?format=ndjson&state=FAILURE' },
      { what: `a search matching many tasks (\`${taskName.split('.').at(-1)}\`)`, route: `/api/celeriac/tasks/export?format=ndjson&search=${encodeURIComponent(taskName.split('.').at(-1) ?? '')}` },
    ];
    for (const { what, route } of exports) {
      const runs: Awaited<ReturnType<typeof timeExport>>[] = [];
      for (let i = 0; i < 3; i++) runs.push(await timeExport(celeriac, route));
      const last = runs[runs.length - 1] as Awaited<ReturnType<typeof timeExport>>;
      const seconds = runs.map((r) => r.seconds).sort((a, b) => a - b);
      console.log(
        `\nNDJSON export of ${what} \`${route}\`: ${int(last.rows)} rows, ${mib(last.bytes)}, **${(seconds[1] as number).toFixed(2)} s** median of 3 (${(seconds[0] as number).toFixed(2)}–${(seconds[2] as number).toFixed(2)} s), ${int(last.rows / (seconds[1] as number))} rows/s; peak RSS while exporting **${mib(Math.max(...runs.map((r) => r.peakRss)))}** (${mib(rssStart)} at start)`,
      );
    }
    console.log(`RSS after the queries and exports: **${mib(rssOf(pid))}**`);
  } finally {
    await running?.stop();
    await store.remove();
  }
}

// --- 3. Retention cost while ingesting --------------------------------------------------------

/**
 * RETENTION COST WHILE INGESTING (issue 10: "the cost of retention deletes while ingesting"): a
 * store filled with a week of tasks, then one step at BENCH_RETENTION_RATE without
 * `--retention`, and one on a fresh process with `--retention BENCH_RETENTION`, which expires the
 * rows older than that while the step runs.
 */
async function retentionCost(backend: StoreBackend): Promise<void> {
  const name = BACKEND_NAMES[backend];
  const size = SIZES[0] ?? 1_000_000;
  console.log(`\n## ${name}: retention cost while ingesting`);
  console.log(`Command: ${command(backend, 'retention', { BENCH_STORE_SIZES: size, BENCH_RETENTION_RATE: RETENTION_RATE, BENCH_RETENTION: RETENTION, BENCH_STEP_SECONDS: STEP_SECONDS })}\n`);
  const store = await benchStore(backend);
  try {
    const filled = await fill(store, size);
    console.log(`filled ${int(size)} tasks over the last 7 days in ${filled.seconds.toFixed(1)} s\n`);
    console.log(stepHeader([`run (${STEP_SECONDS} s)`, 'rows at start', 'rows at the end']));
    for (const args of [[], ['--retention', RETENTION]]) {
      const rowsBefore = await store.countTasks();
      const running = await startOn(store, args);
      try {
        const s = await storeStep(store, running, RETENTION_RATE);
        const expired = args.length > 0;
        const verdict = judge(RETENTION_RATE, s);
        const rowsAfter = await store.countTasks();
        console.log(`| ${expired ? `--retention ${RETENTION}` : 'no retention'} | ${int(rowsBefore)} | ${int(rowsAfter)} ${stepRow(RETENTION_RATE, s, verdict.result)}`);
      } finally {
        await running.stop();
      }
    }
    console.log('(rows at start and at the end: the whole store; with --retention the old ones expire during the step)');
  } finally {
    await store.remove();
  }
}

async function main(): Promise<void> {
  console.log(`# Celeriac store benchmark — ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} CPUs`);
  console.log(`backends ${BACKENDS.join(',')}; parts ${PARTS.join(',')}; sizes ${SIZES.join(',')}; rates ${RATES.join(',')}; ${STEP_SECONDS} s steps`);
  for (const backend of BACKENDS) {
    if (PARTS.includes('ingest')) await ingest(backend);
    if (PARTS.includes('queries')) for (const size of SIZES) await queries(backend, size);
    if (PARTS.includes('retention')) await retentionCost(backend);
  }
}

try {
  await main();
} catch (error) {
  if (!interrupted) throw error;
  // The signal handler is stopping and removing what was started; it exits when done.
  await new Promise(() => undefined);
}
process.exit(0);
