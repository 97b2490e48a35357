/**
 * The process logger (pino): JSON lines on stdout, one place to set the level.
 * Broker URLs are only ever logged through redactBrokerUrl; `redact` below is a second fence
 * for any object that carries a password field.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `destination` defaults to stdout (tests pass a stream to read what was logged). */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    name: 'celeriac',
    level,
    redact: { paths: ['password', '*.password', 'broker.password', 'basicAuth', '*.basicAuth'], censor: '***' },
    base: undefined,
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Flower's --logging names → pino levels. */
export function normaliseLogLevel(value: string): LogLevel | null {
  const v = value.trim().toLowerCase();
  if (v === 'warning') return 'warn';
  if (v === 'critical') return 'fatal';
  if (v === 'none') return 'silent';
  return (LOG_LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : null;
}
