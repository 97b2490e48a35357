import styles from './tasks.module.css';

/** The badge tone (app/globals.css) of each state; REVOKED is also struck through. */
const TONES: Record<string, string> = {
  PENDING: 'idle',
  RECEIVED: 'plain',
  STARTED: 'busy',
  SUCCESS: 'ok',
  FAILURE: 'bad',
  RETRY: 'warn',
  REVOKED: 'idle',
  REJECTED: 'bad',
};

/** A task state as a coloured pill. The state string comes from events: always rendered as text. */
export function TaskStateBadge({ state, testId }: { state: string; testId?: string }) {
  const tone = TONES[state] ?? 'idle';
  return (
    <span className={`badge badge--${tone} ${styles.state} ${state === 'REVOKED' ? styles.revoked : ''}`} data-testid={testId} data-state={state}>
      <span className="badge__dot" aria-hidden="true" />
      {state}
    </span>
  );
}
