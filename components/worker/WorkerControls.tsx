'use client';

/**
 * A worker's controls. Every action is confirmed first, then shows what the worker answered
 * (the API's `message` and per-worker `workers` outcome). Rendered only outside read-only mode.
 */
import { useState, type FormEvent } from 'react';
import { postControl, type ControlReply } from '../api';
import styles from './worker.module.css';

interface Action {
  id: string;
  label: string;
  /** API route (without prefix) and form parameters. */
  route: string;
  params: Record<string, string>;
  danger?: boolean;
  confirm: string;
}

export function WorkerControls({ hostname, paused, onPausedChange, onDone }: { hostname: string; paused: boolean; onPausedChange: (paused: boolean) => void; onDone: () => void }) {
  const worker = encodeURIComponent(hostname);
  const [pending, setPending] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ControlReply | null>(null);
  const [n, setN] = useState('1');
  const [min, setMin] = useState('1');
  const [max, setMax] = useState('4');
  const [queue, setQueue] = useState('');
  const [taskName, setTaskName] = useState('');
  const [rate, setRate] = useState('');
  const [soft, setSoft] = useState('');
  const [hard, setHard] = useState('');

  const ask = (action: Action) => (event?: FormEvent) => {
    event?.preventDefault();
    setOutcome(null);
    setPending(action);
  };

  async function run(action: Action): Promise<void> {
    setBusy(true);
    const reply = await postControl(action.route, { form: action.params });
    setOutcome(reply);
    if (reply.ok && action.id === 'pause') onPausedChange(true);
    if (reply.ok && action.id === 'resume') onPausedChange(false);
    if (reply.ok) onDone();
    setBusy(false);
    setPending(null);
  }

  const actions = {
    pause: { id: 'pause', label: 'Pause', route: `/api/worker/pause/${worker}`, params: {}, confirm: `Stop ${hostname} consuming from all its queues? Waiting tasks stay in the broker.` },
    resume: { id: 'resume', label: 'Resume', route: `/api/worker/resume/${worker}`, params: {}, confirm: `Let ${hostname} consume from its queues again?` },
    grow: { id: 'grow', label: 'Grow pool', route: `/api/worker/pool/grow/${worker}`, params: { n }, confirm: `Add ${n} pool process(es) to ${hostname}?` },
    shrink: { id: 'shrink', label: 'Shrink pool', route: `/api/worker/pool/shrink/${worker}`, params: { n }, confirm: `Remove ${n} pool process(es) from ${hostname}?` },
    autoscale: { id: 'autoscale', label: 'Autoscale', route: `/api/worker/pool/autoscale/${worker}`, params: { min, max }, confirm: `Autoscale ${hostname} between ${min} and ${max} processes?` },
    restart: { id: 'restart', label: 'Restart pool', route: `/api/worker/pool/restart/${worker}`, params: {}, confirm: `Restart the pool of ${hostname}? (needs worker_pool_restarts)` },
    addConsumer: { id: 'add-consumer', label: 'Add consumer', route: `/api/worker/queue/add-consumer/${worker}`, params: { queue }, confirm: `Make ${hostname} consume from "${queue}"?` },
    cancelConsumer: {
      id: 'cancel-consumer',
      label: 'Cancel consumer',
      route: `/api/worker/queue/cancel-consumer/${worker}`,
      params: { queue },
      confirm: `Stop ${hostname} consuming from "${queue}"?`,
    },
    rateLimit: {
      id: 'rate-limit',
      label: 'Set rate limit',
      route: `/api/task/rate-limit/${encodeURIComponent(taskName)}`,
      params: { workername: hostname, ratelimit: rate },
      confirm: `Limit ${taskName} to ${rate || 'no limit'} on ${hostname}?`,
    },
    timeLimit: {
      id: 'time-limit',
      label: 'Set time limits',
      route: `/api/task/timeout/${encodeURIComponent(taskName)}`,
      params: { workername: hostname, ...(soft ? { soft } : {}), ...(hard ? { hard } : {}) },
      confirm: `Set time limits of ${taskName} on ${hostname} (soft ${soft || '–'} s, hard ${hard || '–'} s)?`,
    },
    shutdown: {
      id: 'shutdown',
      label: 'Shut down',
      route: `/api/worker/shutdown/${worker}`,
      params: {},
      danger: true,
      confirm: `Shut down ${hostname}? It finishes running tasks and exits (warm shutdown).`,
    },
  } satisfies Record<string, Action>;

  return (
    <section className={`panel ${styles.controls}`} data-testid="worker-controls" aria-label="Controls">
      <div className={styles.controlRow}>
        {paused ? (
          <button type="button" className="button" onClick={ask(actions.resume)} data-testid="worker-resume">
            Resume
          </button>
        ) : (
          <button type="button" className="button" onClick={ask(actions.pause)} data-testid="worker-pause">
            Pause
          </button>
        )}
        <label className={styles.inline}>
          n <input className={styles.small} value={n} onChange={(e) => setN(e.target.value)} inputMode="numeric" aria-label="Processes" data-testid="pool-n" />
        </label>
        <button type="button" className="button" onClick={ask(actions.grow)} data-testid="pool-grow">
          Grow
        </button>
        <button type="button" className="button" onClick={ask(actions.shrink)} data-testid="pool-shrink">
          Shrink
        </button>
        <label className={styles.inline}>
          min <input className={styles.small} value={min} onChange={(e) => setMin(e.target.value)} inputMode="numeric" aria-label="Autoscale minimum" />
        </label>
        <label className={styles.inline}>
          max <input className={styles.small} value={max} onChange={(e) => setMax(e.target.value)} inputMode="numeric" aria-label="Autoscale maximum" />
        </label>
        <button type="button" className="button" onClick={ask(actions.autoscale)}>
          Autoscale
        </button>
        <button type="button" className="button" onClick={ask(actions.restart)}>
          Restart pool
        </button>
        <button type="button" className={`button ${styles.danger}`} onClick={ask(actions.shutdown)} data-testid="worker-shutdown">
          Shut down
        </button>
      </div>
      <form className={styles.controlRow} onSubmit={ask(actions.addConsumer)}>
        <label className={styles.inline}>
          Queue <input value={queue} onChange={(e) => setQueue(e.target.value)} aria-label="Queue" data-testid="consumer-queue" />
        </label>
        <button type="submit" className="button" disabled={!queue}>
          Add consumer
        </button>
        <button type="button" className="button" disabled={!queue} onClick={ask(actions.cancelConsumer)}>
          Cancel consumer
        </button>
      </form>
      <form className={styles.controlRow} onSubmit={ask(actions.rateLimit)}>
        <label className={styles.inline}>
          Task <input value={taskName} onChange={(e) => setTaskName(e.target.value)} aria-label="Task name" placeholder="tasks.add" data-testid="limit-task" />
        </label>
        <label className={styles.inline}>
          Rate <input className={styles.small} value={rate} onChange={(e) => setRate(e.target.value)} aria-label="Rate limit" placeholder="10/m" data-testid="limit-rate" />
        </label>
        <button type="submit" className="button" disabled={!taskName} data-testid="limit-rate-apply">
          Set rate limit
        </button>
        <label className={styles.inline}>
          Soft <input className={styles.small} value={soft} onChange={(e) => setSoft(e.target.value)} aria-label="Soft time limit (s)" inputMode="decimal" />
        </label>
        <label className={styles.inline}>
          Hard <input className={styles.small} value={hard} onChange={(e) => setHard(e.target.value)} aria-label="Hard time limit (s)" inputMode="decimal" />
        </label>
        <button type="button" className="button" disabled={!taskName || (!soft && !hard)} onClick={ask(actions.timeLimit)}>
          Set time limits
        </button>
      </form>

      {pending ? (
        <div className={styles.confirm} role="dialog" aria-modal="false" aria-label="Confirm" data-testid="confirm-action">
          <p>{pending.confirm}</p>
          <button type="button" className={`button ${pending.danger ? styles.danger : ''}`} onClick={() => void run(pending)} disabled={busy} data-testid="confirm-yes">
            {busy ? 'Working…' : pending.label}
          </button>
          <button type="button" className="button" onClick={() => setPending(null)} disabled={busy}>
            Cancel
          </button>
        </div>
      ) : null}
      {outcome ? (
        <div className={outcome.ok ? styles.outcomeOk : styles.outcomeBad} role="status" data-testid="action-outcome" data-ok={outcome.ok}>
          <strong>{outcome.message}</strong>
          {Object.entries(outcome.workers).map(([node, result]) => (
            <span key={node}>
              {node}: {result.message}
            </span>
          ))}
        </div>
      ) : null}
    </section>
  );
}
