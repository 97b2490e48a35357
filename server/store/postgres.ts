/**
 * PostgreSQL through `pg`, for teams that outgrow one machine or run several instances on one
 * database. Two pools, with named prepared statements for the texts that repeat: one for writes,
 * migrations and maintenance, and one for the reads that answer requests, under a server-side
 * statement timeout — so slow searches never take the writer's connections, and a search whose
 * client went away does not run on for minutes. The migration lock is an advisory transaction
 * lock, so instances starting together migrate one after the other.
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

/** PostgreSQL's SQLSTATE for a statement cancelled (by statement_timeout, here). */
const QUERY_CANCELED = '57014';

/** A read answering a request ran past --store-read-timeout and the server cancelled it. */
export class StoreReadTimeoutError extends Error {}

/** A runner over a pool or one of its clients (a transaction's). */
function runnerOn(queryable: pg.Pool | pg.PoolClient): SqlRunner {
  return {
    execute: async (sql, params = []) => {
      await queryable.query(query(sql, params));
    },
    rows: async (sql, params = []) => (await queryable.query(query(sql, params))).rows as Record<string, unknown>[],
  };
}

export interface PostgresOptions {
  /** Connections in each pool. */
  max?: number;
  /** --store-read-timeout: the server cancels a request's read running longer (0: never). */
  readTimeoutMs?: number;
}

/** The read timeout when none is given: far beyond any measured read (README, History). */
export const DEFAULT_READ_TIMEOUT_MS = 30_000;

export class PostgresDatabase implements StoreDatabase {
  readonly backend = 'postgresql';
  readonly pool: pg.Pool;
  /** Connections for readRunner: statement_timeout set at connect. */
  readonly readPool: pg.Pool;
  readonly runner: SqlRunner;
  readonly readRunner: SqlRunner;

  constructor(url: string, logger: Pick<Logger, 'warn'>, options: PostgresOptions = {}) {
    const max = options.max ?? 4;
    const readTimeoutMs = options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    // application_name tells the two apart in pg_stat_activity.
    this.pool = new pg.Pool({ connectionString: url, max, application_name: 'celeriac' });
    this.readPool = new pg.Pool({ connectionString: url, max, application_name: 'celeriac-reads', ...(readTimeoutMs > 0 ? { statement_timeout: readTimeoutMs } : {}) });
    // An idle client losing its connection (the server restarted) must not crash the process:
    // the pool replaces it; the next query says whether the server is back.
    for (const pool of [this.pool, this.readPool]) pool.on('error', (error) => logger.warn({ err: error.message }, 'an idle PostgreSQL connection failed'));
    this.runner = runnerOn(this.pool);
    const reads = runnerOn(this.readPool);
    const timedOut = (error: unknown): never => {
      if ((error as { code?: unknown }).code === QUERY_CANCELED) {
        throw new StoreReadTimeoutError(`a history read took longer than --store-read-timeout (${readTimeoutMs} ms) and PostgreSQL cancelled it`);
      }
      throw error;
    };
    this.readRunner = {
      execute: (sql, params) => reads.execute(sql, params).catch(timedOut),
      rows: (sql, params) => reads.rows(sql, params).catch(timedOut),
    };
  }

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
    const runner = runnerOn(client);
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

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.readPool.end()]);
  }
}
