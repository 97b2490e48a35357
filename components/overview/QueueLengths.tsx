import Link from 'next/link';
import type { OverviewSnapshot } from '@/server/realtime/types';
import { formatCount } from '../format';

const MAX_ROWS = 10;

/** Messages waiting per queue, longest first, as a bar list. */
export function QueueLengths({ queues }: { queues: OverviewSnapshot['queues'] }) {
  const sorted = [...queues].sort((a, b) => b.messages - a.messages || a.name.localeCompare(b.name));
  const shown = sorted.slice(0, MAX_ROWS);
  const max = Math.max(1, ...shown.map((q) => q.messages));
  const total = queues.reduce((sum, q) => sum + q.messages, 0);
  return (
    <section className="panel ov-card" data-testid="queue-lengths" aria-labelledby="ov-queues-title">
      <header className="ov-card__header">
        <h2 id="ov-queues-title" className="ov-card__title">
          Queue lengths
        </h2>
        <span className="ov-card__meta">{queues.length === 0 ? 'no queues' : `${formatCount(total)} waiting · ${formatCount(queues.length)} ${queues.length === 1 ? 'queue' : 'queues'}`}</span>
      </header>
      {shown.length === 0 ? (
        <p className="ov-empty">No queues known yet. Queue lengths appear once Celeriac has polled the broker.</p>
      ) : (
        <ul className="ov-bars">
          {shown.map((q) => (
            <li key={q.name} className="ov-bar" data-queue={q.name} data-value={q.messages}>
              <span className="ov-bar__label" title={q.name}>
                {q.name}
              </span>
              <span className="ov-bar__track" aria-hidden="true">
                <span className={`ov-bar__fill${q.messages === 0 ? ' ov-bar__fill--zero' : ''}`} style={{ width: `${q.messages === 0 ? 0 : Math.max(2, (q.messages / max) * 100)}%` }} />
              </span>
              <span className={`ov-bar__value${q.messages === 0 ? ' num--zero' : ''}`}>{formatCount(q.messages)}</span>
            </li>
          ))}
        </ul>
      )}
      {sorted.length > MAX_ROWS ? (
        <p className="ov-card__footer">
          <Link href="/queues">All {formatCount(sorted.length)} queues →</Link>
        </p>
      ) : null}
    </section>
  );
}
