/**
 * What a revoke reply says. Celery's revoke is a broadcast that workers *remember*: a worker
 * discards a revoked id when it takes the task, a running task finishes unless it is terminated,
 * and the ids live only in running workers' memory (new workers learn them from running ones at
 * start — mingle — or from a --statedb file). Nothing is revoked until a worker reports it, so the
 * reply must never say "Revoked" — only what was sent and what will happen.
 */

/** The tasks of one revoke call, classified by their state when it was sent. */
export interface RevocationSummary {
  taskIds: readonly string[];
  /** Known and not started (PENDING, RECEIVED, RETRY…): discarded when a worker takes them. */
  waiting: number;
  /** STARTED (or a custom state): keep running unless terminated. */
  running: number;
  /** Already SUCCESS, FAILURE or REVOKED: nothing to stop. */
  finished: number;
  /** Celeriac never saw them: sent anyway, but not followed. */
  unknown: number;
  /** For a single task: the worker running it, or its final state. */
  runningOn: string | null;
  finishedState: string | null;
  terminate: boolean;
  signal: string;
  /** Workers that acknowledged the broadcast. */
  acknowledged: number;
  /** Online workers (by heartbeat) that did not answer. */
  silent: readonly string[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Online workers that stayed silent may still have applied it: say so. */
function silentNote(silent: readonly string[]): string {
  if (silent.length === 0) return '';
  const names = silent.length <= 3 ? silent.join(', ') : `${silent.slice(0, 3).join(', ')} and ${silent.length - 3} more`;
  return ` (no reply from ${names}; ${silent.length === 1 ? 'it' : 'they'} may still have applied it)`;
}

const NEVER_HEAR = "workers that start later never hear of it (Celery keeps revoked ids only in running workers' memory)";

export function describeRevocation(s: RevocationSummary): string {
  const total = s.taskIds.length;
  if (total === 1) return describeOne(s, s.taskIds[0] as string);
  const unfinished = s.waiting + s.running;
  if (s.acknowledged === 0) {
    return `No worker acknowledged the revocation of ${total} tasks${silentNote(s.silent)}: ${NEVER_HEAR}, so ${unfinished === 1 ? 'the unfinished one' : 'they'} will run when a worker takes ${unfinished === 1 ? 'it' : 'them'}`;
  }
  const sentTo = `${s.terminate ? `Terminate signal ${s.signal}` : 'Revocation'} sent to ${plural(s.acknowledged, 'worker')} for ${total} tasks`;
  const parts: string[] = [];
  if (s.running > 0 && s.terminate) parts.push(`${s.running} running will be signalled`);
  if (s.waiting > 0) parts.push(`${s.waiting} waiting will be discarded when a worker takes ${s.waiting === 1 ? 'it' : 'them'}`);
  if (s.running > 0 && !s.terminate) {
    parts.push(s.running === 1 ? '1 running keeps running until it finishes (terminate to stop it)' : `${s.running} running keep running until they finish (terminate to stop them)`);
  }
  if (s.finished > 0) parts.push(`${s.finished} already finished (nothing to stop)`);
  if (s.unknown > 0) parts.push(`${s.unknown} unknown to Celeriac`);
  return `${sentTo}: ${parts.join('; ')}${silentNote(s.silent)}`;
}

function describeOne(s: RevocationSummary, id: string): string {
  const sentTo = `sent to ${plural(s.acknowledged, 'worker')}`;
  if (s.unknown === 1) {
    return s.acknowledged === 0
      ? `No worker acknowledged the revocation of '${id}'${silentNote(s.silent)}, and Celeriac has not seen this task either`
      : `Revocation of '${id}' ${sentTo}${silentNote(s.silent)}; Celeriac has not seen this task, so it cannot follow whether a worker discards it`;
  }
  if (s.finished === 1) return `'${id}' already finished (${s.finishedState ?? 'done'}): the revocation ${sentTo} changes nothing`;
  if (s.running === 1) {
    if (s.acknowledged === 0) return `No worker acknowledged the revocation${silentNote(s.silent)}: it keeps running${s.runningOn ? ` on ${s.runningOn}` : ''}`;
    if (s.terminate) return `Terminate signal ${s.signal} ${sentTo}${silentNote(s.silent)}; the task shows Revoked once its worker reports it`;
    return `Revocation ${sentTo}${silentNote(s.silent)}, but it is already running${s.runningOn ? ` on ${s.runningOn}` : ''} and keeps running until it finishes (revoke without terminate only stops it from being run again): terminate it to stop it now`;
  }
  if (s.acknowledged === 0) return `No worker acknowledged the revocation${silentNote(s.silent)}: ${NEVER_HEAR}, so it will run when a worker takes it`;
  return `Revocation ${sentTo}${silentNote(s.silent)}; it will be discarded when a worker takes it`;
}
