import { execFileSync } from 'node:child_process';
import { after, test } from 'node:test';
import { deleteRabbitVhost, ensureRabbitVhost, waitForRabbit } from '../helpers/brokers';
import { runClusterScenario } from './cluster-model';

test('RabbitMQ: real workers → exact model through the Flower-compatible API; SIGKILL and broker restart', { timeout: 300_000 }, async (t) => {
  const vhost = 'celeriac-test-cluster';
  const url = await ensureRabbitVhost(vhost);
  after(() => deleteRabbitVhost(vhost));
  await runClusterScenario(
    {
      url,
      interrupt: async () => {
        execFileSync('rabbitmqctl', ['stop_app'], { stdio: 'ignore', timeout: 120_000 });
      },
      resume: async () => {
        execFileSync('rabbitmqctl', ['start_app'], { stdio: 'ignore', timeout: 120_000 });
        await waitForRabbit(60_000);
      },
    },
    'amqp',
    t,
  );
});
