/** Python's `repr()` and `str()` of a {@link PyExactValue}. */
import { isPrintable } from './str';
import { decodePyBytes, type PyExactValue, type PyValue } from './value';

/** Python's `repr()` of a value (set items in their stored order; Python's own order is hash-based). */
export function pyRepr(v: PyValue | PyExactValue): string {
  switch (typeof v) {
    case 'string':
      return reprStr(v);
    case 'boolean':
      return v ? 'True' : 'False';
    case 'bigint':
      return v.toString();
    case 'number':
      // A plain number: an int when it is a safe integer, a float otherwise (see PyExactValue).
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) return String(v);
      return reprFloat(v);
    default:
      break;
  }
  if (v === null) return 'None';
  if (Array.isArray(v)) return '[' + v.map(pyRepr).join(', ') + ']';
  switch (v.kind) {
    case 'float':
      return reprFloat(v.value);
    case 'ellipsis':
      return 'Ellipsis';
    case 'bytes':
      return reprBytes(v.value);
    case 'tuple':
      if (v.items.length === 1) return '(' + pyRepr(v.items[0] ?? null) + ',)';
      return '(' + v.items.map(pyRepr).join(', ') + ')';
    case 'set':
      if (v.items.length === 0) return 'set()';
      return '{' + v.items.map(pyRepr).join(', ') + '}';
    case 'dict':
      return '{' + v.entries.map(([k, x]) => pyRepr(k) + ': ' + pyRepr(x)).join(', ') + '}';
  }
}

/** Python's `str()`: a str is itself, anything else is its repr. */
export function pyStr(v: PyValue | PyExactValue): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

/** kombu's `safe_str()` (`kombu.utils.encoding`): bytes decoded as UTF-8 (invalid bytes replaced), anything else `str()`. */
export function safeStr(v: PyValue | PyExactValue): string {
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'bytes') return decodePyBytes(v.value);
  return pyStr(v);
}

/** Python's float repr: shortest round-trip digits, exponent form below 1e-4 and from 1e16 on. */
function reprFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(x.toExponential());
  if (!match) return String(x);
  const sign = match[1] ?? '';
  const digits = (match[2] ?? '') + (match[3] ?? '');
  const exponent = Number(match[4]);
  if (exponent >= -5 + 1 && exponent < 16) {
    if (exponent < 0) return sign + '0.' + '0'.repeat(-exponent - 1) + digits;
    const whole = digits.length > exponent + 1 ? digits.slice(0, exponent + 1) : digits.padEnd(exponent + 1, '0');
    const fraction = digits.slice(exponent + 1) || '0';
    return sign + whole + '.' + fraction;
  }
  const mantissa = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
  const expText = String(Math.abs(exponent)).padStart(2, '0');
  return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${expText}`;
}

function hex(cp: number, width: number): string {
  return cp.toString(16).padStart(width, '0');
}

function reprStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2);
    else if (cp < 0x7f || isPrintable(cp)) out += ch;
    else if (cp <= 0xff) out += '\\x' + hex(cp, 2);
    else if (cp <= 0xffff) out += '\\u' + hex(cp, 4);
    else out += '\\U' + hex(cp, 8);
  }
  return out + quote;
}

function reprBytes(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = 'b' + quote;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] ?? '';
    const c = s.charCodeAt(i) & 0xff;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c >= 0x7f) out += '\\x' + hex(c, 2);
    else out += ch;
  }
  return out + quote;
}
