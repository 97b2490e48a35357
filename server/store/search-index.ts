/**
 * Narrowing a search (Flower's query language, server/state/search.ts) with the store's trigram
 * index (./schema.ts, SEARCH_V2): the condition every match satisfies, as SQL. The rows it lets
 * through are candidates only — the query's own matcher decides each — so the narrowing may
 * let too much through but never too little:
 * - a substring term (bare, `name:`, `worker:`, `args:`, `kwargs:`, `result:`) needs its
 *   casefolded text in one of the fields it looks in, casefolded: the indexed text's, or a
 *   name, state or worker that holds it (below);
 * - `kwargs:key=value` compares the pair as Flower normalises it (`casefold(str(key))`,
 *   `casefold(str(value))`). Python's `str` and `repr` of a key or value agree but for the
 *   characters `repr` escapes (quotes, backslashes, what is not printable), so a key or value
 *   made of printable ASCII without those appears in the kwargs repr as typed: each such part of
 *   3 or more characters narrows it;
 * - `state:` is exact and is left to the matcher; so is anything under 3 characters (a trigram).
 * An OR narrows only if each side does. A query that cannot be narrowed scans the filtered rows.
 *
 * The indexed text leaves out the name, state and worker, and on PostgreSQL a standard task id
 * (./task-row.ts, searchDoc): a needle that may match them is resolved first (resolveNeedles) into
 * the values of those columns that contain it — the distinct names, states and workers, read by a
 * skip scan of their indexes; on PostgreSQL a whole task id is looked up by the primary key, part
 * of one by the id index (./task-id-index.ts) — so each part of the condition is answered by an
 * index: the trigram index (SQLite's FTS5, PostgreSQL's pg_trgm), the columns' B-trees, the
 * primary key, the id index. (A part under 5 hex digits is too short for the id index: the ids
 * that hold it are found by a scan of the primary key.)
 */
import { casefold, codePointLength, hasNonAscii } from '../protocol/python/str';
import { escapeRegExp, fieldValueTest, type QueryExpression } from '../state/search';
import type { SqlRunner, SqlValue } from './migrate';
import type { StoreBackend } from './schema';
import { fitsStandardId, ID_BYTES_SQL, ID_LENGTH, idFragmentBytes } from './task-id-index';
import { pgArray } from './task-row';

/** The fields a term looks in: a bare term all of them, a qualified one its own. */
export type NeedleField = 'uuid' | 'name' | 'state' | 'worker' | 'args' | 'kwargs' | 'result';
const ALL_FIELDS: readonly NeedleField[] = ['uuid', 'name', 'state', 'worker', 'args', 'kwargs', 'result'];

/**
 * The text each match must contain (in one of `fields`), combined as the query combines its terms.
 * `bounded`: in every match the text stands between two characters of BOUNDARY_CHARS (or the
 * field's ends), so a word it starts or ends with is a whole word there (see kwargsPart).
 */
export type Needles =
  | { readonly kind: 'text'; readonly text: string; readonly fields: readonly NeedleField[]; readonly bounded?: true }
  | { readonly kind: 'and' | 'or'; readonly children: readonly Needles[] };

/** ASCII but letters and digits: what stands on each side of a `bounded` needle. */
const BOUNDARY_CHARS = `]!"#$%&'()*+,./:;<=>?@\\^_\`{|}~ \t\n\r\f\v[-`;
/** A part of a kwargs pair that may be a number, whose literal Python need not write as str() does (`1.50` is 1.5). */
const NUMBER_LIKE = /^[0-9a-fA-FxXoObBjJ._+-]+$/;

const TRIGRAM = 3;
/** Text `repr` writes as it is: printable ASCII but quotes and backslashes. */
const AS_TYPED = /^[\x20-\x7e]+$/;
const ESCAPED_BY_REPR = /['"\\]/;

/** What the index can check of `expression`, or null when it cannot narrow it. */
export function needlesOf(expression: QueryExpression): Needles | null {
  switch (expression.type) {
    case 'all':
      return null;
    case 'term': {
      if (expression.field === 'state') return null;
      const text = casefold(expression.value);
      // A NUL may join two fields in Flower's match (and no PostgreSQL text holds one): not narrowed.
      if (text.includes('\0')) return null;
      if (expression.field === 'kwargs' && text.includes('=')) {
        const eq = text.indexOf('=');
        const parts = [text.slice(0, eq).trim(), text.slice(eq + 1).trim()].filter((part) => codePointLength(part) >= TRIGRAM && AS_TYPED.test(part) && !ESCAPED_BY_REPR.test(part)).map(kwargsPart);
        if (parts.length === 0) return null;
        return parts.length === 1 ? (parts[0] ?? null) : { kind: 'and', children: parts };
      }
      return codePointLength(text) >= TRIGRAM ? { kind: 'text', text, fields: expression.field === null ? ALL_FIELDS : [expression.field] } : null;
    }
    case 'and': {
      const children = expression.children.map(needlesOf).filter((n): n is Needles => n !== null);
      if (children.length === 0) return null;
      return children.length === 1 ? (children[0] ?? null) : { kind: 'and', children };
    }
    case 'or': {
      const children = expression.children.map(needlesOf);
      if (children.some((n) => n === null)) return null;
      return { kind: 'or', children: children as Needles[] };
    }
  }
}

/**
 * A key or value of a `kwargs:` pair as the kwargs repr holds it. Python writes a dict as
 * `{k: v, …}`: a str key or value between quotes, anything else between `{`, a space, `:`, `,`
 * or `}` — so a part that cannot be a number stands between two characters that are not letters
 * or digits, which pg_trgm's trigram index can use (`0042` of `tenant-0042` ends a word there:
 * its trigram `42 `).
 */
function kwargsPart(part: string): Needles {
  return NUMBER_LIKE.test(part) ? { kind: 'text', text: part, fields: ['kwargs'] } : { kind: 'text', text: part, fields: ['kwargs'], bounded: true };
}

/**
 * Whether the index decides the query by itself for an indexed row: only bare terms (Flower
 * looks for them in every field the indexed text holds, casefolded as the text is), each
 * narrowed, combined by AND and OR. Then the SQL count of the indexed rows it lets through is
 * the count of their matches; a qualified term (`args:` looks in one field, the text holds all)
 * or a `kwargs:` pair still needs the matcher on each candidate.
 */
export function indexDecides(expression: QueryExpression): boolean {
  switch (expression.type) {
    case 'all':
      return false;
    case 'term':
      return expression.field === null && !expression.value.includes('\u001f') && needlesOf(expression) !== null;
    case 'and':
    case 'or':
      return expression.children.every(indexDecides);
  }
}

/**
 * The indexed rows the needles let through (with indexDecides: exactly the indexed rows that
 * match). The rows not indexed are `unindexedCandidates`.
 */
export function indexedMatches(needles: Resolved, backend: StoreBackend, param: (value: SqlValue) => string): string {
  if (backend === 'sqlite') return hasColumns(needles) ? `(search_indexed = 1 AND rowid IN (${sqliteRowids(needles, param)}))` : `rowid IN (${sqliteRowids(needles, param)})`;
  return `(search_indexed = 1 AND ${pgTree(needles, param)})`;
}

/** A needle resolved for PostgreSQL: look in the indexed text (`doc`), and at the rows whose column holds one of `values`. */
export interface ResolvedText {
  readonly kind: 'text';
  readonly text: string;
  readonly doc: boolean;
  readonly columns: readonly { readonly column: 'uuid' | 'name' | 'state' | 'worker'; readonly values: readonly string[] }[];
  /** Part of a standard task id: the tagged bytes the id must hold, one set per place it may be (./task-id-index.ts). */
  readonly idBytes: readonly (readonly number[])[] | null;
  /**
   * What the indexed text must contain, all of them: `text` itself, or parts of it that are
   * cheaper for the index to find (./search-sample.ts). SQLite's index then finds candidates only
   * (never the count); PostgreSQL tests `text` on the rows too (pgDoc), so its rows are exact.
   * On PostgreSQL a phrase may start or end with PHRASE_BOUNDARY: one of BOUNDARY_CHARS there.
   */
  readonly docPhrases?: readonly string[];
  /** As the needle's (Needles): the text stands between BOUNDARY_CHARS in every match. */
  readonly bounded?: true;
}
export type Resolved = ResolvedText | { readonly kind: 'and' | 'or'; readonly children: readonly Resolved[] };

/** Distinct values of a column read at most; past this a needle in it is not narrowed. */
const MAX_DISTINCT = 10_000;
/** Task ids containing a short needle (too short for the id index) read at most; past this it is not narrowed. */
const MAX_ID_MATCHES = 20_000;

/** Each distinct value of an indexed column, by a skip scan (one index probe per value); null when there are too many. */
async function distinctValues(sql: SqlRunner, column: 'name' | 'state' | 'worker'): Promise<string[] | null> {
  const rows = await sql.rows(
    `WITH RECURSIVE v(x) AS (SELECT min(${column}) FROM tasks UNION ALL SELECT (SELECT min(${column}) FROM tasks WHERE ${column} > v.x) FROM v WHERE v.x IS NOT NULL) SELECT x FROM v WHERE x IS NOT NULL LIMIT ${MAX_DISTINCT + 1}`,
  );
  return rows.length > MAX_DISTINCT ? null : rows.map((row) => String(row.x));
}

/**
 * The needles as the backend's index answers them, or null when it cannot narrow them. The
 * indexed text lacks the name, state and worker (and on PostgreSQL a standard task id:
 * ./task-row.ts, searchDoc): their matching values are read first.
 */
export async function resolveNeedles(sql: SqlRunner, backend: StoreBackend, needles: Needles): Promise<Resolved | null> {
  const distinct = new Map<'name' | 'state' | 'worker', Promise<string[] | null>>();
  const valuesOf = (column: 'name' | 'state' | 'worker'): Promise<string[] | null> => {
    const known = distinct.get(column);
    if (known !== undefined) return known;
    const values = distinctValues(sql, column);
    distinct.set(column, values);
    return values;
  };
  const resolve = async (n: Needles): Promise<Resolved | null> => {
    if (n.kind !== 'text') {
      const children = await Promise.all(n.children.map(resolve));
      if (n.kind === 'or' && children.some((c) => c === null)) return null;
      const kept = children.filter((c): c is Resolved => c !== null);
      if (kept.length === 0) return null;
      return kept.length === 1 ? (kept[0] ?? null) : { kind: n.kind, children: kept };
    }
    const columns: { column: 'uuid' | 'name' | 'state' | 'worker'; values: string[] }[] = [];
    const contains = fieldValueTest(n.text);
    for (const column of ['name', 'state', 'worker'] as const) {
      if (!n.fields.includes(column)) continue;
      const values = await valuesOf(column);
      if (values === null) return null;
      columns.push({ column, values: values.filter(contains) });
    }
    let idBytes: number[][] | null = null;
    // SQLite's indexed text holds the task id: its trigram index finds part of one.
    if (backend === 'postgresql' && n.fields.includes('uuid') && fitsStandardId(n.text)) {
      if (n.text.length === ID_LENGTH) columns.push({ column: 'uuid', values: [n.text] });
      else idBytes = idFragmentBytes(n.text);
      // Too short for the id index (under 5 hex digits): the ids that hold it, by a scan of them.
      if (n.text.length < ID_LENGTH && idBytes === null) {
        const rows = await sql.rows(`SELECT uuid FROM tasks WHERE uuid LIKE $1 LIMIT ${MAX_ID_MATCHES + 1}`, [`%${n.text}%`]);
        if (rows.length > MAX_ID_MATCHES) return null;
        columns.push({ column: 'uuid', values: rows.map((row) => String(row.uuid)) });
      }
    }
    // The task id (PostgreSQL: a non-standard one) is in the indexed text, with args, kwargs and result.
    const doc = n.fields.some((field) => field === 'uuid' || field === 'args' || field === 'kwargs' || field === 'result');
    return { kind: 'text', text: n.text, doc, columns, idBytes, ...(n.bounded ? { bounded: true as const } : {}) };
  };
  return resolve(needles);
}

/**
 * The SQL condition for candidates: not indexed (running, or partial: always candidates), or
 * matching the needles in the index. `param` adds a parameter and returns its placeholder.
 */
export function candidateCondition(needles: Resolved, backend: StoreBackend, param: (value: SqlValue) => string): string {
  // One set of rowids (the index's matches and the rows not indexed, each from its own index),
  // so SQLite looks the candidates up by rowid; an OR of the two made it test every row.
  if (backend === 'sqlite') return `rowid IN (SELECT * FROM (${sqliteRowids(needles, param)}) UNION ALL SELECT rowid FROM tasks WHERE ${unindexedCandidates(needles, backend, param)})`;
  return `(${unindexedCandidates(needles, backend, param)} OR ${pgTree(needles, param)})`;
}

/** SQLite: the fields of a row the trigram index holds, as one text (./task-row.ts, searchDoc; but not casefolded). */
export const SQLITE_INDEXED_TEXT = `(${['uuid', 'args', 'kwargs', 'result'].map((c) => `COALESCE(${c}, '')`).join(' || char(31) || ')})`;
/** The searchable fields of a row as one text (but not casefolded). */
export const RAW_TEXT = `(${['uuid', 'name', 'state', 'worker', 'args', 'kwargs', 'result'].map((c) => `COALESCE(${c}, '')`).join(" || ' ' || ")})`;
/** Any character outside ASCII: a regular expression for PostgreSQL (whatever the database's encoding). */
const NON_ASCII_PG = '[^\u0001-\u007f]';

/** A LIKE pattern for text anywhere, `\` escaping LIKE's own characters. */
function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The rows not indexed (running, or partial) that may match, by their own text (textCandidates). */
export function unindexedCandidates(needles: Resolved, backend: StoreBackend, param: (value: SqlValue) => string): string {
  return `(search_indexed = 0 AND ${textCandidates(needles, backend, param)})`;
}

/**
 * The rows that may match by their own text, tested row by row (no index): every one whose text
 * is not all ASCII (casefolding may match there in ways a LIKE does not: 'ß' is 'ss'), and the
 * ASCII ones that contain each ASCII needle as LIKE compares (ASCII case-insensitively, which is
 * casefold for ASCII). A needle outside ASCII does not narrow them. For the rows not indexed, and
 * for a scan in result order through a search matching many rows, where re-reading the index's
 * matches for every page would cost the whole match set per page.
 */
export function textCandidates(needles: Resolved, backend: StoreBackend, param: (value: SqlValue) => string): string {
  // SQLite's text is UTF-8: more bytes than characters is a character outside ASCII (or a NUL,
  // which `length` stops at: a candidate too). Half the cost of a GLOB for one (82 → 40 ms over
  // 10,000 rows not indexed, bench:store's store).
  const nonAscii = backend === 'sqlite' ? `octet_length(${RAW_TEXT}) <> length(${RAW_TEXT})` : `${RAW_TEXT} ~ ${param(NON_ASCII_PG)}`;
  const tree = (n: Resolved): string => {
    if (n.kind === 'text') {
      if (hasNonAscii(n.text)) return '1 = 1';
      const pattern = param(containing(n.text));
      return backend === 'sqlite' ? `${RAW_TEXT} LIKE ${pattern} ESCAPE '\\'` : `${RAW_TEXT} ILIKE ${pattern}`;
    }
    return `(${n.children.map(tree).join(n.kind === 'and' ? ' AND ' : ' OR ')})`;
  };
  return `(${nonAscii} OR ${tree(needles)})`;
}

/**
 * The candidates' `columns` (their task ids by default) as one SELECT, each part from its own
 * index: the index's matches and the rows not indexed. On PostgreSQL a row not indexed may also
 * match by its columns, so a task may come twice: the caller keeps each once.
 */
export function candidateIds(needles: Resolved, backend: StoreBackend, param: (value: SqlValue) => string, columns: readonly string[] = ['uuid']): string {
  const selected = columns.join(', ');
  if (backend === 'sqlite') return `SELECT ${selected} FROM tasks WHERE ${candidateCondition(needles, backend, param)}`;
  return `SELECT ${selected} FROM tasks WHERE ${unindexedCandidates(needles, backend, param)} UNION ALL SELECT ${selected} FROM tasks WHERE ${pgTree(needles, param)}`;
}

/** Whether a needle matches some values of a column (which the indexed text does not hold). */
function hasColumns(needles: Resolved): boolean {
  return needles.kind === 'text' ? needles.columns.some((c) => c.values.length > 0) : needles.children.some(hasColumns);
}

/** SQLite: the rows whose `column` is one of `values` (the column's index answers it). */
export function sqliteColumnIn(column: string, values: readonly string[], param: (value: SqlValue) => string): string {
  return `${column} IN (SELECT value FROM json_each(${param(JSON.stringify(values))}))`;
}

/** The rows whose `column` is one of `values`, by the column's index (null for a null column). */
export function columnIn(column: string, values: readonly string[], backend: StoreBackend, param: (value: SqlValue) => string): string {
  return backend === 'sqlite' ? sqliteColumnIn(column, values, param) : `${column} = ANY(${param(pgArray(values))}::text[])`;
}

/** The indexed rows whose indexed text holds the needle (the trigram index alone, not the columns). */
export function docMatches(needle: ResolvedText, backend: StoreBackend, param: (value: SqlValue) => string): string {
  return backend === 'sqlite' ? `rowid IN (${sqliteTrigramMatches(needle, param)})` : `(search_indexed = 1 AND ${pgDoc(needle, param)})`;
}

/**
 * The one column a single term finds by its values, when that is all besides the indexed text
 * (a task name's part, say): its matches can then be counted by the column's index. Not on
 * PostgreSQL for part of a task id (the id index is a third place to look).
 */
export function onlyColumn(needles: Resolved): { readonly needle: ResolvedText; readonly column: ResolvedText['columns'][number] } | undefined {
  if (needles.kind !== 'text' || needles.idBytes !== null) return undefined;
  const held = needles.columns.filter((c) => c.values.length > 0);
  const column = held.length === 1 ? held[0] : undefined;
  return column === undefined ? undefined : { needle: needles, column };
}

/**
 * SQLite: the rowids the needles let through, as one SELECT: the trigram index's matches and,
 * where a needle matches names, states or workers, the rows holding them (by the columns'
 * indexes), combined as the needles are. Rows not indexed may come through the columns: only
 * the trigram index's matches are all indexed rows. With no column to look in, the whole tree
 * is one FTS5 query (FTS5 intersects its posting lists itself).
 */
function sqliteRowids(needles: Resolved, param: (value: SqlValue) => string): string {
  const fts = (n: Resolved): string => sqliteTrigramMatches(n, param);
  if (!hasColumns(needles)) return fts(needles);
  if (needles.kind === 'text') {
    const parts = needles.doc ? [fts(needles)] : [];
    for (const { column, values } of needles.columns) if (values.length > 0) parts.push(`SELECT rowid FROM tasks WHERE ${sqliteColumnIn(column, values, param)}`);
    return parts.length === 0 ? 'SELECT rowid FROM tasks WHERE 0' : parts.join(' UNION ALL ');
  }
  // Each child its own SELECT (SQLite applies compound operators left to right, with no precedence).
  return needles.children.map((child) => `SELECT * FROM (${sqliteRowids(child, param)})`).join(needles.kind === 'and' ? ' INTERSECT ' : ' UNION ALL ');
}

/** SQLite: the rowids of the rows whose indexed text the needles let through (the trigram index alone). */
export function sqliteTrigramMatches(needles: Resolved, param: (value: SqlValue) => string): string {
  return `SELECT rowid FROM tasks_search WHERE tasks_search MATCH ${param(ftsQuery(needles))}`;
}

/** What the indexed text must contain for a needle: its phrases, or its text. */
function docPhrasesOf(needle: ResolvedText): readonly string[] {
  return needle.docPhrases ?? [needle.text];
}

/** FTS5's query syntax: each needle a quoted phrase (a trigram phrase is a substring). */
function ftsQuery(needles: Resolved): string {
  if (needles.kind === 'text') {
    const phrases = docPhrasesOf(needles).map((phrase) => `"${phrase.replaceAll('"', '""')}"`);
    return phrases.length === 1 ? (phrases[0] as string) : `(${phrases.join(' AND ')})`;
  }
  return `(${needles.children.map(ftsQuery).join(needles.kind === 'and' ? ' AND ' : ' OR ')})`;
}

/**
 * PostgreSQL: the rows whose indexed text (already casefolded) holds the needle, found by pg_trgm's
 * GIN. With cheaper phrases (./search-sample.ts) the index is asked for those, and the needle
 * itself is tested on the rows it finds, written so that the index cannot answer it (`|| ''`:
 * otherwise GIN reads every one of its trigrams' posting lists too): so the rows are exactly the
 * needle's, and a count of them is exact.
 */
function pgDoc(needle: ResolvedText, param: (value: SqlValue) => string): string {
  if (needle.docPhrases === undefined) return `(search_doc LIKE ${param(containing(needle.text))})`;
  const phrases = needle.docPhrases.map((phrase) => (phrase.includes(PHRASE_BOUNDARY) ? `search_doc ~ ${param(boundedRegex(phrase))}` : `search_doc LIKE ${param(containing(phrase))}`));
  return `(${[...phrases, `(search_doc || '') LIKE ${param(containing(needle.text))}`].join(' AND ')})`;
}

/** Stands in a phrase for one of BOUNDARY_CHARS (a needle never holds a NUL: needlesOf). */
export const PHRASE_BOUNDARY = '\u0000';
const BOUNDARY_CLASS = `[${BOUNDARY_CHARS.replaceAll('\\', '\\\\')}]`;

/**
 * A phrase with a boundary as a PostgreSQL regular expression: each boundary a bracket of
 * BOUNDARY_CHARS, which pg_trgm takes for a word's end (a trigram of its padding, `42 `), unlike
 * `[^[:alnum:]]`, whose letters of other alphabets are word characters to it.
 */
function boundedRegex(phrase: string): string {
  return phrase.split(PHRASE_BOUNDARY).map(escapeRegExp).join(BOUNDARY_CLASS);
}

/**
 * PostgreSQL's condition, each part answered by an index: pg_trgm's GIN answers LIKE '%…%' on the
 * indexed text (already casefolded), the B-trees and the primary key `= ANY` of the values found.
 */
function pgTree(needles: Resolved, param: (value: SqlValue) => string): string {
  if (needles.kind !== 'text') return `(${needles.children.map((child) => pgTree(child, param)).join(needles.kind === 'and' ? ' AND ' : ' OR ')})`;
  const parts: string[] = [];
  if (needles.doc) parts.push(pgDoc(needles, param));
  for (const { column, values } of needles.columns) {
    if (values.length > 0) parts.push(columnIn(column, values, 'postgresql', param));
  }
  // The rows whose id holds the fragment's bytes where it may be (the id index: its rows' condition
  // written out as the index has it, so the planner sees it applies), then whose id holds it.
  if (needles.idBytes !== null) {
    const places = needles.idBytes.map((bytes) => `${ID_BYTES_SQL.value} @> ${param(`{${bytes.join(',')}}`)}::integer[]`);
    parts.push(`(${ID_BYTES_SQL.rows} AND (${places.join(' OR ')}) AND uuid LIKE ${param(containing(needles.text))})`);
  }
  return parts.length === 0 ? 'FALSE' : `(${parts.join(' OR ')})`;
}
