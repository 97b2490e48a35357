/**
 * A task's events in arrival order: type, the sender's timestamp and the sender's hostname, so
 * the task page shows every step (each retry's received/started on whichever worker) where the
 * TaskRecord keeps only the last time of each kind.
 *
 * It runs on the hot path (one push per event) and lives on every retained task, so it is one
 * unboxed double array, two numbers per event: a code for (type, hostname) and the timestamp.
 * Measured with 4 events per task: about 160 bytes per task, where an object or three arrays per
 * task cost 600. The codes index two process-wide tables of the distinct types and hostnames
 * (bounded: past their caps a type is recorded as OTHER_TYPE, a hostname as null); the stored
 * form (toJSON) writes the strings, so codes never leave the process.
 *
 * Bounded per task: past MAX_TIMELINE entries the first TIMELINE_HEAD are kept (how the task
 * began), the rest is the latest ones, and `omitted` counts what fell out in between — a task
 * retried forever costs the same as one retried 60 times.
 */

/** Entries kept per task. */
export const MAX_TIMELINE = 64;
/** Entries from the start that are never dropped; the other MAX_TIMELINE − TIMELINE_HEAD are the latest. */
export const TIMELINE_HEAD = 16;
/** The type recorded once MAX_TYPES distinct ones were seen (custom event types come off the wire). */
export const OTHER_TYPE = 'task-other';

const MAX_TYPES = 1_024;
/** Hostnames get the low 20 bits of a code. */
const HOST_BITS = 2 ** 20;
/**
 * Distinct hostnames remembered. Real clusters have hundreds; a flood of made-up ones must not
 * grow the table (kept for the process's life) past a few MB: past it a hostname is recorded as null.
 */
const MAX_HOSTS = 65_536;
/** Entries the first allocation holds: most tasks have 3–5 events. */
const FIRST_CAPACITY = 4;

/** id → string; id 0 of the hosts is "no hostname". Grown only, so a code stays valid for the process's life. */
const TYPES: string[] = [OTHER_TYPE];
const TYPE_IDS = new Map<string, number>([[OTHER_TYPE, 0]]);
const HOSTS: (string | null)[] = [null];
const HOST_IDS = new Map<string, number>();

function typeId(type: string): number {
  let id = TYPE_IDS.get(type);
  if (id === undefined) {
    if (TYPES.length >= MAX_TYPES) return 0;
    id = TYPES.push(type) - 1;
    TYPE_IDS.set(type, id);
  }
  return id;
}

function hostId(hostname: string | null): number {
  if (hostname === null) return 0;
  let id = HOST_IDS.get(hostname);
  if (id === undefined) {
    if (HOSTS.length >= MAX_HOSTS) return 0;
    id = HOSTS.push(hostname) - 1;
    HOST_IDS.set(hostname, id);
  }
  return id;
}

/** One entry as the read model and the store see it. */
export interface TimelineStep {
  type: string;
  /** The sender's timestamp, epoch seconds. */
  timestamp: number;
  /** The worker's (or, for task-sent, the client's) hostname. */
  hostname: string | null;
}

/** The stored form: `[omitted, [type, timestamp, hostname?], …]`, `task-` left off the type. */
export type StoredTimeline = [number, ...([string, number] | [string, number, string])[]];

export class TaskTimeline {
  /** code, timestamp, code, timestamp… (null until the first event). */
  private data: number[] | null = null;
  /** Entries in `data`. */
  length = 0;
  /** Entries dropped between the head and the latest ones. */
  omitted = 0;

  /**
   * Record one event. The same event delivered twice (a broker redelivery, a replay) adds
   * nothing: an entry with the same type, timestamp and hostname is already kept. A late event
   * (older than the ones before it) is kept where it arrived; readers order by time if they wish.
   */
  push(type: string, timestamp: number, hostname: string | null): void {
    const code = typeId(type) * HOST_BITS + hostId(hostname);
    let data = this.data;
    const used = this.length * 2;
    if (data !== null) {
      for (let i = used - 2; i >= 0; i -= 2) if (data[i + 1] === timestamp && data[i] === code) return;
    }
    if (this.length >= MAX_TIMELINE && data !== null) {
      // Drop the oldest of the latest part; the head stays as it is.
      data.copyWithin(TIMELINE_HEAD * 2, TIMELINE_HEAD * 2 + 2, used);
      data[used - 2] = code;
      data[used - 1] = timestamp;
      this.omitted++;
      return;
    }
    if (data === null || used === data.length) data = this.grow(data);
    data[used] = code;
    data[used + 1] = timestamp;
    this.length++;
  }

  /** A larger array, sized exactly (Array#push would over-allocate by 16 slots per task). */
  private grow(data: number[] | null): number[] {
    const capacity = data === null ? FIRST_CAPACITY * 2 : Math.min(data.length * 2, MAX_TIMELINE * 2);
    // Filled with a non-integer so the array is a packed double array from the start.
    const next = new Array<number>(capacity).fill(0.5);
    if (data !== null) for (let i = 0; i < data.length; i++) next[i] = data[i] as number;
    this.data = next;
    return next;
  }

  /** The kept entries, in arrival order (fresh objects: callers may keep them). */
  steps(): TimelineStep[] {
    const steps: TimelineStep[] = [];
    const data = this.data;
    if (data === null) return steps;
    for (let i = 0; i < this.length * 2; i += 2) {
      const code = data[i] as number;
      steps.push({ type: TYPES[Math.floor(code / HOST_BITS)] ?? OTHER_TYPE, timestamp: data[i + 1] as number, hostname: HOSTS[code % HOST_BITS] ?? null });
    }
    return steps;
  }

  /** The stored form (the `tasks.events` column): a few bytes per event for every stored task. */
  toJSON(): StoredTimeline {
    const entries = this.steps().map(({ type, timestamp, hostname }): [string, number] | [string, number, string] => {
      const short = type.startsWith('task-') ? type.slice(5) : `=${type}`;
      return hostname === null ? [short, timestamp] : [short, timestamp, hostname];
    });
    return [this.omitted, ...entries];
  }

  /**
   * `earlier`'s entries, then `later`'s (an entry both have is kept once): a record that began
   * mid-task joined to the timeline the store kept for it.
   */
  static merged(earlier: TaskTimeline, later: TaskTimeline): TaskTimeline {
    const timeline = new TaskTimeline();
    for (const step of [...earlier.steps(), ...later.steps()]) timeline.push(step.type, step.timestamp, step.hostname);
    timeline.omitted += earlier.omitted + later.omitted;
    return timeline;
  }

  /** Back from the stored form (already checked for shape, see server/store/task-row.ts). */
  static fromStored(stored: readonly [number, ...(readonly [string, number, string?])[]]): TaskTimeline {
    const timeline = new TaskTimeline();
    const [omitted, ...entries] = stored;
    for (const [short, timestamp, host] of entries.slice(0, MAX_TIMELINE)) timeline.push(short.startsWith('=') ? short.slice(1) : `task-${short}`, timestamp, host ?? null);
    timeline.omitted = omitted;
    return timeline;
  }
}
