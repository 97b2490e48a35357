/**
 * The Python values Celeriac reads from and writes as Python literal text, shared by the literal
 * parser (literal.ts), repr()/str() (repr.ts), the JSON rendering (json.ts) and Celery's saferepr
 * (saferepr.ts); and Python's `==` on them.
 */

/** A tuple, set, dict or bytes value; the containers hold {@link PyValue}s or {@link PyExactValue}s. */
export interface PyTuple<T> {
  kind: 'tuple';
  items: T[];
}
export interface PySet<T> {
  kind: 'set';
  items: T[];
}
export interface PyDict<T> {
  kind: 'dict';
  entries: [T, T][];
}
/** `value` holds one character (U+0000–U+00FF) per byte. */
export interface PyBytes {
  kind: 'bytes';
  value: string;
}

/**
 * A parsed literal. `number` is an int within the safe-integer range or a float (so `3.0` reads
 * as 3), `bigint` an int beyond that range; a list is a plain array.
 */
export type PyValue = string | number | bigint | boolean | null | PyBytes | PyValue[] | PyTuple<PyValue> | PySet<PyValue> | PyDict<PyValue>;

/** A Python float, kept apart from ints by `literalEval` (literal.ts) (so `3.0` is not `3`). */
export interface PyFloat {
  readonly kind: 'float';
  readonly value: number;
}

/** Python's `Ellipsis` constant (`...`), produced only by `literalEval` (literal.ts). */
export interface PyEllipsis {
  readonly kind: 'ellipsis';
}

/**
 * The value model of `literalEval` (literal.ts): like {@link PyValue}, but a `number` is always an int,
 * floats are {@link PyFloat} and `...` is {@link PyEllipsis}. Every `PyValue` is also a
 * `PyExactValue` (a plain non-integral or unsafe-integral number is then read as a float).
 */
export type PyExactValue = string | number | bigint | boolean | null | PyBytes | PyFloat | PyEllipsis | PyExactValue[] | PyTuple<PyExactValue> | PySet<PyExactValue> | PyDict<PyExactValue>;

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE_BIG = BigInt(Number.MIN_SAFE_INTEGER);

/** Whether an int fits a JS number exactly (the value model then holds it as a `number`). */
export function isSafeBigInt(int: bigint): boolean {
  return int <= MAX_SAFE_BIG && int >= MIN_SAFE_BIG;
}

/**
 * Canonical text of a value such that two values get the same text exactly when Python's `==`
 * says they are equal: `3`, `3.0` and `True` are equal, `'a'` written with either quote is the
 * same str, `b'a'` differs from `'a'`, a tuple differs from a list, sets and dicts compare
 * regardless of order.
 */
export function normalisePyValue(v: PyValue | PyExactValue): string {
  switch (typeof v) {
    case 'string':
      return 's' + JSON.stringify(v);
    case 'boolean':
      return v ? 'n1' : 'n0';
    case 'bigint':
      return 'n' + v.toString();
    case 'number':
      return 'n' + canonicalNumber(v);
    default:
      break;
  }
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'l[' + v.map(normalisePyValue).join(',') + ']';
  switch (v.kind) {
    case 'float':
      return 'n' + canonicalNumber(v.value);
    case 'ellipsis':
      return 'Ellipsis';
    case 'bytes':
      return 'b' + JSON.stringify(v.value);
    case 'tuple':
      return 't(' + v.items.map(normalisePyValue).join(',') + ')';
    case 'set':
      return 'S{' + v.items.map(normalisePyValue).sort().join(',') + '}';
    case 'dict':
      return (
        'd{' +
        v.entries
          .map(([k, x]) => normalisePyValue(k) + ':' + normalisePyValue(x))
          .sort()
          .join(',') +
        '}'
      );
  }
}

function canonicalNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (Number.isInteger(n)) return BigInt(n).toString();
  return String(n);
}

/** Decodes a bytes value (one char per byte) as UTF-8, replacing invalid sequences with U+FFFD. */
export function decodePyBytes(value: string): string {
  const data = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) data[i] = value.charCodeAt(i) & 0xff;
  return new TextDecoder('utf-8', { fatal: false }).decode(data);
}
