/**
 * The tasks list's queries (Flower's /api/tasks filters, server/state/task-query.ts) answered by
 * the store: the same filters, the same order — nulls first ascending, last descending, ties by
 * task id — and the same total, over every stored task rather than the ones in memory.
 *
 * The structured filters are SQL on indexed columns. A search (`search=`, Flower's query language)
 * is matched by the same compiled matcher the in-memory path uses, over the rows the other
 * filters leave, so its semantics (casefold, kwargs pairs) are Flower's exactly.
 */
import type { TaskFilter } from '../state/task-query';
import type { TaskRecord } from '../state/task-record';
import type { SqlRunner, SqlValue } from './migrate';
import type { StoreBackend } from './schema';
import { TASK_COLUMNS, taskFromRow } from './task-row';

/** Rows read per round trip while a search scans candidates. */
const SCAN_PAGE = 2_000;

interface Where {
  clauses: string[];
  params: SqlValue[];
}

function whereOf(filter: TaskFilter): Where {
  const where: Where = { clauses: [], params: [] };
  const add = (clause: (placeholder: string) => string, value: SqlValue): void => {
    where.params.push(value);
    where.clauses.push(clause(`$${where.params.length}`));
  };
  if (filter.taskName !== null) add((p) => `name = ${p}`, filter.taskName);
  if (filter.worker !== null) add((p) => `worker = ${p}`, filter.worker);
  if (filter.state !== null) add((p) => `state = ${p}`, filter.state);
  // A task never received is left out by either bound (the deliberate difference from Flower).
  if (filter.receivedStart !== null) add((p) => `received >= ${p}`, filter.receivedStart);
  if (filter.receivedEnd !== null) add((p) => `received <= ${p}`, filter.receivedEnd);
  if (filter.queue) add((p) => `COALESCE(queue, routing_key) = ${p}`, filter.queue);
  return where;
}

/** Byte order on both backends (PostgreSQL would otherwise sort text by the database's locale). */
function orderBy(filter: TaskFilter, backend: StoreBackend): string {
  const collate = (column: string): string => (backend === 'postgresql' && (column === 'name' || column === 'state' || column === 'uuid') ? `${column} COLLATE "C"` : column);
  const field = filter.sortBy?.field ?? 'timestamp';
  const descending = filter.sortBy ? filter.sortBy.descending : true;
  return `ORDER BY ${collate(field)} ${descending ? 'DESC NULLS LAST' : 'ASC NULLS FIRST'}, ${collate('uuid')} ASC`;
}

/** The page of stored tasks matching `filter`, and how many match in all. */
export async function queryStoredTasks(sql: SqlRunner, backend: StoreBackend, filter: TaskFilter): Promise<{ total: number; tasks: TaskRecord[] }> {
  const { clauses, params } = whereOf(filter);
  const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
  const order = orderBy(filter, backend);
  const columns = TASK_COLUMNS.join(', ');
  if (filter.search === null) {
    const [count] = await sql.rows(`SELECT COUNT(*) AS n FROM tasks ${where}`, params);
    // No limit: SQLite spells it LIMIT -1, PostgreSQL LIMIT ALL (an OFFSET needs one before it in SQLite).
    const limit = ` LIMIT ${filter.limit !== null ? Number(filter.limit) : backend === 'sqlite' ? -1 : 'ALL'}`;
    const rows = await sql.rows(`SELECT ${columns} FROM tasks ${where} ${order}${limit} OFFSET ${Number(filter.offset)}`, params);
    return { total: Number(count?.n ?? 0), tasks: rows.map(taskFromRow) };
  }
  // Search: scan the candidates in result order, match each, keep the page and count the rest.
  const search = filter.search;
  const end = filter.limit === null ? Number.POSITIVE_INFINITY : filter.offset + filter.limit;
  const page: TaskRecord[] = [];
  let total = 0;
  for (let offset = 0; ; offset += SCAN_PAGE) {
    const rows = await sql.rows(`SELECT ${columns} FROM tasks ${where} ${order} LIMIT ${SCAN_PAGE} OFFSET ${offset}`, params);
    for (const row of rows) {
      const task = taskFromRow(row);
      if (!search.matches(task)) continue;
      if (total >= filter.offset && total < end) page.push(task);
      total++;
    }
    if (rows.length < SCAN_PAGE) break;
  }
  return { total, tasks: page };
}
