/**
 * Narrowing a search (Flower's query language, server/state/search.ts) with the store's trigram
 * index (./schema.ts, SEARCH_V2): the condition every match satisfies, as SQL. The rows it lets
 * through are candidates only — the query's own matcher decides each — so the narrowing may
 * let too much through but never too little:
 * - a substring term (bare, `name:`, `worker:`, `args:`, `kwargs:`, `result:`) needs its
 *   casefolded text in the task's indexed text, which holds every such field casefolded;
 * - `kwargs:key=value` compares the pair as Flower normalises it (`casefold(str(key))`,
 *   `casefold(str(value))`). Python's `str` and `repr` of a key or value agree but for the
 *   characters `repr` escapes (quotes, backslashes, what is not printable), so a key or value
 *   made of printable ASCII without those appears in the kwargs repr as typed: each such part of
 *   3 or more characters narrows it;
 * - `state:` is exact and is left to the matcher; so is anything under 3 characters (a trigram).
 * An OR narrows only if each side does. A query that cannot be narrowed scans the filtered rows.
 */
import { casefold, codePointLength, hasNonAscii } from '../protocol/python/str';
import type { QueryExpression } from '../state/search';
import type { StoreBackend } from './schema';

/** The text each match must contain, combined as the query combines its terms. */
export type Needles = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'and' | 'or'; readonly children: readonly Needles[] };

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
      if (expression.field === 'kwargs' && text.includes('=')) {
        const eq = text.indexOf('=');
        const parts = [text.slice(0, eq).trim(), text.slice(eq + 1).trim()]
          .filter((part) => codePointLength(part) >= TRIGRAM && AS_TYPED.test(part) && !ESCAPED_BY_REPR.test(part))
          .map((part): Needles => ({ kind: 'text', text: part }));
        if (parts.length === 0) return null;
        return parts.length === 1 ? (parts[0] ?? null) : { kind: 'and', children: parts };
      }
      return codePointLength(text) >= TRIGRAM ? { kind: 'text', text } : null;
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
 * The SQL condition for candidates: not indexed (running, or partial: always candidates), or
 * matching the needles in the index. `param` adds a parameter and returns its placeholder.
 */
export function candidateCondition(needles: Needles, backend: StoreBackend, param: (value: string) => string): string {
  // One set of rowids (the index's matches and the rows not indexed, each from its own index),
  // so SQLite looks the candidates up by rowid; an OR of the two made it test every row.
  if (backend === 'sqlite')
    return `rowid IN (SELECT rowid FROM tasks_search WHERE tasks_search MATCH ${param(ftsQuery(needles))} UNION ALL SELECT rowid FROM tasks WHERE ${unindexed(needles, backend, param)})`;
  return `(${unindexed(needles, backend, param)} OR ${likeTree(needles, param)})`;
}

/** The searchable fields of a row as one text, as the index's text has them (but not casefolded). */
const RAW_TEXT = `(${['uuid', 'name', 'state', 'worker', 'args', 'kwargs', 'result'].map((c) => `COALESCE(${c}, '')`).join(" || ' ' || ")})`;
/** Any character outside ASCII (a pattern of each backend's: GLOB for SQLite, a regular expression for PostgreSQL). */
const NON_ASCII = { sqlite: '*[^\u0001-\u007f]*', postgresql: '[^\u0001-\u007f]' } as const;

/**
 * The rows not indexed (running, or partial) that may match: every one whose text is not all
 * ASCII (casefolding may match there in ways a LIKE does not: 'ß' is 'ss'), and the ASCII ones
 * that contain each ASCII needle as LIKE compares (ASCII case-insensitively, which is casefold
 * for ASCII). A needle outside ASCII does not narrow them.
 */
function unindexed(needles: Needles, backend: StoreBackend, param: (value: string) => string): string {
  const nonAscii = backend === 'sqlite' ? `${RAW_TEXT} GLOB ${param(NON_ASCII.sqlite)}` : `${RAW_TEXT} ~ ${param(NON_ASCII.postgresql)}`;
  const tree = (n: Needles): string => {
    if (n.kind === 'text') {
      if (hasNonAscii(n.text)) return '1 = 1';
      const pattern = param(`%${n.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      return backend === 'sqlite' ? `${RAW_TEXT} LIKE ${pattern} ESCAPE '\\'` : `${RAW_TEXT} ILIKE ${pattern}`;
    }
    return `(${n.children.map(tree).join(n.kind === 'and' ? ' AND ' : ' OR ')})`;
  };
  return `(search_indexed = 0 AND (${nonAscii} OR ${tree(needles)}))`;
}

/**
 * The candidates' task ids as one SELECT, each part from its own index: the index's matches and
 * the rows not indexed (disjoint: a row not indexed has no indexed text).
 */
export function candidateIds(needles: Needles, backend: StoreBackend, param: (value: string) => string): string {
  if (backend === 'sqlite') return `SELECT uuid FROM tasks WHERE ${candidateCondition(needles, backend, param)}`;
  return `SELECT uuid FROM tasks WHERE ${unindexed(needles, backend, param)} UNION ALL SELECT uuid FROM tasks WHERE ${likeTree(needles, param)}`;
}

/** FTS5's query syntax: each needle a quoted phrase (a trigram phrase is a substring). */
function ftsQuery(needles: Needles): string {
  if (needles.kind === 'text') return `"${needles.text.replaceAll('"', '""')}"`;
  return `(${needles.children.map(ftsQuery).join(needles.kind === 'and' ? ' AND ' : ' OR ')})`;
}

/** pg_trgm answers LIKE '%…%' from its GIN index; the indexed text is already casefolded. */
function likeTree(needles: Needles, param: (value: string) => string): string {
  if (needles.kind === 'text') return `search_doc LIKE ${param(`%${needles.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`;
  return `(${needles.children.map((child) => likeTree(child, param)).join(needles.kind === 'and' ? ' AND ' : ' OR ')})`;
}
