/**
 * Stores for tests. A PostgreSQL database of a test's own on the machine's server (127.0.0.1:5432, trust auth:
 * scripts/ensure-services.sh starts it), created empty and dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** The server tests use; CELERIAC_TEST_POSTGRES overrides it (a URL to its `postgres` database). */
export const POSTGRES_ADMIN_URL = process.env.CELERIAC_TEST_POSTGRES ?? 'postgresql://root@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${POSTGRES_ADMIN_URL} (${error instanceof Error ? error.message : String(error)}): bash scripts/ensure-services.sh starts it`);
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `celeriac_test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => admin(async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}

/** A `--store` of each backend for scenario suites: a fresh SQLite file, a fresh PostgreSQL database. */
export interface TestStore {
  name: 'SQLite' | 'PostgreSQL';
  /** A new, empty store; `resources` removes it when the test stops what it started. */
  url(resources: { defer(step: () => Promise<unknown>): void }): Promise<string>;
}

export const TEST_STORES: readonly TestStore[] = [
  {
    name: 'SQLite',
    url: async (resources) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'celeriac-store-'));
      resources.defer(async () => rmSync(dir, { recursive: true, force: true }));
      return `sqlite:${path.join(dir, 'celeriac.db')}`;
    },
  },
  {
    name: 'PostgreSQL',
    url: async (resources) => {
      const database = await createTestDatabase();
      resources.defer(() => database.drop());
      return database.url;
    },
  },
];
