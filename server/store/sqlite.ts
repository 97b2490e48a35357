/**
 * The embedded SQLite database (better-sqlite3 12: v13 needs Node 22). WAL, so readers never
 * wait for the writer; synchronous=NORMAL, so a commit costs no fsync (a power cut may lose the
 * last commits, never corrupt the file); a busy timeout for the moments another connection
 * checkpoints.
 *
 * Writes (`transaction`) run in a thread of their own (./sqlite-writer-thread.ts) on a second
 * connection, so the event loop never waits on the disk. Reads that may take long
 * (`backgroundRunner`: history lists and searches, counts over every row) run in a reader thread
 * on a third connection — WAL lets it read while the writer writes, and neither waits for the
 * other. This connection answers the short reads (one task by its key); the migrations at start
 * run on a thread of their own (migrateOnThread). A thread that dies is started again by the next
 * request.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Worker } from 'node:worker_threads';
import { errorText } from '../errors';
import { startTypeScriptWorker } from '../worker-thread';
import { migrate, type MigrationReport, SchemaTooNewError, type SqlRunner, type SqlValue, type StoreDatabase } from './migrate';
import { MIGRATIONS } from './schema';
import type { ReadRequest, WriteReply, WriteRequest, WriterThreadInit } from './sqlite-writer-thread';

/** What the migration thread (./sqlite-migrate-thread.ts) is given, and answers. */
export interface MigrateThreadInit {
  file: string;
}
export type MigrateReply = { ok: true; report: MigrationReport } | { ok: false; tooNew: { found: number; latest: number } } | { ok: false; error: string };

/** Distinct statement texts kept prepared; past it the cache starts again (statements are cheap to prepare). */
const MAX_PREPARED = 256;

/**
 * The heaps of SQLite's reader thread and migration thread: a young generation of at most 12 MiB,
 * where V8 otherwise grows it with the allocation rate and keeps it grown. A history read or an
 * export page briefly allocates its rows there: at 1,000,000 stored tasks RSS after bench:store's
 * queries and exports was 418 MiB without the limit and 390 with it (peak while exporting 445 →
 * 429 MiB), the queries as fast. Not the writer's: limited, it wrote 9 % fewer rows a second
 * (bench:store's ingest at 30,000 events/s caught up 31.7 s after the events, 22.5 s without).
 */
const SQLITE_READ_THREAD_LIMITS = { maxYoungGenerationSizeMb: 12 } as const;

export class SqliteDatabase implements StoreDatabase {
  readonly backend = 'sqlite';
  readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
  }

  /** Prepared statements by their text: the same few statements run over and over. */
  private readonly prepared = new Map<string, Database.Statement>();
  private readonly writer = new SqliteThread(() => this.db.name, 'writer');
  private readonly reader = new SqliteThread(() => this.db.name, 'reader');

  private bind(sql: string, params: readonly SqlValue[]): { statement: Database.Statement; values: SqlValue[] } {
    const { text, values } = positional(sql, params);
    let statement = this.prepared.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      if (this.prepared.size >= MAX_PREPARED) this.prepared.clear();
      this.prepared.set(text, statement);
    }
    return { statement, values };
  }

  readonly runner: SqlRunner = {
    execute: async (sql, params = []) => {
      const { statement, values } = this.bind(sql, params);
      statement.run(...values);
    },
    rows: async (sql, params = []) => {
      const { statement, values } = this.bind(sql, params);
      return statement.all(...values) as Record<string, unknown>[];
    },
  };

  async exclusively<T>(work: (sql: SqlRunner) => Promise<T>): Promise<T> {
    // IMMEDIATE takes the write lock now: two processes migrating one file run one after the other.
    return this.inTransaction('BEGIN IMMEDIATE', work);
  }

  /** Collect the statements `work` executes and run them in one transaction on the writer thread. */
  async transaction<T>(work: (sql: SqlRunner) => Promise<T>): Promise<T> {
    if (this.db.memory) return this.inTransaction('BEGIN', work); // a second connection would see another database
    const statements: WriteRequest['statements'] = [];
    const collecting: SqlRunner = {
      execute: async (sql, params = []) => {
        statements.push(positionalStatement(sql, params));
      },
      rows: () => Promise.reject(new Error('a write transaction on the writer thread cannot read')),
    };
    const result = await work(collecting);
    if (statements.length > 0) await this.writeOnThread(statements);
    return result;
  }

  async writeCounting(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    if (this.db.memory) {
      const { statement, values } = this.bind(sql, params);
      return statement.run(...values).changes;
    }
    return this.writeOnThread([positionalStatement(sql, params)]);
  }

  /** Long reads (history, counts) on the reader thread; deletes (retention) on the writer, between batches. */
  readonly backgroundRunner: SqlRunner = {
    execute: (sql, params = []) => this.writeCounting(sql, params).then(() => undefined),
    rows: async (sql, params = []) => {
      if (this.db.memory) return this.runner.rows(sql, params);
      const reply = await this.reader.request((id) => ({ id, read: positionalStatement(sql, params) }) satisfies ReadRequest);
      return reply.rows ?? [];
    },
  };

  readonly readRunner: SqlRunner = this.backgroundRunner;

  /** Resolves with the rows the statements changed. */
  private async writeOnThread(statements: WriteRequest['statements']): Promise<number> {
    return (await this.writer.request((id) => ({ id, statements }) satisfies WriteRequest)).changes;
  }

  private async inTransaction<T>(begin: string, work: (sql: SqlRunner) => Promise<T>): Promise<T> {
    this.db.exec(begin);
    try {
      const result = await work(this.runner);
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  private migrating: Worker | null = null;

  /**
   * The schema migrations (./schema.ts), for a file on a thread of its own
   * (./sqlite-migrate-thread.ts) so the event loop never waits for one; in memory on this
   * connection (another would see another database).
   */
  async migrateOnThread(): Promise<MigrationReport> {
    if (this.db.memory) return migrate(this, MIGRATIONS);
    const thread = startTypeScriptWorker(new URL('./sqlite-migrate-thread.ts', import.meta.url), { file: this.db.name } satisfies MigrateThreadInit, SQLITE_READ_THREAD_LIMITS);
    this.migrating = thread;
    try {
      const reply = await new Promise<MigrateReply>((resolve, reject) => {
        thread.once('message', resolve);
        thread.once('error', (error) => reject(new Error(`the SQLite migration thread failed: ${errorText(error)}`)));
        thread.once('exit', (code) => reject(new Error(`the SQLite migration thread exited (${code})`)));
      });
      if (reply.ok) return reply.report;
      if ('tooNew' in reply) throw new SchemaTooNewError(reply.tooNew.found, reply.tooNew.latest);
      throw new Error(reply.error);
    } finally {
      this.migrating = null;
      await thread.terminate();
    }
  }

  async close(): Promise<void> {
    // A migration under way is rolled back with its thread's connection.
    await this.migrating?.terminate();
    await this.reader.terminate();
    await this.writer.terminate();
    this.db.close();
  }
}

/**
 * A thread with a connection of its own (./sqlite-writer-thread.ts), started on first use and
 * again after it dies. Referenced while a request is under way (a shutdown's last flush must
 * finish), idle otherwise, so it never keeps the process alive.
 */
class SqliteThread {
  private thread: Worker | null = null;
  private readonly waiting = new Map<number, (reply: WriteReply) => void>();
  private nextRequest = 0;

  constructor(
    private readonly file: () => string,
    private readonly role: 'writer' | 'reader',
  ) {}

  request(make: (id: number) => WriteRequest | ReadRequest): Promise<Extract<WriteReply, { ok: true }>> {
    const thread = this.started();
    const id = ++this.nextRequest;
    thread.ref();
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (reply) => (reply.ok ? resolve(reply) : reject(new Error(reply.error))));
      thread.postMessage(make(id));
    });
  }

  private started(): Worker {
    if (this.thread) return this.thread;
    const thread = startTypeScriptWorker(
      new URL('./sqlite-writer-thread.ts', import.meta.url),
      { file: this.file() } satisfies WriterThreadInit,
      this.role === 'reader' ? SQLITE_READ_THREAD_LIMITS : undefined,
    );
    thread.on('message', (reply: WriteReply) => {
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) thread.unref();
    });
    const fail = (error: string): void => {
      if (this.thread === thread) this.thread = null;
      for (const [id, settle] of this.waiting) settle({ id, ok: false, error });
      this.waiting.clear();
    };
    thread.on('error', (error) => fail(`the SQLite ${this.role} thread failed: ${errorText(error)}`));
    thread.on('exit', (code) => fail(`the SQLite ${this.role} thread exited (${code})`));
    thread.unref();
    this.thread = thread;
    return thread;
  }

  async terminate(): Promise<void> {
    const thread = this.thread;
    this.thread = null;
    if (thread) await thread.terminate();
  }
}

/** Texts and orders of `$n` statements already translated (statements repeat). */
const translated = new Map<string, { text: string; order: number[] }>();

/**
 * The same statements as PostgreSQL: each `$n` becomes a `?`, and the parameters are passed in
 * the order the placeholders appear (a `$n` may appear more than once).
 */
function positional(sql: string, params: readonly SqlValue[]): { text: string; values: SqlValue[] } {
  let entry = translated.get(sql);
  if (!entry) {
    const order: number[] = [];
    const text = sql.replace(/\$(\d+)/g, (_match, n: string) => {
      order.push(Number(n) - 1);
      return '?';
    });
    entry = { text, order };
    if (translated.size >= MAX_PREPARED) translated.clear();
    translated.set(sql, entry);
  }
  return { text: entry.text, values: entry.order.map((i) => params[i] ?? null) };
}

function positionalStatement(sql: string, params: readonly SqlValue[]): { sql: string; values: SqlValue[] } {
  const { text, values } = positional(sql, params);
  return { sql: text, values };
}
