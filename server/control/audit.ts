/**
 * The audit trail of every control action: who did what to which target, with which
 * parameters, and what each worker answered. Appended as JSON lines to <data-dir>/audit.jsonl
 * (so it survives restarts and can be shipped by any log collector) and kept in memory, newest
 * last, for `GET /api/audit`.
 *
 * With a store (keepInStore), every entry also goes to the store, which answers `GET /api/audit`
 * over everything it kept; the entries audit.jsonl held before are imported once. The store
 * being down loses no entry: the store's writer keeps it (bounded, drops counted) until the store
 * takes it, and the list merges what waits with what is stored — or, when the store cannot be
 * asked, answers from memory as without a store.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
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
/** How often an import the store refused is tried again. */
const IMPORT_RETRY_MS = 5_000;

/** An entry with the id the store keeps it under: a write retried after an unclear failure adds nothing. */
export interface KeyedAuditEntry {
  id: string;
  entry: AuditEntry;
}

export interface AuditListQuery {
  limit: number;
  offset: number;
  action?: string | null;
  target?: string | null;
}

export interface AuditPage {
  total: number;
  entries: AuditEntry[];
}

/** What the audit log needs of a store (server/store/audit-row.ts implements it). */
export interface AuditRepository {
  /** Hand an entry to the store's writer: never fails, the writer keeps it until the store takes it. */
  record(entry: KeyedAuditEntry): void;
  /**
   * Import entries of `source` unless the store says it was imported before (each entry's id
   * makes a second run add nothing). Resolves with the entries imported, 0 if it was done before.
   */
  importOnce(source: string, entries: readonly KeyedAuditEntry[]): Promise<number>;
  /** Newest first over everything stored and everything waiting to be; rejects if the store cannot be asked. */
  list(query: AuditListQuery): Promise<AuditPage>;
}

export class AuditLog {
  private readonly entries: AuditEntry[] = [];
  private readonly file: string;
  private writing: Promise<void> = Promise.resolve();
  private repository: AuditRepository | null = null;
  /**
   * Lines the file had when load() read it, until the store imported them: what is appended
   * later also goes to the store directly, so only these are imported.
   */
  private linesToImport: number | null = null;
  private importRetry: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    dataDir: string,
    private readonly logger: Logger,
  ) {
    this.file = path.join(dataDir, 'audit.jsonl');
  }

  /**
   * Keep entries in `repository` from now on, and import the file's entries into it once (tried
   * again every 5 s while the store refuses). Call after load().
   */
  async keepInStore(repository: AuditRepository): Promise<void> {
    this.repository = repository;
    await this.importFile();
  }

  private async importFile(): Promise<void> {
    const repository = this.repository;
    const lines = this.linesToImport;
    if (repository === null || lines === null || this.stopped) return;
    try {
      const imported = await repository.importOnce(
        IMPORT_SOURCE,
        (await this.readEntries()).filter((keyed) => keyed.line <= lines),
      );
      this.linesToImport = null;
      if (imported > 0) this.logger.info({ file: this.file, entries: imported }, 'audit log file imported into the store');
    } catch (error) {
      this.logger.warn({ err: String(error), file: this.file }, 'cannot import the audit log file into the store yet; trying again in 5 s');
      this.importRetry = setTimeout(() => void this.importFile(), IMPORT_RETRY_MS);
      this.importRetry.unref();
    }
  }

  /** Stop trying to import (shutdown); entries already handed to the store are its writer's to flush. */
  stop(): void {
    this.stopped = true;
    if (this.importRetry) clearTimeout(this.importRetry);
    this.importRetry = null;
  }

  /** Load the tail of the file; an unreadable line is skipped and logged, never fatal. */
  async load(): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const parsed = await this.readEntries();
    for (const { entry } of parsed.slice(-KEEP_IN_MEMORY)) this.entries.push(entry);
    this.linesToImport = parsed.at(-1)?.line ?? null;
  }

  /** The file's entries with their line numbers; an unreadable line is skipped and logged. */
  private async readEntries(): Promise<(KeyedAuditEntry & { line: number })[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const parsed: (KeyedAuditEntry & { line: number })[] = [];
    let bad = 0;
    text.split('\n').forEach((text, index) => {
      if (text.trim() === '') return;
      const entry = auditEntryOf(text);
      // The line's position is its id: importing the same file again adds nothing.
      if (entry) parsed.push({ id: `${IMPORT_SOURCE}:${index + 1}`, entry, line: index + 1 });
      else bad++;
    });
    if (bad > 0) this.logger.warn({ file: this.file, bad }, 'skipped unreadable audit log lines');
    return parsed;
  }

  /** Record an action; the file write is serialized so lines never interleave. */
  record(entry: AuditEntry): Promise<void> {
    this.repository?.record({ id: randomUUID(), entry });
    this.entries.push(entry);
    if (this.entries.length > KEEP_IN_MEMORY) this.entries.splice(0, this.entries.length - KEEP_IN_MEMORY);
    this.logger.info({ audit: entry }, `control action ${entry.action} on ${entry.target}: ${entry.ok ? 'ok' : 'failed'}`);
    this.writing = this.writing
      .then(() => appendFile(this.file, `${JSON.stringify(entry)}\n`, 'utf8'))
      .catch((error: unknown) => this.logger.error({ err: String(error), file: this.file }, 'cannot write the audit log'));
    return this.writing;
  }

  /**
   * Newest first, filtered and paged: from the store when there is one (everything it kept),
   * else — or while the store cannot be asked — from memory.
   */
  async query(options: AuditListQuery): Promise<AuditPage> {
    if (this.repository === null) return this.list(options);
    try {
      return await this.repository.list(options);
    } catch (error) {
      this.logger.debug({ err: String(error) }, 'the store cannot list the audit log; answering from memory');
      return this.list(options);
    }
  }

  /** Newest first, filtered and paged, over the entries kept in memory (the last 10,000). */
  list(options: AuditListQuery): AuditPage {
    const matched = this.entries.filter((e) => (!options.action || e.action === options.action) && (!options.target || e.target === options.target));
    matched.reverse();
    return { total: matched.length, entries: matched.slice(options.offset, options.offset + options.limit) };
  }
}

/** The store's name for the file's entries (ids `audit.jsonl:<line>`, the import marker). */
const IMPORT_SOURCE = 'audit.jsonl';

const workerOutcomeSchema = z.object({ ok: z.boolean(), message: z.string() });
const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValueSchema), z.record(z.string(), jsonValueSchema)]));

/** An entry as audit.jsonl or the store holds it: checked, because a file or a row is input like any other. */
export const auditEntrySchema = z.object({
  time: z.number(),
  user: z.string().nullable().catch(null),
  remote: z.string().nullable().catch(null),
  action: z.string(),
  target: z.string(),
  parameters: z.record(z.string(), jsonValueSchema).catch({}),
  ok: z.boolean(),
  message: z.string().catch(''),
  workers: z.record(z.string(), workerOutcomeSchema).catch({}),
});

function auditEntryOf(line: string): AuditEntry | null {
  try {
    const parsed = auditEntrySchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
