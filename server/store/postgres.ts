/**
 * PostgreSQL through `pg`, for teams that outgrow one machine or run several instances on one
 * database. A pool of connections and named prepared statements for the texts that repeat; the
 * migration lock is an advisory transaction lock, so instances starting together migrate one
 * after the other.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import type { SqlRunner, SqlValue, StoreDatabase } from './migrate';

/** Arbitrary, fixed: every Celeriac instance takes the same advisory lock to migrate. */
const MIGRATION_LOCK_KEY = 0x63656c65; // "cele"

/** Statement texts given a name, so each connection parses and plans them once. */
const MAX_NAMED_STATEMENTS = 256;
const statementNames = new Map<string, string>();
const PLANNABLE = /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b/i;

/**
 * The query as `pg` runs it: the same few texts (upserts, the list's queries) run thousands of
 * times, so they are named prepared statements — `pg` prepares a name once per connection. A
 * name is a hash of the text, so one text always has one name; past MAX_NAMED_STATEMENTS
 * distinct texts (a search's shape varies) the rest run unnamed, so the server keeps a bounded
 * set per connection. Only plannable statements are named (not DDL).
 */
function query(sql: string, params: readonly SqlValue[]): pg.QueryConfig {
  let name = statementNames.get(sql);
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS && PLANNABLE.test(sql)) {
    name = `celeriac_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
    statementNames.set(sql, name);
  }
  return name === undefined ? { text: sql, values: [...params] } : { name, text: sql, values: [...params] };
}

export class PostgresDatabase implements StoreDatabase {
  readonly backend = 'postgresql';
  readonly pool: pg.Pool;

  constructor(url: string, logger: Pick<Logger, 'warn'>, options: { max?: number } = {}) {
    this.pool = new pg.Pool({ connectionString: url, max: options.max ?? 4 });
    // An idle client losing its connection (the server restarted) must not crash the process:
    // the pool replaces it; the next query says whether the server is back.
    this.pool.on('error', (error) => logger.warn({ err: error.message }, 'an idle PostgreSQL connection failed'));
  }

  readonly runner: SqlRunner = {
    execute: async (sql, params = []) => {
      await this.pool.query(query(sql, params));
    },
    rows: async (sql, params = []) => (await this.pool.query(query(sql, params))).rows as Record<string, unknown>[],
  };

  /** The pool's queries never hold the event loop. */
  get backgroundRunner(): SqlRunner {
    return this.runner;
  }

  exclusively<T>(work: (sql: SqlRunner) => Promise<T>): Promise<T> {
    return this.inTransaction(true, work);
  }

  transaction<T>(work: (sql: SqlRunner) => Promise<T>): Promise<T> {
    return this.inTransaction(false, work);
  }

  async writeCounting(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    // One statement outside BEGIN…COMMIT is a transaction of its own.
    return (await this.pool.query(query(sql, params))).rowCount ?? 0;
  }

  private async inTransaction<T>(migrationLock: boolean, work: (sql: SqlRunner) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const runner: SqlRunner = {
      execute: async (sql, params = []) => {
        await client.query(query(sql, params));
      },
      rows: async (sql, params = []) => (await client.query(query(sql, params))).rows as Record<string, unknown>[],
    };
    try {
      await client.query('BEGIN');
      if (migrationLock) await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const result = await work(runner);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
