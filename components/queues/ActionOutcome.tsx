'use client';

/** What the last control action did, with every worker's answer. */
import type { ControlReply } from '../api';
import styles from './queues.module.css';

export interface ShownOutcome extends ControlReply {
  action: string;
  target: string;
}

export function ActionOutcome({ outcome, onDismiss }: { outcome: ShownOutcome; onDismiss: () => void }) {
  const workers = Object.entries(outcome.workers).sort((a, b) => a[0].localeCompare(b[0]));
  return (
    <div
      className={`${styles.outcome} ${outcome.ok ? styles.outcomeOk : styles.outcomeBad}`}
      role="status"
      data-testid="action-outcome"
      data-ok={outcome.ok ? 'true' : 'false'}
      data-action={outcome.action}
    >
      <div className={styles.outcomeHead}>
        <span className={`badge badge--small ${outcome.ok ? 'badge--ok' : 'badge--bad'}`}>{outcome.ok ? 'Done' : 'Failed'}</span>
        <p className={styles.outcomeMessage}>{outcome.message}</p>
        <button type="button" className="button button--icon" onClick={onDismiss} aria-label="Dismiss">
          ×
        </button>
      </div>
      {workers.length > 0 ? (
        <ul className={styles.outcomeWorkers}>
          {workers.map(([worker, result]) => (
            <li key={worker} data-ok={result.ok ? 'true' : 'false'}>
              <span className={result.ok ? styles.dotOk : styles.dotBad} aria-hidden="true" />
              <span className={styles.mono}>{worker}</span>
              <span className={styles.outcomeWorkerMsg}>{result.message}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
