/**
 * The live event tail (the events page): the last EVENT_TAIL events as they were applied, kept
 * as the decoded events themselves so the hot path allocates nothing; lines are rendered only
 * when a client asks.
 */
import type { TaskEvent, WorkerEvent } from '../protocol/events';
import type { EventLine } from './types';

export const EVENT_TAIL = 1_000;

interface TailEntry {
  seq: number;
  event: TaskEvent | WorkerEvent;
  /** The task's name when the event itself does not carry it (only task-received does). */
  name: string | null;
}

export class EventTail {
  private readonly ring: (TailEntry | undefined)[] = new Array(EVENT_TAIL);
  private seq = 0;

  /** Hot path: remember the event (already allocated); no formatting here. */
  push(event: TaskEvent | WorkerEvent, name: string | null): void {
    const seq = ++this.seq;
    this.ring[seq % EVENT_TAIL] = { seq, event, name };
  }

  /** Sequence number of the newest event (0 before any). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Event lines after `seq`, at most `limit` (the newest ones when there are more). */
  after(seq: number, limit: number): { events: EventLine[]; skipped: number } {
    const newest = this.seq;
    if (newest <= seq) return { events: [], skipped: 0 };
    const oldestKept = Math.max(1, newest - EVENT_TAIL + 1);
    const from = Math.max(seq + 1, oldestKept, newest - limit + 1);
    const skipped = from - (seq + 1);
    const events: EventLine[] = [];
    for (let n = from; n <= newest; n++) {
      const entry = this.ring[n % EVENT_TAIL];
      if (!entry || entry.seq !== n) continue;
      const { event, name } = entry;
      events.push({
        seq: n,
        localReceived: event.localReceived,
        timestamp: event.timestamp,
        type: event.type,
        hostname: event.hostname,
        uuid: event.kind === 'task' ? event.uuid : null,
        name: event.kind === 'task' ? (event.name ?? name) : null,
        summary: summarize(event),
      });
    }
    return { events, skipped };
  }
}

function summarize(event: TaskEvent | WorkerEvent): string {
  if (event.kind === 'worker') {
    const parts = [`freq ${event.freq ?? '?'}`];
    if (event.active !== undefined) parts.push(`active ${event.active}`);
    if (event.processed !== undefined) parts.push(`processed ${event.processed}`);
    return parts.join(', ');
  }
  const parts: string[] = [];
  if (event.args !== undefined) parts.push(`args ${event.args}`);
  if (event.kwargs !== undefined && event.kwargs !== '{}') parts.push(`kwargs ${event.kwargs}`);
  if (event.result !== undefined) parts.push(`result ${event.result}`);
  if (event.runtime !== undefined) parts.push(`runtime ${event.runtime.toFixed(3)} s`);
  if (event.exception !== undefined) parts.push(event.exception);
  if (event.terminated) parts.push(`terminated (signal ${String(event.signum)})`);
  if (event.extra) parts.push(JSON.stringify(event.extra));
  const text = parts.join(' · ');
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}
