'use client';

/**
 * One trend over the selected range: a line per series of this period, and the same series of
 * the previous period dashed, shifted onto this period's time axis for comparison.
 */
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { TrendPoint, TrendRange } from '@/server/views/trend-types';
import { useHydrated } from '../useClock';
import { useTimeFormatter } from '../timePreference';
import { formatTick } from './trendsFormat';

export interface ChartSeries {
  key: string;
  label: string;
  color: string;
  value: (point: TrendPoint) => number | null;
}

const HEIGHT = 200;

interface Row {
  t: number;
  [key: string]: number | null;
}

export function TrendChart({
  title,
  meta,
  testId,
  range,
  series,
  current,
  previous,
  format,
  sparse = false,
  yFloor = 1,
}: {
  title: string;
  meta: string;
  testId: string;
  range: TrendRange;
  series: ChartSeries[];
  current: TrendPoint[];
  previous: TrendPoint[];
  format: (value: number) => string;
  /**
   * Values exist only where tasks ran (percentiles, ratios): steps without any are joined over,
   * and every value gets a dot, so a lone busy hour is still seen.
   */
  sparse?: boolean;
  /** The y axis reaches at least this far, so an empty or flat-zero range is drawn at a sensible scale. */
  yFloor?: number;
}) {
  const hydrated = useHydrated();
  const time = useTimeFormatter();
  // The previous period lines up with this one point for point (same step, same count).
  const rows: Row[] = current.map((point, index) => {
    const row: Row = { t: point.t };
    const before = previous[index];
    for (const s of series) {
      row[s.key] = s.value(point);
      row[`${s.key}__previous`] = before ? s.value(before) : null;
    }
    return row;
  });
  const first = rows[0]?.t ?? 0;
  const last = rows[rows.length - 1]?.t ?? 0;
  const titleId = `${testId}-title`;
  return (
    <section className="panel ov-card" data-testid={testId} aria-labelledby={titleId}>
      <header className="ov-card__header">
        <h2 id={titleId} className="ov-card__title">
          {title}
        </h2>
        <span className="ov-card__meta">{meta} · dashed: previous period</span>
      </header>
      <div className="ov-legend" aria-hidden="true">
        {series.map((s) => (
          <span key={s.key} className="ov-legend__item">
            <span className="ov-legend__swatch" style={{ background: s.color }} />
            <span className="ov-legend__label">{s.label}</span>
          </span>
        ))}
      </div>
      <div className="ov-chart__plot" style={{ height: HEIGHT }}>
        {hydrated ? (
          <ResponsiveContainer width="100%" height={HEIGHT}>
            <LineChart data={rows} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
              <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
              <XAxis
                dataKey="t"
                type="number"
                scale="time"
                domain={[first, last]}
                tickFormatter={(t: number) => formatTick(t, range, time.utc)}
                tick={{ fill: 'var(--muted)', fontSize: 11 }}
                tickLine={false}
                axisLine={{ stroke: 'var(--border-strong)' }}
                minTickGap={32}
              />
              <YAxis
                width={56}
                domain={[0, (dataMax: number) => Math.max(dataMax, yFloor)]}
                tick={{ fill: 'var(--muted)', fontSize: 11 }}
                tickLine={false}
                axisLine={false}
                tickFormatter={(v: number) => format(v)}
              />
              <Tooltip
                isAnimationActive={false}
                labelFormatter={(t) => (typeof t === 'number' ? `${formatTick(t, range, time.utc)} ${time.zone(t)}` : '')}
                formatter={(value, name) => [typeof value === 'number' ? format(value) : '–', String(name)]}
                contentStyle={{ background: 'var(--surface)', border: '1px solid var(--border-strong)', fontSize: 12 }}
              />
              {series.map((s) => (
                <Line
                  key={s.key}
                  dataKey={s.key}
                  name={s.label}
                  type="monotone"
                  stroke={s.color}
                  strokeWidth={1.8}
                  dot={sparse ? { r: 2, strokeWidth: 0, fill: s.color } : false}
                  connectNulls={sparse}
                  isAnimationActive={false}
                />
              ))}
              {series.map((s) => (
                <Line
                  key={`${s.key}__previous`}
                  dataKey={`${s.key}__previous`}
                  name={`${s.label} (previous)`}
                  type="monotone"
                  stroke={s.color}
                  strokeOpacity={0.55}
                  strokeDasharray="4 3"
                  strokeWidth={1.2}
                  dot={false}
                  connectNulls={sparse}
                  isAnimationActive={false}
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        ) : null}
      </div>
    </section>
  );
}
