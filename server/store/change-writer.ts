/**
 * Writes changed records (tasks, workers) to the store off the hot path. An event only marks its
 * record dirty (one Map write); every `intervalMs`, or sooner once `batchRows` are dirty, the dirty
 * records are written in one go, each as its merged state at that moment — ten events on a task
 * between two flushes cost one row write, not ten.
 *
 * The store failing never stops monitoring: a failed write keeps its records dirty and tries again
 * on the next flush; while the store is down the dirty set is bounded by `maxPending` (past it
 * the longest-waiting records are dropped and counted), and `status()` says it is degraded until a
 * write succeeds again.
 */
import type { Logger } from 'pino';
import { errorText } from '../errors';

/** Where rows go: one call writes one batch (in one transaction). */
export interface ChangeSink<T> {
  write(records: readonly T[], at: number): Promise<void>;
}

export interface ChangeWriterOptions {
  /** Longest a change waits before it is written (the SIGKILL loss bound). */
  intervalMs?: number;
  /** A flush starts early once this many records are dirty, and writes at most this many per call. */
  batchRows?: number;
  /** Dirty records kept while the store is failing; past it the oldest are dropped and counted. */
  maxPending?: number;
  /**
   * Batches of one flush written at once (default 1). A flush's batches hold distinct records, so
   * their order does not matter; one flush still ends before the next begins.
   */
  concurrency?: number;
  now?: () => number;
}

export interface ChangeWriterStatus {
  /** Records changed and not yet written (those a write is under way for included). */
  pending: number;
  /** Rows written since start. */
  written: number;
  /** Changes lost because the store was down longer than `maxPending` records' worth. */
  dropped: number;
  /** Failed writes since start. */
  failures: number;
  /** The last write failed: the store is behind until one succeeds. */
  degraded: boolean;
  lastError: string | null;
}

export class ChangeWriter<T> {
  private dirty = new Map<string, T>();
  /** The records of the write under way (no longer in `dirty`, not yet in the store). */
  private inFlight = new Map<string, T>();
  /** Keys both dirty and in flight (changed again while being written): status() stays O(1). */
  private overlap = 0;
  /**
   * The keys of `dirty` from its oldest on, kept across drops: asking a fresh iterator for the
   * oldest walks every slot earlier drops left at the front of the Map's table (see
   * server/state/lru-map.ts). Null when `dirty` was replaced.
   */
  private oldestDirty: Iterator<string> | null = null;
  private readonly intervalMs: number;
  private readonly batchRows: number;
  private readonly maxPending: number;
  private readonly concurrency: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private readonly counters = { written: 0, dropped: 0, failures: 0 };
  private lastError: string | null = null;
  private loggedError: string | null = null;

  constructor(
    /** What is written, for the log: 'tasks', 'workers'. */
    private readonly what: string,
    private readonly sink: ChangeSink<T>,
    private readonly keyOf: (record: T) => string,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
    options: ChangeWriterOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 500;
    this.batchRows = options.batchRows ?? 5_000;
    this.maxPending = options.maxPending ?? 200_000;
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.now = options.now ?? (() => Date.now() / 1000);
  }

  /** Hot path: remember that the record changed. The row is built at flush time from the record. */
  changed(record: T): void {
    const key = this.keyOf(record);
    // Re-inserting moves the record to the end: the Map's order is "longest waiting first".
    if (!this.dirty.delete(key) && this.inFlight.has(key)) this.overlap++;
    this.dirty.set(key, record);
    if (this.dirty.size > this.maxPending) this.dropOldest();
    // Early only while the store takes writes: once it fails, the interval alone retries, so a
    // down database is not asked again after every event.
    if (this.dirty.size >= this.batchRows && this.flushing === null && this.lastError === null) void this.flush();
  }

  /** The record waiting to be written under `key`, if any (being written counts as waiting). */
  pending(key: string): T | undefined {
    return this.dirty.get(key) ?? this.inFlight.get(key);
  }

  private dropOldest(): void {
    const excess = this.dirty.size - this.maxPending;
    this.oldestDirty ??= this.dirty.keys();
    for (let n = 0; n < excess; n++) {
      const oldest = this.oldestDirty.next();
      if (oldest.done) break;
      this.dirty.delete(oldest.value);
      if (this.inFlight.has(oldest.value)) this.overlap--;
    }
    this.counters.dropped += excess;
  }

  /** Replace the dirty records (a new flush, or what a failed one left). */
  private resetDirty(dirty: Map<string, T>, inFlight: Map<string, T>): void {
    this.dirty = dirty;
    this.inFlight = inFlight;
    this.oldestDirty = null;
    this.overlap = 0;
    if (inFlight.size > 0) for (const key of dirty.keys()) if (inFlight.has(key)) this.overlap++;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** Write everything dirty now (one flush at a time; a caller during one waits for it and the next). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.dirty.size === 0) return Promise.resolve();
    this.flushing = this.writeDirty().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /**
   * Records not known to be written: the batch being written, then those waiting. A reader that
   * merges them with what the store answers must expect some of the first to be stored already.
   */
  pendingRecords(): T[] {
    const records = [...this.inFlight.values()];
    for (const [key, record] of this.dirty) if (!this.inFlight.has(key)) records.push(record);
    return records;
  }

  private async writeDirty(): Promise<void> {
    const batch = this.dirty;
    this.resetDirty(new Map(), batch);
    try {
      await this.writeRecords([...batch.values()]);
    } finally {
      this.resetDirty(this.dirty, new Map());
    }
  }

  /**
   * The records in batches of batchRows, `concurrency` batches at a time. After a failure no
   * batch starts; those under way finish, and every batch not written is dirty again.
   */
  private async writeRecords(records: T[]): Promise<void> {
    const batches: T[][] = [];
    for (let start = 0; start < records.length; start += this.batchRows) batches.push(records.slice(start, start + this.batchRows));
    const failedBatches: number[] = [];
    let failure: { error: unknown } | null = null;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (failure === null && next < batches.length) {
        const index = next++;
        const batch = batches[index] as T[];
        try {
          await this.sink.write(batch, this.now());
          this.counters.written += batch.length;
          if (failure === null) this.recovered();
        } catch (error) {
          failure ??= { error };
          failedBatches.push(index);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, lane));
    if (failure === null) return;
    this.failed((failure as { error: unknown }).error);
    // Keep what was not written, oldest first, behind nothing: changes made meanwhile are newer.
    const unwritten = new Map<string, T>();
    const left = failedBatches.sort((a, b) => a - b);
    for (let index = next; index < batches.length; index++) left.push(index);
    for (const index of left) {
      for (const record of batches[index] as T[]) {
        const key = this.keyOf(record);
        if (!this.dirty.has(key)) unwritten.set(key, record);
      }
    }
    for (const [key, record] of this.dirty) unwritten.set(key, record);
    this.resetDirty(unwritten, this.inFlight);
    if (this.dirty.size > this.maxPending) this.dropOldest();
  }

  private failed(error: unknown): void {
    this.counters.failures++;
    this.lastError = errorText(error);
    // One line per distinct error, not one per flush.
    if (this.lastError !== this.loggedError) {
      this.loggedError = this.lastError;
      this.logger.warn({ err: this.lastError, pending: this.dirty.size, records: this.what }, 'the store is not taking writes; changes stay in memory and are written when it is back');
    }
  }

  private recovered(): void {
    if (this.lastError === null) return;
    this.logger.info({ failures: this.counters.failures, records: this.what }, 'the store takes writes again');
    this.lastError = null;
    this.loggedError = null;
  }

  status(): ChangeWriterStatus {
    const pending = this.dirty.size + this.inFlight.size - this.overlap;
    return { pending, ...this.counters, degraded: this.lastError !== null, lastError: this.lastError };
  }

  /** Stop the timer and write what is dirty (SIGTERM loses nothing the store takes). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
