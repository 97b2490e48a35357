import { after, test } from 'node:test';
import { startRedisServer } from '../helpers/brokers';
import { runControlScenario } from './controls-model';

test('Redis: remote control of real workers through Celeriac (pool, limits, revoke, terminate, pauses, purge, bulk revoke, safety, audit)', { timeout: 300_000 }, async (t) => {
  const redis = await startRedisServer();
  after(() => redis.stop());
  await runControlScenario(redis.url(0), 'redis', t);
});
