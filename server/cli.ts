/**
 * `celeriac` command line: parse options, start, and stop cleanly on SIGINT/SIGTERM.
 * Bad options exit with status 2 and one line on stderr, never a stack trace.
 */
import { parseConfig } from './config/config';
import { createLogger } from './log';
import { startCeleriac, type RunningCeleriac } from './server';

async function main(): Promise<void> {
  const parsed = parseConfig(process.argv.slice(2), process.env);
  if (parsed.kind === 'exit') {
    (parsed.code === 0 ? process.stdout : process.stderr).write(parsed.output);
    process.exit(parsed.code);
  }
  const { config } = parsed;
  const logger = createLogger(config.logLevel);
  // Every input path handles its own errors; these are last fences for bugs, so they are loud.
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason instanceof Error ? reason.stack : String(reason) }, 'unhandled promise rejection (bug): continuing');
  });
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error.stack }, 'uncaught exception (bug): exiting so a supervisor restarts a clean process');
    process.exit(1);
  });
  let running: RunningCeleriac;
  try {
    running = await startCeleriac(config, logger);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'EADDRINUSE'
        ? `port ${config.port} on ${config.address} is already in use (choose another with --port)`
        : code === 'EACCES'
          ? `not allowed to listen on ${config.address}:${config.port}`
          : (error as Error).message;
    process.stderr.write(`celeriac: ${message}\n`);
    process.exit(1);
  }
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(0), 5_000);
    force.unref();
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
