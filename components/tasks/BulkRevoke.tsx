'use client';

/**
 * Revoking every unfinished task that matches the tasks page's filters: a dry run counts them,
 * the user confirms that count, then the revocation is sent (POST /api/tasks/revoke). What the
 * server answers says what was sent and what will happen; nothing is revoked yet at that point.
 */
import { useCallback, useState } from 'react';
import { errorText, postJson } from '../api';
import { formatCount } from '../format';
import styles from './tasks.module.css';
import { filterParams, type TasksView } from './tasksView';

export type BulkRevokeState =
  | { step: 'idle' }
  | { step: 'counting' }
  | { step: 'confirm'; count: number }
  | { step: 'revoking'; count: number }
  | { step: 'done'; message: string; ok: boolean; pending?: boolean };

/** The dry run's answer: how many unfinished tasks match. */
interface BulkRevokeCount {
  count: number;
}

interface BulkRevokeReply {
  message?: string;
  count?: number;
  pending?: number;
}

export interface BulkRevoke {
  state: BulkRevokeState;
  /** Counts what `view`'s filters match (the dry run), then asks for confirmation. */
  start: (view: TasksView) => Promise<void>;
  /** Revokes what `view`'s filters match; `onRevoked` runs once the server accepted it. */
  confirm: (view: TasksView, count: number, onRevoked: () => void) => Promise<void>;
  /** Back to idle: the dialog closes (also whenever the filters change). */
  reset: () => void;
}

async function postBulk<Reply>(view: TasksView, dryRun: boolean): Promise<Reply> {
  return postJson<Reply>('/api/tasks/revoke', { form: { ...filterParams(view), ...(dryRun ? { dry_run: '1' } : {}) } });
}

export function useBulkRevoke(): BulkRevoke {
  const [state, setState] = useState<BulkRevokeState>({ step: 'idle' });

  const start = async (view: TasksView) => {
    setState({ step: 'counting' });
    try {
      const { count } = await postBulk<BulkRevokeCount>(view, true);
      setState(count === 0 ? { step: 'done', ok: true, message: 'No unfinished task matches these filters: nothing to revoke.' } : { step: 'confirm', count });
    } catch (e) {
      setState({ step: 'done', ok: false, message: errorText(e) });
    }
  };

  const confirm = async (view: TasksView, count: number, onRevoked: () => void) => {
    setState({ step: 'revoking', count });
    try {
      const body = await postBulk<BulkRevokeReply>(view, false);
      // The server's message says what was sent and what will happen; nothing is revoked yet.
      setState({ step: 'done', ok: true, pending: (body.pending ?? 0) > 0, message: body.message ?? `Revocation sent for ${body.count ?? count} tasks` });
      onRevoked();
    } catch (e) {
      setState({ step: 'done', ok: false, message: errorText(e) });
    }
  };

  const reset = useCallback(() => setState({ step: 'idle' }), []);

  return { state, start, confirm, reset };
}

/** The button in the filters row that starts a bulk revoke. */
export function BulkRevokeButton({ state, filtered, total, onStart }: { state: BulkRevokeState; filtered: boolean; total: number; onStart: () => void }) {
  return (
    <button
      type="button"
      className="button button--danger-ghost"
      onClick={onStart}
      disabled={state.step === 'counting' || state.step === 'revoking' || total === 0}
      data-testid="bulk-revoke"
      title="Revoke every unfinished task that matches the current filters"
    >
      {state.step === 'counting' ? 'Counting…' : filtered ? 'Revoke matching…' : 'Revoke all unfinished…'}
    </button>
  );
}

/** The confirmation, then the server's answer, between the filters and the table. */
export function BulkRevokeDialog({ state, onConfirm, onClose }: { state: BulkRevokeState; onConfirm: (count: number) => void; onClose: () => void }) {
  if (state.step === 'confirm' || state.step === 'revoking') {
    return (
      <div className={styles.bulkConfirm} role="alertdialog" aria-label="Confirm bulk revoke">
        <p>
          <strong>
            Revoke {formatCount(state.count)} unfinished task{state.count === 1 ? '' : 's'}
          </strong>{' '}
          matching the current filters? Running workers remember the ids and discard each task when they take it (until then it stays queued, marked &quot;revoke pending&quot;); tasks already running
          keep running; workers started later never hear of it.
        </p>
        <div className={styles.bulkActions}>
          <button type="button" className="button" onClick={onClose} disabled={state.step === 'revoking'}>
            Cancel
          </button>
          <button type="button" className="button button--danger" onClick={() => onConfirm(state.count)} disabled={state.step === 'revoking'} data-testid="confirm-action">
            {state.step === 'revoking' ? 'Revoking…' : `Revoke ${formatCount(state.count)}`}
          </button>
        </div>
      </div>
    );
  }
  if (state.step === 'done') {
    return (
      <div className={`${styles.bulkConfirm} ${state.ok ? (state.pending ? styles.bulkPending : styles.bulkOk) : ''}`} role="status" data-testid="action-outcome" data-pending={state.pending ?? false}>
        <p>{state.message}</p>
        <button type="button" className="button" onClick={onClose}>
          Dismiss
        </button>
      </div>
    );
  }
  return null;
}
