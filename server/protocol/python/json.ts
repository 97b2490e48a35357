/** Python values as JSON, for API responses that hand parsed reprs to JSON clients. */
import { pyRepr } from './repr';
import { decodePyBytes, isSafeBigInt, type PyExactValue, type PyValue } from './value';

/**
 * A JSON-compatible rendering: tuple, list and set → array; dict → object (keys: str as is,
 * numbers/bools/None as JSON would name them — `"1"`, `"true"`, `"null"` — bytes decoded, other
 * keys by their repr); bytes → UTF-8-decoded string; bigint → number when safe, else its decimal
 * string. Floats stay numbers (an infinite float is `Infinity`, which JSON.stringify writes as
 * null); Ellipsis (only from `literalEval`, literal.ts) → the string `"Ellipsis"`.
 */
export function pyValueToJson(v: PyValue | PyExactValue): unknown {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
      return v;
    case 'bigint':
      return isSafeBigInt(v) ? Number(v) : v.toString();
    default:
      break;
  }
  if (v === null) return null;
  if (Array.isArray(v)) return v.map(pyValueToJson);
  switch (v.kind) {
    case 'float':
      return v.value;
    case 'ellipsis':
      return 'Ellipsis';
    case 'bytes':
      return decodePyBytes(v.value);
    case 'tuple':
    case 'set':
      return v.items.map(pyValueToJson);
    case 'dict':
      // Object.fromEntries defines own properties, so a '__proto__' key stays an ordinary key.
      return Object.fromEntries(v.entries.map(([k, x]) => [jsonKey(k), pyValueToJson(x)]));
  }
}

function jsonKey(k: PyValue | PyExactValue): string {
  switch (typeof k) {
    case 'string':
      return k;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(k);
    default:
      break;
  }
  if (k === null) return 'null';
  if (!Array.isArray(k) && k.kind === 'bytes') return decodePyBytes(k.value);
  if (!Array.isArray(k) && k.kind === 'float') return String(k.value);
  return pyRepr(k);
}
