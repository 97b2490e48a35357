/**
 * The URL prefix (`--url-prefix`), in one place: how a given value is normalised and checked,
 * and which build directory serves it. No imports: next.config.ts reads it too, when `next build`
 * runs for a prefix.
 */

/** Letters, digits and `. _ ~ -` in each segment: safe in a URL path and in a directory name. */
const SEGMENTS = /^[A-Za-z0-9._~\-/]+$/;

/**
 * '' (no prefix) or '/segment[/segment…]': surrounding whitespace and slashes dropped, repeated
 * slashes collapsed. Null when the value has characters a prefix may not contain.
 */
export function normaliseUrlPrefix(value: string): string | null {
  const trimmed = value
    .trim()
    .replace(/\/{2,}/g, '/')
    .replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  return SEGMENTS.test(trimmed) ? `/${trimmed}` : null;
}

/** What a prefix may contain, for error messages. */
export const URL_PREFIX_RULE = 'letters, digits, "/", ".", "_", "~" and "-" only';

/** The Next.js build directory for a prefix: each prefix is its own build (basePath is baked in). */
export function distDirFor(prefix: string): string {
  return prefix === '' ? '.next' : `.next-prefix${prefix.replaceAll('/', '-')}`;
}
