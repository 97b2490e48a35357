'use client';

import Link from 'next/link';
import { Fragment, memo, type ReactNode } from 'react';
import type { WorkerSummary } from '@/server/realtime/types';
import { formatCount, formatLoadavg, splitHostname } from './format';
import { StatusBadge } from './StatusBadge';
import { RelativeTime } from './Timestamps';

type Counter = 'active' | 'processed' | 'succeeded' | 'failed' | 'retried';

/** A right-aligned counter cell; `data-value` carries the raw number for tests and tooling. */
function CounterCell({ worker, field, tone }: { worker: WorkerSummary; field: Counter; tone?: 'bad' | 'warn' | 'busy' }) {
  const value = worker[field];
  const className = value > 0 && tone ? `num num--${tone}` : value === 0 ? 'num num--zero' : 'num';
  return (
    <td className={className} data-testid={`worker-${field}`} data-value={value}>
      {formatCount(value)}
    </td>
  );
}

/** Lets long hostnames wrap after "." "@" "_" (hyphens already allow a break) rather than mid-word. */
function withBreaks(text: string): ReactNode {
  const parts = text.split(/(?<=[.@_])/);
  if (parts.length === 1) return text;
  return parts.map((part, i) => (
    // biome-ignore lint/suspicious/noArrayIndexKey: positional parts of one rendered value
    <Fragment key={i}>
      {i > 0 ? <wbr /> : null}
      {part}
    </Fragment>
  ));
}

function hostnameTitle(worker: WorkerSummary): string {
  return worker.pid === null ? worker.hostname : `${worker.hostname} (pid ${worker.pid})`;
}

function versionTitle(worker: WorkerSummary): string | undefined {
  const parts = [worker.swIdent, worker.swVer].filter(Boolean).join(' ');
  if (!parts) return undefined;
  return worker.swSys ? `${parts} on ${worker.swSys}` : parts;
}

/** One worker in the workers table. Re-renders only when its row object changes (or the clock ticks its time cell). */
export const WorkerRow = memo(function WorkerRow({ worker }: { worker: WorkerSummary }) {
  const { name, host } = splitHostname(worker.hostname);
  const load = formatLoadavg(worker.loadavg);
  return (
    <tr className={`worker-row worker-row--${worker.status}`} data-testid="worker-row" data-hostname={worker.hostname} data-status={worker.status}>
      <th scope="row" className="cell-host" title={hostnameTitle(worker)}>
        <Link href={`/worker/${encodeURIComponent(worker.hostname)}`} className="host__link" data-testid="worker-link">
          {name ? <span className="host__name">{name}</span> : null}
          <span className="host__host">{withBreaks(host)}</span>
        </Link>
      </th>
      <td data-testid="worker-status" data-status={worker.status}>
        <StatusBadge status={worker.status} />
      </td>
      <CounterCell worker={worker} field="active" tone={worker.status === 'online' ? 'busy' : undefined} />
      <CounterCell worker={worker} field="processed" />
      <CounterCell worker={worker} field="succeeded" />
      <CounterCell worker={worker} field="failed" tone="bad" />
      <CounterCell worker={worker} field="retried" tone="warn" />
      <td className="num loadavg" data-testid="worker-loadavg" title="1, 5 and 15 minute load averages">
        {load ? (
          load.map((value, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: load averages are the 1-, 5- and 15-minute values, in that order
            <span key={i} className="loadavg__value">
              {value}
            </span>
          ))
        ) : (
          <span className="muted">–</span>
        )}
      </td>
      <td className="cell-time" data-testid="worker-heartbeat">
        {worker.lastHeartbeat === null ? <span className="muted">never</span> : <RelativeTime at={worker.lastHeartbeat} />}
      </td>
      <td className="cell-queues" data-testid="worker-queues">
        {worker.queues === null ? <span className="muted">–</span> : worker.queues.length === 0 ? <span className="muted">none (paused?)</span> : worker.queues.join(', ')}
      </td>
      <td className="num" data-testid="worker-pool" data-value={worker.poolSize ?? ''}>
        {worker.poolSize ?? <span className="muted">–</span>}
      </td>
      <td className="cell-version" data-testid="worker-version" title={versionTitle(worker)}>
        {worker.swVer ?? <span className="muted">–</span>}
      </td>
    </tr>
  );
});
