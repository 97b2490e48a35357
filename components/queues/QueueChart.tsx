'use client';

/**
 * Queue length over time, one line per queue (the busiest ones): live from the snapshot's history
 * (30 minutes), or over 24 h / 7 d / 30 d from the stored per-minute queue lengths (the largest
 * polled per step, so a backlog shows at its peak).
 */
import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { QueuesSnapshot } from '@/server/realtime/types';
import { formatCount, formatSpan } from '../format';
import { useTimeFormatter } from '../timePreference';
import { useHydrated } from '../useClock';
import { formatTick } from '../trends/trendsFormat';
import { useStoredRange, type ChartRange } from '../trends/useStoredRange';
import { TREND_RANGE_SPECS, type QueueHistoryView } from '@/server/views/trend-types';
import styles from './queues.module.css';

/** Readable on both the light and the dark surface. */
export const SERIES_COLORS = ['#3b82f6', '#16a34a', '#f59e0b', '#db2777', '#8b5cf6', '#0891b2', '#ea580c', '#65a30d'] as const;
const MAX_SERIES = SERIES_COLORS.length;

type History = QueuesSnapshot['history'];
type Point = History[number];

/** The queues to draw: those with the highest peak in the window, then by name. */
export function chartQueues(history: History, names: string[]): string[] {
  const peak = new Map<string, number>(names.map((n) => [n, 0]));
  for (const point of history) {
    for (const [name, length] of Object.entries(point.lengths)) peak.set(name, Math.max(peak.get(name) ?? 0, length));
  }
  return [...peak.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, MAX_SERIES)
    .map(([name]) => name);
}

const RANGES: { range: ChartRange; label: string }[] = [
  { range: 'live', label: 'Live' },
  { range: '24h', label: '24 h' },
  { range: '7d', label: '7 d' },
  { range: '30d', label: '30 d' },
];

/** Stored points as the live history's shape: each queue's largest length in the step. */
function storedHistory(view: QueueHistoryView): { history: History; domain: [number, number] } {
  return { history: view.points.map((p) => ({ t: p.t, lengths: Object.fromEntries(Object.entries(p.queues).map(([name, q]) => [name, q.max])) })), domain: [view.from, view.to - view.step] };
}

export function QueueChart({ history: live, names }: { history: History; names: string[] }) {
  const hydrated = useHydrated();
  const { clock, utc } = useTimeFormatter();
  const { range, setRange, stored, error } = useStoredRange('/api/celeriac/queues/history', storedHistory);
  const history = range === 'live' ? live : (stored?.history ?? []);
  // A stored range spans its whole window, however few steps had polls.
  const domain: [number | string, number | string] = range === 'live' || !stored ? ['dataMin', 'dataMax'] : stored.domain;
  const series = useMemo(() => chartQueues(history, names), [history, names]);
  const span = history.length > 1 ? (history[history.length - 1] as Point).t - (history[0] as Point).t : 0;
  const hidden = names.length - series.length;
  const tick = (t: number) => (range === 'live' ? clock(t) : formatTick(t, range, utc));

  return (
    <section className={`panel ${styles.chartPanel}`} aria-label="Queue length over time" data-testid="queue-chart">
      <header className={styles.panelHeader}>
        <h2 className={styles.panelTitle}>Queue length</h2>
        <p className={styles.panelMeta}>
          {range !== 'live'
            ? `largest per step · ${error ?? (stored === null ? 'Loading…' : `last ${formatSpan(TREND_RANGE_SPECS[range].seconds)}`)}`
            : history.length < 2
              ? 'Collecting…'
              : `Last ${formatSpan(span)}`}
          {hidden > 0 ? ` · ${series.length} busiest of ${names.length} queues` : ''}
        </p>
        <div className="segmented" role="group" aria-label="Range" data-testid="queue-chart-range">
          {RANGES.map((r) => (
            <button key={r.range} type="button" className="segmented__option" aria-pressed={range === r.range} data-range={r.range} onClick={() => setRange(r.range)}>
              {r.label}
            </button>
          ))}
        </div>
      </header>
      <div className={styles.chartBox}>
        {!hydrated ? null : history.length === 0 || series.length === 0 ? (
          <p className={styles.chartEmpty}>{range === 'live' ? 'No queue lengths recorded yet.' : 'No queue lengths stored for this range.'}</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%" initialDimension={{ width: 800, height: 240 }}>
            <LineChart data={history} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
              <CartesianGrid vertical={false} />
              <XAxis dataKey="t" type="number" domain={domain} allowDecimals={false} tickFormatter={tick} minTickGap={48} tickLine={false} fontSize={11.5} />
              <YAxis allowDecimals={false} width={44} tickLine={false} axisLine={false} fontSize={11.5} tickFormatter={(v: number) => formatCount(v)} />
              <Tooltip isAnimationActive={false} labelFormatter={(t) => tick(Number(t))} formatter={(value) => formatCount(Number(value))} wrapperClassName={styles.tooltip} />
              <Legend iconType="plainline" iconSize={14} wrapperStyle={{ fontSize: 12 }} />
              {series.map((name, i) => (
                <Line
                  key={name}
                  name={name}
                  type="linear"
                  dataKey={(p: Point) => p.lengths[name] ?? 0}
                  stroke={SERIES_COLORS[i % SERIES_COLORS.length]}
                  strokeWidth={1.75}
                  dot={false}
                  isAnimationActive={false}
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        )}
      </div>
    </section>
  );
}
