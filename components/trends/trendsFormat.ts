/**
 * Formatting for the Trends page: durations, ratios, changes against the previous period, and
 * axis labels per range. Pure functions (fixed locale), so server HTML hydrates unchanged.
 */
import { TREND_RANGES, type TrendRange } from '@/server/views/trend-types';

const pad = (n: number): string => String(n).padStart(2, '0');

/** 0.0123 → "12.3 ms", 4.5 → "4.50 s", 754 → "12.6 min"; null → "–". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '–';
  if (seconds === 0) return '0';
  if (seconds < 1) return `${(seconds * 1000).toPrecision(3)} ms`;
  if (seconds < 120) return `${seconds.toPrecision(3)} s`;
  if (seconds < 7_200) return `${(seconds / 60).toPrecision(3)} min`;
  return `${(seconds / 3_600).toPrecision(3)} h`;
}

/** 0.0312 → "3.1 %"; null → "–". */
export function formatRatio(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return '–';
  return `${(ratio * 100).toFixed(ratio < 0.1 && ratio > 0 ? 2 : 1)} %`;
}

/** The change from `previous` to `current` in %, or null when there is nothing to compare with. */
export function changeRatio(current: number | null, previous: number | null): number | null {
  if (current === null || previous === null || previous === 0) return null;
  return (current - previous) / previous;
}

/** +12 % / −3 % / "up from 0" / "no earlier data", from this period's and the previous period's values. */
export function formatChange(current: number | null, previous: number | null): string {
  if (current === null || previous === null) return 'no earlier data';
  if (previous === 0) return current === 0 ? '±0 %' : 'up from 0';
  const change = (current - previous) / previous;
  const percent = Math.round(change * 100);
  if (percent === 0) return '±0 %';
  return `${percent > 0 ? '+' : '−'}${Math.abs(percent)} %`;
}

/** An axis tick: "13:05" within a day, "12-01 13:00" beyond. */
export function formatTick(t: number, range: TrendRange, utc: boolean): string {
  const d = new Date(t * 1000);
  const hh = pad(utc ? d.getUTCHours() : d.getHours());
  const mm = pad(utc ? d.getUTCMinutes() : d.getMinutes());
  if (range === '1h' || range === '24h') return `${hh}:${mm}`;
  const month = pad((utc ? d.getUTCMonth() : d.getMonth()) + 1);
  const day = pad(utc ? d.getUTCDate() : d.getDate());
  return `${month}-${day} ${hh}:${mm}`;
}

export const RANGE_LABELS: Record<TrendRange, string> = { '1h': '1 h', '24h': '24 h', '7d': '7 d', '30d': '30 d' };

export interface TrendsSelection {
  range: TrendRange;
  name: string | null;
}

/** The selection as the URL and the API spell it. */
export function selectionQuery(selection: TrendsSelection): Record<string, string> {
  return selection.name === null ? { range: selection.range } : { range: selection.range, name: selection.name };
}

/** The selection in a page's search parameters (anything unknown falls back to 24 h, every name). */
export function parseSelection(params: Record<string, string | string[] | undefined>): TrendsSelection {
  const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[value.length - 1] : value);
  const range = first(params.range);
  const name = first(params.name);
  return { range: (TREND_RANGES as readonly string[]).includes(range ?? '') ? (range as TrendRange) : '24h', name: name === undefined || name === '' ? null : name };
}
