/**
 * The access rule (server/http/access.ts) on its own: which addresses are loopback, which mode
 * each configuration gives, and what a request is told. The HTTP and socket.io ends are
 * covered with real clients in test/integration/access.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, type Config } from '../../server/config/config';
import { AccessPolicy, isLoopbackAddress } from '../../server/http/access';

function config(argv: string[], env: Record<string, string> = {}): Config {
  const result = parseConfig(argv, env);
  if (result.kind !== 'config') throw new Error(`expected a config, got exit ${result.code}: ${result.output}`);
  return result.config;
}

const basic = (pair: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(pair).toString('base64')}` });

describe('loopback addresses', () => {
  it('127.0.0.0/8, ::1 in any spelling and localhost are loopback', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '127.255.255.254', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST', 'app.localhost']) {
      assert.equal(isLoopbackAddress(address), true, address);
    }
  });

  it('wildcards and every other address are network-exposed', () => {
    for (const address of ['0.0.0.0', '::', '[::]', '10.0.0.5', '192.0.2.2', 'fd00::2', '::ffff:10.0.0.1', '128.0.0.1', 'celeriac.example.com', '']) {
      assert.equal(isLoopbackAddress(address), false, address);
    }
  });
});

describe('access modes', () => {
  it('loopback without authentication: everything allowed, nothing logged', () => {
    const policy = new AccessPolicy(config([]));
    assert.equal(policy.state.mode, 'local');
    assert.equal(policy.state.refusal, null);
    for (const kind of ['api', 'socket', 'page'] as const) assert.deepEqual(policy.check({}, kind), { ok: true, user: null });
  });

  it('0.0.0.0 without authentication: the API and the socket are refused with the fix, pages are served', () => {
    const policy = new AccessPolicy(config(['--address', '0.0.0.0']));
    assert.equal(policy.state.mode, 'locked');
    assert.equal(policy.locked, true);
    for (const kind of ['api', 'socket'] as const) {
      const decision = policy.check({}, kind);
      assert.equal(decision.ok, false);
      if (decision.ok) continue;
      assert.equal(decision.status, 401);
      assert.equal(decision.challenge, null, 'no Basic challenge: no credentials could help');
      assert.match(decision.error, /0\.0\.0\.0/);
      assert.match(decision.error, /--basic-auth user:password/);
      assert.match(decision.error, /--unauthenticated-api/);
      assert.match(decision.error, /FLOWER_UNAUTHENTICATED_API=true/);
    }
    // Credentials sent to an instance without authentication change nothing.
    assert.equal(policy.check(basic('ops:pw'), 'api').ok, false);
    assert.deepEqual(policy.check({}, 'page'), { ok: true, user: null });
  });

  it('any non-loopback address is exposed, not only the wildcards', () => {
    for (const address of ['::', '10.213.0.1', 'fd00::2']) assert.equal(new AccessPolicy(config(['--address', address])).state.mode, 'locked', address);
  });

  it('--unauthenticated-api, CELERIAC_UNAUTHENTICATED_API or FLOWER_UNAUTHENTICATED_API opens it on purpose', () => {
    for (const [argv, env] of [
      [['--unauthenticated-api'], {}],
      [[], { CELERIAC_UNAUTHENTICATED_API: 'yes' }],
      [[], { FLOWER_UNAUTHENTICATED_API: 'true' }],
    ] as const) {
      const policy = new AccessPolicy(config(['--address', '0.0.0.0', ...argv], env));
      assert.equal(policy.state.mode, 'open', JSON.stringify({ argv, env }));
      assert.deepEqual(policy.check({}, 'api'), { ok: true, user: null });
      assert.deepEqual(policy.check({}, 'socket'), { ok: true, user: null });
    }
    assert.equal(config([], { FLOWER_UNAUTHENTICATED_API: 'true' }).unauthenticatedApi, true);
    assert.equal(config([], { CELERIAC_UNAUTHENTICATED_API: 'false', FLOWER_UNAUTHENTICATED_API: 'true' }).unauthenticatedApi, false, 'CELERIAC_ wins over FLOWER_');
    assert.equal(config([]).unauthenticatedApi, false, 'off by default');
  });

  it('with --basic-auth the usual rules apply on any address, and --unauthenticated-api changes nothing', () => {
    for (const extra of [[], ['--unauthenticated-api']]) {
      for (const address of ['127.0.0.1', '0.0.0.0']) {
        const policy = new AccessPolicy(config(['--address', address, '--basic-auth', 'ops:s3cret', ...extra]));
        assert.equal(policy.state.mode, 'authenticated');
        for (const kind of ['api', 'socket', 'page'] as const) {
          const anonymous = policy.check({}, kind);
          assert.equal(anonymous.ok, false);
          if (!anonymous.ok) {
            assert.equal(anonymous.error, 'Authentication required');
            assert.match(anonymous.challenge ?? '', /^Basic realm="Celeriac"/);
          }
          assert.equal(policy.check(basic('ops:wrong'), kind).ok, false);
          assert.deepEqual(policy.check(basic('ops:s3cret'), kind), { ok: true, user: 'ops' });
        }
      }
    }
  });

  it('logs the opt-out once as a warning, the lock as a warning, and nothing on loopback', () => {
    const logged = (argv: string[]): { level: string; msg: string }[] => {
      const lines: { level: string; msg: string }[] = [];
      new AccessPolicy(config(argv)).logStartup({ warn: (_o, msg) => lines.push({ level: 'warn', msg }), info: (_o, msg) => lines.push({ level: 'info', msg }) }, 5555);
      return lines;
    };
    assert.deepEqual(logged([]), []);
    const open = logged(['--address', '0.0.0.0', '--unauthenticated-api']);
    assert.equal(open.length, 1);
    assert.equal(open[0]?.level, 'warn');
    assert.match(open[0]?.msg ?? '', /^SECURITY WARNING: --unauthenticated-api/);
    const locked = logged(['--address', '0.0.0.0']);
    assert.equal(locked.length, 1);
    assert.equal(locked[0]?.level, 'warn');
    assert.match(locked[0]?.msg ?? '', /refused/);
    assert.deepEqual(logged(['--address', '0.0.0.0', '--basic-auth', 'a:b']), []);
  });
});
