/**
 * Bring a database to the latest schema (./schema.ts): read its version from `celeriac_schema`,
 * then run the missing migrations and record each, all in one transaction (a failure leaves the
 * database as it was). A database newer than this code
 * is refused rather than written with an older idea of the schema. With several Celeriac
 * instances on one PostgreSQL database (issue 12), the backend serialises concurrent runs.
 */
import type { Migration, StoreBackend } from './schema';

/** What the runner needs of a database connection; ./sqlite.ts and ./postgres.ts provide it. */
export interface SchemaTarget {
  readonly backend: StoreBackend;
  /**
   * Run `work` in one transaction that also holds the database's migration lock (SQLite:
   * BEGIN IMMEDIATE; PostgreSQL: an advisory transaction lock); commit if it resolves.
   */
  exclusively<T>(work: (sql: SqlRunner) => Promise<T>): Promise<T>;
}

/** What a parameter may be: both drivers bind these the same way. */
export type SqlValue = string | number | null;

/** A store's database: the migration lock, plain transactions for writes, queries. */
export interface StoreDatabase extends SchemaTarget {
  readonly runner: SqlRunner;
  /**
   * For reads too slow to hold the event loop (a count over every row, the store's size), run in
   * the background: SQLite's run on the writer thread between writes; PostgreSQL's on the pool,
   * like `runner`'s.
   */
  readonly backgroundRunner: SqlRunner;
  /**
   * Reads that answer a request (lists, searches, export pages, workflows, trends, the audit
   * log). PostgreSQL: a pool of their own under a server-side statement timeout, so they never
   * hold the writer's connections nor run on after a client gave up. SQLite: backgroundRunner's
   * reader thread (SQLite has no statement timeout to set).
   */
  readonly readRunner: SqlRunner;
  /** Run `work` in one transaction; commit if it resolves, roll back if it rejects. */
  transaction<T>(work: (sql: SqlRunner) => Promise<T>): Promise<T>;
  /**
   * Run one write statement in a transaction of its own, the way `transaction` runs its writes
   * (SQLite: on the writer thread), and resolve with the number of rows it changed: retention
   * deletes in batches and needs to know when a batch came back short.
   */
  writeCounting(sql: string, params?: readonly SqlValue[]): Promise<number>;
  close(): void | Promise<void>;
}

export interface SqlRunner {
  /** Parameters are written `$1`, `$2`… (PostgreSQL's form; the SQLite adapter translates). */
  execute(sql: string, params?: readonly SqlValue[]): Promise<void>;
  /** The rows of a query, as plain objects keyed by column name. */
  rows(sql: string, params?: readonly SqlValue[]): Promise<Record<string, unknown>[]>;
}

/** Adds a parameter to `params` and returns its placeholder (`$1`, `$2`…). */
export function placeholders(params: SqlValue[]): (value: SqlValue) => string {
  return (value) => {
    params.push(value);
    return `$${params.length}`;
  };
}

export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly latest: number,
  ) {
    super(`the store's schema is version ${found}, newer than this Celeriac knows (${latest}): upgrade Celeriac, or point --store elsewhere`);
  }
}

export interface MigrationReport {
  from: number;
  to: number;
  applied: { version: number; name: string }[];
}

const SCHEMA_TABLE = 'CREATE TABLE IF NOT EXISTS celeriac_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)';

/** Migrations must be numbered 1, 2, 3… in order; anything else is a bug in schema.ts. */
export function checkMigrations(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) throw new Error(`migration ${index + 1} is numbered ${migration.version}: versions must run 1, 2, 3… without gaps`);
  });
}

export async function migrate(target: SchemaTarget, migrations: readonly Migration[], now: () => number = () => Date.now() / 1000): Promise<MigrationReport> {
  checkMigrations(migrations);
  const latest = migrations.length;
  return target.exclusively(async (sql) => {
    await sql.execute(SCHEMA_TABLE);
    const [row] = await sql.rows('SELECT MAX(version) AS version FROM celeriac_schema');
    const from = Number(row?.version ?? 0);
    if (from > latest) throw new SchemaTooNewError(from, latest);
    const applied: MigrationReport['applied'] = [];
    for (const migration of migrations.slice(from)) {
      for (const statement of migration.statements[target.backend]) await sql.execute(statement);
      await sql.execute('INSERT INTO celeriac_schema (version, name, applied_at) VALUES ($1, $2, $3)', [migration.version, migration.name, now()]);
      applied.push({ version: migration.version, name: migration.name });
    }
    return { from, to: latest, applied };
  });
}
