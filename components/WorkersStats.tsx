import { formatCount } from './format';
import type { WorkersTotals } from './workersView';

/** Cluster-wide figures above the table, summed over all workers (not just the filtered ones). */
export function WorkersStats({ totals }: { totals: WorkersTotals }) {
  const total = totals.online + totals.offline;
  return (
    <dl className="stats" data-testid="workers-stats">
      <div className="stat">
        <dt>Online workers</dt>
        <dd>
          {formatCount(totals.online)}
          <span className="stat__of"> / {formatCount(total)}</span>
        </dd>
      </div>
      <div className="stat" title="Tasks executing now on online workers">
        <dt>Active</dt>
        <dd className={totals.active > 0 ? 'stat--busy' : undefined}>{formatCount(totals.active)}</dd>
      </div>
      <div className="stat" title="Tasks received since Celeriac started">
        <dt>Processed</dt>
        <dd>{formatCount(totals.processed)}</dd>
      </div>
      <div className="stat">
        <dt>Succeeded</dt>
        <dd>{formatCount(totals.succeeded)}</dd>
      </div>
      <div className="stat">
        <dt>Failed</dt>
        <dd className={totals.failed > 0 ? 'stat--bad' : undefined}>{formatCount(totals.failed)}</dd>
      </div>
      <div className="stat">
        <dt>Retried</dt>
        <dd className={totals.retried > 0 ? 'stat--warn' : undefined}>{formatCount(totals.retried)}</dd>
      </div>
    </dl>
  );
}
