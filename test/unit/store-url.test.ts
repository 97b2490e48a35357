import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../server/config/config';
import { describeStore, parseStoreUrl, StoreUrlError } from '../../server/store/store-url';

describe('--store', () => {
  it('reads memory, sqlite: paths and PostgreSQL URLs', () => {
    assert.deepEqual(parseStoreUrl('memory'), { kind: 'memory' });
    assert.deepEqual(parseStoreUrl('sqlite:.celeriac/celeriac.db'), { kind: 'sqlite', file: '.celeriac/celeriac.db' });
    assert.deepEqual(parseStoreUrl('sqlite:///var/lib/celeriac.db'), { kind: 'sqlite', file: '/var/lib/celeriac.db' });
    assert.deepEqual(parseStoreUrl(' postgres://u:secret@db:5432/celeriac '), { kind: 'postgresql', url: 'postgres://u:secret@db:5432/celeriac', redacted: 'postgres://u:***@db:5432/celeriac' });
    assert.equal(describeStore(parseStoreUrl('postgresql://u:secret@db/celeriac')), 'postgresql://u:***@db/celeriac');
  });

  it('refuses what it cannot use, without echoing a password', () => {
    for (const bad of ['sqlite:', 'postgresql://db:5432', 'postgresql://db:5432/', 'mysql://u:pw@db/x', 'redis://127.0.0.1/0', '']) {
      assert.throws(
        () => parseStoreUrl(bad),
        (error: unknown) => error instanceof StoreUrlError && !error.message.includes('pw@'),
        bad,
      );
    }
  });

  it("accepts Flower's --persistent and --db: a SQLite file beside Flower's own; --store wins; the default is SQLite in the data dir", () => {
    const storeOf = (args: string[], env: Record<string, string> = {}) => {
      const parsed = parseConfig(args, env);
      if (parsed.kind !== 'config') throw new Error(parsed.output);
      return parsed.config.storeTarget;
    };
    // The default persists with no configuration: a SQLite file in the data dir.
    assert.deepEqual(storeOf([]), { kind: 'sqlite', file: '.celeriac/celeriac.db' });
    assert.deepEqual(storeOf(['--data-dir', '/var/lib/celeriac']), { kind: 'sqlite', file: '/var/lib/celeriac/celeriac.db' });
    assert.deepEqual(storeOf(['--store', 'memory']), { kind: 'memory' });
    assert.deepEqual(storeOf(['--persistent', '--store', 'memory']), { kind: 'memory' });
    assert.deepEqual(storeOf(['--persistent']), { kind: 'sqlite', file: 'flower.sqlite' });
    assert.deepEqual(storeOf(['--persistent', '--db', '/var/lib/flower/state', '--state-save-interval', '10000']), { kind: 'sqlite', file: '/var/lib/flower/state.sqlite' });
    assert.deepEqual(storeOf([], { FLOWER_PERSISTENT: 'True', FLOWER_DB: 'fl' }), { kind: 'sqlite', file: 'fl.sqlite' });
    assert.deepEqual(storeOf(['--persistent', '--store', 'sqlite:/x.db']), { kind: 'sqlite', file: '/x.db' });
    const bad = parseConfig(['--store', 'mysql://db/x'], {});
    assert.ok(bad.kind === 'exit' && bad.code !== 0 && bad.output.includes('--store must be'), JSON.stringify(bad));
  });
});
