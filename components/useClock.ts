'use client';

/**
 * One shared one-second clock for every "3 s ago" on the page, so a table of thousands of rows
 * re-renders only its time cells, once a second, from a single timer.
 *
 * Hydration: the server renders relative times against its own clock (`serverNow`, handed down by
 * <ClockProvider>). While hydrating, React uses that same value (getServerSnapshot), so the HTML
 * matches; right after, the cells switch to the browser's ticking clock.
 *
 * Skew: heartbeat times are stamped by the server's clock. If the browser's clock is off by more
 * than a second or two, "last heartbeat" would lie, so the first page load measures the difference
 * (server render time vs. the moment the response reached the browser) and corrects for it.
 */
import { createContext, createElement, useContext, useEffect, useRef, useSyncExternalStore, type ReactNode } from 'react';

const TICK_MS = 1000;
/** Differences smaller than this are network and render latency, not clock skew. */
const SKEW_THRESHOLD_S = 1.5;

let skewSeconds = 0;
let calibrated = false;
let current = 0;
let timer: ReturnType<typeof setInterval> | null = null;
const listeners = new Set<() => void>();

function read(): number {
  return Date.now() / 1000 + skewSeconds;
}

function tick(): void {
  current = read();
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (timer === null) {
    current = read();
    timer = setInterval(tick, TICK_MS);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}

function getSnapshot(): number {
  // Not ticking (nothing subscribed yet): refresh, but keep the value stable within a second so
  // consecutive calls agree, as useSyncExternalStore requires.
  if (timer === null) {
    const now = read();
    if (now - current >= 1) current = now;
  }
  return current;
}

/** When (browser clock, epoch seconds) this document's response started arriving. */
function documentReceivedAt(): number {
  const [nav] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[];
  if (nav && nav.responseStart > 0) return (performance.timeOrigin + nav.responseStart) / 1000;
  return Date.now() / 1000;
}

/**
 * `receivedAt`: the browser's time when `serverNow` arrived: the document's response time when
 * hydrating server HTML, or "now" when mounted by a client-side navigation (fresh RSC payload).
 */
function calibrate(serverNow: number, receivedAt: number): void {
  if (calibrated) return;
  calibrated = true;
  const skew = serverNow - receivedAt;
  if (Math.abs(skew) >= SKEW_THRESHOLD_S) {
    skewSeconds = skew;
    tick();
  }
}

const ServerNowContext = createContext<number | null>(null);

/** Provides the server's render time (epoch seconds) to the clock below it. */
export function ClockProvider({ serverNow, children }: { serverNow: number; children: ReactNode }) {
  // Hydrating server HTML (as opposed to mounting after a client-side navigation)?
  const hydrating = !useHydrated();
  const hydratingAtMount = useRef(hydrating);
  useEffect(() => {
    calibrate(serverNow, hydratingAtMount.current ? documentReceivedAt() : Date.now() / 1000);
  }, [serverNow]);
  return createElement(ServerNowContext.Provider, { value: serverNow }, children);
}

/** Current time in epoch seconds (server-aligned), updated once a second. */
export function useNow(): number {
  const serverNow = useContext(ServerNowContext);
  return useSyncExternalStore(subscribe, getSnapshot, () => serverNow ?? 0);
}

/** False during the server render and hydration, true afterwards (for browser-only output). */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    noopSubscribe,
    () => true,
    () => false,
  );
}

function noopSubscribe(): () => void {
  return () => {};
}
