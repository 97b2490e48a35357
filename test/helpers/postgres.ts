/**
 * Stores for tests. A PostgreSQL database of a test's own on the machine's server (127.0.0.1:5432, trust auth:
 * scripts/ensure-services.sh starts it), created empty and dropped afterwards; or a whole private
 * PostgreSQL server, for tests that stop it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './brokers';

/** The server tests use; CELERIAC_TEST_POSTGRES overrides it (a URL to its `postgres` database). */
export const POSTGRES_ADMIN_URL = process.env.CELERIAC_TEST_POSTGRES ?? 'postgresql://root@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** The URL of database `name` on the tests' server. */
export function databaseUrl(name: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
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

/** A new, empty database; `name` (letters, digits, `_`) replaces one that exists by that name. */
export async function createTestDatabase(name = `celeriac_test_${randomBytes(6).toString('hex')}`): Promise<TestDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a database name: ${name}`);
  await admin(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  });
  return {
    url: databaseUrl(name),
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

/**
 * A PostgreSQL server of a test's own (never the machine's shared one), for tests that stop the
 * server under Celeriac and start it again: initdb in a fresh directory as user postgres, a free
 * port on 127.0.0.1, its socket in its own directory, trust auth (initdb's default). `remove()`
 * stops it and deletes its files.
 */
export interface PrivatePostgresServer {
  readonly port: number;
  /** A URL to `database` on this server, as user postgres. */
  url(database?: string): string;
  createDatabase(name: string): Promise<void>;
  start(): Promise<void>;
  /** `pg_ctl stop -m fast`: connections are cut, as when a server restarts. */
  stop(): Promise<void>;
  remove(): Promise<void>;
}

const POSTGRES_BIN = process.env.CELERIAC_TEST_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

function asPostgres(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('runuser', ['-u', 'postgres', '--', path.join(POSTGRES_BIN, command), ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${command} ${args.join(' ')}: ${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
    );
  });
}

export async function startPrivatePostgres(): Promise<PrivatePostgresServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'celeriac-pg-'));
  const data = path.join(dir, 'data');
  const { uid, gid } = postgresUser();
  chownSync(dir, uid, gid);
  const port = await freePort();
  await asPostgres('initdb', ['-D', data, '--auth', 'trust', '--username', 'postgres', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const server: PrivatePostgresServer = {
    port,
    url: (database = 'postgres') => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    createDatabase: async (name) => {
      const client = new pg.Client({ connectionString: server.url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
    },
    start: async () => {
      await asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'server.log'), '-w', 'start']);
    },
    stop: async () => {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
    remove: async () => {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await server.start();
  } catch (error) {
    await server.remove();
    throw error;
  }
  return server;
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('no postgres user on this machine: a private PostgreSQL server runs as postgres');
  return { uid: Number(uid), gid: Number(gid) };
}
