/**
 * The store's schema, as versioned migrations. A migration is never edited once released: a
 * change is a new migration, so every database — created by any release — reaches the latest
 * schema by running the ones it lacks, in order (./migrate.ts).
 *
 * One SQL text serves SQLite and PostgreSQL where the two agree, which is most of it: times are
 * epoch seconds as DOUBLE PRECISION (REAL affinity in SQLite), booleans are 0/1 integers (one
 * representation for both drivers), JSON is TEXT. Where they differ a migration says so per backend.
 */

export type StoreBackend = 'sqlite' | 'postgresql';

export interface Migration {
  /** 1, 2, 3… without gaps. */
  readonly version: number;
  /** What it changes, for the log and the schema table. */
  readonly name: string;
  /** Statements run in order inside one transaction. */
  readonly statements: Readonly<Record<StoreBackend, readonly string[]>>;
}

/** The same statements on both backends. */
function portable(statements: readonly string[]): Readonly<Record<StoreBackend, readonly string[]>> {
  return { sqlite: statements, postgresql: statements };
}

/**
 * Tasks hold the merged state (ClusterState decides it with Celery's semantics; the store keeps
 * the result, one row per task). The columns are the TaskRecord's fields; `updated_at` is
 * Celeriac's clock at the last write, for retention.
 */
const TASKS_V1 = `CREATE TABLE tasks (
  uuid TEXT PRIMARY KEY,
  name TEXT,
  state TEXT NOT NULL,
  sent DOUBLE PRECISION,
  received DOUBLE PRECISION,
  started DOUBLE PRECISION,
  succeeded DOUBLE PRECISION,
  failed DOUBLE PRECISION,
  retried DOUBLE PRECISION,
  revoked DOUBLE PRECISION,
  rejected DOUBLE PRECISION,
  timestamp DOUBLE PRECISION,
  args TEXT,
  kwargs TEXT,
  eta TEXT,
  expires TEXT,
  retries INTEGER,
  worker TEXT,
  client TEXT,
  result TEXT,
  exception TEXT,
  traceback TEXT,
  runtime DOUBLE PRECISION,
  exchange TEXT,
  routing_key TEXT,
  queue TEXT,
  clock BIGINT NOT NULL,
  root_id TEXT,
  parent_id TEXT,
  terminated INTEGER,
  signum TEXT,
  expired INTEGER,
  requeue INTEGER,
  revoke_request TEXT,
  extra TEXT,
  extra_at DOUBLE PRECISION,
  updated_at DOUBLE PRECISION NOT NULL
)`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'tasks and workers',
    statements: portable([
      TASKS_V1,
      // The tasks list's default order and its filters (Flower's /api/tasks), each newest first.
      'CREATE INDEX tasks_by_timestamp ON tasks (timestamp)',
      'CREATE INDEX tasks_by_state ON tasks (state, timestamp)',
      'CREATE INDEX tasks_by_name ON tasks (name, timestamp)',
      'CREATE INDEX tasks_by_worker ON tasks (worker, timestamp)',
      'CREATE INDEX tasks_by_received ON tasks (received)',
      'CREATE INDEX tasks_by_root ON tasks (root_id)',
      'CREATE INDEX tasks_by_parent ON tasks (parent_id)',
      'CREATE INDEX tasks_by_updated ON tasks (updated_at)',
      // A worker's last known record (heartbeats are not persisted one by one).
      `CREATE TABLE workers (
        hostname TEXT PRIMARY KEY,
        record TEXT NOT NULL,
        last_heard DOUBLE PRECISION,
        updated_at DOUBLE PRECISION NOT NULL
      )`,
    ]),
  },
  {
    version: 2,
    name: 'task timelines, the audit log and pauses',
    statements: portable([
      // TaskTimeline.toJSON(): every event of the task (bounded), for the task page.
      'ALTER TABLE tasks ADD COLUMN events TEXT',
      // One row per control action (server/control/audit.ts). `id` is chosen by the writer, so a
      // write retried after an unclear failure (the commit landed, the reply did not) adds nothing.
      `CREATE TABLE audit (
        id TEXT PRIMARY KEY,
        time DOUBLE PRECISION NOT NULL,
        user_name TEXT,
        remote TEXT,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        parameters TEXT NOT NULL,
        ok INTEGER NOT NULL,
        message TEXT NOT NULL,
        workers TEXT NOT NULL
      )`,
      // /api/audit: newest first, filtered by action or target.
      'CREATE INDEX audit_by_time ON audit (time, id)',
      'CREATE INDEX audit_by_action ON audit (action, time, id)',
      'CREATE INDEX audit_by_target ON audit (target, time, id)',
      // The pause state (server/control/pauses.ts): one row per paused queue or worker.
      `CREATE TABLE pauses (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (kind, name)
      )`,
      // Files of <data-dir> imported into the store (audit.jsonl, pauses.json): each only once.
      `CREATE TABLE celeriac_imports (
        source TEXT PRIMARY KEY,
        imported_at DOUBLE PRECISION NOT NULL,
        entries INTEGER NOT NULL
      )`,
    ]),
  },
];

/** The schema version this code writes and reads. */
export const LATEST_VERSION: number = MIGRATIONS.reduce((latest, m) => Math.max(latest, m.version), 0);
