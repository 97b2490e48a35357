/**
 * Workers' inspect data (Flower's `/api/workers` cache), kept fresh: at start, whenever a worker
 * comes online (so a worker started after Celeriac is never unknown to the controls — a known
 * Flower defect), every --inspect-interval seconds, and on demand.
 */
import type { Logger } from 'pino';
import type { JsonValue } from '../protocol/events';
import type { Mailbox } from './mailbox';

/** The inspect methods Flower caches, and the arguments Flower sends. */
export const INSPECT_METHODS = ['stats', 'active_queues', 'registered', 'scheduled', 'active', 'reserved', 'revoked', 'conf'] as const;
export type InspectMethod = (typeof INSPECT_METHODS)[number];
const INSPECT_ARGUMENTS: Partial<Record<InspectMethod, Record<string, JsonValue>>> = { active: { safe: true }, conf: { with_defaults: false } };

/** Flower's per-worker cache entry: a key appears once that method answered. */
export type WorkerInspection = Partial<Record<InspectMethod, JsonValue>> & { timestamp?: number };

/** How long to wait after a worker appears before inspecting it (lets its consumers start). */
const ONLINE_DEBOUNCE_MS = 500;

export class Inspector {
  private readonly cache = new Map<string, WorkerInspection>();
  /** Refreshes under way and the next one queued behind each, keyed by target ('*' = every worker). */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly queued = new Map<string, Promise<void>>();
  private readonly pendingOnline = new Set<string>();
  private onlineTimer: NodeJS.Timeout | null = null;
  private intervalTimer: NodeJS.Timeout | null = null;
  private readonly inspectedListeners: ((hostname: string, data: WorkerInspection) => void)[] = [];

  constructor(
    private readonly mailbox: Mailbox,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /** A worker is no longer tracked: forget its inspect data too. */
  workerRemoved(hostname: string): void {
    this.cache.delete(hostname);
  }

  /** Called with each worker's fresh data (pauses re-apply themselves through this). */
  onInspected(listener: (hostname: string, data: WorkerInspection) => void): void {
    this.inspectedListeners.push(listener);
  }

  start(intervalSeconds: number): void {
    if (intervalSeconds > 0) {
      this.intervalTimer = setInterval(() => void this.refresh().catch(() => undefined), intervalSeconds * 1000);
      this.intervalTimer.unref();
    }
  }

  stop(): void {
    if (this.intervalTimer) clearInterval(this.intervalTimer);
    if (this.onlineTimer) clearTimeout(this.onlineTimer);
    this.intervalTimer = null;
    this.onlineTimer = null;
  }

  /** A worker came online: inspect it shortly (debounced, so a cluster starting at once is one request). */
  workerOnline(hostname: string): void {
    this.pendingOnline.add(hostname);
    this.onlineTimer ??= setTimeout(() => {
      this.onlineTimer = null;
      const workers = [...this.pendingOnline];
      this.pendingOnline.clear();
      this.refresh(workers).catch((error: unknown) => this.logger.debug({ err: String(error) }, 'inspect of new workers failed'));
    }, ONLINE_DEBOUNCE_MS);
  }

  /**
   * Run every inspect method (for `workers`, or all) and merge the replies. A refresh always
   * reflects the cluster *after* it was asked for: when one for the same target is already under
   * way, the caller gets the next run, and every caller arriving meanwhile shares that run.
   * Rejects when the broker is unreachable.
   */
  refresh(workers?: string[]): Promise<void> {
    const destination = workers && workers.length > 0 ? [...new Set(workers)].sort() : null;
    const key = destination ? destination.join('\n') : '*';
    const queued = this.queued.get(key);
    if (queued) return queued;
    const running = this.inFlight.get(key);
    const start = (): Promise<void> => {
      const run = this.runRefresh(destination).finally(() => {
        if (this.inFlight.get(key) === run) this.inFlight.delete(key);
      });
      this.inFlight.set(key, run);
      return run;
    };
    if (!running) return start();
    const next = running
      .catch(() => undefined)
      .then(() => {
        this.queued.delete(key);
        return start();
      });
    this.queued.set(key, next);
    return next;
  }

  private async runRefresh(destination: string[] | null): Promise<void> {
    const results = await Promise.all(
      INSPECT_METHODS.map((method) => this.mailbox.call({ method, arguments: INSPECT_ARGUMENTS[method] ?? {}, destination, timeoutMs: this.timeoutMs }).then((result) => [method, result] as const)),
    );
    const now = Date.now() / 1000;
    const touched = new Set<string>();
    for (const [method, result] of results) {
      for (const [hostname, value] of result.replies) {
        const entry = this.cache.get(hostname) ?? {};
        entry[method] = method === 'stats' ? sanitizeStats(value) : value;
        entry.timestamp = now;
        this.cache.set(hostname, entry);
        touched.add(hostname);
      }
    }
    for (const hostname of touched) {
      const data = this.cache.get(hostname) as WorkerInspection;
      for (const listener of this.inspectedListeners) listener(hostname, data);
    }
  }

  get(hostname: string): WorkerInspection | undefined {
    return this.cache.get(hostname);
  }

  all(): Map<string, WorkerInspection> {
    return this.cache;
  }

  /** Names of the queues a worker consumes, from its last `active_queues` reply. */
  activeQueues(hostname: string): string[] {
    return queueNames(this.cache.get(hostname)?.active_queues);
  }

  /** Every queue any worker consumes (for queue discovery). */
  allActiveQueues(): Set<string> {
    const names = new Set<string>();
    for (const entry of this.cache.values()) for (const name of queueNames(entry.active_queues)) names.add(name);
    return names;
  }

  /** Registered task names of a worker (`tasks.add [rate_limit=…]` → `tasks.add`). */
  registered(hostname: string): string[] {
    const value = this.cache.get(hostname)?.registered;
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').map((v) => v.split(' ')[0] as string) : [];
  }
}

export function queueNames(activeQueues: JsonValue | undefined): string[] {
  if (!Array.isArray(activeQueues)) return [];
  const names: string[] = [];
  for (const queue of activeQueues) {
    if (typeof queue === 'object' && queue !== null && !Array.isArray(queue) && typeof queue.name === 'string') names.push(queue.name);
  }
  return names;
}

/** `stats.broker` can carry URLs with credentials (alternates, transport options): drop them, as Flower drops alternates. */
function sanitizeStats(value: JsonValue): JsonValue {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const broker = value.broker;
  if (typeof broker !== 'object' || broker === null || Array.isArray(broker)) return value;
  const { alternates: _alternates, transport_options: _options, credential_provider: _provider, ...safe } = broker;
  return { ...value, broker: safe };
}
