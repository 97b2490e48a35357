/**
 * Paused queues and workers, persisted in <data-dir>/pauses.json so a pause survives a Celeriac
 * restart. What is stored is what is needed to undo the pause exactly: for each paused worker
 * queue, the queue declaration the worker reported (`active_queues`), so resuming re-adds the
 * consumer with the same exchange and routing key.
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

export class PauseStore {
  private state: PauseState = { queues: {}, workers: {} };
  private readonly file: string;
  private writing: Promise<void> = Promise.resolve();

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
    return this.writing;
  }
}

function isPauseState(value: unknown): value is PauseState {
  if (typeof value !== 'object' || value === null) return false;
  const { queues, workers } = value as { queues?: unknown; workers?: unknown };
  return typeof queues === 'object' && queues !== null && typeof workers === 'object' && workers !== null;
}
