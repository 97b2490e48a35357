/**
 * Broker URLs as kombu reads them (docs/celery-wire-protocol.md §2.6, §3), parsed
 * once at start-up into a typed target. A URL we cannot use is a clear error, never a guess.
 */

export interface HostPort {
  host: string;
  port: number;
}

export type BrokerTarget =
  | {
      kind: 'redis';
      tls: boolean;
      host: string;
      port: number;
      /** Unix socket path (redis+socket://), instead of host/port. */
      socketPath: string | null;
      db: number;
      username: string | null;
      password: string | null;
      /** TLS verification from `ssl_cert_reqs` (kombu's URL query); default verify. */
      rejectUnauthorized: boolean;
    }
  | {
      kind: 'sentinel';
      sentinels: HostPort[];
      db: number;
      username: string | null;
      password: string | null;
    }
  | {
      kind: 'amqp';
      tls: boolean;
      host: string;
      port: number;
      vhost: string;
      username: string;
      password: string;
      rejectUnauthorized: boolean;
    };

export class BrokerUrlError extends Error {}

const SUPPORTED = 'redis://, rediss://, redis+socket://, sentinel://, amqp://, amqps://, pyamqp://';

export function parseBrokerUrl(raw: string): BrokerTarget {
  const text = raw.trim();
  if (text === '') throw new BrokerUrlError('broker URL is empty');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (!scheme) throw new BrokerUrlError(`broker URL ${redactBrokerUrl(text)} has no scheme (supported: ${SUPPORTED})`);

  if (!['redis', 'rediss', 'redis+socket', 'sentinel', 'amqp', 'amqps', 'pyamqp', 'librabbitmq'].includes(scheme)) {
    throw new BrokerUrlError(`broker scheme "${scheme}://" is not supported (supported: ${SUPPORTED})`);
  }
  if (scheme === 'sentinel') return parseSentinel(text);
  // kombu's failover list "redis://h1;redis://h2": Celeriac follows the first (documented).
  const first = text.split(';')[0] as string;

  if (scheme === 'redis+socket') return parseRedisSocket(first);
  const url = parseWhatwg(first, scheme);
  const username = decode(url.username) || null;
  const password = decode(url.password) || null;
  const rejectUnauthorized = certRequired(url.searchParams.get('ssl_cert_reqs'));

  if (scheme === 'redis' || scheme === 'rediss') {
    return {
      kind: 'redis',
      tls: scheme === 'rediss',
      host: hostOf(url),
      port: portOf(url, 6379),
      socketPath: null,
      db: parseDb(url.pathname, text),
      username,
      password,
      rejectUnauthorized,
    };
  }
  if (scheme === 'amqp' || scheme === 'amqps' || scheme === 'pyamqp' || scheme === 'librabbitmq') {
    const tls = scheme === 'amqps' || url.searchParams.get('ssl') === 'true';
    return {
      kind: 'amqp',
      tls,
      host: hostOf(url),
      port: portOf(url, tls ? 5671 : 5672),
      vhost: parseVhost(url.pathname),
      username: username ?? 'guest',
      password: password ?? 'guest',
      rejectUnauthorized,
    };
  }
  throw new BrokerUrlError(`broker scheme "${scheme}://" is not supported (supported: ${SUPPORTED})`);
}

function parseSentinel(text: string): BrokerTarget {
  const parts = text
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const sentinels: HostPort[] = [];
  let db = 0;
  let username: string | null = null;
  let password: string | null = null;
  parts.forEach((part, index) => {
    if (!/^sentinel:\/\//i.test(part)) throw new BrokerUrlError(`every part of a sentinel URL must start with sentinel:// (got ${redactBrokerUrl(part)})`);
    const url = parseWhatwg(part, 'sentinel');
    sentinels.push({ host: hostOf(url), port: portOf(url, 26379) });
    if (index === 0) {
      db = parseDb(url.pathname, text);
      username = decode(url.username) || null;
      password = decode(url.password) || null;
    }
  });
  return { kind: 'sentinel', sentinels, db, username, password };
}

function parseRedisSocket(text: string): BrokerTarget {
  // redis+socket:///path/to/redis.sock?virtual_host=2 — the path is the socket, db from the query.
  // Parsed by hand: a WHATWG parser would take the first path segment for a host name.
  const rest = text.replace(/^redis\+socket:\/\//i, '');
  const at = rest.lastIndexOf('@', rest.indexOf('/') === -1 ? rest.length : rest.indexOf('/'));
  const auth = at === -1 ? '' : rest.slice(0, at);
  const afterAuth = at === -1 ? rest : rest.slice(at + 1);
  const queryAt = afterAuth.indexOf('?');
  const socketPath = decode(queryAt === -1 ? afterAuth : afterAuth.slice(0, queryAt));
  if (!socketPath.startsWith('/') || socketPath === '/') throw new BrokerUrlError('redis+socket:// URL needs an absolute socket path, e.g. redis+socket:///run/redis.sock');
  const vhost = new URLSearchParams(queryAt === -1 ? '' : afterAuth.slice(queryAt + 1)).get('virtual_host');
  const colon = auth.indexOf(':');
  return {
    kind: 'redis',
    tls: false,
    host: '',
    port: 0,
    socketPath,
    db: vhost === null ? 0 : parseDb(vhost, text),
    username: decode(colon === -1 ? auth : auth.slice(0, colon)) || null,
    password: colon === -1 ? null : decode(auth.slice(colon + 1)) || null,
    rejectUnauthorized: true,
  };
}

function parseWhatwg(text: string, scheme: string): URL {
  try {
    // WHATWG URL only parses host/port for "special" schemes; borrow http: for the authority.
    return new URL(text.replace(/^[a-z][a-z0-9+.-]*:/i, 'http:'));
  } catch {
    throw new BrokerUrlError(`cannot parse ${scheme}:// broker URL ${redactBrokerUrl(text)}`);
  }
}

function hostOf(url: URL): string {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return host === '' ? '127.0.0.1' : host;
}

function portOf(url: URL, fallback: number): number {
  if (url.port === '') return fallback;
  const port = Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new BrokerUrlError(`invalid broker port ${url.port}`);
  return port;
}

/** kombu's `_prepare_virtual_host`: empty or "/" → 0, else the integer after the leading slash. */
function parseDb(path: string, whole: string): number {
  const trimmed = path.replace(/^\//, '');
  if (trimmed === '' || trimmed === '/') return 0;
  if (!/^\d+$/.test(trimmed)) throw new BrokerUrlError(`Redis database must be a number, got "${trimmed}" in ${redactBrokerUrl(whole)}`);
  return Number(trimmed);
}

/** kombu: "amqp://host" and "amqp://host/" → vhost "/"; "amqp://host//" → "/"; "/foo" → "foo". */
function parseVhost(path: string): string {
  if (path === '' || path === '/') return '/';
  const vhost = decode(path.slice(1));
  return vhost === '' ? '/' : vhost;
}

function certRequired(value: string | null): boolean {
  if (value === null) return true;
  const v = value.toLowerCase();
  return !(v === 'none' || v === 'cert_none' || v === 'optional' || v === 'cert_optional');
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The URL with any password replaced by `***` — the only form of a broker URL that is ever logged or shown. */
export function redactBrokerUrl(raw: string): string {
  return raw
    .split(';')
    .map((part) =>
      part.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_m, scheme: string, auth: string) => {
        const colon = auth.indexOf(':');
        return colon === -1 ? `${scheme}${auth}@` : `${scheme}${auth.slice(0, colon)}:***@`;
      }),
    )
    .join(';');
}
