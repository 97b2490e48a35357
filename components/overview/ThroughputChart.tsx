'use client';

/**
 * Events per state over the last 15 minutes, one point per 10-second bucket. The server resends
 * the whole window every couple of seconds, so the chart slides along without a reload.
 * Beyond the live window, 24 h / 7 d / 30 d read the stored trend aggregates (tasks per step).
 * Animations are off: each update would otherwise re-animate every line.
 */
import { useMemo, useState } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ThroughputPoint } from '@/server/realtime/types';
import { formatCount, formatSpan } from '../format';
import { useHydrated } from '../useClock';
import { useTimeFormatter } from '../timePreference';
import { formatTick } from '../trends/trendsFormat';
import { useStoredRange, type ChartRange } from '../trends/useStoredRange';
import { TREND_RANGE_SPECS, type TrendsView } from '@/server/views/trend-types';

type Series = Exclude<keyof ThroughputPoint, 't'>;

const SERIES: { key: Series; label: string; color: string }[] = [
  { key: 'received', label: 'Received', color: 'var(--accent)' },
  { key: 'succeeded', label: 'Succeeded', color: 'var(--ok)' },
  { key: 'failed', label: 'Failed', color: 'var(--bad)' },
  { key: 'retried', label: 'Retried', color: 'var(--warn)' },
  { key: 'revoked', label: 'Revoked', color: 'var(--series-revoked)' },
];

const TICK_EVERY_S = 180;
const HEIGHT = 240;

interface TooltipEntry {
  dataKey?: unknown;
  value?: unknown;
}

const RANGES: { range: ChartRange; label: string }[] = [
  { range: 'live', label: '15 min' },
  { range: '24h', label: '24 h' },
  { range: '7d', label: '7 d' },
  { range: '30d', label: '30 d' },
];

/** Stored steps in the live chart's shape (received as counted transitions; revoked includes rejected). */
function storedThroughput(view: TrendsView): { step: number; points: ThroughputPoint[] } {
  return { step: view.step, points: view.series.map((p) => ({ t: p.t, received: p.received, succeeded: p.succeeded, failed: p.failed, retried: p.retried, revoked: p.revoked + p.rejected })) };
}

export function ThroughputChart({ points: live }: { points: ThroughputPoint[] }) {
  const hydrated = useHydrated();
  const time = useTimeFormatter();
  const { range, setRange, stored, error } = useStoredRange('/api/celeriac/trends', storedThroughput);
  const points = range === 'live' ? live : (stored?.points ?? []);
  const step = range === 'live' ? 10 : (stored?.step ?? 60);
  const tick = (t: number) => (range === 'live' ? time.clock(t, false) : formatTick(t, range, time.utc));
  const [hidden, setHidden] = useState<ReadonlySet<Series>>(() => new Set());

  const totals = useMemo(() => {
    const sums = { received: 0, succeeded: 0, failed: 0, retried: 0, revoked: 0 } as Record<Series, number>;
    for (const p of points) for (const s of SERIES) sums[s.key] += p[s.key];
    return sums;
  }, [points]);

  const ticks = useMemo(() => (range === 'live' ? points.filter((p) => p.t % TICK_EVERY_S === 0).map((p) => p.t) : undefined), [points, range]);
  const first = points[0]?.t ?? 0;
  const last = points[points.length - 1]?.t ?? 0;

  const toggle = (key: Series) =>
    setHidden((prev) => {
      const next = new Set(prev);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });

  return (
    <section className="panel ov-card ov-chart" data-testid="throughput-chart" aria-labelledby="ov-throughput-title">
      <header className="ov-card__header">
        <h2 id="ov-throughput-title" className="ov-card__title">
          Throughput
        </h2>
        <span className="ov-card__meta">
          {range === 'live' ? 'events per 10 s · last 15 min' : error !== null ? error : stored === null ? 'Loading…' : `tasks per ${formatSpan(step)} · stored`} · times in{' '}
          <span data-testid="chart-zone">{time.zone(last)}</span>
        </span>
        <div className="segmented" role="group" aria-label="Range" data-testid="throughput-range">
          {RANGES.map((r) => (
            <button key={r.range} type="button" className="segmented__option" aria-pressed={range === r.range} data-range={r.range} onClick={() => setRange(r.range)}>
              {r.label}
            </button>
          ))}
        </div>
      </header>
      <div className="ov-legend" role="group" aria-label="Series (click to show or hide)">
        {SERIES.map((s) => (
          <button
            key={s.key}
            type="button"
            className="ov-legend__item"
            aria-pressed={!hidden.has(s.key)}
            onClick={() => toggle(s.key)}
            data-series={s.key}
            data-total={totals[s.key]}
            title={`${hidden.has(s.key) ? 'Show' : 'Hide'} ${s.label.toLowerCase()}`}
          >
            <span className="ov-legend__swatch" style={{ background: s.color }} aria-hidden="true" />
            <span className="ov-legend__label">{s.label}</span>
            <span className="ov-legend__total">{formatCount(totals[s.key])}</span>
          </button>
        ))}
      </div>
      <div className="ov-chart__plot" style={{ height: HEIGHT }}>
        {hydrated ? (
          <ResponsiveContainer width="100%" height={HEIGHT}>
            <LineChart data={points} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
              <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
              <XAxis
                dataKey="t"
                type="number"
                scale="time"
                domain={[first, last]}
                ticks={ticks}
                tickFormatter={tick}
                tick={{ fill: 'var(--muted)', fontSize: 11 }}
                tickLine={false}
                axisLine={{ stroke: 'var(--border-strong)' }}
                minTickGap={24}
              />
              <YAxis allowDecimals={false} width={40} tick={{ fill: 'var(--muted)', fontSize: 11 }} tickLine={false} axisLine={false} tickFormatter={(v: number) => formatCount(v)} />
              <Tooltip
                isAnimationActive={false}
                cursor={{ stroke: 'var(--border-strong)', strokeWidth: 1 }}
                content={({ active, label, payload }) => {
                  if (!active || typeof label !== 'number') return null;
                  const entries = (payload ?? []) as readonly TooltipEntry[];
                  return (
                    <div className="ov-tooltip">
                      <p className="ov-tooltip__time">
                        {range === 'live' ? `${time.clock(label)} – ${time.clock(label + step)}` : `${formatTick(label, range, time.utc)} – ${formatTick(label + step, range, time.utc)}`}{' '}
                        {time.zone(label)}
                      </p>
                      <ul>
                        {SERIES.filter((s) => !hidden.has(s.key)).map((s) => {
                          const entry = entries.find((e) => e.dataKey === s.key);
                          const value = typeof entry?.value === 'number' ? entry.value : 0;
                          return (
                            <li key={s.key} className={value === 0 ? 'ov-tooltip__zero' : undefined}>
                              <span className="ov-legend__swatch" style={{ background: s.color }} aria-hidden="true" />
                              <span>{s.label}</span>
                              <strong>{formatCount(value)}</strong>
                            </li>
                          );
                        })}
                      </ul>
                    </div>
                  );
                }}
              />
              {SERIES.map((s) => (
                <Line
                  key={s.key}
                  dataKey={s.key}
                  name={s.label}
                  type="monotone"
                  stroke={s.color}
                  strokeWidth={s.key === 'failed' ? 2 : 1.6}
                  dot={false}
                  activeDot={{ r: 3, strokeWidth: 0, fill: s.color }}
                  hide={hidden.has(s.key)}
                  isAnimationActive={false}
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        ) : null}
      </div>
      <p className="visually-hidden">
        {range === 'live' ? 'Last 15 minutes' : `Last ${formatSpan(TREND_RANGE_SPECS[range].seconds)}`}: {SERIES.map((s) => `${formatCount(totals[s.key])} ${s.label.toLowerCase()}`).join(', ')}.
      </p>
    </section>
  );
}
