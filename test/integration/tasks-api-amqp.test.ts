import { after, test } from 'node:test';
import { deleteRabbitVhost, ensureRabbitVhost, startRedisServer } from '../helpers/brokers';
import { runTasksApiScenario } from './tasks-api-model';

test('RabbitMQ: send tasks, read results, retry — real workers through Celeriac’s API', { timeout: 240_000 }, async (t) => {
  const vhost = 'celeriac-test-tasks-api';
  const url = await ensureRabbitVhost(vhost);
  const results = await startRedisServer();
  after(async () => {
    await deleteRabbitVhost(vhost);
    await results.stop();
  });
  await runTasksApiScenario(url, results.url(0), 'amqp', t);
});
