/**
 * The "revoke pending" mark. A revocation only tells workers to remember an id: the task is
 * discarded when a worker takes it, a running one finishes unless terminated. So between the
 * request and a worker's REVOKED event the task is not revoked, and the UI says what it is.
 */
import type { ReactNode } from 'react';
import type { RevocationView } from '@/server/state/task-record';
import { LocalTime } from '../Timestamps';
import styles from './tasks.module.css';

/** Celery workers forget revoked ids after this long (CELERY_WORKER_REVOKE_EXPIRES, default 3 h). */
const WORKER_REVOKE_EXPIRES_S = 10_800;

function workers(n: number): string {
  return `${n} worker${n === 1 ? '' : 's'}`;
}

/** A distinct badge next to the state: never the REVOKED badge, which only a worker's event earns. */
export function RevocationBadge({ revocation }: { revocation: RevocationView | null }) {
  if (!revocation || revocation.status === 'revoked') return null;
  if (revocation.status === 'too-late') {
    return (
      <span className={`${styles.revocation} ${styles.revocationLate}`} data-testid="revoke-too-late" title="A revocation was sent, but the task finished anyway">
        revoke too late
      </span>
    );
  }
  const title = revocation.terminate
    ? `Terminate (${revocation.signal ?? 'SIGTERM'}) sent to ${workers(revocation.workers)}; not revoked until a worker reports it`
    : `Revocation sent to ${workers(revocation.workers)}; discarded when a worker takes it, not revoked until a worker reports it`;
  return (
    <span className={`${styles.revocation} ${styles.revocationPending}`} data-testid="revoke-pending" title={title}>
      {revocation.terminate ? 'terminate pending' : 'revoke pending'}
    </span>
  );
}

/** What the task page says about a revocation, given the task's current state. */
export function RevocationNotice({ revocation, state, now, onTerminate }: { revocation: RevocationView | null; state: string; now: number; onTerminate: (() => void) | null }) {
  if (!revocation || revocation.status === 'revoked') return null;
  const sent = (
    <>
      sent <LocalTime at={revocation.requestedAt} />
    </>
  );
  let body: ReactNode;
  if (revocation.status === 'too-late') {
    body = (
      <>
        <strong>The revocation came too late.</strong> It was {sent}, but the task {state === 'SUCCESS' ? 'succeeded' : 'failed'} anyway: a worker had already started it, and a running task finishes
        unless it is terminated.
      </>
    );
  } else if (state === 'STARTED' && !revocation.terminate) {
    body = (
      <>
        <strong>Revoke pending — still running.</strong> The revocation was {sent} to {workers(revocation.workers)}, but the task is running and keeps running until it finishes: revoke without
        terminate only stops it from being run again.{' '}
        {onTerminate ? (
          <button type="button" className="button button--danger-ghost" onClick={onTerminate} data-testid="revocation-terminate">
            Terminate it
          </button>
        ) : null}
      </>
    );
  } else if (revocation.terminate && state === 'STARTED') {
    body = (
      <>
        <strong>Terminate pending.</strong> The {revocation.signal ?? 'SIGTERM'} signal was {sent} to {workers(revocation.workers)}; the task shows Revoked once its worker reports it.
      </>
    );
  } else if (revocation.workers === 0) {
    body = (
      <>
        <strong>Revoke pending — no worker heard it.</strong> The revocation was {sent}, but no worker acknowledged it. Workers that start later never hear of it (Celery keeps revoked ids only in
        running workers&apos; memory), so the task will run when a worker takes it. Revoke it again once a worker is online.
      </>
    );
  } else {
    body = (
      <>
        <strong>Revoke pending.</strong> The revocation was {sent} to {workers(revocation.workers)}; it will be discarded when a worker takes it. Until a worker reports it, the task is not revoked.
      </>
    );
  }
  const stale = revocation.status === 'pending' && now - revocation.requestedAt > WORKER_REVOKE_EXPIRES_S;
  return (
    <section
      className={`panel ${styles.revocationNotice} ${revocation.status === 'too-late' ? styles.revocationNoticeLate : ''}`}
      role="status"
      data-testid="revocation-notice"
      data-status={revocation.status}
    >
      <p>{body}</p>
      {stale ? (
        <p className="muted" data-testid="revocation-stale">
          Sent more than 3 hours ago: Celery workers forget revoked ids after 3 hours by default (CELERY_WORKER_REVOKE_EXPIRES), so this revocation may no longer hold.
        </p>
      ) : null}
    </section>
  );
}
