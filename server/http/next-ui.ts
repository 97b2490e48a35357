/**
 * Hosts the Next.js app inside Celeriac's own HTTP server.
 *
 * Next bakes `basePath` into a build, while --url-prefix is chosen at run time. So each
 * prefix gets its own build directory (next.config.ts derives basePath and distDir from
 * CELERIAC_URL_PREFIX); the first start with a new prefix builds it once and later starts
 * reuse it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { distDirFor } from '../config/url-prefix';

export type NextHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function buildUi(prefix: string, logger: Logger): Promise<void> {
  logger.info({ prefix: prefix || '/' }, 'building the web UI for this URL prefix (first start only, about a minute)');
  const nextBin = path.join(PROJECT_ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [nextBin, 'build'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CELERIAC_URL_PREFIX: prefix, NEXT_TELEMETRY_DISABLED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`next build failed (exit ${code}):\n${output.slice(-4000)}`))));
  });
}

export async function createNextHandler(options: { prefix: string; dev: boolean; logger: Logger }): Promise<NextHandler> {
  const { prefix, dev, logger } = options;
  process.env.CELERIAC_URL_PREFIX = prefix;
  process.env.NEXT_TELEMETRY_DISABLED = '1';
  if (!dev && !existsSync(path.join(PROJECT_ROOT, distDirFor(prefix), 'BUILD_ID'))) await buildUi(prefix, logger);
  const { default: next } = await import('next');
  const app = next({ dev, dir: PROJECT_ROOT, quiet: !dev });
  await app.prepare();
  const handle = app.getRequestHandler();
  return (req, res) => handle(req, res);
}
