/**
 * Celery's `saferepr` (`celery.utils.saferepr`), ported with its quirks: the text Celery puts in a
 * task message's `argsrepr`/`kwargsrepr` and an event's `args`/`kwargs`/`result`, and so what
 * every monitor shows for a task. The literal parser (literal.ts) reads such text back.
 */
import type { JsonValue } from '../events';
import { pyRepr } from './repr';
import { codePointLength } from './str';
import type { PyExactValue } from './value';

/** `saferepr`'s default `maxlevels`: containers nested deeper show as `[...]`. */
export const REPR_MAXLEVELS = 3;

/**
 * The Python value a worker will decode from `JSON.stringify(value)`: what is rendered must be
 * what is received, so a number is an int exactly when its JSON text has no `.`/exponent
 * (2**60 is an int, 1.5 and 1e+300 are floats, -0 is sent as `0`).
 */
export function jsonToPython(value: JsonValue, depth = 0): PyExactValue {
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'number') {
    const text = JSON.stringify(value);
    if (/^-?\d+$/.test(text)) return Number.isSafeInteger(value) ? value : BigInt(text);
    return { kind: 'float', value };
  }
  // Past saferepr's depth limit every container prints as `[...]`/`{...}` whatever it holds,
  // so its contents are never looked at (and hostile nesting costs nothing).
  const pruned = depth > REPR_MAXLEVELS + 1;
  if (Array.isArray(value)) return pruned ? [] : value.map((item) => jsonToPython(item, depth + 1));
  return { kind: 'dict', entries: pruned ? [] : Object.entries(value).map(([k, v]) => [k, jsonToPython(v, depth + 1)]) };
}

type Literal = { readonly t: 'lit'; readonly text: string; readonly truncatable: boolean; readonly direction: -1 | 0 | 1 };
/** saferepr's token stream: literal punctuation, dict keys, values, and "container done" marks. */
type Token = Literal | { readonly t: 'key'; readonly value: PyExactValue } | { readonly t: 'value'; readonly value: PyExactValue } | { readonly t: 'dirty' };
/** What reprstream hands to the renderer. */
type Rendered =
  | Literal
  | { readonly t: 'key'; readonly value: PyExactValue }
  | { readonly t: 'quoted'; readonly value: string; readonly bytes: boolean }
  | { readonly t: 'text'; readonly text: string };

const lit = (text: string, truncatable: boolean, direction: -1 | 0 | 1): Literal => ({ t: 'lit', text, truncatable, direction });
const DICT_START = lit('{', false, 1);
const DICT_KVSEP = lit(': ', true, 0);
const DICT_END = lit('}', false, -1);
const LIST_START = lit('[', false, 1);
const LIST_END = lit(']', false, -1);
const LIST_SEP = lit(', ', true, 0);
const TUPLE_START = lit('(', false, 1);
const TUPLE_END = lit(')', false, -1);
const TUPLE_END_SINGLE = lit(',)', false, -1);
const DIRTY: Token = { t: 'dirty' };

/**
 * A port of `celery.utils.saferepr.saferepr(o, maxlen, maxlevels)` (identical in Celery 5.2.6
 * and 5.6.3). It is *not* `repr()`: strings are always single-quoted with only `'` escaped
 * (newlines, backslashes and non-ASCII appear raw); containers nested `maxlevels` deep print as
 * `[...]`; once `maxlen` characters are out it appends `, ...` plus whatever closing brackets
 * are still pending — and the token that hit the limit is dropped even when it was a closing
 * bracket, so `('xxx…', ...` is a faithful rendering. Lengths count code points, as Python does.
 *
 * Iterators are driven by hand (never `for…of` + `break`), because Python's `for … break`
 * leaves an iterator usable and the algorithm relies on continuing it afterwards.
 */
export function saferepr(value: PyExactValue, maxlen: number | null = null, maxlevels = REPR_MAXLEVELS): string {
  const stack: Iterator<Token>[] = [[{ t: 'value', value } as Token][Symbol.iterator]()];
  const out: string[] = [];
  let remaining = maxlen;
  const stream = reprstream(stack, maxlevels);
  for (let step = stream.next(); !step.done; step = stream.next()) {
    const [token, iterator] = step.value;
    if (remaining !== null && remaining <= 0) {
      out.push(', ...');
      stack.push(iterator);
      break;
    }
    let text: string;
    switch (token.t) {
      case 'lit':
        text = token.text;
        break;
      case 'key':
        text = saferepr(token.value, remaining, maxlevels);
        break;
      case 'quoted':
        text = token.bytes ? formatBytes(token.value, remaining) : "'" + truncate(token.value, remaining).replaceAll("'", "\\'") + "'";
        break;
      case 'text':
        text = truncate(token.text, remaining);
        break;
    }
    out.push(text);
    if (remaining !== null) remaining -= codePointLength(text);
  }
  // Out of room: still close every bracket that was opened (but not the one just dropped).
  for (const rest of stack) {
    for (let item = rest.next(); !item.done; item = rest.next()) {
      if (item.value.t === 'lit' && !item.value.truncatable) out.push(item.value.text);
    }
  }
  return out.join('');
}

function* reprstream(stack: Iterator<Token>[], maxlevels: number): Generator<[Rendered, Iterator<Token>]> {
  let level = 0;
  while (stack.length > 0) {
    const iterator = stack.shift() as Iterator<Token>;
    for (let step = iterator.next(); !step.done; step = iterator.next()) {
      const token = step.value;
      if (token.t === 'dirty') continue;
      if (token.t === 'lit') {
        level += token.direction;
        yield [token, iterator];
        continue;
      }
      if (token.t === 'key') {
        yield [token, iterator];
        continue;
      }
      const value = token.value;
      const scalar = scalarToken(value);
      if (scalar !== null) {
        yield [scalar, iterator];
        continue;
      }
      let start: Literal;
      let end: Literal;
      let items: Iterator<Token>;
      if (Array.isArray(value)) {
        [start, end, items] = [LIST_START, LIST_END, chainList(value)];
      } else if (typeof value === 'object' && value !== null && value.kind === 'tuple') {
        [start, end, items] = [TUPLE_START, value.items.length === 1 ? TUPLE_END_SINGLE : TUPLE_END, chainList(value.items)];
      } else if (typeof value === 'object' && value !== null && value.kind === 'set') {
        if (value.items.length === 0) {
          yield [{ t: 'text', text: 'set()' }, iterator];
          continue;
        }
        [start, end, items] = [DICT_START, DICT_END, chainList(value.items)];
      } else if (typeof value === 'object' && value !== null && value.kind === 'dict') {
        [start, end, items] = [DICT_START, DICT_END, chainDict(value.entries)];
      } else {
        throw new TypeError('unreachable: unhandled Python value');
      }
      if (maxlevels && level >= maxlevels) {
        yield [{ t: 'text', text: `${start.text}...${end.text}` }, iterator];
        continue;
      }
      // Continue with the container's tokens, then the rest of the current iterator.
      stack.push(chain([start], items, [DIRTY, end], iterator));
      break;
    }
  }
}

/** Everything that is not a container: numbers via `str()`, strings/bytes quoted, the rest `repr()`. */
function scalarToken(value: PyExactValue): Rendered | null {
  switch (typeof value) {
    case 'string':
      return { t: 'quoted', value, bytes: false };
    case 'number':
    case 'bigint':
      return { t: 'text', text: value.toString() };
    case 'boolean':
      return { t: 'text', text: value ? 'True' : 'False' };
    default:
      break;
  }
  if (value === null) return { t: 'text', text: 'None' };
  if (Array.isArray(value)) return null;
  switch (value.kind) {
    case 'float':
    case 'ellipsis':
      // Python 3's str(float) is its repr.
      return { t: 'text', text: pyRepr(value) };
    case 'bytes':
      return { t: 'quoted', value: value.value, bytes: true };
    default:
      return null;
  }
}

function* chain(...parts: (readonly Token[] | Iterator<Token>)[]): Generator<Token> {
  for (const part of parts) {
    if (Array.isArray(part)) {
      for (const token of part as readonly Token[]) yield token;
    } else {
      const iterator = part as Iterator<Token>;
      for (let step = iterator.next(); !step.done; step = iterator.next()) yield step.value;
    }
  }
}

function* chainList(items: readonly PyExactValue[]): Generator<Token> {
  for (let i = 0; i < items.length; i++) {
    yield { t: 'value', value: items[i] as PyExactValue };
    if (i < items.length - 1) yield LIST_SEP;
  }
}

function* chainDict(entries: readonly [PyExactValue, PyExactValue][]): Generator<Token> {
  for (let i = 0; i < entries.length; i++) {
    const [key, value] = entries[i] as [PyExactValue, PyExactValue];
    yield { t: 'key', value: key };
    yield DICT_KVSEP;
    yield { t: 'value', value };
    if (i < entries.length - 1) yield LIST_SEP;
  }
}

/** `celery.utils.text.truncate`: cut at `maxlen` code points, back to the last space, add `...`. */
function truncate(text: string, maxlen: number | null): string {
  if (!maxlen || maxlen < 0) return text;
  if (codePointLength(text) < maxlen) return text;
  const head = Array.from(text).slice(0, maxlen).join('');
  const space = head.lastIndexOf(' ');
  return (space === -1 ? head : head.slice(0, space)) + '...';
}

/** `_format_binary_bytes`: UTF-8 text when it decodes, hex otherwise; `value` holds one char per byte. */
function formatBytes(value: string, maxlen: number | null): string {
  const cut = maxlen && maxlen > 0 && value.length > maxlen;
  const chunk = cut ? value.slice(0, maxlen) : value;
  const bytes = Uint8Array.from(chunk, (c) => c.charCodeAt(0) & 0xff);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = Buffer.from(bytes).toString('hex');
  }
  return `b'${text}${cut ? '...' : ''}'`;
}
