/**
 * The store's schema, as versioned migrations. A migration is never edited once released: a
 * change is a new migration, so every database — created by any release — reaches the latest
 * schema by running the ones it lacks, in order (./migrate.ts).
 *
 * One SQL text serves SQLite and PostgreSQL where the two agree, which is most of it: times are
 * epoch seconds as DOUBLE PRECISION (REAL affinity in SQLite), booleans are 0/1 integers (one
 * representation for both drivers), JSON is TEXT. Where they differ a migration says so per backend.
 */

import { ID_BYTES_SQL } from './task-id-index';

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

/**
 * Search over every stored task (Flower's query language, server/state/search.ts). Substring
 * terms need at least 3 characters, which is exactly what a trigram index answers: SQLite's FTS5
 * trigram tokenizer, PostgreSQL's pg_trgm. The indexed text (`doc`) is the task's searchable
 * fields casefolded by Celeriac (Python's `str.casefold`, as Flower matches), so the index finds
 * a superset of the matches and the query language's own matcher decides each candidate.
 *
 * A task is indexed once it has finished (its fields no longer change) and only when its record
 * is complete; every other row has `search_indexed = 0` and is always a candidate (few rows: the
 * tasks still running, and the rare partial ones), so no match is ever missed.
 */
const SEARCH_V2: Readonly<Record<StoreBackend, readonly string[]>> = {
  sqlite: [
    'ALTER TABLE tasks ADD COLUMN search_indexed INTEGER NOT NULL DEFAULT 0',
    'CREATE INDEX tasks_unindexed ON tasks (timestamp) WHERE search_indexed = 0',
    // Contentless: the text is not kept twice. Its rowid is the task row's.
    "CREATE VIRTUAL TABLE tasks_search USING fts5(doc, content='', contentless_delete=1, tokenize='trigram case_sensitive 1')",
    // Retention (or anyone) deleting a task deletes its index entry.
    'CREATE TRIGGER tasks_search_delete AFTER DELETE ON tasks BEGIN DELETE FROM tasks_search WHERE rowid = old.rowid; END',
  ],
  postgresql: [
    // A trusted extension since PostgreSQL 13: the database's owner may create it.
    'CREATE EXTENSION IF NOT EXISTS pg_trgm',
    'ALTER TABLE tasks ADD COLUMN search_indexed INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE tasks ADD COLUMN search_doc TEXT',
    'CREATE INDEX tasks_unindexed ON tasks (timestamp) WHERE search_indexed = 0',
    'CREATE INDEX tasks_search_doc ON tasks USING gin (search_doc gin_trgm_ops)',
  ],
};
/** The counters' columns of a trend table, in order (written out here: a migration's statements never change with the code). */
const TREND_COUNT_COLUMNS = ['received', 'started', 'succeeded', 'failed', 'retried', 'revoked', 'rejected', 'runtime_count', 'runtime_sum', 'wait_count', 'wait_sum'];

interface TrendRollUp {
  counts: string;
  buckets: string;
  time: string;
  seconds: number;
  /** The finer tables it is summed from. */
  from: { counts: string; buckets: string; time: string };
}

/** A roll-up's tables, their indexes, and their rows summed from a finer table's (minutes or hours). */
function trendRollUp({ counts, buckets, time, seconds, from }: TrendRollUp): string[] {
  const start = `(${from.time} / ${seconds}) * ${seconds}`;
  return [
    trendCounts(counts, time),
    trendBuckets(buckets, time),
    `CREATE INDEX ${counts}_by_name ON ${counts} (name, ${time})`,
    `CREATE INDEX ${counts}_by_queue ON ${counts} (queue, ${time})`,
    `CREATE INDEX ${buckets}_by_name ON ${buckets} (name, ${time})`,
    `CREATE INDEX ${buckets}_by_queue ON ${buckets} (queue, ${time})`,
    `INSERT INTO ${counts} (${time}, name, queue, ${TREND_COUNT_COLUMNS.join(', ')}) SELECT ${start}, name, queue, ${TREND_COUNT_COLUMNS.map((c) => `SUM(${c})`).join(', ')} FROM ${from.counts} GROUP BY ${start}, name, queue`,
    `INSERT INTO ${buckets} (${time}, name, queue, kind, bucket, count) SELECT ${start}, name, queue, kind, bucket, SUM(count) FROM ${from.buckets} GROUP BY ${start}, name, queue, kind, bucket`,
  ];
}

/**
 * Roll-ups a quarter-hour and six hours long (server/store/trends.ts), so the 24-hour range
 * (15-minute steps) reads 96 rows per task name and queue instead of 1,440 minutes, and the
 * 30-day range (6-hour steps) 120 instead of 720 hours. Filled from the minutes and the hours
 * that are kept (both kept as long: --retention-aggregates).
 */
const ROLL_UPS_V7: readonly TrendRollUp[] = [
  { counts: 'trend_quarters', buckets: 'trend_quarter_buckets', time: 'quarter', seconds: 900, from: { counts: 'trend_minutes', buckets: 'trend_minute_buckets', time: 'minute' } },
  { counts: 'trend_six_hours', buckets: 'trend_six_hour_buckets', time: 'six_hour', seconds: 21_600, from: { counts: 'trend_hours', buckets: 'trend_hour_buckets', time: 'hour' } },
];
const TREND_ROLL_UPS_V7: Readonly<Record<StoreBackend, readonly string[]>> = {
  sqlite: ROLL_UPS_V7.flatMap(trendRollUp),
  // Filled tables with no statistics yet: PostgreSQL took 10 million tasks' quarter-hours for 33
  // rows and sorted 133,722 on disk for the Trends page (0.4 s) until autovacuum got to them.
  postgresql: [...ROLL_UPS_V7.flatMap(trendRollUp), ...ROLL_UPS_V7.flatMap(({ counts, buckets }) => [`ANALYZE ${counts}`, `ANALYZE ${buckets}`])],
};

/**
 * Task ids by their parts on PostgreSQL (./task-id-index.ts): a GIN expression index over each
 * finished task's standard id, tagged bytes. Built from the rows in one pass; nothing is
 * rewritten. (SQLite's trigram index holds the id already.)
 */
const ID_BYTES_V6: Readonly<Record<StoreBackend, readonly string[]>> = {
  sqlite: [],
  postgresql: [
    ID_BYTES_SQL.createFunction,
    // A GIN index builds much faster with more memory to sort in; for this transaction only.
    "SET LOCAL maintenance_work_mem = '256MB'",
    `CREATE INDEX tasks_id_bytes ON tasks USING gin (${ID_BYTES_SQL.value}) WHERE ${ID_BYTES_SQL.rows}`,
  ],
};

/** Per (minute or hour, name, queue): counters that upserts add to (server/store/trends.ts). */
function trendCounts(table: string, time: string): string {
  return `CREATE TABLE ${table} (
  ${time} BIGINT NOT NULL,
  name TEXT NOT NULL,
  queue TEXT NOT NULL,
  received BIGINT NOT NULL,
  started BIGINT NOT NULL,
  succeeded BIGINT NOT NULL,
  failed BIGINT NOT NULL,
  retried BIGINT NOT NULL,
  revoked BIGINT NOT NULL,
  rejected BIGINT NOT NULL,
  runtime_count BIGINT NOT NULL,
  runtime_sum DOUBLE PRECISION NOT NULL,
  wait_count BIGINT NOT NULL,
  wait_sum DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (${time}, name, queue)
)`;
}

/** The histograms' non-empty buckets, one row each (kind 0 runtime, 1 queue wait): sparse, and additive like the counters. */
function trendBuckets(table: string, time: string): string {
  return `CREATE TABLE ${table} (
  ${time} BIGINT NOT NULL,
  name TEXT NOT NULL,
  queue TEXT NOT NULL,
  kind SMALLINT NOT NULL,
  bucket SMALLINT NOT NULL,
  count BIGINT NOT NULL,
  PRIMARY KEY (${time}, name, queue, kind, bucket)
)`;
}

/** Per (minute or hour, queue): the largest and the last polled length. */
function queueLengths(table: string, time: string): string {
  return `CREATE TABLE ${table} (
  ${time} BIGINT NOT NULL,
  queue TEXT NOT NULL,
  max_length BIGINT NOT NULL,
  last_length BIGINT NOT NULL,
  last_at DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (${time}, queue)
)`;
}

/**
 * SQLite's search index holds what PostgreSQL's does (./task-row.ts, searchDoc): the task id,
 * args, kwargs and result, casefolded, a U+001F apart; the name, state and worker are found by
 * their own indexes. The index is rebuilt from the rows: a row of ASCII text here (SQLite's
 * `lower` is casefold for ASCII; a NUL makes `length` stop short, so such a row is not ASCII
 * here), any other left unindexed for the settled-index pass to index in the background with
 * Python's casefold (./settled-index.ts). PostgreSQL's text already is this.
 */
const SQLITE_SEARCH_TEXT_V8 = "(COALESCE(uuid, '') || char(31) || COALESCE(args, '') || char(31) || COALESCE(kwargs, '') || char(31) || COALESCE(result, ''))";
const SEARCH_TEXT_V8: Readonly<Record<StoreBackend, readonly string[]>> = {
  sqlite: [
    'DROP TABLE tasks_search',
    "CREATE VIRTUAL TABLE tasks_search USING fts5(doc, content='', contentless_delete=1, tokenize='trigram case_sensitive 1')",
    `UPDATE tasks SET search_indexed = 0 WHERE search_indexed = 1 AND octet_length(${SQLITE_SEARCH_TEXT_V8}) <> length(${SQLITE_SEARCH_TEXT_V8})`,
    `INSERT INTO tasks_search (rowid, doc) SELECT rowid, lower(${SQLITE_SEARCH_TEXT_V8}) FROM tasks WHERE search_indexed = 1`,
  ],
  postgresql: [],
};

/**
 * PostgreSQL's B-tree indexes sort nulls last ascending, so a backward scan gives DESC NULLS
 * FIRST; the tasks list sorts DESC NULLS LAST (and ASC NULLS FIRST), as Flower and the
 * in-memory list do, so PostgreSQL sorted every matching row instead of reading the index
 * (bench:store: 0.5 s for the newest 20 failures at 1,000,000 tasks). These indexes are in the
 * list's order, forwards and backwards. SQLite sorts nulls first ascending already: nothing to do.
 */
const LIST_ORDER_V5: Readonly<Record<StoreBackend, readonly string[]>> = {
  sqlite: [],
  postgresql: [
    'DROP INDEX tasks_by_timestamp',
    'DROP INDEX tasks_by_state',
    'DROP INDEX tasks_by_name',
    'DROP INDEX tasks_by_worker',
    'DROP INDEX tasks_by_received',
    'CREATE INDEX tasks_by_timestamp ON tasks (timestamp DESC NULLS LAST)',
    'CREATE INDEX tasks_by_state ON tasks (state, timestamp DESC NULLS LAST)',
    'CREATE INDEX tasks_by_name ON tasks (name, timestamp DESC NULLS LAST)',
    'CREATE INDEX tasks_by_worker ON tasks (worker, timestamp DESC NULLS LAST)',
    'CREATE INDEX tasks_by_received ON tasks (received DESC NULLS LAST)',
  ],
};

/**
 * How many tasks each task name has in each state, kept exact by triggers on tasks, so that the
 * tasks list's total for a name, a state, both or neither is a sum of a few rows of `task_counts`
 * (./task-counts.ts). Counting the tasks read the matches' index entries: on PostgreSQL 0.36 s for
 * a name's 1,000,000 tasks in 10,000,000, on SQLite 50 ms for the 954,869 SUCCESS tasks of
 * 1,000,000. A task with no name is counted under `named` false (0).
 *
 * - SQLite: row triggers, each an upsert of one row of a table of a few dozen (a few microseconds
 *   on the writer thread, which spends about 250 µs writing a task row and its indexes). One row
 *   per name and state.
 * - PostgreSQL: statement triggers with transition tables, one grouped row of change per name and
 *   state a statement changes (an upsert of a batch fires the INSERT and the UPDATE triggers once
 *   each), where row triggers would run PL/pgSQL once per task. The rows are changes, only ever
 *   inserted, and a count is their sum: no row is updated by two transactions, so writers that
 *   share the table (several instances, retention, the writer) neither wait for nor deadlock on
 *   each other; ./task-counts.ts folds them into one row per name and state every 30 s.
 */
const TASK_COUNTS_V9: Readonly<Record<StoreBackend, readonly string[]>> = {
  sqlite: [
    `CREATE TABLE task_counts (
      named INTEGER NOT NULL,
      name TEXT NOT NULL,
      state TEXT NOT NULL,
      tasks INTEGER NOT NULL,
      PRIMARY KEY (named, name, state)
    ) WITHOUT ROWID`,
    `INSERT INTO task_counts (named, name, state, tasks)
      SELECT name IS NOT NULL, COALESCE(name, ''), state, COUNT(*) FROM tasks GROUP BY 1, 2, 3`,
    `CREATE TRIGGER tasks_counted_on_insert AFTER INSERT ON tasks BEGIN
      INSERT INTO task_counts (named, name, state, tasks) VALUES (NEW.name IS NOT NULL, COALESCE(NEW.name, ''), NEW.state, 1)
        ON CONFLICT (named, name, state) DO UPDATE SET tasks = tasks + 1;
    END`,
    `CREATE TRIGGER tasks_counted_on_update AFTER UPDATE OF name, state ON tasks WHEN OLD.name IS NOT NEW.name OR OLD.state IS NOT NEW.state BEGIN
      UPDATE task_counts SET tasks = tasks - 1 WHERE named = (OLD.name IS NOT NULL) AND name = COALESCE(OLD.name, '') AND state = OLD.state;
      INSERT INTO task_counts (named, name, state, tasks) VALUES (NEW.name IS NOT NULL, COALESCE(NEW.name, ''), NEW.state, 1)
        ON CONFLICT (named, name, state) DO UPDATE SET tasks = tasks + 1;
    END`,
    `CREATE TRIGGER tasks_counted_on_delete AFTER DELETE ON tasks BEGIN
      UPDATE task_counts SET tasks = tasks - 1 WHERE named = (OLD.name IS NOT NULL) AND name = COALESCE(OLD.name, '') AND state = OLD.state;
    END`,
  ],
  postgresql: [
    `CREATE TABLE task_counts (
      named BOOLEAN NOT NULL,
      name TEXT NOT NULL,
      state TEXT NOT NULL,
      tasks BIGINT NOT NULL
    )`,
    'CREATE INDEX task_counts_by_name ON task_counts (named, name, state) INCLUDE (tasks)',
    `CREATE FUNCTION celeriac_count_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM task_counts;
      ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO task_counts (named, name, state, tasks)
        SELECT name IS NOT NULL, COALESCE(name, ''), state, COUNT(*) FROM new_rows GROUP BY 1, 2, 3;
      ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO task_counts (named, name, state, tasks)
        SELECT name IS NOT NULL, COALESCE(name, ''), state, -COUNT(*) FROM old_rows GROUP BY 1, 2, 3;
      ELSE
        INSERT INTO task_counts (named, name, state, tasks)
        SELECT name IS NOT NULL, COALESCE(name, ''), state, SUM(tasks) FROM (
          SELECT name, state, 1 AS tasks FROM new_rows UNION ALL SELECT name, state, -1 FROM old_rows
        ) AS change GROUP BY 1, 2, 3 HAVING SUM(tasks) <> 0;
      END IF;
      RETURN NULL;
    END
    $$`,
    // No write between the count and the triggers (an instance of the previous release may be writing).
    'LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE',
    `INSERT INTO task_counts (named, name, state, tasks)
      SELECT name IS NOT NULL, COALESCE(name, ''), state, COUNT(*) FROM tasks GROUP BY 1, 2, 3`,
    'CREATE TRIGGER tasks_counted_on_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION celeriac_count_tasks()',
    'CREATE TRIGGER tasks_counted_on_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION celeriac_count_tasks()',
    'CREATE TRIGGER tasks_counted_on_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION celeriac_count_tasks()',
    'CREATE TRIGGER tasks_counted_on_truncate AFTER TRUNCATE ON tasks FOR EACH STATEMENT EXECUTE FUNCTION celeriac_count_tasks()',
  ],
};

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
  { version: 2, name: 'search over stored tasks', statements: SEARCH_V2 },
  {
    version: 3,
    name: 'trends: per-minute and hourly aggregates, queue-length history',
    statements: portable([
      trendCounts('trend_minutes', 'minute'),
      trendBuckets('trend_minute_buckets', 'minute'),
      trendCounts('trend_hours', 'hour'),
      trendBuckets('trend_hour_buckets', 'hour'),
      // The primary keys serve time ranges over everything; a task name or a queue over a range needs its own.
      'CREATE INDEX trend_minutes_by_name ON trend_minutes (name, minute)',
      'CREATE INDEX trend_minutes_by_queue ON trend_minutes (queue, minute)',
      'CREATE INDEX trend_minute_buckets_by_name ON trend_minute_buckets (name, minute)',
      'CREATE INDEX trend_minute_buckets_by_queue ON trend_minute_buckets (queue, minute)',
      'CREATE INDEX trend_hours_by_name ON trend_hours (name, hour)',
      'CREATE INDEX trend_hours_by_queue ON trend_hours (queue, hour)',
      'CREATE INDEX trend_hour_buckets_by_name ON trend_hour_buckets (name, hour)',
      'CREATE INDEX trend_hour_buckets_by_queue ON trend_hour_buckets (queue, hour)',
      queueLengths('queue_minutes', 'minute'),
      queueLengths('queue_hours', 'hour'),
      'CREATE INDEX queue_minutes_by_queue ON queue_minutes (queue, minute)',
      'CREATE INDEX queue_hours_by_queue ON queue_hours (queue, hour)',
    ]),
  },
  {
    version: 4,
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
  { version: 5, name: 'the tasks list order in PostgreSQL indexes', statements: LIST_ORDER_V5 },
  { version: 6, name: "PostgreSQL's index of task ids by their parts", statements: ID_BYTES_V6 },
  { version: 7, name: 'trends: quarter-hour and six-hour roll-ups', statements: TREND_ROLL_UPS_V7 },
  { version: 8, name: "SQLite's search index without names, states and workers", statements: SEARCH_TEXT_V8 },
  { version: 9, name: 'task counts by name and state', statements: TASK_COUNTS_V9 },
];

/** The schema version this code writes and reads. */
export const LATEST_VERSION: number = MIGRATIONS.reduce((latest, m) => Math.max(latest, m.version), 0);
