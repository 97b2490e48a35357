/**
 * The quantities the store's options are written in: an age (`90m`, `12h`, `7d`, `2w`; `0`
 * keeps forever), a size (`500MB`, `10GB`, `1GiB`) and a time limit (`500ms`, `30s`, `2m`; `0`
 * for none). Parsed once here, so the store only ever sees seconds, bytes and milliseconds;
 * anything else is refused with a sentence that shows the accepted forms.
 */

const AGE_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 };
const LIMIT_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000 };

/** SI units are powers of 1000, binary units (KiB…) powers of 1024, as `df -H` and `df -h` say. */
const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

export class QuantityError extends Error {}

/** An amount and its unit (lower case), or null when the text is not a number and a unit. */
function quantity(text: string): { amount: number; unit: string } | null {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const amount = match ? Number(match[1]) : Number.NaN;
  if (!match || !Number.isFinite(amount)) return null;
  return { amount, unit: match[2]?.toLowerCase() ?? '' };
}

/** Seconds in an age such as `7d`; 0 (written `0`, `0d`…) means "keep forever". */
export function parseAge(text: string, option: string): number {
  const parsed = quantity(text);
  if (parsed?.amount === 0) return 0;
  const seconds = parsed ? AGE_UNITS[parsed.unit] : undefined;
  if (!parsed || seconds === undefined) {
    throw new QuantityError(`${option} must be an age such as 90m, 12h, 7d or 2w (s, m, h, d, w), or 0 to keep forever (got "${text}")`);
  }
  return Math.round(parsed.amount * seconds);
}

/** Milliseconds in a time limit such as `30s`; 0 (written `0`, `0s`…) means "no limit". */
export function parseTimeLimitMs(text: string, option: string): number {
  const parsed = quantity(text);
  if (parsed?.amount === 0) return 0;
  const factor = parsed ? LIMIT_UNITS_MS[parsed.unit] : undefined;
  if (!parsed || factor === undefined) {
    throw new QuantityError(`${option} must be a time such as 500ms, 30s or 2m (ms, s, m), or 0 for no limit (got "${text}")`);
  }
  return Math.max(1, Math.round(parsed.amount * factor));
}

/** Bytes in a size such as `500MB`; null for `0` or `none` (no cap). */
export function parseSize(text: string, option: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'none') return null;
  const parsed = quantity(trimmed);
  if (parsed?.amount === 0) return null;
  const factor = parsed ? SIZE_UNITS[parsed.unit] : undefined;
  if (!parsed || factor === undefined) {
    throw new QuantityError(`${option} must be a size such as 500MB, 10GB or 2GiB (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), or none (got "${text}")`);
  }
  return Math.round(parsed.amount * factor);
}
