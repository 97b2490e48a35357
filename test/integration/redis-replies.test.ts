/**
 * The Redis transport's control reply channel (kombu's `<oid>.reply.celery.pidbox`) runs on a
 * connection of its own. A channel that fails to open must close that connection: before this
 * was fixed, a failed open left an ioredis client reconnecting for ever, printing "Unhandled
 * error event" and keeping the process alive after its work was done.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisTransport } from '../../server/broker/redis/redis-transport';
import { parseTransportOptions } from '../../server/broker/transport-options';
import { parseBrokerUrl } from '../../server/broker/url';
import { createLogger } from '../../server/log';
import { startRedisServer } from '../helpers/brokers';
import { waitFor } from '../helpers/celeriac';
import { CollectingSink } from '../helpers/collecting-sink';

type RedisTarget = Extract<ReturnType<typeof parseBrokerUrl>, { kind: 'redis' }>;

describe('Redis reply channel', { timeout: 60_000 }, () => {
  const stops: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  });

  it('opens and closes its own connection, and leaves none behind when it cannot open', async () => {
    const server = await startRedisServer();
    stops.push(() => server.stop());
    const transport = new RedisTransport({
      target: parseBrokerUrl(server.url(0)) as RedisTarget,
      transportOptions: parseTransportOptions([]),
      sink: new CollectingSink(),
      logger: createLogger('silent'),
      clock: () => 1,
    });
    stops.push(() => transport.stop());
    transport.start();
    const admin = new Redis(server.url(0));
    admin.on('error', () => undefined);
    stops.push(() => admin.quit());
    const clients = async (): Promise<string[]> =>
      String(await admin.client('LIST'))
        .trim()
        .split('\n');
    const replyClients = async (): Promise<number> => (await clients()).filter((line) => line.includes('name=celeriac-replies')).length;

    // Opening works once the command connection is up; closing drops the connection.
    await waitFor('a reply channel opens', async () => {
      try {
        await (await transport.openReplyChannel()).close();
        return true;
      } catch {
        return false;
      }
    });
    await waitFor('the reply connection closed', async () => (await replyClients()) === 0);

    // No room for another connection: the open fails...
    await admin.config('SET', 'maxclients', String((await clients()).length));
    await assert.rejects(transport.openReplyChannel());
    // ...and once there is room again, nothing reconnects in its name.
    await admin.config('SET', 'maxclients', '10000');
    await sleep(3_000); // several of ioredis's reconnect attempts (250 ms doubling)
    assert.equal(await replyClients(), 0, 'a failed reply channel must not leave its connection retrying');

    // The transport itself is unharmed: the next channel opens.
    const channel = await transport.openReplyChannel();
    assert.equal(await replyClients(), 1);
    await channel.close();
  });
});
