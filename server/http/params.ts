/**
 * Query-parameter parsing for the Flower-compatible API. Every parameter is validated here;
 * a bad one becomes an RequestError (400 with a JSON body), never a 500.
 */
import { RequestError } from '../errors';
import { parseTaskQuery, TaskQuerySyntaxError } from '../state/search';
import { SORT_FIELDS, type SortField, type TaskFilter } from '../state/task-query';

export type Query = Record<string, unknown>;

/** Tornado's get_argument returns the last value of a repeated parameter; so do we. */
export function param(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) {
    const last: unknown = value[value.length - 1];
    return typeof last === 'string' ? last : undefined;
  }
  return typeof value === 'string' ? value : undefined;
}

const TRUE = new Set(['y', 'yes', 't', 'true', 'on', '1']);
const FALSE = new Set(['n', 'no', 'f', 'false', 'off', '0']);

/** Flower's boolean arguments: y/yes/t/true/on/1 and n/no/f/false/off/0. */
export function boolParam(query: Query, name: string, fallback = false): boolean {
  const raw = param(query, name);
  if (raw === undefined || raw === '') return fallback;
  const v = raw.toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new RequestError(400, `Invalid boolean value for '${name}': ${JSON.stringify(raw)}`);
}

/**
 * An integer parameter within [min, max] (the one integer parser of the API), or `fallback` when
 * it is absent or empty. Anything else — a sign, a fraction, an exponent, out of range — is a 400.
 */
export function intParam(query: Query, name: string, range?: { min?: number; max?: number }): number | null;
export function intParam(query: Query, name: string, range: { min?: number; max?: number }, fallback: number): number;
export function intParam(query: Query, name: string, { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {}, fallback: number | null = null): number | null {
  const raw = param(query, name);
  if (raw === undefined || raw === '') return fallback;
  const text = raw.trim();
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const expected = max === Number.MAX_SAFE_INTEGER ? (min === 0 ? 'must be a non-negative integer' : `must be an integer of at least ${min}`) : `must be an integer from ${min} to ${max}`;
    throw new RequestError(400, `Invalid value for '${name}': ${JSON.stringify(raw)} (${expected})`);
  }
  return value;
}

/** The tasks list's filters with a page size: at most 1,000 rows, 50 unless asked. */
export function parseTasksPageFilter(query: Query): TaskFilter {
  const filter = parseTaskFilter(query);
  return { ...filter, limit: Math.min(filter.limit ?? 50, 1_000) };
}

/** Flower's "All" means no filter. */
function filterParam(query: Query, name: string): string | null {
  const raw = param(query, name);
  return raw === undefined || raw === '' || raw === 'All' ? null : raw;
}

/**
 * `received_start`/`received_end`: Flower's `YYYY-MM-DD HH:MM` in the server's local time.
 * Also accepted: ISO 8601 with a zone (`2026-01-02T03:04:05Z`) and epoch seconds.
 */
export function parseTimeParam(query: Query, name: string): number | null {
  const raw = param(query, name);
  if (raw === undefined || raw === '') return null;
  const text = raw.trim();
  const flower = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})$/.exec(text);
  let ms: number;
  if (flower) {
    const [, y, mo, d, h, mi] = flower.map(Number) as [number, number, number, number, number, number];
    ms = new Date(y, mo - 1, d, h, mi).getTime();
    // Reject impossible dates (2026-02-31 would silently roll over).
    const check = new Date(ms);
    if (check.getMonth() !== mo - 1 || check.getDate() !== d || check.getHours() !== h) ms = Number.NaN;
  } else if (/^\d+(\.\d+)?$/.test(text)) {
    ms = Number(text) * 1000;
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    ms = Date.parse(text);
  } else {
    ms = Number.NaN;
  }
  if (!Number.isFinite(ms)) {
    throw new RequestError(400, `Invalid value for '${name}': ${JSON.stringify(raw)} (expected 'YYYY-MM-DD HH:MM' local time, ISO 8601 with a zone, or epoch seconds)`);
  }
  return ms / 1000;
}

export function parseTaskFilter(query: Query): TaskFilter {
  const sortRaw = param(query, 'sort_by');
  let sortBy: TaskFilter['sortBy'] = null;
  if (sortRaw !== undefined && sortRaw !== '') {
    const descending = sortRaw.startsWith('-');
    const field = descending ? sortRaw.slice(1) : sortRaw;
    if (!(SORT_FIELDS as readonly string[]).includes(field)) {
      throw new RequestError(400, `Invalid value for 'sort_by': ${JSON.stringify(sortRaw)} (one of ${SORT_FIELDS.join(', ')}, optionally prefixed with '-')`);
    }
    sortBy = { field: field as SortField, descending };
  }
  const searchRaw = param(query, 'search');
  let search: TaskFilter['search'] = null;
  if (searchRaw !== undefined && searchRaw.trim() !== '') {
    try {
      search = parseTaskQuery(searchRaw);
    } catch (error) {
      if (error instanceof TaskQuerySyntaxError) throw new RequestError(400, error.message);
      throw error;
    }
  }
  return {
    limit: intParam(query, 'limit'),
    offset: intParam(query, 'offset', {}, 0),
    sortBy,
    worker: filterParam(query, 'workername'),
    taskName: filterParam(query, 'taskname'),
    state: filterParam(query, 'state'),
    receivedStart: parseTimeParam(query, 'received_start'),
    receivedEnd: parseTimeParam(query, 'received_end'),
    search,
    queue: filterParam(query, 'queue'),
  };
}
