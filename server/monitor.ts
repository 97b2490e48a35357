/**
 * The monitor: one broker connection feeding one cluster model, and the control side that acts
 * on the cluster. It builds those parts and owns the periodic work that keeps the model honest —
 * re-enabling task events every 5 s, re-inspecting workers, forgetting long-offline workers.
 * Who reacts to what is wired in server/wiring.ts, not here.
 *
 * Data flows one way: transport → decoder → Ingest → ClusterState → read model (server/views).
 */
import type { Logger } from 'pino';
import { errorText } from './errors';
import type { Config } from './config/config';
import { createTransport } from './broker';
import type { BrokerTransport } from './broker/transport';
import { ClusterState } from './state/cluster-state';
import { Ingest } from './state/ingest';
import { AuditLog, type AuditRepository } from './control/audit';
import { ControlService } from './control/controls';
import { Inspector } from './control/inspector';
import { Mailbox } from './control/mailbox';
import { PauseStore, type PauseRepository } from './control/pauses';
import { QueueMonitor } from './control/queue-monitor';
import { RedisResultBackend } from './control/result-backend';

/** Flower's interval for the enable_events broadcast (not configurable there either). */
export const ENABLE_EVENTS_INTERVAL_MS = 5_000;

export class Monitor {
  readonly state: ClusterState;
  readonly ingest: Ingest;
  readonly transport: BrokerTransport;
  readonly mailbox: Mailbox;
  readonly inspector: Inspector;
  readonly audit: AuditLog;
  readonly pauses: PauseStore;
  readonly controls: ControlService;
  readonly queueMonitor: QueueMonitor;
  readonly resultBackend: RedisResultBackend | null;
  readonly startedAt = Date.now() / 1000;
  private readonly timers: NodeJS.Timeout[] = [];
  private controlClock = 0;

  constructor(
    readonly config: Config,
    private readonly logger: Logger,
  ) {
    this.state = new ClusterState({ maxTasks: config.maxTasks, maxWorkers: config.maxWorkers });
    this.ingest = new Ingest(this.state, logger.child({ component: 'ingest' }));
    this.transport = createTransport(config.brokerTarget, config.transportOptions, this.ingest, logger.child({ component: 'broker' }), () => this.nextClock(), config.eventBacklog * 1024 * 1024);
    const controlLogger = logger.child({ component: 'control' });
    this.mailbox = new Mailbox(this.transport, () => this.nextClock());
    this.inspector = new Inspector(this.mailbox, config.inspectTimeoutMs, controlLogger);
    this.audit = new AuditLog(config.dataDir, controlLogger);
    this.pauses = new PauseStore(config.dataDir, controlLogger);
    this.queueMonitor = new QueueMonitor(
      this.transport,
      config,
      (id) => this.state.getTask(id),
      () => this.inspector.allActiveQueues(),
      logger.child({ component: 'queues' }),
    );
    this.resultBackend = config.resultBackend ? new RedisResultBackend(config.resultBackend, logger.child({ component: 'results' })) : null;
    this.controls = new ControlService(this.mailbox, this.inspector, this.state, this.pauses, this.audit, config.inspectTimeoutMs, this.transport.consumerSettleMs, controlLogger);
  }

  /** Read Celeriac's own persisted state (audit log, pauses) before serving. */
  async load(): Promise<void> {
    await this.audit.load();
    await this.pauses.load();
  }

  /**
   * With a store (server/store/): keep the audit log and the pause state there from now on, the
   * files' contents imported the first time. Before serving, after load().
   */
  async keepInStore(store: { audit: AuditRepository; pauses: PauseRepository }): Promise<void> {
    await this.audit.keepInStore(store.audit);
    await this.pauses.keepInStore(store.pauses);
  }

  /** Lamport clock for control requests: forward past everything seen on the stream. */
  private nextClock(): number {
    this.controlClock = Math.max(this.controlClock, this.state.clock) + 1;
    return this.controlClock;
  }

  start(): void {
    const { config, logger } = this;
    if (Object.keys(config.transportOptions.ignored).length > 0) {
      logger.info({ options: Object.keys(config.transportOptions.ignored) }, 'broker transport options not used by Celeriac');
    }
    this.transport.start();
    this.inspector.start(config.inspectInterval);
    this.queueMonitor.start();
    if (config.enableEvents) {
      this.timers.push(setInterval(() => void this.broadcast('enable_events'), ENABLE_EVENTS_INTERVAL_MS));
    }
    if (config.purgeOfflineWorkers !== null) {
      const seconds = config.purgeOfflineWorkers;
      this.timers.push(
        setInterval(() => {
          const purged = this.state.purgeOfflineWorkers(Date.now() / 1000, seconds);
          if (purged.length > 0) logger.info({ workers: purged }, 'purged offline workers');
        }, 1_000),
      );
    }
    for (const timer of this.timers) timer.unref();
  }

  /** Fire-and-forget command to every worker; a broker outage is logged at debug, not thrown. */
  async broadcast(method: string): Promise<void> {
    try {
      await this.mailbox.cast(method);
    } catch (error) {
      this.logger.debug({ err: errorText(error), method }, 'control broadcast failed');
    }
  }

  async stop(): Promise<void> {
    this.audit.stop();
    await this.pauses.stop();
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    this.inspector.stop();
    await this.queueMonitor.stop();
    await this.resultBackend?.close();
    await this.transport.stop();
  }

  /** Healthy only while connected and subscribed to the event stream. */
  health(): { ok: boolean; reason: string | null } {
    const status = this.transport.status();
    if (status.connected) return { ok: true, reason: null };
    return { ok: false, reason: `event stream down since ${new Date(status.since * 1000).toISOString()}: ${status.reason ?? 'not connected'}` };
  }
}
