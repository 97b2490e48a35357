/**
 * The schema migrations of a SQLite file, run in a thread of their own (./sqlite.ts,
 * migrateOnThread) so that the event loop goes on while they run: a migration that rebuilds an
 * index over every row takes minutes at millions of tasks (schema 8 rebuilt the search index of
 * 1,000,000 tasks in 106 s), and monitoring, the UI and `/healthcheck` must not wait for it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorText } from '../errors';
import { migrate, SchemaTooNewError } from './migrate';
import { MIGRATIONS } from './schema';
import { type MigrateReply, type MigrateThreadInit, SqliteDatabase } from './sqlite';

async function run(port: NonNullable<typeof parentPort>, init: MigrateThreadInit): Promise<void> {
  let reply: MigrateReply;
  let db: SqliteDatabase | null = null;
  try {
    db = new SqliteDatabase(init.file);
    reply = { ok: true, report: await migrate(db, MIGRATIONS) };
  } catch (error) {
    reply = error instanceof SchemaTooNewError ? { ok: false, tooNew: { found: error.found, latest: error.latest } } : { ok: false, error: errorText(error) };
  }
  try {
    await db?.close();
  } catch {
    // The answer stands: the connection is gone with the thread.
  }
  port.postMessage(reply);
}

if (parentPort) await run(parentPort, workerData as MigrateThreadInit);
