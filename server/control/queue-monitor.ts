/**
 * Queue lengths, read from the broker in the background (docs/celery-wire-protocol.md
 * §6) so that no HTTP request ever waits on the broker, and so that a slow or dead broker shows
 * up as "stale since …" instead of as a hanging page (Flower reads on demand and renders an
 * empty table on errors: docs/flower-reference.md §1.6, §5.8).
 *
 * Which queues: Flower lists only what workers consume, so a queue nobody consumes — the one
 * most worth watching — is invisible there (§6.4, #559/#335). Here a queue is known from any of
 *   - `workers`: the queues live workers consume (their `active_queues` inspect data);
 *   - `config`:  `--queues`;
 *   - `broker`:  what the broker itself knows — on Redis kombu's binding sets (SCAN, so at most
 *                every 30 s), on RabbitMQ with `--broker-api` the management API's queue list;
 * and each queue says which of them named it.
 *
 * How many: Redis Σ LLEN over the priority lists (ready only); RabbitMQ passive declares
 * (ready + consumers), or with `--broker-api` one management request for the whole vhost
 * (ready, unacked, consumers — sampled by RabbitMQ every few seconds, so they lag a little).
 */
import type { Logger } from 'pino';
import { errorText } from '../errors';
import { fetchManagementQueues, isTaskQueue, managementApiFor, type ManagementApi, type ManagementQueue } from '../broker/amqp/management-api';
import { BrokerUnavailableError, type BrokerTransport, type QueueStat } from '../broker/transport';
import type { BrokerTarget } from '../broker/url';

/**
 * Where a queue name came from. `earlier`: named by a source before but not any more — kept so
 * that a queue whose consumers were paused or stopped (often the queue most worth watching)
 * does not vanish from the list.
 */
export type QueueSource = 'workers' | 'config' | 'broker' | 'earlier';
const SOURCE_ORDER: readonly QueueSource[] = ['workers', 'config', 'broker', 'earlier'];

export interface QueueInfo {
  name: string;
  /** Redis: ready messages; RabbitMQ: ready (passive declare) or ready + unacked (management API). */
  messages: number;
  /** Redis only: ready messages per priority step ("0", "3", "6", "9" by default). */
  byPriority: Record<string, number> | null;
  /** RabbitMQ only. */
  consumers: number | null;
  /** Messages waiting to be delivered (null where the broker does not say). */
  ready: number | null;
  /** Delivered but not yet acknowledged: RabbitMQ management API only. */
  unacked: number | null;
  /** Redis: how long the next message out has waited, from its task-sent/received event. */
  oldestAgeSeconds: number | null;
  sources: QueueSource[];
  /** False when RabbitMQ says the queue does not exist (Redis: always true, an empty list is an empty queue). */
  exists: boolean;
}

/** Replaced wholesale on every poll and never mutated afterwards: treat as read-only. */
export interface QueueSnapshot {
  /** Epoch seconds of the last successful poll; null until one succeeds. */
  updatedAt: number | null;
  /** The last poll failed: `queues` are the last good numbers (or none). */
  stale: boolean;
  /** Why the last poll failed. */
  error: string | null;
  queues: QueueInfo[];
}

/** The options the queue poller uses (--queue-poll-interval, --queues, --broker-api, the broker). */
export interface QueueMonitorConfig {
  queuePollInterval: number;
  queues: readonly string[];
  brokerApi: string | null;
  brokerTarget: BrokerTarget;
}

/** When a task was sent/received (epoch seconds), from the cluster state. */
export type TaskTimesLookup = (id: string) => { sent: number | null; received: number | null } | undefined;

export type QueueUpdateListener = (snapshot: QueueSnapshot) => void;

export interface QueueMonitorOptions {
  /** Minimum time between two scans of the broker's own queue list on Redis (SCAN is O(keyspace)). */
  brokerRescanMs?: number;
  /** A poll running longer than this is reported as stale (it is not abandoned: polls never overlap). */
  pollTimeoutMs?: number;
  /** Clock in epoch milliseconds (tests). */
  now?: () => number;
}

export const BROKER_RESCAN_MS = 30_000;
/** Queue names remembered after their sources stop naming them. */
export const MAX_REMEMBERED_QUEUES = 10_000;
interface PollResult {
  queues: QueueInfo[];
  managementQueues: ManagementQueue[] | null;
}

export class QueueMonitor {
  private current: QueueSnapshot = { updatedAt: null, stale: false, error: null, queues: [] };
  /** Raw management objects of the known queues from the last good poll (null without --broker-api). */
  private currentManagementQueues: ManagementQueue[] | null = null;
  private readonly listeners = new Set<QueueUpdateListener>();
  private readonly management: ManagementApi | null;
  private readonly brokerRescanMs: number;
  private readonly pollTimeoutMs: number;
  private readonly now: () => number;
  private running = false;
  /** Bumped by start(): a poll that finishes after a stop() and a new start() must not start a second loop. */
  private generation = 0;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  /** One poll requested (refresh) while another runs; shared by every caller meanwhile. */
  private queued: Promise<void> | null = null;
  private brokerNames: string[] = [];
  /** Every queue name any source has named in this run (bounded). */
  private readonly seenNames = new Set<string>();
  private brokerScannedAt: number | null = null;
  /** Error text last warned about, so a failure that persists is logged once, not every tick. */
  private loggedError: string | null = null;

  constructor(
    private readonly transport: BrokerTransport,
    private readonly config: QueueMonitorConfig,
    private readonly lookupTask: TaskTimesLookup,
    private readonly workerQueues: () => Iterable<string>,
    private readonly logger: Logger,
    options: QueueMonitorOptions = {},
  ) {
    this.brokerRescanMs = options.brokerRescanMs ?? BROKER_RESCAN_MS;
    this.pollTimeoutMs = options.pollTimeoutMs ?? Math.max(10_000, 5 * config.queuePollInterval * 1000);
    this.now = options.now ?? Date.now;
    this.management = managementApiFor(config, logger);
  }

  /** Seconds between polls (for Retry-After). */
  get intervalSeconds(): number {
    return this.config.queuePollInterval;
  }

  /** Whether counts come from the RabbitMQ management API. */
  get usesManagementApi(): boolean {
    return this.management !== null;
  }

  /** Poll now and then every `queuePollInterval` seconds until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation++;
    this.tick();
  }

  /**
   * The broker (re)connected. At start-up the first poll usually races the connection and fails:
   * read again the moment the broker is there instead of an interval later.
   */
  brokerConnected(): void {
    if (this.running) void this.refresh();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.queued;
    await this.inFlight;
  }

  /**
   * One poll that starts after this call: runs now, or right after the poll under way (never
   * alongside it). Never rejects; the outcome is in snapshot().
   */
  refresh(): Promise<void> {
    const running = this.inFlight;
    if (!running) return this.runPoll();
    this.queued ??= running.then(() => {
      this.queued = null;
      return this.inFlight ?? this.runPoll();
    });
    return this.queued;
  }

  snapshot(): QueueSnapshot {
    return this.current;
  }

  /**
   * The management API's objects for the known queues that exist, as of the last good poll
   * (Flower's `/api/queues/length` shape); null when counts do not come from the management API.
   */
  managementQueues(): ManagementQueue[] | null {
    return this.currentManagementQueues;
  }

  /** Called after every poll, successful or not. Returns a function that unsubscribes. */
  onUpdate(listener: QueueUpdateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private tick(): void {
    this.timer = null;
    const startedAt = this.now();
    const generation = this.generation;
    void (this.inFlight ?? this.runPoll()).then(() => {
      if (!this.running || generation !== this.generation) return;
      // Keep the cadence, but leave the broker at least half an interval of rest after a slow poll.
      const intervalMs = this.config.queuePollInterval * 1000;
      const elapsed = this.now() - startedAt;
      this.timer = setTimeout(() => this.tick(), Math.max(intervalMs - elapsed, intervalMs / 2));
      this.timer.unref();
    });
  }

  private runPoll(): Promise<void> {
    const poll: Promise<void> = this.poll().finally(() => {
      if (this.inFlight === poll) this.inFlight = null;
    });
    this.inFlight = poll;
    return poll;
  }

  private async poll(): Promise<void> {
    // A broker that accepts the connection and then never answers would otherwise leave the
    // last numbers looking fresh forever.
    const watchdog = setTimeout(() => {
      this.failed(`queue poll has not finished after ${Math.round(this.pollTimeoutMs / 1000)} s (broker not answering)`);
    }, this.pollTimeoutMs);
    watchdog.unref();
    try {
      const result = this.management ? await this.pollManagementApi(this.management) : await this.pollTransport();
      this.current = { updatedAt: this.now() / 1000, stale: false, error: null, queues: result.queues };
      this.currentManagementQueues = result.managementQueues;
      if (this.loggedError !== null) this.logger.info({ queues: result.queues.length }, 'queue lengths readable again');
      this.loggedError = null;
      this.emit();
    } catch (error) {
      // A broker that is not connected is already logged by its transport (and is the normal
      // state for a moment at start-up): only other failures are worth a warning here.
      this.failed(errorText(error), error instanceof BrokerUnavailableError ? 'debug' : 'warn');
    } finally {
      clearTimeout(watchdog);
    }
  }

  private failed(reason: string, level: 'debug' | 'warn' = 'warn'): void {
    const details = { reason, keeping: this.current.updatedAt !== null ? 'last good numbers, marked stale' : 'nothing yet' };
    if (level === 'debug') {
      this.logger.debug(details, 'cannot read queue lengths: broker not connected');
    } else if (this.loggedError !== reason) {
      this.logger.warn(details, 'cannot read queue lengths; retrying every poll');
      this.loggedError = reason;
    }
    this.current = { ...this.current, stale: true, error: reason };
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) {
      try {
        listener(this.current);
      } catch (error) {
        this.logger.error({ err: errorText(error) }, 'queue update listener failed');
      }
    }
  }

  /** Every queue known from any source, with the sources that named it (in a fixed order). */
  private collectNames(fromBroker: Iterable<string>): Map<string, QueueSource[]> {
    const sources = new Map<string, Set<QueueSource>>();
    const add = (name: string, source: QueueSource): void => {
      if (name === '') return;
      let set = sources.get(name);
      if (!set) {
        set = new Set();
        sources.set(name, set);
      }
      set.add(source);
    };
    for (const name of this.workerQueues()) add(name, 'workers');
    for (const name of this.config.queues) add(name, 'config');
    for (const name of fromBroker) add(name, 'broker');
    for (const name of this.seenNames) if (!sources.has(name)) add(name, 'earlier');
    for (const name of sources.keys()) if (this.seenNames.size < MAX_REMEMBERED_QUEUES) this.seenNames.add(name);
    const ordered = new Map<string, QueueSource[]>();
    for (const name of [...sources.keys()].sort()) {
      const set = sources.get(name) as Set<QueueSource>;
      ordered.set(
        name,
        SOURCE_ORDER.filter((source) => set.has(source)),
      );
    }
    return ordered;
  }

  /** The transport's own discovery (Redis binding sets), rescanned at most every brokerRescanMs. */
  private async brokerQueueNames(): Promise<string[]> {
    const now = this.now();
    if (this.brokerScannedAt === null || now - this.brokerScannedAt >= this.brokerRescanMs) {
      this.brokerNames = await this.transport.discoverQueues();
      this.brokerScannedAt = now;
    }
    return this.brokerNames;
  }

  /** Redis (LLEN per priority list) and RabbitMQ without --broker-api (passive declares). */
  private async pollTransport(): Promise<PollResult> {
    const names = this.collectNames(await this.brokerQueueNames());
    const stats = await this.transport.queueStats([...names.keys()]);
    const nowSeconds = this.now() / 1000;
    const queues = stats.map((stat) => ({
      name: stat.name,
      messages: stat.messages,
      byPriority: stat.byPriority,
      consumers: stat.consumers,
      // Both read only ready messages: LLEN never sees what a worker has reserved, nor does
      // a passive declare.
      ready: stat.messages,
      unacked: null,
      oldestAgeSeconds: this.oldestAge(stat, nowSeconds),
      sources: names.get(stat.name) ?? [],
      exists: stat.exists,
    }));
    return { queues, managementQueues: null };
  }

  /** Age of the message at the head of the queue, when its task's events were seen. */
  private oldestAge(stat: QueueStat, nowSeconds: number): number | null {
    if (stat.oldestTaskId === null) return null;
    const task = this.lookupTask(stat.oldestTaskId);
    const since = task?.sent ?? task?.received ?? null;
    return since === null ? null : Math.max(0, nowSeconds - since);
  }

  /** RabbitMQ with --broker-api: one request lists every queue of the vhost with its counters. */
  private async pollManagementApi(api: ManagementApi): Promise<PollResult> {
    const listed = await fetchManagementQueues(api, this.logger);
    const byName = new Map(listed.map((queue) => [queue.name, queue]));
    const names = this.collectNames(listed.filter(isTaskQueue).map((queue) => queue.name));
    // RabbitMQ lists a new queue at once but omits its counters until its first stats sample
    // (every ~5 s): ask the broker directly for those few rather than report 0.
    const unsampled = [...names.keys()].filter((name) => {
      const queue = byName.get(name);
      return queue !== undefined && (queue.messages === undefined || queue.messages === null);
    });
    const declared = new Map<string, QueueStat>();
    if (unsampled.length > 0) {
      try {
        for (const stat of await this.transport.queueStats(unsampled)) declared.set(stat.name, stat);
      } catch (error) {
        this.logger.debug({ err: errorText(error) }, 'passive declare of not-yet-sampled queues failed');
      }
    }
    const queues: QueueInfo[] = [];
    for (const [name, sources] of names) {
      const queue = byName.get(name);
      // The list is authoritative for existence (it is not sampled): absent means no such queue.
      if (!queue) {
        queues.push({ name, messages: 0, byPriority: null, consumers: 0, ready: 0, unacked: 0, oldestAgeSeconds: null, sources, exists: false });
        continue;
      }
      const stat = declared.get(name);
      const ready = queue.messages_ready ?? stat?.messages ?? null;
      const unacked = queue.messages_unacknowledged ?? null;
      queues.push({
        name,
        messages: queue.messages ?? (ready ?? 0) + (unacked ?? 0),
        byPriority: null,
        consumers: queue.consumers ?? stat?.consumers ?? null,
        ready,
        unacked,
        oldestAgeSeconds: null,
        sources,
        exists: true,
      });
    }
    const known = listed.filter((queue) => names.has(queue.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { queues, managementQueues: known };
  }
}
