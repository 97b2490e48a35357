/**
 * The store as the rest of Celeriac sees it: opened from `--store`, migrated, the writer the
 * composition root feeds (server/wiring.ts), the tasks to restore on start, and its health.
 * The only module that knows both backends.
 *
 * The store failing never stops monitoring. If the database is unreachable at start, Celeriac
 * starts in memory, says the store is degraded, and keeps trying; the writer holds changes
 * (bounded) until the store takes them.
 *
 * In the background it also keeps the store's figures (size, rows per table: measured every
 * 30 s, never per request or per scrape) and runs retention (./retention.ts).
 */
import type { Logger } from 'pino';
import { errorText } from '../errors';
import type { TaskRecord } from '../state/task-record';
import { migrate, SchemaTooNewError, type StoreDatabase } from './migrate';
import { PostgresDatabase } from './postgres';
import { MIGRATIONS, type StoreBackend } from './schema';
import { SqliteDatabase } from './sqlite';
import { describeStore, type StoreTarget } from './store-url';
import { TASK_COLUMNS, taskFromRow, taskSink } from './task-row';
import { workerFromRow, workerSink } from './worker-row';
import type { WorkerRecord } from '../state/worker-registry';
import { ChangeWriter, type ChangeWriterOptions, type ChangeWriterStatus } from './change-writer';
import type { KeyedAuditEntry } from '../control/audit';
import { auditSink, StoredAudit } from './audit-row';
import { StoredPauses } from './pause-row';
import { SettledIndex, type SettledIndexOptions, type SettledIndexStatus } from './settled-index';
import { StoredTasks, type StoredWorkflow } from './task-queries';
import { foldTaskCounts } from './task-counts';
import type { TaskFilter } from '../state/task-query';
import { type IngestLoad, RetentionRunner, standardPolicies, type AggregateTable, type RetentionAges, type RetentionOptions, type RetentionStatus } from './retention';
import { countRows, measureSize } from './store-size';
import { TREND_TABLES, Trends, type TrendsStatus } from './trends';

/** Changes waiting to be written past which retention pauses between its batches. */
const RETENTION_YIELDS_ABOVE = 5_000;
/** How often an unreachable store is tried again. */
const RETRY_MS = 5_000;
/** Task names are listed from the store at most this often (a DISTINCT over every row). */
const TASK_NAMES_TTL_MS = 60_000;
/** How often size and row counts are measured (counting millions of rows is not free). */
const FIGURES_MS = 30_000;
/** The tables of migration 1; retention policies add theirs. */
const BASE_TABLES = ['tasks', 'workers'] as const;

export interface StoreFigures {
  /** What the data occupies, the figure --store-max-size is judged against (./store-size.ts); null until measured. */
  sizeBytes: number | null;
  /** What the database takes on disk (SQLite: the file's pages, free ones included). */
  diskBytes: number | null;
  /** Rows per table (PostgreSQL: its live-row statistics). */
  rows: Record<string, number>;
  /** Epoch seconds of the measurement; null until the first. */
  measuredAt: number | null;
  /** Why the last measurement failed; null once one succeeds. */
  measureError: string | null;
}

export interface StoreStatus extends ChangeWriterStatus, StoreFigures {
  /** The worker records' writer (the fields above are the tasks'). */
  workers: ChangeWriterStatus;
  /** The audit log's writer: entries wait here (bounded, drops counted) while the store is down. */
  audit: ChangeWriterStatus;
  store: string;
  backend: StoreBackend;
  /** The schema is in place and writes can land. */
  ready: boolean;
  /** The trend aggregates' writer (server/store/trends.ts). */
  trends: TrendsStatus;
  retention: RetentionStatus & { maxSizeBytes: number | null };
  /** Rows indexed for search once settled, whatever their state (./settled-index.ts). */
  searchIndex: SettledIndexStatus;
}

export interface StoreOptions {
  writer?: ChangeWriterOptions;
  /** --retention, --retention-failed, --retention-aggregates in seconds (0: forever); default: keep forever. */
  ages?: RetentionAges;
  /** --store-max-size; null: no cap. */
  maxSizeBytes?: number | null;
  /** Tables kept by --retention-aggregates; default: the trend tables (./trends.ts). */
  aggregateTables?: readonly AggregateTable[];
  /** Retention's batch size and timing (tests make them small). */
  retentionTiming?: Pick<RetentionOptions, 'batchRows' | 'batchTargetMs' | 'pauseMs' | 'firstRunMs' | 'intervalMs' | 'maxBatchesPerRun'>;
  /** How often size and rows are measured. */
  figuresIntervalMs?: number;
  /** Settled rows' indexing for search (tests make it soon and small). */
  searchIndexTiming?: Pick<SettledIndexOptions, 'settleSeconds' | 'intervalMs' | 'firstRunMs' | 'batchRows'>;
  /** --store-read-timeout in ms (PostgreSQL; 0: none); default DEFAULT_READ_TIMEOUT_MS. */
  readTimeoutMs?: number;
}

/** Rows per read while the recent tasks are restored at start. */
const RESTORE_ROWS_PER_READ = 500;

export class Store {
  readonly writer: ChangeWriter<TaskRecord>;
  /** Worker records: few, but changed by every heartbeat, so written every 2 s. */
  readonly workerWriter: ChangeWriter<WorkerRecord>;
  /** Audit entries, each written once (their ids make a retried write harmless). */
  readonly auditWriter: ChangeWriter<KeyedAuditEntry>;
  /** The audit log's view of the store (server/control/audit.ts). */
  readonly audit: StoredAudit;
  /** The pause state's view of the store (server/control/pauses.ts). */
  readonly pauses: StoredPauses;
  /** Per-minute aggregates (the Trends page), written every 5 s as additive upserts. */
  readonly trends: Trends;
  readonly description: string;
  private ready = false;
  /** Why the store could not be prepared, while it is not ready. */
  private prepareError: string | null = null;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly stored: StoredTasks;
  private taskNamesCache: { at: number; names: Promise<string[]> } | null = null;
  /** The last read error logged, so an outage is one line, not one per request. */
  private loggedReadError: string | null = null;
  readonly retention: RetentionRunner;
  readonly searchIndex: SettledIndex;
  private readonly maxSizeBytes: number | null;
  /** Tables counted in the figures: migration 1's and every retention policy's. */
  private readonly tables: readonly string[];
  private figures: StoreFigures = { sizeBytes: null, diskBytes: null, rows: {}, measuredAt: null, measureError: null };
  private figuresTimer: NodeJS.Timeout | null = null;
  private measuring: Promise<void> | null = null;
  private nextMeasuring: Promise<void> | null = null;
  private readonly figuresIntervalMs: number;

  private constructor(
    private readonly db: StoreDatabase,
    target: Exclude<StoreTarget, { kind: 'memory' }>,
    private readonly logger: Logger,
    options: StoreOptions,
  ) {
    this.description = describeStore(target);
    // PostgreSQL runs two batches at once, on two of the pool's connections: measured, one batch's
    // build and the server's work on the other overlap (`npm run bench:store`, README).
    this.writer = new ChangeWriter('tasks', taskSink(db), (task) => task.uuid, logger, { concurrency: db.backend === 'postgresql' ? 2 : 1, ...options.writer });
    this.workerWriter = new ChangeWriter('workers', workerSink(db), (worker) => worker.hostname, logger, { intervalMs: 2_000, maxPending: 10_000 });
    this.auditWriter = new ChangeWriter('audit entries', auditSink(db), (keyed) => keyed.id, logger, { intervalMs: 500, maxPending: 10_000 });
    this.audit = new StoredAudit(db, this.auditWriter);
    this.pauses = new StoredPauses(db);
    this.stored = new StoredTasks(db.readRunner, db.backend);
    this.trends = new Trends(db, logger);
    const ages = options.ages ?? { tasksSeconds: 0, failedSeconds: 0, aggregatesSeconds: 0 };
    const policies = standardPolicies(ages, options.aggregateTables ?? TREND_TABLES);
    this.tables = [...new Set([...BASE_TABLES, ...policies.map((policy) => policy.table)])];
    this.maxSizeBytes = options.maxSizeBytes ?? null;
    this.figuresIntervalMs = options.figuresIntervalMs ?? FIGURES_MS;
    // Deletes yield to ingest: while changes wait they take at most a quarter of the writer, and
    // while more than one flush's worth waits retention pauses (bounded).
    const writer = this.writer;
    const ingest = (): IngestLoad => {
      const { pending } = writer.status();
      return pending > RETENTION_YIELDS_ABOVE ? 'behind' : pending > 0 ? 'active' : 'idle';
    };
    this.retention = new RetentionRunner(
      db,
      {
        policies,
        maxSizeBytes: this.maxSizeBytes,
        sizeTables: [...this.tables, 'celeriac_schema'],
        ingest,
        ...options.retentionTiming,
      },
      logger,
      () => this.ready,
    );
    this.searchIndex = new SettledIndex(db, logger, () => this.ready, { ingest, ...options.searchIndexTiming });
  }

  /** Open the store of `--store` (null for `memory`); resolves once it is ready or found unreachable. */
  static async open(target: StoreTarget, logger: Logger, options: StoreOptions = {}): Promise<Store | null> {
    if (target.kind === 'memory') return null;
    let db: StoreDatabase;
    try {
      db = target.kind === 'sqlite' ? new SqliteDatabase(target.file) : new PostgresDatabase(target.url, logger, { readTimeoutMs: options.readTimeoutMs });
    } catch (error) {
      // A file that is not SQLite, a directory that cannot be created: a configuration error, said as one.
      throw new Error(`--store ${describeStore(target)}: ${errorText(error)}`);
    }
    const store = new Store(db, target, logger, options);
    await store.prepare();
    store.writer.start();
    store.workerWriter.start();
    store.auditWriter.start();
    store.trends.start();
    store.retention.start();
    store.searchIndex.start();
    store.startFigures();
    return store;
  }

  /** Measure size and rows now, then every interval. */
  private startFigures(): void {
    const tick = (): void => {
      void this.refreshFigures().finally(() => {
        if (this.closed) return;
        this.figuresTimer = setTimeout(tick, this.figuresIntervalMs);
        this.figuresTimer.unref();
      });
    };
    tick();
  }

  /**
   * Measure size and rows as of now (in the background; tests call it to not wait for the
   * interval). Never rejects. A measurement under way may have read the rows before the caller's
   * latest writes, so this one waits for it and then measures again; callers that arrive while
   * that second one is queued share it.
   */
  refreshFigures(): Promise<void> {
    this.nextMeasuring ??= (this.measuring ?? Promise.resolve()).then(() => {
      this.nextMeasuring = null;
      const measuring = this.measureFigures().finally(() => {
        if (this.measuring === measuring) this.measuring = null;
      });
      this.measuring = measuring;
      return measuring;
    });
    return this.nextMeasuring;
  }

  private async measureFigures(): Promise<void> {
    if (!this.ready) return;
    // PostgreSQL's task counts, folded as often as the figures are measured (./task-counts.ts).
    await foldTaskCounts(this.db.backgroundRunner, this.db.backend).catch((error: unknown) =>
      this.logger.warn({ store: this.description, err: errorText(error) }, 'folding the task counts failed: they stay exact, and are folded again at the next measurement'),
    );
    try {
      const rows = await countRows(this.db.backend, this.db.backgroundRunner, this.tables);
      const size = await measureSize(this.db.backend, this.db.backgroundRunner, [...this.tables, 'celeriac_schema'], { knownRows: rows });
      this.figures = { sizeBytes: size.bytes, diskBytes: size.diskBytes, rows, measuredAt: Date.now() / 1000, measureError: null };
    } catch (error) {
      // The figures stay as last measured; the writers' status already says whether the store is down.
      this.figures = { ...this.figures, measureError: errorText(error) };
    }
  }

  get backend(): StoreBackend {
    return this.db.backend;
  }

  /** Migrate; on failure (unreachable, disk) log it and try again later. A newer schema is fatal. */
  private async prepare(): Promise<void> {
    try {
      const report = this.db instanceof SqliteDatabase ? await this.db.migrateOnThread() : await migrate(this.db, MIGRATIONS);
      this.ready = true;
      this.prepareError = null;
      if (report.applied.length > 0) this.logger.info({ store: this.description, from: report.from, to: report.to }, 'store schema migrated');
    } catch (error) {
      if (error instanceof SchemaTooNewError) throw error;
      this.prepareError = errorText(error);
      this.logger.warn({ store: this.description, err: this.prepareError }, 'the store is unreachable: monitoring goes on in memory, and the store is tried again every 5 s');
      if (!this.closed) {
        this.retry = setTimeout(() => void this.prepare(), RETRY_MS);
        this.retry.unref();
      }
    }
  }

  /**
   * The most recently changed stored tasks, at most `limit`, oldest first (the order to restore
   * them in). One flush writes many rows with the same `updated_at`: within it, the task's own
   * last event decides.
   */
  async recentTasks(limit: number): Promise<TaskRecord[]> {
    if (!this.ready) return [];
    // Their ids first, then the rows a few hundred at a time: the rows read at once, 20,000 of
    // them, grew the heap past what the tasks themselves need, and the process kept that memory.
    const ids = (await this.db.runner.rows('SELECT uuid FROM tasks ORDER BY updated_at DESC, timestamp DESC NULLS LAST, uuid LIMIT $1', [limit])).map((row) => String(row.uuid)).reverse();
    const tasks: TaskRecord[] = [];
    for (let start = 0; start < ids.length; start += RESTORE_ROWS_PER_READ) {
      const batch = ids.slice(start, start + RESTORE_ROWS_PER_READ);
      const rows = await this.db.runner.rows(`SELECT ${TASK_COLUMNS.join(', ')} FROM tasks WHERE uuid IN (${batch.map((_, i) => `$${i + 1}`).join(', ')})`, batch);
      const byId = new Map(rows.map((row) => [String(row.uuid), row]));
      for (const id of batch) {
        const row = byId.get(id);
        if (row) tasks.push(taskFromRow(row));
      }
    }
    return tasks;
  }

  /** Stored workers, at most `limit`, the most recently heard last (the order to restore them in). */
  async recentWorkers(limit: number): Promise<WorkerRecord[]> {
    if (!this.ready) return [];
    const rows = await this.db.runner.rows('SELECT hostname, record, last_heard FROM workers ORDER BY updated_at DESC, hostname LIMIT $1', [limit]);
    return rows
      .reverse()
      .map(workerFromRow)
      .filter((worker): worker is WorkerRecord => worker !== null);
  }

  // --- History, for the read model (server/views/cluster-read-model.ts) ----------------------

  /**
   * Bring the store up to now for a history read: write what is pending, so a list read from
   * the store holds every change made before the request. False when the store is behind (not
   * ready, or failing): the read model then answers from memory.
   */
  async catchUp(): Promise<boolean> {
    if (!this.ready || this.writer.status().degraded) return false;
    await this.writer.flush();
    return !this.writer.status().degraded;
  }

  tasksPage(filter: TaskFilter, options: { count?: boolean } = {}): Promise<{ total: number | null; tasks: TaskRecord[] }> {
    return this.reading(() => this.stored.page(filter, options));
  }

  task(uuid: string): Promise<TaskRecord | null> {
    return this.reading(() => this.stored.task(uuid));
  }

  children(uuids: readonly string[]): Promise<Map<string, string[]>> {
    return this.reading(() => this.stored.children(uuids));
  }

  /** Every stored task matching `filter` (offset and limit aside), a page at a time, in result order. */
  scanTasks(filter: TaskFilter): AsyncIterable<TaskRecord[]> {
    return this.stored.scan(filter);
  }

  workflow(root: string, limit: number): Promise<StoredWorkflow> {
    return this.reading(() => this.stored.workflow(root, limit));
  }

  taskNames(): Promise<string[]> {
    const now = Date.now();
    if (this.taskNamesCache === null || now - this.taskNamesCache.at > TASK_NAMES_TTL_MS) {
      const names = this.reading(() => this.stored.taskNames());
      // A failed read is not cached: the next call asks again.
      names.catch(() => {
        this.taskNamesCache = null;
      });
      this.taskNamesCache = { at: now, names };
    }
    return this.taskNamesCache.names;
  }

  /** Run a read; a failure is logged once per distinct error and passed on (the caller falls back to memory). */
  private async reading<T>(read: () => Promise<T>): Promise<T> {
    try {
      const result = await read();
      this.loggedReadError = null;
      return result;
    } catch (error) {
      const text = errorText(error);
      if (text !== this.loggedReadError) {
        this.loggedReadError = text;
        this.logger.warn({ store: this.description, err: text }, 'a history read from the store failed; answering from memory');
      }
      throw error;
    }
  }

  status(): StoreStatus {
    const writer = this.writer.status();
    const workers = this.workerWriter.status();
    const audit = this.auditWriter.status();
    const trends = this.trends.status();
    const degraded = writer.degraded || workers.degraded || audit.degraded || trends.lastError !== null || !this.ready;
    const lastError = writer.lastError ?? workers.lastError ?? audit.lastError ?? trends.lastError ?? this.prepareError;
    return {
      store: this.description,
      backend: this.db.backend,
      ready: this.ready,
      ...writer,
      degraded,
      lastError,
      workers,
      audit,
      trends,
      ...this.figures,
      rows: { ...this.figures.rows },
      retention: { ...this.retention.status(), maxSizeBytes: this.maxSizeBytes },
      searchIndex: this.searchIndex.status(),
    };
  }

  /** Write what is pending, then close (SIGTERM loses nothing the store takes). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.figuresTimer) clearTimeout(this.figuresTimer);
    await this.retention.stop();
    await this.searchIndex.stop();
    await this.nextMeasuring;
    await this.measuring;
    await this.writer.stop();
    await this.workerWriter.stop();
    await this.auditWriter.stop();
    await this.trends.stop();
    await this.db.close();
  }
}
