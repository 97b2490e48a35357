/**
 * The embedded SQLite database (better-sqlite3 12: v13 needs Node 22). WAL, so readers never
 * wait for the writer; synchronous=NORMAL, so a commit costs no fsync (a power cut may lose the
 * last commits, never corrupt the file); a busy timeout for the moments another connection
 * checkpoints.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { SqlRunner, SqlValue, StoreDatabase } from './migrate';

/** Distinct statement texts kept prepared; past it the cache starts again (statements are cheap to prepare). */
const MAX_PREPARED = 256;

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

  /** Prepared statements by their text: the writer runs the same few statements over and over. */
  private readonly prepared = new Map<string, { statement: Database.Statement; order: number[] }>();

  /**
   * The same statements as PostgreSQL: each `$n` becomes a `?`, and the parameters are passed in
   * the order the placeholders appear (a `$n` may appear more than once).
   */
  private bind(sql: string, params: readonly SqlValue[]): { statement: Database.Statement; values: SqlValue[] } {
    let entry = this.prepared.get(sql);
    if (!entry) {
      const order: number[] = [];
      const text = sql.replace(/\$(\d+)/g, (_match, n: string) => {
        order.push(Number(n) - 1);
        return '?';
      });
      entry = { statement: this.db.prepare(text), order };
      if (this.prepared.size >= MAX_PREPARED) this.prepared.clear();
      this.prepared.set(sql, entry);
    }
    return { statement: entry.statement, values: entry.order.map((i) => params[i] ?? null) };
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

  transaction<T>(work: (sql: SqlRunner) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN', work);
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

  close(): void {
    this.db.close();
  }
}
