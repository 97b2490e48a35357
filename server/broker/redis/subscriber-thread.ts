/**
 * The Redis event subscriber, on its own thread.
 *
 * Redis disconnects a pub/sub client whose output buffer grows past its limit (32 MB by
 * default) — the way Flower loses most of a fast burst. This thread does nothing but read the
 * socket and hand raw messages to the main thread in batches, so Redis's buffer is drained as
 * fast as the network delivers, whatever the main thread is busy with. A burst waits in this
 * process instead, up to `maxBacklogChars`; beyond that, messages are dropped and counted.
 *
 * A message over `maxMessageBytes` is not even read into memory: the socket reaches ioredis
 * through a RESP scanner (scanning-connector.ts) that discards such a payload as it streams in
 * and forwards a marker, so a burst of huge messages costs no more time than the network takes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { errorText } from '../../errors';
import { redisConnectionOptions } from './connection';
import { scanningConnector } from './scanning-connector';
import type { FromSubscriber, SubscriberInit, ToSubscriber } from './subscriber-protocol';

/** Messages per hand-over: small enough that decoding one batch never blocks the main thread for long. */
const MAX_BATCH = 250;

function run(port: NonNullable<typeof parentPort>, init: SubscriberInit): void {
  const send = (message: FromSubscriber): void => port.postMessage(message);
  const subscriber = new Redis({
    ...redisConnectionOptions(init.target, init.transportOptions),
    connectionName: 'celeriac-events',
    Connector: scanningConnector(init.maxMessageBytes, init.target.kind === 'sentinel'),
  });

  let batch: string[] = [];
  let batchChars = 0;
  let batchAt = 0;
  let backlogChars = 0;
  let overflow = 0;
  const flush = (): void => {
    if (batch.length === 0) return;
    if (backlogChars + batchChars > init.maxBacklogChars) {
      overflow += batch.length;
    } else {
      backlogChars += batchChars;
      send({ kind: 'batch', receivedAt: batchAt, payloads: batch, chars: batchChars });
    }
    batch = [];
    batchChars = 0;
    if (overflow > 0 && backlogChars <= init.maxBacklogChars) {
      send({ kind: 'overflow', messages: overflow });
      overflow = 0;
    }
  };
  subscriber.on('pmessage', (_pattern: string, _channel: string, message: string) => {
    if (batch.length === 0) {
      batchAt = Date.now() / 1000;
      setImmediate(flush);
    }
    batch.push(message);
    batchChars += message.length;
    if (batch.length >= MAX_BATCH) flush();
  });

  let up = false;
  let subscribedOnce = false;
  // The 'error' event carries the useful reason (ECONNREFUSED, WRONGPASS…); later generic
  // messages ("Connection is closed.") must not hide it.
  let lastError: string | null = null;
  const markUp = (reconnected: boolean): void => {
    up = true;
    lastError = null;
    send({ kind: 'up', reconnected });
  };
  const markDown = (reason: string): void => {
    send({ kind: 'down', reason, wasUp: up });
    up = false;
  };
  const subscribe = async (): Promise<void> => {
    try {
      await subscriber.psubscribe(...init.patterns);
      subscribedOnce = true;
      markUp(false);
    } catch (error) {
      markDown(lastError ?? errorText(error));
    }
  };
  // After a reconnect ioredis re-subscribes by itself before 'ready'.
  subscriber.on('ready', () => {
    if (subscribedOnce) markUp(true);
  });
  subscriber.on('error', (error: Error) => {
    lastError = errorText(error);
    markDown(lastError);
  });
  subscriber.on('close', () => markDown(lastError ?? 'connection closed'));
  subscriber.connect().then(subscribe, () => {
    // ioredis keeps retrying (retryStrategy); subscribe once it is ready.
    subscriber.once('ready', () => void subscribe());
  });

  port.on('message', (message: ToSubscriber) => {
    if (message.kind === 'ack') {
      backlogChars -= message.chars;
      return;
    }
    subscriber.removeAllListeners('close');
    subscriber
      .quit()
      .catch(() => subscriber.disconnect())
      .finally(() => port.close());
  });
}

if (parentPort) run(parentPort, workerData as SubscriberInit);
