/**
 * Celeriac's configuration: every option once, with its CLI flag, environment names and
 * default. Precedence: command line > CELERIAC_<NAME> > FLOWER_<NAME> (drop-in for Flower
 * users) > default. The result is validated with zod into a typed Config; anything wrong is
 * a ConfigError with one clear sentence.
 */
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { z } from 'zod';
import { parseBrokerUrl, redactBrokerUrl, type BrokerTarget } from '../broker/url';
import { parseTransportOptions, type TransportOptions } from '../broker/transport-options';
import { normaliseLogLevel, type LogLevel } from '../log';
import { DEFAULT_QUEUE_WAIT_BUCKETS, DEFAULT_RUNTIME_BUCKETS, type MetricFamily } from '../metrics/catalogue';
import type { WorkerLabelMode } from '../metrics/metrics';
import { normaliseUrlPrefix, URL_PREFIX_RULE } from './url-prefix';
import { parseAge, parseSize, parseTimeLimitMs, QuantityError } from './quantities';
import { parseStoreUrl, StoreUrlError, type StoreTarget } from '../store/store-url';

export class ConfigError extends Error {}

export interface BasicAuthUser {
  user: string;
  password: string;
}

export interface Config {
  broker: string;
  brokerRedacted: string;
  brokerTarget: BrokerTarget;
  transportOptions: TransportOptions;
  port: number;
  address: string;
  urlPrefix: string;
  maxTasks: number;
  maxWorkers: number;
  /** MiB of raw event payload buffered while catching up with a burst (Redis). */
  eventBacklog: number;
  enableEvents: boolean;
  purgeOfflineWorkers: number | null;
  logLevel: LogLevel;
  basicAuth: BasicAuthUser[];
  /**
   * Allow the API, live updates and controls without authentication although Celeriac listens on
   * a non-loopback address (Flower's FLOWER_UNAUTHENTICATED_API). See server/http/access.ts.
   */
  unauthenticatedApi: boolean;
  /** Serve the Next.js UI (off: API-only). */
  ui: boolean;
  metricFamilies: MetricFamily[];
  metricsAuth: { kind: 'basic'; user: string; password: string } | { kind: 'bearer'; token: string } | null;
  metricsWorkerLabel: WorkerLabelMode;
  metricsTaskWorkerLabel: WorkerLabelMode;
  metricsMaxSeries: number;
  metricsWorkerExpiry: number;
  runtimeBuckets: number[];
  queueWaitBuckets: number[];
  readOnly: boolean;
  inspectTimeoutMs: number;
  /** Seconds; 0 = off. */
  inspectInterval: number;
  queuePollInterval: number;
  queues: string[];
  brokerApi: string | null;
  brokerApiRedacted: string | null;
  resultBackend: string | null;
  resultBackendRedacted: string | null;
  dataDir: string;
  /** `--store`, parsed (server/store/store-url.ts). */
  storeTarget: StoreTarget;
  /** How long stored rows are kept, in seconds (0: forever), and the size cap (server/store/retention.ts). */
  retention: StoreRetentionConfig;
  /** Changed tasks held while the store is not taking writes (ChangeWriter's maxPending). */
  storeMaxPending: number;
  /** --store-read-timeout in ms (0: none): PostgreSQL cancels a request's read running longer. */
  storeReadTimeoutMs: number;
  /** Next.js dev mode (hot reload) instead of the production build. */
  dev: boolean;
}

export interface StoreRetentionConfig {
  tasksSeconds: number;
  failedSeconds: number;
  aggregatesSeconds: number;
  /** null: no cap. */
  maxSizeBytes: number | null;
}

type Kind = 'string' | 'int' | 'number' | 'bool' | 'list';

interface OptionSpec {
  key: string;
  flag: string;
  kind: Kind;
  description: string;
  /** Default shown in --help and used when nothing else sets the option. */
  defaultValue?: string | number | boolean | string[];
  defaultLabel?: string;
  env: string[];
  valueName?: string;
  hidden?: boolean;
}

const DEFAULT_BROKER = 'redis://127.0.0.1:6379/0';

/** The option table: the single source of truth for the CLI, the environment and the README. */
/**
 * Tasks kept in memory when --max-tasks is not given. With a store, memory is a window (the
 * unfinished tasks and the most recent), so the process's memory does not grow with history:
 * 1,000,000 stored tasks cost what 20,000 do (README, History). Without one it is Flower's default.
 */
export const DEFAULT_MAX_TASKS_WITH_STORE = 20_000;
export const DEFAULT_MAX_TASKS_IN_MEMORY = 100_000;

export const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'broker',
    flag: '--broker',
    kind: 'string',
    valueName: 'url',
    description: 'Celery broker URL: redis://, rediss://, redis+socket://, sentinel://, amqp://, amqps://',
    defaultLabel: `$CELERY_BROKER_URL, else ${DEFAULT_BROKER}`,
    env: ['CELERIAC_BROKER', 'CELERY_BROKER_URL'],
  },
  { key: 'port', flag: '--port', kind: 'int', valueName: 'n', description: 'HTTP port for the UI, API, socket.io and /metrics', defaultValue: 5555, env: ['CELERIAC_PORT', 'FLOWER_PORT'] },
  {
    key: 'address',
    flag: '--address',
    kind: 'string',
    valueName: 'host',
    description: 'address to listen on; on anything but loopback the API and live updates need authentication (--basic-auth) or --unauthenticated-api',
    defaultValue: '127.0.0.1',
    env: ['CELERIAC_ADDRESS', 'FLOWER_ADDRESS'],
  },
  {
    key: 'urlPrefix',
    flag: '--url-prefix',
    kind: 'string',
    valueName: 'path',
    description: 'serve everything under this path (e.g. /celeriac behind a reverse proxy)',
    defaultValue: '',
    defaultLabel: 'none',
    env: ['CELERIAC_URL_PREFIX', 'FLOWER_URL_PREFIX'],
  },
  {
    key: 'maxTasks',
    flag: '--max-tasks',
    kind: 'int',
    valueName: 'n',
    description: 'tasks kept in memory: unfinished ones first, then the most recently updated (with a store, history beyond them is read from the store)',
    // Not given: a window with a store (history is read from it), Flower's 100,000 without one.
    defaultLabel: `${DEFAULT_MAX_TASKS_WITH_STORE} with a store, ${DEFAULT_MAX_TASKS_IN_MEMORY} with --store memory`,
    env: ['CELERIAC_MAX_TASKS', 'FLOWER_MAX_TASKS'],
  },
  { key: 'maxWorkers', flag: '--max-workers', kind: 'int', valueName: 'n', description: 'workers kept in memory', defaultValue: 5_000, env: ['CELERIAC_MAX_WORKERS', 'FLOWER_MAX_WORKERS'] },
  {
    key: 'eventBacklog',
    flag: '--event-backlog',
    kind: 'int',
    valueName: 'MiB',
    description: 'raw event payload Celeriac may buffer while it catches up with a burst (Redis); beyond it events are dropped and counted as backlog_overflow',
    defaultValue: 256,
    env: ['CELERIAC_EVENT_BACKLOG'],
  },
  {
    key: 'enableEvents',
    flag: '--enable-events',
    kind: 'bool',
    description: 'broadcast enable_events every 5 s so workers started without -E still send task events (--no-enable-events to turn off)',
    defaultValue: true,
    env: ['CELERIAC_ENABLE_EVENTS', 'FLOWER_ENABLE_EVENTS'],
  },
  {
    key: 'purgeOfflineWorkers',
    flag: '--purge-offline-workers',
    kind: 'int',
    valueName: 'seconds',
    description: 'forget workers that have been offline this long',
    defaultLabel: 'never',
    env: ['CELERIAC_PURGE_OFFLINE_WORKERS', 'FLOWER_PURGE_OFFLINE_WORKERS'],
  },
  {
    key: 'brokerTransportOption',
    flag: '--broker-transport-option',
    kind: 'list',
    valueName: 'key=value',
    description: 'kombu broker_transport_options, repeatable: global_keyprefix, priority_steps, sep, master_name, sentinel_password, fanout_prefix, fanout_patterns',
    defaultValue: [],
    defaultLabel: 'none',
    env: ['CELERIAC_BROKER_TRANSPORT_OPTION'],
  },
  {
    key: 'logLevel',
    flag: '--log-level',
    kind: 'string',
    valueName: 'level',
    description: 'trace, debug, info, warn, error, fatal or silent',
    defaultValue: 'info',
    env: ['CELERIAC_LOG_LEVEL', 'FLOWER_LOGGING'],
  },
  {
    key: 'basicAuth',
    flag: '--basic-auth',
    kind: 'list',
    valueName: 'user:password',
    description: 'require HTTP basic auth for every page and API route except /healthcheck; repeatable',
    defaultValue: [],
    defaultLabel: 'off',
    env: ['CELERIAC_BASIC_AUTH', 'FLOWER_BASIC_AUTH'],
  },
  {
    key: 'unauthenticatedApi',
    flag: '--unauthenticated-api',
    kind: 'bool',
    description: 'when listening on a non-loopback address without authentication, serve the API, live updates and controls anyway instead of refusing them (401); logs a warning at start',
    defaultValue: false,
    env: ['CELERIAC_UNAUTHENTICATED_API', 'FLOWER_UNAUTHENTICATED_API'],
  },
  {
    key: 'readOnly',
    flag: '--read-only',
    kind: 'bool',
    description: 'refuse every mutating API call (403) and hide every control in the UI',
    defaultValue: false,
    env: ['CELERIAC_READ_ONLY', 'FLOWER_READ_ONLY'],
  },
  {
    key: 'inspectTimeout',
    flag: '--inspect-timeout',
    kind: 'int',
    valueName: 'ms',
    description: 'how long to wait for the next worker reply to a remote-control or inspect call',
    defaultValue: 1000,
    env: ['CELERIAC_INSPECT_TIMEOUT', 'FLOWER_INSPECT_TIMEOUT'],
  },
  {
    key: 'inspectInterval',
    flag: '--inspect-interval',
    kind: 'int',
    valueName: 'seconds',
    description: 'refresh the inspect data (stats, queues, registered tasks…) of every worker this often; 0 turns it off',
    defaultValue: 30,
    env: ['CELERIAC_INSPECT_INTERVAL'],
  },
  {
    key: 'queuePollInterval',
    flag: '--queue-poll-interval',
    kind: 'number',
    valueName: 'seconds',
    description: 'read queue lengths from the broker this often',
    defaultValue: 2,
    env: ['CELERIAC_QUEUE_POLL_INTERVAL'],
  },
  {
    key: 'queues',
    flag: '--queues',
    kind: 'list',
    valueName: 'names',
    description: 'queues to watch even if no worker consumes them (comma-separated; repeatable)',
    defaultValue: [],
    defaultLabel: 'none',
    env: ['CELERIAC_QUEUES'],
  },
  {
    key: 'brokerApi',
    flag: '--broker-api',
    kind: 'string',
    valueName: 'url',
    description: 'RabbitMQ management API URL (e.g. http://guest:guest@localhost:15672/api/) for ready/unacked counts and queue discovery',
    defaultLabel: 'none',
    env: ['CELERIAC_BROKER_API', 'FLOWER_BROKER_API'],
  },
  {
    key: 'resultBackend',
    flag: '--result-backend',
    kind: 'string',
    valueName: 'url',
    description: 'Celery result backend (redis:// or rediss://) for task results and apply',
    defaultLabel: 'none',
    env: ['CELERIAC_RESULT_BACKEND', 'CELERY_RESULT_BACKEND'],
  },
  {
    key: 'dataDir',
    flag: '--data-dir',
    kind: 'string',
    valueName: 'path',
    description: 'where Celeriac keeps its own state (audit log, paused queues)',
    defaultValue: '.celeriac',
    env: ['CELERIAC_DATA_DIR'],
  },
  {
    key: 'store',
    flag: '--store',
    kind: 'string',
    valueName: 'url',
    description: 'where task history is kept across restarts: sqlite:<path>, postgresql://user@host:port/database, or memory (nothing kept)',
    // Empty means "not given": the default depends on --data-dir and Flower's --persistent/--db.
    defaultValue: '',
    defaultLabel: 'sqlite:<data-dir>/celeriac.db',
    env: ['CELERIAC_STORE'],
  },
  {
    key: 'persistent',
    flag: '--persistent',
    kind: 'bool',
    description: "Flower's persistence: without --store, keep history in a SQLite file named after --db (<db>.sqlite)",
    defaultValue: false,
    env: ['CELERIAC_PERSISTENT', 'FLOWER_PERSISTENT'],
  },
  {
    key: 'db',
    flag: '--db',
    kind: 'string',
    valueName: 'path',
    description: "Flower's state file with --persistent; Celeriac's SQLite file is <path>.sqlite beside it",
    defaultValue: 'flower',
    env: ['CELERIAC_DB', 'FLOWER_DB'],
  },
  {
    key: 'stateSaveInterval',
    flag: '--state-save-interval',
    kind: 'int',
    valueName: 'ms',
    description: "accepted for Flower's command lines; Celeriac writes changes every 0.5 s whatever it says",
    defaultValue: 0,
    env: ['CELERIAC_STATE_SAVE_INTERVAL', 'FLOWER_STATE_SAVE_INTERVAL'],
  },
  {
    key: 'retention',
    flag: '--retention',
    kind: 'string',
    valueName: 'age',
    description: 'delete stored tasks this long after their last change (e.g. 90m, 12h, 7d, 2w; 0 keeps them forever); failures follow --retention-failed',
    defaultValue: '7d',
    env: ['CELERIAC_RETENTION'],
  },
  {
    key: 'retentionFailed',
    flag: '--retention-failed',
    kind: 'string',
    valueName: 'age',
    description: 'delete stored FAILURE tasks this long after their last change (failures are what people come back for); 0 keeps them forever',
    defaultValue: '30d',
    env: ['CELERIAC_RETENTION_FAILED'],
  },
  {
    key: 'retentionAggregates',
    flag: '--retention-aggregates',
    kind: 'string',
    valueName: 'age',
    description: 'delete stored trend aggregates this long after the minute they count; 0 keeps them forever',
    defaultValue: '90d',
    env: ['CELERIAC_RETENTION_AGGREGATES'],
  },
  {
    key: 'storeMaxSize',
    flag: '--store-max-size',
    kind: 'string',
    valueName: 'size',
    description: 'cap the store (e.g. 500MB, 10GB, 2GiB): past it the least recently changed tasks are deleted until it is under',
    defaultValue: 'none',
    env: ['CELERIAC_STORE_MAX_SIZE'],
  },
  {
    key: 'storeMaxPending',
    flag: '--store-max-pending',
    kind: 'int',
    valueName: 'n',
    description: 'changed tasks kept in memory while the store is not taking writes; past it the longest-waiting are dropped and counted',
    defaultValue: 200_000,
    env: ['CELERIAC_STORE_MAX_PENDING'],
  },
  {
    key: 'storeReadTimeout',
    flag: '--store-read-timeout',
    kind: 'string',
    valueName: 'time',
    description: 'PostgreSQL: cancel on the server a history read (list, search, export page, trends) running longer than this (e.g. 500ms, 30s, 2m; 0 for no limit); the request answers from memory',
    defaultValue: '30s',
    env: ['CELERIAC_STORE_READ_TIMEOUT'],
  },
  {
    key: 'metrics',
    flag: '--metrics',
    kind: 'list',
    valueName: 'families',
    description: 'metric families on /metrics: flower, exporter (celery-exporter names), celeriac (own health); comma-separated, or none',
    defaultValue: ['flower', 'exporter', 'celeriac'],
    defaultLabel: 'flower,exporter,celeriac',
    env: ['CELERIAC_METRICS'],
  },
  {
    key: 'metricsAuth',
    flag: '--metrics-auth',
    kind: 'string',
    valueName: 'user:password|token',
    description: 'protect /metrics with basic auth (user:password) or a bearer token (anything without a colon); /metrics is open otherwise, even with --basic-auth',
    defaultLabel: 'open',
    env: ['CELERIAC_METRICS_AUTH'],
  },
  {
    key: 'metricsWorkerLabel',
    flag: '--metrics-worker-label',
    kind: 'string',
    valueName: 'full|host|generic',
    description: 'worker label values: the full node name, only the host part after @ (celery-exporter), or one "generic" value',
    defaultValue: 'full',
    env: ['CELERIAC_METRICS_WORKER_LABEL'],
  },
  {
    key: 'metricsTaskWorkerLabel',
    flag: '--metrics-task-worker-label',
    kind: 'string',
    valueName: 'full|host|generic',
    description: 'worker label values on per-task metrics (event counters, runtime and wait histograms); generic keeps them to one series per task name whatever the number of workers',
    defaultValue: 'generic',
    env: ['CELERIAC_METRICS_TASK_WORKER_LABEL'],
  },
  {
    key: 'metricsMaxSeries',
    flag: '--metrics-max-series',
    kind: 'int',
    valueName: 'n',
    description: 'label sets per metric before new ones are dropped (counted in celeriac_metrics_series_dropped_total)',
    defaultValue: 10_000,
    env: ['CELERIAC_METRICS_MAX_SERIES'],
  },
  {
    key: 'metricsWorkerExpiry',
    flag: '--metrics-worker-expiry',
    kind: 'int',
    valueName: 'seconds',
    description: "drop a silent worker's series this long after its last heartbeat (keep it longer than your worker-down alert window)",
    defaultValue: 3_600,
    env: ['CELERIAC_METRICS_WORKER_EXPIRY'],
  },
  {
    key: 'runtimeBuckets',
    flag: '--runtime-buckets',
    kind: 'list',
    valueName: 'seconds',
    description: 'task runtime histogram buckets, comma-separated',
    defaultValue: [],
    defaultLabel: '0.005,0.01,…,7.5,10',
    env: ['CELERIAC_RUNTIME_BUCKETS', 'FLOWER_TASK_RUNTIME_METRIC_BUCKETS'],
  },
  {
    key: 'queueWaitBuckets',
    flag: '--queue-wait-buckets',
    kind: 'list',
    valueName: 'seconds',
    description: 'queue wait histogram buckets, comma-separated',
    defaultValue: [],
    defaultLabel: '0.05,0.1,…,600,1800',
    env: ['CELERIAC_QUEUE_WAIT_BUCKETS'],
  },
  { key: 'ui', flag: '--ui', kind: 'bool', description: 'serve the web UI (--no-ui serves only the API, socket.io and /healthcheck)', defaultValue: true, env: ['CELERIAC_UI'] },
  { key: 'dev', flag: '--dev', kind: 'bool', description: 'run the UI in Next.js development mode', defaultValue: false, env: [], hidden: true },
];

const TRUE = new Set(['1', 'true', 'yes', 'y', 't', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'n', 'f', 'off']);

function parseBool(text: string, source: string): boolean {
  const v = text.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new ConfigError(`${source} must be a boolean (true/false/yes/no/on/off/1/0), got "${text}"`);
}

function parseIntStrict(text: string, source: string): number {
  const v = text.trim();
  if (!/^-?\d+$/.test(v)) throw new ConfigError(`${source} must be a whole number, got "${text}"`);
  return Number(v);
}

function fromText(spec: OptionSpec, text: string, source: string): unknown {
  switch (spec.kind) {
    case 'bool':
      return parseBool(text, source);
    case 'int':
      return parseIntStrict(text, source);
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${source} must be a number, got "${text}"`);
      return n;
    }
    case 'list':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'string':
      return text;
  }
}

function buildCommand(): Command {
  const program = new Command('celeriac')
    .description('Real-time monitoring and control for Celery clusters (Redis and RabbitMQ).')
    .helpOption('-h, --help', 'show this help')
    .version(process.env.npm_package_version ?? '0.1.0', '-V, --version')
    .allowExcessArguments(false)
    .showHelpAfterError(false);
  for (const spec of OPTIONS) {
    const envHelp = spec.env.length > 0 ? ` [env: ${spec.env.join(', ')}]` : '';
    const defaultHelp = spec.defaultLabel ?? (spec.defaultValue === undefined ? undefined : String(spec.defaultValue));
    const description = `${spec.description}${defaultHelp !== undefined ? ` (default: ${defaultHelp})` : ''}${envHelp}`;
    const flags = spec.kind === 'bool' || !spec.valueName ? spec.flag : `${spec.flag} <${spec.valueName}>`;
    const option = new Option(flags, description);
    if (spec.kind === 'list') option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    if (spec.hidden) option.hideHelp();
    program.addOption(option);
    if (spec.kind === 'bool' && spec.defaultValue === true) {
      program.addOption(new Option(spec.flag.replace('--', '--no-'), `turn off ${spec.flag}`));
    }
  }
  return program;
}

/** The full --help text (also used to check the README documents every option). */
export function helpText(): string {
  return buildCommand().helpInformation();
}

export type ParseResult = { kind: 'config'; config: Config } | { kind: 'exit'; code: number; output: string };

/**
 * Parse argv (without node and script) and the environment. Returns the config, or what to
 * print and the exit code for --help, --version and errors. Never throws for bad input.
 */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParseResult {
  const program = buildCommand();
  let output = '';
  program.exitOverride().configureOutput({
    writeOut: (text) => {
      output += text;
    },
    writeErr: (text) => {
      output += text;
    },
  });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      const ok = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0;
      const text = ok ? output : `celeriac: ${error.message.replace(/^error: /, '')}\nRun celeriac --help for the options.\n`;
      return { kind: 'exit', code: ok ? 0 : 2, output: text };
    }
    throw error;
  }
  try {
    return { kind: 'config', config: resolve(program, env) };
  } catch (error) {
    if (error instanceof ConfigError) return { kind: 'exit', code: 2, output: `celeriac: ${error.message}\n` };
    throw error;
  }
}

const schema = z.object({
  port: z.number().int().min(0).max(65535),
  address: z.string().min(1),
  urlPrefix: z.string(),
  maxTasks: z.number().int().min(1).max(50_000_000).nullable(),
  maxWorkers: z.number().int().min(1).max(1_000_000),
  eventBacklog: z.number().int().min(1).max(65_536),
  enableEvents: z.boolean(),
  purgeOfflineWorkers: z.number().int().min(1).nullable(),
  ui: z.boolean(),
  dev: z.boolean(),
  readOnly: z.boolean(),
  unauthenticatedApi: z.boolean(),
  inspectTimeout: z.number().int().min(10).max(600_000),
  inspectInterval: z.number().int().min(0).max(86_400),
  queuePollInterval: z.number().min(0.1).max(3_600),
  queues: z.array(z.string().min(1).max(255)),
  brokerApi: z.string().url().nullable(),
  resultBackend: z.string().nullable(),
  dataDir: z.string().min(1),
  store: z.string(),
  persistent: z.boolean(),
  db: z.string().min(1),
  stateSaveInterval: z.number().int().min(0),
  retention: z.string(),
  retentionFailed: z.string(),
  retentionAggregates: z.string(),
  storeMaxSize: z.string(),
  storeMaxPending: z.number().int().min(1).max(50_000_000),
  storeReadTimeout: z.string(),
  metrics: z.array(z.string()),
  metricsAuth: z.string().min(1).nullable(),
  metricsWorkerLabel: z.enum(['full', 'host', 'generic']),
  metricsTaskWorkerLabel: z.enum(['full', 'host', 'generic']),
  metricsMaxSeries: z.number().int().min(1).max(10_000_000),
  metricsWorkerExpiry: z.number().int().min(1),
  runtimeBuckets: z.array(z.string()),
  queueWaitBuckets: z.array(z.string()),
});

function resolve(program: Command, env: Readonly<Record<string, string | undefined>>): Config {
  const cli = program.opts<Record<string, unknown>>();
  const values: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    const cliValue = cli[spec.key];
    if (cliValue !== undefined) {
      values[spec.key] = typeof cliValue === 'string' && spec.kind !== 'string' ? fromText(spec, cliValue, spec.flag) : cliValue;
      continue;
    }
    const envName = spec.env.find((name) => env[name] !== undefined && env[name] !== '');
    if (envName !== undefined) {
      values[spec.key] = fromText(spec, env[envName] as string, envName);
      continue;
    }
    values[spec.key] = spec.defaultValue ?? null;
  }

  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? '');
    const spec = OPTIONS.find((o) => o.key === key);
    throw new ConfigError(`${spec?.flag ?? key}: ${issue?.message ?? 'invalid value'} (got ${JSON.stringify(values[key])})`);
  }

  const broker = (values.broker as string | null) ?? DEFAULT_BROKER;
  let brokerTarget: BrokerTarget;
  let transportOptions: TransportOptions;
  try {
    brokerTarget = parseBrokerUrl(broker);
    transportOptions = parseTransportOptions(values.brokerTransportOption as string[]);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (brokerTarget.kind === 'sentinel' && !transportOptions.masterName) {
    throw new ConfigError('a sentinel:// broker needs --broker-transport-option master_name=<name>');
  }

  const logLevel = normaliseLogLevel(String(values.logLevel));
  if (!logLevel) throw new ConfigError(`--log-level must be one of trace, debug, info, warn, error, fatal, silent (got "${String(values.logLevel)}")`);

  const { inspectTimeout, brokerApi, resultBackend, metrics, metricsAuth, runtimeBuckets, queueWaitBuckets, retention, retentionFailed, retentionAggregates, storeMaxSize, storeReadTimeout, ...rest } =
    parsed.data;
  const storeTarget = checkedStore(rest.store !== '' ? rest.store : rest.persistent ? `sqlite:${rest.db}.sqlite` : `sqlite:${path.join(rest.dataDir, 'celeriac.db')}`);
  if (resultBackend !== null && !/^rediss?:\/\//i.test(resultBackend)) {
    throw new ConfigError(`--result-backend: only redis:// and rediss:// result backends are supported (got ${redactBrokerUrl(resultBackend)})`);
  }
  if (resultBackend !== null) {
    try {
      parseBrokerUrl(resultBackend);
    } catch (error) {
      throw new ConfigError(`--result-backend: ${(error as Error).message}`);
    }
  }
  return {
    ...rest,
    metricFamilies: parseFamilies(metrics),
    metricsAuth: metricsAuth === null ? null : metricsAuth.includes(':') ? { kind: 'basic', ...parseBasicAuth(metricsAuth) } : { kind: 'bearer', token: metricsAuth },
    runtimeBuckets: parseBuckets(runtimeBuckets, '--runtime-buckets', DEFAULT_RUNTIME_BUCKETS),
    queueWaitBuckets: parseBuckets(queueWaitBuckets, '--queue-wait-buckets', DEFAULT_QUEUE_WAIT_BUCKETS),
    queues: [
      ...new Set(
        rest.queues
          .flatMap((q) => q.split(','))
          .map((q) => q.trim())
          .filter((q) => q !== ''),
      ),
    ],
    inspectTimeoutMs: inspectTimeout,
    brokerApi,
    brokerApiRedacted: brokerApi === null ? null : redactBrokerUrl(brokerApi),
    resultBackend,
    resultBackendRedacted: resultBackend === null ? null : redactBrokerUrl(resultBackend),
    urlPrefix: checkedUrlPrefix(rest.urlPrefix),
    broker,
    brokerRedacted: redactBrokerUrl(broker),
    brokerTarget,
    storeTarget,
    maxTasks: rest.maxTasks ?? (storeTarget.kind === 'memory' ? DEFAULT_MAX_TASKS_IN_MEMORY : DEFAULT_MAX_TASKS_WITH_STORE),
    retention: checkedRetention(retention, retentionFailed, retentionAggregates, storeMaxSize),
    storeReadTimeoutMs: checkedQuantity(() => parseTimeLimitMs(storeReadTimeout, '--store-read-timeout')),
    transportOptions,
    logLevel,
    basicAuth: (values.basicAuth as string[]).map(parseBasicAuth),
  };
}

function parseFamilies(values: string[]): MetricFamily[] {
  const names = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== '');
  if (names.length === 1 && names[0] === 'none') return [];
  const known: MetricFamily[] = ['flower', 'exporter', 'celeriac'];
  for (const name of names) if (!(known as string[]).includes(name)) throw new ConfigError(`--metrics: unknown family "${name}" (flower, exporter, celeriac or none)`);
  return [...new Set(names)] as MetricFamily[];
}

function parseBuckets(values: string[], flag: string, fallback: number[]): number[] {
  const items = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '' && v.toLowerCase() !== 'inf' && v !== '+Inf');
  if (items.length === 0) return fallback;
  const buckets = items.map(Number);
  if (buckets.some((b) => !Number.isFinite(b) || b <= 0)) throw new ConfigError(`${flag}: buckets must be positive numbers (got "${values.join(',')}")`);
  return [...new Set(buckets)].sort((a, b) => a - b);
}

function checkedStore(value: string): StoreTarget {
  try {
    return parseStoreUrl(value);
  } catch (error) {
    if (error instanceof StoreUrlError) throw new ConfigError(error.message);
    throw error;
  }
}

function checkedRetention(tasks: string, failed: string, aggregates: string, maxSize: string): StoreRetentionConfig {
  return checkedQuantity(() => ({
    tasksSeconds: parseAge(tasks, '--retention'),
    failedSeconds: parseAge(failed, '--retention-failed'),
    aggregatesSeconds: parseAge(aggregates, '--retention-aggregates'),
    maxSizeBytes: parseSize(maxSize, '--store-max-size'),
  }));
}

/** A quantity the user wrote wrong is a configuration error. */
function checkedQuantity<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof QuantityError) throw new ConfigError(error.message);
    throw error;
  }
}

function checkedUrlPrefix(value: string): string {
  const prefix = normaliseUrlPrefix(value);
  if (prefix === null) throw new ConfigError(`--url-prefix may contain ${URL_PREFIX_RULE} (got "${value}")`);
  return prefix;
}

function parseBasicAuth(pair: string): BasicAuthUser {
  const colon = pair.indexOf(':');
  if (colon <= 0 || colon === pair.length - 1) throw new ConfigError('--basic-auth expects user:password with both parts non-empty');
  return { user: pair.slice(0, colon), password: pair.slice(colon + 1) };
}
