'use client';

/**
 * The viewer's choice between UTC and local time for absolute times, kept in localStorage and
 * shared by every component through `useTimePreference()`.
 *
 * Hydration: the server cannot know the viewer's zone or choice, so the server render and the
 * hydration pass always format in UTC (`useTimeFormatter` does this); right after hydration the
 * stored choice applies. The choice is also synced across tabs (storage event).
 */
import { createContext, createElement, useCallback, useContext, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import { formatLocalTime, formatUtcTime } from './format';
import { storedChoice } from './storedChoice';
import { useHydrated } from './useClock';

export const TIME_PREFERENCE_KEY = 'celeriac.time';

const utcChoice = storedChoice<boolean>(TIME_PREFERENCE_KEY, {
  parse: (stored) => stored === 'utc',
  serialize: (utc) => (utc ? 'utc' : 'local'),
});

export interface TimePreference {
  /** True when absolute times show in UTC, false for the viewer's local zone. */
  utc: boolean;
  setUtc: (utc: boolean) => void;
}

const TimePreferenceContext = createContext<TimePreference | null>(null);

/** Provides the UTC/local choice to everything below (mounted once, in the root layout). */
export function TimePreferenceProvider({ children }: { children: ReactNode }) {
  const utc = useSyncExternalStore(utcChoice.subscribe, utcChoice.read, () => false);
  const value = useMemo<TimePreference>(() => ({ utc, setUtc: utcChoice.write }), [utc]);
  return createElement(TimePreferenceContext.Provider, { value }, children);
}

/** The UTC/local choice. Outside a provider it reads the stored value directly. */
export function useTimePreference(): TimePreference {
  const context = useContext(TimePreferenceContext);
  const utc = useSyncExternalStore(utcChoice.subscribe, utcChoice.read, () => false);
  return context ?? { utc, setUtc: utcChoice.write };
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** "UTC" or the viewer's zone as "GMT+1" / "GMT-4:30" (browser only for local). */
export function zoneLabel(utc: boolean, at: number = Date.now() / 1000): string {
  if (utc) return 'UTC';
  const offsetMinutes = -new Date(at * 1000).getTimezoneOffset();
  if (offsetMinutes === 0) return 'UTC';
  const abs = Math.abs(offsetMinutes);
  return `GMT${offsetMinutes >= 0 ? '+' : '-'}${Math.floor(abs / 60)}${abs % 60 === 0 ? '' : `:${pad(abs % 60)}`}`;
}

/** "13:05:20" (or "13:05" without seconds) in UTC or the viewer's zone. */
export function formatClock(epochSeconds: number, utc: boolean, seconds = true): string {
  const d = new Date(epochSeconds * 1000);
  const h = utc ? d.getUTCHours() : d.getHours();
  const m = utc ? d.getUTCMinutes() : d.getMinutes();
  const s = utc ? d.getUTCSeconds() : d.getSeconds();
  return seconds ? `${pad(h)}:${pad(m)}:${pad(s)}` : `${pad(h)}:${pad(m)}`;
}

export interface TimeFormatter {
  /** Whether the output is in UTC (always during server render and hydration). */
  utc: boolean;
  /** "2025-11-21 13:03:04 UTC" / "… GMT+1". */
  full: (epochSeconds: number) => string;
  /** "13:03:04" / "13:03". */
  clock: (epochSeconds: number, seconds?: boolean) => string;
  /** "UTC" / "GMT+1". */
  zone: (epochSeconds?: number) => string;
}

/** Formatters for absolute times that follow the preference, hydration-safe (UTC until hydrated). */
export function useTimeFormatter(): TimeFormatter {
  const hydrated = useHydrated();
  const { utc: preferUtc } = useTimePreference();
  const utc = !hydrated || preferUtc;
  const full = useCallback((t: number) => (utc ? formatUtcTime(t) : formatLocalTime(t)), [utc]);
  const clock = useCallback((t: number, seconds = true) => formatClock(t, utc, seconds), [utc]);
  const zone = useCallback((t?: number) => zoneLabel(utc, t), [utc]);
  return useMemo(() => ({ utc, full, clock, zone }), [utc, full, clock, zone]);
}
