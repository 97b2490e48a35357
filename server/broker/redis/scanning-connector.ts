/**
 * ioredis connectors for the event subscriber whose socket feeds ioredis through RespScanner
 * (resp-scanner.ts): oversized pub/sub payloads are discarded while they are read, never buffered.
 *
 * They are ioredis's own connectors (standalone: TCP, Unix socket, TLS; Sentinel: master lookup,
 * failover) with one addition: once the socket exists, what it delivers to its 'data' listeners —
 * ioredis's protocol decoder — goes through the scanner first. The socket itself stays the real
 * one: ioredis sets timeouts, keep-alive and no-delay on it, waits for its connect/secureConnect
 * events, writes commands to it and destroys it; a proxy stream would have to imitate all of that
 * (and TLSSocket specifics), while intercepting 'data' changes nothing else.
 */
import { createRequire } from 'node:module';
import { SentinelConnector, type RedisOptions, type SentinelConnectionOptions, type StandaloneConnectionOptions } from 'ioredis';
import type StandaloneConnectorClass from 'ioredis/built/connectors/StandaloneConnector';
import type { ErrorEmitter } from 'ioredis/built/connectors/AbstractConnector';
import type { NetStream } from 'ioredis/built/types';
import { RespScanner } from './resp-scanner';

// ioredis does not re-export its StandaloneConnector from the package root (it only uses it when
// no Connector option is given); this is the same class it would use.
const require = createRequire(import.meta.url);
const { default: StandaloneConnector } = require('ioredis/built/connectors/StandaloneConnector') as { default: typeof StandaloneConnectorClass };

type ConnectorConstructor = NonNullable<RedisOptions['Connector']>;

/**
 * Route what `stream` emits as 'data' through a new RespScanner (one per connection: the scanner
 * holds the parse state of this byte stream only).
 */
export function scanSubscriberStream(stream: NetStream, maxPayloadBytes: number): RespScanner {
  // `emit` is what every path of a Readable uses to hand chunks to 'data' listeners (flowing
  // mode and read()), so overriding it on this one socket covers them all.
  // (EventEmitter's emit, whatever its overloads say for a socket.)
  const emit = stream.emit as (this: NetStream, event: string | symbol, ...args: unknown[]) => boolean;
  const scanner = new RespScanner(maxPayloadBytes, (bytes) => void emit.call(stream, 'data', bytes));
  stream.emit = function scannedEmit(this: NetStream, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'data' && Buffer.isBuffer(args[0])) {
      scanner.write(args[0]);
      return true;
    }
    return emit.call(this, event, ...args);
  } as NetStream['emit'];
  return scanner;
}

/**
 * The Connector option for the event subscriber: the connector ioredis would pick itself
 * (SentinelConnector when `sentinels` is set — a Connector option leaves that choice to us),
 * scanning.
 */
export function scanningConnector(maxPayloadBytes: number, sentinel: boolean): ConnectorConstructor {
  /** The connection ioredis opened, with the scanner watching what it reads. */
  const scanned = async (connecting: Promise<NetStream>): Promise<NetStream> => {
    const stream = await connecting;
    scanSubscriberStream(stream, maxPayloadBytes);
    return stream;
  };
  // ioredis constructs a Connector with its whole options object (`new Connector(options)`).
  if (sentinel) {
    return class ScanningSentinelConnector extends SentinelConnector {
      constructor(options: unknown) {
        super(options as SentinelConnectionOptions);
      }
      override connect(emit: ErrorEmitter): Promise<NetStream> {
        return scanned(super.connect(emit));
      }
    };
  }
  return class ScanningStandaloneConnector extends StandaloneConnector {
    constructor(options: unknown) {
      super(options as StandaloneConnectionOptions);
    }
    override connect(emit: ErrorEmitter): Promise<NetStream> {
      return scanned(super.connect(emit));
    }
  };
}
