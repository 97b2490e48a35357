import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { OPTIONS, helpText, parseConfig, type Config } from '../../server/config/config';
import { parseBrokerUrl, redactBrokerUrl } from '../../server/broker/url';
import { fanoutPrefixFor, parseTransportOptions } from '../../server/broker/transport-options';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function config(argv: string[], env: Record<string, string> = {}): Config {
  const result = parseConfig(argv, env);
  if (result.kind !== 'config') throw new Error(`expected a config, got exit ${result.code}: ${result.output}`);
  return result.config;
}

function failure(argv: string[], env: Record<string, string> = {}): string {
  const result = parseConfig(argv, env);
  assert.equal(result.kind, 'exit');
  if (result.kind !== 'exit') throw new Error('unreachable');
  assert.equal(result.code, 2);
  assert.equal(result.output.trim().split('\n')[0]?.startsWith('celeriac: '), true, result.output);
  return result.output;
}

describe('defaults', () => {
  it('needs no configuration', () => {
    const c = config([]);
    assert.equal(c.broker, 'redis://127.0.0.1:6379/0');
    assert.equal(c.port, 5555);
    assert.equal(c.address, '127.0.0.1');
    assert.equal(c.urlPrefix, '');
    // Memory is a window with the default store; Flower's 100,000 without one; --max-tasks wins.
    assert.equal(c.maxTasks, 20_000);
    assert.equal(config(['--store', 'memory']).maxTasks, 100_000);
    assert.equal(config(['--max-tasks', '5000']).maxTasks, 5_000);
    assert.equal(c.maxWorkers, 5_000);
    assert.equal(c.eventBacklog, 256);
    assert.equal(c.enableEvents, true);
    assert.equal(c.purgeOfflineWorkers, null);
    assert.equal(c.logLevel, 'info');
    assert.deepEqual(c.basicAuth, []);
    assert.deepEqual(c.transportOptions.prioritySteps, [0, 3, 6, 9]);
    assert.equal(c.transportOptions.sep, '\x06\x16');
  });
});

describe('precedence: CLI > CELERIAC_* > FLOWER_* > default', () => {
  it('reads Flower environment names for drop-in use', () => {
    const c = config([], {
      FLOWER_PORT: '6000',
      FLOWER_URL_PREFIX: 'flower',
      FLOWER_MAX_TASKS: '10',
      FLOWER_BASIC_AUTH: 'a:b,c:d',
      FLOWER_PURGE_OFFLINE_WORKERS: '60',
      FLOWER_ENABLE_EVENTS: 'false',
      FLOWER_LOGGING: 'warning',
    });
    assert.equal(c.port, 6000);
    assert.equal(c.urlPrefix, '/flower');
    assert.equal(c.maxTasks, 10);
    assert.deepEqual(c.basicAuth, [
      { user: 'a', password: 'b' },
      { user: 'c', password: 'd' },
    ]);
    assert.equal(c.purgeOfflineWorkers, 60);
    assert.equal(c.enableEvents, false);
    assert.equal(c.logLevel, 'warn');
  });

  it('CELERIAC_* beats FLOWER_*, and the command line beats both', () => {
    assert.equal(config([], { FLOWER_PORT: '6000', CELERIAC_PORT: '7000' }).port, 7000);
    assert.equal(config(['--port', '8000'], { FLOWER_PORT: '6000', CELERIAC_PORT: '7000' }).port, 8000);
    assert.equal(config(['--no-enable-events'], { CELERIAC_ENABLE_EVENTS: 'yes' }).enableEvents, false);
  });

  it('broker: --broker > CELERIAC_BROKER > CELERY_BROKER_URL > default', () => {
    assert.equal(config([], { CELERY_BROKER_URL: 'amqp://h//' }).broker, 'amqp://h//');
    assert.equal(config([], { CELERY_BROKER_URL: 'amqp://h//', CELERIAC_BROKER: 'redis://x/1' }).broker, 'redis://x/1');
    assert.equal(config(['--broker', 'redis://y/2'], { CELERIAC_BROKER: 'redis://x/1' }).broker, 'redis://y/2');
  });

  it('repeatable options collect every value', () => {
    const c = config([
      '--basic-auth',
      'u1:p1',
      '--basic-auth',
      'u2:p:with:colons',
      '--broker-transport-option',
      'global_keyprefix=pfx:',
      '--broker-transport-option',
      'priority_steps=0,5',
      '--broker-transport-option',
      'sep=\\x01',
      '--broker-transport-option',
      'visibility_timeout=3600',
    ]);
    assert.deepEqual(c.basicAuth, [
      { user: 'u1', password: 'p1' },
      { user: 'u2', password: 'p:with:colons' },
    ]);
    assert.equal(c.transportOptions.globalKeyprefix, 'pfx:');
    assert.deepEqual(c.transportOptions.prioritySteps, [0, 5]);
    assert.equal(c.transportOptions.sep, '\x01');
    assert.deepEqual(c.transportOptions.ignored, { visibility_timeout: '3600' });
  });
});

describe('bad input exits 2 with one clear line', () => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['unknown option', ['--nope'], {}, /unknown option '--nope'/],
    ['non-numeric port', ['--port', 'abc'], {}, /--port must be a whole number/],
    ['port out of range', ['--port', '70000'], {}, /--port/],
    ['zero max tasks', ['--max-tasks', '0'], {}, /--max-tasks/],
    ['zero event backlog', ['--event-backlog', '0'], {}, /--event-backlog/],
    ['bad boolean in env', [], { CELERIAC_ENABLE_EVENTS: 'maybe' }, /CELERIAC_ENABLE_EVENTS must be a boolean/],
    ['unsupported broker', ['--broker', 'sqs://'], {}, /not supported/],
    ['broker without scheme', ['--broker', 'localhost:6379'], {}, /has no scheme/],
    ['non-numeric redis db', ['--broker', 'redis://localhost/abc'], {}, /database must be a number/],
    ['sentinel without master_name', ['--broker', 'sentinel://h:26379'], {}, /master_name/],
    ['bad basic auth', ['--basic-auth', 'nopassword'], {}, /user:password/],
    ['bad transport option', ['--broker-transport-option', 'novalue'], {}, /key=value/],
    ['bad priority steps', ['--broker-transport-option', 'priority_steps=a,b'], {}, /priority_steps/],
    ['bad log level', ['--log-level', 'loud'], {}, /--log-level/],
    ['bad url prefix', ['--url-prefix', '/a b'], {}, /--url-prefix/],
  ];
  for (const [name, argv, env, pattern] of cases) {
    it(name, () => {
      assert.match(failure(argv, env), pattern);
    });
  }

  it('never echoes the broker password in errors', () => {
    const out = failure(['--broker', 'redis://user:s3cret@localhost/notanumber']);
    assert.doesNotMatch(out, /s3cret/);
    assert.match(out, /user:\*\*\*@/);
  });

  it('the real CLI prints one line and no stack trace', () => {
    const result = spawnSync(process.execPath, [path.join(ROOT, 'bin/celeriac.js'), '--port', 'x'], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.equal(result.stderr.trim().split('\n')[0], 'celeriac: --port must be a whole number, got "x"');
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });
});

describe('--help', () => {
  it('lists every option with its default and environment names', () => {
    const help = helpText();
    for (const option of OPTIONS.filter((o) => !o.hidden)) {
      assert.ok(help.includes(option.flag), `help mentions ${option.flag}`);
      for (const env of option.env) assert.ok(help.includes(env), `help mentions ${env}`);
    }
    assert.match(help, /default: 5555/);
    assert.match(help, /default: 20000 with a store, 100000 with --store memory/);
  });

  it('the README documents every option', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const option of OPTIONS.filter((o) => !o.hidden)) assert.ok(readme.includes(`\`${option.flag}`), `README documents ${option.flag}`);
  });

  it('the real CLI answers --help with exit 0', () => {
    const out = execFileSync(process.execPath, [path.join(ROOT, 'bin/celeriac.js'), '--help'], { encoding: 'utf8' });
    assert.match(out, /--broker <url>/);
  });
});

describe('broker URLs', () => {
  it('parses every supported form', () => {
    assert.deepEqual(parseBrokerUrl('redis://:pw@h:6380/3'), { kind: 'redis', tls: false, host: 'h', port: 6380, socketPath: null, db: 3, username: null, password: 'pw', rejectUnauthorized: true });
    assert.equal((parseBrokerUrl('rediss://h/0?ssl_cert_reqs=none') as { tls: boolean; rejectUnauthorized: boolean }).rejectUnauthorized, false);
    assert.equal(parseBrokerUrl('rediss://h').kind, 'redis');
    assert.deepEqual(parseBrokerUrl('redis+socket:///var/run/redis.sock?virtual_host=4'), {
      kind: 'redis',
      tls: false,
      host: '',
      port: 0,
      socketPath: '/var/run/redis.sock',
      db: 4,
      username: null,
      password: null,
      rejectUnauthorized: true,
    });
    assert.deepEqual(parseBrokerUrl('sentinel://:pw@s1:26379/2;sentinel://s2'), {
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      db: 2,
      username: null,
      password: 'pw',
    });
    assert.deepEqual(parseBrokerUrl('amqp://guest:guest@localhost:5672//'), {
      kind: 'amqp',
      tls: false,
      host: 'localhost',
      port: 5672,
      vhost: '/',
      username: 'guest',
      password: 'guest',
      rejectUnauthorized: true,
    });
    assert.equal((parseBrokerUrl('amqp://u:p@h/my%2Fvhost') as { vhost: string }).vhost, 'my/vhost');
    assert.equal((parseBrokerUrl('amqp://h') as { vhost: string }).vhost, '/');
    assert.equal((parseBrokerUrl('amqps://h') as { port: number }).port, 5671);
  });

  it('redacts passwords everywhere they can appear', () => {
    assert.equal(redactBrokerUrl('redis://:s3cret@h:6379/0'), 'redis://:***@h:6379/0');
    assert.equal(redactBrokerUrl('amqp://user:p%40ss@h//'), 'amqp://user:***@h//');
    assert.equal(redactBrokerUrl('sentinel://:a@s1;sentinel://:b@s2'), 'sentinel://:***@s1;sentinel://:***@s2');
    assert.equal(redactBrokerUrl('redis://h:6379/0'), 'redis://h:6379/0');
  });

  it('derives channel prefixes as kombu does', () => {
    assert.equal(fanoutPrefixFor(parseTransportOptions([]), 0), '/0.');
    assert.equal(fanoutPrefixFor(parseTransportOptions(['fanout_prefix=false']), 0), '');
    assert.equal(fanoutPrefixFor(parseTransportOptions(['fanout_prefix=/{db}.x.']), 5), '/5.x.');
  });
});
