/**
 * What every browser test starts: a private broker (a redis-server of its own, or a RabbitMQ
 * vhost), Celeriac serving its UI on a free port, optionally a real Celery worker, Debian's
 * Chromium (browser.ts) and a page; `stop()` takes it all down again, newest first. A suite calls
 * `useE2e(options)` in its `describe`, which starts that before its tests and stops it after them.
 *
 * CELERIAC_E2E_PREFIX=/something runs Celeriac under that --url-prefix (its UI is built into its
 * own directory on first start), so a test can run while another build owns `.next`; without it
 * the default build (`npm run build`) is used.
 */
import { after, before } from 'node:test';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import type { RunningCeleriac } from '../server/server';
import type { PrivateRedisServer } from '../test/helpers/brokers';
import type { CeleryWorker, StartWorkerOptions } from '../test/helpers/celery';
import { startTestCeleriac } from '../test/helpers/celeriac';
import { TestResources } from '../test/helpers/resources';
import { launchBrowser } from './browser';

const LIVE_TIMEOUT = 20_000;

/** A worker on the setup's broker: everything `startWorker` takes but the broker URL. */
export type E2eWorkerOptions = Omit<StartWorkerOptions, 'brokerUrl'>;

export interface E2eOptions {
  /** Run on this RabbitMQ vhost (created, and deleted at the end) instead of a private redis-server. */
  rabbitVhost?: string;
  /**
   * Celeriac's arguments after `--broker <url>` (default none); `null` starts no Celeriac, for a
   * test that starts its own with `startE2eCeleriac`.
   */
  celeriacArgs?: string[] | null;
  /** Celeriac's --url-prefix (default: CELERIAC_E2E_PREFIX, if set). */
  urlPrefix?: string;
  /** A real Celery worker, started once Celeriac listens. */
  worker?: E2eWorkerOptions;
  /** A page in a context of its own, with these options (viewport, time zone, colour scheme). */
  page?: BrowserContextOptions;
  /** Open this path of Celeriac's UI in the page and wait until its socket is live. */
  openLive?: string;
}

function urlPrefixArgs(urlPrefix: string | undefined): string[] {
  return urlPrefix ? ['--url-prefix', urlPrefix] : [];
}

/**
 * Celeriac with its UI, under CELERIAC_E2E_PREFIX like the setup's own; the caller closes it
 * (for a test that starts an instance of its own, e.g. a read-only one).
 */
export function startE2eCeleriac(args: string[]): Promise<RunningCeleriac> {
  return startTestCeleriac([...args, ...urlPrefixArgs(process.env.CELERIAC_E2E_PREFIX)], { ui: true });
}

/** Navigate and wait until the page's socket is live. */
export async function openLive(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.getByTestId('socket-status').and(page.locator('[data-state="live"]')).waitFor({ timeout: LIVE_TIMEOUT });
}

function present<T>(part: T | null, what: string): T {
  if (part === null) throw new Error(`this e2e setup has no ${what}`);
  return part;
}

/** The parts a setup may go without (options.rabbitVhost, celeriacArgs: null, no worker, no page). */
interface OptionalParts {
  redis: PrivateRedisServer | null;
  celeriac: RunningCeleriac | null;
  worker: CeleryWorker | null;
  page: Page | null;
}

/** What `startE2e` started; the getters throw when the options did not ask for that part. */
export class E2eSetup {
  constructor(
    private readonly resources: TestResources,
    /** The broker's URL (db 0 of the private redis-server, or the vhost's AMQP URL). */
    readonly brokerUrl: string,
    readonly browser: Browser,
    private readonly parts: OptionalParts,
  ) {}

  get redis(): PrivateRedisServer {
    return present(this.parts.redis, 'redis-server of its own (it runs on RabbitMQ)');
  }
  get celeriac(): RunningCeleriac {
    return present(this.parts.celeriac, 'Celeriac (celeriacArgs: null)');
  }
  /** The worker `options.worker` asked for. */
  get worker(): CeleryWorker {
    return present(this.parts.worker, 'worker (no options.worker)');
  }
  get page(): Page {
    return present(this.parts.page, 'page (no options.page)');
  }

  /** Another real Celery worker on the broker, killed by `stop()` (whatever the test did to it). */
  startWorker(options: E2eWorkerOptions): Promise<CeleryWorker> {
    return this.resources.worker({ brokerUrl: this.brokerUrl, ...options });
  }

  /** Take everything down, newest first: workers started since, the browser, the worker, Celeriac, the broker. */
  stop(): Promise<void> {
    return this.resources.stopAll();
  }
}

/**
 * Start what `options` asks for, in this order: broker, Celeriac, worker, browser, page. If any
 * part fails to start, what did start is stopped again.
 */
export async function startE2e(options: E2eOptions = {}): Promise<E2eSetup> {
  const resources = new TestResources();
  try {
    let redis: PrivateRedisServer | null = null;
    let brokerUrl: string;
    if (options.rabbitVhost !== undefined) {
      brokerUrl = await resources.rabbitVhost(options.rabbitVhost);
    } else {
      redis = await resources.redis();
      brokerUrl = redis.url(0);
    }
    const urlPrefix = urlPrefixArgs(options.urlPrefix ?? process.env.CELERIAC_E2E_PREFIX);
    const celeriac = options.celeriacArgs === null ? null : await resources.celeriac(['--broker', brokerUrl, ...(options.celeriacArgs ?? []), ...urlPrefix], { ui: true });
    const worker = options.worker ? await resources.worker({ brokerUrl, ...options.worker }) : null;
    const browser = await launchBrowser();
    resources.defer(() => browser.close());
    let page: Page | null = null;
    if (options.page || options.openLive !== undefined) {
      page = await browser.newPage(options.page);
      if (options.openLive !== undefined) await openLive(page, `${present(celeriac, 'Celeriac to open').url}${options.openLive}`);
    }
    return new E2eSetup(resources, brokerUrl, browser, { redis, celeriac, worker, page });
  } catch (error) {
    await resources.stopAll().catch(() => undefined); // the start failure is the one to report
    throw error;
  }
}

/** A suite's setup as its tests read it: the parts of `E2eSetup`, but `stop()` is the suite's `after` hook. */
export type E2eSuite = Pick<E2eSetup, 'brokerUrl' | 'browser' | 'redis' | 'celeriac' | 'worker' | 'page' | 'startWorker'>;

/**
 * Register, in the calling `describe`, a `before` hook that starts what `options` asks for (then
 * runs `afterStart` on it, e.g. to wait until Celeriac knows the worker) and an `after` hook that
 * stops it. The parts are there once the suite started: read them inside tests and hooks (reading
 * one while the suite is declared throws).
 */
export function useE2e(options: E2eOptions = {}, afterStart?: (setup: E2eSetup) => Promise<unknown>): E2eSuite {
  let setup: E2eSetup | null = null;
  before(async () => {
    setup = await startE2e(options);
    await afterStart?.(setup);
  });
  after(() => setup?.stop());
  const started = (): E2eSetup => {
    if (setup === null) throw new Error('the e2e setup has not started: read its parts inside a test or hook, not while the suite is declared');
    return setup;
  };
  return {
    get brokerUrl() {
      return started().brokerUrl;
    },
    get browser() {
      return started().browser;
    },
    get redis() {
      return started().redis;
    },
    get celeriac() {
      return started().celeriac;
    },
    get worker() {
      return started().worker;
    },
    get page() {
      return started().page;
    },
    startWorker: (workerOptions) => started().startWorker(workerOptions),
  };
}
