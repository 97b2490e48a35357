/**
 * The count of tasks by name and state (schema 9, ./schema.ts TASK_COUNTS_V9), kept by triggers on
 * `tasks`: on SQLite one row per name and state, on PostgreSQL rows of change (one per name and
 * state a statement changed) folded now and then. A count is the sum of the rows either way. The
 * tasks list's total for a filter by name, state, both or neither is read here, not counted over
 * the tasks (0.36 s for one name's 1,000,000 tasks in 10,000,000 on PostgreSQL).
 */
import type { TaskFilter } from '../state/task-query';
import { placeholders, type SqlRunner, type SqlValue } from './migrate';
import type { StoreBackend } from './schema';
import { columnIn, type ResolvedText } from './search-index';

/** A search term's matches in one column (./search-index.ts onlyColumn): the tasks holding one of `values`. */
type HeldValues = ResolvedText['columns'][number];

/**
 * How many tasks the filter lets through (with `held`: those holding one of its values), from the
 * counts — or null where they cannot say: for a filter by anything but name and state.
 */
export async function countedByNameAndState(sql: SqlRunner, backend: StoreBackend, filter: TaskFilter, held?: HeldValues): Promise<number | null> {
  if (filter.worker !== null || filter.receivedStart !== null || filter.receivedEnd !== null || filter.queue) return null;
  if (held !== undefined && held.column !== 'name' && held.column !== 'state') return null;
  const clauses: string[] = [];
  const params: SqlValue[] = [];
  const param = placeholders(params);
  if (filter.taskName !== null) clauses.push(`named AND name = ${param(filter.taskName)}`);
  if (filter.state !== null) clauses.push(`state = ${param(filter.state)}`);
  if (held !== undefined) clauses.push(held.column === 'name' ? `named AND ${columnIn('name', held.values, backend, param)}` : columnIn('state', held.values, backend, param));
  return summed(sql, clauses, params);
}

/** Every stored task, counted exactly (the store's figures: on PostgreSQL a count of `tasks` itself was a scan). */
export function storedTaskCount(sql: SqlRunner): Promise<number> {
  return summed(sql, [], []);
}

/** The sum of the counts that `clauses` let through (all of them with none). */
async function summed(sql: SqlRunner, clauses: readonly string[], params: readonly SqlValue[]): Promise<number> {
  const [row] = await sql.rows(`SELECT COALESCE(SUM(tasks), 0) AS n FROM task_counts${clauses.length > 0 ? ` WHERE ${clauses.join(' AND ')}` : ''}`, params);
  return Number(row?.n ?? 0);
}

/**
 * PostgreSQL: folds the changes into one row per name and state (none for a count of 0), in one
 * statement: a change inserted meanwhile is not in the DELETE's snapshot, so it stays, and the sums
 * are the same before and after. The writer adds a few rows a second; folded every 30 s they stay a
 * few thousand. SQLite's rows need no folding (its triggers update them in place).
 */
export async function foldTaskCounts(sql: SqlRunner, backend: StoreBackend): Promise<void> {
  if (backend !== 'postgresql') return;
  await sql.execute(
    `WITH gone AS (DELETE FROM task_counts RETURNING named, name, state, tasks)
     INSERT INTO task_counts (named, name, state, tasks)
     SELECT named, name, state, SUM(tasks) FROM gone GROUP BY 1, 2, 3 HAVING SUM(tasks) <> 0`,
  );
}
