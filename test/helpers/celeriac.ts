/**
 * Start a real Celeriac (in this process, on a free port) for integration tests, and small
 * helpers to poll its HTTP API.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../server/config/config';
import { createLogger } from '../../server/log';
import { startCeleriac, type RunningCeleriac, type StartOptions } from '../../server/server';

export async function startTestCeleriac(args: string[], options: StartOptions = { ui: false }): Promise<RunningCeleriac> {
  // Each instance keeps its audit log and pauses in a fresh directory unless a test names one.
  const dataDir = args.includes('--data-dir') ? [] : ['--data-dir', mkdtempSync(path.join(os.tmpdir(), 'celeriac-data-'))];
  const parsed = parseConfig(['--port', '0', '--log-level', process.env.CELERIAC_TEST_LOG_LEVEL ?? 'warn', ...dataDir, ...args], {});
  if (parsed.kind !== 'config') throw new Error(`bad test config: ${parsed.output}`);
  return startCeleriac(parsed.config, createLogger(parsed.config.logLevel), options);
}

export async function getJson<T = unknown>(base: string, path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* plain text (healthcheck) */
  }
  return { status: res.status, body: body as T };
}

/** GET a JSON body; null unless the answer is 200 (e.g. a task Celeriac has not seen: 404). */
export async function getJsonIfOk<T>(base: string, path: string): Promise<T | null> {
  const res = await getJson<T>(base, path);
  return res.status === 200 ? res.body : null;
}

/** Poll `check` until it returns a truthy value; fail with the last seen value after `timeoutMs`. */
export async function waitFor<T>(what: string | (() => string), check: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
