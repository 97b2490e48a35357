import styles from './tasks.module.css';

const TONES: Record<string, string> = {
  PENDING: 'idle',
  RECEIVED: 'queued',
  STARTED: 'busy',
  SUCCESS: 'ok',
  FAILURE: 'bad',
  RETRY: 'warn',
  REVOKED: 'revoked',
  REJECTED: 'bad',
};

/** A task state as a coloured pill. The state string comes from events: always rendered as text. */
export function TaskStateBadge({ state, testId }: { state: string; testId?: string }) {
  const tone = TONES[state] ?? 'idle';
  return (
    <span className={`${styles.state} ${styles[`state--${tone}`] ?? ''}`} data-testid={testId} data-state={state}>
      <span className={styles.stateDot} aria-hidden="true" />
      {state}
    </span>
  );
}
