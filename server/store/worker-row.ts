/**
 * A worker as one row of `workers` (./schema.ts), and back. What is kept is what the workers
 * view and the metrics show of a worker that is not talking yet: its identity, software, pool
 * figures and event counters. A restored worker is offline until it is heard from again — its
 * heartbeats are not restored, so nothing claims it is alive across a restart.
 */
import { z } from 'zod';
import { WorkerRecord } from '../state/worker-registry';
import type { ChangeSink } from './change-writer';
import type { SqlRunner, StoreDatabase } from './migrate';

/** The `record` column: decoded with zod, because a stored row is input like any other. */
const storedWorker = z.object({
  pid: z.number().nullable(),
  freq: z.number(),
  freqKnown: z.boolean(),
  clock: z.number(),
  processedReported: z.number(),
  loadavg: z.array(z.number()).nullable(),
  swIdent: z.string().nullable(),
  swVer: z.string().nullable(),
  swSys: z.string().nullable(),
  eventCounts: z.record(z.string(), z.number()),
});

type StoredWorker = z.infer<typeof storedWorker>;

function recordOf(worker: WorkerRecord): StoredWorker {
  return {
    pid: worker.pid,
    freq: worker.freq,
    freqKnown: worker.freqKnown,
    clock: worker.clock,
    processedReported: worker.processedReported,
    loadavg: worker.loadavg,
    swIdent: worker.swIdent,
    swVer: worker.swVer,
    swSys: worker.swSys,
    eventCounts: Object.fromEntries(worker.eventCounts),
  };
}

async function upsertWorkers(sql: SqlRunner, workers: readonly WorkerRecord[], at: number): Promise<void> {
  for (const worker of workers) {
    await sql.execute(
      'INSERT INTO workers (hostname, record, last_heard, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (hostname) DO UPDATE SET record = excluded.record, last_heard = excluded.last_heard, updated_at = excluded.updated_at',
      [worker.hostname, JSON.stringify(recordOf(worker)), worker.lastHeartbeat() ?? worker.offlineSince, at],
    );
  }
}

/** The worker writer's sink: each batch one transaction. */
export function workerSink(db: Pick<StoreDatabase, 'transaction'>): ChangeSink<WorkerRecord> {
  return { write: (workers, at) => db.transaction((sql) => upsertWorkers(sql, workers, at)) };
}

/** A stored worker, offline since it was last heard; null for a row that does not decode. */
export function workerFromRow(row: Record<string, unknown>): WorkerRecord | null {
  let parsed: StoredWorker;
  try {
    parsed = storedWorker.parse(JSON.parse(String(row.record)));
  } catch {
    return null;
  }
  const worker = new WorkerRecord(String(row.hostname));
  worker.pid = parsed.pid;
  worker.freq = parsed.freq;
  worker.freqKnown = parsed.freqKnown;
  worker.clock = parsed.clock;
  worker.processedReported = parsed.processedReported;
  worker.loadavg = parsed.loadavg;
  worker.swIdent = parsed.swIdent;
  worker.swVer = parsed.swVer;
  worker.swSys = parsed.swSys;
  for (const [type, count] of Object.entries(parsed.eventCounts)) worker.eventCounts.set(type, count);
  worker.offlineSince = row.last_heard === null || row.last_heard === undefined ? null : Number(row.last_heard);
  return worker;
}
