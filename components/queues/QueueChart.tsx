'use client';

/** Queue length over time, one line per queue (the busiest ones), from the snapshot's history. */
import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { QueuesSnapshot } from '@/server/realtime/types';
import { formatCount, formatSpan } from '../format';
import { useTimeFormatter } from '../timePreference';
import { useHydrated } from '../useClock';
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

export function QueueChart({ history, names }: { history: History; names: string[] }) {
  const hydrated = useHydrated();
  const { clock } = useTimeFormatter();
  const series = useMemo(() => chartQueues(history, names), [history, names]);
  const span = history.length > 1 ? (history[history.length - 1] as Point).t - (history[0] as Point).t : 0;
  const hidden = names.length - series.length;

  return (
    <section className={`panel ${styles.chartPanel}`} aria-label="Queue length over time" data-testid="queue-chart">
      <header className={styles.panelHeader}>
        <h2 className={styles.panelTitle}>Queue length</h2>
        <p className={styles.panelMeta}>
          {history.length < 2 ? 'Collecting…' : `Last ${formatSpan(span)}`}
          {hidden > 0 ? ` · ${series.length} busiest of ${names.length} queues` : ''}
        </p>
      </header>
      <div className={styles.chartBox}>
        {!hydrated ? null : history.length === 0 || series.length === 0 ? (
          <p className={styles.chartEmpty}>No queue lengths recorded yet.</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%" initialDimension={{ width: 800, height: 240 }}>
            <LineChart data={history} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
              <CartesianGrid vertical={false} />
              <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} tickFormatter={(t: number) => clock(t)} minTickGap={48} tickLine={false} fontSize={11.5} />
              <YAxis allowDecimals={false} width={44} tickLine={false} axisLine={false} fontSize={11.5} tickFormatter={(v: number) => formatCount(v)} />
              <Tooltip isAnimationActive={false} labelFormatter={(t) => clock(Number(t))} formatter={(value) => formatCount(Number(value))} wrapperClassName={styles.tooltip} />
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
