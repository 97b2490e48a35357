/**
 * How big the store is and how many rows each table holds, per backend. Both are read in the
 * background (./index.ts refreshes them every 30 s, retention reads the size before it enforces
 * the cap) through the database's `backgroundRunner` (SQLite: the writer thread), never per
 * request or per scrape: counting millions of rows is slow.
 *
 * Size is what the data occupies, the figure --store-max-size is judged against:
 * - SQLite: (page_count − freelist_count) × page_size. Deleted rows' pages go to the freelist and
 *   are reused by the next writes, so the figure drops as soon as rows are deleted although the
 *   file does not shrink.
 * - PostgreSQL: a DELETE leaves the table files as large as they were (VACUUM makes the space
 *   reusable, only VACUUM FULL returns it), so the files' size cannot say whether enough was
 *   deleted. The live data is estimated instead, per table: live rows × average row width (the
 *   planner's statistics, pg_stats) scaled by the table's index-to-heap ratio. `diskBytes` is
 *   the files' real size, for the operator.
 */
import type { SqlRunner } from './migrate';
import type { StoreBackend } from './schema';
import { storedTaskCount } from './task-counts';

export interface StoreSize {
  /** What the data occupies (the cap's measure). */
  bytes: number;
  /** What the database takes on disk (SQLite: the file's pages; PostgreSQL: the tables' files). */
  diskBytes: number;
  /** PostgreSQL only: each table's estimated bytes and its live rows (what the cap plans its deletes from). */
  tables: Record<string, { bytes: number; rows: number }>;
}

/** Table names come from code (schema, retention policies), never from input; checked anyway. */
export function checkedIdentifier(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  return name;
}

function numberOf(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : typeof value === 'number' ? value : Number.NaN;
  return Number.isFinite(n) ? n : 0;
}

/** Per-tuple overhead of a PostgreSQL heap row: the 23-byte header padded to 24, plus its 4-byte line pointer. */
const PG_ROW_OVERHEAD = 28;

/**
 * PostgreSQL's estimate needs each table's live rows: `knownRows` (from countRows()) where given,
 * else a count with `exactRows`, else the statistics' live-row figure, which lags the last writes
 * by a second or so (retention, which plans its deletes from it, counts).
 */
export async function measureSize(
  backend: StoreBackend,
  sql: SqlRunner,
  tables: readonly string[],
  options: { exactRows?: boolean; knownRows?: Readonly<Record<string, number>> } = {},
): Promise<StoreSize> {
  if (backend === 'sqlite') {
    const [row] = await sql.rows('SELECT p.page_count AS pages, f.freelist_count AS free, s.page_size AS page_size FROM pragma_page_count() p, pragma_freelist_count() f, pragma_page_size() s');
    const pages = numberOf(row?.pages);
    const pageSize = numberOf(row?.page_size);
    return { bytes: (pages - numberOf(row?.free)) * pageSize, diskBytes: pages * pageSize, tables: {} };
  }
  let bytes = 0;
  let diskBytes = 0;
  const perTable: StoreSize['tables'] = {};
  for (const table of tables.map(checkedIdentifier)) {
    const [row] = await sql.rows(
      `SELECT pg_total_relation_size(c.oid) AS total, pg_relation_size(c.oid) AS heap, pg_indexes_size(c.oid) AS indexes,
        COALESCE(s.n_live_tup, 0) AS live_rows,
        (SELECT SUM(avg_width) FROM pg_stats WHERE schemaname = n.nspname AND tablename = c.relname) AS width
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
      WHERE c.relname = $1 AND n.nspname = current_schema() AND c.relkind = 'r'`,
      [table],
    );
    if (!row) continue;
    const total = numberOf(row.total);
    diskBytes += total;
    const heap = numberOf(row.heap);
    const known = options.knownRows?.[table];
    const liveRows = known ?? (options.exactRows ? numberOf((await sql.rows(`SELECT COUNT(*) AS n FROM ${table}`))[0]?.n) : numberOf(row.live_rows));
    // No statistics yet (never analysed): the files are all there is to go on.
    const indexFactor = heap > 0 ? 1 + numberOf(row.indexes) / heap : 1;
    const estimate = row.width === null || row.width === undefined ? total : Math.round(liveRows * (PG_ROW_OVERHEAD + numberOf(row.width)) * indexFactor);
    perTable[table] = { bytes: estimate, rows: liveRows };
    bytes += estimate;
  }
  return { bytes, diskBytes, tables: perTable };
}

/** Past this many rows (by the statistics), PostgreSQL's figure is its estimate rather than a count. */
const PG_EXACT_COUNT_BELOW = 1_000_000;

/**
 * Rows per table. SQLite counts (COUNT(*) walks the smallest index). PostgreSQL counts tables
 * under a million rows and reads its statistics' estimate for larger ones: the larger of the
 * live-row figure every write updates (n_live_tup, which lags writes by a second or so and can
 * drift when two connections' figures arrive out of order) and the planner's (reltuples, set by
 * VACUUM and ANALYZE). A count of millions of rows every 30 s would be a scan for a gauge. Tasks,
 * on both, are the sum of their counts by name and state (./task-counts.ts): exact, and no scan.
 */
export async function countRows(backend: StoreBackend, sql: SqlRunner, tables: readonly string[]): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  for (const table of tables.map(checkedIdentifier)) {
    if (table === 'tasks') {
      rows[table] = await storedTaskCount(sql);
    } else if (backend === 'sqlite') {
      const [row] = await sql.rows(`SELECT COUNT(*) AS n FROM ${table}`);
      rows[table] = numberOf(row?.n);
    } else {
      const [row] = await sql.rows(
        `SELECT GREATEST(COALESCE(s.n_live_tup, 0), c.reltuples) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = $1 AND n.nspname = current_schema() AND c.relkind = 'r'`,
        [table],
      );
      const estimate = numberOf(row?.n);
      rows[table] = estimate < PG_EXACT_COUNT_BELOW ? numberOf((await sql.rows(`SELECT COUNT(*) AS n FROM ${table}`))[0]?.n) : Math.round(estimate);
    }
  }
  return rows;
}

/** PostgreSQL tables without planner statistics (never analysed) among `tables`: the size estimate needs them. */
export async function unanalysedTables(sql: SqlRunner, tables: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const table of tables.map(checkedIdentifier)) {
    const [row] = await sql.rows(
      `SELECT (SELECT COUNT(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = $1) AS columns,
        (SELECT COALESCE(n_live_tup, 0) FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = $1) AS live_rows`,
      [table],
    );
    if (numberOf(row?.columns) === 0 && numberOf(row?.live_rows) > 0) missing.push(table);
  }
  return missing;
}
