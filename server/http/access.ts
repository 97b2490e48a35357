/**
 * Who may read the cluster's data and act on it: the one decision used by the HTTP routes, the
 * socket.io handshake and the server-rendered pages alike.
 *
 * Safe by default (Flower 2.1's rule after CVE-2022-30034, extended to everything that exposes
 * data): when Celeriac listens on anything but loopback and no authentication is configured,
 * every API route (read and control) and every live-update connection is refused with 401 and
 * a message naming the fix. `--unauthenticated-api` (Flower's FLOWER_UNAUTHENTICATED_API) opts
 * out on purpose. On loopback nothing is refused: only local processes can connect.
 *
 * `/healthcheck` and `/metrics` are not decided here: they keep their own rules.
 */
import { BlockList, isIP } from 'node:net';
import type { Config } from '../config/config';
import { basicAuthChecker, basicAuthUser } from './auth';

/**
 * - `local`: listening on loopback without authentication; everything allowed.
 * - `authenticated`: authentication is configured; every request needs valid credentials.
 * - `open`: non-loopback, no authentication, `--unauthenticated-api`: everything allowed, loudly.
 * - `locked`: non-loopback, no authentication: the API and live updates are refused.
 */
export type AccessMode = 'local' | 'authenticated' | 'open' | 'locked';

/** What the UI needs to know to explain the access rule (no secrets). */
export interface AccessState {
  mode: AccessMode;
  /** The listen address (--address). */
  address: string;
  /** Why the API is refused (mode `locked`), naming the fix; otherwise null. */
  refusal: string | null;
}

/** What a request is for: the API (`/api/*`), a live-update connection, or a UI page/asset. */
export type AccessKind = 'api' | 'socket' | 'page';

export type AccessDecision = { ok: true; user: string | null } | { ok: false; status: 401; error: string /** WWW-Authenticate value, when credentials could help. */; challenge: string | null };

type Headers = Readonly<Record<string, string | string[] | undefined>>;

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1 (any spelling, also IPv4-mapped 127.x) and `localhost`: only this machine can connect. */
export function isLoopbackAddress(address: string): boolean {
  const host = address
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 6 ? 'ipv6' : 'ipv4');
}

/** The refusal message: what is refused, why, and the two ways out. */
export function lockedMessage(address: string): string {
  return (
    `Celeriac listens on ${address}, which is reachable from the network, and no authentication is configured, ` +
    'so the API, live updates and controls are refused. Restart it with --basic-auth user:password ' +
    '(or CELERIAC_BASIC_AUTH / FLOWER_BASIC_AUTH), or with --unauthenticated-api ' +
    '(or FLOWER_UNAUTHENTICATED_API=true) to allow unauthenticated use on purpose.'
  );
}

export type AccessConfig = Pick<Config, 'address' | 'basicAuth' | 'unauthenticatedApi'>;

export class AccessPolicy {
  readonly state: AccessState;
  /** Listening on an address other machines can reach. */
  readonly exposed: boolean;
  /** Any authentication configured (today --basic-auth; OAuth and tokens slot in here). */
  readonly authConfigured: boolean;
  private readonly basicAuthOk: (authorization: string | undefined) => boolean;

  constructor(private readonly config: AccessConfig) {
    this.exposed = !isLoopbackAddress(config.address);
    this.authConfigured = config.basicAuth.length > 0;
    this.basicAuthOk = basicAuthChecker(config.basicAuth);
    const mode: AccessMode = this.authConfigured ? 'authenticated' : !this.exposed ? 'local' : config.unauthenticatedApi ? 'open' : 'locked';
    this.state = { mode, address: config.address, refusal: mode === 'locked' ? lockedMessage(config.address) : null };
  }

  get locked(): boolean {
    return this.state.mode === 'locked';
  }

  /** May this request (its headers) go ahead? The same answer for HTTP and socket.io. */
  check(headers: Headers, kind: AccessKind): AccessDecision {
    if (this.authConfigured) {
      const authorization = typeof headers.authorization === 'string' ? headers.authorization : undefined;
      if (this.basicAuthOk(authorization)) return { ok: true, user: basicAuthUser(authorization) };
      return { ok: false, status: 401, error: 'Authentication required', challenge: 'Basic realm="Celeriac", charset="UTF-8"' };
    }
    // Locked: pages are still served, but render the explanation instead of cluster data (the
    // runtime refuses data too, see server.ts); assets are harmless.
    if (this.state.mode === 'locked' && kind !== 'page') {
      return { ok: false, status: 401, error: this.state.refusal ?? lockedMessage(this.config.address), challenge: null };
    }
    return { ok: true, user: null };
  }

  /** The start-up log lines for this mode: the opt-out warns once, prominently. */
  logStartup(logger: { warn: (obj: object, msg: string) => void; info: (obj: object, msg: string) => void }, port: number): void {
    if (this.state.mode === 'open') {
      logger.warn(
        { security: 'unauthenticated-api', address: this.config.address, port },
        `SECURITY WARNING: --unauthenticated-api is set and Celeriac listens on ${this.config.address} without authentication: ` +
          `anyone who can reach port ${port} of this host can read every task and revoke tasks, shut workers down, purge queues and send tasks. ` +
          'Configure --basic-auth user:password, or listen on 127.0.0.1 behind an authenticating proxy.',
      );
    } else if (this.state.mode === 'locked') {
      logger.warn({ security: 'api-locked', address: this.config.address }, this.state.refusal ?? lockedMessage(this.config.address));
    } else if (this.authConfigured && this.config.unauthenticatedApi) {
      logger.info({ security: 'unauthenticated-api-ignored' }, '--unauthenticated-api has no effect: authentication is configured, so every request needs credentials');
    }
  }
}

/** Thrown by the page runtime's data functions while the API is locked (fail closed). */
export class AccessRefusedError extends Error {}
