/** Number formatting for the overview. Pure and locale-fixed, so server HTML hydrates identically. */

/** 0.125 → "12.5%", 0 → "0%", null → "–". */
export function formatRatio(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return '–';
  const pct = ratio * 100;
  if (pct === 0 || pct === 100) return `${pct}%`;
  if (pct < 0.1) return '<0.1%';
  return `${pct < 10 ? pct.toFixed(1) : pct.toFixed(0)}%`;
}

/** Seconds → "840 µs", "12 ms", "1.24 s", "14.2 s", "3 min 4 s"; null → "–". */
export function formatRuntime(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '–';
  if (seconds < 0.001) return `${Math.max(1, Math.round(seconds * 1e6))} µs`;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  if (m < 60) return s === 0 ? `${m} min` : `${m} min ${s} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

/** Failure ratio severity for colouring: none, warn (≥ 1%), bad (≥ 10%). */
export function ratioTone(ratio: number | null): 'ok' | 'warn' | 'bad' | 'none' {
  if (ratio === null) return 'none';
  if (ratio >= 0.1) return 'bad';
  if (ratio >= 0.01) return 'warn';
  return 'ok';
}
