import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { startRedisServer } from '../helpers/brokers';
import { runClusterScenario } from './cluster-model';

test('Redis: real workers → exact model through the Flower-compatible API; SIGKILL and broker restart', { timeout: 240_000 }, async (t) => {
  const redis = await startRedisServer();
  after(() => redis.stop());
  await runClusterScenario(
    {
      url: redis.url(0),
      interrupt: async () => {
        const client = new Redis({ port: redis.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        await client.connect();
        await client.call('SHUTDOWN', 'NOSAVE').catch(() => undefined); // the connection drops as the server exits
        client.disconnect();
      },
      resume: () => redis.restart(),
    },
    'redis',
    t,
  );
});
