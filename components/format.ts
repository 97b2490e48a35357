/**
 * Display formatting shared by the pages. Pure functions: the same input gives the same text on the
 * server and in the browser (fixed locale), so server-rendered HTML hydrates without mismatches.
 * Times are epoch seconds, as on the wire.
 */

const countFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1234567 → "1,234,567". */
export function formatCount(value: number): string {
  return countFormat.format(value);
}

/** Load averages with two decimals, or null when the worker has not sent a heartbeat yet. */
export function formatLoadavg(loadavg: readonly number[] | null): string[] | null {
  if (!loadavg || loadavg.length === 0) return null;
  return loadavg.slice(0, 3).map((value) => (Number.isFinite(value) ? value.toFixed(2) : '–'));
}

/** Whole seconds between two epoch-second times, never negative (clock jitter reads as "now"). */
export function secondsBetween(earlier: number, later: number): number {
  return Math.max(0, Math.floor(later - earlier));
}

/** "just now", "3 s ago", "4 min ago", "2 h ago", "3 d ago". */
export function formatAgo(seconds: number): string {
  if (seconds < 1) return 'just now';
  return `${formatSpan(seconds)} ago`;
}

/** A coarse duration: "3 s", "4 min", "2 h 5 min", "3 d". */
export function formatSpan(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const rest = minutes % 60;
    return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
  }
  return `${Math.floor(hours / 24)} d`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** "2025-11-21 12:03:04 UTC": deterministic, used for server-rendered HTML. */
export function formatUtcTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` + `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

/** "2025-11-21 13:03:04 GMT+1" in the viewer's time zone. Browser only (depends on its zone). */
export function formatLocalTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const offsetMinutes = -d.getTimezoneOffset();
  const sign = offsetMinutes >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  const zone = abs === 0 ? 'UTC' : `GMT${sign}${Math.floor(abs / 60)}${abs % 60 === 0 ? '' : `:${pad(abs % 60)}`}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` + `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zone}`;
}

/** "celery@web-1" → { name: "celery@", host: "web-1" }; hostnames without "@" keep name empty. */
export function splitHostname(hostname: string): { name: string; host: string } {
  const at = hostname.indexOf('@');
  if (at <= 0 || at === hostname.length - 1) return { name: '', host: hostname };
  return { name: hostname.slice(0, at + 1), host: hostname.slice(at + 1) };
}
