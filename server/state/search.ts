/**
 * Flower 2.1's task search query language (`flower/utils/search.py`, `docs/tasks_filter.rst`),
 * used by `/api/tasks?search=` and the tasks page.
 *
 * - Whitespace is an implicit AND; `AND` may be written; uppercase `OR` binds looser than AND;
 *   parentheses group (at most 5 levels). `"quoted phrase"`, with `\"` and `\\` escapes.
 * - Qualifiers (case-insensitive): `name:`, `state:`, `worker:`, `args:`, `kwargs:`, `result:`.
 *   A bare term is a case-insensitive substring match over uuid, name, state, worker, args,
 *   kwargs and result. `state:X` is an exact (case-insensitive) match. `kwargs:key=value` matches
 *   an exact normalised pair of the task's kwargs repr parsed like `ast.literal_eval`. All other
 *   terms are substring matches and need at least 3 characters.
 * - No `NOT` and no `-term`. At most 2048 characters and 128 tokens.
 *
 * Errors carry Flower's exact messages ("OR must be followed by a search term at position 6."),
 * positions counted in code points of the whitespace-stripped query, as Python does. Matching
 * folds case with Python's `str.casefold()` (not just lower-casing), like Flower.
 *
 * For speed over many tasks the query is compiled once into closures (needles folded once,
 * compiled queries kept in a 512-entry LRU like Flower's `lru_cache`), and each task's parsed
 * kwargs pairs are cached in a WeakMap keyed by the task object, revalidated against the current
 * kwargs string on every access (tasks are long-lived and mutable). See "Matching" below.
 */
import { literalEval } from '../protocol/python/literal';
import { pyRepr, safeStr } from '../protocol/python/repr';
import { casefold, codePointLength, hasNonAscii, isPySpace, pyStrip } from '../protocol/python/str';
import type { PyExactValue } from '../protocol/python/value';

export interface SearchableTask {
  readonly uuid: string;
  readonly name: string | null;
  readonly state: string;
  readonly worker: string | null;
  readonly args: string | null;
  readonly kwargs: string | null;
  readonly result: string | null;
}

/** A query Flower would refuse. `message` is what the API returns as `{"error": message}`. */
export class TaskQuerySyntaxError extends Error {
  override readonly name = 'TaskQuerySyntaxError';
  /** The message without position and final period, e.g. `Empty group`. */
  readonly detail: string;
  /** Code-point offset into the stripped query, or null for whole-query limits. */
  readonly position: number | null;

  constructor(detail: string, position: number | null = null) {
    super(`${position === null ? detail : `${detail} at position ${position}`}.`);
    this.detail = detail;
    this.position = position;
  }
}

export interface TaskQuery {
  matches(task: SearchableTask): boolean;
  readonly text: string;
  /** The parsed query (the store narrows its candidates with it: server/store/search-index.ts). */
  readonly expression: QueryExpression;
}

export type SearchField = 'name' | 'state' | 'worker' | 'args' | 'kwargs' | 'result';

/** The parsed query, shaped like Flower's `MatchAll` / `Term` / `And` / `Or` dataclasses. */
export type QueryExpression =
  | { readonly type: 'all' }
  | { readonly type: 'term'; readonly field: SearchField | null; readonly value: string }
  | { readonly type: 'and'; readonly children: readonly QueryExpression[] }
  | { readonly type: 'or'; readonly children: readonly QueryExpression[] };

export const MIN_SUBSTRING_LENGTH = 3;
export const MAX_QUERY_LENGTH = 2048;
export const MAX_QUERY_TOKENS = 128;
export const MAX_QUERY_DEPTH = 5;

const SEARCH_FIELDS: ReadonlySet<string> = new Set<SearchField>(['name', 'state', 'worker', 'args', 'kwargs', 'result']);

// ---------------------------------------------------------------------------------------------
// Tokenizer and parser (a line-by-line port of flower/utils/search.py)

type TokenKind = 'LPAREN' | 'RPAREN' | 'AND' | 'OR' | 'TERM' | 'EOF';

interface Token {
  readonly kind: TokenKind;
  readonly value: string;
  readonly position: number;
}

function appendToken(tokens: Token[], kind: TokenKind, value: string, position: number): void {
  tokens.push({ kind, value, position });
  if (tokens.length > MAX_QUERY_TOKENS) {
    throw new TaskQuerySyntaxError(`Query exceeds ${MAX_QUERY_TOKENS} tokens`);
  }
}

function tokenize(query: string): Token[] {
  const chars = Array.from(query); // code points, so positions match Python's
  const length = chars.length;
  const tokens: Token[] = [];
  let index = 0;
  while (index < length) {
    const first = chars[index] ?? '';
    if (isPySpace(first.charCodeAt(0))) {
      index++;
      continue;
    }
    const position = index;
    if (first === '(') {
      appendToken(tokens, 'LPAREN', '(', position);
      index++;
      continue;
    }
    if (first === ')') {
      appendToken(tokens, 'RPAREN', ')', position);
      index++;
      continue;
    }
    let value = '';
    let quoted = false;
    let inQuote = false;
    while (index < length) {
      const char = chars[index] ?? '';
      if (char === '\\' && index + 1 < length) {
        const next = chars[index + 1];
        if (next === '"' || next === '\\') {
          value += next;
          index += 2;
          continue;
        }
      }
      if (char === '"') {
        quoted = true;
        inQuote = !inQuote;
        index++;
        continue;
      }
      if (!inQuote && (isPySpace(char.charCodeAt(0)) || char === '(' || char === ')')) break;
      value += char;
      index++;
    }
    if (inQuote) throw new TaskQuerySyntaxError('Unterminated quoted phrase', position);
    if (!value) throw new TaskQuerySyntaxError('Empty search term', position);
    let kind: TokenKind = 'TERM';
    if (!quoted && (value === 'AND' || value === 'OR')) kind = value;
    else if (!quoted && value === 'NOT') throw new TaskQuerySyntaxError('NOT is not supported', position);
    appendToken(tokens, kind, value, position);
  }
  tokens.push({ kind: 'EOF', value: '', position: length });
  return tokens;
}

class QueryParser {
  private index = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  private get current(): Token {
    // The EOF token is last and never advanced past.
    return this.tokens[this.index] ?? { kind: 'EOF', value: '', position: 0 };
  }

  /** A method, not a property: TypeScript must not narrow it across advance(). */
  private kind(): TokenKind {
    return this.current.kind;
  }

  private advance(): Token {
    const token = this.current;
    this.index++;
    return token;
  }

  parse(): QueryExpression {
    if (this.kind() === 'EOF') return MATCH_ALL;
    const expression = this.parseOr(0);
    if (this.kind() !== 'EOF') {
      throw new TaskQuerySyntaxError(`Unexpected ${pyRepr(this.current.value)}`, this.current.position);
    }
    return expression;
  }

  private parseOr(depth: number): QueryExpression {
    const children = [this.parseAnd(depth)];
    while (this.kind() === 'OR') {
      const operator = this.advance();
      if (isOperandEnd(this.kind())) {
        throw new TaskQuerySyntaxError('OR must be followed by a search term', operator.position);
      }
      children.push(this.parseAnd(depth));
    }
    return combine('or', children);
  }

  private parseAnd(depth: number): QueryExpression {
    const children = [this.parsePrimary(depth)];
    for (;;) {
      const kind = this.kind();
      if (kind === 'EOF' || kind === 'RPAREN' || kind === 'OR') break;
      if (kind === 'AND') {
        const operator = this.advance();
        if (isOperandEnd(this.kind())) {
          throw new TaskQuerySyntaxError('AND must be followed by a search term', operator.position);
        }
      } else if (kind !== 'TERM' && kind !== 'LPAREN') {
        throw new TaskQuerySyntaxError(`Unexpected ${pyRepr(this.current.value)}`, this.current.position);
      }
      children.push(this.parsePrimary(depth));
    }
    return combine('and', children);
  }

  private parsePrimary(depth: number): QueryExpression {
    const token = this.current;
    if (token.kind === 'LPAREN') {
      if (depth >= MAX_QUERY_DEPTH) {
        throw new TaskQuerySyntaxError(`Query nesting exceeds ${MAX_QUERY_DEPTH} levels`, token.position);
      }
      this.advance();
      if (this.kind() === 'RPAREN') throw new TaskQuerySyntaxError('Empty group', token.position);
      const expression = this.parseOr(depth + 1);
      if (this.kind() !== 'RPAREN') throw new TaskQuerySyntaxError('Missing closing parenthesis', token.position);
      this.advance();
      return expression;
    }
    if (token.kind !== 'TERM') throw new TaskQuerySyntaxError('Expected a search term', token.position);
    this.advance();
    return parseTerm(token);
  }
}

function isOperandEnd(kind: TokenKind): boolean {
  return kind === 'EOF' || kind === 'RPAREN' || kind === 'AND' || kind === 'OR';
}

const MATCH_ALL: QueryExpression = Object.freeze({ type: 'all' });

/** Flower's `_combine`: flattens nested nodes of the same type and drops duplicate children. */
function combine(type: 'and' | 'or', children: readonly QueryExpression[]): QueryExpression {
  const flattened: QueryExpression[] = [];
  const seen = new Set<string>();
  for (const child of children) {
    const candidates = child.type === type ? child.children : [child];
    for (const candidate of candidates) {
      const key = JSON.stringify(candidate);
      if (seen.has(key)) continue;
      seen.add(key);
      flattened.push(candidate);
    }
  }
  if (flattened.length === 1 && flattened[0]) return flattened[0];
  return { type, children: flattened };
}

function parseTerm(token: Token): QueryExpression {
  let field: SearchField | null = null;
  let value = token.value;
  const colon = value.indexOf(':');
  if (colon >= 0) {
    const candidate = casefold(value.slice(0, colon));
    if (SEARCH_FIELDS.has(candidate)) {
      field = candidate as SearchField;
      value = value.slice(colon + 1);
    }
  }
  if (field === null && value.startsWith('-')) {
    throw new TaskQuerySyntaxError("Negation with '-' is not supported", token.position);
  }
  if (!value) throw new TaskQuerySyntaxError('Search qualifier requires a value', token.position);
  const isExact = field === 'state' || (field === 'kwargs' && value.includes('='));
  if (!isExact && codePointLength(pyStrip(value)) < MIN_SUBSTRING_LENGTH) {
    throw new TaskQuerySyntaxError(`Substring search terms must contain at least ${MIN_SUBSTRING_LENGTH} characters`, token.position);
  }
  return { type: 'term', field, value };
}

/**
 * Parses a query into Flower's expression tree (an empty or blank query is `{type: 'all'}`).
 * Throws {@link TaskQuerySyntaxError}.
 */
export function parseQueryExpression(text: string): QueryExpression {
  const query = pyStrip(typeof text === 'string' ? text : '');
  if (query.length > MAX_QUERY_LENGTH && codePointLength(query) > MAX_QUERY_LENGTH) {
    throw new TaskQuerySyntaxError(`Query exceeds ${MAX_QUERY_LENGTH} characters`);
  }
  return new QueryParser(tokenize(query)).parse();
}

// ---------------------------------------------------------------------------------------------
// Matching
//
// Flower keeps a casefolded copy of every field of every task (its SearchDocument). Folded copies
// of args/kwargs/result would double the memory held per task here, so haystacks are not copied:
// - an ASCII-only needle is found with a precompiled case-insensitive RegExp. Without the `u`
//   flag, JavaScript's /i only pairs ASCII letters with ASCII letters, so a hit is a hit in the
//   casefolded text; only a haystack with non-ASCII characters can hide more hits (e.g. 'ß' folds
//   to 'ss', 'ſ' to 's'), and only then is the haystack casefolded;
// - a non-ASCII needle can only occur in a non-ASCII haystack, which is casefolded;
// - values that repeat across tasks (state, name, worker) are memoised per compiled term;
// - the parsed kwargs pairs are cached per task object in a WeakMap, together with the kwargs
//   string they came from, and recomputed when that string changes.

type Matcher = (task: SearchableTask) => boolean;
type TextTest = (haystack: string) => boolean;

/** `text` matched literally in a regular expression: JavaScript's, and PostgreSQL's (the same metacharacters, each escaped by a backslash). */
export function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/** `casefold(haystack).includes(needle)` for an already casefolded, non-empty needle. */
function substringTest(needle: string): TextTest {
  if (hasNonAscii(needle)) {
    return (haystack) => hasNonAscii(haystack) && casefold(haystack).includes(needle);
  }
  const pattern = new RegExp(escapeRegExp(needle), 'i');
  return (haystack) => pattern.test(haystack) || (hasNonAscii(haystack) && casefold(haystack).includes(needle));
}

/**
 * Whether a field's value contains a casefolded needle as the matcher decides it (a bare term, or
 * `name:`, `worker:`): for the store, which looks up the names and workers a needle matches.
 */
export function fieldValueTest(needle: string): (value: string) => boolean {
  return substringTest(needle);
}

const MEMO_LIMIT = 4096;

/** Memoises a test of values that repeat across tasks (states, task names, worker names). */
function memoised(test: TextTest): TextTest {
  const memo = new Map<string, boolean>();
  return (value) => {
    let result = memo.get(value);
    if (result === undefined) {
      result = test(value);
      if (memo.size < MEMO_LIMIT) memo.set(value, result);
    }
    return result;
  };
}

interface KwargsCacheEntry {
  kwargs: string | null;
  pairs: ReadonlySet<string>;
}

const EMPTY_PAIRS: ReadonlySet<string> = new Set();
const kwargsCache = new WeakMap<SearchableTask, KwargsCacheEntry>();

function pairsOf(task: SearchableTask): ReadonlySet<string> {
  const kwargs = task.kwargs;
  const entry = kwargsCache.get(task);
  if (entry !== undefined) {
    if (entry.kwargs === kwargs) return entry.pairs;
    entry.kwargs = kwargs;
    entry.pairs = kwargsPairs(kwargs);
    return entry.pairs;
  }
  const pairs = kwargsPairs(kwargs);
  kwargsCache.set(task, { kwargs, pairs });
  return pairs;
}

/**
 * Flower's `_kwargs_pairs`: the kwargs repr parsed like `ast.literal_eval`; if it is a non-empty
 * dict, the set of `casefold(safe_str(key)) + '=' + casefold(safe_str(value))` (None → '').
 */
export function kwargsPairs(kwargs: string | null): ReadonlySet<string> {
  if (kwargs === null) return EMPTY_PAIRS;
  let parsed: PyExactValue;
  try {
    parsed = literalEval(kwargs);
  } catch {
    return EMPTY_PAIRS;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || parsed.kind !== 'dict') return EMPTY_PAIRS;
  if (parsed.entries.length === 0) return EMPTY_PAIRS;
  const pairs = new Set<string>();
  for (const [key, item] of parsed.entries) pairs.add(`${normaliseItem(key)}=${normaliseItem(item)}`);
  return pairs;
}

/** `_normalize(x)`: '' for None, else `safe_str(x).casefold()` (bytes decoded as UTF-8, others via str()). */
function normaliseItem(value: PyExactValue): string {
  return value === null ? '' : casefold(safeStr(value));
}

/** Flower's `_kwargs_query_pair`, applied to the casefolded term value. */
function kwargsQueryPair(value: string): string {
  const eq = value.indexOf('=');
  return `${pyStrip(value.slice(0, eq))}=${pyStrip(value.slice(eq + 1))}`;
}

interface Compiled {
  readonly match: Matcher;
  /** Relative cost, used to evaluate cheap AND children first. */
  readonly cost: number;
}

function compileTerm(field: SearchField | null, value: string): Compiled {
  const needle = casefold(value);
  switch (field) {
    case 'state': {
      const test = memoised((state) => casefold(state) === needle);
      return { match: (task) => test(task.state), cost: 0 };
    }
    case 'name':
    case 'worker': {
      const test = memoised(substringTest(needle));
      return field === 'name' ? { match: (task) => task.name !== null && test(task.name), cost: 1 } : { match: (task) => task.worker !== null && test(task.worker), cost: 1 };
    }
    case 'args': {
      const test = substringTest(needle);
      return { match: (task) => task.args !== null && test(task.args), cost: 3 };
    }
    case 'result': {
      const test = substringTest(needle);
      return { match: (task) => task.result !== null && test(task.result), cost: 3 };
    }
    case 'kwargs': {
      if (needle.includes('=')) {
        const pair = kwargsQueryPair(needle);
        return { match: (task) => pairsOf(task).has(pair), cost: 2 };
      }
      const test = substringTest(needle);
      return { match: (task) => task.kwargs !== null && test(task.kwargs), cost: 3 };
    }
    case null:
      return { match: allFieldsMatcher(needle), cost: 4 };
  }
}

/**
 * A bare term: Flower searches uuid, name, state, worker, args, kwargs and result joined by NUL.
 * A needle without NUL cannot span two fields, so each field is tested on its own.
 */
function allFieldsMatcher(needle: string): Matcher {
  if (needle.includes('\0')) {
    return (task) =>
      [task.uuid, task.name, task.state, task.worker, task.args, task.kwargs, task.result]
        .map((v) => (v === null ? '' : casefold(v)))
        .join('\0')
        .includes(needle);
  }
  const test = substringTest(needle);
  const repeated = memoised(test);
  return (task) =>
    test(task.uuid) ||
    (task.name !== null && repeated(task.name)) ||
    repeated(task.state) ||
    (task.worker !== null && repeated(task.worker)) ||
    (task.args !== null && test(task.args)) ||
    (task.kwargs !== null && test(task.kwargs)) ||
    (task.result !== null && test(task.result));
}

function compile(expression: QueryExpression): Compiled {
  switch (expression.type) {
    case 'all':
      return { match: () => true, cost: 0 };
    case 'term':
      return compileTerm(expression.field, expression.value);
    case 'and':
    case 'or': {
      // Pure predicates, so the order does not change the result: cheapest first.
      const parts = expression.children.map(compile).sort((a, b) => a.cost - b.cost);
      const cost = Math.max(...parts.map((part) => part.cost)) + 1;
      return {
        match: combineMatchers(
          expression.type,
          parts.map((part) => part.match),
        ),
        cost,
      };
    }
  }
}

/** AND / OR of matchers; two of them (the common case) without walking an array. */
function combineMatchers(type: 'and' | 'or', matchers: readonly Matcher[]): Matcher {
  if (matchers.length === 2) {
    const [a, b] = matchers as [Matcher, Matcher];
    return type === 'and' ? (task) => a(task) && b(task) : (task) => a(task) || b(task);
  }
  return type === 'and' ? (task) => matchers.every((m) => m(task)) : (task) => matchers.some((m) => m(task));
}

class CompiledTaskQuery implements TaskQuery {
  readonly matches: (task: SearchableTask) => boolean;

  constructor(
    /** The query with surrounding whitespace removed. */
    readonly text: string,
    readonly expression: QueryExpression,
  ) {
    this.matches = compile(expression).match;
  }
}

const QUERY_CACHE_SIZE = 512;
const queryCache = new Map<string, CompiledTaskQuery>();

/**
 * Parses and compiles a search query. An empty or blank query matches every task.
 * Throws {@link TaskQuerySyntaxError} with Flower's message for an invalid query.
 * Compiled queries are cached (LRU, 512 entries, like Flower's `lru_cache`).
 */
export function parseTaskQuery(text: string): TaskQuery {
  const query = pyStrip(typeof text === 'string' ? text : '');
  const cached = queryCache.get(query);
  if (cached !== undefined) {
    queryCache.delete(query);
    queryCache.set(query, cached);
    return cached;
  }
  const compiled = new CompiledTaskQuery(query, parseQueryExpression(query));
  queryCache.set(query, compiled);
  if (queryCache.size > QUERY_CACHE_SIZE) {
    const oldest = queryCache.keys().next();
    if (!oldest.done) queryCache.delete(oldest.value);
  }
  return compiled;
}
