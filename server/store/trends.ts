/**
 * Trends: per-minute aggregates by task name and queue — tasks finished by outcome, received and
 * started counts, runtime and queue-wait histograms (./trend-histogram.ts) — and per-minute queue
 * lengths, kept far longer than tasks themselves, with roll-ups a quarter-hour, an hour and six
 * hours long, so that each range reads rows one step long (at most 168 per name and queue).
 *
 * The hot path (`taskChanged`, fed by server/wiring.ts) costs a few Map lookups and increments:
 * the open minutes are kept in memory as cells, one per (minute, name, queue), and every few
 * seconds (and on close) written as ADDITIVE upserts (`count = count + excluded.count`) into the
 * minute table and its roll-ups (TIERS below). So two flushes of one minute, or a restart in the
 * middle of one, add up exactly; and the merge lives in the upsert, which the SQLite writer thread
 * (it cannot read) can run. A failed write keeps its cells (bounded) and is tried again on the next flush.
 *
 * A transition is counted once: taskChanged fires on every event, duplicates and late ones too,
 * and only an event that moved the task's state (the state before it is passed in) counts.
 *
 * With `--store memory` the same tables live in an in-memory SQLite database, bounded to the last
 * 24 hours (`Trends.inMemory`), so both modes answer through one code path.
 */
import { powerOfTwoChunks } from './chunks';
import type { Logger } from 'pino';
import { errorText } from '../errors';
import type { TaskEvent } from '../protocol/events';
import type { TaskRecord } from '../state/task-record';
import { migrate, type SqlRunner, type SqlValue, type StoreDatabase } from './migrate';
import { MIGRATIONS } from './schema';
import { SqliteDatabase } from './sqlite';
import { bucketOf, HISTOGRAM_BUCKETS } from './trend-histogram';

/** The task aggregates' resolutions: each a pair of tables (counts, histogram buckets), rows `seconds` long. */
const TIERS = {
  minute: { seconds: 60, counts: 'trend_minutes', buckets: 'trend_minute_buckets', time: 'minute' },
  quarter: { seconds: 900, counts: 'trend_quarters', buckets: 'trend_quarter_buckets', time: 'quarter' },
  hour: { seconds: 3_600, counts: 'trend_hours', buckets: 'trend_hour_buckets', time: 'hour' },
  six_hours: { seconds: 21_600, counts: 'trend_six_hours', buckets: 'trend_six_hour_buckets', time: 'six_hour' },
} as const;
export type TrendResolution = keyof typeof TIERS;
const TIER_NAMES = Object.keys(TIERS) as TrendResolution[];

/** Queue lengths: few rows (one per queue and step), so minutes and hours serve every range. */
const QUEUE_TIERS = {
  minute: { seconds: 60, table: 'queue_minutes', time: 'minute' },
  hour: { seconds: 3_600, table: 'queue_hours', time: 'hour' },
} as const;
export type QueueResolution = keyof typeof QUEUE_TIERS;

/**
 * Every table this module writes, the column that holds its time (epoch seconds) and its rows'
 * length: retention keeps each by its time column (./retention.ts, AggregateTable).
 */
export const TREND_TABLES: readonly { table: string; timeColumn: string; seconds: number }[] = [
  ...Object.values(TIERS).flatMap(({ counts, buckets, time, seconds }) => [
    { table: counts, timeColumn: time, seconds },
    { table: buckets, timeColumn: time, seconds },
  ]),
  ...Object.values(QUEUE_TIERS).map(({ table, time, seconds }) => ({ table, timeColumn: time, seconds })),
];

/** The counters of one cell, in the order of the tables' columns. */
const COUNT_COLUMNS = ['received', 'started', 'succeeded', 'failed', 'retried', 'revoked', 'rejected', 'runtime_count', 'runtime_sum', 'wait_count', 'wait_sum'] as const;

/** Histogram kinds, as stored in the bucket tables' `kind` column. */
export const RUNTIME = 0;
export const WAIT = 1;

/** The task states a transition into is counted, and the cell field each one bumps. */
const COUNTED_STATES: ReadonlySet<string> = new Set(['RECEIVED', 'STARTED', 'SUCCESS', 'FAILURE', 'RETRY', 'REVOKED', 'REJECTED']);

/** A duration as counted: negative (clock skew between hosts) and non-finite ones as 0. */
function duration(seconds: number): number {
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
}

/** One (minute, name, queue)'s counts and histograms, as accumulated between two flushes. */
class TrendCell {
  received = 0;
  started = 0;
  succeeded = 0;
  failed = 0;
  retried = 0;
  revoked = 0;
  rejected = 0;
  runtimeCount = 0;
  runtimeSum = 0;
  waitCount = 0;
  waitSum = 0;
  readonly runtime = new Uint32Array(HISTOGRAM_BUCKETS);
  readonly wait = new Uint32Array(HISTOGRAM_BUCKETS);

  addRuntime(seconds: number): void {
    const value = duration(seconds);
    this.runtimeCount++;
    this.runtimeSum += value;
    const bucket = bucketOf(value);
    this.runtime[bucket] = (this.runtime[bucket] ?? 0) + 1;
  }

  addWait(seconds: number): void {
    const value = duration(seconds);
    this.waitCount++;
    this.waitSum += value;
    const bucket = bucketOf(value);
    this.wait[bucket] = (this.wait[bucket] ?? 0) + 1;
  }

  addFrom(other: TrendCell): void {
    this.received += other.received;
    this.started += other.started;
    this.succeeded += other.succeeded;
    this.failed += other.failed;
    this.retried += other.retried;
    this.revoked += other.revoked;
    this.rejected += other.rejected;
    this.runtimeCount += other.runtimeCount;
    this.runtimeSum += other.runtimeSum;
    this.waitCount += other.waitCount;
    this.waitSum += other.waitSum;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      this.runtime[i] = (this.runtime[i] as number) + (other.runtime[i] as number);
      this.wait[i] = (this.wait[i] as number) + (other.wait[i] as number);
    }
  }

  counts(): number[] {
    return [this.received, this.started, this.succeeded, this.failed, this.retried, this.revoked, this.rejected, this.runtimeCount, this.runtimeSum, this.waitCount, this.waitSum];
  }
}

/** One queue's lengths within one minute: the largest polled and the last (by poll time). */
interface QueueCell {
  max: number;
  last: number;
  lastAt: number;
}

type Cells = Map<number, Map<string, Map<string, TrendCell>>>;
type QueueCells = Map<number, Map<string, QueueCell>>;

/**
 * Aggregates to insert as they are (tests, the e2e, imports): `at` is any epoch second inside the
 * minute; counts default to 0; `runtimes`/`waits` are durations in seconds, one per task.
 */
export interface TrendSample {
  at: number;
  name: string;
  queue?: string;
  received?: number;
  started?: number;
  succeeded?: number;
  failed?: number;
  retried?: number;
  revoked?: number;
  rejected?: number;
  runtimes?: readonly number[];
  waits?: readonly number[];
}

export interface TrendQuery {
  /** [from, to) in epoch seconds, multiples of `step`. */
  from: number;
  to: number;
  /** Seconds per returned bucket: a multiple of the resolution's rows' length. */
  step: number;
  resolution: TrendResolution;
  name: string | null;
  queue: string | null;
}

/** Summed counters (the columns of COUNT_COLUMNS, camel-cased). */
export interface TrendCounts {
  received: number;
  started: number;
  succeeded: number;
  failed: number;
  retried: number;
  revoked: number;
  rejected: number;
  runtimeCount: number;
  runtimeSum: number;
  waitCount: number;
  waitSum: number;
}

/** One step of a series: its start, the counters, and the merged histograms (bucket → count). */
export interface TrendBucket extends TrendCounts {
  t: number;
  runtime: Map<number, number>;
  wait: Map<number, number>;
}

/** One task name over a range: the counters and its merged runtime histogram. */
export interface TrendNameRow extends TrendCounts {
  name: string;
  runtime: Map<number, number>;
}

export interface QueueHistoryQuery {
  from: number;
  to: number;
  step: number;
  resolution: QueueResolution;
  queue: string | null;
}

/** One step of queue history: per queue, the largest and the last length polled in it. */
export interface QueueHistoryPoint {
  t: number;
  queues: Record<string, { max: number; last: number }>;
}

export interface TrendsStatus {
  /** Cells (minute × name × queue) waiting to be written. */
  pending: number;
  /** Cells written since start. */
  written: number;
  /** Cells dropped because the store was failing longer than the bound allows. */
  dropped: number;
  failures: number;
  lastError: string | null;
  /** Only what this process has seen, kept in memory this long (seconds); null when stored durably. */
  memoryOnlySeconds: number | null;
}

export interface TrendsOptions {
  /** How often the open minutes are written (the SIGKILL loss bound). */
  intervalMs?: number;
  /** Cells kept while the store is failing; past it the oldest minutes are dropped and counted. */
  maxPendingCells?: number;
  /** Delete what is older than this many seconds after every write (the in-memory store's bound). */
  keepSeconds?: number | null;
  /** `close()` closes the database too (the in-memory one is this object's own). */
  ownsDatabase?: boolean;
  now?: () => number;
}

/** Rows per multi-row upsert: a chunk is a power of two no larger, so few statement texts repeat. */
const MAX_CHUNK = 128;

/** The start of the `length`-second row that holds `seconds`. */
function startOf(seconds: number, length: number): number {
  return Math.floor(seconds / length) * length;
}

function minuteOf(seconds: number): number {
  return startOf(seconds, 60);
}

/** A summed column as read back (PostgreSQL gives SUM of a BIGINT as a string). */
function num(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : 0;
  return Number.isFinite(n) ? n : 0;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function countsOf(row: Record<string, unknown>): TrendCounts {
  return {
    received: num(row.received),
    started: num(row.started),
    succeeded: num(row.succeeded),
    failed: num(row.failed),
    retried: num(row.retried),
    revoked: num(row.revoked),
    rejected: num(row.rejected),
    runtimeCount: num(row.runtime_count),
    runtimeSum: num(row.runtime_sum),
    waitCount: num(row.wait_count),
    waitSum: num(row.wait_sum),
  };
}

export function emptyCounts(): TrendCounts {
  return { received: 0, started: 0, succeeded: 0, failed: 0, retried: 0, revoked: 0, rejected: 0, runtimeCount: 0, runtimeSum: 0, waitCount: 0, waitSum: 0 };
}

/** `INSERT … VALUES (…), (…) ON CONFLICT (key) DO UPDATE SET …` for `rows` rows of `columns`. */
function upsertStatement(table: string, columns: readonly string[], key: readonly string[], update: string, rows: number): string {
  const values: string[] = [];
  for (let row = 0; row < rows; row++) values.push(`(${columns.map((_c, i) => `$${row * columns.length + i + 1}`).join(', ')})`);
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')} ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${update}`;
}

/** Run one multi-row upsert per chunk of `rows` (./chunks.ts). */
async function upsertRows(sql: SqlRunner, statement: (rows: number) => string, rows: readonly SqlValue[][]): Promise<void> {
  for (const chunk of powerOfTwoChunks(rows, MAX_CHUNK)) await sql.execute(statement(chunk.length), chunk.flat());
}

function countsUpsert(table: string, time: string): (rows: number) => string {
  const update = COUNT_COLUMNS.map((c) => `${c} = ${table}.${c} + excluded.${c}`).join(', ');
  return (rows) => upsertStatement(table, [time, 'name', 'queue', ...COUNT_COLUMNS], [time, 'name', 'queue'], update, rows);
}

function bucketsUpsert(table: string, time: string): (rows: number) => string {
  return (rows) => upsertStatement(table, [time, 'name', 'queue', 'kind', 'bucket', 'count'], [time, 'name', 'queue', 'kind', 'bucket'], `count = ${table}.count + excluded.count`, rows);
}

function queueUpsert(table: string, time: string): (rows: number) => string {
  // Portable max and "latest poll wins": CASE rather than MAX()/GREATEST(), which differ per backend.
  const update = [
    `max_length = CASE WHEN excluded.max_length > ${table}.max_length THEN excluded.max_length ELSE ${table}.max_length END`,
    `last_length = CASE WHEN excluded.last_at >= ${table}.last_at THEN excluded.last_length ELSE ${table}.last_length END`,
    `last_at = CASE WHEN excluded.last_at >= ${table}.last_at THEN excluded.last_at ELSE ${table}.last_at END`,
  ].join(', ');
  return (rows) => upsertStatement(table, [time, 'queue', 'max_length', 'last_length', 'last_at'], [time, 'queue'], update, rows);
}

const STATEMENTS = Object.fromEntries(
  TIER_NAMES.map((tier) => {
    const { counts, buckets, time } = TIERS[tier];
    return [tier, { counts: countsUpsert(counts, time), buckets: bucketsUpsert(buckets, time) }];
  }),
) as Record<TrendResolution, { counts: (rows: number) => string; buckets: (rows: number) => string }>;
const QUEUE_STATEMENTS: Record<QueueResolution, (rows: number) => string> = {
  minute: queueUpsert(QUEUE_TIERS.minute.table, QUEUE_TIERS.minute.time),
  hour: queueUpsert(QUEUE_TIERS.hour.table, QUEUE_TIERS.hour.time),
};

export class Trends {
  private cells: Cells = new Map();
  private queueCells: QueueCells = new Map();
  private cellCount = 0;
  /** The last minute the hot path touched, and its names (most events fall in the current minute). */
  private lastMinute = Number.NaN;
  private lastNames: Map<string, Map<string, TrendCell>> | null = null;
  private readonly intervalMs: number;
  private readonly maxPendingCells: number;
  private readonly keepSeconds: number | null;
  private readonly ownsDatabase: boolean;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private readonly counters = { written: 0, dropped: 0, failures: 0 };
  private lastError: string | null = null;

  constructor(
    private readonly db: StoreDatabase,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
    options: TrendsOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 5_000;
    // A cell holds two dense histograms (about 1.7 kB): 20,000 cells are about 35 MB, hours of an outage for a hundred task names.
    this.maxPendingCells = options.maxPendingCells ?? 20_000;
    this.keepSeconds = options.keepSeconds ?? null;
    this.ownsDatabase = options.ownsDatabase ?? false;
    this.now = options.now ?? (() => Date.now() / 1000);
  }

  /** Trends of this process only, in an in-memory SQLite database, bounded to the last 24 hours (`--store memory`). */
  static async inMemory(logger: Pick<Logger, 'warn' | 'info'>, options: TrendsOptions = {}): Promise<Trends> {
    const db = new SqliteDatabase(':memory:');
    await migrate(db, MIGRATIONS);
    return new Trends(db, logger, { keepSeconds: 86_400, ownsDatabase: true, ...options });
  }

  // --- Intake ------------------------------------------------------------------------------

  /**
   * Hot path: count the transition `event` made, if it made one (the state moved from
   * `previousState`), into the minute Celeriac received it in.
   */
  taskChanged(task: TaskRecord, event: TaskEvent, previousState: string): void {
    const state = task.state;
    if (state === previousState || !COUNTED_STATES.has(state)) return;
    const cell = this.cell(minuteOf(event.localReceived), task.name ?? '', task.queue ?? '');
    switch (state) {
      case 'RECEIVED':
        cell.received++;
        break;
      case 'STARTED': {
        cell.started++;
        const since = task.received ?? task.sent;
        if (since !== null && task.started !== null) cell.addWait(task.started - since);
        break;
      }
      case 'SUCCESS':
        cell.succeeded++;
        if (task.runtime !== null) cell.addRuntime(task.runtime);
        break;
      case 'FAILURE':
        cell.failed++;
        // Celery's task-failed carries no runtime: time from start to failure.
        if (task.failed !== null && task.started !== null) cell.addRuntime(task.failed - task.started);
        break;
      case 'RETRY':
        cell.retried++;
        break;
      case 'REVOKED':
        cell.revoked++;
        break;
      default:
        cell.rejected++;
        break;
    }
  }

  /** One queue poll's lengths: the minute's largest and last. */
  queuesPolled(at: number, queues: Iterable<{ name: string; messages: number }>): void {
    const minute = minuteOf(at);
    let byQueue = this.queueCells.get(minute);
    if (!byQueue) {
      byQueue = new Map();
      this.queueCells.set(minute, byQueue);
    }
    for (const { name, messages } of queues) mergeQueue(byQueue, name, { max: messages, last: messages, lastAt: at });
  }

  /** Add aggregates with the times they carry, through the same cells and writes as the hot path; resolves once written. */
  async insert(samples: readonly TrendSample[]): Promise<void> {
    for (const sample of samples) {
      const cell = this.cell(minuteOf(sample.at), sample.name, sample.queue ?? '');
      cell.received += sample.received ?? 0;
      cell.started += sample.started ?? 0;
      cell.succeeded += sample.succeeded ?? 0;
      cell.failed += sample.failed ?? 0;
      cell.retried += sample.retried ?? 0;
      cell.revoked += sample.revoked ?? 0;
      cell.rejected += sample.rejected ?? 0;
      for (const seconds of sample.runtimes ?? []) cell.addRuntime(seconds);
      for (const seconds of sample.waits ?? []) cell.addWait(seconds);
    }
    await this.flush();
    if (this.lastError !== null) throw new Error(`trends not written: ${this.lastError}`);
  }

  /** Add polled queue lengths with the times they carry (tests, the e2e), through the same writes as the poller's; resolves once written. */
  async insertQueueLengths(samples: readonly { at: number; queue: string; messages: number }[]): Promise<void> {
    for (const sample of samples) this.queuesPolled(sample.at, [{ name: sample.queue, messages: sample.messages }]);
    await this.flush();
    if (this.lastError !== null) throw new Error(`queue lengths not written: ${this.lastError}`);
  }

  private cell(minute: number, name: string, queue: string): TrendCell {
    let names = minute === this.lastMinute ? this.lastNames : this.cells.get(minute);
    if (!names) {
      names = new Map();
      this.cells.set(minute, names);
    }
    this.lastMinute = minute;
    this.lastNames = names;
    let queues = names.get(name);
    if (!queues) {
      queues = new Map();
      names.set(name, queues);
    }
    let cell = queues.get(queue);
    if (!cell) {
      cell = new TrendCell();
      queues.set(queue, cell);
      if (++this.cellCount > this.maxPendingCells) this.dropOldestMinute();
    }
    return cell;
  }

  private dropOldestMinute(): void {
    let oldest = Number.POSITIVE_INFINITY;
    for (const minute of this.cells.keys()) oldest = Math.min(oldest, minute);
    const names = this.cells.get(oldest);
    if (!names) return;
    let cells = 0;
    for (const queues of names.values()) cells += queues.size;
    this.cells.delete(oldest);
    this.cellCount -= cells;
    this.counters.dropped += cells;
    if (oldest === this.lastMinute) this.lastMinute = Number.NaN;
  }

  // --- Writes ------------------------------------------------------------------------------

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** Write the open minutes now (one flush at a time; a caller during one waits for it and the next). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.cellCount === 0 && this.queueCells.size === 0) return Promise.resolve();
    this.flushing = this.writePending().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    const cells = this.cells;
    const queueCells = this.queueCells;
    const cellCount = this.cellCount;
    this.cells = new Map();
    this.queueCells = new Map();
    this.cellCount = 0;
    this.lastMinute = Number.NaN;
    this.lastNames = null;
    try {
      await this.db.transaction(async (sql) => {
        for (const tier of TIER_NAMES) await writeCells(sql, tier, tier === 'minute' ? cells : rollUp(cells, TIERS[tier].seconds));
        await writeQueues(sql, 'minute', queueCells);
        await writeQueues(sql, 'hour', rollUpQueues(queueCells));
        if (this.keepSeconds !== null) await this.prune(sql);
      });
      this.counters.written += cellCount;
      if (this.lastError !== null) this.logger.info({ failures: this.counters.failures }, 'the store takes trend writes again');
      this.lastError = null;
    } catch (error) {
      this.counters.failures++;
      const message = errorText(error);
      if (message !== this.lastError) this.logger.warn({ err: message, cells: cellCount }, 'trends not written; they stay in memory (bounded) and are written when the store is back');
      this.lastError = message;
      // Put them back under what arrived meanwhile: cells add up, so the order does not matter.
      for (const [minute, names] of cells) for (const [name, queues] of names) for (const [queue, cell] of queues) this.cell(minute, name, queue).addFrom(cell);
      for (const [minute, byQueue] of queueCells) {
        let current = this.queueCells.get(minute);
        if (!current) {
          current = new Map();
          this.queueCells.set(minute, current);
        }
        for (const [queue, cell] of byQueue) mergeQueue(current, queue, cell);
      }
    }
  }

  private async prune(sql: SqlRunner): Promise<void> {
    const keep = this.keepSeconds ?? 0;
    const cutoff = this.now() - keep;
    for (const { table, timeColumn, seconds } of TREND_TABLES) {
      // A roll-up's rows are kept one row longer, so the one that holds the oldest kept minutes is whole.
      await sql.execute(`DELETE FROM ${table} WHERE ${timeColumn} < $1`, [seconds === 60 ? minuteOf(cutoff) : startOf(cutoff, seconds) - seconds]);
    }
  }

  status(): TrendsStatus {
    return { pending: this.cellCount, ...this.counters, lastError: this.lastError, memoryOnlySeconds: this.keepSeconds };
  }

  /** Stop the timer and write the open minutes (SIGTERM loses nothing the store takes). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** `stop`, then close the database when this object owns it (the in-memory one). */
  async close(): Promise<void> {
    await this.stop();
    if (this.ownsDatabase) await this.db.close();
  }

  // --- Reads (what was written, and what is pending: it is written first) ----------------------

  /** Counters and merged histograms per step of [from, to). */
  async series(query: TrendQuery): Promise<TrendBucket[]> {
    await this.flush();
    const { counts, buckets, time } = TIERS[query.resolution];
    const { where, params } = filters(time, query);
    const step = Math.trunc(query.step);
    const sums = COUNT_COLUMNS.map((c) => `SUM(${c}) AS ${c}`).join(', ');
    const rows = await this.db.readRunner.rows(`SELECT (${time} / ${step}) * ${step} AS t, ${sums} FROM ${counts} WHERE ${where} GROUP BY 1 ORDER BY 1`, params);
    const byT = new Map<number, TrendBucket>();
    for (const row of rows) {
      const t = num(row.t);
      byT.set(t, { t, ...countsOf(row), runtime: new Map(), wait: new Map() });
    }
    const histogramRows = await this.db.readRunner.rows(`SELECT (${time} / ${step}) * ${step} AS t, kind, bucket, SUM(count) AS count FROM ${buckets} WHERE ${where} GROUP BY 1, 2, 3`, params);
    for (const row of histogramRows) {
      const point = byT.get(num(row.t));
      if (!point) continue;
      (num(row.kind) === RUNTIME ? point.runtime : point.wait).set(num(row.bucket), num(row.count));
    }
    return [...byT.values()];
  }

  /** Per task name over [from, to) (the step is ignored): counters and the merged runtime histogram. */
  async byName(query: TrendQuery): Promise<TrendNameRow[]> {
    await this.flush();
    const { counts, buckets, time } = TIERS[query.resolution];
    const { where, params } = filters(time, { ...query, name: null });
    const sums = COUNT_COLUMNS.map((c) => `SUM(${c}) AS ${c}`).join(', ');
    const rows = await this.db.readRunner.rows(`SELECT name, ${sums} FROM ${counts} WHERE ${where} GROUP BY name`, params);
    const byName = new Map<string, TrendNameRow>();
    for (const row of rows) {
      const name = text(row.name);
      byName.set(name, { name, ...countsOf(row), runtime: new Map() });
    }
    const histogramRows = await this.db.readRunner.rows(`SELECT name, bucket, SUM(count) AS count FROM ${buckets} WHERE ${where} AND kind = ${RUNTIME} GROUP BY name, bucket`, params);
    for (const row of histogramRows) byName.get(text(row.name))?.runtime.set(num(row.bucket), num(row.count));
    return [...byName.values()];
  }

  /** Queue lengths per step of [from, to): the largest and the last polled, per queue. */
  async queueHistory(query: QueueHistoryQuery): Promise<QueueHistoryPoint[]> {
    await this.flush();
    const { table: queues, time } = QUEUE_TIERS[query.resolution];
    const params: SqlValue[] = [query.from, query.to];
    let where = `${time} >= $1 AND ${time} < $2`;
    if (query.queue !== null) {
      params.push(query.queue);
      where += ' AND queue = $3';
    }
    const rows = await this.db.readRunner.rows(`SELECT ${time} AS t, queue, max_length, last_length, last_at FROM ${queues} WHERE ${where} ORDER BY ${time}`, params);
    const points = new Map<number, { t: number; queues: Map<string, QueueCell> }>();
    for (const row of rows) {
      const t = Math.floor(num(row.t) / query.step) * query.step;
      let point = points.get(t);
      if (!point) {
        point = { t, queues: new Map() };
        points.set(t, point);
      }
      mergeQueue(point.queues, text(row.queue), { max: num(row.max_length), last: num(row.last_length), lastAt: num(row.last_at) });
    }
    return [...points.values()].map(({ t, queues: byQueue }) => ({ t, queues: Object.fromEntries([...byQueue].map(([name, cell]) => [name, { max: cell.max, last: cell.last }])) }));
  }
}

function filters(time: string, query: Pick<TrendQuery, 'from' | 'to' | 'name' | 'queue'>): { where: string; params: SqlValue[] } {
  const params: SqlValue[] = [query.from, query.to];
  const clauses = [`${time} >= $1`, `${time} < $2`];
  if (query.name !== null) {
    params.push(query.name);
    clauses.push(`name = $${params.length}`);
  }
  if (query.queue !== null) {
    params.push(query.queue);
    clauses.push(`queue = $${params.length}`);
  }
  return { where: clauses.join(' AND '), params };
}

function mergeQueue(into: Map<string, QueueCell>, queue: string, cell: QueueCell): void {
  const current = into.get(queue);
  if (!current) {
    into.set(queue, { ...cell });
    return;
  }
  current.max = Math.max(current.max, cell.max);
  if (cell.lastAt >= current.lastAt) {
    current.last = cell.last;
    current.lastAt = cell.lastAt;
  }
}

/** The minutes' cells summed per `length`-second row (one upsert row each: a multi-row upsert may not touch a row twice). */
function rollUp(cells: Cells, length: number): Cells {
  const rows: Cells = new Map();
  for (const [minute, names] of cells) {
    const start = startOf(minute, length);
    let rowNames = rows.get(start);
    if (!rowNames) {
      rowNames = new Map();
      rows.set(start, rowNames);
    }
    for (const [name, queues] of names) {
      let rowQueues = rowNames.get(name);
      if (!rowQueues) {
        rowQueues = new Map();
        rowNames.set(name, rowQueues);
      }
      for (const [queue, cell] of queues) {
        let rowCell = rowQueues.get(queue);
        if (!rowCell) {
          rowCell = new TrendCell();
          rowQueues.set(queue, rowCell);
        }
        rowCell.addFrom(cell);
      }
    }
  }
  return rows;
}

function rollUpQueues(cells: QueueCells): QueueCells {
  const hours: QueueCells = new Map();
  for (const [minute, byQueue] of cells) {
    const hour = startOf(minute, QUEUE_TIERS.hour.seconds);
    let current = hours.get(hour);
    if (!current) {
      current = new Map();
      hours.set(hour, current);
    }
    for (const [queue, cell] of byQueue) mergeQueue(current, queue, cell);
  }
  return hours;
}

async function writeCells(sql: SqlRunner, resolution: TrendResolution, cells: Cells): Promise<void> {
  const countRows: SqlValue[][] = [];
  const bucketRows: SqlValue[][] = [];
  for (const [time, names] of cells) {
    for (const [name, queues] of names) {
      for (const [queue, cell] of queues) {
        countRows.push([time, name, queue, ...cell.counts()]);
        for (let bucket = 0; bucket < HISTOGRAM_BUCKETS; bucket++) {
          const runtime = cell.runtime[bucket] as number;
          if (runtime > 0) bucketRows.push([time, name, queue, RUNTIME, bucket, runtime]);
          const wait = cell.wait[bucket] as number;
          if (wait > 0) bucketRows.push([time, name, queue, WAIT, bucket, wait]);
        }
      }
    }
  }
  await upsertRows(sql, STATEMENTS[resolution].counts, countRows);
  await upsertRows(sql, STATEMENTS[resolution].buckets, bucketRows);
}

async function writeQueues(sql: SqlRunner, resolution: QueueResolution, cells: QueueCells): Promise<void> {
  const rows: SqlValue[][] = [];
  for (const [time, byQueue] of cells) for (const [queue, cell] of byQueue) rows.push([time, queue, cell.max, cell.last, cell.lastAt]);
  await upsertRows(sql, QUEUE_STATEMENTS[resolution], rows);
}
