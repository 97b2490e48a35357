'use client';

/**
 * The Trends page: throughput, failure ratio, runtime and queue-wait percentiles per task name
 * over 1 h / 24 h / 7 d / 30 d, against the previous period, with the slowest and most failing
 * task names. It starts from the server-rendered answer and asks /api/celeriac/trends again when
 * the range or the task name changes (both kept in the URL) and every 30 s.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { TREND_RANGE_SPECS, TREND_RANGES, type TrendNameSummary, type TrendsView } from '@/server/views/trend-types';
import { errorText, getJson } from '../api';
import { formatCount, formatSpan } from '../format';
import { PageHeader } from '../PageHeader';
import { TrendChart, type ChartSeries } from './TrendChart';
import { changeRatio, formatChange, formatDuration, formatRatio, RANGE_LABELS, selectionQuery, type TrendsSelection } from './trendsFormat';

const REFRESH_MS = 30_000;
const TABLE_ROWS = 10;

const THROUGHPUT: ChartSeries[] = [
  { key: 'succeeded', label: 'Succeeded', color: 'var(--ok)', value: (p) => p.succeeded },
  { key: 'failed', label: 'Failed', color: 'var(--bad)', value: (p) => p.failed },
  { key: 'retried', label: 'Retried', color: 'var(--warn)', value: (p) => p.retried },
  { key: 'revoked', label: 'Revoked', color: 'var(--series-revoked)', value: (p) => p.revoked + p.rejected },
];
const FAILURE: ChartSeries[] = [{ key: 'ratio', label: 'Failure ratio', color: 'var(--bad)', value: (p) => p.failureRatio }];
const percentileSeries = (of: 'runtime' | 'wait'): ChartSeries[] => [
  { key: 'p50', label: 'p50', color: 'var(--accent)', value: (p) => p[of].p50 },
  { key: 'p95', label: 'p95', color: 'var(--warn)', value: (p) => p[of].p95 },
  { key: 'p99', label: 'p99', color: 'var(--bad)', value: (p) => p[of].p99 },
];
const RUNTIME = percentileSeries('runtime');
const WAIT = percentileSeries('wait');

export function TrendsPage({ initialSelection, initialData, initialError }: { initialSelection: TrendsSelection; initialData: TrendsView | null; initialError: string | null }) {
  const [selection, setSelection] = useState(initialSelection);
  const [data, setData] = useState(initialData);
  const [error, setError] = useState(initialError);
  const [loading, setLoading] = useState(false);
  const request = useRef(0);

  const load = useCallback(async (next: TrendsSelection) => {
    const id = ++request.current;
    setLoading(true);
    try {
      const answer = await getJson<TrendsView>('/api/celeriac/trends', { query: selectionQuery(next) });
      if (id !== request.current) return; // a newer selection is on its way
      setData(answer);
      setError(null);
    } catch (e) {
      if (id === request.current) setError(errorText(e));
    } finally {
      if (id === request.current) setLoading(false);
    }
  }, []);

  const select = (next: TrendsSelection) => {
    setSelection(next);
    const search = `?${new URLSearchParams(selectionQuery(next)).toString()}`;
    if (search !== window.location.search) window.history.replaceState(null, '', `${window.location.pathname}${search}${window.location.hash}`);
    void load(next);
  };

  useEffect(() => {
    const timer = setInterval(() => void load(selection), REFRESH_MS);
    return () => clearInterval(timer);
  }, [load, selection]);

  const names = data?.names ?? [];
  const nameChoices = [...new Set([...names.map((n) => n.name).filter((n) => n !== ''), ...(selection.name ? [selection.name] : [])])].sort();
  const span = formatSpan(TREND_RANGE_SPECS[selection.range].seconds);

  return (
    <>
      <PageHeader title="Trends">
        <p className="summary">
          <span className="summary__item">Per-minute aggregates by task name, kept beyond the tasks themselves.</span>
        </p>
      </PageHeader>
      <div className="panel trends-toolbar toolbar" data-testid="trends-toolbar" data-loading={loading ? 'true' : 'false'}>
        <div className="segmented" role="group" aria-label="Range">
          {TREND_RANGES.map((range) => (
            <button key={range} type="button" className="segmented__option" aria-pressed={selection.range === range} data-range={range} onClick={() => select({ ...selection, range })}>
              {RANGE_LABELS[range]}
            </button>
          ))}
        </div>
        <label className="trends-toolbar__name">
          <span className="visually-hidden">Task name</span>
          <select className="input" data-testid="trends-name" value={selection.name ?? ''} onChange={(e) => select({ ...selection, name: e.target.value === '' ? null : e.target.value })}>
            <option value="">All task names</option>
            {nameChoices.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <span className="toolbar__count">{loading ? 'Loading…' : data ? `last ${span}, compared with the ${span} before` : ''}</span>
      </div>
      {data?.memoryOnlySeconds ? (
        <p className="trends-note" data-testid="trends-memory-note">
          Kept in memory (<code>--store memory</code>): only what this process saw, at most the last {formatSpan(data.memoryOnlySeconds)}.
        </p>
      ) : null}
      {error ? (
        <p className="trends-note trends-note--error" role="alert" data-testid="trends-error">
          {error}
        </p>
      ) : null}
      {data ? <TrendsBody data={data} onSelectName={(name) => select({ ...selection, name })} /> : null}
    </>
  );
}

function TrendsBody({ data, onSelectName }: { data: TrendsView; onSelectName: (name: string) => void }) {
  const { totals } = data;
  const previous = data.previous.totals;
  const stepLabel = `per ${formatSpan(data.step)}`;
  const figures: { key: string; label: string; value: string; current: number | null; before: number | null; beforeText: string; worseWhenUp: boolean }[] = [
    { key: 'finished', label: 'Finished', value: formatCount(totals.finished), current: totals.finished, before: previous.finished, beforeText: formatCount(previous.finished), worseWhenUp: false },
    { key: 'failed', label: 'Failed', value: formatCount(totals.failed), current: totals.failed, before: previous.failed, beforeText: formatCount(previous.failed), worseWhenUp: true },
    {
      key: 'failure-ratio',
      label: 'Failure ratio',
      value: formatRatio(totals.failureRatio),
      current: totals.failureRatio,
      before: previous.failureRatio,
      beforeText: formatRatio(previous.failureRatio),
      worseWhenUp: true,
    },
    {
      key: 'runtime-p95',
      label: 'Runtime p95',
      value: formatDuration(totals.runtime.p95),
      current: totals.runtime.p95,
      before: previous.runtime.p95,
      beforeText: formatDuration(previous.runtime.p95),
      worseWhenUp: true,
    },
    {
      key: 'wait-p95',
      label: 'Wait p95',
      value: formatDuration(totals.wait.p95),
      current: totals.wait.p95,
      before: previous.wait.p95,
      beforeText: formatDuration(previous.wait.p95),
      worseWhenUp: true,
    },
  ];
  return (
    <>
      <dl className="stats trends-figures" data-testid="trends-figures" data-name={data.name ?? ''} data-range={data.range}>
        {figures.map((f) => {
          // Up from nothing counts as a rise (worse for failures and durations).
          const change = f.before === 0 && (f.current ?? 0) > 0 ? Number.POSITIVE_INFINITY : changeRatio(f.current, f.before);
          const tone = change === null || Math.abs(change) < 0.005 ? 'flat' : change > 0 === f.worseWhenUp ? 'worse' : 'better';
          return (
            <div key={f.key} className="stat" data-testid="trends-figure" data-figure={f.key} data-value={f.current ?? ''} data-previous={f.before ?? ''}>
              <dt>{f.label}</dt>
              <dd>{f.value}</dd>
              <dd className={`trends-change trends-change--${tone}`} data-testid="trends-change" title={`previous period: ${f.beforeText}`}>
                {formatChange(f.current, f.before)} <span className="trends-change__before">(was {f.beforeText})</span>
              </dd>
            </div>
          );
        })}
      </dl>
      <div className="trends-grid">
        <TrendChart
          title="Throughput"
          meta={`tasks ${stepLabel}`}
          testId="trends-chart-throughput"
          range={data.range}
          series={THROUGHPUT}
          current={data.series}
          previous={data.previous.series}
          format={formatCount}
        />
        <TrendChart
          title="Failure ratio"
          meta={`failed ÷ (succeeded + failed) ${stepLabel}`}
          testId="trends-chart-failure"
          sparse
          yFloor={0.05}
          range={data.range}
          series={FAILURE}
          current={data.series}
          previous={data.previous.series}
          format={formatRatio}
        />
        <TrendChart
          title="Runtime"
          meta={`p50 / p95 / p99 ${stepLabel}`}
          testId="trends-chart-runtime"
          sparse
          yFloor={0.01}
          range={data.range}
          series={RUNTIME}
          current={data.series}
          previous={data.previous.series}
          format={formatDuration}
        />
        <TrendChart
          title="Queue wait"
          meta={`started − received, p50 / p95 / p99 ${stepLabel}`}
          testId="trends-chart-wait"
          sparse
          yFloor={0.01}
          range={data.range}
          series={WAIT}
          current={data.series}
          previous={data.previous.series}
          format={formatDuration}
        />
      </div>
      <div className="ov-grid ov-grid--pair">
        <NameTable
          title="Slowest task names"
          testId="trends-slowest"
          rows={data.names.filter((n) => n.runtime.p95 !== null).sort((a, b) => (b.runtime.p95 ?? 0) - (a.runtime.p95 ?? 0))}
          selected={data.name}
          onSelect={onSelectName}
          emptyText="No runtimes in this range."
        />
        <NameTable
          title="Most failing task names"
          testId="trends-failing"
          rows={data.names.filter((n) => n.failed > 0).sort((a, b) => (b.failureRatio ?? 0) - (a.failureRatio ?? 0) || b.failed - a.failed)}
          selected={data.name}
          onSelect={onSelectName}
          emptyText="No task failed in this range."
        />
      </div>
    </>
  );
}

function NameTable({
  title,
  testId,
  rows,
  selected,
  onSelect,
  emptyText,
}: {
  title: string;
  testId: string;
  rows: TrendNameSummary[];
  selected: string | null;
  onSelect: (name: string) => void;
  emptyText: string;
}) {
  const titleId = `${testId}-title`;
  return (
    <section className="panel ov-card" data-testid={testId} aria-labelledby={titleId}>
      <header className="ov-card__header">
        <h2 id={titleId} className="ov-card__title">
          {title}
        </h2>
        <span className="ov-card__meta">click a name to select it</span>
      </header>
      {rows.length === 0 ? (
        <p className="ov-empty">{emptyText}</p>
      ) : (
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col" className="num">
                  Finished
                </th>
                <th scope="col" className="num">
                  Failed
                </th>
                <th scope="col" className="num">
                  Failure ratio
                </th>
                <th scope="col" className="num">
                  p50
                </th>
                <th scope="col" className="num">
                  p95
                </th>
                <th scope="col" className="num">
                  p99
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.slice(0, TABLE_ROWS).map((row) => (
                <tr key={row.name} data-testid={`${testId}-row`} data-name={row.name} aria-selected={row.name === selected}>
                  <td>
                    <button type="button" className="trends-name-link" onClick={() => onSelect(row.name)} title={`Show ${row.name || '(unknown name)'} only`}>
                      {row.name || '(unknown name)'}
                    </button>
                  </td>
                  <td className="num">{formatCount(row.finished)}</td>
                  <td className="num">{formatCount(row.failed)}</td>
                  <td className="num" data-value={row.failureRatio ?? ''}>
                    {formatRatio(row.failureRatio)}
                  </td>
                  <td className="num">{formatDuration(row.runtime.p50)}</td>
                  <td className="num" data-value={row.runtime.p95 ?? ''}>
                    {formatDuration(row.runtime.p95)}
                  </td>
                  <td className="num">{formatDuration(row.runtime.p99)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
