/**
 * Python's str semantics where JavaScript's differ: `len()` counts code points, `str.isspace()` and
 * `str.strip()` know more whitespace, `str.casefold()` folds more than lower-casing, and
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

/** Python's `str.isspace()` for one UTF-16 unit (every Python whitespace character is in the BMP). */
export function isPySpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  if (c < 0x85) return false;
  return c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** Python's `str.strip()` with no argument. */
export function pyStrip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isPySpace(s.charCodeAt(start))) start++;
  while (end > start && isPySpace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** `count` characters from U+`from` on that fold to as many characters from U+`to` on, each followed by `suffix`. */
function foldRun(from: number, to: number, count: number, suffix = ''): [string, string][] {
  return Array.from({ length: count }, (_, i): [string, string] => [String.fromCharCode(from + i), String.fromCharCode(to + i) + suffix]);
}

/**
 * Characters that survive `toLowerCase()` but that Python's `str.casefold()` still changes
 * (generated from CPython 3.11 / Unicode 14). casefold(s) == fold(toLowerCase(s)) for all s.
 */
const CASEFOLD_EXTRA: ReadonlyMap<string, string> = new Map([
  ['\u00b5', '\u03bc'],
  ['\u00df', 'ss'],
  ['\u0149', '\u02bcn'],
  ['\u017f', 's'],
  ['\u01f0', 'j\u030c'],
  ['\u0345', '\u03b9'],
  ['\u0390', '\u03b9\u0308\u0301'],
  ['\u03b0', '\u03c5\u0308\u0301'],
  ['\u03c2', '\u03c3'],
  ['\u03d0', '\u03b2'],
  ['\u03d1', '\u03b8'],
  ['\u03d5', '\u03c6'],
  ['\u03d6', '\u03c0'],
  ['\u03f0', '\u03ba'],
  ['\u03f1', '\u03c1'],
  ['\u03f5', '\u03b5'],
  ['\u0587', '\u0565\u0582'],
  ['\u1c80', '\u0432'],
  ['\u1c81', '\u0434'],
  ['\u1c82', '\u043e'],
  ['\u1c83', '\u0441'],
  ['\u1c84', '\u0442'],
  ['\u1c85', '\u0442'],
  ['\u1c86', '\u044a'],
  ['\u1c87', '\u0463'],
  ['\u1c88', '\ua64b'],
  ['\u1e96', 'h\u0331'],
  ['\u1e97', 't\u0308'],
  ['\u1e98', 'w\u030a'],
  ['\u1e99', 'y\u030a'],
  ['\u1e9a', 'a\u02be'],
  ['\u1e9b', '\u1e61'],
  ['\u1f50', '\u03c5\u0313'],
  ['\u1f52', '\u03c5\u0313\u0300'],
  ['\u1f54', '\u03c5\u0313\u0301'],
  ['\u1f56', '\u03c5\u0313\u0342'],
  ['\u1fb2', '\u1f70\u03b9'],
  ['\u1fb3', '\u03b1\u03b9'],
  ['\u1fb4', '\u03ac\u03b9'],
  ['\u1fb6', '\u03b1\u0342'],
  ['\u1fb7', '\u03b1\u0342\u03b9'],
  ['\u1fbe', '\u03b9'],
  ['\u1fc2', '\u1f74\u03b9'],
  ['\u1fc3', '\u03b7\u03b9'],
  ['\u1fc4', '\u03ae\u03b9'],
  ['\u1fc6', '\u03b7\u0342'],
  ['\u1fc7', '\u03b7\u0342\u03b9'],
  ['\u1fd2', '\u03b9\u0308\u0300'],
  ['\u1fd3', '\u03b9\u0308\u0301'],
  ['\u1fd6', '\u03b9\u0342'],
  ['\u1fd7', '\u03b9\u0308\u0342'],
  ['\u1fe2', '\u03c5\u0308\u0300'],
  ['\u1fe3', '\u03c5\u0308\u0301'],
  ['\u1fe4', '\u03c1\u0313'],
  ['\u1fe6', '\u03c5\u0342'],
  ['\u1fe7', '\u03c5\u0308\u0342'],
  ['\u1ff2', '\u1f7c\u03b9'],
  ['\u1ff3', '\u03c9\u03b9'],
  ['\u1ff4', '\u03ce\u03b9'],
  ['\u1ff6', '\u03c9\u0342'],
  ['\u1ff7', '\u03c9\u0342\u03b9'],
  ['\ufb00', 'ff'],
  ['\ufb01', 'fi'],
  ['\ufb02', 'fl'],
  ['\ufb03', 'ffi'],
  ['\ufb04', 'ffl'],
  ['\ufb05', 'st'],
  ['\ufb06', 'st'],
  ['\ufb13', '\u0574\u0576'],
  ['\ufb14', '\u0574\u0565'],
  ['\ufb15', '\u0574\u056b'],
  ['\ufb16', '\u057e\u0576'],
  ['\ufb17', '\u0574\u056d'],
  // Runs that fold letter by letter: Cherokee small letters to the capitals (Python folds
  // Cherokee to upper case), Greek small letters with ypogegrammeni to the letter and an iota.
  ...foldRun(0x13f8, 0x13f0, 6),
  ...foldRun(0x1f80, 0x1f00, 8, '\u03b9'),
  ...foldRun(0x1f90, 0x1f20, 8, '\u03b9'),
  ...foldRun(0x1fa0, 0x1f60, 8, '\u03b9'),
  ...foldRun(0xab70, 0x13a0, 80),
]);
const CASEFOLD_EXTRA_RE = new RegExp(`[${[...CASEFOLD_EXTRA.keys()].join('')}]`, 'gu');
// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range, control characters included, is the point
const NON_ASCII_RE = /[^\x00-\x7f]/;

/** Whether a string holds a character beyond ASCII (only those fold differently in Python). */
export function hasNonAscii(s: string): boolean {
  return NON_ASCII_RE.test(s);
}

/** Python's `str.casefold()`. */
export function casefold(s: string): string {
  const lower = s.toLowerCase();
  if (!hasNonAscii(lower)) return lower;
  return lower.replace(CASEFOLD_EXTRA_RE, (ch) => CASEFOLD_EXTRA.get(ch) ?? ch);
}
