import { after, test } from 'node:test';
import { startRedisServer } from '../helpers/brokers';
import { runTasksApiScenario } from './tasks-api-model';

test('Redis: send tasks, read results, retry — real workers through Celeriac’s API', { timeout: 240_000 }, async (t) => {
  const redis = await startRedisServer();
  after(() => redis.stop());
  await runTasksApiScenario(redis.url(0), redis.url(1), 'redis', t);
});
