/**
 * The pause state in the store: one row of `pauses` (./schema.ts) per paused queue or worker,
 * the whole state replaced in one transaction on every change (it is a handful of rows). The
 * `celeriac_imports` marker says the store holds the state: before it, load() answers null and
 * the caller imports pauses.json; after it, an empty table means nothing is paused.
 */
import { z } from 'zod';
import type { JsonValue } from '../protocol/events';
import type { PauseRepository, PauseState } from '../control/pauses';
import type { SqlValue, StoreDatabase } from './migrate';

const SOURCE = 'pauses.json';

const jsonValue: z.ZodType<JsonValue> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]));
const queueRecord = z.object({ pausedAt: z.number(), by: z.string().nullable(), workers: z.array(z.string()) });
const workerRecord = z.object({ pausedAt: z.number(), by: z.string().nullable(), consumers: z.array(z.object({ queue: z.string(), declaration: jsonValue.nullable() })) });

export class StoredPauses implements PauseRepository {
  constructor(private readonly db: Pick<StoreDatabase, 'runner' | 'transaction'>) {}

  async load(): Promise<PauseState | null> {
    const [marker] = await this.db.runner.rows('SELECT entries FROM celeriac_imports WHERE source = $1', [SOURCE]);
    if (!marker) return null;
    const state: PauseState = { queues: {}, workers: {} };
    for (const row of await this.db.runner.rows('SELECT kind, name, record FROM pauses ORDER BY kind, name')) {
      const name = String(row.name);
      let record: unknown;
      try {
        record = JSON.parse(String(row.record));
      } catch {
        continue; // a row that does not decode pauses nothing
      }
      if (row.kind === 'queue') {
        const parsed = queueRecord.safeParse(record);
        if (parsed.success) state.queues[name] = parsed.data;
      } else if (row.kind === 'worker') {
        const parsed = workerRecord.safeParse(record);
        if (parsed.success) state.workers[name] = parsed.data;
      }
    }
    return state;
  }

  async save(state: PauseState): Promise<void> {
    const rows: SqlValue[][] = [
      ...Object.entries(state.queues).map(([name, record]): SqlValue[] => ['queue', name, JSON.stringify(record)]),
      ...Object.entries(state.workers).map(([name, record]): SqlValue[] => ['worker', name, JSON.stringify(record)]),
    ];
    await this.db.transaction(async (sql) => {
      await sql.execute('DELETE FROM pauses');
      for (const row of rows) await sql.execute('INSERT INTO pauses (kind, name, record) VALUES ($1, $2, $3)', row);
      await sql.execute('INSERT INTO celeriac_imports (source, imported_at, entries) VALUES ($1, $2, $3) ON CONFLICT (source) DO NOTHING', [SOURCE, Date.now() / 1000, rows.length]);
    });
  }
}
