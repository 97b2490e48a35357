/**
 * A task as one row of `tasks` (./schema.ts), and back. The row is the TaskRecord's merged
 * state — what ClusterState decided with Celery's semantics — so restoring it gives the same
 * record, and the same answers, as before a restart.
 */
import { z } from 'zod';
import type { JsonValue } from '../protocol/events';
import { TaskRecord, type RevokeRequest } from '../state/task-record';
import { TaskTimeline } from '../state/task-timeline';
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

/** Rows a multi-row statement carries: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters. */
export const ROWS_PER_STATEMENT = 200;

function upsertSql(rows: number): string {
  const width = TASK_COLUMNS.length;
  const tuples = Array.from({ length: rows }, (_, row) => `(${TASK_COLUMNS.map((_, column) => `$${row * width + column + 1}`).join(', ')})`);
  const updates = TASK_COLUMNS.filter((c) => c !== 'uuid').map((c) => `${c} = excluded.${c}`);
  return `INSERT INTO tasks (${TASK_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (uuid) DO UPDATE SET ${updates.join(', ')}`;
}

/** Insert or replace each task's row (the record is the merged truth; the row follows it). */
export async function upsertTasks(sql: SqlRunner, tasks: readonly TaskRecord[], updatedAt: number): Promise<void> {
  for (let start = 0; start < tasks.length; start += ROWS_PER_STATEMENT) {
    const batch = tasks.slice(start, start + ROWS_PER_STATEMENT);
    await sql.execute(
      upsertSql(batch.length),
      batch.flatMap((task) => taskRowValues(task, updatedAt)),
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

/** The task writer's sink on a database: each batch is one transaction of multi-row upserts. */
export function taskSink(db: Pick<StoreDatabase, 'transaction'>): ChangeSink<TaskRecord> {
  return { write: (tasks, at) => db.transaction((sql) => upsertTasks(sql, tasks, at)) };
}
