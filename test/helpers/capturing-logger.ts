import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A pino logger at `warn` whose lines are kept, parsed, for assertions. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger: Logger = pino({ level: 'warn' }, stream);
  return { logger, lines };
}
