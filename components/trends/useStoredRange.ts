'use client';

/**
 * A live chart's range beyond its live window: 'live' shows what the socket pushes; a trend range
 * (24 h, 7 d, 30 d) fetches the stored aggregates from `path` once selected and every 30 s.
 */
import { useEffect, useState } from 'react';
import type { TrendRange } from '@/server/views/trend-types';
import { errorText, getJson } from '../api';

export type ChartRange = 'live' | TrendRange;

const REFRESH_MS = 30_000;

export function useStoredRange<Answer, Shown>(
  path: string,
  convert: (answer: Answer) => Shown,
): { range: ChartRange; setRange: (range: ChartRange) => void; stored: Shown | null; error: string | null } {
  const [range, setRange] = useState<ChartRange>('live');
  const [stored, setStored] = useState<Shown | null>(null);
  const [error, setError] = useState<string | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `convert` is a pure mapping; a new one each render must not refetch
  useEffect(() => {
    if (range === 'live') {
      setStored(null);
      setError(null);
      return;
    }
    setStored(null); // not the previous range's numbers under this range's label
    const controller = new AbortController();
    const load = () =>
      getJson<Answer>(path, { query: { range }, signal: controller.signal })
        .then((answer) => {
          setStored(convert(answer));
          setError(null);
        })
        .catch((e: unknown) => {
          if (!controller.signal.aborted) setError(errorText(e));
        });
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      controller.abort();
      clearInterval(timer);
    };
  }, [path, range]);
  return { range, setRange, stored, error };
}
