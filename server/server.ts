/**
 * One process, one port: the Next.js UI, the REST API, socket.io and /healthcheck, all under
 * --url-prefix. `startCeleriac` is what the CLI runs and what integration tests start.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Logger } from 'pino';
import type { Config } from './config/config';
import { apiErrorHandler, apiRouter } from './http/api';
import { controlRouter, type ControlApiOptions } from './http/control-api';
import { queuesRouter } from './http/queues-api';
import { taskRouter } from './http/task-api';
import { trendsRouter } from './http/trends-api';
import { basicAuthChecker, bearerMatches } from './http/auth';
import { AccessPolicy } from './http/access';
import { pageRuntime } from './http/page-runtime';
import { setRuntime } from './runtime';
import { createNextHandler, type NextHandler } from './http/next-ui';
import { CeleriacMetrics } from './metrics/metrics';
import { Monitor } from './monitor';
import { RealtimeHub } from './realtime/hub';
import { ClusterReadModel } from './views/cluster-read-model';
import { EventTail } from './views/event-tail';
import { LiveAggregates } from './views/live-aggregates';
import { wireListeners } from './wiring';
import { Store } from './store';
import { Trends } from './store/trends';

export interface StartOptions {
  /** Override --ui (tests of the API alone skip the UI to start fast). */
  ui?: boolean;
}

export interface RunningCeleriac {
  /** Base URL including the prefix, e.g. http://127.0.0.1:5555/celeriac */
  url: string;
  port: number;
  monitor: Monitor;
  /** What the API, the pages and the live views read. */
  read: ClusterReadModel;
  hub: RealtimeHub;
  metrics: CeleriacMetrics;
  /** Who may read and act (the listen address and authentication decide). */
  access: AccessPolicy;
  /** The trend aggregates: `insert` adds history with old timestamps through the store's own write path. */
  trends: Trends;
  close(): Promise<void>;
}

/** The composition root: builds every part, wires them (server/wiring.ts) and serves them. */
export async function startCeleriac(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningCeleriac> {
  const monitor = new Monitor(config, logger);
  await monitor.load();
  // History first: the tasks the store kept are back before the first event arrives.
  const store = await Store.open(config.storeTarget, logger.child({ component: 'store' }), {
    writer: { maxPending: config.storeMaxPending },
    ages: config.retention,
    maxSizeBytes: config.retention.maxSizeBytes,
    readTimeoutMs: config.storeReadTimeoutMs,
  });
  if (store) {
    await monitor.keepInStore(store);
    const restored = await store.recentTasks(config.maxTasks);
    for (const task of restored) monitor.state.restoreTask(task);
    const workers = await store.recentWorkers(config.maxWorkers);
    for (const worker of workers) monitor.state.restoreWorker(worker);
    logger.info({ store: store.description, tasks: restored.length, workers: workers.length }, 'history restored');
    const writer = store.writer;
    monitor.state.recallFrom((uuid) => writer.pending(uuid));
  }
  // With --store memory, trends are this process's own, the last 24 hours, in memory.
  const trends = store?.trends ?? (await Trends.inMemory(logger.child({ component: 'trends' })));
  const aggregates = new LiveAggregates();
  const eventTail = new EventTail();
  const read = new ClusterReadModel({
    state: monitor.state,
    inspections: monitor.inspector,
    queueSnapshot: () => monitor.queueMonitor.snapshot(),
    pauses: () => monitor.controls.pauseState(),
    audit: monitor.audit,
    aggregates,
    events: eventTail,
    ingest: monitor.ingest,
    transport: monitor.transport,
    broker: config.brokerRedacted,
    readOnly: config.readOnly,
    maxTasks: config.maxTasks,
    maxWorkers: config.maxWorkers,
    startedAt: monitor.startedAt,
    storeStatus: () => store?.status() ?? null,
    storedTasks: store,
    trends,
  });
  const prefix = config.urlPrefix;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const httpServer: HttpServer = createServer(app);
  // The one decision on who may read and act, for HTTP, socket.io and the pages alike.
  const access = new AccessPolicy(config);
  const hub = new RealtimeHub(
    httpServer,
    read,
    {
      path: `${prefix}/socket.io`,
      authorize: (headers) => {
        const decision = access.check(headers, 'socket');
        return decision.ok ? null : decision.error;
      },
    },
    logger.child({ component: 'realtime' }),
  );

  let next: NextHandler | null = null;
  if (options.ui ?? config.ui) next = await createNextHandler({ prefix, dev: config.dev, logger: logger.child({ component: 'ui' }) });

  const router = express.Router();
  // Honest health: 200 only while the broker connection and the event stream are up. No auth,
  // so load balancers and orchestrators can use it.
  router.get('/healthcheck', (_req, res) => {
    const health = monitor.health();
    // A degraded store is said, not failed: monitoring goes on in memory (History in the README).
    const storeStatus = store?.status();
    const storeNote = storeStatus?.degraded ? ` (store degraded: ${storeStatus.lastError ?? 'not reachable'})` : '';
    res
      .status(health.ok ? 200 : 503)
      .type('text/plain')
      .send(health.ok ? `OK${storeNote}` : `${health.reason}${storeNote}`);
  });
  // /metrics: open by default (scrapers expect it, as with Flower), or behind --metrics-auth.
  const metrics = new CeleriacMetrics(
    {
      workers: () => monitor.state.workers.values(),
      workerCount: () => monitor.state.workers.size,
      tasks: () => monitor.state.tasks.values(),
      taskCount: () => monitor.state.tasks.size,
      taskEvictions: () => monitor.state.taskEvictions,
      registered: (hostname) => monitor.inspector.registered(hostname),
      activeQueues: (hostname) => monitor.inspector.activeQueues(hostname),
      queueSnapshot: () => monitor.queueMonitor.snapshot(),
      ingestCounters: () => monitor.ingest.counters,
      transportStatus: () => monitor.transport.status(),
      controlCallCounts: () => monitor.controls.callCounts(),
      storeStatus: () => store?.status() ?? null,
    },
    {
      families: new Set(config.metricFamilies),
      workerLabel: config.metricsWorkerLabel,
      taskWorkerLabel: config.metricsTaskWorkerLabel,
      maxSeries: config.metricsMaxSeries,
      workerExpirySeconds: config.metricsWorkerExpiry,
      runtimeBuckets: config.runtimeBuckets,
      queueWaitBuckets: config.queueWaitBuckets,
    },
  );
  const metricsAuth = config.metricsAuth;
  const metricsAuthorized =
    metricsAuth === null
      ? () => true
      : metricsAuth.kind === 'basic'
        ? basicAuthChecker([{ user: metricsAuth.user, password: metricsAuth.password }])
        : (header: string | undefined) => bearerMatches(header, metricsAuth.token);
  router.get('/metrics', async (req, res, nextMiddleware) => {
    try {
      if (!metricsAuthorized(req.headers.authorization)) {
        res
          .status(401)
          .set('WWW-Authenticate', metricsAuth?.kind === 'bearer' ? 'Bearer' : 'Basic realm="Celeriac metrics"')
          .type('text/plain')
          .send('Unauthorized');
        return;
      }
      if (!metrics.enabled) {
        res.status(404).type('text/plain').send('Metrics are turned off (--metrics none)');
        return;
      }
      const { contentType, body } = await metrics.render(req.headers.accept);
      res.type(contentType).send(body);
    } catch (error) {
      nextMiddleware(error);
    }
  });
  // Everything below (API, pages, assets) passes the access rule. /api/* is refused while the
  // API is locked; pages are served and explain why they show no data. The API is recognised by
  // Express's own mount matching (case-insensitive, like the routes), never by comparing paths.
  const userOfRequest = new WeakMap<express.Request, string | null>();
  const gate =
    (kind: 'api' | 'page'): express.RequestHandler =>
    (req, res, nextMiddleware) => {
      if (userOfRequest.has(req)) {
        nextMiddleware(); // already let through as an API request
        return;
      }
      const decision = access.check(req.headers, kind);
      if (decision.ok) {
        userOfRequest.set(req, decision.user);
        nextMiddleware();
        return;
      }
      if (decision.challenge !== null) res.set('WWW-Authenticate', decision.challenge);
      res.status(decision.status).json({ error: decision.error });
    };
  router.use('/api', gate('api'));
  router.use(gate('page'));
  const controlOptions: ControlApiOptions = {
    readOnly: config.readOnly,
    userOf: (req) => userOfRequest.get(req) ?? null,
  };
  router.use(controlRouter(monitor.controls, read, monitor.transport, controlOptions));
  router.use(taskRouter({ transport: monitor.transport, controls: monitor.controls, read, resultBackend: monitor.resultBackend }, controlOptions));
  router.use(queuesRouter(read, monitor.queueMonitor, monitor.transport.kind));
  router.use(trendsRouter(read));
  router.use(
    apiRouter({
      read,
      refreshInspection: (workers) => monitor.inspector.refresh(workers),
      ping: (workers) => monitor.controls.ping(workers),
      realtimeStats: () => hub.clientStats(),
    }),
  );
  router.use('/api', apiErrorHandler(logger));
  if (next) {
    const handler = next;
    router.use((req, res) => {
      // Next knows its basePath itself: give it the URL as the browser sent it.
      req.url = req.originalUrl;
      void handler(req, res);
    });
  } else {
    router.use((_req, res) => {
      res.status(404).json({ error: 'Not found (UI disabled)' });
    });
  }
  app.use(prefix === '' ? '/' : prefix, router);
  app.use((_req, res) => {
    res
      .status(404)
      .type('text/plain')
      .send(`Not found. Celeriac is served under ${prefix || '/'}`);
  });

  wireListeners({
    transport: monitor.transport,
    state: monitor.state,
    inspector: monitor.inspector,
    controls: monitor.controls,
    queueMonitor: monitor.queueMonitor,
    aggregates,
    trends,
    eventTail,
    hub,
    metrics,
    taskWriter: store?.writer ?? null,
    workerWriter: store?.workerWriter ?? null,
    broadcast: (method) => void monitor.broadcast(method),
    enableEvents: config.enableEvents,
    logger,
  });
  setRuntime(pageRuntime(read, { urlPrefix: prefix, readOnly: config.readOnly, access: access.state }));
  monitor.start();

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.address, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  const host = config.address.includes(':') ? `[${config.address}]` : config.address;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${port}${prefix}`;
  logger.info({ url, address: config.address, access: access.state.mode, broker: config.brokerRedacted }, 'Celeriac is listening');
  access.logStartup(logger, port);

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    monitor,
    read,
    hub,
    metrics,
    access,
    trends,
    close: () => {
      closing ??= (async () => {
        setRuntime(null);
        const hubClosed = hub.close(); // also closes the HTTP server…
        httpServer.closeAllConnections(); // …which would otherwise wait for keep-alive clients
        await hubClosed;
        await monitor.stop();
        await store?.close(); // writes what is pending (the trends' open minutes too)
        if (!store) await trends.close();
      })();
      return closing;
    },
  };
}
