/**
 * The store as the rest of Celeriac sees it: opened from `--store`, migrated, the writer the
 * composition root feeds (server/wiring.ts), the tasks to restore on start, and its health.
 * The only module that knows both backends.
 *
 * The store failing never stops monitoring. If the database is unreachable at start, Celeriac
 * starts in memory, says the store is degraded, and keeps trying; the writer holds changes
 * (bounded) until the store takes them.
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
import { StoredTasks, type StoredWorkflow } from './task-queries';
import type { TaskFilter } from '../state/task-query';
import { Trends, type TrendsStatus } from './trends';

/** How often an unreachable store is tried again. */
const RETRY_MS = 5_000;
/** Task names are listed from the store at most this often (a DISTINCT over every row). */
const TASK_NAMES_TTL_MS = 60_000;

export interface StoreStatus extends ChangeWriterStatus {
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
}

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

  private constructor(
    private readonly db: StoreDatabase,
    target: Exclude<StoreTarget, { kind: 'memory' }>,
    private readonly logger: Logger,
    writerOptions: ChangeWriterOptions,
  ) {
    this.description = describeStore(target);
    this.writer = new ChangeWriter('tasks', taskSink(db), (task) => task.uuid, logger, writerOptions);
    this.workerWriter = new ChangeWriter('workers', workerSink(db), (worker) => worker.hostname, logger, { intervalMs: 2_000, maxPending: 10_000 });
    this.auditWriter = new ChangeWriter('audit entries', auditSink(db), (keyed) => keyed.id, logger, { intervalMs: 500, maxPending: 10_000 });
    this.audit = new StoredAudit(db, this.auditWriter);
    this.pauses = new StoredPauses(db);
    this.stored = new StoredTasks(db.runner, db.backend);
    this.trends = new Trends(db, logger);
  }

  /** Open the store of `--store` (null for `memory`); resolves once it is ready or found unreachable. */
  static async open(target: StoreTarget, logger: Logger, writerOptions: ChangeWriterOptions = {}): Promise<Store | null> {
    if (target.kind === 'memory') return null;
    let db: StoreDatabase;
    try {
      db = target.kind === 'sqlite' ? new SqliteDatabase(target.file) : new PostgresDatabase(target.url, logger);
    } catch (error) {
      // A file that is not SQLite, a directory that cannot be created: a configuration error, said as one.
      throw new Error(`--store ${describeStore(target)}: ${errorText(error)}`);
    }
    const store = new Store(db, target, logger, writerOptions);
    await store.prepare();
    store.writer.start();
    store.workerWriter.start();
    store.auditWriter.start();
    store.trends.start();
    return store;
  }

  get backend(): StoreBackend {
    return this.db.backend;
  }

  /** Migrate; on failure (unreachable, disk) log it and try again later. A newer schema is fatal. */
  private async prepare(): Promise<void> {
    try {
      const report = await migrate(this.db, MIGRATIONS);
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
    const rows = await this.db.runner.rows(`SELECT ${TASK_COLUMNS.join(', ')} FROM tasks ORDER BY updated_at DESC, timestamp DESC NULLS LAST, uuid LIMIT $1`, [limit]);
    return rows.reverse().map(taskFromRow);
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

  tasksPage(filter: TaskFilter): Promise<{ total: number; tasks: TaskRecord[] }> {
    return this.reading(() => this.stored.page(filter));
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
    return { store: this.description, backend: this.db.backend, ready: this.ready, ...writer, degraded, lastError, workers, audit, trends };
  }

  /** Write what is pending, then close (SIGTERM loses nothing the store takes). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.writer.stop();
    await this.workerWriter.stop();
    await this.auditWriter.stop();
    await this.trends.stop();
    await this.db.close();
  }
}
