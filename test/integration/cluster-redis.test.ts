import { after, test } from 'node:test';
import { shutdownRedis, startRedisServer } from '../helpers/brokers';
import { runClusterScenario } from './cluster-model';

test('Redis: real workers → exact model through the Flower-compatible API; SIGKILL and broker restart', { timeout: 240_000 }, async (t) => {
  const redis = await startRedisServer();
  after(() => redis.stop());
  await runClusterScenario(
    {
      url: redis.url(0),
      interrupt: () => shutdownRedis(redis),
      resume: () => redis.restart(),
    },
    'redis',
    t,
  );
});
