/**
 * A SQLite thread with its own connection to the database file, so the event loop never waits
 * on the disk. As the writer (./sqlite.ts) it runs each batch of statements in one transaction;
 * as the reader it answers the long reads (history lists, searches, counts). WAL lets each read
 * while the other writes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { errorText } from '../errors';
import type { SqlValue } from './migrate';

export interface WriterThreadInit {
  file: string;
}

/** One batch: statements in `?` form (./sqlite.ts translates), run in one transaction. */
export interface WriteRequest {
  id: number;
  statements: { sql: string; values: SqlValue[] }[];
}

/** One slow read (a count over every row) kept off the event loop; it waits its turn between batches. */
export interface ReadRequest {
  id: number;
  read: { sql: string; values: SqlValue[] };
}

/** `changes`: rows the batch inserted, updated or deleted (SQLite's changes(), summed); `rows`: a read's answer. */
export type WriteReply = { id: number; ok: true; changes: number; rows?: Record<string, unknown>[] } | { id: number; ok: false; error: string };

function run(port: NonNullable<typeof parentPort>, init: WriterThreadInit): void {
  const db = new Database(init.file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const prepared = new Map<string, Database.Statement>();
  const statement = (sql: string): Database.Statement => {
    let found = prepared.get(sql);
    if (!found) {
      found = db.prepare(sql);
      if (prepared.size >= 256) prepared.clear();
      prepared.set(sql, found);
    }
    return found;
  };
  const write = db.transaction((statements: WriteRequest['statements']): number => {
    let changes = 0;
    for (const { sql, values } of statements) changes += statement(sql).run(...values).changes;
    return changes;
  });
  // Each batch BEGINs IMMEDIATE: the write lock is taken at BEGIN, where busy_timeout waits for
  // another connection's writes. A deferred transaction whose first statement reads before it
  // writes (a DELETE from the FTS5 table reads `tasks` first) failed at once with "database is
  // locked" when another connection had committed meanwhile: a stale snapshot cannot be upgraded.
  port.on('message', (request: WriteRequest | ReadRequest) => {
    let reply: WriteReply;
    try {
      reply =
        'read' in request
          ? { id: request.id, ok: true, changes: 0, rows: statement(request.read.sql).all(...request.read.values) as Record<string, unknown>[] }
          : { id: request.id, ok: true, changes: write.immediate(request.statements) };
    } catch (error) {
      reply = { id: request.id, ok: false, error: errorText(error) };
    }
    port.postMessage(reply);
  });
}

if (parentPort) run(parentPort, workerData as WriterThreadInit);
