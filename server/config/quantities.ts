/**
 * The two quantities retention options are written in: an age (`90m`, `12h`, `7d`, `2w`; `0`
 * keeps forever) and a size (`500MB`, `10GB`, `1GiB`). Parsed once here, so the store only ever
 * sees seconds and bytes; anything else is refused with a sentence that shows the accepted forms.
 */

const AGE_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 };

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

/** Seconds in an age such as `7d`; 0 (written `0`, `0d`…) means "keep forever". */
export function parseAge(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const amount = match ? Number(match[1]) : Number.NaN;
  const unit = match?.[2]?.toLowerCase() ?? '';
  if (match && amount === 0) return 0;
  const seconds = AGE_UNITS[unit];
  if (!match || seconds === undefined || !Number.isFinite(amount)) {
    throw new QuantityError(`${option} must be an age such as 90m, 12h, 7d or 2w (s, m, h, d, w), or 0 to keep forever (got "${text}")`);
  }
  return Math.round(amount * seconds);
}

/** Bytes in a size such as `500MB`; null for `0` or `none` (no cap). */
export function parseSize(text: string, option: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'none') return null;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(trimmed);
  const amount = match ? Number(match[1]) : Number.NaN;
  if (match && amount === 0) return null;
  const factor = SIZE_UNITS[match?.[2]?.toLowerCase() ?? ''];
  if (!match || factor === undefined || !Number.isFinite(amount)) {
    throw new QuantityError(`${option} must be a size such as 500MB, 10GB or 2GiB (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), or none (got "${text}")`);
  }
  return Math.round(amount * factor);
}
