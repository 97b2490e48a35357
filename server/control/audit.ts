/**
 * The audit trail of every control action: who did what to which target, with which
 * parameters, and what each worker answered. Appended as JSON lines to <data-dir>/audit.jsonl
 * (so it survives restarts and can be shipped by any log collector) and kept in memory, newest
 * last, for `GET /api/audit`.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { JsonValue } from '../protocol/events';

export interface WorkerOutcome {
  ok: boolean;
  message: string;
}

export interface AuditEntry {
  /** Epoch seconds. */
  time: number;
  /** Basic-auth user, or null when auth is off. */
  user: string | null;
  /** Client address as the HTTP server saw it. */
  remote: string | null;
  action: string;
  /** Worker, task id, queue… or '*' for cluster-wide actions. */
  target: string;
  parameters: Record<string, JsonValue>;
  ok: boolean;
  message: string;
  /** Per-worker outcome, when workers were asked. */
  workers: Record<string, WorkerOutcome>;
}

const KEEP_IN_MEMORY = 10_000;

export class AuditLog {
  private readonly entries: AuditEntry[] = [];
  private readonly file: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    dataDir: string,
    private readonly logger: Logger,
  ) {
    this.file = path.join(dataDir, 'audit.jsonl');
  }

  /** Load the tail of the file; an unreadable line is skipped and logged, never fatal. */
  async load(): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    let bad = 0;
    for (const line of lines.slice(-KEEP_IN_MEMORY)) {
      try {
        this.entries.push(JSON.parse(line) as AuditEntry);
      } catch {
        bad++;
      }
    }
    if (bad > 0) this.logger.warn({ file: this.file, bad }, 'skipped unreadable audit log lines');
  }

  /** Record an action; the file write is serialized so lines never interleave. */
  record(entry: AuditEntry): Promise<void> {
    this.entries.push(entry);
    if (this.entries.length > KEEP_IN_MEMORY) this.entries.splice(0, this.entries.length - KEEP_IN_MEMORY);
    this.logger.info({ audit: entry }, `control action ${entry.action} on ${entry.target}: ${entry.ok ? 'ok' : 'failed'}`);
    this.writing = this.writing
      .then(() => appendFile(this.file, `${JSON.stringify(entry)}\n`, 'utf8'))
      .catch((error: unknown) => this.logger.error({ err: String(error), file: this.file }, 'cannot write the audit log'));
    return this.writing;
  }

  /** Newest first, filtered and paged. */
  list(options: { limit: number; offset: number; action?: string | null; target?: string | null }): { total: number; entries: AuditEntry[] } {
    const matched = this.entries.filter((e) => (!options.action || e.action === options.action) && (!options.target || e.target === options.target));
    matched.reverse();
    return { total: matched.length, entries: matched.slice(options.offset, options.offset + options.limit) };
  }
}
