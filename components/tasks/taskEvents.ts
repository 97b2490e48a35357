/**
 * The task page's event list, free of React: every event the task's timeline kept, in time order
 * (a late event sits where it happened, not where it arrived), each with the time since the one
 * before, and a gap row where the server left events out of a very long timeline.
 */
import type { TimelineStep } from '@/server/realtime/types';

export type EventRow =
  | { kind: 'event'; type: string; label: string; timestamp: number; hostname: string | null; sincePrevious: number | null; attempt: number | null }
  | { kind: 'gap'; omitted: number };

const LABELS: Record<string, string> = {
  'task-sent': 'Sent',
  'task-received': 'Received',
  'task-started': 'Started',
  'task-succeeded': 'Succeeded',
  'task-failed': 'Failed',
  'task-retried': 'Retried',
  'task-revoked': 'Revoked',
  'task-rejected': 'Rejected',
};

export function eventLabel(type: string): string {
  const known = LABELS[type];
  if (known) return known;
  const subject = type.startsWith('task-') ? type.slice(5) : type;
  return subject.charAt(0).toUpperCase() + subject.slice(1);
}

function byTime(steps: readonly TimelineStep[]): TimelineStep[] {
  // Array#sort is stable: events with the same time keep their arrival order.
  return [...steps].sort((a, b) => a.timestamp - b.timestamp);
}

/**
 * Rows for `events` (arrival order, the first `head` being the task's first ones): the head and
 * the rest each in time order, a gap between them when `omitted` > 0. A received event is
 * numbered by attempt (each retry is received again) once there is more than one.
 */
export function eventRows(events: readonly TimelineStep[], omitted: number, head: number): EventRow[] {
  const parts = omitted > 0 ? [byTime(events.slice(0, head)), byTime(events.slice(head))] : [byTime(events)];
  const receivedCount = events.filter((e) => e.type === 'task-received').length;
  const rows: EventRow[] = [];
  let previous: number | null = null;
  let attempt = 0;
  parts.forEach((part, index) => {
    if (index > 0) {
      rows.push({ kind: 'gap', omitted });
      previous = null;
      attempt = -1; // unknown once events were left out
    }
    for (const step of part) {
      const received = step.type === 'task-received';
      if (received && attempt >= 0) attempt++;
      rows.push({
        kind: 'event',
        type: step.type,
        label: eventLabel(step.type),
        timestamp: step.timestamp,
        hostname: step.hostname,
        sincePrevious: previous === null ? null : Math.max(0, step.timestamp - previous),
        attempt: received && receivedCount > 1 && attempt > 0 ? attempt : null,
      });
      previous = step.timestamp;
    }
  });
  return rows;
}
