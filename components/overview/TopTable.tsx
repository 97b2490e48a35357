import { OverviewCard } from '../OverviewCard';
import { formatCount } from '../format';

export interface TopRow {
  key: string;
  label: string;
  count: number;
}

/** A ranked list (top failing tasks, top exceptions) with a share bar per row. */
export function TopTable({ title, column, rows, testId, mono, emptyText }: { title: string; column: string; rows: TopRow[]; testId: string; mono?: boolean; emptyText: string }) {
  const total = rows.reduce((sum, r) => sum + r.count, 0);
  const max = Math.max(1, ...rows.map((r) => r.count));
  return (
    <OverviewCard title={title} meta="last 5 min" testId={testId}>
      {rows.length === 0 ? (
        <p className="ov-empty ov-empty--ok">
          <svg viewBox="0 0 16 16" aria-hidden="true" className="ov-empty__icon">
            <path d="M3.5 8.4 6.6 11.4 12.5 4.9" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          {emptyText}
        </p>
      ) : (
        <table className="table ov-top">
          <thead>
            <tr>
              <th scope="col">{column}</th>
              <th scope="col" className="num">
                Failures
              </th>
              <th scope="col" className="ov-top__share-col">
                <span className="visually-hidden">Share</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.key} data-testid={`${testId}-row`} data-name={row.label} data-value={row.count}>
                <td className={`ov-top__label${mono ? ' ov-top__label--mono' : ''}`} title={row.label}>
                  {row.label}
                </td>
                <td className="num ov-top__count">{formatCount(row.count)}</td>
                <td className="ov-top__share" title={`${Math.round((row.count / Math.max(1, total)) * 100)}% of failures listed`}>
                  <span className="ov-top__bar" style={{ width: `${(row.count / max) * 100}%` }} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </OverviewCard>
  );
}
