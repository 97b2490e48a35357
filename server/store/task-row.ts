/**
 * A task as one row of `tasks` (./schema.ts), and back. The row is the TaskRecord's merged
 * state — what ClusterState decided with Celery's semantics — so restoring it gives the same
 * record, and the same answers, as before a restart.
 */
import { isStandardTaskId } from './task-id-index';
import { powerOfTwoChunks } from './chunks';
import { z } from 'zod';
import type { JsonValue } from '../protocol/events';
import { casefold } from '../protocol/python/str';
import { FINISHED_STATES, PRECEDENCE, TaskRecord, type RevokeRequest } from '../state/task-record';
import { TaskTimeline } from '../state/task-timeline';
import type { StoreBackend } from './schema';
import type { SqlRunner, SqlValue, StoreDatabase } from './migrate';
import type { ChangeSink } from './change-writer';

/** Column order of the statements below; each maps one TaskRecord field. */
export const TASK_COLUMNS = [
  'uuid',
  'name',
  'state',
  'sent',
  'received',
  'started',
  'succeeded',
  'failed',
  'retried',
  'revoked',
  'rejected',
  'timestamp',
  'args',
  'kwargs',
  'eta',
  'expires',
  'retries',
  'worker',
  'client',
  'result',
  'exception',
  'traceback',
  'runtime',
  'exchange',
  'routing_key',
  'queue',
  'clock',
  'root_id',
  'parent_id',
  'terminated',
  'signum',
  'expired',
  'requeue',
  'revoke_request',
  'extra',
  'extra_at',
  'events',
  'updated_at',
] as const;

type TaskColumn = (typeof TASK_COLUMNS)[number];

const flag = (value: boolean | null): number | null => (value === null ? null : value ? 1 : 0);
const json = (value: unknown): string | null => (value === null ? null : JSON.stringify(value));

/** The row's values in TASK_COLUMNS order. */
export function taskRowValues(task: TaskRecord, updatedAt: number): SqlValue[] {
  const values: Record<TaskColumn, SqlValue> = {
    uuid: task.uuid,
    name: task.name,
    state: task.state,
    sent: task.sent,
    received: task.received,
    started: task.started,
    succeeded: task.succeeded,
    failed: task.failed,
    retried: task.retried,
    revoked: task.revoked,
    rejected: task.rejected,
    timestamp: task.timestamp,
    args: task.args,
    kwargs: task.kwargs,
    eta: task.eta,
    expires: task.expires,
    retries: task.retries,
    worker: task.worker,
    client: task.client,
    result: task.result,
    exception: task.exception,
    traceback: task.traceback,
    runtime: task.runtime,
    exchange: task.exchange,
    routing_key: task.routingKey,
    queue: task.queue,
    clock: task.clock,
    root_id: task.rootId,
    parent_id: task.parentId,
    terminated: flag(task.terminated),
    // Celery sends a number or a name ('SIGTERM'): kept as JSON so the type survives.
    signum: json(task.signum),
    expired: flag(task.expired),
    requeue: flag(task.requeue),
    revoke_request: json(task.revokeRequest),
    extra: json(task.extra),
    // -Infinity (no custom event yet) is not a number either driver stores: kept as null.
    extra_at: Number.isFinite(task.extraAt) ? task.extraAt : null,
    events: JSON.stringify(task.timeline),
    updated_at: updatedAt,
  };
  return TASK_COLUMNS.map((column) => values[column]);
}

/**
 * Rows a multi-row statement carries at most: well under SQLite's 32,766 and PostgreSQL's 65,535
 * parameters; smaller chunks are powers of two (./chunks.ts).
 */
export const ROWS_PER_STATEMENT = 128;

/** The task is in the search index: finished (its fields no longer change), and its record holds every field the row has. */
function indexable(task: TaskRecord): boolean {
  return task.complete && FINISHED_STATES.has(task.state);
}

/**
 * The text the search index holds for a task: the fields Flower's free-text terms look in that
 * vary task by task — the task id, args, kwargs and result — casefolded as Flower folds them, one
 * separator apart (a match across two fields is only a candidate; the matcher decides).
 *
 * The name, state and worker are left out on both backends: each has few distinct values, which a
 * search resolves first by the column's own index (./search-index.ts, resolveNeedles), and in the
 * text their trigrams were in most rows. On PostgreSQL they cost the trigram index its writes
 * (measured: 11,800 rows/s written with them and the id, 21,700 without, 29,900 with no trigram
 * index); on SQLite a search for a task name's part (`charge_card`, 92,752 of 1,000,000 tasks) cost
 * FTS5 a count through nine posting lists of 92,752 rows each, 300 ms, where the name's index counts
 * them in a few (`npm run bench:store`). PostgreSQL also leaves out a standard task id, found by its
 * own index (./task-id-index.ts); SQLite keeps it, its trigram index finds part of one directly.
 */
export function searchDoc(task: TaskRecord, backend: StoreBackend): string {
  const fields = [backend === 'postgresql' && isStandardTaskId(task.uuid) ? null : task.uuid, task.args, task.kwargs, task.result];
  return fields.map((field) => (field === null ? '' : casefold(field))).join('\u001f');
}

/**
 * Celery's precedence as SQL (server/state/task-record.ts): a partial record's state replaces
 * the row's only if it did not logically happen before it — the rule TaskRecord.apply follows.
 */
const PRECEDENCE_SQL = (column: string): string =>
  `CASE ${column} ${PRECEDENCE.flatMap((state, index) => (state === null ? [] : [`WHEN '${state}' THEN ${index}`])).join(' ')} ELSE ${PRECEDENCE.indexOf(null)} END`;
const MERGED_STATE = `CASE WHEN excluded.state <> 'RETRY' AND tasks.state <> 'RETRY' AND ${PRECEDENCE_SQL('excluded.state')} > ${PRECEDENCE_SQL('tasks.state')} THEN tasks.state ELSE excluded.state END`;
/** Columns a write always takes from the record: its last event's time and clock, and when it was written. */
const FROM_RECORD: ReadonlySet<string> = new Set(['timestamp', 'clock', 'updated_at']);

function columnsOf(backend: StoreBackend): readonly string[] {
  return backend === 'postgresql' ? [...TASK_COLUMNS, 'search_indexed', 'search_doc'] : [...TASK_COLUMNS, 'search_indexed'];
}

/**
 * A complete record replaces its row (it is the merged truth). A partial one is merged into the
 * row the store has: each field it lacks is kept, the state follows Celery's precedence, and it
 * leaves the search index (the row is then always a search candidate).
 */
function upsertSql(rows: number, backend: StoreBackend, partial: boolean): string {
  const columns = columnsOf(backend);
  const width = columns.length;
  const tuples = Array.from({ length: rows }, (_, row) => `(${columns.map((_, column) => `$${row * width + column + 1}`).join(', ')})`);
  return `INSERT INTO tasks (${columns.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (uuid) DO UPDATE SET ${updatesOf(columns, partial).join(', ')}`;
}

function updatesOf(columns: readonly string[], partial: boolean): string[] {
  return columns
    .filter((c) => c !== 'uuid')
    .map((c) => {
      if (!partial || FROM_RECORD.has(c)) return `${c} = excluded.${c}`;
      if (c === 'state') return `state = ${MERGED_STATE}`;
      if (c === 'search_indexed') return 'search_indexed = 0';
      if (c === 'search_doc') return 'search_doc = NULL';
      return `${c} = COALESCE(excluded.${c}, tasks.${c})`;
    });
}

/** PostgreSQL's type of each column that is not TEXT (./schema.ts). */
const PG_TYPES: Readonly<Record<string, string>> = {
  ...Object.fromEntries(['sent', 'received', 'started', 'succeeded', 'failed', 'retried', 'revoked', 'rejected', 'timestamp', 'runtime', 'extra_at', 'updated_at'].map((c) => [c, 'double precision'])),
  ...Object.fromEntries(['retries', 'terminated', 'expired', 'requeue', 'search_indexed'].map((c) => [c, 'integer'])),
  clock: 'bigint',
};

/** Rows one PostgreSQL upsert carries: its arrays, not its text, grow with them. */
const PG_ROWS_PER_STATEMENT = 5_000;

/**
 * PostgreSQL takes a batch as one array per column, unnested into rows: one statement text
 * whatever the batch size (one prepared statement), and 40 parameters instead of 40 per row.
 */
function pgUpsertSql(partial: boolean): string {
  const columns = columnsOf('postgresql');
  const arrays = columns.map((c, i) => `$${i + 1}::${PG_TYPES[c] ?? 'text'}[]`);
  return `INSERT INTO tasks (${columns.join(', ')}) SELECT * FROM unnest(${arrays.join(', ')}) ON CONFLICT (uuid) DO UPDATE SET ${updatesOf(columns, partial).join(', ')}`;
}

/** The two statement texts, made once. */
const PG_UPSERT = { complete: pgUpsertSql(false), partial: pgUpsertSql(true) };

/** A PostgreSQL array literal of one column's values: each text quoted, with `"` and `\\` escaped; NULL bare. */
export function pgArray(values: readonly SqlValue[]): string {
  return `{${values.map(pgArrayElement).join(',')}}`;
}

const ARRAY_ESCAPED = /[\\"]/;
function pgArrayElement(v: SqlValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') return String(v);
  return ARRAY_ESCAPED.test(v) ? `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"` : `"${v}"`;
}

/** The rows as one array literal per column, built column by column as the rows are made (no row arrays kept). */
function pgColumnArrays(tasks: readonly TaskRecord[], updatedAt: number): string[] {
  const columns: string[][] = columnsOf('postgresql').map(() => []);
  for (const task of tasks) {
    const values = rowValues(task, updatedAt, 'postgresql');
    for (let c = 0; c < columns.length; c++) (columns[c] as string[]).push(pgArrayElement(values[c] ?? null));
  }
  return columns.map((elements) => `{${elements.join(',')}}`);
}

function rowValues(task: TaskRecord, updatedAt: number, backend: StoreBackend): SqlValue[] {
  const indexed = indexable(task);
  const values = taskRowValues(task, updatedAt);
  values.push(indexed ? 1 : 0);
  if (backend === 'postgresql') values.push(indexed ? searchDoc(task, backend) : null);
  return values;
}

/** Write each task's row: complete records replace theirs, partial ones are merged into theirs. */
export async function upsertTasks(sql: SqlRunner, backend: StoreBackend, tasks: readonly TaskRecord[], updatedAt: number): Promise<void> {
  for (const partial of [false, true]) {
    const group = tasks.filter((task) => task.complete !== partial);
    if (backend === 'postgresql') {
      for (let start = 0; start < group.length; start += PG_ROWS_PER_STATEMENT) {
        await sql.execute(partial ? PG_UPSERT.partial : PG_UPSERT.complete, pgColumnArrays(group.slice(start, start + PG_ROWS_PER_STATEMENT), updatedAt));
      }
      continue;
    }
    for (const chunk of powerOfTwoChunks(group, ROWS_PER_STATEMENT)) {
      if (backend === 'sqlite') await dropSearchEntries(sql, chunk);
      await sql.execute(
        upsertSql(chunk.length, backend, partial),
        chunk.flatMap((task) => rowValues(task, updatedAt, backend)),
      );
      if (backend === 'sqlite') await indexForSearch(sql, chunk);
    }
  }
}

/**
 * SQLite's search index is a table of its own (FTS5, keyed by the task row's rowid), and a row
 * has an entry exactly when its `search_indexed` is not 0 — whether it was indexed on writing
 * (finished and complete) or later, settled (./settled-index.ts). Before a write replaces rows,
 * the entries of those that have one go; (PostgreSQL indexes the row's own `search_doc`, which
 * the write replaces with it.)
 */
async function dropSearchEntries(sql: SqlRunner, batch: readonly TaskRecord[]): Promise<void> {
  await sql.execute(
    `DELETE FROM tasks_search WHERE rowid IN (SELECT rowid FROM tasks WHERE uuid IN (${batch.map((_, i) => `$${i + 1}`).join(', ')}) AND search_indexed <> 0)`,
    batch.map((task) => task.uuid),
  );
}

/** After the write: an entry for each finished, complete task of the batch. */
async function indexForSearch(sql: SqlRunner, batch: readonly TaskRecord[]): Promise<void> {
  const fresh = batch.filter(indexable);
  if (fresh.length > 0) {
    const pairs = fresh.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
    await sql.execute(
      `WITH fresh(uuid, doc) AS (VALUES ${pairs}) INSERT INTO tasks_search (rowid, doc) SELECT tasks.rowid, fresh.doc FROM fresh JOIN tasks ON tasks.uuid = fresh.uuid`,
      fresh.flatMap((task) => [task.uuid, searchDoc(task, 'sqlite')]),
    );
  }
}

/** A stored task as a TaskRecord again, or null when the store does not have it. */
export async function loadTask(sql: SqlRunner, uuid: string): Promise<TaskRecord | null> {
  const [row] = await sql.rows(`SELECT ${TASK_COLUMNS.join(', ')} FROM tasks WHERE uuid = $1`, [uuid]);
  return row ? taskFromRow(row) : null;
}

/** Column values as the drivers return them: PostgreSQL gives BIGINT as a string. */
function text(row: Record<string, unknown>, column: TaskColumn): string | null {
  const value = row[column];
  return value === null || value === undefined ? null : String(value);
}
function num(row: Record<string, unknown>, column: TaskColumn): number | null {
  const value = row[column];
  return value === null || value === undefined ? null : Number(value);
}
function bool(row: Record<string, unknown>, column: TaskColumn): boolean | null {
  const value = num(row, column);
  return value === null ? null : value !== 0;
}
function parsed<T>(row: Record<string, unknown>, column: TaskColumn): T | null {
  const value = text(row, column);
  return value === null ? null : (JSON.parse(value) as T);
}

export function taskFromRow(row: Record<string, unknown>): TaskRecord {
  const task = new TaskRecord(String(row.uuid));
  task.name = text(row, 'name');
  task.state = text(row, 'state') ?? 'PENDING';
  task.sent = num(row, 'sent');
  task.received = num(row, 'received');
  task.started = num(row, 'started');
  task.succeeded = num(row, 'succeeded');
  task.failed = num(row, 'failed');
  task.retried = num(row, 'retried');
  task.revoked = num(row, 'revoked');
  task.rejected = num(row, 'rejected');
  task.timestamp = num(row, 'timestamp');
  task.args = text(row, 'args');
  task.kwargs = text(row, 'kwargs');
  task.eta = text(row, 'eta');
  task.expires = text(row, 'expires');
  task.retries = num(row, 'retries');
  task.worker = text(row, 'worker');
  task.client = text(row, 'client');
  task.result = text(row, 'result');
  task.exception = text(row, 'exception');
  task.traceback = text(row, 'traceback');
  task.runtime = num(row, 'runtime');
  task.exchange = text(row, 'exchange');
  task.routingKey = text(row, 'routing_key');
  task.queue = text(row, 'queue');
  task.clock = num(row, 'clock') ?? 0;
  task.rootId = text(row, 'root_id');
  task.parentId = text(row, 'parent_id');
  task.terminated = bool(row, 'terminated');
  task.signum = parsed<number | string>(row, 'signum');
  task.expired = bool(row, 'expired');
  task.requeue = bool(row, 'requeue');
  task.revokeRequest = parsed<RevokeRequest>(row, 'revoke_request');
  task.extra = parsed<Record<string, JsonValue>>(row, 'extra');
  task.extraAt = num(row, 'extra_at') ?? Number.NEGATIVE_INFINITY;
  task.timeline = timelineOf(text(row, 'events'));
  // The row is the merged truth: a record made from it is complete.
  task.complete = true;
  return task;
}

/** The stored timeline (TaskTimeline.toJSON): `[omitted, [type, timestamp, hostname?], …]`. */
const StoredTimelineSchema = z.tuple(
  [z.number().int().nonnegative()],
  z.tuple([z.string(), z.number()], z.string()).refine((entry) => entry.length <= 3),
);

/**
 * A row's timeline; a row written before the column existed (null) or one that does not decode
 * gives an empty timeline, never an error: the task itself is still right.
 */
function timelineOf(stored: string | null): TaskTimeline {
  if (stored === null) return new TaskTimeline();
  let value: unknown;
  try {
    value = JSON.parse(stored);
  } catch {
    return new TaskTimeline();
  }
  const parsed = StoredTimelineSchema.safeParse(value);
  return parsed.success ? TaskTimeline.fromStored(parsed.data as [number, ...[string, number, string?][]]) : new TaskTimeline();
}

/**
 * The task writer's sink on a database: each batch is one transaction of multi-row upserts.
 *
 * A partial record (it began mid-task) has only the events seen since; the row may hold the
 * earlier ones. Before its first write the stored timeline is read and merged in front of the
 * record's (duplicates merged away), so the row's timeline keeps every event — once per record.
 */
export function taskSink(db: Pick<StoreDatabase, 'transaction' | 'backend' | 'runner'>): ChangeSink<TaskRecord> {
  const merged = new WeakSet<TaskRecord>();
  return {
    write: async (tasks, at) => {
      const partial = tasks.filter((task) => !task.complete && !merged.has(task));
      for (let start = 0; start < partial.length; start += ROWS_PER_STATEMENT) {
        const batch = partial.slice(start, start + ROWS_PER_STATEMENT);
        const rows = await db.runner.rows(
          `SELECT uuid, events FROM tasks WHERE uuid IN (${batch.map((_, i) => `$${i + 1}`).join(', ')})`,
          batch.map((task) => task.uuid),
        );
        const stored = new Map(rows.map((row) => [String(row.uuid), row.events === null || row.events === undefined ? null : String(row.events)]));
        for (const task of batch) {
          const events = stored.get(task.uuid) ?? null;
          if (events !== null) task.timeline = TaskTimeline.merged(timelineOf(events), task.timeline);
          merged.add(task);
        }
      }
      await db.transaction((sql) => upsertTasks(sql, db.backend, tasks, at));
    },
  };
}
