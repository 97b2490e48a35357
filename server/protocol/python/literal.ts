/**
 * A parser for Python *literal* syntax: the subset of Python that `ast.literal_eval` accepts.
 *
 * Celery reports a task's `args`, `kwargs` and `result` as `repr()` strings (built by
 * `celery.utils.saferepr`), cut near 1024 characters with a `...` marker, for example
 * `"(2, 3)"`, `"{'y': 3, 'name': \"O'Brien\"}"` or `"(1, 2, 3, ...)"`. This module turns such
 * text back into values without evaluating anything: it is a hand-written recursive-descent
 * parser, dependency-free, linear in the length of its input, with a nesting limit so hostile
 * input cannot exhaust the stack. It throws nothing but {@link PythonLiteralError}.
 *
 * Two entry points:
 * - {@link parsePythonLiteral} returns plain {@link PyValue}s and is strict about Celery's
 *   truncation: any `...` (Celery's cut or depth marker), an unterminated string, input that
 *   stops inside a bracket, and a long top-level string ending in `...` are refused with reason
 *   `'truncated'`.
 * - {@link literalEval} follows `ast.literal_eval` to the letter (`...` is the `Ellipsis`
 *   constant, floats stay distinct from ints) for code that has to reproduce what Python code
 *   such as Flower computes from the same text, e.g. `str(value)` via {@link pyStr}.
 *
 * Supported: str (single, double and triple quotes; prefixes u, r, b and rb/br; the escapes
 * `\\ \' \" \a \b \f \n \r \t \v \ooo \xhh \uhhhh \Uhhhhhhhh` and backslash-newline; implicit
 * concatenation of adjacent literals), bytes, int (decimal, 0x, 0o, 0b, underscores, at most 4300
 * digits as in CPython), float (`1.5`, `.5`, `5.`, `1e3`, `1e400` = infinity), True/False/None,
 * unary minus/plus applied to a number literal, tuple (`()`, `(1,)`, `1, 2`), list, dict, set,
 * `set()`, comments and line breaks inside brackets.
 * Refused as `'not_a_literal'`: names (`foo`, `inf`), calls (`datetime.datetime(...)`,
 * `Decimal('1.5')`), attribute access, `<object at 0x...>` reprs, lambdas, operators (`1+2`),
 * f-strings, unpacking, unhashable dict keys/set items, and complex numbers (`1j`; `literal_eval`
 * accepts those but Celery never needs them).
 * Not supported (refused as `'syntax'`): `\N{NAME}` escapes.
 */
import { codePointLength, isPrintable } from './str';
import { isSafeBigInt, normalisePyValue, type PyEllipsis, type PyExactValue, type PyValue } from './value';

export type PythonLiteralErrorReason = 'truncated' | 'not_a_literal' | 'syntax';

export class PythonLiteralError extends Error {
  override readonly name = 'PythonLiteralError';
  /** UTF-16 offset into the parsed text where the problem was found. */
  readonly position: number;
  readonly reason: PythonLiteralErrorReason;
  /** The message without the position suffix. */
  readonly detail: string;

  constructor(reason: PythonLiteralErrorReason, detail: string, position: number) {
    super(`${detail} (at position ${position})`);
    this.reason = reason;
    this.detail = detail;
    this.position = position;
  }
}

export interface PythonLiteralOptions {
  /**
   * A top-level str/bytes literal whose value ends in `...` and is at least this many characters
   * long (counting the `...`) is taken to be one Celery's `saferepr` cut (it cuts strings at 1024
   * characters, back to the last space, and appends `...`) and refused as `'truncated'`.
   * Default 1000; `Infinity` disables the check.
   */
  readonly truncatedStringLength?: number;
}

/** Deepest bracket nesting accepted; deeper input is refused as `'syntax'`. */
export const MAX_LITERAL_DEPTH = 100;
/** CPython's default `sys.get_int_max_str_digits()`: longer int literals are a SyntaxError. */
const MAX_INT_DIGITS = 4300;
const DEFAULT_TRUNCATED_STRING_LENGTH = 1000;
const ELLIPSIS: PyEllipsis = Object.freeze({ kind: 'ellipsis' });

/** Parses Python literal text into a {@link PyValue}. Throws {@link PythonLiteralError}. */
export function parsePythonLiteral(text: string, options?: PythonLiteralOptions): PyValue {
  const limit = options?.truncatedStringLength ?? DEFAULT_TRUNCATED_STRING_LENGTH;
  // Sound: in non-exact mode the parser never produces PyFloat or PyEllipsis.
  return run(text, false, limit) as PyValue;
}

export function tryParsePythonLiteral(text: string, options?: PythonLiteralOptions): { ok: true; value: PyValue } | { ok: false; error: PythonLiteralError } {
  try {
    return { ok: true, value: parsePythonLiteral(text, options) };
  } catch (error) {
    return { ok: false, error: toLiteralError(error) };
  }
}

/**
 * Exactly what `ast.literal_eval` accepts (minus complex numbers and `\N{...}` escapes), with
 * floats kept as {@link PyFloat} and `...` as {@link PyEllipsis}; no truncation heuristics.
 * Throws {@link PythonLiteralError}.
 */
export function literalEval(text: string): PyExactValue {
  return run(text, true, Infinity);
}

function run(text: string, exact: boolean, truncatedStringLength: number): PyExactValue {
  if (typeof text !== 'string') throw new PythonLiteralError('syntax', 'input is not a string', 0);
  try {
    return new LiteralParser(text, exact, truncatedStringLength).parseTop();
  } catch (error) {
    throw toLiteralError(error);
  }
}

function toLiteralError(error: unknown): PythonLiteralError {
  if (error instanceof PythonLiteralError) return error;
  // Defensive: nothing below is expected to throw anything else (e.g. a RangeError).
  const message = error instanceof Error ? error.message : String(error);
  return new PythonLiteralError('syntax', `cannot parse literal: ${message}`, 0);
}

// ---------------------------------------------------------------------------------------------
// Parser

const CH_TAB = 9;
const CH_LF = 10;
const CH_FF = 12;
const CH_CR = 13;
const CH_SPACE = 32;
const CH_HASH = 35;
const CH_BACKSLASH = 92;

interface NumberToken {
  readonly isFloat: boolean;
  readonly int: bigint;
  readonly float: number;
}

class LiteralParser {
  private pos = 0;
  /** Containers currently open (drives the depth limit). */
  private depth = 0;
  /** Brackets currently open: inside them line breaks are whitespace. */
  private open = 0;
  private readonly len: number;

  constructor(
    private readonly src: string,
    private readonly exact: boolean,
    private readonly truncatedStringLength: number,
  ) {
    this.len = src.length;
  }

  parseTop(): PyExactValue {
    this.skipSpace(true);
    if (this.pos >= this.len) throw this.error('syntax', 'empty input');
    const valueStart = this.pos;
    const first = this.parseValue();
    this.skipSpace(false);
    let result: PyExactValue = first;
    if (this.peek() === 0x2c /* , */) {
      // A bare top-level tuple: `1, 2`.
      const items: PyExactValue[] = [first];
      while (this.peek() === 0x2c) {
        this.pos++;
        this.skipSpace(false);
        const c = this.peek();
        if (c === -1 || c === CH_LF || c === CH_CR) break;
        items.push(this.parseValue());
        this.skipSpace(false);
      }
      result = { kind: 'tuple', items };
    }
    this.skipSpace(true);
    if (this.pos < this.len) throw this.unexpected('end of input');
    if (!this.exact && result === first) this.checkCutString(first, valueStart);
    return result;
  }

  /** Celery's saferepr cuts a long top-level string as `'aaaa...'`, keeping the closing quote. */
  private checkCutString(value: PyExactValue, valueStart: number): void {
    let text: string;
    if (typeof value === 'string') text = value;
    else if (value !== null && typeof value === 'object' && !Array.isArray(value) && value.kind === 'bytes') text = value.value;
    else return;
    if (!text.endsWith('...')) return;
    if (codePointLength(text) < this.truncatedStringLength) return;
    const src = this.src.trimEnd();
    throw new PythonLiteralError('truncated', `string literal starting at position ${valueStart} ends with '...': it was cut by Celery's repr size limit`, Math.max(0, src.length - 4));
  }

  private parseValue(): PyExactValue {
    const c = this.peek();
    if (c === -1) throw this.error('truncated', 'input ends where a value was expected (truncated)');
    if (c >= 0x30 && c <= 0x39) return this.numberValue(this.parseNumber(), false);
    switch (c) {
      case 0x27: // '
      case 0x22: // "
        return this.parseStrings();
      case 0x28: // (
        return this.parseParen();
      case 0x5b: // [
        return this.parseList();
      case 0x7b: // {
        return this.parseBrace();
      case 0x2d: // -
      case 0x2b: // +
        return this.parseUnary();
      case 0x2e: // .
        if (this.isEllipsisAt(this.pos)) return this.parseEllipsis();
        if (isDigit(this.src.charCodeAt(this.pos + 1))) return this.numberValue(this.parseNumber(), false);
        throw this.error('syntax', "unexpected '.' where a value was expected");
      case 0x3c: // <
        throw this.error('not_a_literal', "'<...>' is an object repr, not a Python literal");
      case 0x2a: // *
        throw this.error('not_a_literal', "unpacking ('*' / '**') is not allowed in a literal");
      case 0x7e: // ~
        throw this.error('not_a_literal', "operator '~' is not allowed in a literal");
      default:
        break;
    }
    if (isIdentStart(c, this.src, this.pos)) return this.parseName();
    if (c === 0) throw this.error('syntax', 'input contains a NUL character');
    throw this.error('syntax', `expected a value but found ${describeChar(this.src, this.pos)}`);
  }

  private parseEllipsis(): PyExactValue {
    if (!this.exact) {
      throw this.error('truncated', "'...' found where a value was expected: the repr was truncated by Celery");
    }
    this.pos += 3;
    return ELLIPSIS;
  }

  // --- containers ---------------------------------------------------------------------------

  private enter(): void {
    if (this.depth >= MAX_LITERAL_DEPTH) {
      throw this.error('syntax', `nesting deeper than ${MAX_LITERAL_DEPTH} levels`);
    }
    this.depth++;
    this.open++;
    this.pos++; // the opening bracket
    this.skipSpace(true);
  }

  private leave(): void {
    this.pos++; // the closing bracket
    this.depth--;
    this.open--;
  }

  /** Parses `value (',' value)* ','?` up to `closer` (not consumed). `items` may hold a first value already parsed. */
  private parseItems(closer: number, closerName: string, items: PyExactValue[]): void {
    for (;;) {
      this.skipSpace(true);
      const c = this.peek();
      if (c === closer) return;
      if (c !== 0x2c) throw this.unexpected(`',' or '${closerName}'`);
      this.pos++;
      this.skipSpace(true);
      if (this.peek() === closer) return;
      if (this.peek() === 0x2c) throw this.error('syntax', `unexpected ',' (empty item)`);
      items.push(this.parseValue());
    }
  }

  private parseParen(): PyExactValue {
    this.enter();
    if (this.peek() === 0x29 /* ) */) {
      this.leave();
      return { kind: 'tuple', items: [] };
    }
    if (this.peek() === 0x2c) throw this.error('syntax', "unexpected ',' after '('");
    const first = this.parseValue();
    this.skipSpace(true);
    if (this.peek() === 0x29) {
      // Parentheses only group: `(1)` is 1.
      this.leave();
      return first;
    }
    if (this.peek() !== 0x2c) throw this.unexpected("',' or ')'");
    const items = [first];
    this.parseItems(0x29, ')', items);
    this.leave();
    return { kind: 'tuple', items };
  }

  private parseList(): PyExactValue {
    this.enter();
    const items: PyExactValue[] = [];
    if (this.peek() !== 0x5d /* ] */) {
      if (this.peek() === 0x2c) throw this.error('syntax', "unexpected ',' after '['");
      items.push(this.parseValue());
      this.parseItems(0x5d, ']', items);
    }
    this.leave();
    return items;
  }

  private parseBrace(): PyExactValue {
    this.enter();
    if (this.peek() === 0x7d /* } */) {
      this.leave();
      return { kind: 'dict', entries: [] };
    }
    this.rejectDictUnpacking();
    if (this.peek() === 0x2c) throw this.error('syntax', "unexpected ',' after '{'");
    const firstPos = this.pos;
    const first = this.parseValue();
    this.skipSpace(true);
    if (this.peek() === 0x3a /* : */) return this.parseDictRest(first, firstPos);
    const items = [first];
    this.parseItems(0x7d, '}', items);
    this.leave();
    return { kind: 'set', items: this.dedupeSet(items, firstPos) };
  }

  private parseDictRest(firstKey: PyExactValue, firstKeyPos: number): PyExactValue {
    const entries: [PyExactValue, PyExactValue][] = [];
    const index = new Map<string, number>();
    let key = firstKey;
    let keyPos = firstKeyPos;
    for (;;) {
      // At ':' after `key`.
      this.pos++;
      this.skipSpace(true);
      const value = this.parseValue();
      this.addEntry(entries, index, key, value, keyPos);
      this.skipSpace(true);
      let c = this.peek();
      if (c === 0x7d) break;
      if (c !== 0x2c) throw this.unexpected("',' or '}'");
      this.pos++;
      this.skipSpace(true);
      c = this.peek();
      if (c === 0x7d) break;
      this.rejectDictUnpacking();
      if (c === 0x2c) throw this.error('syntax', "unexpected ',' (empty item)");
      keyPos = this.pos;
      key = this.parseValue();
      this.skipSpace(true);
      c = this.peek();
      if (c !== 0x3a) {
        if (c === 0x2c || c === 0x7d) throw this.error('syntax', "':' expected after dictionary key");
        throw this.unexpected("':'");
      }
    }
    this.leave();
    return { kind: 'dict', entries };
  }

  private rejectDictUnpacking(): void {
    if (this.peek() === 0x2a && this.src.charCodeAt(this.pos + 1) === 0x2a) {
      throw this.error('not_a_literal', "dict unpacking ('**') is not allowed in a literal");
    }
  }

  /** Python dict semantics: equal keys (1, 1.0 and True are equal) keep the first key and the last value. */
  private addEntry(entries: [PyExactValue, PyExactValue][], index: Map<string, number>, key: PyExactValue, value: PyExactValue, keyPos: number): void {
    this.requireHashable(key, keyPos);
    const canonical = normalisePyValue(key);
    const at = index.get(canonical);
    if (at === undefined) {
      index.set(canonical, entries.length);
      entries.push([key, value]);
    } else {
      const entry = entries[at];
      if (entry) entry[1] = value;
    }
  }

  private dedupeSet(items: PyExactValue[], pos: number): PyExactValue[] {
    const seen = new Set<string>();
    const out: PyExactValue[] = [];
    for (const item of items) {
      this.requireHashable(item, pos);
      const canonical = normalisePyValue(item);
      if (seen.has(canonical)) continue;
      seen.add(canonical);
      out.push(item);
    }
    return out;
  }

  private requireHashable(value: PyExactValue, pos: number): void {
    const type = unhashableType(value);
    if (type !== null) {
      throw new PythonLiteralError('not_a_literal', `unhashable type: '${type}' cannot be a dict key or set item`, pos);
    }
  }

  // --- unary sign ---------------------------------------------------------------------------

  /** `-1`, `+1.5`, `- (1)`: like literal_eval, the operand must be a bare number literal. */
  private parseUnary(): PyExactValue {
    const signPos = this.pos;
    const negative = this.peek() === 0x2d;
    this.pos++;
    this.skipSpace(this.open > 0);
    let parens = 0;
    while (this.peek() === 0x28) {
      this.enter();
      parens++;
    }
    const c = this.peek();
    if (c === -1) throw this.error('truncated', 'input ends after a unary sign (truncated)');
    if (c === 0x2e && this.isEllipsisAt(this.pos) && !this.exact) this.parseEllipsis();
    const isNumber = isDigit(c) || (c === 0x2e && isDigit(this.src.charCodeAt(this.pos + 1)));
    if (!isNumber) {
      throw new PythonLiteralError('not_a_literal', `unary '${negative ? '-' : '+'}' can only be applied to a number literal`, signPos);
    }
    const token = this.parseNumber();
    for (let i = 0; i < parens; i++) {
      this.skipSpace(true);
      const next = this.peek();
      if (next === 0x29) {
        this.leave();
        continue;
      }
      if (next === 0x2c) {
        throw new PythonLiteralError('not_a_literal', `unary '${negative ? '-' : '+'}' applied to a tuple`, signPos);
      }
      throw this.unexpected("')'");
    }
    return this.numberValue(token, negative);
  }

  // --- numbers ------------------------------------------------------------------------------

  private numberValue(token: NumberToken, negative: boolean): PyExactValue {
    if (token.isFloat) {
      const value = negative ? -token.float : token.float;
      return this.exact ? { kind: 'float', value } : value;
    }
    const int = negative ? -token.int : token.int;
    if (isSafeBigInt(int)) return Number(int);
    return int;
  }

  private parseNumber(): NumberToken {
    const src = this.src;
    const start = this.pos;
    const c0 = src.charCodeAt(start);
    const c1 = src.charCodeAt(start + 1) | 0x20;
    if (c0 === 0x30 && (c1 === 0x78 || c1 === 0x6f || c1 === 0x62)) {
      // 0x / 0o / 0b
      const radix = c1 === 0x78 ? 16 : c1 === 0x6f ? 8 : 2;
      const label = radix === 16 ? 'hexadecimal' : radix === 8 ? 'octal' : 'binary';
      this.pos += 2;
      let digits = '';
      let chunkStart = this.pos;
      for (;;) {
        const c = this.peek();
        if (isRadixDigit(c, radix)) {
          this.pos++;
          continue;
        }
        if (c === 0x5f /* _ */ && isRadixDigit(src.charCodeAt(this.pos + 1), radix)) {
          digits += src.slice(chunkStart, this.pos);
          this.pos++;
          chunkStart = this.pos;
          continue;
        }
        break;
      }
      digits += src.slice(chunkStart, this.pos);
      if (digits === '' || isIdentPart(this.peek(), src, this.pos)) {
        const what = isDigit(this.peek()) ? `invalid digit '${src[this.pos]}' in ${label} literal` : `invalid ${label} literal`;
        throw new PythonLiteralError('syntax', what, start);
      }
      this.checkDigitCount(digits.length, start);
      const prefix = radix === 16 ? '0x' : radix === 8 ? '0o' : '0b';
      return { isFloat: false, int: BigInt(prefix + digits), float: 0 };
    }

    let text = this.scanDigitPart();
    const intDigits = text;
    let isFloat = false;
    if (this.peek() === 0x2e /* . */ && !this.isEllipsisAt(this.pos)) {
      isFloat = true;
      this.pos++;
      text += '.';
      if (isDigit(this.peek())) text += this.scanDigitPart();
    }
    const e = this.peek() | 0x20;
    if (e === 0x65 /* e */ && text !== '.') {
      let p = this.pos + 1;
      const sign = src.charCodeAt(p);
      if (sign === 0x2b || sign === 0x2d) p++;
      if (isDigit(src.charCodeAt(p))) {
        isFloat = true;
        text += 'e' + (sign === 0x2d ? '-' : '');
        this.pos = p;
        text += this.scanDigitPart();
      }
    }
    const next = this.peek();
    if ((next | 0x20) === 0x6a /* j */) {
      throw new PythonLiteralError('not_a_literal', 'complex number literals are not supported', start);
    }
    if (isIdentPart(next, src, this.pos)) {
      throw new PythonLiteralError('syntax', 'invalid decimal literal', start);
    }
    if (isFloat) return { isFloat: true, int: 0n, float: Number(text) };
    if (intDigits.length > 1 && intDigits.charCodeAt(0) === 0x30 && !/^0+$/.test(intDigits)) {
      throw new PythonLiteralError('syntax', 'leading zeros in decimal integer literals are not permitted', start);
    }
    this.checkDigitCount(intDigits.length, start);
    return { isFloat: false, int: BigInt(intDigits), float: 0 };
  }

  private checkDigitCount(count: number, start: number): void {
    if (count > MAX_INT_DIGITS) {
      throw new PythonLiteralError('syntax', `integer literal has more than ${MAX_INT_DIGITS} digits`, start);
    }
  }

  /** `digit (_? digit)*`, returned without underscores. May be empty. */
  private scanDigitPart(): string {
    const src = this.src;
    let out = '';
    let chunkStart = this.pos;
    for (;;) {
      const c = this.peek();
      if (isDigit(c)) {
        this.pos++;
        continue;
      }
      if (c === 0x5f && this.pos > chunkStart && isDigit(src.charCodeAt(this.pos + 1))) {
        out += src.slice(chunkStart, this.pos);
        this.pos++;
        chunkStart = this.pos;
        continue;
      }
      break;
    }
    return out + src.slice(chunkStart, this.pos);
  }

  // --- names --------------------------------------------------------------------------------

  private parseName(): PyExactValue {
    const start = this.pos;
    const word = this.scanIdentifier();
    const q = this.peek();
    if ((q === 0x27 || q === 0x22) && /^[rubfRUBF]{1,2}$/.test(word)) {
      this.pos = start;
      return this.parseStrings();
    }
    switch (word) {
      case 'True':
        return true;
      case 'False':
        return false;
      case 'None':
        return null;
      case 'lambda':
        throw new PythonLiteralError('not_a_literal', 'a lambda is not a literal', start);
      default:
        break;
    }
    let dotted = word;
    while (this.peek() === 0x2e && isIdentStart(this.src.charCodeAt(this.pos + 1), this.src, this.pos + 1)) {
      this.pos++;
      dotted += '.' + this.scanIdentifier();
    }
    this.skipSpace(this.open > 0);
    if (this.peek() === 0x28) {
      if (dotted === 'set') {
        this.enter();
        if (this.peek() === 0x29) {
          this.leave();
          return { kind: 'set', items: [] };
        }
        throw new PythonLiteralError('not_a_literal', "'set(...)' with arguments is a function call; only 'set()' is a literal", start);
      }
      throw new PythonLiteralError('not_a_literal', `'${dotted}(...)' is a function call, not a literal`, start);
    }
    throw new PythonLiteralError('not_a_literal', `name '${dotted}' is not a literal (only True, False and None are)`, start);
  }

  private scanIdentifier(): string {
    const start = this.pos;
    while (this.pos < this.len && isIdentPart(this.src.charCodeAt(this.pos), this.src, this.pos)) {
      this.pos += (this.src.codePointAt(this.pos) ?? 0) > 0xffff ? 2 : 1;
    }
    return this.src.slice(start, this.pos);
  }

  // --- strings ------------------------------------------------------------------------------

  /** One or more adjacent string literals, concatenated like Python does (`'a' 'b'` is `'ab'`). */
  private parseStrings(): PyExactValue {
    const first = this.parseStringLiteral();
    const parts = [first.value];
    for (;;) {
      const save = this.pos;
      this.skipSpace(this.open > 0);
      if (!this.atStringStart()) {
        this.pos = save;
        break;
      }
      const partPos = this.pos;
      const next = this.parseStringLiteral();
      if (next.bytes !== first.bytes) {
        throw new PythonLiteralError('syntax', 'cannot mix bytes and nonbytes literals', partPos);
      }
      parts.push(next.value);
    }
    const value = parts.length === 1 ? first.value : parts.join('');
    return first.bytes ? { kind: 'bytes', value } : value;
  }

  private atStringStart(): boolean {
    const src = this.src;
    let p = this.pos;
    for (let i = 0; i < 3; i++) {
      const c = src.charCodeAt(p);
      if (c === 0x27 || c === 0x22) return true;
      if (i === 2 || !isPrefixLetter(c)) return false;
      p++;
    }
    return false;
  }

  private parseStringLiteral(): { bytes: boolean; value: string } {
    const src = this.src;
    const start = this.pos;
    let raw = false;
    let bytes = false;
    let format = false;
    while (this.pos < this.len) {
      const c = src.charCodeAt(this.pos) | 0x20;
      if (c === 0x72 /* r */) raw = true;
      else if (c === 0x62 /* b */) bytes = true;
      else if (c === 0x66 /* f */) format = true;
      else if (c !== 0x75 /* u */) break;
      this.pos++;
    }
    const prefix = src.slice(start, this.pos).toLowerCase();
    if (!['', 'r', 'u', 'b', 'br', 'rb', 'f', 'fr', 'rf'].includes(prefix)) {
      throw new PythonLiteralError('syntax', `invalid string prefix '${src.slice(start, this.pos)}'`, start);
    }
    if (format) throw new PythonLiteralError('not_a_literal', 'an f-string is not a literal', start);

    const quote = src.charCodeAt(this.pos);
    const triple = src.charCodeAt(this.pos + 1) === quote && src.charCodeAt(this.pos + 2) === quote;
    this.pos += triple ? 3 : 1;
    const chunks: string[] = [];
    let segStart = this.pos;
    for (;;) {
      if (this.pos >= this.len) {
        throw new PythonLiteralError('truncated', 'input ends inside a string literal (truncated)', start);
      }
      const c = src.charCodeAt(this.pos);
      if (c === quote && (!triple || (src.charCodeAt(this.pos + 1) === quote && src.charCodeAt(this.pos + 2) === quote))) {
        chunks.push(src.slice(segStart, this.pos));
        this.pos += triple ? 3 : 1;
        break;
      }
      if (c === CH_BACKSLASH) {
        if (this.pos + 1 >= this.len) {
          throw new PythonLiteralError('truncated', 'input ends inside a string literal (truncated)', start);
        }
        if (raw) {
          const n = src.charCodeAt(this.pos + 1);
          if (bytes && n > 0x7f) throw this.error('syntax', 'bytes can only contain ASCII literal characters');
          if (n === CH_CR && triple) {
            // Keep the backslash, normalise the line break below.
            this.pos++;
            continue;
          }
          this.pos += n === CH_CR && src.charCodeAt(this.pos + 2) === CH_LF ? 3 : 2;
          continue;
        }
        chunks.push(src.slice(segStart, this.pos));
        chunks.push(this.parseEscape(bytes, start));
        segStart = this.pos;
        continue;
      }
      if (c === CH_LF || c === CH_CR) {
        if (!triple) {
          throw this.error('syntax', 'line break inside a single-quoted string literal');
        }
        if (c === CH_CR) {
          // Python reads source with universal newlines: \r\n and \r become \n.
          chunks.push(src.slice(segStart, this.pos), '\n');
          this.pos += src.charCodeAt(this.pos + 1) === CH_LF ? 2 : 1;
          segStart = this.pos;
          continue;
        }
      } else if (c === 0) {
        throw this.error('syntax', 'input contains a NUL character');
      } else if (bytes && c > 0x7f) {
        throw this.error('syntax', 'bytes can only contain ASCII literal characters');
      }
      this.pos++;
    }
    return { bytes, value: chunks.length === 1 ? (chunks[0] ?? '') : chunks.join('') };
  }

  /** At a backslash in a non-raw literal; returns the decoded text and moves past the escape. */
  private parseEscape(bytes: boolean, literalStart: number): string {
    const src = this.src;
    const escapeStart = this.pos;
    const n = src.charCodeAt(this.pos + 1);
    this.pos += 2;
    const simple = SIMPLE_ESCAPES.get(n);
    if (simple !== undefined) return simple;
    switch (n) {
      case CH_LF:
        return '';
      case CH_CR:
        if (src.charCodeAt(this.pos) === CH_LF) this.pos++;
        return '';
      case 0x78: // x
        return String.fromCharCode(this.readHex(2, '\\xXX', literalStart, escapeStart));
      case 0x75: // u
        if (bytes) return '\\u';
        return String.fromCharCode(this.readHex(4, '\\uXXXX', literalStart, escapeStart));
      case 0x55: {
        // U
        if (bytes) return '\\U';
        const code = this.readHex(8, '\\UXXXXXXXX', literalStart, escapeStart);
        if (code > 0x10ffff) throw new PythonLiteralError('syntax', 'illegal Unicode character in \\U escape', escapeStart);
        return String.fromCodePoint(code);
      }
      case 0x4e: // N
        if (bytes) return '\\N';
        throw new PythonLiteralError('syntax', '\\N{...} named Unicode escapes are not supported', escapeStart);
      default:
        break;
    }
    if (n >= 0x30 && n <= 0x37) {
      let code = n - 0x30;
      for (let i = 0; i < 2; i++) {
        const d = src.charCodeAt(this.pos);
        if (!(d >= 0x30 && d <= 0x37)) break;
        code = code * 8 + (d - 0x30);
        this.pos++;
      }
      return String.fromCharCode(bytes ? code & 0xff : code);
    }
    if (n === 0) throw new PythonLiteralError('syntax', 'input contains a NUL character', this.pos - 1);
    if (bytes && n > 0x7f) throw new PythonLiteralError('syntax', 'bytes can only contain ASCII literal characters', this.pos - 1);
    // Unknown escapes keep their backslash (Python warns but accepts them).
    return '\\' + String.fromCharCode(n);
  }

  private readHex(count: number, label: string, literalStart: number, escapeStart: number): number {
    let code = 0;
    for (let i = 0; i < count; i++) {
      if (this.pos >= this.len) {
        throw new PythonLiteralError('truncated', 'input ends inside a string literal (truncated)', literalStart);
      }
      const d = hexValue(this.src.charCodeAt(this.pos));
      if (d < 0) throw new PythonLiteralError('syntax', `truncated ${label} escape`, escapeStart);
      code = code * 16 + d;
      this.pos++;
    }
    return code;
  }

  // --- helpers ------------------------------------------------------------------------------

  private peek(): number {
    return this.pos < this.len ? this.src.charCodeAt(this.pos) : -1;
  }

  private isEllipsisAt(p: number): boolean {
    return this.src.charCodeAt(p) === 0x2e && this.src.charCodeAt(p + 1) === 0x2e && this.src.charCodeAt(p + 2) === 0x2e;
  }

  /** Spaces, tabs, form feeds, comments, backslash-newline; line breaks too when `newlines`. */
  private skipSpace(newlines: boolean): void {
    const src = this.src;
    while (this.pos < this.len) {
      const c = src.charCodeAt(this.pos);
      if (c === CH_SPACE || c === CH_TAB || c === CH_FF) {
        this.pos++;
      } else if (c === CH_LF || c === CH_CR) {
        if (!newlines) return;
        this.pos++;
      } else if (c === CH_HASH) {
        while (this.pos < this.len) {
          const d = src.charCodeAt(this.pos);
          if (d === CH_LF || d === CH_CR) break;
          this.pos++;
        }
      } else if (c === CH_BACKSLASH) {
        const n = src.charCodeAt(this.pos + 1);
        if (n === CH_LF) this.pos += 2;
        else if (n === CH_CR) this.pos += src.charCodeAt(this.pos + 2) === CH_LF ? 3 : 2;
        else return;
      } else {
        return;
      }
    }
  }

  /** Builds the error for something other than `expected` after a complete value. */
  private unexpected(expected: string): PythonLiteralError {
    const src = this.src;
    const c = this.peek();
    if (c === -1) {
      return this.error('truncated', `input ends where ${expected} was expected (truncated)`);
    }
    if (this.isEllipsisAt(this.pos)) {
      return this.error('truncated', "'...' found: the repr was truncated by Celery");
    }
    const ch = src[this.pos] ?? '';
    if (c === 0x3d /* = */ || c === 0x21 /* ! */) {
      if (src.charCodeAt(this.pos + 1) === 0x3d) return this.error('not_a_literal', `operator '${ch}=' is not allowed in a literal`);
      return this.error('syntax', `expected ${expected} but found '${ch}'`);
    }
    if (c === 0x28) return this.error('not_a_literal', 'a call is not a literal');
    if (c === 0x5b) return this.error('not_a_literal', 'subscripting is not allowed in a literal');
    if (c === 0x2e) return this.error('not_a_literal', 'attribute access is not allowed in a literal');
    if ('+-*/%@&|^<>~'.includes(ch)) {
      return this.error('not_a_literal', `operator '${ch}' is not allowed in a literal`);
    }
    if (isIdentStart(c, src, this.pos)) {
      const save = this.pos;
      const word = this.scanIdentifier();
      this.pos = save;
      if (EXPRESSION_KEYWORDS.has(word)) {
        return this.error('not_a_literal', `'${word}' expressions are not literals`);
      }
    }
    if (c === 0) return this.error('syntax', 'input contains a NUL character');
    return this.error('syntax', `expected ${expected} but found ${describeChar(src, this.pos)}`);
  }

  private error(reason: PythonLiteralErrorReason, detail: string): PythonLiteralError {
    return new PythonLiteralError(reason, detail, this.pos);
  }
}

/** The escapes that stand for one fixed character (`\n` a line feed, `\a` the bell, ...), by the code of the letter. */
const SIMPLE_ESCAPES: ReadonlyMap<number, string> = new Map(
  Object.entries({ '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }).map(([letter, char]): [number, string] => [letter.charCodeAt(0), char]),
);

const EXPRESSION_KEYWORDS: ReadonlySet<string> = new Set(['if', 'else', 'for', 'async', 'and', 'or', 'not', 'in', 'is']);

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isRadixDigit(c: number, radix: number): boolean {
  if (radix === 16) return hexValue(c) >= 0;
  return c >= 0x30 && c < 0x30 + radix;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

function isPrefixLetter(c: number): boolean {
  const l = c | 0x20;
  return l === 0x72 || l === 0x75 || l === 0x62 || l === 0x66;
}

const IDENT_START_RE = /^[\p{L}\p{Nl}_]$/u;
const IDENT_PART_RE = /^[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_]$/u;

function isIdentStart(c: number, src: string, pos: number): boolean {
  if (c < 0x80) return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
  const cp = src.codePointAt(pos);
  return cp !== undefined && IDENT_START_RE.test(String.fromCodePoint(cp));
}

function isIdentPart(c: number, src: string, pos: number): boolean {
  if (c < 0) return false;
  if (c < 0x80) return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (c >= 0x30 && c <= 0x39);
  const cp = src.codePointAt(pos);
  return cp !== undefined && IDENT_PART_RE.test(String.fromCodePoint(cp));
}

function describeChar(src: string, pos: number): string {
  const cp = src.codePointAt(pos);
  if (cp === undefined) return 'end of input';
  const ch = String.fromCodePoint(cp);
  if (cp < 0x20 || cp === 0x7f || (cp > 0x7e && !isPrintable(cp))) return `character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return `'${ch}'`;
}

function unhashableType(value: PyExactValue): string | null {
  if (Array.isArray(value)) return 'list';
  if (value === null || typeof value !== 'object') return null;
  switch (value.kind) {
    case 'dict':
      return 'dict';
    case 'set':
      return 'set';
    case 'tuple':
      for (const item of value.items) {
        const type = unhashableType(item);
        if (type !== null) return type;
      }
      return null;
    default:
      return null;
  }
}
