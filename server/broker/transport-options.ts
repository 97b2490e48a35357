/**
 * kombu `broker_transport_options` that change names on the wire, parsed from
 * `--broker-transport-option key=value` (docs/celery-wire-protocol.md §2.2, §2.5, §6.1).
 */

export interface TransportOptions {
  /** Prepended to every Redis key and pub/sub channel (kombu ≥ 5.2). */
  globalKeyprefix: string;
  /** Redis priority sub-queues, kombu default [0, 3, 6, 9]. */
  prioritySteps: number[];
  /** Separator between a Redis queue name and its priority, kombu default "\x06\x16". */
  sep: string;
  /** Sentinel master name (required with sentinel://). */
  masterName: string | null;
  /** Password for the sentinels themselves (kombu `sentinel_kwargs.password`). */
  sentinelPassword: string | null;
  /** kombu `fanout_prefix`: true → "/{db}.", false → "", string → that prefix. */
  fanoutPrefix: boolean | string;
  /** kombu `fanout_patterns`: append "/<routing key>" to fanout channels. */
  fanoutPatterns: boolean;
  /** Options Celeriac does not use (visibility_timeout, …), kept so they can be reported. */
  ignored: Record<string, string>;
}

export const DEFAULT_TRANSPORT_OPTIONS: TransportOptions = {
  globalKeyprefix: '',
  prioritySteps: [0, 3, 6, 9],
  sep: '\x06\x16',
  masterName: null,
  sentinelPassword: null,
  fanoutPrefix: true,
  fanoutPatterns: true,
  ignored: {},
};

export class TransportOptionError extends Error {}

/** Parse `key=value` strings. Values may use `\xNN` escapes (for `sep`). */
export function parseTransportOptions(pairs: readonly string[]): TransportOptions {
  const options: TransportOptions = { ...DEFAULT_TRANSPORT_OPTIONS, ignored: {} };
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new TransportOptionError(`--broker-transport-option expects key=value, got "${pair}"`);
    const key = pair.slice(0, eq).trim();
    const value = decodeHexEscapes(pair.slice(eq + 1));
    switch (key) {
      case 'global_keyprefix':
        options.globalKeyprefix = value;
        break;
      case 'priority_steps':
        options.prioritySteps = parseSteps(value);
        break;
      case 'sep':
        if (value === '') throw new TransportOptionError('transport option sep must not be empty');
        options.sep = value;
        break;
      case 'master_name':
        options.masterName = value;
        break;
      case 'sentinel_password':
        options.sentinelPassword = value;
        break;
      case 'fanout_prefix':
        options.fanoutPrefix = parseBoolOr(value) ?? value;
        break;
      case 'fanout_patterns': {
        const flag = parseBoolOr(value);
        if (flag === null) throw new TransportOptionError(`transport option fanout_patterns must be true or false, got "${value}"`);
        options.fanoutPatterns = flag;
        break;
      }
      default:
        options.ignored[key] = value;
    }
  }
  return options;
}

function parseSteps(value: string): number[] {
  const text = value.trim().replace(/^\[|\]$/g, '');
  const steps = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (steps.length === 0 || steps.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) {
    throw new TransportOptionError(`transport option priority_steps must be a list of integers 0-255, got "${value}"`);
  }
  return [...new Set(steps)].sort((a, b) => a - b);
}

function parseBoolOr(value: string): boolean | null {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on', 'y', 't'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', 'n', 'f'].includes(v)) return false;
  return null;
}

function decodeHexEscapes(value: string): string {
  return value.replace(/\\x([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** kombu's fanout channel prefix for a database ("/0." by default). */
export function fanoutPrefixFor(options: TransportOptions, db: number | string): string {
  if (options.fanoutPrefix === false) return '';
  if (options.fanoutPrefix === true) return `/${db}.`;
  return options.fanoutPrefix.replace('{db}', String(db));
}
