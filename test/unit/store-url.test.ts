import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
});
