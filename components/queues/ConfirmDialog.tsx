'use client';

/** A modal confirmation (native <dialog>): the action runs only from its confirm button. */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import styles from './queues.module.css';

export interface ConfirmDialogProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  /** When set, the user must type exactly this before the confirm button enables. */
  typeToConfirm?: string;
  busy: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog({ title, children, confirmLabel, danger, typeToConfirm, busy, onConfirm, onCancel }: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState('');
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  const allowed = !busy && (typeToConfirm === undefined || typed === typeToConfirm);

  return (
    <dialog
      ref={ref}
      className={styles.dialog}
      aria-labelledby="confirm-title"
      data-testid="confirm-dialog"
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onCancel();
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (allowed) onConfirm();
        }}
      >
        <h2 id="confirm-title" className={styles.dialogTitle}>
          {title}
        </h2>
        <div className={styles.dialogBody}>{children}</div>
        {typeToConfirm !== undefined ? (
          <label className={styles.typeConfirm}>
            <span>
              Type <strong className={styles.mono}>{typeToConfirm}</strong> to confirm
            </span>
            <input className="input" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" spellCheck={false} autoFocus data-testid="purge-confirm-input" />
          </label>
        ) : null}
        <div className={styles.dialogActions}>
          <button type="button" className="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
          <button
            type="submit"
            className={`button ${danger ? 'button--danger' : 'button--primary'}`}
            disabled={!allowed}
            // biome-ignore lint/a11y/noAutofocus: without a name to type, the dialog focuses its action (WAI-ARIA dialog pattern)
            autoFocus={typeToConfirm === undefined}
            data-testid="confirm-action"
          >
            {busy ? 'Working…' : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
