'use client';

/**
 * Live tail of the raw event stream: newest on top, at most MAX_LINES kept in the browser. Pausing
 * freezes what is shown while new lines keep arriving into a buffer; resuming applies them.
 */
import Link from 'next/link';
import { useDeferredValue, useMemo, useState } from 'react';
import { VIEW_EVENTS, type EventLine, type EventsBatch } from '@/server/realtime/types';
import { EmptyState } from '../EmptyState';
import { formatCount } from '../format';
import { LiveIndicator } from '../LiveIndicator';
import { PageHeader } from '../PageHeader';
import { useTimeFormatter } from '../timePreference';
import { useLiveView } from '../useLiveView';
import styles from './events.module.css';

export const MAX_LINES = 1000;

type Kind = 'all' | 'task-' | 'worker-';

interface Tail {
  /** Shown lines, newest first. */
  lines: EventLine[];
  /** Received while paused, newest first (never more than MAX_LINES). */
  buffered: EventLine[];
  /** Lines received while paused that did not fit in the buffer. */
  overflow: number;
  /** Lines the server skipped for this browser because it fell behind. */
  skipped: number;
  received: number;
}

const EMPTY: Tail = { lines: [], buffered: [], overflow: 0, skipped: 0, received: 0 };

/** Newest first, capped. `batch` arrives oldest first. */
function prepend(current: EventLine[], batch: EventLine[]): EventLine[] {
  const incoming = batch.length > MAX_LINES ? batch.slice(batch.length - MAX_LINES) : batch;
  const next = incoming.slice().reverse();
  return next.length >= MAX_LINES ? next : next.concat(current.slice(0, MAX_LINES - next.length));
}

/** "13:03:04.123" in the zone the viewer chose. */
function clockMs(epoch: number, clock: (t: number) => string): string {
  return `${clock(epoch)}.${String(Math.floor((epoch * 1000) % 1000)).padStart(3, '0')}`;
}

function typeTone(type: string): string {
  if (type === 'task-failed' || type === 'worker-offline') return styles.typeBad as string;
  if (type === 'task-succeeded' || type === 'worker-online') return styles.typeOk as string;
  if (type === 'task-retried' || type === 'task-revoked' || type === 'task-rejected') return styles.typeWarn as string;
  if (type === 'task-started') return styles.typeBusy as string;
  if (type === 'worker-heartbeat') return styles.typeFaint as string;
  return styles.typePlain as string;
}

function matches(line: EventLine, kind: Kind, text: string): boolean {
  if (kind !== 'all' && !line.type.startsWith(kind)) return false;
  if (text === '') return true;
  return line.hostname.toLowerCase().includes(text) || (line.name?.toLowerCase().includes(text) ?? false) || (line.uuid?.toLowerCase().includes(text) ?? false) || line.type.includes(text);
}

export function EventsView() {
  const [tail, setTail] = useState<Tail>(EMPTY);
  const [paused, setPaused] = useState(false);
  const [kind, setKind] = useState<Kind>('all');
  const [query, setQuery] = useState('');
  const { clock, zone } = useTimeFormatter();
  const socketState = useLiveView('events', {
    [VIEW_EVENTS.eventsBatch]: (batch: EventsBatch) =>
      setTail((t) => {
        const skipped = t.skipped + batch.skipped;
        const received = t.received + batch.events.length;
        if (!paused) return { ...t, lines: prepend(t.lines, batch.events), skipped, received };
        const room = MAX_LINES - t.buffered.length;
        return {
          ...t,
          buffered: prepend(t.buffered, batch.events),
          overflow: t.overflow + Math.max(0, batch.events.length - room),
          skipped,
          received,
        };
      }),
  });

  const togglePause = () => {
    if (paused) {
      setTail((t) => ({ ...t, lines: t.buffered.length > 0 ? prepend(t.lines, t.buffered.slice().reverse()) : t.lines, buffered: [], overflow: 0 }));
    }
    setPaused(!paused);
  };

  const text = useDeferredValue(query.trim().toLowerCase());
  const shown = useMemo(() => tail.lines.filter((line) => matches(line, kind, text)), [tail.lines, kind, text]);
  const pendingCount = tail.buffered.length + tail.overflow;

  return (
    <>
      <PageHeader title="Events" aside={<LiveIndicator state={socketState} />}>
        <p className="summary">
          <span className="summary__item">
            <strong>{formatCount(tail.received)}</strong> received
          </span>
          <span className="summary__item">last {formatCount(MAX_LINES)} kept</span>
          {tail.skipped > 0 ? (
            <span className={`summary__item ${styles.skipped}`} data-testid="events-skipped" title="The server skipped lines for this browser because it could not keep up">
              <strong>{formatCount(tail.skipped)}</strong> skipped
            </span>
          ) : null}
        </p>
      </PageHeader>

      <section className="panel" aria-label="Event stream">
        <div className="toolbar">
          <label className="search">
            <svg className="search__icon" viewBox="0 0 20 20" aria-hidden="true">
              <path d="M8.5 3a5.5 5.5 0 0 1 4.38 8.83l3.65 3.64a.75.75 0 1 1-1.06 1.06l-3.64-3.65A5.5 5.5 0 1 1 8.5 3Zm0 1.5a4 4 0 1 0 0 8 4 4 0 0 0 0-8Z" fill="currentColor" />
            </svg>
            <span className="visually-hidden">Filter events</span>
            <input
              className="search__input"
              type="search"
              placeholder="Filter by worker, task name or id"
              value={query}
              onChange={(e) => setQuery(e.target.value)}
              spellCheck={false}
              autoComplete="off"
              data-testid="events-filter"
            />
          </label>
          <div className="segmented" role="group" aria-label="Event type">
            {(
              [
                ['all', 'All'],
                ['task-', 'Tasks'],
                ['worker-', 'Workers'],
              ] as const
            ).map(([value, label]) => (
              <button key={value} type="button" className="segmented__option" aria-pressed={kind === value} onClick={() => setKind(value)} data-testid="events-type" data-value={value}>
                {label}
              </button>
            ))}
          </div>
          <button
            type="button"
            className={`button ${paused ? styles.resumeButton : ''}`}
            onClick={togglePause}
            aria-pressed={paused}
            data-testid="events-pause"
            data-paused={paused ? 'true' : 'false'}
          >
            {paused ? (
              <>
                <svg className={styles.buttonIcon} viewBox="0 0 16 16" aria-hidden="true">
                  <path d="M4.5 3.2v9.6L12.5 8 4.5 3.2Z" fill="currentColor" />
                </svg>
                Resume{pendingCount > 0 ? ` · ${formatCount(pendingCount)} new` : ''}
              </>
            ) : (
              <>
                <svg className={styles.buttonIcon} viewBox="0 0 16 16" aria-hidden="true">
                  <path d="M4.5 3h2.2v10H4.5zM9.3 3h2.2v10H9.3z" fill="currentColor" />
                </svg>
                Pause
              </>
            )}
          </button>
          <span className="toolbar__count" data-testid="events-buffered" data-count={pendingCount}>
            {paused ? `Paused · ${formatCount(pendingCount)} buffered` : `${formatCount(shown.length)} of ${formatCount(tail.lines.length)} shown`}
          </span>
        </div>

        <ol className={styles.list} data-testid="events-list" aria-live="off">
          {shown.map((line) => (
            <li key={line.seq} className={styles.line} data-testid="event-line" data-type={line.type}>
              <time className={styles.time} dateTime={new Date(line.timestamp * 1000).toISOString()} title={zone(line.timestamp)}>
                {clockMs(line.timestamp, clock)}
              </time>
              <span className={`${styles.type} ${typeTone(line.type)}`}>{line.type}</span>
              <span className={styles.host} title={line.hostname}>
                {line.hostname}
              </span>
              <span className={styles.what}>
                {line.name ? <span className={styles.name}>{line.name}</span> : null}
                {line.uuid ? (
                  <Link href={`/task/${encodeURIComponent(line.uuid)}`} className={styles.uuid} prefetch={false}>
                    {line.uuid}
                  </Link>
                ) : null}
                {line.summary ? <span className={styles.summary}>{line.summary}</span> : null}
              </span>
            </li>
          ))}
        </ol>
        {tail.lines.length === 0 ? (
          <EmptyState title={socketState === 'live' ? 'Waiting for events…' : 'Connecting…'} testId="events-empty">
            <p>Every event the workers send (task and worker events, heartbeats) appears here as it arrives, newest on top.</p>
          </EmptyState>
        ) : shown.length === 0 ? (
          <EmptyState title="No events match the filter" testId="events-no-match">
            <button
              type="button"
              className="button"
              onClick={() => {
                setQuery('');
                setKind('all');
              }}
            >
              Clear filters
            </button>
          </EmptyState>
        ) : null}
      </section>
    </>
  );
}
