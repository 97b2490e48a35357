/**
 * Retention: deletes expired rows in the background, in small batches, so ingest never waits on
 * it. Each policy names a table, its time column and an age (`--retention` for tasks,
 * `--retention-failed` for FAILURE tasks, `--retention-aggregates` for the trend tables); a table
 * joins by adding a policy, no new code. Past `--store-max-size`, the least recently changed
 * tasks go first until the store is under the cap.
 *
 * Every batch is one DELETE in a transaction of its own, on SQLite on the writer thread (the one
 * writer: the change writer's flushes take turns with the batches), on PostgreSQL through the
 * pool; the runner pauses between batches. A batch is sized by its time, not a fixed count: how
 * long a row takes to delete varies a hundredfold (SQLite while ingest writes, with every index and
 * the search index of each row, takes ~2 ms; PostgreSQL idle, microseconds), and a batch holds
 * the writer for as long as it runs. So each batch takes as many rows as the last one's pace
 * fits in `batchTargetMs`, within `batchRows`. A failing run is
 * logged once, said in the status, and tried again on the next interval; it never throws.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { errorText } from '../errors';
import type { StoreDatabase } from './migrate';
import { checkedIdentifier, measureSize, unanalysedTables, type StoreSize } from './store-size';

export interface RetentionPolicy {
  /** Names the policy in the status and in celeriac_store_retention_deleted_total{policy}. */
  readonly name: string;
  readonly table: string;
  /** Epoch seconds, indexed: rows older than `maxAgeSeconds` by it are deleted. */
  readonly timeColumn: string;
  /** 0 keeps the rows forever (the policy does nothing). */
  readonly maxAgeSeconds: number;
  /** Further SQL condition on the rows the policy covers (e.g. `state = 'FAILURE'`), from code only. */
  readonly where?: string;
}

/** A table of trend aggregates (the trends module exports a list of them as TREND_TABLES). */
export interface AggregateTable {
  readonly table: string;
  readonly timeColumn: string;
}

export interface RetentionAges {
  tasksSeconds: number;
  failedSeconds: number;
  aggregatesSeconds: number;
}

/** Past this fraction of the cap, PostgreSQL's size estimate is confirmed with exact row counts. */
const PG_COUNT_ABOVE = 0.9;

/** The policy name under which the size cap's deletes are counted. */
export const SIZE_CAP_POLICY = 'size_cap';

/** Tasks by --retention, failures by --retention-failed, each aggregate table by --retention-aggregates. */
export function standardPolicies(ages: RetentionAges, aggregateTables: readonly AggregateTable[] = []): RetentionPolicy[] {
  return [
    { name: 'tasks', table: 'tasks', timeColumn: 'updated_at', maxAgeSeconds: ages.tasksSeconds, where: "state <> 'FAILURE'" },
    { name: 'tasks_failed', table: 'tasks', timeColumn: 'updated_at', maxAgeSeconds: ages.failedSeconds, where: "state = 'FAILURE'" },
    ...aggregateTables.map(({ table, timeColumn }) => ({ name: table, table, timeColumn, maxAgeSeconds: ages.aggregatesSeconds })),
  ];
}

export interface RetentionOptions {
  policies: readonly RetentionPolicy[];
  /** --store-max-size in bytes; null: no cap. */
  maxSizeBytes: number | null;
  /** Tables whose size counts towards the cap (PostgreSQL measures per table). */
  sizeTables: readonly string[];
  /** The most rows one DELETE (one transaction) takes. */
  batchRows?: number;
  /** How long one DELETE should hold the writer (ms): the next batch's rows follow the last one's pace. */
  batchTargetMs?: number;
  /** Pause between two batches, so the change writer's flushes get their turn. */
  pauseMs?: number;
  /**
   * How much ingest is writing, asked between batches, so deletes never hold up the live writes
   * (on SQLite they take turns on its one writer) yet still make progress under a sustained load:
   * - `behind` (changes wait beyond one flush): retention waits for ingest, up to MAX_YIELD_MS;
   * - `active` (changes wait to be written): after each batch retention pauses ACTIVE_PAUSE_FACTOR
   *   times as long as the batch took, so it takes at most a quarter of the writer's time;
   * - `idle`: only `pauseMs`.
   */
  ingest?: () => IngestLoad;
  /** The clock batches are timed by (ms) and the pause (tests count the pauses). */
  clock?: { now(): number; sleep(ms: number): Promise<void> };
  /** Batches one policy may run per run; the rest waits for the next run. */
  maxBatchesPerRun?: number;
  firstRunMs?: number;
  intervalMs?: number;
  now?: () => number;
}

export type IngestLoad = 'idle' | 'active' | 'behind';

export interface RetentionStatus {
  /** Epoch seconds when the last run ended (successfully or not); null before the first. */
  lastRunAt: number | null;
  lastRunSeconds: number | null;
  /** Rows deleted since start, by policy name (and `size_cap`). */
  deleted: Record<string, number>;
  /** DELETE statements run since start (each one transaction). */
  batches: number;
  /** Rows the next batch takes (sized by the last batch's time). */
  batchRows: number;
  /** How long the last batch took (ms); null before the first. */
  lastBatchMs: number | null;
  /** Runs that failed since start. */
  failures: number;
  /** Why the last run failed; null once one succeeds. */
  lastError: string | null;
}

/** Where the cap stands after a run: the size it measured last. */
export interface RetentionRunReport {
  deleted: Record<string, number>;
  size: StoreSize | null;
}

/** The longest retention waits for ingest's writes between two batches, and how often it looks. */
const MAX_YIELD_MS = 1_000;
const YIELD_STEP_MS = 50;
/** While ingest writes, a pause this many times the last batch's time follows it: deletes get at most 1/(1 + this) of the writer. */
const ACTIVE_PAUSE_FACTOR = 3;
/** The first batch's rows (before any pace is known), and the fewest a batch takes. */
const FIRST_BATCH_ROWS = 100;
const MIN_BATCH_ROWS = 10;
/** One batch's rows change by at most this factor from the last's, so one odd batch does not swing them. */
const MAX_BATCH_CHANGE = 2;
const REAL_CLOCK = { now: () => performance.now(), sleep: (ms: number) => sleep(ms) };

export class RetentionRunner {
  private readonly batchRows: number;
  private readonly batchTargetMs: number;
  private readonly pauseMs: number;
  private readonly ingest: () => IngestLoad;
  private readonly clock: { now(): number; sleep(ms: number): Promise<void> };
  private readonly maxBatchesPerRun: number;
  private readonly firstRunMs: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RetentionRunReport> | null = null;
  private stopped = false;
  private readonly state: RetentionStatus;
  private loggedError: string | null = null;

  constructor(
    private readonly db: StoreDatabase,
    private readonly options: RetentionOptions,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
    /** False while the schema is not in place (the store unreachable at start): runs wait. */
    private readonly ready: () => boolean = () => true,
  ) {
    this.batchRows = Math.max(1, Math.floor(options.batchRows ?? 2_000));
    this.batchTargetMs = options.batchTargetMs ?? 100;
    this.pauseMs = options.pauseMs ?? 5;
    this.ingest = options.ingest ?? (() => 'idle');
    this.clock = options.clock ?? REAL_CLOCK;
    this.maxBatchesPerRun = options.maxBatchesPerRun ?? 1_000;
    this.firstRunMs = options.firstRunMs ?? 10_000;
    this.intervalMs = options.intervalMs ?? 60_000;
    this.now = options.now ?? (() => Date.now() / 1000);
    for (const policy of options.policies) {
      checkedIdentifier(policy.table);
      checkedIdentifier(policy.timeColumn);
    }
    const deleted: Record<string, number> = {};
    for (const policy of options.policies) deleted[policy.name] = 0;
    if (options.maxSizeBytes !== null) deleted[SIZE_CAP_POLICY] = 0;
    this.state = { lastRunAt: null, lastRunSeconds: null, deleted, batches: 0, batchRows: Math.min(this.batchRows, FIRST_BATCH_ROWS), lastBatchMs: null, failures: 0, lastError: null };
  }

  /** First run soon after start, then every interval (each waits for the one before). */
  start(): void {
    if (this.timer || this.stopped) return;
    const schedule = (delay: number): void => {
      this.timer = setTimeout(() => {
        void this.run().finally(() => {
          if (!this.stopped) schedule(this.intervalMs);
        });
      }, delay);
      this.timer.unref();
    };
    schedule(this.firstRunMs);
  }

  /** One run of every policy, then the cap. Never rejects: a failure is logged once and counted. */
  run(): Promise<RetentionRunReport> {
    this.running ??= this.runNow().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async runNow(): Promise<RetentionRunReport> {
    const deleted: Record<string, number> = {};
    if (!this.ready()) return { deleted, size: null };
    const started = performance.now();
    let size: StoreSize | null = null;
    try {
      for (const policy of this.options.policies) {
        if (policy.maxAgeSeconds <= 0 || this.stopped) continue;
        deleted[policy.name] = await this.expire(policy);
      }
      if (this.options.maxSizeBytes !== null && !this.stopped) {
        const capped = await this.enforceCap(this.options.maxSizeBytes);
        deleted[SIZE_CAP_POLICY] = capped.deleted;
        size = capped.size;
      }
      this.succeeded();
    } catch (error) {
      this.failed(error);
    }
    this.state.lastRunAt = this.now();
    this.state.lastRunSeconds = (performance.now() - started) / 1000;
    return { deleted, size };
  }

  /** Between two batches: the pause, longer while ingest writes, and while it is behind, longer still (bounded). */
  private async pause(): Promise<void> {
    const load = this.ingest();
    await this.clock.sleep(load === 'idle' ? this.pauseMs : Math.max(this.pauseMs, (this.state.lastBatchMs ?? 0) * ACTIVE_PAUSE_FACTOR));
    const until = this.clock.now() + MAX_YIELD_MS;
    while (this.ingest() === 'behind' && !this.stopped && this.clock.now() < until) await this.clock.sleep(YIELD_STEP_MS);
  }

  /** Delete the policy's expired rows, a batch at a time, until a batch comes back short. */
  private async expire(policy: RetentionPolicy): Promise<number> {
    // Whole seconds: a time column may be an integer (the trend tables' minutes), and PostgreSQL refuses a fraction for one.
    const cutoff = Math.floor(this.now() - policy.maxAgeSeconds);
    const condition = `${policy.timeColumn} < $1${policy.where ? ` AND (${policy.where})` : ''}`;
    let total = 0;
    for (let batch = 0; batch < this.maxBatchesPerRun && !this.stopped; batch++) {
      const limit = this.state.batchRows;
      const n = await this.deleteBatch(policy.table, `WHERE ${condition}`, [cutoff], limit, policy.name);
      total += n;
      if (n < limit) break;
      await this.pause();
    }
    return total;
  }

  /**
   * Past the cap, delete the least recently changed tasks, a batch at a time, until under it.
   * SQLite's measure follows every delete (freed pages count as free at once), so it is taken
   * again after each batch. PostgreSQL's is an estimate from row counts (./store-size.ts): near
   * the cap the rows are counted, the rows to delete are planned once from that count, and the
   * next run checks the result.
   */
  private async enforceCap(maxBytes: number): Promise<{ deleted: number; size: StoreSize }> {
    let size = await this.measure(false);
    let total = 0;
    if (this.db.backend === 'postgresql') {
      // The statistics' row figures are free but lag; a count is a scan, so only near the cap.
      if (size.bytes > maxBytes * PG_COUNT_ABOVE) size = await this.measure(true);
      const tasks = size.tables.tasks;
      if (size.bytes > maxBytes && tasks && tasks.rows > 0) {
        const perRow = tasks.bytes / tasks.rows;
        const planned = Math.min(tasks.rows, Math.ceil((size.bytes - maxBytes) / perRow));
        for (let batch = 0; total < planned && batch < this.maxBatchesPerRun && !this.stopped; batch++) {
          const n = await this.deleteBatch('tasks', 'ORDER BY updated_at', [], Math.min(this.state.batchRows, planned - total), SIZE_CAP_POLICY);
          total += n;
          if (n === 0) break;
          await this.pause();
        }
        size = await this.measure(true);
      }
    } else {
      for (let batch = 0; size.bytes > maxBytes && batch < this.maxBatchesPerRun && !this.stopped; batch++) {
        const n = await this.deleteBatch('tasks', 'ORDER BY updated_at', [], this.state.batchRows, SIZE_CAP_POLICY);
        total += n;
        if (n === 0) break; // nothing left to delete: the rest is other tables and the schema
        await this.pause();
        size = await this.measure(false);
      }
    }
    if (total > 0) this.logger.info({ deleted: total, bytes: size.bytes, maxBytes }, 'the store was over --store-max-size: the least recently changed tasks were deleted');
    return { deleted: total, size };
  }

  /** `exactRows`: PostgreSQL counts the rows rather than read its statistics (SQLite's measure is exact either way). */
  private async measure(exactRows: boolean): Promise<StoreSize> {
    if (this.db.backend === 'postgresql') {
      // The estimate needs the planner's statistics; a table never analysed gets them now (ANALYZE samples, it does not scan).
      for (const table of await unanalysedTables(this.db.backgroundRunner, this.options.sizeTables)) await this.db.backgroundRunner.execute(`ANALYZE ${checkedIdentifier(table)}`);
    }
    return measureSize(this.db.backend, this.db.backgroundRunner, this.options.sizeTables, { exactRows });
  }

  /**
   * One DELETE of at most `limit` rows chosen by `selection` (a WHERE and/or ORDER BY, using
   * `params`), by row identity: SQLite's rowid, PostgreSQL's ctid (both need no key column of the
   * table's). The limit is a parameter, so that batches of every size are one statement text
   * (PostgreSQL prepares the texts that repeat).
   */
  private async deleteBatch(table: string, selection: string, params: readonly number[], limit: number, policy: string): Promise<number> {
    const name = checkedIdentifier(table);
    const limitParam = `$${params.length + 1}`;
    const statement =
      this.db.backend === 'sqlite'
        ? `DELETE FROM ${name} WHERE rowid IN (SELECT rowid FROM ${name} ${selection} LIMIT ${limitParam})`
        : `DELETE FROM ${name} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${name} ${selection} LIMIT ${limitParam}))`;
    const started = this.clock.now();
    const n = await this.db.writeCounting(statement, [...params, Math.max(1, Math.floor(limit))]);
    const ms = this.clock.now() - started;
    this.resize(n, ms);
    this.state.batches++;
    this.state.lastBatchMs = ms;
    this.state.deleted[policy] = (this.state.deleted[policy] ?? 0) + n;
    return n;
  }

  /** The next batch's rows: what the last batch's pace fits in batchTargetMs, changed by at most MAX_BATCH_CHANGE, within [MIN_BATCH_ROWS, batchRows]. */
  private resize(deletedRows: number, ms: number): void {
    // Too few rows to time (the end of the expired rows, or too fast for the clock): keep the size.
    if (deletedRows < MIN_BATCH_ROWS || ms <= 0) return;
    const rows = this.state.batchRows;
    const fitting = (deletedRows / ms) * this.batchTargetMs;
    const bounded = Math.min(rows * MAX_BATCH_CHANGE, Math.max(rows / MAX_BATCH_CHANGE, fitting));
    this.state.batchRows = Math.round(Math.min(this.batchRows, Math.max(Math.min(MIN_BATCH_ROWS, this.batchRows), bounded)));
  }

  private failed(error: unknown): void {
    this.state.failures++;
    this.state.lastError = errorText(error);
    if (this.state.lastError !== this.loggedError) {
      this.loggedError = this.state.lastError;
      this.logger.warn({ err: this.state.lastError }, 'retention could not delete expired rows; it tries again on its next run');
    }
  }

  private succeeded(): void {
    if (this.state.lastError !== null) this.logger.info({ failures: this.state.failures }, 'retention runs again');
    this.state.lastError = null;
    this.loggedError = null;
  }

  status(): RetentionStatus {
    return { ...this.state, deleted: { ...this.state.deleted } };
  }

  /** No further runs; a run under way stops after its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
