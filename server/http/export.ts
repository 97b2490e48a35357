/**
 * `GET /api/celeriac/tasks/export?format=csv|ndjson&…`: the tasks list's current filter (every
 * Flower filter, `queue`, `search`, `sort_by`, `limit`/`offset`) as a download, streamed from
 * the read model a batch at a time and written with the socket's backpressure, so a million rows
 * never sit in memory and a slow client slows the export, not the process.
 */
import type { Request, Response } from 'express';
import { RequestError } from '../errors';
import type { HistoryQueries } from '../views/read-model';
import { EXPORTED_TASK_FIELDS, type ExportedTask } from '../views/types';
import { param, parseTaskFilter, type Query } from './params';

const FORMATS = {
  csv: { type: 'text/csv; charset=utf-8', extension: 'csv' },
  ndjson: { type: 'application/x-ndjson; charset=utf-8', extension: 'ndjson' },
} as const;
type Format = keyof typeof FORMATS;

export function exportTasksHandler(read: Pick<HistoryQueries, 'exportTasks'>) {
  return async (req: Request, res: Response): Promise<void> => {
    const query = req.query as Query;
    const format = param(query, 'format') ?? 'csv';
    if (!(format in FORMATS)) throw new RequestError(400, `format must be csv or ndjson (got '${format}')`);
    const chosen = FORMATS[format as Format];
    const filter = parseTaskFilter(query);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    res.status(200);
    res.setHeader('Content-Type', chosen.type);
    res.setHeader('Content-Disposition', `attachment; filename="celeriac-tasks-${stamp}.${chosen.extension}"`);
    res.setHeader('Cache-Control', 'no-store');
    let aborted = false;
    res.on('close', () => {
      aborted = !res.writableFinished;
    });
    if (format === 'csv') await write(res, `${EXPORTED_TASK_FIELDS.join(',')}\r\n`);
    for await (const batch of read.exportTasks(filter)) {
      if (aborted) return; // the client went away: stop reading the store
      const text = batch.map((task) => (format === 'csv' ? csvLine(task) : `${JSON.stringify(task)}\n`)).join('');
      await write(res, text);
    }
    res.end();
  };
}

/** Write, and wait for the socket to drain when its buffer is full (or for it to close). */
function write(res: Response, text: string): Promise<void> {
  if (res.write(text)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** One RFC 4180 line; times as ISO 8601 (UTC), which spreadsheets read. */
export function csvLine(task: ExportedTask): string {
  return `${EXPORTED_TASK_FIELDS.map((field) => csvCell(field, task[field])).join(',')}\r\n`;
}

const TIME_FIELDS: ReadonlySet<keyof ExportedTask> = new Set(['sent', 'received', 'started', 'succeeded', 'failed', 'retried', 'revoked']);

function csvCell(field: keyof ExportedTask, value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return TIME_FIELDS.has(field) ? new Date(value * 1000).toISOString() : String(value);
  // A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR) is prefixed with a quote:
  // task arguments come from whoever sends tasks (OWASP's CSV injection advice).
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
