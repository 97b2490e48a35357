'use client';

/**
 * One task, live: every field, its timeline, payloads with copy buttons, relations, and the
 * controls (revoke, terminate, retry), each behind a confirmation and reporting what every worker
 * answered.
 */
import Link from 'next/link';
import { useState, type ReactNode } from 'react';
import { VIEW_EVENTS, type TaskDetail } from '@/server/realtime/types';
import { postControl, type WorkerOutcome } from '../api';
import { SelectOptions } from '../Choices';
import { EmptyState } from '../EmptyState';
import { LiveIndicator } from '../LiveIndicator';
import { PageHeader } from '../PageHeader';
import { LocalTime } from '../Timestamps';
import { useHydrated } from '../useClock';
import { useLiveView } from '../useLiveView';
import { RevocationBadge, RevocationNotice } from './Revocation';
import { TaskStateBadge } from './TaskStateBadge';
import styles from './tasks.module.css';
import { eventRows } from './taskEvents';
import { FINISHED_STATES, formatRuntime } from './tasksView';

const SIGNALS = ['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;

type Action = { kind: 'revoke' } | { kind: 'terminate'; signal: string } | { kind: 'retry' };

interface Outcome {
  ok: boolean;
  /** A revocation that is only pending is not a success to colour green. */
  pending: boolean;
  message: string;
  workers: Record<string, WorkerOutcome>;
  newTaskId: string | null;
}

function taskHref(id: string): string {
  return `/task/${encodeURIComponent(id)}`;
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Non-secure contexts (plain http on another host) have no clipboard API.
      const area = document.createElement('textarea');
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <button type="button" className={styles.copy} onClick={() => void copy()} aria-label={`Copy ${label}`}>
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

function Block({ title, text, testId, tone }: { title: string; text: string | null; testId: string; tone?: 'bad' }) {
  return (
    <section className="panel">
      <header className={styles.blockHeader}>
        <h2>{title}</h2>
        {text ? <CopyButton text={text} label={title.toLowerCase()} /> : null}
      </header>
      {text ? (
        <pre className={`${styles.pre} ${tone === 'bad' ? styles.preBad : ''}`} data-testid={testId}>
          {text}
        </pre>
      ) : (
        <p className={styles.blockEmpty} data-testid={testId}>
          —
        </p>
      )}
    </section>
  );
}

function span(from: number | null, to: number | null): string | null {
  if (from === null || to === null) return null;
  return formatRuntime(Math.max(0, to - from));
}

function outcomeOf(task: TaskDetail): { label: string; at: number | null; tone: string } | null {
  if (task.succeeded !== null && task.state === 'SUCCESS') return { label: 'Succeeded', at: task.succeeded, tone: 'ok' };
  if (task.failed !== null && task.state === 'FAILURE') return { label: 'Failed', at: task.failed, tone: 'bad' };
  if (task.revoked !== null && task.state === 'REVOKED') return { label: task.expired ? 'Expired' : task.terminated ? 'Terminated' : 'Revoked', at: task.revoked, tone: 'revoked' };
  if (task.rejected !== null && task.state === 'REJECTED') return { label: 'Rejected', at: task.rejected, tone: 'bad' };
  if (task.retried !== null && task.state === 'RETRY') return { label: 'Retry scheduled', at: task.retried, tone: 'warn' };
  return null;
}

function Timeline({ task }: { task: TaskDetail }) {
  const outcome = outcomeOf(task);
  const steps: { label: string; at: number | null; tone: string }[] = [
    { label: 'Sent', at: task.sent, tone: 'done' },
    { label: 'Received', at: task.received, tone: 'done' },
    { label: 'Started', at: task.started, tone: 'done' },
    outcome ?? { label: FINISHED_STATES.has(task.state) ? task.state : 'Outcome', at: null, tone: 'pending' },
  ];
  let previous: number | null = null;
  return (
    <ol className={styles.timeline} data-testid="task-timeline">
      {steps.map((step, i) => {
        const delta = step.at !== null ? span(previous, step.at) : null;
        if (step.at !== null) previous = step.at;
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: the timeline's steps are a fixed sequence; the position is the identity
          <li key={i} className={`${styles.step} ${step.at === null ? styles.stepPending : (styles[`step--${step.tone}`] ?? '')}`} data-step={step.label.toLowerCase()} data-done={step.at !== null}>
            {i > 0 ? (
              <span className={styles.stepDelta} title="time since the previous step">
                {delta ? `+${delta}` : ''}
              </span>
            ) : null}
            <span className={styles.stepDot} aria-hidden="true" />
            <span className={styles.stepLabel}>{step.label}</span>
            <span className={styles.stepTime}>{step.at === null ? '—' : <LocalTime at={step.at} />}</span>
          </li>
        );
      })}
    </ol>
  );
}

const EVENT_TONES: Record<string, string> = {
  'task-succeeded': 'ok',
  'task-failed': 'bad',
  'task-rejected': 'bad',
  'task-retried': 'warn',
  'task-revoked': 'revoked',
};

/** Every event the task had, in time order, with the time since the previous one: each retry is a step of its own. */
function EventList({ task }: { task: TaskDetail }) {
  const rows = eventRows(task.events, task.eventsOmitted, task.eventsHead);
  if (rows.length === 0) return null;
  return (
    <ol className={styles.events} data-testid="task-events">
      {rows.map((row, i) =>
        row.kind === 'gap' ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are a sequence in time order; the position is the identity
          <li key={i} className={styles.eventGap} data-testid="task-events-gap">
            {row.omitted} more {row.omitted === 1 ? 'event' : 'events'} not kept
          </li>
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are a sequence in time order; the position is the identity
          <li key={i} className={`${styles.eventRow} ${styles[`event--${EVENT_TONES[row.type] ?? 'done'}`] ?? ''}`} data-event={row.type}>
            <span className={styles.eventDot} aria-hidden="true" />
            <span className={styles.eventLabel}>
              {row.label}
              {row.attempt !== null ? <span className="muted"> · attempt {row.attempt}</span> : null}
            </span>
            <span className={styles.eventHost}>{row.hostname ?? ''}</span>
            <span className={styles.eventTime}>
              <LocalTime at={row.timestamp} />
            </span>
            <span className={styles.eventDelta} title="time since the previous event">
              {row.sincePrevious !== null ? `+${formatRuntime(row.sincePrevious)}` : ''}
            </span>
          </li>
        ),
      )}
    </ol>
  );
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className={styles.field2}>
      <dt>{label}</dt>
      <dd>{children ?? <span className="muted">—</span>}</dd>
    </div>
  );
}

function orDash(value: string | number | boolean | null | undefined): ReactNode {
  if (value === null || value === undefined || value === '') return <span className="muted">—</span>;
  return String(value);
}

function time(at: number | null): ReactNode {
  return at === null ? <span className="muted">—</span> : <LocalTime at={at} />;
}

// ---------------------------------------------------------------------------------------------

function ConfirmDialog({ action, task, busy, onCancel, onConfirm }: { action: Action; task: TaskDetail; busy: boolean; onCancel: () => void; onConfirm: () => void }) {
  const title = action.kind === 'revoke' ? 'Revoke this task?' : action.kind === 'terminate' ? `Terminate with ${action.signal}?` : 'Retry this task?';
  const body =
    action.kind === 'revoke'
      ? task.state === 'STARTED'
        ? 'It is already running: revoke without terminate does not stop it, it only keeps it from being run again. Use Terminate to stop it.'
        : 'Every running worker remembers the id and discards the task when it takes it. Until then it stays queued, marked "revoke pending". Workers started later never hear of it.'
      : action.kind === 'terminate'
        ? `The worker process running it receives ${action.signal}. The task shows Revoked once its worker reports it.`
        : 'Celeriac sends a new task with the same name, args and kwargs. The new task links back to this one.';
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents lint/a11y/noStaticElementInteractions: clicking the backdrop is a mouse shortcut; Escape and Cancel do the same from the keyboard
    <div className={styles.overlay} onClick={busy ? undefined : onCancel}>
      <div className={styles.dialog} role="dialog" aria-modal="true" aria-labelledby="confirm-title" onClick={(e) => e.stopPropagation()} onKeyDown={(e) => e.key === 'Escape' && !busy && onCancel()}>
        <h2 id="confirm-title">{title}</h2>
        <p className={styles.dialogTask}>
          <span>{task.name ?? 'unknown task'}</span> <code>{task.uuid}</code>
        </p>
        <p>{body}</p>
        <div className={styles.dialogActions}>
          {/* biome-ignore lint/a11y/noAutofocus: a confirmation dialog focuses its safe choice (WAI-ARIA dialog pattern) */}
          <button type="button" className="button" onClick={onCancel} disabled={busy} autoFocus>
            Cancel
          </button>
          <button type="button" className={`button ${action.kind === 'retry' ? 'button--primary' : 'button--danger'}`} onClick={onConfirm} disabled={busy} data-testid="confirm-action">
            {busy ? 'Working…' : action.kind === 'revoke' ? 'Revoke' : action.kind === 'terminate' ? 'Terminate' : 'Retry'}
          </button>
        </div>
      </div>
    </div>
  );
}

function OutcomePanel({ outcome, onDismiss }: { outcome: Outcome; onDismiss: () => void }) {
  const workers = Object.entries(outcome.workers);
  return (
    <div
      className={`${styles.outcome} ${!outcome.ok ? styles.outcomeBad : outcome.pending ? styles.outcomeInfo : styles.outcomeOk}`}
      role="status"
      data-testid="action-outcome"
      data-ok={outcome.ok}
      data-pending={outcome.pending}
    >
      <div className={styles.outcomeHead}>
        <strong>{outcome.message}</strong>
        <button type="button" className={styles.copy} onClick={onDismiss} aria-label="Dismiss">
          Dismiss
        </button>
      </div>
      {outcome.newTaskId ? (
        <p>
          New task: <Link href={taskHref(outcome.newTaskId)}>{outcome.newTaskId}</Link>
        </p>
      ) : null}
      {workers.length > 0 ? (
        <ul className={styles.outcomeWorkers}>
          {workers.map(([name, w]) => (
            <li key={name} data-ok={w.ok}>
              <span className={w.ok ? styles.okText : styles.badText}>{w.ok ? '✓' : '✕'}</span> <span className={styles.mono}>{name}</span>: {w.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

// ---------------------------------------------------------------------------------------------

export function TaskDetailView({ id, initial, readOnly }: { id: string; initial: TaskDetail | null; readOnly: boolean }) {
  const [task, setTask] = useState<TaskDetail | null>(initial);
  const [signal, setSignal] = useState<string>('SIGTERM');
  const [pending, setPending] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  // The "sent more than 3 hours ago" note depends on the clock: only after hydration.
  const hydrated = useHydrated();

  const socketState = useLiveView(
    { view: 'task', id },
    {
      [VIEW_EVENTS.taskSnapshot]: (detail: TaskDetail | null) => {
        if (detail) setTask(detail);
      },
      [VIEW_EVENTS.taskUpdate]: (detail: TaskDetail | null) => {
        if (detail) setTask(detail);
      },
    },
  );

  const run = async (action: Action) => {
    setBusy(true);
    const reply =
      action.kind === 'retry'
        ? await postControl(`/api/task/retry/${encodeURIComponent(id)}`)
        : await postControl(`/api/task/revoke/${encodeURIComponent(id)}`, action.kind === 'terminate' ? { query: { terminate: '1', signal: action.signal } } : {});
    const { ok, message, workers, body } = reply;
    const newTaskId = ok && typeof body['task-id'] === 'string' ? body['task-id'] : null;
    const pendingCount = typeof body.pending === 'number' ? body.pending : 0;
    setOutcome({ ok, pending: ok && action.kind !== 'retry' && pendingCount > 0, message, workers, newTaskId });
    setBusy(false);
    setPending(null);
  };

  if (!task) {
    return (
      <>
        <PageHeader title="Task not found" aside={<LiveIndicator state={socketState} />} />
        <section className="panel" data-testid="task-not-found">
          <EmptyState title="Celeriac has not seen this task">
            <p>
              No event mentioned <code>{id}</code>. It may not have been sent yet (this page updates as soon as it is), it may be older than the tasks Celeriac retains, or the id may be mistyped.
            </p>
            <p>
              <Link href="/tasks" className="button">
                All tasks
              </Link>
            </p>
          </EmptyState>
        </section>
      </>
    );
  }

  const finished = FINISHED_STATES.has(task.state);
  const now = hydrated ? Date.now() / 1000 : (task.revocation?.requestedAt ?? 0);
  const showControls = !readOnly && !task.readOnly;
  const failureText = task.exception;

  return (
    <>
      <nav className={styles.crumbs} aria-label="Breadcrumb">
        <Link href="/tasks">Tasks</Link>
        <span aria-hidden="true">/</span>
        <span className={styles.mono}>{task.uuid}</span>
        <CopyButton text={task.uuid} label="task id" />
      </nav>
      <PageHeader title={task.name ?? 'Unknown task'} aside={<LiveIndicator state={socketState} />}>
        <p className="summary">
          <span className="summary__item">
            <TaskStateBadge state={task.state} testId="task-state" />
            <RevocationBadge revocation={task.revocation} />
          </span>
          {task.worker ? <span className="summary__item">on {task.worker}</span> : null}
          {task.runtime !== null ? <span className="summary__item">ran {formatRuntime(task.runtime)}</span> : null}
        </p>
      </PageHeader>

      {showControls ? (
        <section className={`panel ${styles.controls}`} aria-label="Actions">
          {!finished ? (
            <button type="button" className="button button--danger-ghost" onClick={() => setPending({ kind: 'revoke' })} data-testid="task-revoke">
              Revoke
            </button>
          ) : null}
          {task.state === 'STARTED' ? (
            <span className={styles.terminate}>
              <label className="visually-hidden" htmlFor="terminate-signal">
                Signal
              </label>
              <select id="terminate-signal" className="input" value={signal} onChange={(e) => setSignal(e.target.value)} data-testid="task-signal">
                <SelectOptions values={SIGNALS} />
              </select>
              <button type="button" className="button button--danger-ghost" onClick={() => setPending({ kind: 'terminate', signal })} data-testid="task-terminate">
                Terminate
              </button>
            </span>
          ) : null}
          {finished ? (
            <button type="button" className="button" onClick={() => setPending({ kind: 'retry' })} data-testid="task-retry">
              Retry
            </button>
          ) : null}
          <span className={styles.controlsHint}>
            {finished
              ? 'Finished: retry sends a copy with the same arguments.'
              : task.state === 'STARTED'
                ? 'Running: revoke does not stop it (it only keeps it from being run again); terminate signals the process.'
                : 'Waiting: revoke tells running workers to discard it when they take it.'}
          </span>
        </section>
      ) : null}

      {outcome ? <OutcomePanel outcome={outcome} onDismiss={() => setOutcome(null)} /> : null}

      <RevocationNotice revocation={task.revocation} state={task.state} now={now} onTerminate={showControls && task.state === 'STARTED' ? () => setPending({ kind: 'terminate', signal }) : null} />

      <section className={`panel ${styles.timelinePanel}`} aria-label="Timeline">
        <Timeline task={task} />
        <EventList task={task} />
      </section>

      <div className={styles.detailGrid}>
        <div className={styles.detailMain}>
          <Block title="Args" text={task.args} testId="task-args" />
          <Block title="Kwargs" text={task.kwargs} testId="task-kwargs" />
          {task.state === 'FAILURE' || failureText ? (
            <>
              <Block title="Exception" text={failureText} testId="task-result" tone="bad" />
              <Block title="Traceback" text={task.traceback} testId="task-traceback" tone="bad" />
            </>
          ) : (
            <Block title="Result" text={task.result} testId="task-result" />
          )}
          {task.extra && Object.keys(task.extra).length > 0 ? <Block title="Other event fields" text={JSON.stringify(task.extra, null, 2)} testId="task-extra" /> : null}
        </div>
        <aside className={`panel ${styles.detailSide}`} aria-label="Fields">
          <dl className={styles.fields}>
            <Field label="State">{task.state}</Field>
            <Field label="Worker">{task.worker ? <Link href={`/workers?q=${encodeURIComponent(task.worker)}`}>{task.worker}</Link> : null}</Field>
            <Field label="Queue">{orDash(task.queue)}</Field>
            <Field label="Exchange">{orDash(task.exchange)}</Field>
            <Field label="Routing key">{orDash(task.routing_key)}</Field>
            <Field label="Retries">{orDash(task.retries)}</Field>
            <Field label="Runtime">{orDash(formatRuntime(task.runtime))}</Field>
            <Field label="ETA">{orDash(task.eta)}</Field>
            <Field label="Expires">{orDash(task.expires)}</Field>
            <Field label="Sent">{time(task.sent)}</Field>
            <Field label="Received">{time(task.received)}</Field>
            <Field label="Started">{time(task.started)}</Field>
            <Field label="Succeeded">{time(task.succeeded)}</Field>
            <Field label="Failed">{time(task.failed)}</Field>
            <Field label="Retried">{time(task.retried)}</Field>
            <Field label="Revoked">{time(task.revoked)}</Field>
            <Field label="Rejected">{time(task.rejected)}</Field>
            <Field label="Last event">{time(task.timestamp)}</Field>
            {task.terminated !== null ? <Field label="Terminated">{task.terminated ? 'yes' : 'no'}</Field> : null}
            {task.signum !== null ? <Field label="Signal">{String(task.signum)}</Field> : null}
            {task.expired !== null ? <Field label="Expired">{task.expired ? 'yes' : 'no'}</Field> : null}
            <Field label="Client">{orDash(task.client)}</Field>
            <Field label="Clock">{orDash(task.clock)}</Field>
          </dl>
          <h2 className={styles.sideTitle}>Related</h2>
          <p>
            <Link href={`/workflow/${encodeURIComponent(task.uuid)}`} data-testid="task-workflow-link">
              Show the workflow graph
            </Link>
          </p>
          <dl className={styles.fields}>
            <Field label="Parent">
              {task.parent_id ? (
                <Link href={taskHref(task.parent_id)} className={styles.mono}>
                  {task.parent_id}
                </Link>
              ) : null}
            </Field>
            <Field label="Root">
              {task.root_id && task.root_id !== task.uuid ? (
                <Link href={taskHref(task.root_id)} className={styles.mono}>
                  {task.root_id}
                </Link>
              ) : task.root_id ? (
                'this task'
              ) : null}
            </Field>
            <Field label={`Children (${task.children.length})`}>
              {task.children.length > 0 ? (
                <ul className={styles.children}>
                  {task.children.slice(0, 100).map((child) => (
                    <li key={child}>
                      <Link href={taskHref(child)} className={styles.mono}>
                        {child}
                      </Link>
                    </li>
                  ))}
                  {task.children.length > 100 ? <li className="muted">and {task.children.length - 100} more</li> : null}
                </ul>
              ) : null}
            </Field>
          </dl>
        </aside>
      </div>

      {pending ? <ConfirmDialog action={pending} task={task} busy={busy} onCancel={() => setPending(null)} onConfirm={() => void run(pending)} /> : null}
    </>
  );
}
