/** ioredis connection options for a broker target, shared by every Redis connection Celeriac opens. */
import { isIP } from 'node:net';
import type { RedisOptions } from 'ioredis';
import { reconnectDelayMs } from '../transport';
import type { TransportOptions } from '../transport-options';
import type { RedisTarget } from './subscriber-protocol';

export function redisConnectionOptions(target: RedisTarget, transportOptions: TransportOptions): RedisOptions {
  const common: RedisOptions = {
    db: target.db,
    username: target.username ?? undefined,
    password: target.password ?? undefined,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    retryStrategy: (times: number) => reconnectDelayMs(times - 1),
  };
  if (target.kind === 'sentinel') {
    if (!transportOptions.masterName) throw new Error('sentinel:// needs --broker-transport-option master_name=<name>');
    return {
      ...common,
      sentinels: target.sentinels,
      name: transportOptions.masterName,
      sentinelPassword: transportOptions.sentinelPassword ?? undefined,
      sentinelRetryStrategy: (times: number) => reconnectDelayMs(times - 1),
    };
  }
  if (target.socketPath) return { ...common, path: target.socketPath };
  return {
    ...common,
    host: target.host,
    port: target.port,
    // SNI takes a host name only (RFC 6066), never an IP address.
    tls: target.tls ? { rejectUnauthorized: target.rejectUnauthorized, servername: isIP(target.host) ? undefined : target.host } : undefined,
  };
}
