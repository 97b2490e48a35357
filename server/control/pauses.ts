/**
 * Paused queues and workers, persisted so a pause survives a Celeriac restart. What is stored is
 * what is needed to undo the pause exactly: for each paused worker queue, the queue declaration
 * the worker reported (`active_queues`), so resuming re-adds the consumer with the same exchange
 * and routing key.
 *
 * Without a store the state lives in <data-dir>/pauses.json. With one (keepInStore) the store's
 * `pauses` table is the source at start (pauses.json is imported into it once, the first time),
 * and every change is written to it; the file is still written too, as the copy a start uses
 * while the store cannot be reached. A change the store refused is written again every 5 s
 * until it takes it.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { JsonValue } from '../protocol/events';

export interface PausedConsumer {
  queue: string;
  /** The worker's `active_queues` entry for the queue, when known. */
  declaration: JsonValue | null;
}

export interface PauseState {
  /** Queues paused cluster-wide → the workers whose consumers were cancelled, and when/by whom. */
  queues: Record<string, { pausedAt: number; by: string | null; workers: string[] }>;
  /** Workers paused → the consumers to restore. */
  workers: Record<string, { pausedAt: number; by: string | null; consumers: PausedConsumer[] }>;
}

/** What the pause state needs of a store (server/store/pause-row.ts implements it). */
export interface PauseRepository {
  /** The stored state, or null when the store has none yet (the file was never imported). */
  load(): Promise<PauseState | null>;
  /** Replace the stored state (one transaction); from then on load() gives it. */
  save(state: PauseState): Promise<void>;
}

/** How often a store that refused the pause state is tried again. */
const STORE_RETRY_MS = 5_000;

export class PauseStore {
  private state: PauseState = { queues: {}, workers: {} };
  private readonly file: string;
  private writing: Promise<void> = Promise.resolve();
  private repository: PauseRepository | null = null;
  /** The store has the state (loaded from it or saved to it); until then it is tried again. */
  private synced = false;
  /** A change was made since the store last took the state. */
  private unsaved = false;
  private storeWriting: Promise<void> = Promise.resolve();
  private retry: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    dataDir: string,
    private readonly logger: Logger,
  ) {
    this.file = path.join(dataDir, 'pauses.json');
  }

  async load(): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    try {
      const parsed: unknown = JSON.parse(await readFile(this.file, 'utf8'));
      if (isPauseState(parsed)) this.state = parsed;
      else this.logger.warn({ file: this.file }, 'pause state file has an unexpected shape; starting with nothing paused');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn({ err: String(error), file: this.file }, 'cannot read the pause state; starting with nothing paused');
    }
  }

  /**
   * Keep the state in `repository` from now on: load it from there, or — the first time — import
   * what pauses.json held. Call after load(). If the store refuses, the file's state stays in
   * effect and the store is tried again every 5 s.
   */
  async keepInStore(repository: PauseRepository): Promise<void> {
    this.repository = repository;
    await this.syncWithStore();
  }

  private async syncWithStore(): Promise<void> {
    const repository = this.repository;
    if (repository === null || this.stopped) return;
    try {
      if (!this.synced) {
        const stored = await repository.load();
        if (stored !== null && !this.unsaved) {
          this.state = stored;
        } else {
          // Nothing stored yet (import the file's state), or changes made while the store was down win.
          this.unsaved = true;
          if (stored === null) this.logger.info({ file: this.file }, 'pause state imported into the store');
        }
        this.synced = true;
      }
      if (this.unsaved) {
        this.unsaved = false;
        await repository.save(structuredClone(this.state));
      }
    } catch (error) {
      this.unsaved = this.unsaved || this.synced;
      this.logger.warn({ err: String(error) }, 'the store does not take the pause state; trying again in 5 s');
      if (this.retry === null && !this.stopped) {
        this.retry = setTimeout(() => {
          this.retry = null;
          this.storeWriting = this.storeWriting.then(() => this.syncWithStore());
        }, STORE_RETRY_MS);
        this.retry.unref();
      }
    }
  }

  /** Stop retrying (shutdown), after the store write under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    await this.storeWriting;
  }

  get(): Readonly<PauseState> {
    return this.state;
  }

  /** Apply a change and persist it (write to a temporary file, then rename: never a torn file). */
  update(change: (state: PauseState) => void): Promise<void> {
    change(this.state);
    const snapshot = JSON.stringify(this.state, null, 2);
    const temporary = `${this.file}.tmp`;
    this.writing = this.writing
      .then(async () => {
        await writeFile(temporary, snapshot, 'utf8');
        await rename(temporary, this.file);
      })
      .catch((error: unknown) => this.logger.error({ err: String(error), file: this.file }, 'cannot save the pause state'));
    if (this.repository === null) return this.writing;
    this.unsaved = true;
    this.storeWriting = this.storeWriting.then(() => this.syncWithStore());
    return Promise.all([this.writing, this.storeWriting]).then(() => undefined);
  }
}

function isPauseState(value: unknown): value is PauseState {
  if (typeof value !== 'object' || value === null) return false;
  const { queues, workers } = value as { queues?: unknown; workers?: unknown };
  return typeof queues === 'object' && queues !== null && typeof workers === 'object' && workers !== null;
}
