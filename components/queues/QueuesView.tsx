'use client';

/**
 * The live queues view: server-rendered from the queue monitor's snapshot, then replaced by every
 * `queues:snapshot` / `queues:update` (the whole, small state each time).
 */
import { useMemo, useState } from 'react';
import { VIEW_EVENTS, type QueuesSnapshot } from '@/server/realtime/types';
import { postControl } from '../api';
import { Banner } from '../Banner';
import { EmptyState } from '../EmptyState';
import { formatCount, formatSpan } from '../format';
import { LiveIndicator } from '../LiveIndicator';
import { PageHeader } from '../PageHeader';
import { RelativeTime } from '../Timestamps';
import { ClockProvider } from '../useClock';
import { useLiveView } from '../useLiveView';
import { ActionOutcome, type ShownOutcome } from './ActionOutcome';
import { ConfirmDialog } from './ConfirmDialog';
import { QueueChart } from './QueueChart';
import styles from './queues.module.css';

type Queue = QueuesSnapshot['queues'][number];
type Pending = { kind: 'pause' | 'resume' | 'purge'; queue: Queue };

const SOURCE_TITLES: Record<string, string> = {
  workers: 'A worker consumes from it',
  config: 'Named with --queue',
  broker: 'Found on the broker',
  earlier: 'Seen earlier, no longer named by any source',
};

function Priorities({ byPriority }: { byPriority: Record<string, number> | null }) {
  if (!byPriority) return <span className="muted">–</span>;
  const steps = Object.entries(byPriority).sort((a, b) => Number(a[0]) - Number(b[0]));
  return (
    <span className={styles.priorities}>
      {steps.map(([step, count]) => (
        <span key={step} className={count === 0 ? styles.prioZero : styles.prio} title={`Priority ${step}: ${formatCount(count)}`}>
          <span className={styles.prioStep}>{step}</span>
          {formatCount(count)}
        </span>
      ))}
    </span>
  );
}

function NumCell({ value, label }: { value: number | null; label: string }) {
  if (value === null)
    return (
      <td className="num muted" data-label={label}>
        –
      </td>
    );
  return (
    <td className={value === 0 ? 'num num--zero' : 'num'} data-label={label}>
      {formatCount(value)}
    </td>
  );
}

export function QueuesView({ initial, serverNow }: { initial: QueuesSnapshot; serverNow: number }) {
  const [snapshot, setSnapshot] = useState(initial);
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ShownOutcome | null>(null);
  /** Pause state from our own actions, until a push from the server says the same. */
  const [pausedOverride, setPausedOverride] = useState<Record<string, boolean>>({});
  const receive = (s: QueuesSnapshot) => {
    setSnapshot(s);
    setPausedOverride((o) => {
      const keep = Object.entries(o).filter(([name, paused]) => s.queues.find((q) => q.name === name)?.paused !== paused);
      return keep.length === Object.keys(o).length ? o : Object.fromEntries(keep);
    });
  };
  const socketState = useLiveView('queues', {
    [VIEW_EVENTS.queuesSnapshot]: receive,
    [VIEW_EVENTS.queuesUpdate]: receive,
  });

  const queues = useMemo(
    () => snapshot.queues.map((q) => (q.name in pausedOverride && pausedOverride[q.name] !== q.paused ? { ...q, paused: Boolean(pausedOverride[q.name]) } : q)),
    [snapshot.queues, pausedOverride],
  );
  const names = useMemo(() => snapshot.queues.map((q) => q.name), [snapshot.queues]);
  const showPriority = queues.some((q) => q.byPriority !== null);
  const showConsumers = queues.some((q) => q.consumers !== null);
  const showReadyUnacked = queues.some((q) => q.unacked !== null);
  const showOldest = queues.some((q) => q.oldestAgeSeconds !== null) || showPriority;
  const total = queues.reduce((sum, q) => sum + q.messages, 0);
  const pausedCount = queues.filter((q) => q.paused).length;
  const controls = !snapshot.readOnly;

  const run = async (p: Pending) => {
    setBusy(true);
    const name = p.queue.name;
    const path = `/api/queues/${p.kind}/${encodeURIComponent(name)}`;
    const result = await postControl(path, p.kind === 'purge' ? { form: { confirm: name } } : {});
    setBusy(false);
    setPending(null);
    setOutcome({ ...result, action: `${p.kind}-queue`, target: name });
    if (result.ok && p.kind !== 'purge') setPausedOverride((o) => ({ ...o, [name]: p.kind === 'pause' }));
  };

  return (
    <ClockProvider serverNow={serverNow}>
      {snapshot.error ? (
        <Banner tone="plain" testId="queues-error" title="Cannot read queue lengths from the broker" reason={snapshot.error}>
          {snapshot.updatedAt !== null ? (
            <>
              Numbers below are from the last good poll, <RelativeTime at={snapshot.updatedAt} />.
            </>
          ) : (
            'No poll has succeeded yet.'
          )}
        </Banner>
      ) : null}
      <PageHeader title="Queues" aside={<LiveIndicator state={socketState} />}>
        <p className="summary" data-testid="queues-summary">
          <span className="summary__item">
            <strong>{formatCount(queues.length)}</strong> {queues.length === 1 ? 'queue' : 'queues'}
          </span>
          <span className="summary__item">
            <strong>{formatCount(total)}</strong> waiting
          </span>
          {pausedCount > 0 ? (
            <span className={`summary__item ${styles.summaryPaused}`}>
              <strong>{formatCount(pausedCount)}</strong> paused
            </span>
          ) : null}
          <span className="summary__item">
            {snapshot.updatedAt !== null ? (
              <>
                polled&nbsp;
                <RelativeTime at={snapshot.updatedAt} />
              </>
            ) : (
              'waiting for the first poll'
            )}
          </span>
          {snapshot.readOnly ? <span className="summary__item">read-only</span> : null}
        </p>
      </PageHeader>

      {outcome ? <ActionOutcome outcome={outcome} onDismiss={() => setOutcome(null)} /> : null}

      <QueueChart history={snapshot.history} names={names} />

      <section className="panel" aria-label="Queues">
        <div className="table-scroll">
          <table className={`table table--cards ${styles.table}`} data-testid="queues-table">
            <thead>
              <tr>
                <th scope="col">Queue</th>
                <th scope="col" className="num" title="Messages waiting in the queue">
                  Messages
                </th>
                {showPriority ? (
                  <th scope="col" title="Waiting messages per priority step (Redis)">
                    By priority
                  </th>
                ) : null}
                {showConsumers ? (
                  <th scope="col" className="num">
                    Consumers
                  </th>
                ) : null}
                {showReadyUnacked ? (
                  <>
                    <th scope="col" className="num" title="Waiting to be delivered">
                      Ready
                    </th>
                    <th scope="col" className="num" title="Delivered, not yet acknowledged">
                      Unacked
                    </th>
                  </>
                ) : null}
                {showOldest ? (
                  <th scope="col" className="num" title="How long the next message out has waited">
                    Oldest waiting
                  </th>
                ) : null}
                <th scope="col">Sources</th>
                {controls ? (
                  <th scope="col" className={styles.actionsHead}>
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {queues.map((q) => (
                <tr key={q.name} data-testid="queue-row" data-queue={q.name} data-messages={q.messages} data-paused={q.paused ? 'true' : 'false'} className={q.exists ? undefined : styles.rowMissing}>
                  <th scope="row" className={styles.nameCell}>
                    <span className={styles.queueName}>{q.name}</span>
                    {q.paused ? (
                      <span className={`badge badge--small badge--warn ${styles.mark}`} data-testid="queue-paused-badge" title="Workers do not consume from this queue">
                        Paused
                      </span>
                    ) : null}
                    {!q.exists ? (
                      <span className={`badge badge--small badge--idle ${styles.mark}`} title="The broker says this queue does not exist">
                        Missing
                      </span>
                    ) : null}
                  </th>
                  <td data-label="Messages" className={`num ${styles.messages} ${q.messages === 0 ? 'num--zero' : ''}`}>
                    {formatCount(q.messages)}
                  </td>
                  {showPriority ? (
                    <td data-label="By priority">
                      <Priorities byPriority={q.byPriority} />
                    </td>
                  ) : null}
                  {showConsumers ? <NumCell value={q.consumers} label="Consumers" /> : null}
                  {showReadyUnacked ? (
                    <>
                      <NumCell value={q.ready} label="Ready" />
                      <NumCell value={q.unacked} label="Unacked" />
                    </>
                  ) : null}
                  {showOldest ? (
                    <td data-label="Oldest waiting" className={`num ${q.oldestAgeSeconds !== null && q.oldestAgeSeconds >= 60 ? styles.oldWarn : ''}`}>
                      {q.oldestAgeSeconds === null ? <span className="muted">–</span> : formatSpan(q.oldestAgeSeconds)}
                    </td>
                  ) : null}
                  <td data-label="Sources">
                    <span className={styles.sources}>
                      {q.sources.map((s) => (
                        <span key={s} className={styles.source} title={SOURCE_TITLES[s] ?? s}>
                          {s}
                        </span>
                      ))}
                    </span>
                  </td>
                  {controls ? (
                    <td className={styles.actions}>
                      {q.paused ? (
                        <button type="button" className="button" onClick={() => setPending({ kind: 'resume', queue: q })} data-testid="queue-resume">
                          Resume
                        </button>
                      ) : (
                        <button type="button" className="button" onClick={() => setPending({ kind: 'pause', queue: q })} data-testid="queue-pause">
                          Pause
                        </button>
                      )}
                      <button type="button" className="button button--danger-ghost" onClick={() => setPending({ kind: 'purge', queue: q })} data-testid="queue-purge">
                        Purge
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {queues.length === 0 ? (
          <EmptyState title="No queues known yet" testId="queues-empty">
            <p>
              Queues appear when a worker reports what it consumes, when the broker has them, or when Celeriac is started with <code>--queue &lt;name&gt;</code>.
            </p>
          </EmptyState>
        ) : null}
      </section>

      {pending ? (
        <ConfirmDialog
          title={pending.kind === 'pause' ? `Pause queue “${pending.queue.name}”?` : pending.kind === 'resume' ? `Resume queue “${pending.queue.name}”?` : `Purge queue “${pending.queue.name}”?`}
          confirmLabel={pending.kind === 'pause' ? 'Pause queue' : pending.kind === 'resume' ? 'Resume queue' : 'Purge messages'}
          danger={pending.kind === 'purge'}
          typeToConfirm={pending.kind === 'purge' ? pending.queue.name : undefined}
          busy={busy}
          onConfirm={() => void run(pending)}
          onCancel={() => setPending(null)}
        >
          {pending.kind === 'pause' ? (
            <p>
              Every worker consuming from this queue stops taking new messages from it (running tasks finish). Messages keep arriving and wait until the queue is resumed. Workers that start while it
              is paused are paused too.
            </p>
          ) : pending.kind === 'resume' ? (
            <p>The workers that were consuming from this queue start taking messages from it again.</p>
          ) : (
            <p>
              This deletes all <strong>{formatCount(pending.queue.messages)}</strong> waiting message
              {pending.queue.messages === 1 ? '' : 's'} from the queue. They cannot be recovered. Tasks already running are not affected.
            </p>
          )}
        </ConfirmDialog>
      ) : null}
    </ClockProvider>
  );
}
