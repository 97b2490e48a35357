/**
 * The tasks list's queries (Flower's /api/tasks filters, server/state/task-query.ts) answered by
 * the store: the same filters, the same order — nulls first ascending, last descending, ties by
 * task id — and the same total, over every stored task rather than the ones in memory.
 *
 * The structured filters are SQL on indexed columns. A search (`search=`, Flower's query language)
 * is narrowed by the trigram index (./search-index.ts), then matched by the same compiled matcher
 * the in-memory path uses over those candidates, so its semantics (casefold, kwargs pairs) are
 * Flower's exactly.
 */
import { MAX_SEEN_TASK_NAMES } from '../state/cluster-state';
import { queryTasksPage, sortKey, type TaskFilter, taskOrder } from '../state/task-query';
import type { TaskRecord } from '../state/task-record';
import { placeholders, type SqlRunner, type SqlValue } from './migrate';
import type { StoreBackend } from './schema';
import { powerOfTwoChunks } from './chunks';
import {
  candidateCondition,
  candidateIds,
  indexDecides,
  indexedMatches,
  needlesOf,
  type Resolved,
  resolveNeedles,
  columnIn,
  docMatches,
  onlyColumn,
  textCandidates,
  unindexedCandidates,
} from './search-index';
import { sharpenNeedles } from './search-sample';
import { countedByNameAndState } from './task-counts';
import { loadTask, TASK_COLUMNS, taskFromRow } from './task-row';

/** Rows read per round trip while a search scans candidates. */
const SCAN_PAGE = 2_000;
/** Rows read per round trip at least while a search scans for one page of matches. */
const MIN_SCAN_PAGE = 64;

interface Where {
  clauses: string[];
  params: SqlValue[];
}

/** The filter's search as the index narrows it (null: not at all, or no search). */
async function narrowing(sql: SqlRunner, backend: StoreBackend, filter: TaskFilter): Promise<Resolved | null> {
  const needles = filter.search === null ? null : needlesOf(filter.search.expression);
  return needles === null ? null : resolveNeedles(sql, backend, needles);
}

/**
 * How a query's rows are narrowed to a search's candidates: not at all, by the index, or by each
 * row's own text (`text`: a scan through a search matching many rows, see textCandidates).
 */
type Narrowed = { readonly by: 'index' | 'text'; readonly needles: Resolved } | null;

function whereOf(filter: TaskFilter, backend: StoreBackend, narrowed: Narrowed): Where {
  const where: Where = { clauses: [], params: [] };
  const param = placeholders(where.params);
  const add = (clause: (placeholder: string) => string, value: SqlValue): void => {
    where.clauses.push(clause(param(value)));
  };
  if (filter.taskName !== null) add((p) => `name = ${p}`, filter.taskName);
  if (filter.worker !== null) add((p) => `worker = ${p}`, filter.worker);
  if (filter.state !== null) add((p) => `state = ${p}`, filter.state);
  // A task never received is left out by either bound (the deliberate difference from Flower).
  if (filter.receivedStart !== null) add((p) => `received >= ${p}`, filter.receivedStart);
  if (filter.receivedEnd !== null) add((p) => `received <= ${p}`, filter.receivedEnd);
  if (filter.queue) add((p) => `COALESCE(queue, routing_key) = ${p}`, filter.queue);
  // A search's candidates: what the trigram index, or each row's text, lets through (the matcher decides each).
  if (narrowed !== null) where.clauses.push((narrowed.by === 'index' ? candidateCondition : textCandidates)(narrowed.needles, backend, param));
  return where;
}

/** Byte order on both backends (PostgreSQL would otherwise sort text by the database's locale). */
function collate(column: string, backend: StoreBackend): string {
  return backend === 'postgresql' && (column === 'name' || column === 'state' || column === 'uuid') ? `${column} COLLATE "C"` : column;
}

type SortKey = ReturnType<typeof sortKey>;

function orderBy(key: SortKey, backend: StoreBackend): string {
  return `ORDER BY ${collate(key.field, backend)} ${key.descending ? 'DESC NULLS LAST' : 'ASC NULLS FIRST'}, ${collate('uuid', backend)} ASC`;
}

/**
 * The rows after `last` within one part of the order — the rows whose sort field is null, or
 * those whose field is not — in ORDER BY order (keyset paging: each page costs the same, where an
 * OFFSET would re-read every earlier row). Written so that the field's index seeks to `last`
 * (`field <= v AND …`): with the nulls in the same condition (an OR), SQLite read every earlier
 * row again on each page, and a scan through a million rows took minutes.
 */
function after(key: SortKey, last: TaskRecord, backend: StoreBackend, param: (value: SqlValue) => string): string {
  const field = collate(key.field, backend);
  const uuid = collate('uuid', backend);
  const value = last[key.field];
  const tie = `${uuid} > ${param(last.uuid)}`;
  if (value === null) return tie;
  const v = param(value);
  return key.descending ? `(${field} <= ${v} AND (${field} < ${v} OR ${tie}))` : `(${field} >= ${v} AND (${field} > ${v} OR ${tie}))`;
}

/**
 * Every stored task matching the filter's conditions and search, in result order, a page of
 * rows at a time (offset and limit are the caller's): for exports, where the reader decides as
 * rows arrive. A search the index narrows to at most `maxCandidates` rows is narrowed by it on
 * every page; a broader one by each row's own text, so that the whole scan reads the rows once.
 */
export async function* scanStoredTasks(sql: SqlRunner, backend: StoreBackend, filter: TaskFilter, options: { pageRows?: number } & StoredQueryOptions = {}): AsyncGenerator<TaskRecord[]> {
  const needles = await narrowing(sql, backend, filter);
  let narrowed: Narrowed = null;
  if (needles !== null) {
    const sharp = await sharpenNeedles(sql, backend, needles);
    const broad = (await candidateIdList(sql, backend, sharp, options.maxCandidates ?? MAX_CANDIDATES)) === null;
    narrowed = broad ? { by: 'text', needles } : { by: 'index', needles: sharp };
  }
  yield* scanNarrowed(sql, backend, filter, narrowed, options.pageRows ?? SCAN_PAGE);
}

async function* scanNarrowed(sql: SqlRunner, backend: StoreBackend, filter: TaskFilter, narrowed: Narrowed, pageRows: number): AsyncGenerator<TaskRecord[]> {
  const key = sortKey(filter);
  const columns = TASK_COLUMNS.join(', ');
  // Nulls sort first ascending, last descending: the two parts are read one after the other.
  for (const nulls of key.descending ? [false, true] : [true, false]) {
    let last: TaskRecord | null = null;
    for (;;) {
      const where = whereOf(filter, backend, narrowed);
      where.clauses.push(`${key.field} ${nulls ? 'IS NULL' : 'IS NOT NULL'}`);
      if (last !== null) where.clauses.push(after(key, last, backend, placeholders(where.params)));
      const rows = await sql.rows(`SELECT ${columns} FROM tasks WHERE ${where.clauses.join(' AND ')} ${orderBy(key, backend)} LIMIT ${Number(pageRows)}`, where.params);
      const tasks = rows.map(taskFromRow);
      const matching = filter.search === null ? tasks : tasks.filter((task) => filter.search?.matches(task));
      if (matching.length > 0) yield matching;
      if (rows.length < pageRows) break;
      last = tasks[tasks.length - 1] ?? null;
    }
  }
}

interface StoredQueryOptions {
  /** False: no total (Flower's /api/tasks has none). */
  count?: boolean;
  /** Candidates read by id at most (MAX_CANDIDATES); tests lower it to take the broad searches' paths. */
  maxCandidates?: number;
}

/** The page of stored tasks matching `filter`, and how many match in all. */
export async function queryStoredTasks(sql: SqlRunner, backend: StoreBackend, filter: TaskFilter, options: StoredQueryOptions = {}): Promise<{ total: number | null; tasks: TaskRecord[] }> {
  if (filter.search === null) {
    const { clauses, params } = whereOf(filter, backend, null);
    const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
    // Flower's /api/tasks has no total: counting every match is skipped for it.
    const total = options.count === false ? null : ((await countedByNameAndState(sql, backend, filter)) ?? Number((await sql.rows(`SELECT COUNT(*) AS n FROM tasks ${where}`, params))[0]?.n ?? 0));
    // No limit: SQLite spells it LIMIT -1, PostgreSQL LIMIT ALL (an OFFSET needs one before it in SQLite).
    const limit = ` LIMIT ${filter.limit !== null ? Number(filter.limit) : backend === 'sqlite' ? -1 : 'ALL'}`;
    const rows = await sql.rows(`SELECT ${TASK_COLUMNS.join(', ')} FROM tasks ${where} ${orderBy(sortKey(filter), backend)}${limit} OFFSET ${Number(filter.offset)}`, params);
    return { total, tasks: rows.map(taskFromRow) };
  }
  const needles = await narrowing(sql, backend, filter);
  if (needles !== null) {
    const maxCandidates = options.maxCandidates ?? MAX_CANDIDATES;
    if (filter.limit !== null && indexDecides(filter.search.expression)) {
      // PostgreSQL's index matches are exact with cheaper phrases too (search-index.ts, pgDoc); SQLite's would be a superset.
      const decided = backend === 'postgresql' ? await sharpenNeedles(sql, backend, needles, Date.now(), true) : needles;
      return decidedSearchPage(sql, backend, filter, decided, filter.offset + filter.limit, maxCandidates);
    }
    // A search the index narrows to a few thousand candidates: read just those, by the columns
    // that decide them, as the index finds them (read by id after their ids, each was looked up
    // twice), and let the in-memory engine filter, match, order and page them — the same code, so
    // the same answer. Only the page's rows are read whole.
    const candidates = await candidateRows(sql, backend, await sharpenNeedles(sql, backend, needles), maxCandidates, DECIDING_COLUMNS);
    if (candidates !== null) {
      const decided = queryTasksPage(candidates.map(taskFromRow), filter);
      return {
        total: decided.total,
        tasks: await tasksInOrder(
          sql,
          decided.tasks.map((task) => task.uuid),
        ),
      };
    }
  }
  // Otherwise scan the rows in result order, narrowed by each one's text (the index's matches
  // are too many to re-read for every page), keep the page and count the rest.
  const end = filter.limit === null ? Number.POSITIVE_INFINITY : filter.offset + filter.limit;
  const { seen, page } = await pageOf(scanNarrowed(sql, backend, filter, needles === null ? null : { by: 'text', needles }, SCAN_PAGE), filter.offset, end, false);
  return { total: seen, tasks: page };
}

/**
 * A search the index decides by itself (indexDecides: bare terms), so that its indexed matches
 * need not be read to be counted or ordered: the total is counted by SQL — the indexed rows the
 * index lets through, plus the rows not indexed that the matcher accepts — and only the page's
 * rows are read. With few matches (at most `maxCandidates`) their ids and sort field are read and
 * ordered here, and the page's rows read by id; with many (a task name's part, say) the page is the
 * first matches of the rows in result order, each narrowed by its own text, read until it is full: matches are dense there, so
 * that costs about a page of rows, where ordering them cost SQLite the whole match set (14 s for
 * 92,752 matches in 1,000,000 tasks). Reading every candidate instead, as a search the matcher
 * must decide does, cost PostgreSQL 2 s for 10,000 matches in 10,000,000 tasks.
 */
async function decidedSearchPage(sql: SqlRunner, backend: StoreBackend, filter: TaskFilter, needles: Resolved, end: number, maxCandidates: number): Promise<{ total: number; tasks: TaskRecord[] }> {
  const counted = whereOf(filter, backend, null);
  counted.clauses.push(indexedMatches(needles, backend, placeholders(counted.params)));
  const pending = whereOf(filter, backend, null);
  pending.clauses.push(unindexedCandidates(needles, backend, placeholders(pending.params)));
  const unindexed = (await sql.rows(`SELECT ${TASK_COLUMNS.join(', ')} FROM tasks WHERE ${pending.clauses.join(' AND ')}`, pending.params))
    .map(taskFromRow)
    .filter((task) => filter.search?.matches(task));
  // The matches' ids and sort field (no ORDER BY … LIMIT, which PostgreSQL planned as a walk of the
  // whole sort index testing each row, minutes at 10,000,000 tasks), at most one more than
  // `maxCandidates`: when they are fewer, they are the count too. Counted first instead where a
  // column's index counts them without reading a row (a task name's part, see countIndexedMatches):
  // they are then usually many. A count and then the same matches read again cost PostgreSQL the
  // index's matches twice: the bitmap scan and its recheck of every row (about 0.45 s for the
  // 10,017 matches of `ap-south-2` in 10,000,000 tasks before ./search-sample.ts asked pg_trgm for
  // cheaper phrases).
  const { field } = sortKey(filter);
  const keyedRows = async (): Promise<Record<string, unknown>[]> => sql.rows(`SELECT uuid, ${field} FROM tasks WHERE ${counted.clauses.join(' AND ')} LIMIT ${maxCandidates + 1}`, counted.params);
  let keyed = countedByColumn(needles) ? null : await keyedRows();
  const indexedCount = keyed !== null && keyed.length <= maxCandidates ? keyed.length : await countIndexedMatches(sql, backend, filter, needles, counted, unindexed);
  const total = indexedCount + unindexed.length;
  if (indexedCount > maxCandidates) {
    // Rows in result order narrowed by their own text, in pages about the size of the page asked
    // for: nearly every row read is then a match, where pages of unnarrowed rows read and matched
    // here 2,000 rows for 50 matches (`charge_card` in bench:store's 1,000,000 tasks: 100 ms).
    const { page } = await pageOf(scanNarrowed(sql, backend, filter, { by: 'text', needles }, Math.min(SCAN_PAGE, Math.max(end, MIN_SCAN_PAGE))), filter.offset, end, true);
    return { total, tasks: page };
  }
  // The first `end` indexed matches in result order, with the matching rows not indexed: the page
  // is the first `end` of both, ordered here, and only the first `end` read whole.
  keyed ??= await keyedRows();
  const first = keyed
    .map((row) => ({ uuid: String(row.uuid), [field]: sortValue(row[field]) }))
    .sort(taskOrder(filter))
    .slice(0, end)
    .map((row) => row.uuid);
  return { total, tasks: queryTasksPage([...(await tasksByIds(sql, first)), ...unindexed], filter).tasks };
}

/** A count of the rows `where` lets through. */
async function countOf(sql: SqlRunner, where: Where): Promise<number> {
  const [row] = await sql.rows(`SELECT COUNT(*) AS n FROM tasks WHERE ${where.clauses.join(' AND ')}`, where.params);
  return Number(row?.n ?? 0);
}

/** Whether countIndexedMatches counts the needles by a column's index, reading no row. */
function countedByColumn(needles: Resolved): boolean {
  return onlyColumn(needles) !== undefined;
}

/**
 * How many indexed rows match a search the index decides (`counted`: the filter and
 * indexedMatches). A single term matching the values of one column (a task name's part, say) is
 * counted in two parts that need no row read: the rows holding those values, by the column's
 * index alone, less those not indexed (`unindexed`, the matches not indexed, read already); and
 * the trigram index's matches holding none of them. One COUNT of `counted` read every row the
 * column's values hold to see whether it is indexed: 200 ms for a name's 92,752 rows in
 * bench:store's 1,000,000 tasks on SQLite.
 */
async function countIndexedMatches(sql: SqlRunner, backend: StoreBackend, filter: TaskFilter, needles: Resolved, counted: Where, unindexed: readonly TaskRecord[]): Promise<number> {
  const only = onlyColumn(needles);
  if (only === undefined) return countOf(sql, counted);
  const { needle, column } = only;
  const inColumn = whereOf(filter, backend, null);
  inColumn.clauses.push(columnIn(column.column, column.values, backend, placeholders(inColumn.params)));
  let elsewhere = 0;
  if (needle.doc) {
    const rest = whereOf(filter, backend, null);
    const param = placeholders(rest.params);
    // The test is null for a null column: such a row holds none of the values.
    rest.clauses.push(docMatches(needle, backend, param), `NOT COALESCE(${columnIn(column.column, column.values, backend, param)}, FALSE)`);
    elsewhere = await countOf(sql, rest);
  }
  const values = new Set(column.values);
  const heldUnindexed = unindexed.filter((task) => {
    const value = column.column === 'uuid' ? task.uuid : task[column.column];
    return value !== null && values.has(value);
  }).length;
  const holding = (await countedByNameAndState(sql, backend, filter, column)) ?? (await countOf(sql, inColumn));
  return holding - heldUnindexed + elsewhere;
}

/** A sort field's value as a row holds it (PostgreSQL returns numbers as numbers, text as text; null stays null). */
function sortValue(value: unknown): string | number | null {
  return value === null || value === undefined ? null : typeof value === 'number' ? value : String(value);
}

/** The matches from `offset` to `end` of a scan, and how many it saw (all of them, unless it stops once the page is full). */
async function pageOf(scan: AsyncGenerator<TaskRecord[]>, offset: number, end: number, stopWhenFull: boolean): Promise<{ seen: number; page: TaskRecord[] }> {
  const page: TaskRecord[] = [];
  let seen = 0;
  for await (const matching of scan) {
    for (const task of matching) {
      if (seen >= offset && seen < end) page.push(task);
      seen++;
    }
    if (stopWhenFull && seen >= end) break;
  }
  return { seen, page };
}

/** Candidates read by id at most; past this a search scans in result order, page by page. */
const MAX_CANDIDATES = 20_000;
/** Ids per `IN (…)` when rows are read by id, in power-of-two chunks (few statement texts). */
const IDS_PER_QUERY = 512;

/** The candidates' ids, or null when there are more than `maxCandidates`. */
async function candidateIdList(sql: SqlRunner, backend: StoreBackend, needles: Resolved, maxCandidates: number): Promise<string[] | null> {
  const rows = await candidateRows(sql, backend, needles, maxCandidates, ['uuid']);
  return rows === null ? null : [...new Set(rows.map((row) => String(row.uuid)))];
}

/** The candidates' `columns`, each task once, or null when there are more than `maxCandidates`. */
async function candidateRows(sql: SqlRunner, backend: StoreBackend, needles: Resolved, maxCandidates: number, columns: readonly string[]): Promise<Record<string, unknown>[] | null> {
  const params: SqlValue[] = [];
  const rows = await sql.rows(`${candidateIds(needles, backend, placeholders(params), columns)} LIMIT ${maxCandidates + 1}`, params);
  if (rows.length > maxCandidates) return null;
  const seen = new Set<string>();
  return rows.filter((row) => {
    const uuid = String(row.uuid);
    if (seen.has(uuid)) return false;
    seen.add(uuid);
    return true;
  });
}

/**
 * The columns that decide whether a task is in a list and where: the filters' (./task-query.ts),
 * the search fields' (server/state/search.ts) and the sort fields' (`timestamp` by default). Not
 * the long ones (a traceback, an exception): 514 candidates read whole cost 25 ms of a `kwargs:`
 * search in bench:store's 1,000,000 tasks, and all but the page's 50 were then dropped.
 */
const DECIDING_COLUMNS = [
  'uuid',
  'name',
  'state',
  'worker',
  'received',
  'started',
  'timestamp',
  'queue',
  'routing_key',
  'args',
  'kwargs',
  'result',
] as const satisfies readonly (typeof TASK_COLUMNS)[number][];

/** The tasks of `ids`, read whole, in that order. */
async function tasksInOrder(sql: SqlRunner, ids: readonly string[]): Promise<TaskRecord[]> {
  const byId = new Map((await tasksByIds(sql, ids)).map((task) => [task.uuid, task]));
  return ids.map((id) => byId.get(id)).filter((task): task is TaskRecord => task !== undefined);
}

async function tasksByIds(sql: SqlRunner, ids: readonly string[], columns: readonly string[] = TASK_COLUMNS): Promise<TaskRecord[]> {
  const tasks: TaskRecord[] = [];
  for (const batch of powerOfTwoChunks(ids, IDS_PER_QUERY)) {
    const rows = await sql.rows(`SELECT ${columns.join(', ')} FROM tasks WHERE uuid IN (${batch.map((_, i) => `$${i + 1}`).join(', ')})`, batch);
    for (const row of rows) tasks.push(taskFromRow(row));
  }
  return tasks;
}

/** A workflow's stored members: at most `limit`, earliest first, and how many there are in all. */
export interface StoredWorkflow {
  nodes: TaskRecord[];
  total: number;
}

/**
 * The history queries the read model (server/views/) asks of the store: lists, one task, a
 * task's children, a workflow's members, the task names.
 */
export class StoredTasks {
  constructor(
    private readonly sql: SqlRunner,
    private readonly backend: StoreBackend,
  ) {}

  page(filter: TaskFilter, options: { count?: boolean } = {}): Promise<{ total: number | null; tasks: TaskRecord[] }> {
    return queryStoredTasks(this.sql, this.backend, filter, options);
  }

  scan(filter: TaskFilter): AsyncGenerator<TaskRecord[]> {
    return scanStoredTasks(this.sql, this.backend, filter);
  }

  task(uuid: string): Promise<TaskRecord | null> {
    return loadTask(this.sql, uuid);
  }

  /** Each task's children (the tasks whose parent it is), in the order they were sent. */
  async children(uuids: readonly string[]): Promise<Map<string, string[]>> {
    const children = new Map<string, string[]>();
    for (let start = 0; start < uuids.length; start += CHILDREN_PER_QUERY) {
      const batch = uuids.slice(start, start + CHILDREN_PER_QUERY);
      const placeholders = batch.map((_, i) => `$${i + 1}`).join(', ');
      const rows = await this.sql.rows(`SELECT uuid, parent_id FROM tasks WHERE parent_id IN (${placeholders}) ORDER BY ${SENT_ORDER}, uuid`, batch);
      for (const row of rows) {
        const parent = String(row.parent_id);
        const list = children.get(parent) ?? [];
        list.push(String(row.uuid));
        children.set(parent, list);
      }
    }
    return children;
  }

  /** The tasks of the workflow rooted at `root` (the root itself included), earliest first. */
  async workflow(root: string, limit: number): Promise<StoredWorkflow> {
    const [count] = await this.sql.rows('SELECT COUNT(*) AS n FROM tasks WHERE uuid = $1 OR root_id = $1', [root]);
    const rows = await this.sql.rows(`SELECT ${TASK_COLUMNS.join(', ')} FROM tasks WHERE uuid = $1 OR root_id = $1 ORDER BY ${SENT_ORDER}, uuid LIMIT ${Number(limit)}`, [root]);
    return { nodes: rows.map(taskFromRow), total: Number(count?.n ?? 0) };
  }

  /** Task names stored, sorted, at most as many as the in-memory model tracks. */
  async taskNames(): Promise<string[]> {
    const rows = await this.sql.rows(`SELECT DISTINCT name FROM tasks WHERE name IS NOT NULL ORDER BY name LIMIT ${MAX_SEEN_TASK_NAMES}`);
    return rows.map((row) => String(row.name));
  }
}

/** Parents per children query: far below either backend's parameter limit. */
const CHILDREN_PER_QUERY = 500;
/** The in-memory workflow's order (ClusterState.workflow): by when each task was sent. */
const SENT_ORDER = 'COALESCE(sent, received, timestamp, 0)';
