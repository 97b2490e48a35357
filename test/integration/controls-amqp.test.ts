import { after, test } from 'node:test';
import { deleteRabbitVhost, ensureRabbitVhost } from '../helpers/brokers';
import { runControlScenario } from './controls-model';

test('RabbitMQ: remote control of real workers through Celeriac (pool, limits, revoke, terminate, pauses, purge, bulk revoke, safety, audit)', { timeout: 300_000 }, async (t) => {
  const vhost = 'celeriac-test-controls';
  const url = await ensureRabbitVhost(vhost);
  after(() => deleteRabbitVhost(vhost));
  await runControlScenario(url, 'amqp', t);
});
