'use client';

/**
 * Send a task from the browser: name (autocompleted from the workers' registered tasks), args
 * and kwargs as JSON (validated as you type), queue, countdown or ETA, expires, priority. After
 * sending, the new task is followed live on the task view.
 */
import Link from 'next/link';
import { useMemo, useState, type FormEvent } from 'react';
import { VIEW_EVENTS, type TaskDetail } from '@/server/realtime/types';
import { errorText, postJson } from '../api';
import { Suggestions } from '../Choices';
import { useLiveView } from '../useLiveView';
import styles from './send.module.css';

function parseJson(text: string, kind: 'array' | 'object'): { value: unknown; error: string | null } {
  if (text.trim() === '') return { value: kind === 'array' ? [] : {}, error: null };
  try {
    const value: unknown = JSON.parse(text);
    if (kind === 'array' && !Array.isArray(value)) return { value, error: 'must be a JSON array, e.g. [2, 3]' };
    if (kind === 'object' && (typeof value !== 'object' || value === null || Array.isArray(value))) return { value, error: 'must be a JSON object, e.g. {"x": 1}' };
    return { value, error: null };
  } catch (error) {
    return { value: null, error: error instanceof Error ? error.message : 'invalid JSON' };
  }
}

/**
 * `refused`: why Celeriac refuses to send (the API is locked): every field and the button are
 * disabled and the reason is shown next to the button.
 */
export function SendTaskForm({ registered, queues, refused = null }: { registered: string[]; queues: string[]; refused?: string | null }) {
  const [name, setName] = useState('');
  const [argsText, setArgsText] = useState('[]');
  const [kwargsText, setKwargsText] = useState('{}');
  const [queue, setQueue] = useState('celery');
  const [timing, setTiming] = useState<'now' | 'countdown' | 'eta'>('now');
  const [countdown, setCountdown] = useState('10');
  const [eta, setEta] = useState('');
  const [expires, setExpires] = useState('');
  const [priority, setPriority] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [sentId, setSentId] = useState<string | null>(null);
  const [task, setTask] = useState<TaskDetail | null>(null);

  const args = useMemo(() => parseJson(argsText, 'array'), [argsText]);
  const kwargs = useMemo(() => parseJson(kwargsText, 'object'), [kwargsText]);
  const unknownName = name !== '' && registered.length > 0 && !registered.includes(name);
  const invalid = name.trim() === '' || args.error !== null || kwargs.error !== null || (timing === 'eta' && eta === '');

  useLiveView(sentId ? { view: 'task', id: sentId } : null, {
    [VIEW_EVENTS.taskSnapshot]: (detail: TaskDetail | null) => setTask(detail),
    [VIEW_EVENTS.taskUpdate]: (detail: TaskDetail | null) => setTask(detail),
  });

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    if (invalid || refused !== null) return;
    setSending(true);
    setError(null);
    setTask(null);
    const body: Record<string, unknown> = { args: args.value, kwargs: kwargs.value, queue };
    if (timing === 'countdown') body.countdown = Number(countdown);
    if (timing === 'eta') body.eta = new Date(eta).toISOString();
    if (expires !== '') body.expires = Number(expires);
    if (priority !== '') body.priority = Number(priority);
    try {
      const reply = await postJson<{ 'task-id'?: string }>(`/api/task/send-task/${encodeURIComponent(name.trim())}`, { json: body });
      if (!reply['task-id']) throw new Error('The reply named no task id');
      setSentId(reply['task-id']);
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      setSending(false);
    }
  }

  return (
    <div className={styles.layout}>
      <form className={`panel ${styles.form}`} onSubmit={(e) => void submit(e)} data-testid="send-form">
        <fieldset className={styles.fields} disabled={refused !== null} data-testid="send-fields">
          <label className={styles.field}>
            <span>Task name</span>
            <input list="registered-tasks" value={name} onChange={(e) => setName(e.target.value)} placeholder="proj.tasks.add" required data-testid="send-name" autoComplete="off" />
            <Suggestions id="registered-tasks" values={registered} />
            {unknownName ? <small className={styles.warn}>No inspected worker registers this task; it will be sent anyway.</small> : null}
          </label>
          <JsonField label="Positional arguments (JSON array)" text={argsText} onChange={setArgsText} error={args.error} testId="send-args" />
          <JsonField label="Keyword arguments (JSON object)" text={kwargsText} onChange={setKwargsText} error={kwargs.error} testId="send-kwargs" />
          <div className={styles.row}>
            <label className={styles.field}>
              <span>Queue</span>
              <input list="known-queues" value={queue} onChange={(e) => setQueue(e.target.value)} data-testid="send-queue" />
              <Suggestions id="known-queues" values={queues} />
            </label>
            <label className={styles.field}>
              <span>Priority (0–9)</span>
              <input type="number" min={0} max={9} value={priority} onChange={(e) => setPriority(e.target.value)} data-testid="send-priority" />
            </label>
            <label className={styles.field}>
              <span>Expires after (s)</span>
              <input type="number" min={0} step="any" value={expires} onChange={(e) => setExpires(e.target.value)} data-testid="send-expires" />
            </label>
          </div>
          <fieldset className={styles.timing}>
            <legend>When</legend>
            {(['now', 'countdown', 'eta'] as const).map((mode) => (
              <label key={mode} className={styles.radio}>
                <input type="radio" name="timing" checked={timing === mode} onChange={() => setTiming(mode)} />
                {mode === 'now' ? 'Now' : mode === 'countdown' ? 'After a countdown' : 'At a time (ETA)'}
              </label>
            ))}
            {timing === 'countdown' ? (
              <label className={styles.inline}>
                seconds <input type="number" min={0} step="any" value={countdown} onChange={(e) => setCountdown(e.target.value)} data-testid="send-countdown" />
              </label>
            ) : null}
            {timing === 'eta' ? (
              <label className={styles.inline}>
                at <input type="datetime-local" value={eta} onChange={(e) => setEta(e.target.value)} data-testid="send-eta" />
              </label>
            ) : null}
          </fieldset>
          <div className={styles.actions}>
            <button
              type="submit"
              className="button"
              disabled={invalid || sending || refused !== null}
              title={refused ?? undefined}
              aria-describedby={refused !== null ? 'send-refused' : undefined}
              data-testid="send-submit"
            >
              {sending ? 'Sending…' : 'Send task'}
            </button>
            {refused !== null ? (
              <span id="send-refused" className={styles.refused} data-testid="send-refused">
                {refused}
              </span>
            ) : null}
            {error ? (
              <span className={styles.error} role="alert" data-testid="send-error">
                {error}
              </span>
            ) : null}
          </div>
        </fieldset>
      </form>

      <aside className={`panel ${styles.result}`} aria-live="polite">
        <h2>Sent task</h2>
        {sentId ? (
          <div data-testid="send-result" data-task-id={sentId} data-state={task?.state ?? 'SENT'}>
            <p>
              <Link href={`/task/${encodeURIComponent(sentId)}`} data-testid="send-result-link">
                {sentId}
              </Link>
            </p>
            <p>
              State: <strong data-testid="send-result-state">{task?.state ?? 'sent — waiting for a worker'}</strong>
            </p>
            {task?.worker ? <p>Worker: {task.worker}</p> : null}
            {task?.result !== null && task?.result !== undefined ? (
              <p>
                Result: <code data-testid="send-result-value">{task.result}</code>
              </p>
            ) : null}
            {task?.exception ? <p className={styles.error}>{task.exception}</p> : null}
          </div>
        ) : (
          <p className="muted">The task you send shows here and follows its states live.</p>
        )}
      </aside>
    </div>
  );
}

/** A JSON textarea with its parse error under it (`<testId>-error`). */
function JsonField({ label, text, onChange, error, testId }: { label: string; text: string; onChange: (text: string) => void; error: string | null; testId: string }) {
  return (
    <label className={styles.field}>
      <span>{label}</span>
      <textarea value={text} onChange={(e) => onChange(e.target.value)} rows={3} spellCheck={false} data-testid={testId} aria-invalid={error !== null} />
      {error ? (
        <small className={styles.error} data-testid={`${testId}-error`}>
          {error}
        </small>
      ) : null}
    </label>
  );
}
