/**
 * PostgreSQL's index of task ids by their parts (./schema.ts, ID_BYTES_V6), so that a search for
 * part of an id — the first 8 characters a user copies from the tasks list, the digits of an order
 * number that happen to look like hex — is answered by an index, not a scan of every id.
 *
 * Celery's ids (`str(uuid4())`: 32 hex digits in 8-4-4-4-12 groups) are 16 bytes. The index is a
 * GIN over each finished task's id bytes tagged with their positions (`position * 256 + byte`:
 * 16 integers, ID_BYTES_SQL), an expression index, so the writer sends nothing more and a store
 * gains it by building one index. A fragment of 5 or more hex digits covers at least two whole
 * bytes wherever it falls in the id, so for each place it fits (its dashes where the id has them)
 * the rows holding those tagged bytes are few (1 in 65,536 at most) and an exact `LIKE` on the id
 * keeps those that contain it. A trigram index over the id would do the same with twice the
 * entries, each costlier to make; measured, it slowed the writer too much to keep up with 50,000
 * events/s.
 *
 * Ids not in the standard form are in the trigram-indexed text (./task-row.ts, searchDoc).
 */

/** Celery's own task ids: `str(uuid4())`, lower-case hex in 8-4-4-4-12 groups. */
const STANDARD_TASK_ID_SOURCE = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const STANDARD_TASK_ID = new RegExp(STANDARD_TASK_ID_SOURCE);

export function isStandardTaskId(uuid: string): boolean {
  return STANDARD_TASK_ID.test(uuid);
}

/**
 * The index as SQL: the rows it covers (finished tasks with a standard id: `decode` refuses any
 * other), and its expression, a function the schema creates (an expression alone, so PostgreSQL
 * inlines it, in the index and in queries alike).
 */
export const ID_BYTES_SQL = {
  rows: `search_indexed = 1 AND uuid ~ '${STANDARD_TASK_ID_SOURCE}'`,
  value: 'celeriac_id_bytes(uuid)',
  createFunction: `CREATE FUNCTION celeriac_id_bytes(id text) RETURNS integer[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT ARRAY[${Array.from(
    { length: 16 },
    (_, position) => `${position * 256} + get_byte(decode(replace(id, '-', ''), 'hex'), ${position})`,
  ).join(', ')}] $$`,
};

/** What ID_BYTES_SQL makes of a standard id, in JavaScript: tests check that the two agree and that fragments are found through it. */
export function idBytesOf(uuid: string): number[] | null {
  if (!isStandardTaskId(uuid)) return null;
  const hex = uuid.replaceAll('-', '');
  return Array.from({ length: 16 }, (_, position) => position * 256 + Number.parseInt(hex.slice(position * 2, position * 2 + 2), 16));
}

/** The task id's dashes in Celery's standard form (8-4-4-4-12). */
const ID_DASHES: ReadonlySet<number> = new Set([8, 13, 18, 23]);
export const ID_LENGTH = 36;
/** The shortest fragment (in hex digits) the index answers: two whole bytes wherever it falls. */
const MIN_INDEXED_DIGITS = 5;

/** The offsets in a standard id where `text` fits: hex digits, and dashes where the id has them. */
function fittingOffsets(text: string): number[] {
  if (text.length > ID_LENGTH || !/^[0-9a-f-]+$/.test(text)) return [];
  const offsets: number[] = [];
  for (let offset = 0; offset + text.length <= ID_LENGTH; offset++) {
    let fits = true;
    for (let i = 0; i < text.length && fits; i++) fits = (text[i] === '-') === ID_DASHES.has(offset + i);
    if (fits) offsets.push(offset);
  }
  return offsets;
}

/** Whether `text` can be part of a standard task id. */
export function fitsStandardId(text: string): boolean {
  return fittingOffsets(text).length > 0;
}

/**
 * For each place `text` fits in a standard id, the tagged bytes it covers whole (each set a row's
 * `id_bytes` must contain for the id to hold `text` there); null when it is too short to narrow
 * (fewer than MIN_INDEXED_DIGITS hex digits) or fits nowhere.
 */
export function idFragmentBytes(text: string): number[][] | null {
  const digits = text.replaceAll('-', '');
  const offsets = fittingOffsets(text);
  if (digits.length < MIN_INDEXED_DIGITS || offsets.length === 0) return null;
  const sets = new Map<string, number[]>();
  for (const offset of offsets) {
    // Where the fragment starts among the 32 digits: its offset less the dashes before it.
    let start = offset;
    for (const dash of ID_DASHES) if (dash < offset) start--;
    const tagged: number[] = [];
    for (let position = Math.ceil(start / 2); position * 2 + 2 <= start + digits.length; position++) {
      const at = position * 2 - start;
      tagged.push(position * 256 + Number.parseInt(digits.slice(at, at + 2), 16));
    }
    sets.set(tagged.join(','), tagged);
  }
  return [...sets.values()];
}
