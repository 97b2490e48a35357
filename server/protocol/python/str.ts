/**
 * Python's str semantics where JavaScript's differ: `len()` counts code points, and
 * `str.isprintable()` decides what repr() escapes.
 */

/** Python's `len()` of a string: code points, not UTF-16 units. */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

const NON_PRINTABLE_RE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

/** Python's `str.isprintable()` of one code point (the space is printable, other separators are not). */
export function isPrintable(cp: number): boolean {
  if (cp === 0x20) return true;
  return !NON_PRINTABLE_RE.test(String.fromCodePoint(cp));
}
