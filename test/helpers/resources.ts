/**
 * What a test starts — private brokers, Celeriac instances, Celery workers, anything else with a
 * stop step — and one teardown that stops it all, newest first (so a worker goes before the
 * Celeriac watching it, and both before their broker).
 *
 * Every step runs even when an earlier one fails; the failures are rethrown together once all
 * have run, so a teardown that breaks still fails the test run.
 */
import type { RunningCeleriac, StartOptions } from '../../server/server';
import { deleteRabbitVhost, ensureRabbitVhost, startRedisServer, type PrivateRedisServer, type RedisServerOptions } from './brokers';
import { startWorker, type CeleryWorker, type StartWorkerOptions } from './celery';
import { startTestCeleriac } from './celeriac';

export class TestResources {
  private readonly steps: (() => Promise<unknown>)[] = [];

  /** Run `step` at teardown (before everything registered earlier). */
  defer(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  /** A private redis-server (brokers.ts), stopped at teardown. */
  async redis(options: RedisServerOptions = {}): Promise<PrivateRedisServer> {
    const server = await startRedisServer(options);
    this.defer(() => server.stop());
    return server;
  }

  /** A RabbitMQ vhost of its own (created if missing), deleted at teardown; resolves its AMQP URL. */
  async rabbitVhost(name: string): Promise<string> {
    // Registered first: a half-made vhost is removed too.
    this.defer(() => deleteRabbitVhost(name));
    return ensureRabbitVhost(name);
  }

  /** Celeriac in this process (celeriac.ts), closed at teardown. */
  async celeriac(args: string[], options?: StartOptions): Promise<RunningCeleriac> {
    const running = await startTestCeleriac(args, options);
    this.defer(() => running.close());
    return running;
  }

  /** A real Celery worker (celery.ts), SIGKILLed at teardown (a no-op once it has stopped). */
  async worker(options: StartWorkerOptions): Promise<CeleryWorker> {
    const worker = await startWorker(options);
    this.defer(() => worker.kill());
    return worker;
  }

  /** Run every step, newest first, and forget them; throws what failed once all have run. */
  async stopAll(): Promise<void> {
    const failures: unknown[] = [];
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} teardown steps failed`);
  }
}
