import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exceptionClass } from '../../server/protocol/python/exception';

describe('exceptionClass: the class of a Python exception repr', () => {
  it('reads the class name as celery-exporter labels it', () => {
    assert.equal(exceptionClass("ValueError('boom')"), 'ValueError');
    assert.equal(exceptionClass('TimeLimitExceeded(60,)'), 'TimeLimitExceeded');
    assert.equal(exceptionClass('KeyError()'), 'KeyError');
  });
  it('says UnknownException for anything else', () => {
    assert.equal(exceptionClass(null), 'UnknownException');
    assert.equal(exceptionClass(''), 'UnknownException');
    assert.equal(exceptionClass('not a repr'), 'UnknownException');
    assert.equal(exceptionClass("module.Error('x')"), 'UnknownException');
  });
});
