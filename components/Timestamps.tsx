'use client';

/** Times that stay truthful while the page sits open: they tick with the shared clock. */
import { formatAgo, formatSpan, secondsBetween } from './format';
import { useTimeFormatter } from './timePreference';
import { useNow } from './useClock';

function isoTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString();
}

/**
 * The absolute time in the viewer's zone, or in UTC when the viewer chose UTC (the top bar's
 * toggle). The server cannot know the zone, so server HTML (and the hydration pass) shows UTC.
 */
function useAbsoluteTime(epochSeconds: number): string {
  return useTimeFormatter().full(epochSeconds);
}

/** The time since `at`, as `format` words it, re-rendered every second; the absolute time as tooltip. */
function TickingTime({ at, format }: { at: number; format: (seconds: number) => string }) {
  const now = useNow();
  const absolute = useAbsoluteTime(at);
  return (
    <time dateTime={isoTime(at)} title={absolute}>
      {format(secondsBetween(at, now))}
    </time>
  );
}

/** "3 s ago", re-rendered every second, with the absolute local time as its tooltip. */
export function RelativeTime({ at }: { at: number }) {
  return <TickingTime at={at} format={formatAgo} />;
}

/** How long ago `since` was, as a span ("4 min"), ticking; the absolute local time as tooltip. */
export function ElapsedTime({ since }: { since: number }) {
  return <TickingTime at={since} format={formatSpan} />;
}

/** "2025-11-21 13:03:04 GMT+1" in the viewer's zone or UTC as chosen (UTC until hydrated). */
export function LocalTime({ at }: { at: number }) {
  const absolute = useAbsoluteTime(at);
  return <time dateTime={isoTime(at)}>{absolute}</time>;
}
