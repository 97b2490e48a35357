/**
 * Search indexing for the rows the write path leaves out. A task is indexed as it is written only
 * once it has finished and its record is complete (./task-row.ts): until then its fields still
 * change, and indexing every change would cost ingest a trigram index update per event. Every
 * other row is a search candidate tested by its own text (./search-index.ts,
 * unindexedCandidates) — cheap while they are few, but they are not always few: tasks that
 * started and were never heard of again, long-running ones, RETRY ones waiting for their
 * countdown, partial records. At 10,000,000 stored tasks the 1 % unfinished cost every search
 * about 1.7 s on PostgreSQL.
 *
 * So in the background, rows left unindexed that have not changed for `settleSeconds` are
 * indexed whatever their state, from the row itself (the merged truth, partial or not). The write
 * is guarded by the row's `updated_at` as read: a row written meanwhile is left to the next pass,
 * and a row written after it was indexed leaves the index again (./task-row.ts), so the index
 * never answers for text a row no longer has.
 */
import type { Logger } from 'pino';
import { errorText } from '../errors';
import type { SqlRunner, StoreDatabase } from './migrate';
import type { IngestLoad } from './retention';
import { pgArray, searchDoc, TASK_COLUMNS, taskFromRow } from './task-row';

export interface SettledIndexOptions {
  /** A row unchanged this long is indexed. */
  settleSeconds?: number;
  /** How often a pass runs (ms). */
  intervalMs?: number;
  firstRunMs?: number;
  /** Rows one transaction indexes. */
  batchRows?: number;
  /** Batches one pass runs at most; the rest waits for the next pass. */
  maxBatchesPerPass?: number;
  /** Whether ingest is waiting on the writer: a pass gives way while it is behind. */
  ingest?: () => IngestLoad;
  /** Epoch seconds. */
  now?: () => number;
}

export interface SettledIndexStatus {
  /** Rows indexed since start (SQLite: offered; one changed meanwhile is offered again). */
  indexed: number;
  /** Epoch seconds when the last pass ended; null before the first. */
  lastPassAt: number | null;
  /** The last pass left no settled row unindexed (else the next comes within a second). */
  caughtUp: boolean;
  lastError: string | null;
}

const DEFAULTS = { settleSeconds: 60, intervalMs: 30_000, firstRunMs: 10_000, batchRows: 500, maxBatchesPerPass: 40 };
/** The pause before the next pass when this one left settled rows (a store upgraded with many). */
const CATCH_UP_PAUSE_MS = 1_000;

export class SettledIndex {
  private readonly options: Required<Omit<SettledIndexOptions, 'ingest' | 'now'>>;
  private readonly ingest: () => IngestLoad;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private stopped = false;
  private readonly state: SettledIndexStatus = { indexed: 0, lastPassAt: null, caughtUp: false, lastError: null };
  private loggedError: string | null = null;

  constructor(
    private readonly db: Pick<StoreDatabase, 'backend' | 'backgroundRunner' | 'transaction' | 'writeCounting'>,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
    private readonly ready: () => boolean,
    options: SettledIndexOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.ingest = options.ingest ?? (() => 'idle');
    this.now = options.now ?? (() => Date.now() / 1000);
  }

  start(): void {
    this.schedule(this.options.firstRunMs);
  }

  status(): SettledIndexStatus {
    return { ...this.state };
  }

  /** One pass now (the background runs the same); resolves with the rows it indexed, never rejects. */
  pass(): Promise<number> {
    if (!this.running) {
      this.running = this.indexSettled().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      // A second apart only while a pass that ran left settled rows behind (not while the store is not ready).
      void this.pass().finally(() => this.schedule(this.state.caughtUp || this.state.lastError !== null || !this.ready() ? this.options.intervalMs : CATCH_UP_PAUSE_MS));
    }, ms);
    this.timer.unref();
  }

  private async indexSettled(): Promise<number> {
    if (!this.ready()) return 0;
    let indexed = 0;
    let caughtUp = false;
    try {
      for (let batch = 0; batch < this.options.maxBatchesPerPass && !this.stopped; batch++) {
        if (this.ingest() === 'behind') break;
        const rows = await this.db.backgroundRunner.rows(
          // The partial index tasks_unindexed holds exactly the rows left unindexed.
          `SELECT ${TASK_COLUMNS.join(', ')} FROM tasks WHERE search_indexed = 0 AND updated_at < $1 ORDER BY timestamp LIMIT $2`,
          [this.now() - this.options.settleSeconds, this.options.batchRows],
        );
        if (rows.length > 0) indexed += await this.index(rows);
        if (rows.length < this.options.batchRows) {
          caughtUp = true;
          break;
        }
      }
      this.state.lastError = null;
      this.loggedError = null;
    } catch (error) {
      const text = errorText(error);
      this.state.lastError = text;
      if (text !== this.loggedError) {
        this.loggedError = text;
        this.logger.warn({ err: text }, 'indexing settled tasks for search failed; the next pass tries again');
      }
    }
    this.state.indexed += indexed;
    this.state.caughtUp = caughtUp;
    this.state.lastPassAt = this.now();
    return indexed;
  }

  /** Index these rows, each only if it is still as read. Resolves with how many. */
  private async index(rows: readonly Record<string, unknown>[]): Promise<number> {
    const backend = this.db.backend;
    const docs = rows.map((row) => {
      const task = taskFromRow(row);
      return { uuid: task.uuid, seen: Number(row.updated_at), doc: searchDoc(task, backend) };
    });
    if (backend === 'postgresql') {
      return this.db.writeCounting(
        'UPDATE tasks SET search_indexed = 1, search_doc = settled.doc FROM unnest($1::text[], $2::double precision[], $3::text[]) AS settled(uuid, seen, doc) WHERE tasks.uuid = settled.uuid AND tasks.updated_at = settled.seen AND tasks.search_indexed = 0',
        [pgArray(docs.map((d) => d.uuid)), pgArray(docs.map((d) => d.seen)), pgArray(docs.map((d) => d.doc))],
      );
    }
    // SQLite: the entry and the flag in one transaction on the writer, under the same guard.
    const values = docs.map((_, i) => `($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3})`).join(', ');
    const params = docs.flatMap((d) => [d.uuid, d.seen, d.doc]);
    const settled = `WITH settled(uuid, seen, doc) AS (VALUES ${values})`;
    const unchanged = 'tasks.uuid = settled.uuid AND tasks.updated_at = settled.seen AND tasks.search_indexed = 0';
    await this.db.transaction(async (sql: SqlRunner) => {
      await sql.execute(`${settled} INSERT INTO tasks_search (rowid, doc) SELECT tasks.rowid, settled.doc FROM settled JOIN tasks ON ${unchanged}`, params);
      await sql.execute(`${settled} UPDATE tasks SET search_indexed = 1 FROM settled WHERE ${unchanged}`, params);
    });
    return docs.length;
  }
}
