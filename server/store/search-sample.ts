/**
 * Cheaper narrowing for the trigram index: a trigram found in most rows (`ten` of `tenant`, which
 * every task's kwargs hold, or `ord` of `order-004242`) narrows a search by little, yet the index
 * reads its whole posting list — a million entries at a million tasks. So the needles' indexed
 * text is looked for without those trigrams: a needle's text is split where they are into the
 * runs of trigrams that are not common, each a phrase of its own (all required), and a needle
 * made only of common trigrams is left out of an AND that has another. Each is implied by the
 * needle, so the candidates are a superset still and the matcher decides them; only the count
 * that the index decides by itself (./task-queries.ts, decidedSearchPage) keeps the exact needles.
 *
 * What is common is judged on a sample of the indexed rows' text (SAMPLE_ROWS, kept for
 * SAMPLE_TTL_MS per store), so judging costs a search a few string scans in memory.
 */
import { casefold } from '../protocol/python/str';
import type { SqlRunner } from './migrate';
import type { StoreBackend } from './schema';
import { PHRASE_BOUNDARY, type Resolved, type ResolvedText, SQLITE_INDEXED_TEXT } from './search-index';

const SAMPLE_ROWS = 500;
/** Fewer sampled rows than this (a small store) judge nothing: every search is cheap there. */
const MIN_SAMPLE = 100;
const SAMPLE_TTL_MS = 60_000;
/** A trigram in at least this share of the sample is common. */
const COMMON_SHARE = 0.3;

interface Sample {
  readonly at: number;
  readonly docs: Promise<readonly string[]>;
}
const samples = new WeakMap<SqlRunner, Sample>();

/**
 * The indexed text of up to SAMPLE_ROWS indexed rows from a random place in the table, as the
 * index makes its trigrams of it: casefolded (SQLite FTS5's: any three characters), and on
 * PostgreSQL as pg_trgm's padded words (pgTrigramText), made once per sample.
 */
async function readSample(sql: SqlRunner, backend: StoreBackend): Promise<readonly string[]> {
  if (backend === 'postgresql') {
    // Whole blocks of about SAMPLE_ROWS × 4 rows in all (a share from the planner's row estimate), the indexed ones' text.
    const [estimate] = await sql.rows("SELECT GREATEST(reltuples, 1) AS n FROM pg_class WHERE oid = 'tasks'::regclass");
    const percent = Math.min(100, (100 * SAMPLE_ROWS * 4) / Number(estimate?.n ?? 1));
    const rows = await sql.rows(`SELECT search_doc FROM tasks TABLESAMPLE SYSTEM (${percent.toFixed(6)}) WHERE search_indexed = 1 AND search_doc IS NOT NULL LIMIT ${SAMPLE_ROWS}`);
    return rows.map((row) => pgTrigramText(String(row.search_doc)));
  }
  // SQLite's index keeps no text (contentless): the fields it is made of (./search-index.ts, SQLITE_INDEXED_TEXT).
  const rows = await sql.rows(
    `SELECT ${SQLITE_INDEXED_TEXT} AS doc FROM tasks WHERE search_indexed = 1 AND rowid >= (SELECT abs(random()) % (COALESCE(MAX(rowid), 0) + 1) FROM tasks) LIMIT ${SAMPLE_ROWS}`,
  );
  const more = rows.length < SAMPLE_ROWS ? await sql.rows(`SELECT ${SQLITE_INDEXED_TEXT} AS doc FROM tasks WHERE search_indexed = 1 LIMIT ${SAMPLE_ROWS - rows.length}`) : [];
  return [...rows, ...more].map((row) => casefold(String(row.doc)));
}

function sampleOf(sql: SqlRunner, backend: StoreBackend, now: number): Promise<readonly string[]> {
  const kept = samples.get(sql);
  if (kept && now - kept.at < SAMPLE_TTL_MS) return kept.docs;
  const docs = readSample(sql, backend);
  samples.set(sql, { at: now, docs });
  // A failed read is not kept: the next search reads again (and this one narrows as it would have).
  docs.catch(() => {
    if (samples.get(sql)?.docs === docs) samples.delete(sql);
  });
  return docs;
}

/**
 * A run shorter than this is widened (into the common trigrams around it) to this length, or the
 * whole text if shorter: a short run such as `-0042` of `tenant-0042` is found by the index in
 * many more rows than the needle (1,518 for 512 in bench:store's million tasks), each read and
 * matched, which cost more than the posting lists it saved.
 */
const MIN_RUN = 7;

/**
 * The runs of `text` between its common trigrams (each a phrase of MIN_RUN or more characters,
 * widened where shorter), or null when every trigram is common. `[text]` when none is, or when
 * the widened runs cover it all.
 */
export function uncommonRuns(text: string, isCommon: (trigram: string) => boolean): string[] | null {
  const chars = Array.from(text);
  const ranges: [number, number][] = [];
  let start = -1;
  for (let i = 0; i + 3 <= chars.length; i++) {
    const common = isCommon(chars.slice(i, i + 3).join(''));
    if (!common && start < 0) start = i;
    if (common && start >= 0) {
      ranges.push([start, i + 2]);
      start = -1;
    }
  }
  if (start >= 0) ranges.push([start, chars.length]);
  if (ranges.length === 0) return null;
  const width = Math.min(MIN_RUN, chars.length);
  const widened: [number, number][] = [];
  for (const [from, to] of ranges) {
    let [a, b] = [from, to];
    // Widen to the left first (a name's common prefix is usually there), then to the right.
    while (b - a < width) {
      if (a > 0) a--;
      else b++;
    }
    const last = widened[widened.length - 1];
    if (last && a < last[1]) last[1] = Math.max(last[1], b);
    else widened.push([a, b]);
  }
  return widened.map(([a, b]) => chars.slice(a, b).join(''));
}

/** A word character as pg_trgm sees one (its ISWORDCHR: a letter or digit); anything else separates words. */
const PG_WORD_CHAR = /[\p{L}\p{N}]/u;

/**
 * A text as pg_trgm indexes it: each word padded as its trigrams are made ("  word "), so that a
 * trigram of pg_trgm's (which never spans two words) is in the text exactly when `includes` finds it.
 */
export function pgTrigramText(doc: string): string {
  return (doc.match(/[\p{L}\p{N}]+/gu) ?? []).map((word) => `  ${word} `).join('');
}

/**
 * PostgreSQL: the phrases of `text` whose pg_trgm trigrams are none of them common, or null when
 * every trigram is; `[text]` when none is. pg_trgm makes its trigrams of words (letters and
 * digits), each padded with two spaces before and one after where a separator stands, unpadded
 * where a wildcard does (`LIKE '%ap-south-2%'`: `ap `, `  s`, ` so`, `sou`, `out`, `uth`, `th `,
 * `  2`), and GIN reads the whole posting list of each: `sou` and `out` of every task's `source`
 * key cost 0.44 s of that search at 10,000,000 tasks. So each word's runs of uncommon trigrams are
 * phrases of their own (`ap-`, `uth-`), the separator kept where a run includes its padding (both
 * pads before a word come with it, so a run starting at the second is started after them). Not
 * widened as SQLite's are: a wider phrase takes in common trigrams, the expensive part here.
 *
 * `bounded`: the text stands between separators in every match (search-index.ts, BOUNDARY_CHARS),
 * so its first and last words are padded at the text's ends too; a phrase that takes in such a
 * pad starts or ends with PHRASE_BOUNDARY.
 */
export function pgUncommonPhrases(text: string, isCommon: (trigram: string) => boolean, bounded = false): string[] | null {
  const chars = Array.from(text);
  const phrases: string[] = [];
  let trigrams = 0;
  let common = 0;
  for (let s = 0; s < chars.length; ) {
    if (!PG_WORD_CHAR.test(chars[s] as string)) {
      s++;
      continue;
    }
    let e = s;
    while (e < chars.length && PG_WORD_CHAR.test(chars[e] as string)) e++;
    const left = s > 0 || bounded;
    const right = e < chars.length || bounded;
    // The padded word, each position with the text's character it stands for (a pad: the separator).
    const padded: { char: string; at: number }[] = [
      ...(left
        ? [
            { char: ' ', at: s - 1 },
            { char: ' ', at: s - 1 },
          ]
        : []),
      ...chars.slice(s, e).map((char, i) => ({ char, at: s + i })),
      ...(right ? [{ char: ' ', at: e }] : []),
    ];
    const uncommon = Array.from({ length: Math.max(0, padded.length - 2) }, (_, k) => {
      const trigram = padded
        .slice(k, k + 3)
        .map((p) => p.char)
        .join('');
      trigrams++;
      const isUncommon = !isCommon(trigram);
      if (!isUncommon) common++;
      return isUncommon;
    });
    for (let k = 0; k < uncommon.length; ) {
      if (!uncommon[k]) {
        k++;
        continue;
      }
      let end = k;
      while (end + 1 < uncommon.length && uncommon[end + 1]) end++;
      // A run from the second pad: the first is not in it, so start after both.
      const start = left && k === 1 ? 2 : k;
      if (start <= end) {
        const from = (padded[start] as { at: number }).at;
        const to = (padded[end + 2] as { at: number }).at;
        // A pad beyond the text's ends stands for the boundary the needle has there.
        const inner = chars.slice(Math.max(0, from), Math.min(chars.length, to + 1)).join('');
        phrases.push(`${from < 0 ? PHRASE_BOUNDARY : ''}${inner}${to >= chars.length ? PHRASE_BOUNDARY : ''}`);
      }
      k = end + 1;
    }
    s = e;
  }
  if (common === 0) return [text];
  return phrases.length === 0 || trigrams === common ? null : phrases;
}

/**
 * The needles with their indexed text made cheaper to find (see above); the same needles when the
 * sample cannot judge. `keepAll`: leave no needle out of an AND (PostgreSQL's exact matches, for a
 * count: each needle is still tested whole, see ./search-index.ts pgDoc).
 */
export async function sharpenNeedles(sql: SqlRunner, backend: StoreBackend, needles: Resolved, now = Date.now(), keepAll = false): Promise<Resolved> {
  let docs: readonly string[];
  try {
    docs = await sampleOf(sql, backend, now);
  } catch {
    return needles;
  }
  if (docs.length < MIN_SAMPLE) return needles;
  const shares = new Map<string, boolean>();
  const isCommon = (trigram: string): boolean => {
    let common = shares.get(trigram);
    if (common === undefined) {
      let holding = 0;
      for (const doc of docs) if (doc.includes(trigram)) holding++;
      common = holding >= docs.length * COMMON_SHARE;
      shares.set(trigram, common);
    }
    return common;
  };
  return sharpened(needles, isCommon, backend === 'postgresql' ? pgUncommonPhrases : uncommonRuns, keepAll).needles;
}

/** `common`: the needle narrows by little (its indexed text is all common trigrams). */
function sharpened(
  needles: Resolved,
  isCommon: (trigram: string) => boolean,
  phrasesOf: (text: string, isCommon: (trigram: string) => boolean, bounded: boolean) => string[] | null,
  keepAll: boolean,
): { needles: Resolved; common: boolean } {
  if (needles.kind === 'text') {
    if (!needles.doc) return { needles, common: false };
    const runs = phrasesOf(needles.text, isCommon, needles.bounded === true);
    if (runs === null) return { needles, common: true };
    const text: ResolvedText = runs.length === 1 && runs[0] === needles.text ? needles : { ...needles, docPhrases: runs };
    return { needles: text, common: false };
  }
  const children = needles.children.map((child) => sharpened(child, isCommon, phrasesOf, keepAll));
  if (needles.kind === 'or' || keepAll)
    return { needles: { kind: needles.kind, children: children.map((c) => c.needles) }, common: needles.kind === 'or' ? children.some((c) => c.common) : children.every((c) => c.common) };
  // AND: leave out the common children while one that narrows remains.
  const narrowing = children.filter((c) => !c.common);
  if (narrowing.length === 0) return { needles: { kind: 'and', children: children.map((c) => c.needles) }, common: true };
  return { needles: narrowing.length === 1 ? (narrowing[0] as { needles: Resolved }).needles : { kind: 'and', children: narrowing.map((c) => c.needles) }, common: false };
}
